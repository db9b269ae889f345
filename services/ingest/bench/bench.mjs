#!/usr/bin/env node
// Benchmark of ingest's write path on the real stack: starts `services/ingest/dist/main.js` as a child
// process on a fresh database and the given Kafka, then drives it with autocannon.
//
//   set -a; . /tmp/devstack.env; set +a      # KAFKA_BROKERS, DATABASE_URL (any server; a fresh db is made)
//   flock /tmp/bench.lock node services/ingest/bench/bench.mjs [--duration 20] [--connections 64]
//         [--batch-connections 2] [--only single|batch] [--profile]
//
// Reports per scenario: requests/s, latency percentiles, non-2xx, and how long the outbox relay needed to
// publish everything that was accepted (accepting faster than Kafka receives would only move the backlog).
// --profile runs ingest with --cpu-prof and prints where its CPU time went (self time by package).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { createKafka, silentLogger } from '@sms/kafka';
import { createTestDatabase, ensureTestTopics } from '@sms/testing';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    'batch-connections': { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '10000' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const duration = Number(opts.duration);
const warmup = Number(opts.warmup);

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const brokers = process.env.KAFKA_BROKERS;
if (!brokers || !process.env.DATABASE_URL) throw new Error('set KAFKA_BROKERS and DATABASE_URL (e.g. . /tmp/devstack.env)');
const kafka = createKafka({ brokers: brokers.split(','), clientId: 'ingest-bench', logger: silentLogger });
await ensureTestTopics(kafka);
const database = await createTestDatabase('ingest_bench');
const groupPrefix = `bench-${randomBytes(3).toString('hex')}`;
// Start ingest's consumer group at the topics' end so it does not replay the shared broker's history.
const admin = kafka.admin();
await admin.connect();
for (const topic of ['sms.public.send-requested.v1', 'sms.public.status-changed.v1']) {
  // On a broker that has just created the topics, the first ListOffsets can still answer "not the
  // leader" (KRaft metadata catching up); kafkajs's admin does not retry it.
  let ends;
  for (let attempt = 1; !ends; attempt++) {
    try {
      ends = await admin.fetchTopicOffsets(topic);
    } catch (error) {
      if (!error.retriable || attempt === 20) throw error;
      await sleep(500);
    }
  }
  await admin.setOffsets({ groupId: `${groupPrefix}.ingest`, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
}
await admin.disconnect();

const port = await freePort();
const apiKey = `sk_live_${randomBytes(24).toString('base64url')}`;
const profileDir = opts.profile ? mkdtempSync(join(tmpdir(), 'ingest-prof-')) : undefined;
const child = spawn(process.execPath, [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), 'services/ingest/dist/main.js'], {
  env: {
    ...process.env,
    DATABASE_URL: database.url,
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    KAFKA_GROUP_PREFIX: groupPrefix,
    LOG_LEVEL: 'warn',
    DEMO_TENANT_ID: 'bench',
    DEMO_API_KEY: apiKey,
    RATE_LIMIT_PER_SECOND: '0',
    OTEL_TRACES_EXPORTER: process.env.OTEL_TRACES_EXPORTER ?? 'none',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${base}/health/ready`)).ok) break;
  } catch {
    // not listening yet
  }
  if (i > 300) throw new Error('ingest did not become ready');
  await sleep(100);
}

const db = new pg.Client({ connectionString: database.url });
await db.connect();
const count = async (table) => Number((await db.query(`SELECT count(*) AS n FROM ingest.${table}`)).rows[0].n);
async function waitOutboxEmpty() {
  const start = Date.now();
  while ((await count('outbox')) > 0) {
    if (Date.now() - start > 120_000) return null;
    await sleep(100);
  }
  return (Date.now() - start) / 1000;
}

const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
const run = (options) =>
  // autocannon takes the path from the URL (a `path` option is ignored).
  new Promise((resolve, reject) =>
    autocannon({ url: `${base}${options.path}`, headers, ...options }, (error, result) => (error ? reject(error) : resolve(result))),
  );

// One request by hand first: a benchmark of error responses measures nothing.
const probe = await fetch(`${base}/v1/messages`, { method: 'POST', headers, body: JSON.stringify({ to: '+447911123456', from: 'ACME', body: 'probe' }) });
if (probe.status !== 202) throw new Error(`sanity request answered ${probe.status}: ${await probe.text()}`);

const results = {};
const single = JSON.stringify({ to: '+447911123456', from: 'ACME', body: 'Your code is 123456', trafficClass: 'otp' });
if (!opts.only || opts.only === 'single') {
  await run({ method: 'POST', path: '/v1/messages', body: single, connections: Number(opts.connections), duration: warmup });
  await waitOutboxEmpty();
  const before = await count('messages');
  const r = await run({ method: 'POST', path: '/v1/messages', body: single, connections: Number(opts.connections), duration });
  const accepted = (await count('messages')) - before;
  const drainAfterEnd = await waitOutboxEmpty();
  results.single = {
    connections: Number(opts.connections),
    durationSeconds: duration,
    requestsPerSecond: r.requests.average,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    accepted,
    outboxDrainAfterEndSeconds: drainAfterEnd,
  };
  console.log('single', JSON.stringify(results.single));
}

if (!opts.only || opts.only === 'batch') {
  const size = Number(opts['batch-size']);
  const recipients = Array.from({ length: size }, (_, i) => `+4479110${String(i % 100000).padStart(5, '0')}`);
  const body = JSON.stringify({ from: 'ACME', body: 'Weekend sale: 20% off everything', trafficClass: 'promotional', recipients });
  await run({ method: 'POST', path: '/v1/messages/batch', body, connections: Number(opts['batch-connections']), duration: warmup });
  await waitOutboxEmpty();
  const before = await count('messages');
  const r = await run({ method: 'POST', path: '/v1/messages/batch', body, connections: Number(opts['batch-connections']), duration, timeout: 60 });
  const accepted = (await count('messages')) - before;
  const drainAfterEnd = await waitOutboxEmpty();
  results.batch = {
    recipientsPerRequest: size,
    connections: Number(opts['batch-connections']),
    durationSeconds: duration,
    requestsPerSecond: r.requests.average,
    recipientsPerSecond: accepted / duration,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    non2xx: r.non2xx,
    errors: r.errors,
    accepted,
    outboxDrainAfterEndSeconds: drainAfterEnd,
    recipientsPerSecondIncludingPublish: drainAfterEnd === null ? null : accepted / (duration + drainAfterEnd),
  };
  console.log('batch', JSON.stringify(results.batch));
}

await db.end();
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
await database.drop();

if (profileDir) {
  // Self time by package (or by our own file), from the V8 CPU profile ingest wrote on exit.
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8'));
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const url = node.callFrame.url || `(${node.callFrame.functionName || 'native'})`;
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url) ?? /\/(libs|services)\/([^/]+)\//.exec(url);
    const key = m ? (m[2] ? `${m[1]}/${m[2]}` : m[1]) : url.startsWith('node:') ? 'node core' : url;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`\nCPU self time by package (${(total / 1e6).toFixed(1)} s sampled, profile in ${profileDir}):`);
  for (const [key, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
}
console.log(JSON.stringify(results));
process.exit(0);
