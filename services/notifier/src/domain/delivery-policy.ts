import { nextRetryDelayMs, type RetryOptions } from './retry-schedule.js';

/** What one attempt produced. */
export type AttemptResult =
  | { kind: 'response'; statusCode: number }
  | { kind: 'timeout' }
  | { kind: 'network_error'; code: string }
  | { kind: 'blocked'; reason: string };

/** Outcome label for metrics and spans. */
export type AttemptOutcome = '2xx' | '3xx' | '4xx' | '5xx' | 'gone' | 'timeout' | 'network_error' | 'blocked';

export type DeadReason = 'ssrf_blocked' | 'attempts_exhausted';

/** The delivery's next state after an attempt. */
export type DeliveryDecision =
  | { status: 'delivered' }
  | { status: 'gone' }
  | { status: 'dead'; deadReason: DeadReason }
  | { status: 'pending'; retryInMs: number };

export function outcomeOf(result: AttemptResult): AttemptOutcome {
  switch (result.kind) {
    case 'timeout':
      return 'timeout';
    case 'network_error':
      return 'network_error';
    case 'blocked':
      return 'blocked';
    case 'response': {
      const code = result.statusCode;
      if (code === 410) return 'gone';
      if (code >= 200 && code < 300) return '2xx';
      if (code >= 300 && code < 400) return '3xx';
      if (code >= 400 && code < 500) return '4xx';
      return '5xx';
    }
  }
}

/**
 * Success is a 2xx and nothing else: a redirect is not followed (it could point anywhere, including
 * past the SSRF guard) and counts as a failure. 410 Gone is the receiver saying "stop": no retries.
 */
export function decide(result: AttemptResult, attemptsMade: number, retry: RetryOptions = {}): DeliveryDecision {
  const outcome = outcomeOf(result);
  if (outcome === '2xx') return { status: 'delivered' };
  if (outcome === 'gone') return { status: 'gone' };
  if (outcome === 'blocked') return { status: 'dead', deadReason: 'ssrf_blocked' };
  const delay = nextRetryDelayMs(attemptsMade, retry);
  if (delay === undefined) return { status: 'dead', deadReason: 'attempts_exhausted' };
  return { status: 'pending', retryInMs: delay };
}

/**
 * Whether the attempt says something bad about the endpoint itself (for its circuit breaker). A 4xx or a
 * redirect is an answer from a live server about this request, not a sign the server is down.
 */
export function isEndpointFailure(result: AttemptResult): boolean {
  if (result.kind === 'timeout' || result.kind === 'network_error') return true;
  return result.kind === 'response' && (result.statusCode >= 500 || result.statusCode === 429);
}

/** Short, secret-free text for `last_error` (never the response body, which the receiver controls). */
export function describeResult(result: AttemptResult): string {
  switch (result.kind) {
    case 'response':
      return `HTTP ${result.statusCode}`;
    case 'timeout':
      return 'timeout';
    case 'network_error':
      return `network error ${result.code}`;
    case 'blocked':
      return `ssrf_blocked: ${result.reason}`;
  }
}
