import type { GatewayFile } from '@sms/config';
import { CarrierHealthV1, trafficClasses, type TrafficClass } from '@sms/contracts';
import type { EventPublisher } from '@sms/kafka';
import type { Logger } from '@sms/platform';
import type { SmppDeliver } from '@sms/smpp';
import { Counter, Gauge, type Registry } from '@sms/telemetry';
import { AimdRateLimiter, shareOfMps } from '../domain/rate-limiter.js';
import { SmppCarrierRoute } from './carrier-route.js';
import { HttpCarrierRoute } from './http-carrier-route.js';
import type { BreakerSettings, CarrierRoute } from './route.js';

/** All carrier routes (carrier x lane) declared in the gateway file. */
export class CarrierRegistry {
  private readonly routes = new Map<string, CarrierRoute>();
  private readonly limiters = new Map<string, AimdRateLimiter>();
  private readonly mps = new Map<string, number>();

  constructor(
    file: GatewayFile,
    breaker: BreakerSettings,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    metrics: Registry,
    onDeliver: (carrierId: string, deliver: SmppDeliver) => void,
  ) {
    const breakerGauge = new Gauge({
      name: 'carrier_breaker_state',
      help: 'Breaker state per carrier route: 0 closed, 1 half open, 2 open',
      labelNames: ['carrier', 'lane'],
      registers: [metrics],
    });
    const bindsGauge = new Gauge({
      name: 'carrier_binds_up',
      help: 'Bound SMPP sessions per carrier route (HTTP carriers: 1 while the endpoint is usable)',
      labelNames: ['carrier', 'lane'],
      registers: [metrics],
    });
    const rateGauge = new Gauge({
      name: 'carrier_rate_limit_mps',
      help: 'Current submit rate limit per carrier on this replica (its share of the carrier mps, lowered while throttled)',
      labelNames: ['carrier'],
      registers: [metrics],
    });
    const routes = this.routes;
    new Gauge({
      name: 'carrier_bind_reconnects',
      help: 'Connection attempts re-made after a failure per carrier route (a refused bind counts each try)',
      labelNames: ['carrier', 'lane'],
      registers: [metrics],
      collect() {
        for (const route of routes.values()) this.set({ carrier: route.carrier.id, lane: route.lane }, route.reconnects);
      },
    });
    const malformedCounter = new Counter({
      name: 'carrier_malformed_pdus_total',
      help: 'PDUs from a carrier that could not be decoded, by command and what the bind did (refused, nacked, settled_pending, ignored); the bind stays up',
      labelNames: ['carrier', 'command', 'action'],
      registers: [metrics],
    });
    for (const carrier of file.carriers) {
      // Until the first assignment is known this replica assumes it owns everything (one replica).
      const limiter = new AimdRateLimiter({ ceilingMps: carrier.mps });
      limiter.onRateChange = (rate) => rateGauge.set({ carrier: carrier.id }, rate);
      rateGauge.set({ carrier: carrier.id }, carrier.mps);
      this.limiters.set(carrier.id, limiter);
      this.mps.set(carrier.id, carrier.mps);
      for (const lane of trafficClasses) {
        // SMPP: binds of the lane; HTTP: requests in flight of the lane. 0 = the carrier takes no traffic of it.
        const width = carrier.protocol === 'smpp' ? carrier.smpp.binds[lane] : carrier.http.lanes[lane];
        if (width === 0) continue;
        const route: CarrierRoute =
          carrier.protocol === 'smpp'
            ? new SmppCarrierRoute(carrier, lane, width, breaker, logger, onDeliver, limiter)
            : new HttpCarrierRoute(carrier, lane, width, breaker, logger, limiter);
        if (route instanceof SmppCarrierRoute) {
          route.onMalformedPdu = (pdu) => malformedCounter.inc({ carrier: carrier.id, command: pdu.command, action: pdu.action });
        }
        route.onStateChange = (r) => {
          breakerGauge.set({ carrier: carrier.id, lane }, r.state === 'closed' ? 0 : r.state === 'half_open' ? 1 : 2);
          bindsGauge.set({ carrier: carrier.id, lane }, r.bindsUp);
          this.publishHealth(r);
        };
        this.routes.set(`${carrier.id}/${lane}`, route);
      }
    }
  }

  get(carrierId: string, lane: TrafficClass): CarrierRoute | undefined {
    return this.routes.get(`${carrierId}/${lane}`);
  }

  limiter(carrierId: string): AimdRateLimiter | undefined {
    return this.limiters.get(carrierId);
  }

  /**
   * Sets each carrier's share of its mps on this replica from the lane partitions it owns (after a
   * rebalance), so the replicas together never exceed the carrier's limit.
   */
  applyOwnership(owned: Partial<Record<TrafficClass, { owned: number; total: number }>>): void {
    for (const [carrierId, limiter] of this.limiters) {
      const lanes = trafficClasses.filter((lane) => this.routes.has(`${carrierId}/${lane}`) && owned[lane]).map((lane) => owned[lane]!);
      const share = shareOfMps(this.mps.get(carrierId)!, lanes);
      if (share !== limiter.ceilingMps) {
        this.logger.info({ carrier: carrierId, mps: Math.round(share * 10) / 10 }, 'carrier mps share changed');
        limiter.setCeiling(share);
      }
    }
  }

  all(): CarrierRoute[] {
    return [...this.routes.values()];
  }

  start(): void {
    for (const route of this.routes.values()) route.start();
  }

  /** Waits (bounded) until every route has a bound session, so the first messages do not fail over needlessly. */
  async waitForBinds(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.all().some((r) => r.bindsUp === 0)) await new Promise((r) => setTimeout(r, 50));
    for (const route of this.all().filter((r) => r.bindsUp === 0)) {
      this.logger.warn({ carrier: route.carrier.id, lane: route.lane, route: route.name }, 'carrier route not bound yet (check host and credentials); its messages fail over until it binds');
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.routes.values()].map((r) => r.stop()));
  }

  private lastPublished = new Map<string, string>();

  /** Publishes a carrier-health event when a route's breaker or bind count changes (compacted topic). */
  private publishHealth(route: CarrierRoute): void {
    const signature = `${route.state}/${route.bindsUp}/${route.bindsTotal}`;
    if (this.lastPublished.get(route.name) === signature) return;
    this.lastPublished.set(route.name, signature);
    this.publisher
      .publish(CarrierHealthV1, [
        {
          tenantId: '_carrier',
          payload: {
            carrierId: route.carrier.id,
            lane: route.lane,
            breaker: route.state,
            bindsUp: route.bindsUp,
            bindsTotal: route.bindsTotal,
            changedAt: new Date().toISOString(),
          },
        },
      ])
      .catch((error: unknown) => this.logger.warn({ route: route.name, error: (error as Error).message }, 'carrier-health publish failed'));
  }
}
