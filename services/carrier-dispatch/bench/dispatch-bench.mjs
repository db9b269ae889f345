// carrier-dispatch throughput benchmark: one instance, the SMPP simulator, a pre-filled dispatch topic.
//
//   set -a; . /tmp/devstack.env; set +a   # KAFKA_BROKERS, DATABASE_URL
//   flock /tmp/bench.lock node services/carrier-dispatch/bench/dispatch-bench.mjs
//
// Env: COUNT (messages, default 60000), BINDS (transactional binds, default 4), WINDOW (default 50),
// LATENCY_MS (simulator latency per response, default 0), PROFILE (write a CPU profile), DISPATCH_NODE_ARGS
// (Node flags for carrier-dispatch, e.g. --trace-gc; its log is in the logs directory), SIMULATOR_NODE_ARGS (the
// same for the simulator). Prints one JSON line.
// The headline is submitsPerSecond; steady10to90PerSecond (the rate between the 10th and 90th percentile
// submit), simHoldMs and answerToNextSubmitMs (the part of a round trip spent outside the simulator) are there to
// read beside it.
// Throughput is measured from the simulator's own record (receivedAt of accepted submits), from the
// first to the last submit, so start-up and topic pre-fill do not count.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DispatchTransactionalV1 } from '@sms/contracts';
import { freePort } from '@sms/local-stack';
import { connectedPublisher, createTestDatabase, ensureTestTopics, requireEnv, testKafka, uniqueSuffix } from '@sms/testing';

const COUNT = Number(process.env.COUNT ?? 60000);
const BINDS = Number(process.env.BINDS ?? 4);
const WINDOW = Number(process.env.WINDOW ?? 50);
const LATENCY_MS = Number(process.env.LATENCY_MS ?? 0);

const dir = mkdtempSync(join(tmpdir(), 'dispatch-bench-'));
const children = [];
const spawnLogged = (name, args, env) => {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(join(dir, `${name}.log`));
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  children.push(child);
  return child;
};
const waitHttp = async (url, timeoutMs = 60000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

const kafka = testKafka('dispatch-bench');
await ensureTestTopics(kafka);
const prefix = `bench-${uniqueSuffix()}`;
const group = `${prefix}.carrier-dispatch.transactional`;
// The group starts at the current end, so only this run's messages are dispatched.
const admin = kafka.admin();
await admin.connect();
const ends = await admin.fetchTopicOffsets(DispatchTransactionalV1.topic);
await admin.setOffsets({ groupId: group, topic: DispatchTransactionalV1.topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
for (const lane of ['otp', 'promotional']) {
  const topic = `sms.internal.dispatch.${lane}.v1`;
  const laneEnds = await admin.fetchTopicOffsets(topic);
  await admin.setOffsets({ groupId: `${prefix}.carrier-dispatch.${lane}`, topic, partitions: laneEnds.map((e) => ({ partition: e.partition, offset: e.high })) });
}
await admin.disconnect();

// Pre-fill.
const publisher = await connectedPublisher(kafka);
const now = new Date();
const fillStart = performance.now();
for (let i = 0; i < COUNT; i += 1000) {
  const drafts = [];
  for (let j = i; j < Math.min(COUNT, i + 1000); j++) {
    drafts.push({
      tenantId: 'bench',
      messageId: randomUUID(),
      payload: {
        to: `+4477009${String(10000 + (j % 90000)).padStart(5, '0')}`.replace(/000\d$/, '1234'),
        from: 'BENCH',
        body: `benchmark message ${j}`,
        trafficClass: 'transactional',
        encoding: 'GSM-7',
        segments: 1,
        validUntil: new Date(now.getTime() + 3600_000).toISOString(),
        acceptedAt: now.toISOString(),
        sandbox: false,
        carrierId: 'simulator',
        routeId: 'default',
        attempt: 1,
        routedAt: now.toISOString(),
      },
    });
  }
  await publisher.publish(DispatchTransactionalV1, drafts);
}
await publisher.disconnect();
const fillMs = performance.now() - fillStart;

const database = await createTestDatabase('dispatch_bench');
const smppPort = await freePort();
const simHttp = await freePort();
const httpPort = await freePort();
spawnLogged('simulator', [
  ...(process.env.SIMULATOR_NODE_ARGS ?? '').split(' ').filter(Boolean),
  'test/smsc-simulator/dist/cli.js',
  '--port', String(smppPort),
  '--http-port', String(simHttp),
  '--latency-ms', String(LATENCY_MS),
  '--receipt-delay-ms', '100',
  '--record-limit', String(COUNT + 1000),
]);
await waitHttp(`http://127.0.0.1:${simHttp}/health`);
const configFile = join(dir, 'gateway.yaml');
writeFileSync(
  configFile,
  [
    'carriers:',
    '  - id: simulator',
    '    protocol: smpp',
    '    mps: 1000000',
    `    smpp: { host: 127.0.0.1, port: ${smppPort}, systemId: gateway, password: secret, window: ${WINDOW}, binds: { otp: 1, transactional: ${BINDS}, promotional: 1 } }`,
    'routes:',
    '  - id: default',
    '    carriers: [simulator]',
    '',
  ].join('\n'),
);
// PROFILE=1 writes a V8 CPU profile of carrier-dispatch into the logs directory.
const profile = process.env.PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
// DISPATCH_NODE_ARGS adds Node flags to carrier-dispatch only (e.g. --trace-gc; NODE_OPTIONS refuses some).
const nodeArgs = (process.env.DISPATCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const dispatcher = spawnLogged('carrier-dispatch', [...profile, ...nodeArgs, 'services/carrier-dispatch/dist/main.js'], {
  KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
  DATABASE_URL: database.url,
  GATEWAY_CONFIG_FILE: configFile,
  KAFKA_GROUP_PREFIX: prefix,
  HTTP_PORT: String(httpPort),
  HTTP_HOST: '127.0.0.1',
  GATEWAY_MODE: 'test',
  LOG_LEVEL: 'warn',
  OTEL_TRACES_EXPORTER: 'none',
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_LOGS_EXPORTER: 'none',
});

const stats = async () => (await (await fetch(`http://127.0.0.1:${simHttp}/stats`)).json()).submits;
const deadline = Date.now() + Number(process.env.TIMEOUT_MS ?? 180000);
let last = await stats();
while (last.accepted < COUNT && Date.now() < deadline && dispatcher.exitCode === null) {
  await new Promise((r) => setTimeout(r, 500));
  last = await stats();
}
// First and last accepted submit from the record.
const page = async (offset, limit) =>
  (await (await fetch(`http://127.0.0.1:${simHttp}/submits?offset=${offset}&limit=${limit}`)).json()).submits;
const total = (await (await fetch(`http://127.0.0.1:${simHttp}/submits?limit=0`)).json()).count;
const first = (await page(0, 1))[0];
const lastRecord = (await page(total - 1, 1))[0];
const seconds = (lastRecord.receivedAt - first.receivedAt) / 1000;
const duplicates = (await (await fetch(`http://127.0.0.1:${simHttp}/duplicates`)).json()).count;
// Submits per 250 ms from the first one: shows whether the binds stay busy or idle between rounds.
const buckets = [];
const holds = [];
const receivedTimes = [];
const byConnection = new Map();
for (let offset = 0; offset < total; offset += 5000) {
  for (const r of await page(offset, 5000)) {
    receivedTimes.push(r.receivedAt);
    if (!byConnection.has(r.connectionId)) byConnection.set(r.connectionId, { received: [], responded: [] });
    byConnection.get(r.connectionId).received.push(r.receivedAt);
    if (r.respondedAt !== null) byConnection.get(r.connectionId).responded.push(r.respondedAt);
    if (r.respondedAt !== null) holds.push(r.respondedAt - r.receivedAt);
    const b = Math.floor((r.receivedAt - first.receivedAt) / 250);
    buckets[b] = (buckets[b] ?? 0) + 1;
  }
}
const per250ms = Array.from(buckets, (n) => n ?? 0);
// How long the simulator held a submit before answering: with every window full, binds x window / throughput
// minus this is the round trip spent outside the simulator's latency (carrier-dispatch, sockets, scheduling).
holds.sort((a, b) => a - b);
const holdMs = holds.length
  ? { mean: Math.round((holds.reduce((a, b) => a + b, 0) / holds.length) * 10) / 10, p50: Math.round(holds[holds.length >> 1] * 10) / 10, p99: Math.round(holds[Math.floor(holds.length * 0.99)] * 10) / 10 }
  : null;

// The round trip outside the simulator's hold: for each answer, how long until the next submit arrived on the same
// bind (with its window full, that submit took the answered one's slot). The answers of the last 10 % are left out:
// no submit follows them once the topic is drained.
const gaps = [];
for (const { received, responded } of byConnection.values()) {
  received.sort((a, b) => a - b);
  responded.sort((a, b) => a - b);
  let next = 0;
  for (const answeredAt of responded.slice(0, Math.floor(responded.length * 0.9))) {
    while (next < received.length && received[next] < answeredAt) next++;
    if (next < received.length) gaps.push(received[next] - answeredAt);
  }
}
gaps.sort((a, b) => a - b);
const pct = (q) => Math.round(gaps[Math.min(gaps.length - 1, Math.floor(gaps.length * q))] * 10) / 10;
const answerToNextSubmitMs = gaps.length ? { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99) } : null;

// Not the headline: the rate between the 10th and the 90th percentile submit, i.e. without the cold start and the
// tail where fewer partitions are left than binds can take (a steady-state figure to read beside the headline).
receivedTimes.sort((a, b) => a - b);
const p10 = receivedTimes[Math.floor(receivedTimes.length * 0.1)];
const p90 = receivedTimes[Math.floor(receivedTimes.length * 0.9)];
const steadyPerSecond = receivedTimes.length >= 10 && p90 > p10 ? Math.round((Math.floor(receivedTimes.length * 0.9) - Math.floor(receivedTimes.length * 0.1)) / ((p90 - p10) / 1000)) : null;

for (const child of children.reverse()) child.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 3000));
await database.drop().catch(() => undefined);
console.log(
  JSON.stringify({
    count: COUNT,
    binds: BINDS,
    window: WINDOW,
    latencyMs: LATENCY_MS,
    accepted: last.accepted,
    received: total,
    duplicates,
    seconds: Math.round(seconds * 100) / 100,
    submitsPerSecond: Math.round(last.accepted / seconds),
    expectedByLittlesLaw: LATENCY_MS > 0 ? Math.round((BINDS * WINDOW * 1000) / LATENCY_MS) : null,
    prefillMs: Math.round(fillMs),
    simHoldMs: holdMs,
    answerToNextSubmitMs,
    steady10to90PerSecond: steadyPerSecond,
    per250ms,
    logs: dir,
  }),
);
process.exit(0);
