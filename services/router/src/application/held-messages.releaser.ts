import { acceptedTopicByLane, type AcceptedPayload } from '@sms/contracts';
import type { ConsumedEvent } from '@sms/kafka';
import type { Logger } from '@sms/platform';
import { contextFromTraceparent, getTracer, trace } from '@sms/telemetry';
import type { HeldMessagesRepository } from '../infra/held-messages.repository.js';
import type { RoutingService } from './routing.service.js';

const tracer = getTracer('router');

/**
 * Routes held messages when their quiet hours end. Route first, delete after: a crash in between routes
 * them again, which `routed_messages` dedupes (as it does for several replicas polling at once).
 */
export class HeldMessagesReleaser {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly held: HeldMessagesRepository,
    private readonly routing: RoutingService,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.releaseDue()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error({ err: error }, 'releasing held messages failed; retrying next poll'))
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Routes every due message, 500 at a time; returns how many. */
  async releaseDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const due = await this.held.due(500);
      if (due.length === 0) return total;
      const events: ConsumedEvent<AcceptedPayload>[] = due.map((h) => {
        const parent = contextFromTraceparent(h.traceParent);
        const span = tracer.startSpan('release held message', { attributes: { 'sms.message_id': h.envelope.messageId ?? '' } }, parent);
        return { envelope: h.envelope, topic: acceptedTopicByLane[h.envelope.payload.trafficClass].topic, partition: -1, offset: '-1', context: trace.setSpan(parent, span), span };
      });
      try {
        await this.routing.routeAccepted(events, { released: true });
      } finally {
        for (const e of events) e.span.end();
      }
      await this.held.remove(due.map((h) => h.envelope.messageId!));
      total += due.length;
      this.logger.info({ count: due.length }, 'released held messages');
    }
  }
}
