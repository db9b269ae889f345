import { setMaxListeners } from 'node:events';
import {
  Counter,
  Gauge,
  Histogram,
  SpanKind,
  SpanStatusCode,
  contextFromTraceparent,
  injectContext,
  latencyBuckets,
  withSpan,
  type Registry,
} from '@sms/telemetry';
import type { KafkaCoreLogger } from '@sms/kafka';
import {
  decide,
  describeResult,
  isEndpointFailure,
  outcomeOf,
  type AttemptResult,
  type DeliveryDecision,
} from '../domain/delivery-policy.js';
import { EndpointGate } from '../domain/endpoint-gate.js';
import { nextRetryDelayMs, type RetryOptions } from '../domain/retry-schedule.js';
import { checkUrlSyntax, guardWebhookUrl, type GatewayMode, type GuardResult, type Resolver } from '../domain/ssrf-guard.js';
import { serializeWebhookBody } from '../domain/webhook-payload.js';
import { signedHeaders } from '../domain/webhook-signature.js';
import type {
  ClaimedDelivery,
  DeliveryUpdate,
  NewDelivery,
  RecordedDelivery,
  WebhookDeliveriesRepository,
} from '../infra/webhook-deliveries.repository.js';
import type { WebhookSecretsRepository } from '../infra/webhook-secrets.repository.js';
import { WebhookTimeoutError, type WebhookHttpClient } from '../infra/webhook-http.js';
import type { DirectSender } from './webhook-enqueue.service.js';

export interface DispatcherOptions {
  mode: GatewayMode;
  timeoutMs: number;
  concurrency: number;
  endpointConcurrency: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  claimBatch: number;
  pollIntervalMs: number;
  retryScale: number;
  /** How long a tenant's secrets are reused before reading them again (bounds how late a rotation shows). */
  secretCacheMs?: number;
  /**
   * For a tenant that opted in to bodies: how long after queueing a webhook waits for the body (read from
   * the accepted topics by another consumer group, so it may trail the status) before it goes with null.
   */
  bodyWaitMs?: number;
  /**
   * Direct path: how long the consumer waits for the POSTs of a consumed batch before it writes the
   * unfinished ones to the queue (leased) and lets the offsets go. 0 = no direct path: every webhook is
   * queued first and sent by the claim loop.
   */
  directWaitMs?: number;
  /** How long an SSRF verdict (with the checked address) is reused for the same URL; 0 = check every POST. */
  guardCacheMs?: number;
}

/** Ports the dispatcher needs (the infra classes satisfy them; specs pass fakes). */
export interface DispatcherDeps {
  deliveries: Pick<WebhookDeliveriesRepository, 'claimDue' | 'applyUpdates' | 'insertRecorded'>;
  secrets: Pick<WebhookSecretsRepository, 'activeFor' | 'ensureActive'>;
  http: Pick<WebhookHttpClient, 'post' | 'close'>;
  resolver: Resolver;
  metrics: Registry;
  logger: KafkaCoreLogger;
}

const TRACER = '@sms/notifier';
const USER_AGENT = 'sms-gateway-notifier';
const SECRET_CACHE_MS = 10_000;
const BODY_WAIT_MS = 10_000;
const BODY_RECHECK_MS = 500;
/** Results are written in batches: this long (or this many) at most. */
const RESULT_FLUSH_MS = 10;
const RESULT_FLUSH_SIZE = 200;
const DIRECT_WAIT_MS = 250;
const GUARD_CACHE_MS = 5000;
const GUARD_CACHE_MAX = 10_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One webhook of a consumed batch on the direct path. */
interface DirectItem {
  source: NewDelivery;
  row: ClaimedDelivery;
  secrets: string[];
  /** waiting = for a slot of its endpoint; flight = POST running; done = result known; handedOff/queued = written by the batch. */
  state: 'waiting' | 'flight' | 'done' | 'handedOff' | 'queued';
  update?: DeliveryUpdate;
  batch: DirectBatch;
}

/** Counts a direct batch's webhooks that have no result yet. */
class DirectBatch {
  private outstanding: number;
  private resolve!: () => void;
  readonly settled: Promise<void>;
  /** Resolves, after the batch's write, with the keys it inserted: late results only go to those rows. */
  handoff: Promise<Set<string>> | undefined;

  constructor(size: number) {
    this.outstanding = size;
    this.settled = new Promise((resolve) => (this.resolve = resolve));
    if (size === 0) this.resolve();
  }

  settle(): void {
    if (--this.outstanding === 0) this.resolve();
  }
}

const keyOf = (row: { webhookId: string; target: string }) => `${row.webhookId}\u0000${row.target}`;

interface AttemptVerdict {
  update: DeliveryUpdate;
  /** For the endpoint's breaker; undefined when no request was made. */
  endpointFailed: boolean | undefined;
}

/**
 * Sends queued webhooks. One loop claims due rows (leased, SKIP LOCKED, so replicas share the table) as
 * long as it has free slots, and starts one POST per row without waiting for it; results are written back
 * in batches. Per-endpoint caps and breakers keep a slow receiver from holding the slots of the others.
 */
export class WebhookDispatcher implements DirectSender {
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  /** POSTs in flight, both paths. */
  private inFlight = 0;
  /** Of those, the direct path's: they do not take the claim loop's slots (its backlog must not starve). */
  private directInFlight = 0;
  /** Direct POSTs still running after their batch was written (see launchDirect). */
  private handedOffInFlight = 0;
  /** Direct-path webhooks waiting for a slot of their endpoint (served after the claim path's buffer). */
  private readonly directWaiting = new Map<string, DirectItem[]>();
  /**
   * One controller for every attempt: stop() aborts them all at once anyway, and one AbortController per
   * POST was a measurable share of a webhook's cost.
   */
  private shutdown = new AbortController();
  /** Guard results by URL (see guard()). */
  private readonly guardCache = new Map<string, { verdict: Promise<GuardResult | AttemptResult>; until: number }>();
  private wakeRequested = false;
  private idleWaker: (() => void) | undefined;
  private wakeTimer: { at: number; handle: NodeJS.Timeout } | undefined;
  private readonly gate: EndpointGate;
  private readonly results: ResultWriter;
  private readonly secretCache = new Map<string, { secrets: string[]; at: number }>();
  private readonly retry: RetryOptions;
  private readonly leaseMs: number;
  /**
   * Claimed rows whose endpoint is at its cap, per endpoint, started as its POSTs end. Without this buffer
   * a busy endpoint's rows went back to the table (postponed 1 s) and came back in the next claim: with one
   * big receiver that was a claim and a write-back per webhook and seconds of added latency.
   */
  private readonly waiting = new Map<string, { row: ClaimedDelivery; secrets: string[] }[]>();
  private waitingTotal = 0;
  /** Rows one endpoint may have claimed beyond its in-flight cap. */
  private readonly bufferPerEndpoint: number;
  /** POSTs ended since the last claim: a claim per ended POST would be one query per webhook. */
  private endedSinceClaim = 0;
  private readonly claimAfterEnded: number;

  private readonly attemptsTotal: Counter;
  private readonly attemptSeconds: Histogram;
  private readonly byOutcome = new Map<string, { attempts: { inc(): void }; seconds: { observe(value: number): void } }>();
  private readonly deliverySeconds: Histogram;
  private readonly deadTotal: Counter;
  private readonly postponedTotal: Counter;

  constructor(
    private readonly options: DispatcherOptions,
    private readonly deps: DispatcherDeps,
  ) {
    this.gate = new EndpointGate({
      maxInFlight: options.endpointConcurrency,
      failureThreshold: options.breakerThreshold,
      cooldownMs: options.breakerCooldownMs,
    });
    this.retry = { scale: options.retryScale };
    // Longer than any attempt can take, so a live attempt's row is never handed out twice.
    this.leaseMs = options.timeoutMs * 2 + 60_000;
    // Two rounds of the cap: a buffered row waits at most two attempts (2 x timeout) before its own starts,
    // which stays inside the lease.
    this.bufferPerEndpoint = options.endpointConcurrency * 2;
    this.claimAfterEnded = Math.max(1, Math.floor(Math.min(options.endpointConcurrency, options.concurrency / 8)));
    this.results = new ResultWriter(deps.deliveries, deps.logger, (updates) => this.afterWrite(updates));
    const registers = [deps.metrics];
    this.attemptsTotal = new Counter({
      name: 'webhook_attempts_total',
      help: 'Webhook POST attempts by outcome (2xx, 3xx, 4xx, 5xx, gone, timeout, network_error, blocked)',
      labelNames: ['outcome'],
      registers,
    });
    this.attemptSeconds = new Histogram({
      name: 'webhook_attempt_duration_seconds',
      help: 'Duration of one webhook attempt (SSRF check, connect, until the status line), by outcome',
      labelNames: ['outcome'],
      buckets: latencyBuckets,
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: 'webhook_delivery_latency_seconds',
      help: 'From queueing to a 2xx: what retries cost the receiver',
      buckets: [...latencyBuckets, 1800, 7200, 36000, 100000],
      registers,
    });
    this.deadTotal = new Counter({
      name: 'webhook_deliveries_dead_total',
      help: 'Deliveries given up, by reason (ssrf_blocked, attempts_exhausted)',
      labelNames: ['reason'],
      registers,
    });
    this.postponedTotal = new Counter({
      name: 'webhook_deliveries_postponed_total',
      help: 'Deliveries put back without an attempt, by reason (busy endpoint, open breaker, shutdown, body pending, direct_endpoint_busy, concurrency_full)',
      labelNames: ['reason'],
      registers,
    });
    // Gauges read live state at scrape time; `self` because prom-client binds `this` to the gauge.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    new Gauge({
      name: 'webhook_in_flight',
      help: 'Webhook POSTs in flight',
      registers,
      collect() {
        this.set(self.inFlight);
      },
    });
    new Gauge({
      name: 'webhook_endpoints_breaker_open',
      help: 'Endpoints whose circuit breaker is open',
      registers,
      collect() {
        this.set(self.gate.openCount());
      },
    });
  }

  isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.shutdown = new AbortController();
    // Every attempt in flight listens on it: hundreds, by design.
    setMaxListeners(0, this.shutdown.signal);
    this.loopDone = this.loop();
  }

  /**
   * Stops claiming, lets attempts in flight finish for up to `graceMs`, then aborts the rest and gives
   * their rows back (they were possibly sent: receivers dedupe on webhook-id).
   */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loopDone;
    for (const endpoint of [...this.waiting.keys()]) this.drainWaiting(endpoint);
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(20);
    this.shutdown.abort();
    while (this.inFlight > 0) await sleep(10);
    if (this.wakeTimer) clearTimeout(this.wakeTimer.handle);
    await this.results.close();
    this.deps.http.close();
  }

  wake(): void {
    this.wakeRequested = true;
    const waker = this.idleWaker;
    this.idleWaker = undefined;
    waker?.();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.wakeRequested = false;
      const capacity = this.options.concurrency - this.claimedInFlight() - this.waitingTotal;
      let maybeMore = false;
      if (capacity > 0) {
        const limit = Math.min(this.options.claimBatch, capacity);
        this.endedSinceClaim = 0;
        try {
          const rows = await this.deps.deliveries.claimDue(limit, this.room(), this.leaseMs);
          failures = 0;
          if (rows.length > 0) await this.launchAll(rows);
          maybeMore = rows.length === limit;
        } catch (error) {
          failures++;
          this.deps.logger.warn({ error: (error as Error).message, failures }, 'webhook claim failed');
          await this.idle(Math.min(30_000, 200 * 2 ** failures));
          continue;
        }
      }
      if (maybeMore && this.claimedInFlight() + this.waitingTotal < this.options.concurrency) continue;
      await this.idle(this.options.pollIntervalMs);
    }
  }

  private claimedInFlight(): number {
    return this.inFlight - this.directInFlight;
  }

  /** How many more rows each endpoint can take now: its cap plus its buffer, minus what it holds. */
  private room(): { default: number; byEndpoint: Map<string, number> } {
    const perEndpoint = this.options.endpointConcurrency + this.bufferPerEndpoint;
    const byEndpoint = new Map<string, number>();
    for (const [endpoint, state] of this.gate.states()) {
      const held = state.inFlight + (this.waiting.get(endpoint)?.length ?? 0);
      byEndpoint.set(endpoint, state.blocked ? 0 : Math.max(0, perEndpoint - held));
    }
    return { default: perEndpoint, byEndpoint };
  }

  private idle(ms: number): Promise<void> {
    if (this.wakeRequested || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idleWaker = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.idleWaker = done;
    });
  }

  /** Wakes the loop at `at` (ms since epoch), e.g. when a short retry is due, instead of the next poll. */
  private wakeAt(at: number): void {
    if (!this.running) return;
    if (this.wakeTimer && this.wakeTimer.at <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer.handle);
    const handle = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wake();
      },
      Math.max(0, at - Date.now()),
    );
    handle.unref();
    this.wakeTimer = { at, handle };
  }

  private afterWrite(updates: DeliveryUpdate[]): void {
    const now = Date.now();
    for (const u of updates) {
      if (u.kind === 'retry' || u.kind === 'postpone') this.wakeAt(now + u.retryInMs);
    }
  }

  private async launchAll(rows: ClaimedDelivery[]): Promise<void> {
    let secrets: Map<string, string[]>;
    try {
      secrets = await this.secretsFor([...new Set(rows.map((r) => r.tenantId))]);
    } catch (error) {
      this.deps.logger.warn({ error: (error as Error).message }, 'webhook secrets unavailable; postponing');
      for (const row of rows) this.postpone(row, 2000, 'secrets_unavailable');
      return;
    }
    const now = Date.now();
    for (const row of rows) {
      if (row.includeBody && row.body === null && now - row.createdAt.getTime() < (this.options.bodyWaitMs ?? BODY_WAIT_MS)) {
        this.postpone(row, BODY_RECHECK_MS, 'body_pending');
        continue;
      }
      this.launch(row, secrets.get(row.tenantId) ?? []);
    }
  }

  private launch(row: ClaimedDelivery, secrets: string[]): void {
    // A URL refused on its face needs no slot: it is marked dead at once, without touching the network.
    const gated = checkUrlSyntax(row.url, this.options.mode).ok;
    if (gated) {
      const queue = this.waiting.get(row.endpoint);
      // Behind rows already waiting for this endpoint, so its rows keep their order.
      const admission = queue && queue.length > 0 ? ({ ok: false, reason: 'busy', retryAt: 0 } as const) : this.gate.tryAcquire(row.endpoint);
      if (!admission.ok) {
        if (admission.reason === 'busy' && (queue?.length ?? 0) < this.bufferPerEndpoint) {
          if (queue) queue.push({ row, secrets });
          else this.waiting.set(row.endpoint, [{ row, secrets }]);
          this.waitingTotal++;
          return;
        }
        this.postpone(row, admission.retryAt - Date.now(), admission.reason === 'open' ? 'breaker_open' : 'endpoint_busy');
        return;
      }
    }
    this.startAttempt(row, secrets, gated);
  }

  /** Starts buffered rows of an endpoint while it has free slots; gives them back if it cannot take them. */
  private drainWaiting(endpoint: string): void {
    const queue = this.waiting.get(endpoint);
    while (queue && queue.length > 0) {
      if (!this.running) {
        for (const { row } of queue) this.postpone(row, 0, 'shutdown');
        this.waitingTotal -= queue.length;
        queue.length = 0;
        break;
      }
      const admission = this.gate.tryAcquire(endpoint);
      if (!admission.ok && admission.reason === 'busy') break;
      if (!admission.ok) {
        for (const { row } of queue) this.postpone(row, admission.retryAt - Date.now(), 'breaker_open');
        this.waitingTotal -= queue.length;
        queue.length = 0;
        break;
      }
      const next = queue.shift()!;
      this.waitingTotal--;
      this.startAttempt(next.row, next.secrets, true);
    }
    if (queue && queue.length === 0) this.waiting.delete(endpoint);
    if (!queue || queue.length === 0) this.drainDirect(endpoint);
  }

  /** Starts direct-path webhooks waiting for this endpoint while it has free slots. */
  private drainDirect(endpoint: string): void {
    const queue = this.directWaiting.get(endpoint);
    if (!queue) return;
    while (queue.length > 0) {
      const item = queue[0]!;
      if (item.state !== 'waiting') {
        queue.shift(); // already written to the queue by its batch
        continue;
      }
      const admission = this.gate.tryAcquire(endpoint);
      if (!admission.ok && admission.reason === 'busy') break;
      queue.shift();
      if (!admission.ok) this.refuseDirect(item, admission.retryAt);
      else this.startDirect(item, true);
    }
    if (queue.length === 0) this.directWaiting.delete(endpoint);
  }

  private startAttempt(row: ClaimedDelivery, secrets: string[], gated: boolean): void {
    this.inFlight++;
    void this.attempt(row, secrets, this.shutdown.signal)
      .then((verdict) => {
        if (gated) this.gate.release(row.endpoint, verdict.endpointFailed);
        this.results.push(verdict.update);
      })
      .catch((error: unknown) => {
        if (gated) this.gate.release(row.endpoint, undefined);
        this.results.push(this.internalFailure(row, error));
      })
      .finally(() => {
        this.inFlight--;
        if (gated) this.drainWaiting(row.endpoint);
        // Claim again once a useful number of POSTs ended, not after every single one: under load that
        // would be one claim query per webhook. Buffered rows bridge the gap until that claim.
        this.endedSinceClaim++;
        const free = this.options.concurrency - this.claimedInFlight() - this.waitingTotal;
        if ((free > 0 && this.endedSinceClaim >= this.claimAfterEnded) || this.claimedInFlight() === 0) this.wake();
      });
  }

  /** An internal failure (e.g. an unusable secret): spend the attempt so it cannot loop forever. */
  private internalFailure(row: ClaimedDelivery, error: unknown): DeliveryUpdate {
    this.deps.logger.error({ webhookId: row.webhookId, error: (error as Error).message }, 'webhook attempt failed internally');
    const delay = nextRetryDelayMs(row.attempts, this.retry);
    const detail = `internal: ${(error as Error).message}`;
    return delay === undefined
      ? { ...this.key(row), kind: 'dead', deadReason: 'attempts_exhausted', statusCode: null, error: detail }
      : { ...this.key(row), kind: 'retry', retryInMs: delay, statusCode: null, error: detail };
  }

  // --- direct path ----------------------------------------------------------------------------------

  /** Whether the consumer should hand fresh webhooks to deliverNow (else it queues them). */
  acceptsDirect(): boolean {
    return this.running && (this.options.directWaitMs ?? DIRECT_WAIT_MS) > 0;
  }

  /**
   * Sends the fresh webhooks of a consumed batch at once, through the same SSRF guard, signing, endpoint
   * caps and breakers as the claim loop, and writes them to the table in one statement in their state
   * after the attempt: delivered, gone, dead, or pending with the retry's due time. This saves the queue's
   * insert-claim-update cycle (three writes of the row) for the common case of a receiver that answers.
   *
   * Resolves only once every webhook of the batch is written, so the consumer commits its offsets only
   * then (at-least-once): a crash before that redelivers the events, and they are sent again with the same
   * webhook-id (a duplicate the receiver can drop, never a loss). The wait is bounded by `directWaitMs`: a
   * webhook still running then is written as a leased attempt (its late result goes through the result
   * writer, fenced like a claimed row's), one still waiting for a slot of its endpoint as due now (the
   * claim loop takes it), so a slow endpoint never holds the other webhooks' offsets for long.
   */
  async deliverNow(rows: NewDelivery[]): Promise<void> {
    if (rows.length === 0) return;
    const now = new Date();
    let secrets: Map<string, string[]>;
    try {
      secrets = await this.secretsFor([...new Set(rows.map((r) => r.tenantId))]);
    } catch (error) {
      this.deps.logger.warn({ error: (error as Error).message }, 'webhook secrets unavailable; queueing the batch');
      await this.writeDirect(rows.map((source) => this.record(source, 'pending', 0, 0)));
      return;
    }
    const batch = new DirectBatch(rows.length);
    const items: DirectItem[] = rows.map((source) => ({
      source,
      row: {
        webhookId: source.webhookId,
        target: source.target,
        tenantId: source.tenantId,
        messageId: source.messageId,
        url: source.url,
        endpoint: source.endpoint,
        payload: source.payload,
        traceParent: source.traceParent,
        attempts: 1,
        createdAt: now,
        includeBody: false,
        body: null,
      },
      secrets: secrets.get(source.tenantId) ?? [],
      state: 'waiting',
      batch,
    }));
    for (const item of items) this.launchDirect(item);

    let timer: NodeJS.Timeout | undefined;
    await Promise.race([batch.settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.directWaitMs ?? DIRECT_WAIT_MS)))]);
    clearTimeout(timer);

    const records: RecordedDelivery[] = [];
    let queued = 0;
    for (const item of items) {
      if (item.state === 'waiting') {
        item.state = 'queued';
        queued++;
        records.push(this.record(item.source, 'pending', 0, 0));
      } else if (item.state === 'flight') {
        item.state = 'handedOff';
        this.handedOffInFlight++;
        records.push(this.record(item.source, 'pending', 1, this.leaseMs));
      } else {
        records.push(this.recordOf(item.source, item.update!));
      }
    }
    if (queued > 0) this.postponedTotal.inc({ reason: 'direct_endpoint_busy' }, queued);
    for (const [endpoint, queue] of this.directWaiting) {
      const left = queue.filter((i) => i.state === 'waiting');
      if (left.length === 0) this.directWaiting.delete(endpoint);
      else this.directWaiting.set(endpoint, left);
    }
    const write = this.writeDirect(records);
    // A result that arrives after the write goes to the row only if this batch inserted it.
    batch.handoff = write.then(
      (inserted) => inserted,
      () => new Set<string>(),
    );
    await write;
  }

  private async writeDirect(records: RecordedDelivery[]): Promise<Set<string>> {
    const inserted = await this.deps.deliveries.insertRecorded(records);
    const now = Date.now();
    for (const r of records) {
      if (r.status === 'pending' && inserted.has(keyOf(r)) && (r.attempts === 0 || r.dueInMs < this.leaseMs)) this.wakeAt(now + r.dueInMs);
    }
    return inserted;
  }

  // The fields are written out here and in deliverNow on purpose: building these hot-path objects by
  // spreading a picked NewDelivery measured 20 % more notifier CPU a webhook (reverted in f5d8237).
  private record(source: NewDelivery, status: RecordedDelivery['status'], attempts: 0 | 1, dueInMs: number): RecordedDelivery {
    return {
      webhookId: source.webhookId,
      target: source.target,
      tenantId: source.tenantId,
      messageId: source.messageId,
      url: source.url,
      endpoint: source.endpoint,
      payload: source.payload,
      traceParent: source.traceParent,
      status,
      attempts,
      dueInMs: Math.max(0, dueInMs),
      statusCode: null,
      error: null,
      deadReason: null,
    };
  }

  private recordOf(source: NewDelivery, update: DeliveryUpdate): RecordedDelivery {
    switch (update.kind) {
      case 'delivered':
      case 'gone':
        return { ...this.record(source, update.kind, 1, 0), statusCode: update.statusCode };
      case 'retry':
        return { ...this.record(source, 'pending', 1, update.retryInMs), statusCode: update.statusCode, error: update.error };
      case 'dead':
        return { ...this.record(source, 'dead', 1, 0), statusCode: update.statusCode, error: update.error, deadReason: update.deadReason };
      case 'postpone':
        return this.record(source, 'pending', 0, update.retryInMs);
    }
  }

  private launchDirect(item: DirectItem): void {
    const { endpoint } = item.row;
    // A URL refused on its face needs no slot (as in launch()).
    if (!checkUrlSyntax(item.row.url, this.options.mode).ok) {
      this.startDirect(item, false);
      return;
    }
    // WEBHOOK_CONCURRENCY also bounds what the direct path leaves running: POSTs handed off after the direct
    // wait keep their sockets, so batch after batch to slow endpoints could pile them up without limit.
    // POSTs of batches still within their wait are not counted: they are bounded by the consumer's batches,
    // and sending those at once is the direct path's point (capping them too measured ~40 % slower).
    // Beyond the cap a webhook is written unattempted and due now; the claim loop sends it as slots free.
    if (this.handedOffInFlight + this.claimedInFlight() >= this.options.concurrency) {
      this.postponedTotal.inc({ reason: 'concurrency_full' });
      this.finishDirect(item, { ...this.key(item.row), kind: 'postpone', retryInMs: 0 });
      return;
    }
    // Behind rows already waiting for this endpoint (claimed or direct), so no one jumps the queue.
    const queued = (this.waiting.get(endpoint)?.length ?? 0) + (this.directWaiting.get(endpoint)?.length ?? 0);
    const admission = queued > 0 ? ({ ok: false, reason: 'busy', retryAt: 0 } as const) : this.gate.tryAcquire(endpoint);
    if (admission.ok) this.startDirect(item, true);
    else if (admission.reason === 'busy') {
      const queue = this.directWaiting.get(endpoint);
      if (queue) queue.push(item);
      else this.directWaiting.set(endpoint, [item]);
    } else this.refuseDirect(item, admission.retryAt);
  }

  /** Breaker open: written as not attempted, due when the breaker lets a probe through. */
  private refuseDirect(item: DirectItem, retryAt: number): void {
    this.postponedTotal.inc({ reason: 'breaker_open' });
    this.finishDirect(item, { ...this.key(item.row), kind: 'postpone', retryInMs: Math.max(0, retryAt - Date.now()) });
  }

  private finishDirect(item: DirectItem, update: DeliveryUpdate): void {
    if (item.state === 'handedOff') {
      this.handedOffInFlight--;
      const key = keyOf(item.row);
      void item.batch.handoff?.then((inserted) => {
        if (inserted.has(key)) this.results.push(update);
      });
      return;
    }
    item.state = 'done';
    item.update = update;
    item.batch.settle();
  }

  private startDirect(item: DirectItem, gated: boolean): void {
    const { row } = item;
    item.state = 'flight';
    this.inFlight++;
    this.directInFlight++;
    void this.attempt(row, item.secrets, this.shutdown.signal)
      .then(
        (verdict) => {
          if (gated) this.gate.release(row.endpoint, verdict.endpointFailed);
          return verdict.update;
        },
        (error: unknown) => {
          if (gated) this.gate.release(row.endpoint, undefined);
          return this.internalFailure(row, error);
        },
      )
      .then((update) => {
        this.inFlight--;
        this.directInFlight--;
        this.finishDirect(item, update);
        if (gated) this.drainWaiting(row.endpoint);
      });
  }

  private postpone(row: ClaimedDelivery, retryInMs: number, reason: string): void {
    this.postponedTotal.inc({ reason });
    this.results.push({ ...this.key(row), kind: 'postpone', retryInMs: Math.max(0, retryInMs) });
  }

  private key(row: ClaimedDelivery) {
    return { webhookId: row.webhookId, target: row.target, claimedAttempts: row.attempts };
  }

  /** One attempt, as a CLIENT span continuing the trace of the status event that queued it. */
  private attempt(row: ClaimedDelivery, secrets: string[], signal: AbortSignal): Promise<AttemptVerdict> {
    return withSpan(
      TRACER,
      'webhook POST',
      {
        kind: SpanKind.CLIENT,
        parent: contextFromTraceparent(row.traceParent),
        attributes: {
          'http.request.method': 'POST',
          'sms.message_id': row.messageId,
          'sms.tenant_id': row.tenantId,
          'sms.webhook.id': row.webhookId,
          'sms.webhook.attempt': row.attempts,
        },
      },
      async (span, ctx) => {
        const started = performance.now();
        const deadline = Date.now() + this.options.timeoutMs;
        let result: AttemptResult;
        let requested = false;
        const guard = await this.guard(row.url, deadline);
        if ('kind' in guard) {
          result = guard;
        } else if (!guard.ok) {
          result = { kind: 'blocked', reason: guard.reason };
        } else {
          // Never the path or query (tokens live there) and never the body: host and port identify the endpoint.
          span.setAttributes({
            'server.address': guard.hostname,
            'server.port': Number(guard.url.port || (guard.url.protocol === 'https:' ? 443 : 80)),
            'url.scheme': guard.url.protocol.slice(0, -1),
          });
          const body = serializeWebhookBody(row.payload, row.includeBody ? { text: row.body } : undefined);
          const headers: Record<string, string> = {
            'content-type': 'application/json',
            'user-agent': USER_AGENT,
            ...signedHeaders(secrets, row.webhookId, new Date(), body),
            ...injectContext(ctx),
          };
          requested = true;
          result = await this.deps.http.post({ url: guard.url, hostname: guard.hostname, address: guard.address, headers, body, deadline, signal });
        }

        if (signal.aborted) {
          span.setAttribute('sms.webhook.outcome', 'aborted');
          this.postponedTotal.inc({ reason: 'shutdown' });
          return { update: { ...this.key(row), kind: 'postpone', retryInMs: 0 }, endpointFailed: undefined };
        }

        const outcome = outcomeOf(result);
        const seconds = (performance.now() - started) / 1000;
        const metrics = this.outcomeMetrics(outcome);
        metrics.attempts.inc();
        metrics.seconds.observe(seconds);
        span.setAttribute('sms.webhook.outcome', outcome);
        if (result.kind === 'response') span.setAttribute('http.response.status_code', result.statusCode);
        if (outcome !== '2xx') span.setStatus({ code: SpanStatusCode.ERROR, message: describeResult(result) });

        const decision = decide(result, row.attempts, this.retry);
        this.observe(row, decision, result, seconds);
        return { update: this.toUpdate(row, decision, result), endpointFailed: requested ? isEndpointFailure(result) : undefined };
      },
    );
  }

  /**
   * SSRF check within the attempt's deadline; resolution failures become attempt results (retried).
   *
   * A verdict is reused for `guardCacheMs` per URL: resolving the name (getaddrinfo, on libuv's small
   * thread pool) and parsing the URL on every POST would bound the rate. This stays safe because the
   * verdict carries the checked address and the request connects to that address only, whatever the name
   * resolves to meanwhile; the cache only delays noticing a DNS change by that long.
   */
  private guard(url: string, deadline: number): Promise<GuardResult | AttemptResult> {
    const ttl = this.options.guardCacheMs ?? GUARD_CACHE_MS;
    if (ttl <= 0) return this.guardNow(url, deadline);
    const now = Date.now();
    const cached = this.guardCache.get(url);
    if (cached && cached.until > now) return cached.verdict;
    // The promise is cached, so the POSTs of one batch to a new name share one resolution.
    const verdict = this.guardNow(url, deadline);
    const entry = { verdict, until: now + ttl };
    if (this.guardCache.size >= GUARD_CACHE_MAX) this.guardCache.clear();
    this.guardCache.set(url, entry);
    // A failed resolution (timeout, network) is this attempt's result only: the next one tries again.
    void verdict.then((result) => {
      if ('kind' in result && this.guardCache.get(url) === entry) this.guardCache.delete(url);
    });
    return verdict;
  }

  private async guardNow(url: string, deadline: number): Promise<GuardResult | AttemptResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WebhookTimeoutError()), Math.max(0, deadline - Date.now()));
    });
    try {
      return await Promise.race([guardWebhookUrl(url, this.options.mode, this.deps.resolver), timeout]);
    } catch (error) {
      if (error instanceof WebhookTimeoutError) return { kind: 'timeout' };
      const code = (error as NodeJS.ErrnoException).code;
      return { kind: 'network_error', code: code ?? 'resolve_failed' };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Label children per outcome, looked up once (prom-client hashes the labels on every call otherwise). */
  private outcomeMetrics(outcome: string) {
    let metrics = this.byOutcome.get(outcome);
    if (!metrics) {
      metrics = { attempts: this.attemptsTotal.labels({ outcome }), seconds: this.attemptSeconds.labels({ outcome }) };
      this.byOutcome.set(outcome, metrics);
    }
    return metrics;
  }

  private observe(row: ClaimedDelivery, decision: DeliveryDecision, result: AttemptResult, seconds: number): void {
    const log = { webhookId: row.webhookId, tenantId: row.tenantId, endpoint: row.endpoint, attempt: row.attempts };
    switch (decision.status) {
      case 'delivered':
        this.deliverySeconds.observe((Date.now() - row.createdAt.getTime()) / 1000);
        this.deps.logger.debug({ ...log, seconds }, 'webhook delivered');
        break;
      case 'gone':
        this.deps.logger.info({ ...log }, 'webhook endpoint answered 410 Gone; not retrying');
        break;
      case 'dead':
        this.deadTotal.inc({ reason: decision.deadReason });
        this.deps.logger.warn({ ...log, reason: decision.deadReason, last: describeResult(result) }, 'webhook dead');
        break;
      case 'pending':
        this.deps.logger.debug({ ...log, retryInMs: decision.retryInMs, last: describeResult(result) }, 'webhook attempt failed; will retry');
        break;
    }
  }

  private toUpdate(row: ClaimedDelivery, decision: DeliveryDecision, result: AttemptResult): DeliveryUpdate {
    const statusCode = result.kind === 'response' ? result.statusCode : null;
    const key = this.key(row);
    switch (decision.status) {
      case 'delivered':
        return { ...key, kind: 'delivered', statusCode: statusCode! };
      case 'gone':
        return { ...key, kind: 'gone', statusCode: statusCode! };
      case 'dead':
        return { ...key, kind: 'dead', deadReason: decision.deadReason, statusCode, error: describeResult(result) };
      case 'pending':
        return { ...key, kind: 'retry', retryInMs: decision.retryInMs, statusCode, error: describeResult(result) };
    }
  }

  /** Active secrets per tenant; a tenant without one gets one generated on first use. */
  private async secretsFor(tenantIds: string[]): Promise<Map<string, string[]>> {
    const now = Date.now();
    const result = new Map<string, string[]>();
    const missing: string[] = [];
    for (const tenantId of tenantIds) {
      const cached = this.secretCache.get(tenantId);
      if (cached && now - cached.at < (this.options.secretCacheMs ?? SECRET_CACHE_MS)) result.set(tenantId, cached.secrets);
      else missing.push(tenantId);
    }
    if (missing.length > 0) {
      const loaded = await this.deps.secrets.activeFor(missing);
      for (const tenantId of missing) {
        const secrets = loaded.get(tenantId) ?? (await this.deps.secrets.ensureActive(tenantId));
        this.secretCache.set(tenantId, { secrets, at: now });
        result.set(tenantId, secrets);
      }
    }
    return result;
  }
}

/**
 * Collects attempt results and writes them in one UPDATE per flush. A failed write is kept and retried;
 * if it never succeeds, the rows' leases run out and they are attempted again (at-least-once).
 */
class ResultWriter {
  private buffer: DeliveryUpdate[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly repository: Pick<WebhookDeliveriesRepository, 'applyUpdates'>,
    private readonly logger: KafkaCoreLogger,
    private readonly onWritten: (updates: DeliveryUpdate[]) => void,
  ) {}

  push(update: DeliveryUpdate): void {
    this.buffer.push(update);
    this.schedule(this.buffer.length >= RESULT_FLUSH_SIZE ? 0 : RESULT_FLUSH_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.drain(3);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.flushing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.drain(Infinity).finally(() => {
        this.flushing = undefined;
        if (this.buffer.length > 0) this.schedule(RESULT_FLUSH_MS);
      });
    }, delayMs);
  }

  private async drain(maxFailures: number): Promise<void> {
    let failures = 0;
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, 500);
      try {
        await this.repository.applyUpdates(batch);
        failures = 0;
        this.onWritten(batch);
      } catch (error) {
        this.buffer.unshift(...batch);
        failures++;
        this.logger.warn({ error: (error as Error).message, pending: this.buffer.length, failures }, 'writing webhook results failed');
        if (failures >= maxFailures || (this.closed && maxFailures === Infinity)) return;
        await sleep(Math.min(5000, 100 * 2 ** failures));
      }
    }
  }
}
