import type { Reason } from '@sms/contracts';
import type { RouteDecision } from '@sms/routing';

export interface AttemptFailure {
  attempt: number;
  carrierId: string;
  code: string;
  carrierCode?: string;
}

const MAX_MESSAGE = 500;
const clip = (text: string) => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text);

const skipText: Record<RouteDecision['skipped'][number]['reason'], string> = {
  breaker_open: 'breaker open',
  not_simulator: 'not a simulator (sandbox message)',
};

/** `rule uk-otp (prefix +447, class otp) -> a [ordered]; skipped b: breaker open` */
export function routedReason(decision: RouteDecision): Reason {
  const skipped = decision.skipped.map((s) => `${s.carrierId}: ${skipText[s.reason]}`);
  let message = `rule ${decision.routeId} (${decision.conditions}) -> ${decision.carriers[0]} [${decision.strategy}]`;
  if (skipped.length > 0) message += `; skipped ${skipped.join(', ')}`;
  if (decision.allBreakersOpen) message += '; every breaker open, trying in order';
  return { code: 'routed', message: clip(message) };
}

/** No carrier left after the sandbox filter. */
export function noCarrierReason(decision: RouteDecision): Reason {
  return {
    code: 'no_route',
    message: clip(`rule ${decision.routeId} (${decision.conditions}) has no usable carrier: ${decision.skipped.map((s) => `${s.carrierId}: ${skipText[s.reason]}`).join(', ')}`),
  };
}

/** Every carrier of the route failed: the reason of each attempt, in order. */
export function exhaustedReason(failures: AttemptFailure[]): Reason {
  const attempts = failures.map((f) => `${f.attempt} ${f.carrierId}: ${f.code}${f.carrierCode ? ` (${f.carrierCode})` : ''}`);
  const last = failures.at(-1);
  return {
    code: 'all_carriers_failed',
    message: clip(`${failures.length} attempt(s): ${attempts.join('; ')}`),
    carrierCode: last?.carrierCode,
  };
}
