import type { EventEnvelope, MessageStatus, StatusChangedPayload } from '@sms/contracts';

export const WEBHOOK_EVENT_TYPE = 'message.status_changed';

/**
 * What the sender receives. Deliberately without the message body and the phone numbers: the receiver
 * correlates by messageId (and its own reference), and a webhook endpoint is a place data leaks from.
 * Absent fields are null rather than missing so every webhook has the same shape.
 */
export interface WebhookPayload {
  type: typeof WEBHOOK_EVENT_TYPE;
  timestamp: string;
  data: {
    messageId: string;
    status: MessageStatus;
    reason: { code: string; message: string | null; carrierCode: string | null } | null;
    sequence: number;
    parts: { total: number; delivered: number; failed: number } | null;
    carrierId: string | null;
    reference: string | null;
    changedAt: string;
  };
}

export function buildWebhookPayload(envelope: EventEnvelope<StatusChangedPayload>): WebhookPayload {
  const p = envelope.payload;
  return {
    type: WEBHOOK_EVENT_TYPE,
    timestamp: envelope.occurredAt,
    data: {
      messageId: envelope.messageId!,
      status: p.status,
      reason: p.reason ? { code: p.reason.code, message: p.reason.message ?? null, carrierCode: p.reason.carrierCode ?? null } : null,
      sequence: p.sequence,
      parts: p.parts ? { total: p.parts.total, delivered: p.parts.delivered, failed: p.parts.failed } : null,
      carrierId: p.carrierId ?? null,
      reference: p.reference ?? null,
      changedAt: p.changedAt,
    },
  };
}

/**
 * The exact bytes that are signed and sent. The payload is stored as jsonb, which reorders keys; it is
 * re-serialised here in a fixed, readable order so every attempt of a webhook carries the same body.
 *
 * `messageBody` is given only for a tenant that opted in to bodies in webhooks: then `data.body` is the
 * message text, or null if it is not known (any more). For every other tenant there is no `body` key at all.
 */
export function serializeWebhookBody(payload: WebhookPayload, messageBody?: { text: string | null }): string {
  const d = payload.data;
  return JSON.stringify({
    type: payload.type,
    timestamp: payload.timestamp,
    data: {
      messageId: d.messageId,
      status: d.status,
      reason: d.reason ? { code: d.reason.code, message: d.reason.message, carrierCode: d.reason.carrierCode } : null,
      sequence: d.sequence,
      parts: d.parts ? { total: d.parts.total, delivered: d.parts.delivered, failed: d.parts.failed } : null,
      carrierId: d.carrierId,
      reference: d.reference,
      changedAt: d.changedAt,
      ...(messageBody ? { body: messageBody.text } : {}),
    },
  });
}

/** Receivers dedupe on webhook-id: one per status event, the same on every retry of it. */
export function webhookIdOf(eventId: string): string {
  return `msg_${eventId}`;
}
