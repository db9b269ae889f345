import { z } from 'zod';
import { defineEvent } from '../../contract.js';

/**
 * A raw delivery receipt as it came off a carrier bind, published before any database work. The carrier id
 * is already normalised per carrier (hex/decimal, case, leading zeros) so it matches the submit response.
 * tenantId is the carrier-dispatch tenant placeholder `_carrier`: the receipt's owner is unknown until
 * dlr-processor correlates it.
 */
export const dlrReceivedPayload = z.object({
  carrierId: z.string().min(1).max(64),
  carrierMessageId: z.string().min(1).max(128),
  messageState: z.number().int().min(0).max(255).optional(),
  networkErrorCode: z.string().max(32).optional(),
  text: z.string().max(1000),
  receivedAt: z.iso.datetime({ offset: true }),
});
export type DlrReceivedPayload = z.infer<typeof dlrReceivedPayload>;

export const DlrReceivedV1 = defineEvent({
  topic: 'sms.internal.dlr-received.v1',
  type: 'sms.dlr-received',
  version: 1,
  partitions: 6,
  keyDescription: 'carrier id + carrier message id: duplicates of one receipt share a partition',
  keyOf: (e) => `${e.payload.carrierId}:${e.payload.carrierMessageId}`,
  payload: dlrReceivedPayload,
  requiresMessageId: false,
});

/** The placeholder tenant for events whose tenant is not known yet. */
export const UNKNOWN_TENANT = '_carrier';
