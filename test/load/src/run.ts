import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SendRequestedV1, acceptedContracts, isAcceptedTopic, StatusChangedV1, type MessageStatus } from '@sms/contracts';
import { createKafka, ensureTopics, EventPublisher, silentLogger, type Kafka } from '@sms/kafka';
// The harness starts the stack exactly as `npm start` does, so it uses the local-stack tool. The lint config
// has no tool-to-tool constraint for production code yet (only for tests); asked the lead to add it.
import { freePort, startKafka, startPostgres, type KafkaBroker, type PostgresServer } from '@sms/local-stack';
import { consumerGroups, startGateway, type GatewayPorts, type RunningGateway } from '@sms/local-stack/gateway';
import { createTestDatabase } from '@sms/testing';
import type { Consumer } from 'kafkajs';
import { bodyFor, destinationFor, maxMessagesPerRun, pickWeighted, seqOfDestination } from './numbers.js';
import { plannedMessages, type LoadProfile, type Phase } from './profile.js';
import { pidListeningOn, ProcessSampler, type WatchedProcess } from './procstat.js';
import { StatementStats, statementStatsSettings } from './db-statements.js';
import { buildReport, type LagReport, type LoadReport } from './report.js';
import type { ReceiverMessage } from './receiver-worker.js';
import { Tracker, type TrackedMessage } from './tracker.js';

export interface RunOptions {
  profile: LoadProfile;
  /** Default: env KAFKA_BROKERS / DATABASE_URL, else a Kafka and a PostgreSQL started for the run. */
  kafkaBrokers?: string;
  databaseUrl?: string;
  /** Show a progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
  /** Run every service with --cpu-prof into this directory; profiles are written when the services stop. */
  cpuProfileDir?: string;
  /** Extra environment for the five services (e.g. WEBHOOK_ENDPOINT_CONCURRENCY=32). */
  serviceEnv?: Record<string, string>;
  log?: (line: string) => void;
}

// The services' consumer groups, from the stack that starts them: one list, so lag covers every group.
const groupTopics = consumerGroups;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function retry<T>(fn: () => Promise<T>, attempts: number, delayMs: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (error) {
      if (i >= attempts) throw error;
      await sleep(delayMs);
    }
  }
}

interface Infra {
  kafkaBrokers: string;
  databaseUrl: string;
  /** Set when the harness runs its own PostgreSQL (with pg_stat_statements preloaded). */
  ownPostgres: boolean;
  watched: WatchedProcess[];
  stop(): Promise<void>;
}

async function startInfra(options: RunOptions, dir: string, log: (line: string) => void): Promise<Infra> {
  const envKafka = options.kafkaBrokers ?? process.env.KAFKA_BROKERS;
  const envDb = options.databaseUrl ?? process.env.DATABASE_URL;
  let kafka: KafkaBroker | undefined;
  let postgres: PostgresServer | undefined;
  let database: { url: string; drop(): Promise<void> } | undefined;
  const stop = async () => {
    await database?.drop().catch(() => undefined);
    await kafka?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
  };
  try {
    [postgres, kafka] = await Promise.all([
      envDb ? undefined : startPostgres({ dataDir: join(dir, 'postgres'), port: await freePort(), log, settings: statementStatsSettings }),
      envKafka ? undefined : startKafka({ dataDir: join(dir, 'kafka'), port: await freePort(), controllerPort: await freePort(), log }),
    ]);
    const kafkaBrokers = envKafka ?? kafka!.brokers;
    let databaseUrl: string;
    if (envDb) {
      // A fresh database on the given server: the services' schemas start empty, as on a fresh install.
      const previous = process.env.DATABASE_URL;
      process.env.DATABASE_URL = envDb;
      database = await createTestDatabase('load');
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
      databaseUrl = database.url;
    } else {
      databaseUrl = postgres!.url;
    }
    await ensureTopics(createKafka({ brokers: kafkaBrokers.split(','), clientId: 'load', logger: silentLogger }));
    const kafkaPid = kafka?.pid ?? pidListeningOn(Number(kafkaBrokers.split(',')[0]!.split(':').pop()));
    const pgPid = postgres?.pid ?? pidListeningOn(Number(new URL(databaseUrl).port || 5432));
    const watched: WatchedProcess[] = [];
    if (kafkaPid) watched.push({ name: 'kafka', pid: kafkaPid, tree: true });
    if (pgPid) watched.push({ name: 'postgres', pid: pgPid, tree: true });
    if (!kafkaPid || !pgPid) log('note: could not find the pid of the external Kafka or PostgreSQL; its CPU/RSS is not reported');
    return { kafkaBrokers, databaseUrl, ownPostgres: postgres !== undefined, watched, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A local webhook receiver (its own thread, see receiver-worker.ts); records each status webhook's receive time. */
async function startReceiver(tracker: Tracker): Promise<{ url: string; stop(): Promise<void> }> {
  const worker = new Worker(new URL('./receiver-worker.js', import.meta.url));
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: ReceiverMessage) => {
      if (message.type === 'listening') resolve(message.port);
      else {
        for (const [reference, status, receivedAt] of message.hooks) {
          const seq = tracker.seqOf(reference);
          if (reference === null && status === null) tracker.error('webhook_unparseable');
          else if (seq !== undefined && status) tracker.onWebhook(seq, status as MessageStatus, receivedAt);
        }
      }
    });
  });
  return {
    url: `http://127.0.0.1:${port}/hooks/load`,
    stop: async () => {
      worker.postMessage({ type: 'stop' });
      await new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    },
  };
}

/** Reads the accepted and status-changed topics from their current end, keeping events of this run. */
async function startObserver(kafka: Kafka, tracker: Tracker): Promise<Consumer> {
  const groupId = `load-observer-${tracker.runId}`;
  const topics = [...acceptedContracts.map((c) => c.topic), StatusChangedV1.topic];
  // Start at the current end: fetched before the consumer runs, applied by seek once it has joined, so
  // nothing produced after this point is missed (and no slow setOffsets group join is needed).
  const admin = kafka.admin();
  await admin.connect();
  const ends = await Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) }))).finally(() => admin.disconnect());
  // Small fetches: kafkajs decodes a whole fetch response in one go, and megabytes of status events at once
  // stalled this process's event loop for 300 ms and more, which then showed up as client latency.
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 256 * 1024, maxBytes: 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const joined = new Promise<void>((resolve) =>
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const { topic, offsets } of ends) for (const o of offsets) consumer.seek({ topic, partition: o.partition, offset: o.high });
      resolve();
    }),
  );
  await consumer.run({
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      for (const record of batch.messages) {
        if (!record.value) continue;
        let envelope: { messageId?: string; payload?: Record<string, unknown> };
        try {
          envelope = JSON.parse(record.value.toString('utf8')) as typeof envelope;
        } catch {
          continue;
        }
        const p = envelope.payload ?? {};
        const seq = tracker.seqOf(typeof p.reference === 'string' ? p.reference : undefined);
        if (seq === undefined || !envelope.messageId) continue;
        if (isAcceptedTopic(batch.topic)) {
          tracker.onAccepted(seq, envelope.messageId, String(p.acceptedAt), typeof p.segments === 'number' ? p.segments : undefined);
        } else {
          const reason = p.reason && typeof p.reason === 'object' ? String((p.reason as { code?: unknown }).code) : undefined;
          tracker.onStatus(seq, p.status as MessageStatus, String(p.changedAt), reason);
        }
      }
      return Promise.resolve();
    },
  });
  await Promise.race([joined, sleep(30000)]);
  return consumer;
}

/** Follows the simulator's submit record incrementally (GET /submits with an offset). */
class SubmitFollower {
  private offset = 0;
  constructor(
    private readonly simulatorUrl: string,
    private readonly tracker: Tracker,
  ) {}

  async poll(): Promise<void> {
    for (;;) {
      const limit = 5000;
      const response = await fetch(`${this.simulatorUrl}/submits?offset=${this.offset}&limit=${limit}`);
      const body = (await response.json()) as {
        submits: { destinationAddr: string; receivedAt: number; commandStatus: number | null; commandStatusName?: string | null; responseState: string }[];
      };
      for (const s of body.submits) {
        const seq = seqOfDestination(s.destinationAddr);
        if (seq === undefined || seq >= this.tracker.messages.length) continue;
        if (s.commandStatus === 0 || s.responseState === 'pending') this.tracker.onCarrierSubmit(seq, s.receivedAt);
        else this.tracker.error(`carrier:${s.commandStatusName ?? s.responseState}`);
      }
      this.offset += body.submits.length;
      if (body.submits.length < limit) return;
    }
  }
}

/** Lag of every service consumer group, sampled with one admin connection. */
class LagWatcher {
  readonly max = new Map<string, number>();
  readonly last = new Map<string, number>();
  constructor(
    private readonly kafka: Kafka,
    private readonly prefix: string,
  ) {}
  private admin?: ReturnType<Kafka['admin']>;

  async sample(): Promise<void> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    const ends = new Map<string, Map<number, number>>();
    for (const topics of Object.values(groupTopics)) {
      for (const topic of topics) {
        if (ends.has(topic)) continue;
        const offsets = await this.admin.fetchTopicOffsets(topic);
        ends.set(topic, new Map(offsets.map((o) => [o.partition, Number(o.high)])));
      }
    }
    for (const [group, topics] of Object.entries(groupTopics)) {
      const committed = await this.admin.fetchOffsets({ groupId: `${this.prefix}.${group}`, topics: [...topics] });
      let lag = 0;
      for (const t of committed) {
        for (const p of t.partitions) {
          const end = ends.get(t.topic)?.get(p.partition) ?? 0;
          const c = Number(p.offset);
          if (c >= 0) lag += Math.max(0, end - c);
        }
      }
      this.last.set(group, lag);
      this.max.set(group, Math.max(this.max.get(group) ?? 0, lag));
    }
  }

  async stop(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }

  report(): LagReport[] {
    return Object.keys(groupTopics).map((group) => ({ group, max: this.max.get(group) ?? 0, end: this.last.get(group) ?? 0 }));
  }
}

interface Sender {
  /** The batch endpoint answered 404/405: batch phases stop. */
  batchUnsupported(): boolean;
  rest(messages: TrackedMessage[], batch: boolean): Promise<void>;
  kafka(messages: TrackedMessage[]): Promise<void>;
}

function requestPayload(tracker: Tracker, m: TrackedMessage, callbackUrl: string) {
  return {
    to: destinationFor(m.seq),
    from: 'LOADTEST',
    body: bodyFor(m.body, `${tracker.runId}-${m.seq}`),
    trafficClass: m.trafficClass,
    callbackUrl,
    reference: tracker.reference(m.seq),
  };
}

function httpPost(agent: Agent, url: URL, path: string, apiKey: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path, method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function makeSender(tracker: Tracker, gatewayUrl: string, apiKey: string, callbackUrl: string, publisher: EventPublisher, agent: Agent, notes: string[]): Sender {
  const url = new URL(gatewayUrl);
  let batchUnsupported = false;
  const settle = (m: TrackedMessage, status: number, item: unknown) => {
    m.ackedAt = Date.now();
    if (status !== 202 && status !== 200 && status !== 201) {
      m.sendError = `http_${status}`;
      tracker.error(`http_${status}`);
      return;
    }
    if (item && typeof item === 'object') {
      const r = item as { id?: unknown; acceptedAt?: unknown; segments?: unknown; status?: unknown };
      if (typeof r.id === 'string' && typeof r.acceptedAt === 'string') {
        tracker.onAccepted(m.seq, r.id, r.acceptedAt, typeof r.segments === 'number' ? r.segments : undefined);
      }
    }
  };
  return {
    batchUnsupported: () => batchUnsupported,
    rest: async (messages, batch) => {
      try {
        if (!batch) {
          const m = messages[0]!;
          const res = await httpPost(agent, url, '/v1/messages', apiKey, JSON.stringify(requestPayload(tracker, m, callbackUrl)));
          settle(m, res.status, res.status === 202 ? (JSON.parse(res.text) as unknown) : undefined);
          return;
        }
        if (batchUnsupported) {
          for (const m of messages) m.skipped = true;
          return;
        }
        const res = await httpPost(agent, url, '/v1/messages/batch', apiKey, JSON.stringify({ recipients: messages.map((m) => requestPayload(tracker, m, callbackUrl)) }));
        if (res.status === 404 || res.status === 405) {
          if (!batchUnsupported) notes.push(`REST batch entry skipped: POST /v1/messages/batch answered ${res.status} (not available in this build).`);
          batchUnsupported = true;
          for (const m of messages) m.skipped = true;
          return;
        }
        let items: unknown[] = [];
        try {
          const parsed = JSON.parse(res.text) as unknown;
          if (Array.isArray(parsed)) items = parsed;
          else if (parsed && typeof parsed === 'object') {
            const o = parsed as Record<string, unknown>;
            const list = o.results ?? o.messages ?? o.items ?? o.data;
            if (Array.isArray(list)) items = list;
          }
        } catch {
          // the accepted topic still tells us which were accepted
        }
        messages.forEach((m, i) => {
          const item = items[i] as { status?: unknown } | undefined;
          if (item && item.status === 'rejected') {
            m.ackedAt = Date.now();
            m.sendError = 'batch_recipient_rejected';
            tracker.error(m.sendError);
          } else {
            settle(m, res.status === 207 ? 202 : res.status, item);
          }
        });
      } catch (error) {
        for (const m of messages) {
          m.ackedAt = Date.now();
          m.sendError = `network_${(error as NodeJS.ErrnoException).code ?? 'error'}`;
          tracker.error(m.sendError);
        }
      }
    },
    kafka: async (messages) => {
      try {
        await publisher.publish(
          SendRequestedV1,
          messages.map((m) => ({ tenantId: 'demo', payload: requestPayload(tracker, m, callbackUrl) })),
        );
        const now = Date.now();
        for (const m of messages) m.ackedAt = now;
      } catch (error) {
        for (const m of messages) {
          m.sendError = 'kafka_publish';
          tracker.error(`kafka_publish:${(error as Error).name}`);
        }
      }
    },
  };
}

/** Offers one phase's messages at its target rate; returns when all its requests have been answered. */
async function runPhase(phase: Phase, index: number, profile: LoadProfile, tracker: Tracker, sender: Sender, onTick: () => void): Promise<void> {
  const start = performance.now();
  const target = phase.messages ?? Math.ceil((phase.durationS ?? 0) * phase.rate);
  const deadline = phase.durationS !== undefined ? start + phase.durationS * 1000 : Infinity;
  let issued = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const perRequest = phase.entry === 'rest' ? 1 : profile.batchSize;
  const maxInFlight = phase.entry === 'kafka' ? 4 : profile.concurrency;
  let lastTick = 0;
  while (issued < target && performance.now() < deadline && !(phase.entry === 'rest-batch' && sender.batchUnsupported())) {
    const now = performance.now();
    const due = Math.min(target, Math.floor(((now - start) / 1000) * phase.rate) + 1);
    while (issued < due && inFlight < maxInFlight) {
      const n = Math.min(perRequest, due - issued);
      const batch: TrackedMessage[] = [];
      for (let i = 0; i < n; i++) {
        const seq = tracker.messages.length;
        if (seq >= maxMessagesPerRun) throw new Error(`a run is limited to ${maxMessagesPerRun} messages`);
        const m: TrackedMessage = {
          seq,
          phase: index,
          trafficClass: pickWeighted(phase.mix, seq),
          body: pickWeighted(phase.bodies, seq * 7 + 3),
          entry: phase.entry,
          sentAt: Date.now(),
          carrierParts: 0,
          finalWebhooks: 0,
          webhooks: 0,
        };
        tracker.messages.push(m);
        batch.push(m);
      }
      issued += n;
      inFlight++;
      const p = (phase.entry === 'kafka' ? sender.kafka(batch) : sender.rest(batch, phase.entry === 'rest-batch')).finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
    if (now - lastTick > 250) {
      lastTick = now;
      onTick();
    }
    if (inFlight >= maxInFlight && pending.size > 0) await Promise.race(pending);
    else await sleep(issued < due ? 0 : 2);
  }
  await Promise.all(pending);
}

function progressLine(tracker: Tracker, phase: string, planned: number, startedAt: number, lag: LagWatcher): string {
  const c = tracker.counts;
  const sent = tracker.messages.length;
  const width = 24;
  const done = planned > 0 ? Math.min(1, c.webhooked / planned) : 0;
  const bar = '█'.repeat(Math.round(done * width)).padEnd(width, '░');
  const elapsed = (Date.now() - startedAt) / 1000;
  const totalLag = [...lag.last.values()].reduce((s, v) => s + v, 0);
  return `${bar} ${phase.padEnd(8)} ${elapsed.toFixed(0).padStart(4)}s sent ${sent} acc ${c.accepted} routed ${c.routed} carrier ${c.carrier} final ${c.final} hooks ${c.webhooked}/${planned} lag ${totalLag}`;
}

/**
 * Commits the services' new consumer groups at the current end of their topics, so a stack on a broker
 * with earlier traffic does not replay it. Like startGateway's startAtTopicEnd, but the groups in parallel:
 * each setOffsets joins a fresh group (about 5 s of rebalance delay), and there are ten of them.
 */
async function commitGroupsAtTopicEnd(kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = [...new Set(Object.values(groupTopics).flat())];
    const ends = new Map(await Promise.all(topics.map(async (t) => [t, await admin.fetchTopicOffsets(t)] as const)));
    await Promise.all(
      Object.entries(groupTopics).map(async ([group, groupTopicList]) => {
        for (const topic of groupTopicList) {
          await admin.setOffsets({ groupId: `${prefix}.${group}`, topic, partitions: ends.get(topic)!.map((e) => ({ partition: e.partition, offset: e.high })) });
        }
      }),
    );
  } finally {
    await admin.disconnect();
  }
}

/** Starts the whole stack, runs the profile, waits for the pipeline to drain and returns the report. */
export async function runLoad(options: RunOptions): Promise<LoadReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { profile } = options;
  const showProgress = options.progress ?? process.stderr.isTTY;
  const runId = `lt${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const tracker = new Tracker(runId);
  const planned = plannedMessages(profile);
  const dir = mkdtempSync(join(tmpdir(), 'sms-load-'));
  const notes: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    const loadAvgStart = (await import('node:os')).loadavg()[0]!;
    log(`[load] run ${runId}: scenario ${profile.scenario}, ${planned} messages planned`);
    const infra = await startInfra(options, dir, (line) => log(`[load] ${line}`));
    cleanups.push(() => infra.stop());
    const kafka = createKafka({ brokers: infra.kafkaBrokers.split(','), clientId: 'load', logger: silentLogger });
    const receiver = await startReceiver(tracker);
    cleanups.push(() => receiver.stop());
    // A broker that has just started may still be electing partition leaders: retry for a while.
    const observer = await retry(() => startObserver(kafka, tracker), 20, 500);
    cleanups.push(() => observer.disconnect());
    const publisher = new EventPublisher(kafka);
    await publisher.connect();
    cleanups.push(() => publisher.disconnect());

    const apiKey = `sk_test_${randomBytes(24).toString('base64url')}`;
    const ports: GatewayPorts = {
      ingest: await freePort(),
      router: await freePort(),
      'carrier-dispatch': await freePort(),
      'dlr-processor': await freePort(),
      notifier: await freePort(),
      smpp: await freePort(),
      simulatorHttp: await freePort(),
    };
    const groupPrefix = `load-${runId}`;
    // Service logs outlive the run (the data directories do not): they explain failures in the report.
    const logDir = join(tmpdir(), `sms-load-logs-${runId}`);
    notes.push(`Service logs: ${logDir}`);
    // The simulator keeps every submit for GET /submits; make room for the whole run (3 parts at most each).
    process.env.SMSC_SIM_RECORD_LIMIT = String(Math.max(200000, planned * 3 + 1000));
    const env: Record<string, string> = { LOG_LEVEL: 'warn', ...options.serviceEnv };
    if (options.serviceEnv && Object.keys(options.serviceEnv).length > 0) notes.push(`Service environment: ${Object.entries(options.serviceEnv).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    if (options.cpuProfileDir) {
      const preload = fileURLToPath(new URL('./cpu-profiler.js', import.meta.url));
      env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
      env.LOAD_CPU_PROF_DIR = options.cpuProfileDir;
    }
    await retry(() => commitGroupsAtTopicEnd(kafka, groupPrefix), 10, 500);
    log('[load] starting the SMPP simulator and the five services');
    const gateway: RunningGateway = await startGateway({
      kafkaBrokers: infra.kafkaBrokers,
      databaseUrl: infra.databaseUrl,
      ports,
      logDir,
      gatewayConfigFile: join(dir, 'gateway.yaml'),
      demo: { tenantId: 'demo', apiKey, webhookSecret: `whsec_${randomBytes(24).toString('base64')}` },
      mode: 'local',
      groupPrefix,
      receiptDelayMs: profile.simulator.receiptDelayMs,
      startAtTopicEnd: false, // done above, in parallel
      env,
      log: (line) => log(`[load] ${line.trim()}`),
    });
    let gatewayStopped = false;
    cleanups.push(async () => {
      if (!gatewayStopped) await gateway.stop();
    });
    const knobs = await fetch(`${gateway.simulatorUrl}/knobs`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: profile.simulator.latencyMs, receiptDelayMs: profile.simulator.receiptDelayMs }),
    });
    if (!knobs.ok) throw new Error(`simulator refused the knobs: ${knobs.status} ${await knobs.text()}`);

    const sampler = new ProcessSampler([
      ...gateway.processes.map((p) => ({ name: p.name, pid: p.child.pid!, tree: false })),
      ...infra.watched,
      { name: 'load-harness', pid: process.pid, tree: false },
    ]);
    const lag = new LagWatcher(kafka, groupPrefix);
    cleanups.push(() => lag.stop());
    const follower = new SubmitFollower(gateway.simulatorUrl, tracker);
    let phaseName = 'start';
    const startedAt = Date.now();
    let lastPrint = 0;
    const tick = () => {
      if (!showProgress) {
        if (Date.now() - lastPrint < 5000) return;
        lastPrint = Date.now();
        log(`[load] ${progressLine(tracker, phaseName, planned, startedAt, lag)}`);
        return;
      }
      process.stderr.write(`\r${progressLine(tracker, phaseName, planned, startedAt, lag)}\x1b[K`);
    };
    // Background watchers: the submit record every second, lag every two.
    let watching = true;
    const watchers = [
      (async () => {
        while (watching) {
          await follower.poll().catch(() => tracker.error('harness:submits_poll'));
          await sleep(1000);
        }
      })(),
      (async () => {
        while (watching) {
          await lag.sample().catch(() => undefined);
          await sleep(2000);
        }
      })(),
    ];
    const agent = new Agent({ keepAlive: true, maxSockets: profile.concurrency });
    cleanups.push(() => Promise.resolve(agent.destroy()));
    const sender = makeSender(tracker, gateway.url, apiKey, receiver.url, publisher, agent, notes);

    // Database time by statement over the load only (the services' migrations ran before this).
    const statements = infra.ownPostgres ? await StatementStats.start(infra.databaseUrl).catch(() => undefined) : undefined;
    // The client's own event-loop delay while sending: if it is large, 'client → accepted response' carries
    // the harness's delay too (H3 found ~100 ms between ingest's own timing and the client's).
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    sampler.start(1000);
    const phaseWindows: { name: string; startedAt: number; endedAt: number; sent: number }[] = [];
    for (const [i, phase] of profile.phases.entries()) {
      phaseName = phase.name;
      const before = tracker.messages.length;
      const t0 = Date.now();
      await runPhase(phase, i, profile, tracker, sender, tick);
      phaseWindows.push({ name: phase.name, startedAt: t0, endedAt: Date.now(), sent: tracker.messages.length - before });
    }
    const sendEndedAt = Date.now();
    sampler.markSendEnd();
    loopDelay.disable();
    const harnessLoopDelay = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };

    // Drain: until everything accepted is final and webhooked, or no progress for drainIdleS.
    phaseName = 'drain';
    let lastProgress = Date.now();
    let lastSnapshot = '';
    while (!tracker.complete()) {
      tick();
      const snapshot = JSON.stringify(tracker.counts);
      if (snapshot !== lastSnapshot) {
        lastSnapshot = snapshot;
        lastProgress = Date.now();
      }
      if (Date.now() - lastProgress > profile.drainIdleS * 1000) {
        notes.push(`Drain stopped: no progress for ${profile.drainIdleS} s.`);
        break;
      }
      if (Date.now() - sendEndedAt > profile.drainMaxS * 1000) {
        notes.push(`Drain stopped at the ${profile.drainMaxS} s cap.`);
        break;
      }
      await sleep(250);
    }
    const drainedAt = Date.now();
    // Late webhook or submit duplicates show up shortly after; give them a moment.
    await sleep(1000);
    watching = false;
    await Promise.all(watchers);
    await follower.poll();
    tick();
    if (showProgress) process.stderr.write('\n');
    const processes = sampler.stop();
    const duplicates = (await (await fetch(`${gateway.simulatorUrl}/duplicates`)).json()) as { count: number };
    const simStats = (await (await fetch(`${gateway.simulatorUrl}/stats`)).json()) as unknown;
    const topStatements = await statements?.top(10).catch(() => undefined);

    gatewayStopped = true;
    await gateway.stop(); // also flushes --cpu-prof profiles
    const { cpus, totalmem, loadavg } = await import('node:os');
    const report = buildReport({
      runId,
      profile,
      tracker,
      phases: phaseWindows,
      startedAt,
      sendEndedAt,
      drainedAt,
      processes,
      lag: lag.report(),
      simulatorDuplicates: duplicates.count,
      simulatorStats: simStats,
      topStatements,
      harnessLoopDelay,
      notes,
      machine: { cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), cpuModel: cpus()[0]?.model ?? 'unknown', loadAvgStart, loadAvgEnd: loadavg()[0]! },
    });
    if (report.checks.passed) {
      // Logs matter when something went wrong; a passing run leaves nothing behind.
      rmSync(logDir, { recursive: true, force: true });
      report.notes = report.notes.filter((n) => !n.startsWith('Service logs:'));
    }
    return report;
  } finally {
    process.removeListener('SIGINT', onSignal);
    await cleanup();
  }
}
