#!/usr/bin/env node
// notifier throughput: signed webhooks delivered per second to local receivers.
//
//   KAFKA_BROKERS=... DATABASE_URL=... flock /tmp/bench.lock node services/notifier/bench/webhooks-throughput.mjs [events] [endpoints]
//
// Pre-fills sms.public.status-changed.v1 with N `delivered` events whose callbackUrl points at one of E
// HTTP receivers on 127.0.0.1 (in this process, answering 204 at once), then starts the built service
// (dist/main.js) as a child process on a fresh database, its group committed at the offsets before the
// pre-fill, and counts requests at the receivers. The rate is N / time from the first request to the last.
// It also reports the CPU time the notifier (from /proc) and this process (the receivers) spent in that
// window, per webhook and as a share of one core: on a shared 2-core machine the rate moves with everyone
// else's load, the CPU per webhook much less; and a receiver share near 1 would mean the receivers are the bound.
// Use a broker nobody else uses (see services/dlr-processor/bench/receipts-throughput.mjs).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { AcceptedOtpV1, AcceptedPromotionalV1, AcceptedTransactionalV1, ApiKeyChangedV1, StatusChangedV1 } from '@sms/contracts';
import { connectedPublisher, createTestDatabase, ensureTestTopics, testKafka, uniqueSuffix } from '@sms/testing';

const N = Number(process.argv[2] ?? 50_000);
const ENDPOINTS = Number(process.argv[3] ?? 8);
const CHUNK = 2000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let received = 0;
let first = 0;
let last = 0;
const seen = new Set();
let duplicates = 0;
const servers = [];
for (let i = 0; i < ENDPOINTS; i++) {
  const server = http.createServer((req, res) => {
    const id = req.headers['webhook-id'];
    req.resume();
    req.on('end', () => {
      if (seen.has(id)) duplicates++;
      else seen.add(id);
      received++;
      const now = Date.now();
      if (!first) first = now;
      last = now;
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
}
const urls = servers.map((s) => `http://127.0.0.1:${s.address().port}/hook`);

const kafka = testKafka('notifier-bench');
await ensureTestTopics(kafka);
const admin = kafka.admin();
await admin.connect();
const prefix = `notifier-bench-${uniqueSuffix()}`;
// Every group the notifier runs starts at the ends of its topics. The bodies group reads the accepted
// lanes: on a broker where the ingest bench ran, a fresh group there would first read its 270,000 events,
// which halved this bench's rate (0.55 ms of notifier CPU a webhook instead of 0.12) when run after it.
const groups = [
  [`${prefix}.notifier`, [StatusChangedV1, ApiKeyChangedV1]],
  [`${prefix}.notifier-bodies`, [AcceptedOtpV1, AcceptedTransactionalV1, AcceptedPromotionalV1]],
];
for (const [groupId, contracts] of groups) {
  for (const { topic } of contracts) {
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({ groupId, topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
  }
}
await admin.disconnect();

const publisher = await connectedPublisher(kafka);
const t0 = Date.now();
for (let i = 0; i < N; i += CHUNK) {
  await publisher.publish(
    StatusChangedV1,
    Array.from({ length: Math.min(CHUNK, N - i) }, (_, j) => ({
      tenantId: `bench-tenant-${(i + j) % 16}`,
      messageId: randomUUID(),
      payload: {
        status: 'delivered',
        reason: { code: 'delivered', carrierCode: 'stat:DELIVRD err:000' },
        sequence: 3,
        parts: { total: 1, delivered: 1, failed: 0 },
        carrierId: 'bench',
        changedAt: new Date().toISOString(),
        reference: `order-${i + j}`,
        callbackUrl: urls[(i + j) % urls.length],
      },
    })),
  );
}
await publisher.disconnect();
console.error(`pre-filled ${N} status events in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const database = await createTestDatabase('notifier_bench');
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const env = {
  WEBHOOK_CONCURRENCY: '256',
  WEBHOOK_ENDPOINT_CONCURRENCY: '64',
  WEBHOOK_CLAIM_BATCH: '500',
  ...process.env,
  DATABASE_URL: database.url,
  KAFKA_GROUP_PREFIX: prefix,
  HTTP_PORT: '0',
  LOG_LEVEL: 'warn',
  GATEWAY_MODE: 'test',
  OTEL_TRACES_EXPORTER: 'none',
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_LOGS_EXPORTER: 'none',
};
const child = spawn(process.execPath, [...nodeArgs, fileURLToPath(new URL('../dist/main.js', import.meta.url))], { env, stdio: ['ignore', 'inherit', 'inherit'] });

// utime + stime of a process, in ms (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 10 ms).
const cpuMsOf = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
const selfCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const deadline = Date.now() + Number(process.env.BENCH_TIMEOUT_MS ?? 300_000);
let cpuAtFirst;
while (received < N && Date.now() < deadline) {
  await sleep(cpuAtFirst ? 200 : 10);
  if (!cpuAtFirst && first) cpuAtFirst = { at: Date.now(), notifier: cpuMsOf(child.pid), receivers: selfCpuMs() };
}
const cpuAtEnd = { at: Date.now(), notifier: cpuMsOf(child.pid), receivers: selfCpuMs() };
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
for (const s of servers) s.closeAllConnections();
await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
// Attempts beyond the first say why a webhook was sent more than once (or is still missing).
const pgClient = new pg.Client({ connectionString: database.url });
await pgClient.connect();
const attempts = (
  await pgClient.query(
    `SELECT status, attempts, left(coalesce(last_error, ''), 60) AS last_error, count(*)::int AS n
     FROM notifier.webhook_deliveries GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT 10`,
  )
).rows;
await pgClient.end();
await database.drop();

const seconds = (last - first) / 1000;
console.log(
  JSON.stringify({
    events: N,
    endpoints: ENDPOINTS,
    concurrency: env.WEBHOOK_CONCURRENCY,
    endpointConcurrency: env.WEBHOOK_ENDPOINT_CONCURRENCY,
    completed: seen.size >= N,
    delivered: seen.size,
    duplicates,
    seconds: Number(seconds.toFixed(2)),
    webhooksPerSecond: Math.round(seen.size / seconds),
    // From the first request seen to the last: the consumption of the first batch falls before it, so a slight underestimate.
    cpu: cpuAtFirst && {
      notifierMsPerWebhook: Number(((cpuAtEnd.notifier - cpuAtFirst.notifier) / received).toFixed(3)),
      notifierCores: Number(((cpuAtEnd.notifier - cpuAtFirst.notifier) / (cpuAtEnd.at - cpuAtFirst.at)).toFixed(2)),
      receiversMsPerWebhook: Number(((cpuAtEnd.receivers - cpuAtFirst.receivers) / received).toFixed(3)),
      receiversCores: Number(((cpuAtEnd.receivers - cpuAtFirst.receivers) / (cpuAtEnd.at - cpuAtFirst.at)).toFixed(2)),
    },
    attempts,
  }),
);
process.exit(seen.size >= N ? 0 : 1);
