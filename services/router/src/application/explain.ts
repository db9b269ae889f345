import { maskPhoneNumber } from '@sms/telemetry';
import { allHealthy, type CarrierHealthView, type RouteRequest, type RouteTable } from '@sms/routing';
import { routedReason, noCarrierReason } from '../domain/reasons.js';

export interface RouteExplanation {
  request: Omit<RouteRequest, 'to'> & { to: string; country?: string };
  /** The carrier the message would be submitted to first, or null when it would fail. */
  carrier: string | null;
  routeId: string | null;
  /** The status the router would publish, with its reason. */
  outcome: { status: 'routed' | 'failed'; reason: { code: string; message?: string } };
  decision?: {
    strategy: string;
    rule: string;
    failoverOrder: string[];
    skipped: { carrierId: string; reason: string }[];
    allBreakersOpen: boolean;
  };
  rules: { routeId: string; matched: boolean; detail: string; chosen: boolean }[];
}

/** What `resolve` decides for a request, with the verdict of every rule (for the admin API and the CLI). */
export function explainRoute(table: RouteTable, request: RouteRequest, health: CarrierHealthView = allHealthy): RouteExplanation {
  const explanation = table.explain(request, health);
  const d = explanation.decision;
  const outcome: RouteExplanation['outcome'] = !d
    ? { status: 'failed', reason: { code: 'no_route', message: 'no routing rule matches' } }
    : d.carriers.length === 0
      ? { status: 'failed', reason: noCarrierReason(d) }
      : { status: 'routed', reason: routedReason(d) };
  return {
    request: { ...explanation.request, to: maskPhoneNumber(request.to) },
    carrier: d?.carriers[0] ?? null,
    routeId: d?.routeId ?? null,
    outcome,
    decision: d && {
      strategy: d.strategy,
      rule: d.conditions,
      failoverOrder: d.carriers,
      skipped: d.skipped,
      allBreakersOpen: d.allBreakersOpen,
    },
    rules: explanation.rules.map((r) => ({ ...r, chosen: r.routeId === d?.routeId })),
  };
}
