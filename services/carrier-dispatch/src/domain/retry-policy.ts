/**
 * Retries of transient carrier errors (throttled, queue full, system error) on the same carrier, before
 * the message is handed to the router for failover. Exponential backoff with "equal jitter": at least
 * half the step, so retries spread out without collapsing to zero delay.
 */
export interface RetrySettings {
  /** Retries on the same carrier after the first attempt; 0 hands every transient error to failover at once. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export type RetryDecision = { kind: 'retry'; retry: number; dueAt: Date } | { kind: 'give_up'; why: 'attempts_exhausted' | 'validity_too_short' };

/** The delay before retry number `retry` (1-based). `random` is in [0, 1). */
export function retryDelayMs(retry: number, settings: RetrySettings, random: number): number {
  const step = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step / 2 + (step / 2) * random);
}

/**
 * Whether a message that failed transiently gets another try on the same carrier: not when it already had
 * `maxRetries`, and not when the retry would be due after the message's validity (plus a margin for the
 * submit itself), since a retry that cannot happen in time only delays the failover.
 */
export function decideRetry(input: {
  retriesSoFar: number;
  now: number;
  validUntil: number;
  settings: RetrySettings;
  random: number;
  marginMs?: number;
}): RetryDecision {
  const retry = input.retriesSoFar + 1;
  if (retry > input.settings.maxRetries) return { kind: 'give_up', why: 'attempts_exhausted' };
  const dueAt = input.now + retryDelayMs(retry, input.settings, input.random);
  if (dueAt + (input.marginMs ?? 1000) >= input.validUntil) return { kind: 'give_up', why: 'validity_too_short' };
  return { kind: 'retry', retry, dueAt: new Date(dueAt) };
}
