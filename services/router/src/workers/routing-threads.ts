import { Worker } from 'node:worker_threads';
import type { GatewayFile } from '@sms/config';
import type { CarrierHealthPayload } from '@sms/contracts';
import type { Logger } from '@sms/platform';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import type { RouterConfig } from '../config/router.config.js';
import { isFromRoutingThread, type RoutingThreadStatus, type ToRoutingThread } from './protocol.js';

const STATUS_TIMEOUT_MS = 2000;
const STOP_TIMEOUT_MS = 12_000;

interface Thread {
  index: number;
  worker: Worker;
  exited: Promise<number>;
}

/**
 * The routing threads of one router (ROUTER_WORKERS). The main thread owns everything that exists once
 * per instance (the gateway file and its reloads, carrier health, the HTTP API, failover, MO, the
 * held-message releaser) and posts what routing needs to every thread: an accepted route file (never a
 * refused one) and each carrier-health change, in the order they happened.
 *
 * A thread that exits while the router is not stopping is not restarted: `onLost` is called (the
 * service logs it and stops the process, so an orchestrator restarts a whole instance instead of one
 * routing at a fraction of its lanes' share).
 */
/**
 * V8's young generation of each routing thread: 192 MB is a 64 MB semi-space (V8 sizes the young
 * generation at three semi-spaces), against 16 MB by default. Routing allocates per message (decoded
 * records, envelopes, drafts, encoded records) and with 16 MB scavenges often enough to copy and promote
 * objects a batch still holds. Router bench, two threads: 85 vs 95 us of router CPU a message, peak RSS
 * 845 vs 639 MB (with one thread on the main thread: 69-70 vs 81-91 us).
 */
export const ROUTING_THREAD_YOUNG_GENERATION_MB = 192;

export class RoutingThreads {
  private readonly threads: Thread[] = [];
  private routesVersion = 0;
  private nextStatusId = 0;
  private stopping = false;
  /** Set once every thread started: before that, a thread's exit is start()'s failure, not a loss. */
  private running = false;

  constructor(
    private readonly count: number,
    private readonly config: RouterConfig,
    private readonly logger: Logger,
    private readonly onLost: (index: number, reason: string) => void,
  ) {}

  get size(): number {
    return this.threads.length;
  }

  /** Starts every thread and resolves once each consumes its lanes; rejects (with every thread stopped) if one fails to start. */
  async start(file: GatewayFile, health: readonly CarrierHealthPayload[]): Promise<void> {
    const started: Promise<void>[] = [];
    for (let index = 0; index < this.count; index++) {
      const worker = new Worker(new URL('./routing.worker.js', import.meta.url), {
        resourceLimits: { maxYoungGenerationSizeMb: ROUTING_THREAD_YOUNG_GENERATION_MB },
        // The thread's config is the main thread's, already validated; the env (OTEL_*) is a copy of the parent's.
        workerData: { index, config: this.config, routes: { version: this.routesVersion, file }, health: [...health] },
      });
      const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
      const thread: Thread = { index, worker, exited };
      this.threads.push(thread);
      started.push(
        new Promise<void>((resolve, reject) => {
          const onMessage = (message: unknown) => {
            if (isFromRoutingThread(message) && message.type === 'started') {
              worker.off('message', onMessage);
              resolve();
            }
          };
          worker.on('message', onMessage);
          worker.once('error', reject);
          void exited.then((code) => reject(new Error(`routing thread ${index} exited with code ${code} while starting`)));
        }),
      );
      worker.on('error', (error) => this.logger.error({ routingThread: index, err: error }, 'routing thread failed'));
      void exited.then((code) => {
        if (this.stopping || !this.running) return;
        const reason = `routing thread ${index} exited (code ${code}) while the router was running`;
        this.logger.fatal({ routingThread: index, code }, reason);
        this.onLost(index, reason);
      });
    }
    try {
      await Promise.all(started);
      this.running = true;
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.logger.info({ threads: this.count }, 'routing threads started');
  }

  /** Posts an accepted route file to every thread. */
  routes(file: GatewayFile): void {
    this.routesVersion++;
    this.post({ type: 'routes', version: this.routesVersion, file });
  }

  /** Posts a carrier-health change to every thread. */
  health(state: CarrierHealthPayload): void {
    this.post({ type: 'health', state });
  }

  /** The version of the last route file posted; a thread reporting it routes by that file. */
  get currentRoutesVersion(): number {
    return this.routesVersion;
  }

  /** Every thread's status (with its metrics); a thread that does not answer in time makes this reject. */
  async statuses(): Promise<RoutingThreadStatus[]> {
    return Promise.all(this.threads.map((thread) => this.status(thread, true)));
  }

  /** Ready when every thread answers, consumes all its lanes and routes by the latest accepted file. */
  async ready(): Promise<string> {
    const statuses = await Promise.all(this.threads.map((thread) => this.status(thread, false)));
    const problems = statuses.flatMap((s, index) => [
      ...(s.consuming ? [] : [`thread ${index}: lane consumers not running`]),
      ...(s.routesVersion === this.routesVersion ? [] : [`thread ${index}: routes version ${s.routesVersion}, latest ${this.routesVersion}`]),
    ]);
    if (problems.length > 0) throw new Error(problems.join('; '));
    return `threads=${statuses.length}`;
  }

  /**
   * The main registry's metrics plus every thread's (same name and labels summed). A thread that does not
   * answer is left out (and logged) rather than failing the scrape: readiness reports it.
   */
  async metrics(main: Registry): Promise<Registry> {
    const perThread = await Promise.allSettled(this.threads.map((thread) => this.status(thread, true)));
    const all: MetricObjectWithValues<MetricValue<string>>[][] = [await main.getMetricsAsJSON()];
    for (const [index, result] of perThread.entries()) {
      if (result.status === 'fulfilled') all.push(result.value.metrics);
      else this.logger.warn({ routingThread: index, err: result.reason }, 'routing thread metrics missing from this scrape');
    }
    return AggregatorRegistry.aggregate(all);
  }

  /** Stops every thread: each drains its consumers (finishing the batch in hand) before it exits. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.threads.map(async (thread) => {
        thread.worker.postMessage({ type: 'stop' } satisfies ToRoutingThread);
        const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
        if ((await Promise.race([thread.exited, timer])) === 'timeout') {
          this.logger.warn({ routingThread: thread.index }, 'routing thread did not stop in time, terminated');
          await thread.worker.terminate();
        }
      }),
    );
  }

  /** The V8 young generation each running thread was given, in MB (see ROUTING_THREAD_YOUNG_GENERATION_MB). */
  youngGenerationsMb(): (number | undefined)[] {
    return this.threads.map((thread) => thread.worker.resourceLimits?.maxYoungGenerationSizeMb);
  }

  /** Ends one thread abruptly, as a crash would (tests and operators checking the lost-thread path). */
  async terminate(index: number): Promise<void> {
    await this.threads[index]?.worker.terminate();
  }

  private post(message: ToRoutingThread): void {
    for (const thread of this.threads) thread.worker.postMessage(message);
  }

  private status(thread: Thread, metrics: boolean): Promise<RoutingThreadStatus> {
    const id = this.nextStatusId++;
    return new Promise<RoutingThreadStatus>((resolve, reject) => {
      const timer = setTimeout(() => {
        thread.worker.off('message', onMessage);
        reject(new Error(`routing thread ${thread.index} did not answer within ${STATUS_TIMEOUT_MS} ms`));
      }, STATUS_TIMEOUT_MS);
      timer.unref();
      const onMessage = (message: unknown) => {
        if (!isFromRoutingThread(message) || message.type !== 'status' || message.id !== id) return;
        clearTimeout(timer);
        thread.worker.off('message', onMessage);
        resolve(message.status);
      };
      thread.worker.on('message', onMessage);
      thread.worker.postMessage({ type: 'status', id, metrics } satisfies ToRoutingThread);
    });
  }
}
