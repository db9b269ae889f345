import { createHash } from 'node:crypto';

/**
 * The concatenation reference of a message, the same on every attempt: a retry that resends only the parts
 * that failed must carry the reference of the parts the handset already has.
 */
export function concatReference(messageId: string, concat: 'udh8' | 'udh16' | 'sar' | 'payload'): number {
  const n = createHash('sha256').update(messageId).digest().readUInt16BE(0);
  return concat === 'udh8' ? n & 0xff : n;
}
