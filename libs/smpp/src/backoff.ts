export interface ReconnectOptions {
  /** Delay before the first reconnect attempt after a failure. */
  initialDelayMs: number;
  /** Ceiling of the exponential growth. */
  maxDelayMs: number;
  /** 0..1: the fraction of the delay that is randomised, so a fleet of sessions does not reconnect in step. */
  jitter: number;
}

/**
 * Delay before reconnect attempt number `attempt` (0 for the first after a failure): initial * 2^attempt,
 * capped at max, then reduced by up to `jitter` of itself ("equal jitter" when jitter is 0.5).
 */
export function backoffDelay(
  attempt: number,
  options: ReconnectOptions,
  random: () => number = Math.random,
): number {
  const jitter = Math.min(1, Math.max(0, options.jitter));
  const exponential = options.initialDelayMs * 2 ** Math.min(Math.max(0, attempt), 30);
  const capped = Math.min(options.maxDelayMs, exponential);
  return Math.round(capped * (1 - jitter * random()));
}
