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
  private stopped = false;
  private restartTimer?: NodeJS.Timeout;
  onPublished?: (count: number, oldestCreatedAt: Date) => void;
  /** Each start of a thread (tests wait for a restart with it). */
  onThreadStarted?: (worker: Worker) => void;

  constructor(
    private readonly settings: RelayThreadSettings,
    private readonly logger: Logger,
    private readonly restartDelayMs = 1000,
  ) {}

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
    // At most one wake message in flight: a commit per request under load must not flood the thread.
    if (this.worker && Atomics.exchange(this.wakePending, 0, 1) === 0) this.worker.postMessage({ type: 'wake' } satisfies ToRelayThread);
  }

  /** Lets the thread finish the batch it is relaying, close its connections and exit. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const exited = once(worker, 'exit');
    worker.postMessage({ type: 'stop' } satisfies ToRelayThread);
    await exited;
  }
}
