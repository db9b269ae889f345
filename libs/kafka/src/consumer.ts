import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import {
  DEAD_LETTER_TOPIC,
  deadLetterHeaders,
  validateEnvelope,
  type DeadLetterReason,
  type EventContract,
  type EventEnvelope,
} from '@sms/contracts';
import { SpanKind, SpanStatusCode, extractContext, getTracer, trace, type Context, type Span } from '@sms/telemetry';
import { isInfrastructureError, PermanentEventError } from './errors.js';
import type { KafkaCoreLogger } from './logger.js';
import type { EventPublisher } from './publisher.js';

/** A consumed, validated event with where it came from and the trace context it continues. */
export interface ConsumedEvent<P> {
  envelope: EventEnvelope<P>;
  topic: string;
  partition: number;
  offset: string;
  /** Context of this event's consumer span: pass it to the publisher so the next hop joins the trace. */
  context: Context;
  span: Span;
}

export interface EventSubscription<P> {
  contract: EventContract<P>;
  handle(batch: ConsumedEvent<P>[]): Promise<void>;
}

export interface ConsumerHooks {
  onConsumed?(topic: string, count: number): void;
  onDeadLetter?(topic: string, reason: DeadLetterReason): void;
  onHandlerRetry?(topic: string): void;
  /**
   * The partitions this member holds after each rebalance (kafkajs GROUP_JOIN), by topic: lets a service
   * size per-replica work (e.g. a carrier's rate share) by what it actually owns.
   */
  onAssignment?(assignment: Readonly<Record<string, number[]>>): void;
}

/**
 * How often a member heartbeats, and so how soon a member that is consuming learns that its group is
 * rebalancing (kafkajs learns it only from a heartbeat's answer). With kafkajs's 3 s, a second replica or
 * routing thread joining a group waited up to 3 s while the first member kept every partition: the
 * router bench with two threads ran ~2.5 s on one thread and then dipped to 9-10k msg/s at the rebalance
 * (steady 22,383-22,469 msg/s); at 500 ms both threads routed within the first second (22,986-27,032).
 * Six heartbeats a second per router thread's groups cost the coordinator nothing measurable.
 */
export const CONSUMER_HEARTBEAT_INTERVAL_MS = 500;

export interface BatchConsumerOptions {
  groupId: string;
  subscriptions: EventSubscription<never>[] | EventSubscription<unknown>[];
  /** Used to write dead letters. */
  publisher: EventPublisher;
  logger: KafkaCoreLogger;
  fromBeginning?: boolean;
  /** Partitions processed in parallel (kafkajs partitionsConsumedConcurrently). */
  concurrency?: number;
  /** Largest slice of a fetched partition batch handed to a handler at once. */
  maxBatchSize?: number;
  /**
   * Fetch size limits (kafkajs maxBytesPerPartition / maxBytes; defaults 2 MiB / 10 MiB). kafkajs decodes a
   * whole fetch response in one synchronous run, so a backlog fetched in 10 MiB pieces blocks the event
   * loop for every other consumer of the process for that long; a bulk lane sharing a process with a
   * latency-sensitive one fetches in smaller pieces.
   */
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /**
   * Slices of one partition's batch handed to the handler at once (default 1). Above 1 the next slice is
   * handled while the previous one still waits (e.g. for a carrier's last answers), so a handler whose
   * slices end in a long tail keeps its downstream busy. eachBatch still returns only once all its slices
   * are settled, offsets are still resolved in offset order, and slices sharing a record key never overlap.
   */
  slicesInFlight?: number;
  /** Attempts of a whole slice before falling back to one event at a time. */
  batchAttempts?: number;
  /** Attempts of a single event before it is dead-lettered (unless the failure is infrastructure). */
  singleAttempts?: number;
  retryBaseDelayMs?: number;
  hooks?: ConsumerHooks;
}

const tracer = getTracer('@sms/kafka');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Consumes in batches (kafkajs eachBatch), validates every record against its topic contract and hands
 * handlers arrays of valid events. Offsets are resolved only after the handler succeeded (at-least-once:
 * handlers must be idempotent).
 *
 * Failure policy, chosen so that a poison message never stalls a partition and an outage never empties
 * a topic into the dead-letter topic:
 * - undecodable or contract-violating records go straight to the dead-letter topic with a reason;
 * - a handler's PermanentEventError dead-letters the events it names;
 * - any other failure retries the slice with backoff, then isolates events one by one; a single event
 *   that keeps failing is dead-lettered (`handler_failed`) unless the failure is an infrastructure error
 *   (database or broker down), which is retried until it clears.
 */
export class BatchConsumer {
  private readonly consumer: Consumer;
  private readonly byTopic = new Map<string, EventSubscription<unknown>>();
  private running = false;

  constructor(
    kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 30000,
      heartbeatInterval: CONSUMER_HEARTBEAT_INTERVAL_MS,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 2 * 1024 * 1024,
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
      allowAutoTopicCreation: false,
    });
    for (const subscription of options.subscriptions as EventSubscription<unknown>[]) {
      if (this.byTopic.has(subscription.contract.topic)) {
        throw new Error(`two handlers subscribe to ${subscription.contract.topic} in group ${options.groupId}`);
      }
      this.byTopic.set(subscription.contract.topic, subscription);
    }
  }

  get topics(): string[] {
    return [...this.byTopic.keys()];
  }

  get groupId(): string {
    return this.options.groupId;
  }

  isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: this.options.fromBeginning ?? true });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => this.options.hooks?.onAssignment?.(event.payload.memberAssignment));
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.running = false;
      this.options.logger.error({ groupId: this.options.groupId, error: String(event.payload.error) }, 'consumer crashed');
    });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitInterval: 1000,
      partitionsConsumedConcurrently: this.options.concurrency ?? 3,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const subscription = this.byTopic.get(batch.topic);
    if (!subscription) return;
    const maxBatch = this.options.maxBatchSize ?? 500;
    const inFlightLimit = Math.max(1, this.options.slicesInFlight ?? 1);
    let slice: { message: KafkaMessage; event?: ConsumedEvent<unknown> }[] = [];
    // Slices handed to the handler and not yet settled, oldest first.
    const running: { keys: Set<string>; handled: Promise<boolean>; settled: Promise<void> }[] = [];
    // Settles true once every slice started so far was handled and its offset resolved, in offset order; false
    // from the first slice that was not (rebalance): no later slice's offset may be resolved past it.
    let inOrder: Promise<boolean> = Promise.resolve(true);
    let interrupted = false;

    /** A slice that will not be handled in this batch: its offsets stay unresolved, so it is fetched again. */
    const drop = (dropped: typeof slice) => {
      for (const { event } of dropped) event?.span.end();
    };
    const settleRunning = async () => {
      await Promise.all(running.map((r) => r.settled));
    };
    const start = async () => {
      if (slice.length === 0) return;
      const current = slice;
      slice = [];
      const keys = new Set<string>();
      for (const { message } of current) if (message.key) keys.add(message.key.toString('latin1'));
      // At most inFlightLimit slices at once, and per-key order as with one slice at a time: a slice holding a
      // key that a running slice holds (a redelivery next to a retry of the same message) waits for it.
      while (running.length >= inFlightLimit || running.some((r) => [...keys].some((k) => r.keys.has(k)))) {
        await Promise.race(running.map((r) => r.settled));
      }
      if (interrupted) return drop(current);
      const lastOffset = current[current.length - 1]!.message.offset;
      const handled = this.processSlice(subscription, batch.topic, batch.partition, current, payload);
      // A rejection is observed here and still reaches eachBatch through inOrder.
      const settled = handled.then(
        () => undefined,
        () => undefined,
      );
      const entry = { keys, handled, settled: settled.then(() => void running.splice(running.indexOf(entry) >>> 0, 1)) };
      running.push(entry);
      const previous = inOrder;
      inOrder = previous.then(async (earlierHandled) => {
        const mine = await handled;
        if (!earlierHandled || !mine) return false;
        payload.resolveOffset(lastOffset);
        await payload.heartbeat();
        return true;
      });
      // Once a slice is not handled, or the heartbeat says the group is rebalancing, no further slice starts:
      // eachBatch ends as soon as the running ones settle, as it did when slices ran one at a time. The
      // handler also keeps this link from being an unhandled rejection until drain() awaits it.
      inOrder.then(
        (ok) => void (ok || (interrupted = true)),
        () => void (interrupted = true),
      );
    };
    /** Waits for every started slice; true when all were handled (offsets resolved up to the last). */
    const drain = async (): Promise<boolean> => {
      try {
        return await inOrder;
      } finally {
        // A failed slice must not leave others submitting after eachBatch returned (the partition may move).
        await settleRunning();
      }
    };

    try {
      for (const message of batch.messages) {
        if (slice.length === 0) {
          // Decode a slice only once it can start: a fresh fetch then decodes at most inFlightLimit slices a
          // partition before their first submits go out, not its whole batch.
          while (running.length >= inFlightLimit) await Promise.race(running.map((r) => r.settled));
        }
        if (interrupted || !payload.isRunning() || payload.isStale()) break;
        const decoded = this.decode(subscription.contract, batch.topic, batch.partition, message);
        if ('deadLetter' in decoded) {
          await start();
          if (!(await drain())) return;
          await this.deadLetter(batch.topic, batch.partition, message, decoded.deadLetter, decoded.detail);
          payload.resolveOffset(message.offset);
          continue;
        }
        slice.push({ message, event: decoded.event });
        if (slice.length >= maxBatch) {
          await start();
          // Decoding the next slice (JSON, schema, span) waits for the I/O the started slices are waiting on;
          // otherwise every partition of a fresh fetch decodes its slices back to back before any of their
          // database round trips is read (a trace showed the event loop's median delay at 84-88 ms then).
          if (inFlightLimit > 1) await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      if (!interrupted && payload.isRunning() && !payload.isStale()) await start();
      else drop(slice);
      if (!(await drain())) return;
    } finally {
      await settleRunning();
    }
    await payload.commitOffsetsIfNecessary();
  }

  private decode(
    contract: EventContract<unknown>,
    topic: string,
    partition: number,
    message: KafkaMessage,
  ): { event: ConsumedEvent<unknown> } | { deadLetter: DeadLetterReason; detail: string } {
    let json: unknown;
    try {
      json = JSON.parse(message.value?.toString('utf8') ?? '');
    } catch (error) {
      return { deadLetter: 'invalid_json', detail: (error as Error).message };
    }
    const validation = validateEnvelope(contract, json);
    if (!validation.ok) {
      return {
        deadLetter: validation.reason,
        detail: validation.issues.map((i) => `${i.path}: ${i.message}`).join('; ').slice(0, 1000),
      };
    }
    const envelope = validation.envelope;
    const parent = extractContext(message.headers);
    const span = tracer.startSpan(
      `process ${topic}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': topic,
          'messaging.kafka.destination.partition': partition,
          'messaging.kafka.message.offset': Number(message.offset),
          'messaging.consumer.group.name': this.options.groupId,
          'messaging.message.id': envelope.eventId,
          'sms.message_id': envelope.messageId ?? '',
          'sms.tenant_id': envelope.tenantId,
        },
      },
      parent,
    );
    return {
      event: { envelope, topic, partition, offset: message.offset, context: trace.setSpan(parent, span), span },
    };
  }

  private async processSlice(
    subscription: EventSubscription<unknown>,
    topic: string,
    partition: number,
    slice: { message: KafkaMessage; event?: ConsumedEvent<unknown> }[],
    payload: EachBatchPayload,
  ): Promise<boolean> {
    const events = slice.map((s) => s.event).filter((e): e is ConsumedEvent<unknown> => e !== undefined);
    const attempts = this.options.batchAttempts ?? 3;
    const baseDelay = this.options.retryBaseDelayMs ?? 200;
    let pending = events;

    for (let attempt = 1; pending.length > 0; attempt++) {
      try {
        await subscription.handle(pending);
        this.options.hooks?.onConsumed?.(topic, pending.length);
        pending = [];
        break;
      } catch (error) {
        if (error instanceof PermanentEventError) {
          const poisoned = new Set(error.eventIds);
          for (const event of pending.filter((e) => poisoned.has(e.envelope.eventId))) {
            const original = slice.find((s) => s.event === event)!.message;
            await this.deadLetter(topic, partition, original, 'permanent_error', error.message);
            this.endSpan(event, error);
          }
          const remaining = pending.filter((e) => !poisoned.has(e.envelope.eventId));
          if (remaining.length === pending.length) {
            // The handler named no event of this slice: treat as a failure of the whole slice.
            if (!(await this.isolate(subscription, topic, partition, slice, pending, payload))) return false;
            pending = [];
            break;
          }
          pending = remaining;
          continue;
        }
        this.options.hooks?.onHandlerRetry?.(topic);
        const infra = isInfrastructureError(error);
        this.options.logger.warn(
          { topic, partition, attempt, events: pending.length, infra, error: (error as Error).message },
          'handler failed; retrying',
        );
        if (infra || attempt < attempts) {
          await this.backoff(payload, baseDelay, attempt);
          if (!payload.isRunning() || payload.isStale()) return false;
          continue;
        }
        if (!(await this.isolate(subscription, topic, partition, slice, pending, payload))) return false;
        pending = [];
        break;
      }
    }
    for (const event of events) event.span.end();
    // The caller resolves the offset, in offset order, only when this returns true: the handler succeeded or
    // the event was dead-lettered.
    return true;
  }

  /**
   * Runs the handler one event at a time, dead-lettering an event that fails on its own. False when a
   * rebalance or stop interrupted it: some event was neither handled nor dead-lettered.
   */
  private async isolate(
    subscription: EventSubscription<unknown>,
    topic: string,
    partition: number,
    slice: { message: KafkaMessage; event?: ConsumedEvent<unknown> }[],
    events: ConsumedEvent<unknown>[],
    payload: EachBatchPayload,
  ): Promise<boolean> {
    const singleAttempts = this.options.singleAttempts ?? 3;
    const baseDelay = this.options.retryBaseDelayMs ?? 200;
    for (const event of events) {
      for (let attempt = 1; ; attempt++) {
        try {
          await subscription.handle([event]);
          this.options.hooks?.onConsumed?.(topic, 1);
          break;
        } catch (error) {
          const infra = isInfrastructureError(error);
          if (!(error instanceof PermanentEventError) && (infra || attempt < singleAttempts)) {
            await this.backoff(payload, baseDelay, attempt);
            if (!payload.isRunning() || payload.isStale()) return false;
            continue;
          }
          const original = slice.find((s) => s.event === event)!.message;
          const reason: DeadLetterReason = error instanceof PermanentEventError ? 'permanent_error' : 'handler_failed';
          await this.deadLetter(topic, partition, original, reason, (error as Error).message);
          this.endSpan(event, error);
          break;
        }
      }
    }
    return true;
  }

  private endSpan(event: ConsumedEvent<unknown>, error: unknown): void {
    event.span.recordException(error as Error);
    event.span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
  }

  private async backoff(payload: EachBatchPayload, baseDelay: number, attempt: number): Promise<void> {
    const delay = Math.min(30000, baseDelay * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    const until = Date.now() + delay;
    while (Date.now() < until && payload.isRunning() && !payload.isStale()) {
      await sleep(Math.min(1000, until - Date.now()));
      await payload.heartbeat().catch(() => undefined);
    }
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    reason: DeadLetterReason,
    detail: string,
  ): Promise<void> {
    this.options.logger.warn(
      { topic, partition, offset: message.offset, reason, detail: detail.slice(0, 300), groupId: this.options.groupId },
      'event dead-lettered',
    );
    this.options.hooks?.onDeadLetter?.(topic, reason);
    const headers: Record<string, string | Buffer> = {};
    for (const [k, v] of Object.entries(message.headers ?? {})) {
      if (typeof v === 'string' || Buffer.isBuffer(v)) headers[k] = v;
    }
    headers[deadLetterHeaders.reason] = reason;
    headers[deadLetterHeaders.detail] = detail.slice(0, 1000);
    headers[deadLetterHeaders.originTopic] = topic;
    headers[deadLetterHeaders.originPartition] = String(partition);
    headers[deadLetterHeaders.originOffset] = message.offset;
    headers[deadLetterHeaders.consumerGroup] = this.options.groupId;
    headers[deadLetterHeaders.failedAt] = new Date().toISOString();
    await this.options.publisher.sendRaw(DEAD_LETTER_TOPIC, [{ key: message.key, value: message.value, headers }]);
  }
}
