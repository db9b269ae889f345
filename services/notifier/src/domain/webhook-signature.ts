import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the receiver recomputes
 * HMAC-SHA256(key, `${id}.${timestamp}.${body}`) with the key it shares with us and compares.
 */

export const SECRET_PREFIX = 'whsec_';

export class InvalidWebhookSecretError extends Error {
  constructor(reason: string) {
    super(`invalid webhook secret: ${reason}`);
    this.name = 'InvalidWebhookSecretError';
  }
}

/** The HMAC key of a `whsec_<base64>` secret. */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new InvalidWebhookSecretError(`missing ${SECRET_PREFIX} prefix`);
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new InvalidWebhookSecretError('not base64');
  const key = Buffer.from(encoded, 'base64');
  if (key.length < 12) throw new InvalidWebhookSecretError('key shorter than 12 bytes');
  return key;
}

/** A fresh secret: 32 random bytes, inside the 24..64 byte range the spec recommends. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/**
 * Decoded keys by secret: decoding and checking the secret on every signature was a measurable part of a
 * webhook's cost. Secrets are few (one or two per tenant); the cap only bounds a pathological number.
 */
const keys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 10_000;

function hmacKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(secretKey(secret));
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/** One `v1,<base64>` signature. */
export function signOnce(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', hmacKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * The `webhook-signature` header: one signature per active secret, space-separated, so a receiver that
 * still holds the old secret during a rotation verifies as well as one that already has the new one.
 */
export function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  if (secrets.length === 0) throw new InvalidWebhookSecretError('no active secret to sign with');
  return secrets.map((secret) => signOnce(secret, id, timestampSeconds, body)).join(' ');
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function signedHeaders(secrets: readonly string[], id: string, at: Date, body: string): SignedHeaders {
  const timestamp = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(secrets, id, timestamp, body),
  };
}
