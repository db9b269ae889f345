/**
 * Per-endpoint admission for webhook POSTs: a concurrency cap and a circuit breaker per endpoint
 * (scheme://host:port). Without it one receiver that hangs for the full timeout would hold every
 * dispatcher slot and every other tenant's webhooks would wait behind it.
 *
 * Breaker: `failureThreshold` consecutive endpoint failures open it for `cooldownMs`; then one probe is let
 * through (half-open); its success closes the breaker, its failure opens it again. Deliveries refused by an
 * open breaker are postponed without spending an attempt, so a long outage does not exhaust their retries.
 *
 * Kept in memory per replica: each replica learns an endpoint's health from its own attempts, which is
 * enough to protect that replica's slots.
 */
export interface EndpointGateOptions {
  maxInFlight: number;
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
}

export type Admission = { ok: true } | { ok: false; reason: 'busy' | 'open'; retryAt: number };

interface EndpointState {
  inFlight: number;
  consecutiveFailures: number;
  openUntil: number;
  probing: boolean;
}

/** How soon to look again at a delivery refused because its endpoint is at its cap. */
const BUSY_RETRY_MS = 1000;

export class EndpointGate {
  private readonly endpoints = new Map<string, EndpointState>();
  private readonly now: () => number;

  constructor(private readonly options: EndpointGateOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Endpoints that would refuse a delivery now: the dispatcher leaves their rows in the table. */
  unavailable(): string[] {
    const now = this.now();
    const out: string[] = [];
    for (const [endpoint, state] of this.endpoints) {
      if (this.refusal(state, now)) out.push(endpoint);
    }
    return out;
  }

  /** Endpoints with state now: POSTs in flight, and whether the breaker refuses them (open or probing). */
  states(): Map<string, { inFlight: number; blocked: boolean }> {
    const now = this.now();
    const out = new Map<string, { inFlight: number; blocked: boolean }>();
    for (const [endpoint, state] of this.endpoints) {
      const refusal = this.refusal(state, now);
      out.set(endpoint, { inFlight: state.inFlight, blocked: refusal !== undefined && !refusal.ok && refusal.reason === 'open' });
    }
    return out;
  }

  tryAcquire(endpoint: string): Admission {
    const now = this.now();
    const state = this.state(endpoint);
    const refusal = this.refusal(state, now);
    if (refusal) return refusal;
    if (state.openUntil > 0) state.probing = true; // cooldown over: this is the half-open probe
    state.inFlight++;
    return { ok: true };
  }

  /** Ends an acquired slot. `failed` = the attempt says the endpoint is unhealthy; undefined = no verdict. */
  release(endpoint: string, failed: boolean | undefined): void {
    const state = this.endpoints.get(endpoint);
    if (!state) return;
    state.inFlight = Math.max(0, state.inFlight - 1);
    if (failed === true) {
      state.consecutiveFailures++;
      if (state.probing || state.consecutiveFailures >= this.options.failureThreshold) {
        state.openUntil = this.now() + this.options.cooldownMs;
      }
      state.probing = false;
    } else if (failed === false) {
      state.consecutiveFailures = 0;
      state.openUntil = 0;
      state.probing = false;
    } else if (state.probing) {
      // The probe ended without a verdict (e.g. shutdown): let another one through.
      state.probing = false;
    }
    if (state.inFlight === 0 && state.consecutiveFailures === 0 && state.openUntil === 0) this.endpoints.delete(endpoint);
  }

  isOpen(endpoint: string): boolean {
    const state = this.endpoints.get(endpoint);
    return state !== undefined && state.openUntil > this.now();
  }

  openCount(): number {
    const now = this.now();
    let count = 0;
    for (const state of this.endpoints.values()) if (state.openUntil > now) count++;
    return count;
  }

  private refusal(state: EndpointState, now: number): Admission | undefined {
    if (state.openUntil > now) return { ok: false, reason: 'open', retryAt: state.openUntil };
    if (state.openUntil > 0 && (state.probing || state.inFlight > 0)) {
      return { ok: false, reason: 'open', retryAt: now + Math.min(BUSY_RETRY_MS, this.options.cooldownMs) };
    }
    if (state.inFlight >= this.options.maxInFlight) return { ok: false, reason: 'busy', retryAt: now + BUSY_RETRY_MS };
    return undefined;
  }

  private state(endpoint: string): EndpointState {
    let state = this.endpoints.get(endpoint);
    if (!state) {
      state = { inFlight: 0, consecutiveFailures: 0, openUntil: 0, probing: false };
      this.endpoints.set(endpoint, state);
    }
    return state;
  }
}

/** The endpoint key of a URL: scheme, host and port, lower-cased; '' for a URL that does not parse. */
export function endpointOf(raw: string): string {
  try {
    const url = new URL(raw);
    const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
    return `${url.protocol}//${url.hostname}:${port}`.toLowerCase();
  } catch {
    return '';
  }
}
