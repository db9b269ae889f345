import { z } from 'zod';
import { defineEvent } from '../../contract.js';

/**
 * ingest owns tenants and API keys. Services that serve their own slice of the public API (e.g. notifier's
 * webhook endpoints) authenticate the same keys from this compacted topic: the latest state per key hash,
 * never the key itself. A revoked key is published with `revokedAt`.
 */
export const apiKeyChangedPayload = z.object({
  keyHash: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 hex of the key'),
  keyPrefix: z.string().max(32),
  scopes: z.array(z.string().min(1).max(32)),
  sandbox: z.boolean(),
  revokedAt: z.iso.datetime({ offset: true }).optional(),
  changedAt: z.iso.datetime({ offset: true }),
});
export type ApiKeyChangedPayload = z.infer<typeof apiKeyChangedPayload>;

export const ApiKeyChangedV1 = defineEvent({
  topic: 'sms.internal.api-key-changed.v1',
  type: 'sms.api-key-changed',
  version: 1,
  partitions: 1,
  topicConfig: { 'cleanup.policy': 'compact' },
  keyDescription: 'key hash (compaction keeps the latest state of each key)',
  keyOf: (e) => e.payload.keyHash,
  payload: apiKeyChangedPayload,
  requiresMessageId: false,
});
