#!/usr/bin/env node
// dlr-processor throughput: how many receipts per second it correlates and turns into status events.
//
//   KAFKA_BROKERS=... DATABASE_URL=... flock /tmp/bench.lock node services/dlr-processor/bench/receipts-throughput.mjs [messages]
//
// Pre-fills sms.internal.submitted.v1 with N one-part messages and sms.internal.dlr-received.v1 with one
// DELIVRD receipt each (unique carrier id per run), then starts the built service (dist/main.js) as a child
// process on a fresh database with its consumer group committed at the offsets before the pre-fill, and
// watches the status-changed topic's end offsets: 2N events (submitted + delivered) must appear. The rate
// is N receipts / time from the first status event to the last. Run it against a broker nobody else uses
// (the other services' groups would consume the pre-fill too), e.g. `node deploy/local/dist/cli.js up
// --data-dir /tmp/bench --kafka-port 29092 --kafka-controller-port 29093 --postgres-port 25432`.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DlrReceivedV1, StatusChangedV1, SubmittedV1, UNKNOWN_TENANT } from '@sms/contracts';
import { connectedPublisher, createTestDatabase, ensureTestTopics, testKafka, uniqueSuffix } from '@sms/testing';

const N = Number(process.argv[2] ?? 100_000);
const HTTP_PORT = Number(process.env.BENCH_HTTP_PORT ?? 28084);
const CHUNK = 2000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const kafka = testKafka('dlr-bench');
await ensureTestTopics(kafka);
const admin = kafka.admin();
await admin.connect();
const offsets = async (topic) => (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high }));
const total = (list) => list.reduce((sum, p) => sum + Number(p.offset), 0);

const suffix = uniqueSuffix();
const prefix = `dlr-bench-${suffix}`;
const carrierId = `bench-${suffix}`;
for (const topic of [SubmittedV1.topic, DlrReceivedV1.topic]) {
  await sleep(0);
  await admin.setOffsets({ groupId: `${prefix}.dlr-processor`, topic, partitions: await offsets(topic) });
}

const publisher = await connectedPublisher(kafka);
const t0 = Date.now();
const now = new Date();
// BENCH_PHASED=1: all submitted events first (applied before any receipt is published), then the receipts,
// timed alone: the receipt path without held receipts, as in production where a receipt follows its
// submit by seconds. Default: both topics pre-filled together (many receipts overtake their submit).
const PHASED = process.env.BENCH_PHASED === '1';
const chunks = [];
for (let i = 0; i < N; i += CHUNK) {
  chunks.push(Array.from({ length: Math.min(CHUNK, N - i) }, (_, j) => ({ messageId: randomUUID(), cid: `${suffix}${(i + j).toString(16).padStart(8, '0')}` })));
}
const publishSubmitted = (ids) =>
  publisher.publish(
    SubmittedV1,
    ids.map(({ messageId, cid }) => ({
      tenantId: 'bench',
      messageId,
      payload: {
        carrierId,
        trafficClass: 'transactional',
        parts: [{ index: 0, carrierMessageId: cid, submittedAt: now.toISOString() }],
        totalParts: 1,
        acceptedAt: now.toISOString(),
        validUntil: new Date(now.getTime() + 86_400_000).toISOString(),
        callbackUrl: 'http://127.0.0.1:9/hook',
      },
    })),
  );
const publishReceipts = (ids) =>
  publisher.publish(
    DlrReceivedV1,
    ids.map(({ cid }) => ({
      tenantId: UNKNOWN_TENANT,
      payload: {
        carrierId,
        carrierMessageId: cid,
        messageState: 2,
        text: `id:${cid} sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:`,
        receivedAt: now.toISOString(),
      },
    })),
  );
for (const ids of chunks) {
  await publishSubmitted(ids);
  if (!PHASED) await publishReceipts(ids);
}
console.error(`pre-filled ${N} submitted${PHASED ? "" : ` + ${N} receipts`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const statusStart = total(await offsets(StatusChangedV1.topic));
const database = await createTestDatabase('dlr_bench');
// BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the service.
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const child = spawn(process.execPath, [...nodeArgs, fileURLToPath(new URL('../dist/main.js', import.meta.url))], {
  env: {
    ...process.env,
    DATABASE_URL: database.url,
    KAFKA_GROUP_PREFIX: prefix,
    HTTP_PORT: String(HTTP_PORT),
    LOG_LEVEL: 'warn',
    GATEWAY_MODE: 'test',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});

let expected = 2 * N;
let first;
let last = 0;
let produced = 0;
const samples = [];
const deadline = Date.now() + Number(process.env.BENCH_TIMEOUT_MS ?? 300_000);
let base = statusStart;
if (PHASED) {
  // Phase 1: the submitted events, untimed.
  while (Date.now() < deadline && total(await offsets(StatusChangedV1.topic)) - statusStart < N) await sleep(250);
  base = total(await offsets(StatusChangedV1.topic));
  expected = N;
  const tp = Date.now();
  for (const ids of chunks) await publishReceipts(ids);
  console.error(`published ${N} receipts in ${((Date.now() - tp) / 1000).toFixed(1)} s (service consuming meanwhile)`);
}
await publisher.disconnect();
while (Date.now() < deadline) {
  await sleep(250);
  produced = total(await offsets(StatusChangedV1.topic)) - base;
  const at = Date.now();
  if (produced > 0 && first === undefined) first = at;
  samples.push({ at, produced });
  if (produced >= expected) {
    last = at;
    break;
  }
}
let metrics = '';
try {
  metrics = await (await fetch(`http://127.0.0.1:${HTTP_PORT}/metrics`)).text();
} catch {
  // service gone: report what the topic showed
}
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await admin.disconnect();
await database.drop();

const outcomes = metrics
  .split('\n')
  .filter((l) => l.startsWith('dlr_receipts_total{'))
  .map((l) => l.replace(/^dlr_receipts_total\{outcome="([^"]+)"[^}]*\} /, '$1='))
  .join(' ');
if (!last) {
  console.log(JSON.stringify({ messages: N, completed: false, statusEvents: produced, expected, outcomes }));
  process.exit(1);
}
const seconds = (last - first) / 1000;
// Steady state: the best 5 s window of status events.
let peak = 0;
for (const s of samples) {
  const later = samples.find((x) => x.at >= s.at + 5000);
  if (later) peak = Math.max(peak, (later.produced - s.produced) / ((later.at - s.at) / 1000));
}
console.log(
  JSON.stringify({
    messages: N,
    phased: PHASED,
    seconds: Number(seconds.toFixed(2)),
    receiptsPerSecond: Math.round(N / seconds),
    statusEventsPerSecond: Math.round(expected / seconds),
    loadAverage: (await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' '),
    peak5sStatusEventsPerSecond: Math.round(peak),
    outcomes,
  }),
);
