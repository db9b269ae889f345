/**
 * When a failed webhook is tried again. The Standard Webhooks / Svix schedule: the first attempt at once,
 * then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after each failure; a delivery that fails all eight
 * attempts (about 27 hours) is dead. Jitter spreads the retries of an outage over time so an endpoint
 * that comes back is not hit by every queued delivery in the same second.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Delay before attempt n+1, indexed by n-1 (n = attempts already made). */
export const retryDelaysMs: readonly number[] = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];

export const maxAttempts = retryDelaysMs.length + 1;

export interface RetryOptions {
  /** Multiplies every delay (tests shrink the schedule). */
  scale?: number;
  /** Relative jitter: 0.2 draws the delay from [0.8, 1.2] x nominal. */
  jitter?: number;
  /** Source of randomness in [0, 1), injectable for tests. */
  random?: () => number;
}

/**
 * The delay before the next attempt after `attemptsMade` failed attempts, or `undefined` when the
 * schedule is exhausted and the delivery is dead.
 */
export function nextRetryDelayMs(attemptsMade: number, options: RetryOptions = {}): number | undefined {
  if (attemptsMade < 1) return 0;
  const nominal = retryDelaysMs[attemptsMade - 1];
  if (nominal === undefined) return undefined;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const factor = 1 + jitter * (2 * random() - 1);
  return Math.max(0, Math.round(nominal * (options.scale ?? 1) * factor));
}
