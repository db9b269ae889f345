import { randomBytes } from 'node:crypto';
import { CarrierHealthV1, trafficClasses, validateEnvelope, type CarrierHealthPayload, type TrafficClass } from '@sms/contracts';
import type { Kafka } from '@sms/kafka';
import type { Logger } from '@sms/platform';
import { Gauge, type Registry } from '@sms/telemetry';
import type { BreakerState, CarrierHealthView } from '@sms/routing';

/** Latest breaker state per carrier and lane, as carrier-dispatch last published it. */
export class CarrierHealthStore implements CarrierHealthView {
  private readonly states = new Map<string, CarrierHealthPayload>();
  private readonly listeners: ((state: CarrierHealthPayload) => void)[] = [];

  constructor(initial: readonly CarrierHealthPayload[] = []) {
    for (const state of initial) this.apply(state);
  }

  /** Applies a state unless an newer one for the same carrier route is already known. */
  apply(state: CarrierHealthPayload): boolean {
    const key = `${state.carrierId}:${state.lane}`;
    const known = this.states.get(key);
    if (known && Date.parse(known.changedAt) > Date.parse(state.changedAt)) return false;
    this.states.set(key, state);
    for (const listener of this.listeners) listener(state);
    return true;
  }

  /** Called with each state that was applied (routing threads keep copies of this store). */
  onChange(listener: (state: CarrierHealthPayload) => void): void {
    this.listeners.push(listener);
  }

  breaker(carrierId: string, lane: TrafficClass): BreakerState | undefined {
    return this.states.get(`${carrierId}:${lane}`)?.breaker;
  }

  snapshot(): CarrierHealthPayload[] {
    return [...this.states.values()];
  }
}

/**
 * Reads the compacted carrier-health topic from the beginning on every start, with a consumer group of
 * its own that never commits: each router replica needs the whole current state, not a share of it, and a
 * group without offsets is removed by the broker once the replica leaves.
 */
export class CarrierHealthListener {
  private readonly consumer;
  private readonly gauge: Gauge<'carrier' | 'lane'>;
  private running = false;

  constructor(
    kafka: Kafka,
    groupPrefix: string,
    private readonly store: CarrierHealthStore,
    private readonly logger: Logger,
    metrics: Registry,
  ) {
    this.consumer = kafka.consumer({ groupId: `${groupPrefix}.router-health.${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 200 });
    this.gauge = new Gauge({
      name: 'router_carrier_breaker_state',
      help: 'Breaker state the router routes by, per carrier and lane (0 closed, 1 half-open, 2 open)',
      labelNames: ['carrier', 'lane'],
      registers: [metrics],
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: CarrierHealthV1.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (!message.value) return; // a tombstone: nothing to apply
        let parsed: unknown;
        try {
          parsed = JSON.parse(message.value.toString('utf8'));
        } catch {
          this.logger.warn({ topic: CarrierHealthV1.topic }, 'carrier-health record is not JSON, ignored');
          return;
        }
        const result = validateEnvelope(CarrierHealthV1, parsed);
        if (!result.ok) {
          this.logger.warn({ topic: CarrierHealthV1.topic }, 'carrier-health record violates its contract, ignored');
          return;
        }
        const state = result.envelope.payload;
        if (!(trafficClasses as readonly string[]).includes(state.lane)) return;
        if (this.store.apply(state)) {
          this.gauge.set({ carrier: state.carrierId, lane: state.lane }, state.breaker === 'open' ? 2 : state.breaker === 'half_open' ? 1 : 0);
          this.logger.info({ carrier: state.carrierId, lane: state.lane, breaker: state.breaker }, 'carrier health changed');
        }
      },
    });
    this.running = true;
  }

  isRunning(): boolean {
    return this.running;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
  }
}
