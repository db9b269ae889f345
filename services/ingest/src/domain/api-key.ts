import { createHash, randomBytes } from 'node:crypto';

export const apiKeyScopes = ['send', 'read'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/**
 * API keys are 32 random bytes (base64url) behind a readable prefix. They are high-entropy, so a single
 * SHA-256 is enough to store them safely (no password-style stretching needed); only the hash is kept.
 */
export function generateApiKey(sandbox: boolean): string {
  return `sk_${sandbox ? 'test' : 'live'}_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** First characters of a key (48 random bits after `sk_live_`), stored so an operator can tell keys apart without the secret. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 16);
}
