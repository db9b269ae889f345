import { StatusChangedV1, type StatusChangedPayload, type TrafficClass } from '@sms/contracts';
import type { EventDraft } from '@sms/kafka';
import {
  SpanKind,
  contextFromTraceparent,
  getTracer,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@sms/telemetry';

/** Sequence numbers of the status events this service emits (router: 1 routed, 2 its own final). */
export const SEQ_SUBMITTED = 2;
export const SEQ_FINAL = 3;

export const statusContract = StatusChangedV1;

const tracer = getTracer('@sms/dlr-processor');

export interface MessageFacts {
  messageId: string;
  tenantId: string;
  carrierId: string;
  trafficClass: TrafficClass;
  callbackUrl?: string;
  reference?: string;
  traceParent?: string;
}

/**
 * A span in the message's own trace (parent: the context stored when the message was submitted), linked to
 * the span of whatever triggered it (a receipt consumed hours later, the sweeper). Receipts travel on their
 * own trace, so without this the delivery outcome would not appear in the message's trace at all.
 */
export function startMessageSpan(
  name: string,
  message: MessageFacts,
  attributes: Attributes,
  linkedContext?: Context,
): { span: Span; context: Context } {
  const parent = contextFromTraceparent(message.traceParent);
  const linked = linkedContext ? trace.getSpanContext(linkedContext) : undefined;
  const span = tracer.startSpan(
    name,
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        'sms.message_id': message.messageId,
        'sms.tenant_id': message.tenantId,
        'sms.carrier': message.carrierId,
        'sms.lane': message.trafficClass,
        ...attributes,
      },
      links: linked ? [{ context: linked }] : [],
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

export function statusDraft(
  message: MessageFacts,
  context: Context,
  payload: Omit<StatusChangedPayload, 'carrierId' | 'trafficClass' | 'reference' | 'callbackUrl'>,
): EventDraft<StatusChangedPayload> {
  return {
    tenantId: message.tenantId,
    messageId: message.messageId,
    context,
    payload: {
      ...payload,
      carrierId: message.carrierId,
      trafficClass: message.trafficClass,
      reference: message.reference,
      callbackUrl: message.callbackUrl,
    },
  };
}
