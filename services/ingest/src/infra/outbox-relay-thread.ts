import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@sms/platform';

/** What ingest needs of its relay, whether it runs on the main thread or beside it. */
export interface RelayHandle {
  start(): void;
  /** Asks for a drain (after a commit); cheap and coalesced, so every commit may call it. */
  wake(): void;
  stop(): Promise<void>;
  onPublished?: (count: number, oldestCreatedAt: Date) => void;
}

/** Everything the relay thread needs to open its own database pool and Kafka producer. */
export interface RelayThreadSettings {
  databaseUrl: string;
  brokers: string[];
  logLevel: string;
  pollMs: number;
  batch: number;
  loops: number;
  poolSize: number;
}

export type ToRelayThread = { type: 'wake' } | { type: 'stop' };
export type FromRelayThread = { type: 'published'; count: number; oldestCreatedAt: number };
export interface RelayThreadData {
  settings: RelayThreadSettings;
  /** 1 while a wake message is on its way: the thread clears it when it takes the message. */
  wakePending: Int32Array;
}

/**
 * Runs the outbox relay (`OutboxRelay`, unchanged) in a worker thread with its own event loop, database
 * pool and Kafka producer. Publishing costs more CPU per message than accepting it (kafkajs record
 * encoding, envelopes, validation on produce: ~50 µs against ~25 µs), and on the main thread a bulk
 * backlog's publishing took the CPU the API needed: during a 10,000-recipient batch benchmark the relay
 * was a third of the main thread's time, and each 1,000-row publish held the event loop for tens of
 * milliseconds, which every API request waited behind. In its own thread it uses the second core.
 *
 * The thread reads the same outbox with the same transactions, so the guarantees (published at least
 * once, deleted only after Kafka's ack, OTP rows on their own loop) are OutboxRelay's. If the thread dies,
 * what it had not committed stays in the outbox, and a new thread starts a second later.
 */
export class OutboxRelayThread implements RelayHandle {
  private worker?: Worker;
  private readonly wakePending = new Int32Array(new SharedArrayBuffer(4));
  private readonly wakes: Throttle;
  private stopped = false;
  private restartTimer?: NodeJS.Timeout;
  onPublished?: (count: number, oldestCreatedAt: Date) => void;
  /** Each start of a thread (tests wait for a restart with it). */
  onThreadStarted?: (worker: Worker) => void;

  /**
   * `wakeIntervalMs`: a lone commit wakes the thread at once; commits closer together than this are
   * merged into one wake-up at the end of the interval (so under load an accepted message waits at most
   * that long more for its publish). Without it the thread, no longer slowed by the API's work, relayed
   * every group commit of single messages on its own (two transactions per wake-up, the OTP loop's and
   * the main one's, each a few rows), and those transactions took PostgreSQL's CPU: 3,500-3,900 instead
   * of 4,600-4,900 requests/s in the single-message benchmark, p99 56-69 ms instead of 27-28 ms. With 10 ms:
   * 4,300/s, p99 35 ms; with 25 ms: 5,067/s, p99 26 ms (one run each, shared machine, load 2.5-3.9).
   */
  constructor(
    private readonly settings: RelayThreadSettings,
    private readonly logger: Logger,
    private readonly restartDelayMs = 1000,
    wakeIntervalMs = 25,
  ) {
    this.wakes = new Throttle(wakeIntervalMs, () => {
      // At most one wake message in flight as well.
      if (this.worker && Atomics.exchange(this.wakePending, 0, 1) === 0) this.worker.postMessage({ type: 'wake' } satisfies ToRelayThread);
    });
  }

  start(): void {
    this.stopped = false;
    this.spawn();
  }

  private spawn(): void {
    const data: RelayThreadData = { settings: this.settings, wakePending: this.wakePending };
    const worker = new Worker(new URL('./outbox-relay-worker.js', import.meta.url), { workerData: data, name: 'ingest outbox relay' });
    this.worker = worker;
    Atomics.store(this.wakePending, 0, 0);
    worker.on('message', (message: FromRelayThread) => {
      if (message.type === 'published') this.onPublished?.(message.count, new Date(message.oldestCreatedAt));
    });
    worker.on('error', (error) => this.logger.error({ error: error.message }, 'outbox relay thread failed'));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (this.stopped) return;
      this.logger.error({ code }, 'outbox relay thread exited; starting a new one');
      this.restartTimer = setTimeout(() => {
        if (!this.stopped) this.spawn();
      }, this.restartDelayMs);
    });
    this.onThreadStarted?.(worker);
  }

  wake(): void {
    this.wakes.call();
  }

  /** Lets the thread finish the batch it is relaying, close its connections and exit. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakes.cancel();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const exited = once(worker, 'exit');
    worker.postMessage({ type: 'stop' } satisfies ToRelayThread);
    await exited;
  }
}

/**
 * Runs `run` at once when it last ran at least `intervalMs` ago; otherwise once at the end of the
 * interval, however many calls came in the meantime.
 */
export class Throttle {
  private last = -Infinity;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  call(): void {
    if (this.timer) return;
    const wait = this.last + this.intervalMs - this.now();
    if (wait <= 0) return this.fire();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fire();
    }, wait);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.last = this.now();
    this.run();
  }
}
