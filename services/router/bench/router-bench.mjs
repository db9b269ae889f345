#!/usr/bin/env node
// Router throughput: pre-fill the accepted topics, start one router process, and time how fast the lane
// topics fill. Runs on a private Kafka and PostgreSQL (fresh ports, throw-away data) so it never routes
// anyone else's traffic. Usage (always under the bench lock, the box is shared):
//   flock /tmp/bench.lock node services/router/bench/router-bench.mjs [--messages 200000] [--cpu-prof]
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { acceptedTopicByLane, DispatchOtpV1, DispatchPromotionalV1, DispatchTransactionalV1, newMessageId, topicSpecs } from '@sms/contracts';
import { createKafka, ensureTopics, silentLogger } from '@sms/kafka';
import { freePort, startKafka, startPostgres } from '@sms/local-stack';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    'cpu-prof': { type: 'boolean', default: false },
    'max-batch': { type: 'string' },
    'timeout-s': { type: 'string', default: '300' },
    /** ROUTER_WORKERS for the router process (unset: the router's default). */
    workers: { type: 'string' },
    /**
     * Messages routed before the measured run, by a router that is then stopped: the broker and
     * PostgreSQL started for the bench are cold (the broker's JIT compilers took 13-15 of its 33 us a
     * message in the measured window otherwise), as no production broker is. 0 = measure cold.
     */
    'warm-up': { type: 'string', default: '0' },
    /** Print PostgreSQL's statements by total time in the measured run (pg_stat_statements). */
    'pg-statements': { type: 'boolean', default: false },
  },
});
const total = Number(values.messages);

/** pg_stat_statements on the bench's database: reset before the measured run, top statements after it. */
async function pgStatementsOf(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  return {
    reset: () => client.query('SELECT pg_stat_statements_reset()'),
    async top(messages) {
      const { rows } = await client.query(
        `SELECT calls, rows, round(total_exec_time::numeric, 1) AS total_ms, round(total_plan_time::numeric, 1) AS plan_ms,
                left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query
         FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 8`,
      );
      await client.end();
      return rows.map((r) => ({ ...r, usPerMessage: Math.round((Number(r.total_ms) * 1000) / messages) }));
    },
  };
}
const log = (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
const dir = mkdtempSync(join(tmpdir(), 'router-bench-'));
let kafkaServer;
let pgServer;
let router;
try {
  [pgServer, kafkaServer] = await Promise.all([
    startPostgres({
      dataDir: join(dir, 'pg'),
      port: await freePort(),
      log,
      ...(values['pg-statements'] ? { settings: { shared_preload_libraries: 'pg_stat_statements' } } : {}),
    }),
    startKafka({ dataDir: join(dir, 'kafka'), port: await freePort(), controllerPort: await freePort(), log }),
  ]);
  const kafka = createKafka({ brokers: [kafkaServer.brokers], clientId: 'router-bench', logger: silentLogger });
  await ensureTopics(kafka);
  log(`topics: ${topicSpecs().length}`);

  // Pre-fill: valid envelopes, serialised once per message, sent in large batches. A third of the
  // traffic per lane; numbers spread over GB, FR, US so country and prefix rules both work.
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const lanes = ['otp', 'transactional', 'promotional'];
  const numbers = ['+4479110', '+3361234', '+1212555'];
  const prefill = async (count) => {
  const fillStart = Date.now();
  const chunk = 5000;
  for (let sent = 0; sent < count; sent += chunk) {
    const messages = { otp: [], transactional: [], promotional: [] };
    for (let i = sent; i < Math.min(count, sent + chunk); i++) {
      // As ingest makes them (time-ordered), so routed_messages' index sees what it sees in production.
      const messageId = newMessageId();
      const now = new Date().toISOString();
      const envelope = {
        eventId: randomUUID(),
        type: acceptedTopicByLane.otp.type,
        version: acceptedTopicByLane.otp.version,
        occurredAt: now,
        tenantId: i % 10 === 0 ? 'acme' : 'bench',
        messageId,
        payload: {
          to: `${numbers[i % 3]}${String(i % 10000).padStart(4, '0')}`,
          from: 'BENCH',
          body: 'Your code is 123456',
          trafficClass: lanes[i % 3],
          encoding: 'GSM-7',
          segments: 1,
          validUntil: new Date(Date.now() + 86_400_000).toISOString(),
          acceptedAt: now,
          sandbox: false,
        },
      };
      messages[lanes[i % 3]].push({ key: messageId, value: JSON.stringify(envelope) });
    }
    // Each lane has its own accepted topic (and router consumer group).
    await producer.sendBatch({
      topicMessages: lanes.map((lane) => ({ topic: acceptedTopicByLane[lane].topic, messages: messages[lane] })),
      acks: -1,
    });
  }
  log(`pre-filled ${count} accepted events in ${((Date.now() - fillStart) / 1000).toFixed(1)} s`);
  };

  const config = join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    `carriers:
  - { id: simulator, protocol: smpp, simulator: true, smpp: { host: 127.0.0.1, port: 2775, systemId: gw, password: pw } }
  - { id: cheap, protocol: smpp, smpp: { host: 127.0.0.1, port: 2775, systemId: gw, password: pw } }
  - { id: premium, protocol: smpp, smpp: { host: 127.0.0.1, port: 2775, systemId: gw, password: pw } }
routes:
  - { id: default, carriers: [simulator, cheap] }
  - { id: uk-mobile, match: { prefixes: ['+447'] }, carriers: [premium, simulator] }
  - { id: uk-otp, match: { prefixes: ['+447'], trafficClasses: [otp] }, carriers: [premium] }
  - { id: us, match: { countries: [US, CA] }, carriers: [{ id: cheap, weight: 80 }, { id: premium, weight: 20 }] }
  - { id: fr-promo, match: { countries: [FR], trafficClasses: [promotional] }, carriers: [{ id: cheap, cost: 0.01 }, { id: premium, cost: 0.03 }] }
  - { id: acme, match: { tenants: [acme], trafficClasses: [transactional] }, carriers: [premium, cheap] }
`,
  );
  const execArgv = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(process.cwd(), '.gateway', 'router-bench-prof')}`] : [];
  const env = {
    ...process.env,
    KAFKA_BROKERS: kafkaServer.brokers,
    DATABASE_URL: pgServer.url,
    HTTP_PORT: String(await freePort()),
    GATEWAY_CONFIG_FILE: config,
    KAFKA_GROUP_PREFIX: 'bench',
    LOG_LEVEL: 'warn',
    OTEL_SDK_DISABLED: 'true',
    ...(values.workers !== undefined ? { ROUTER_WORKERS: values.workers } : {}),
  };
  const laneTopics = [DispatchOtpV1.topic, DispatchTransactionalV1.topic, DispatchPromotionalV1.topic];
  const admin = kafka.admin();
  await admin.connect();
  const laneCount = async () => {
    let sum = 0;
    for (const topic of laneTopics) for (const p of await admin.fetchTopicOffsets(topic)) sum += Number(p.high);
    return sum;
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const warmUp = Number(values['warm-up']);
  let routedBefore = 0;
  if (warmUp > 0) {
    await prefill(warmUp);
    const warmStart = Date.now();
    router = spawn(process.execPath, ['services/router/dist/main.js'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    while ((routedBefore = await laneCount()) < warmUp && Date.now() < warmStart + Number(values['timeout-s']) * 1000) await sleep(500);
    const exited = new Promise((r) => router.once('exit', r));
    router.kill('SIGTERM');
    await exited;
    log(`warm-up: ${routedBefore} of ${warmUp} routed in ${((Date.now() - warmStart) / 1000).toFixed(1)} s; router stopped`);
    if (routedBefore < warmUp) throw new Error('the warm-up round did not finish: see the router log above');
  }
  await prefill(total);
  await producer.disconnect();
  const pgStatements = values['pg-statements'] ? await pgStatementsOf(pgServer.url) : undefined;
  await pgStatements?.reset();
  const started = Date.now();
  router = spawn(process.execPath, [...execArgv, 'services/router/dist/main.js'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const samples = [];
  // The router's user+system CPU seconds so far (Linux /proc; fields 14 and 15 of stat, in clock ticks of 1/100 s).
  const routerCpu = () => {
    try {
      const fields = readFileSync(`/proc/${router.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return null;
    }
  };
  // CPU seconds of a process and every live descendant (PostgreSQL's backends are children of the
  // postmaster; a live child's time is not in its parent's stat until it exits).
  const treeCpu = (root, byRole) => {
    const procs = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
        procs.push({ pid: Number(entry), ppid: Number(fields[1]), cpuS: (Number(fields[11]) + Number(fields[12])) / 100, entry });
      } catch {
        // exited while listing
      }
    }
    const inTree = new Set([root]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const p of procs) if (!inTree.has(p.pid) && inTree.has(p.ppid)) (inTree.add(p.pid), (grew = true));
    }
    const tree = procs.filter((p) => inTree.has(p.pid));
    if (byRole) {
      // PostgreSQL names its processes by role ("postgres: walwriter", "postgres: autovacuum worker", a
      // backend "postgres: <user> <db> <client> <state>"): which of them the CPU went to.
      for (const p of tree) {
        let title = '';
        try {
          title = readFileSync(`/proc/${p.entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
        } catch {
          // exited
        }
        const role = p.pid === root ? 'postmaster' : /^postgres: (\S+ \S+ \d+\.)/.test(title) ? 'client backends' : title.replace(/^postgres: /, '').replace(/ \S+$/, '') || 'other';
        byRole[role] = (byRole[role] ?? 0) + p.cpuS;
      }
    }
    return tree.reduce((sum, p) => sum + p.cpuS, 0);
  };
  // The broker's CPU by thread kind (JIT compilers, GC, request handlers, network threads...): a JVM
  // started for the bench is still compiling its hot paths while the router runs.
  const jvmThreads = (pid) => {
    const kinds = {};
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      return kinds;
    }
    for (const tid of tasks) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const kind = comm.replace(/[-#]?\d+$/, '').replace(/-\d+$/, '').replace(/ Thre?a?d?$/, '').trim() || 'other';
        kinds[kind] = (kinds[kind] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        // thread ended
      }
    }
    return kinds;
  };
  const deadline = started + Number(values['timeout-s']) * 1000;
  let count = 0;
  while (count < total && Date.now() < deadline) {
    await sleep(250);
    count = (await laneCount()) - routedBefore;
    const pgRoles = {};
    samples.push({ t: Date.now(), count, cpuS: routerCpu(), brokerS: treeCpu(kafkaServer.pid), pgS: treeCpu(pgServer.pid, pgRoles), pgRoles, brokerThreads: jvmThreads(kafkaServer.pid) });
  }
  const first = samples.find((s) => s.count > 0);
  const at = (fraction) => samples.find((s) => s.count >= total * fraction);
  const s10 = at(0.1);
  const s90 = at(0.9);
  const last = samples.at(-1);
  // Peak resident memory of the router process (all its threads), from /proc.
  const peakRssMb = (() => {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${router.pid}/status`, 'utf8'))?.[1];
      return kb ? Math.round(Number(kb) / 1024) : null;
    } catch {
      return null;
    }
  })();
  const cpu = await new Promise((resolve) => {
    const ps = spawn('ps', ['-o', 'times=', '-p', String(router.pid)]);
    let out = '';
    ps.stdout.on('data', (d) => (out += d));
    ps.on('close', () => resolve(Number(out.trim())));
  });
  const result = {
    messages: total,
    warmUpMessages: warmUp,
    routed: last.count,
    startToFirstRoutedS: first ? (first.t - started) / 1000 : null,
    firstToLastS: first ? (last.t - first.t) / 1000 : null,
    overallMsgPerS: first ? Math.round(last.count / ((last.t - first.t) / 1000)) : 0,
    steady10to90MsgPerS: s10 && s90 && s90.t > s10.t ? Math.round((s90.count - s10.count) / ((s90.t - s10.t) / 1000)) : null,
    routerCpuSeconds: cpu,
    routerPeakRssMb: peakRssMb,
    // CPU per message between the 10 % and 90 % marks: start-up (module loading, connecting) left out.
    steadyCpuUsPerMsg:
      s10 && s90 && s90.count > s10.count && s10.cpuS !== null && s90.cpuS !== null
        ? Math.round(((s90.cpuS - s10.cpuS) * 1e6) / (s90.count - s10.count))
        : null,
  };
  // The same window's CPU of the broker and of PostgreSQL: what the router's threads compete with on this box.
  if (s10 && s90 && s90.t > s10.t) {
    const wallS = (s90.t - s10.t) / 1000;
    const perMsg = (key) => Math.round(((s90[key] - s10[key]) * 1e6) / (s90.count - s10.count));
    const cores = (key) => Number(((s90[key] - s10[key]) / wallS).toFixed(2));
    result.steadyCores = { router: cores('cpuS'), broker: cores('brokerS'), postgres: cores('pgS') };
    result.steadyCpuUsPerMsgBroker = perMsg('brokerS');
    result.steadyCpuUsPerMsgPostgres = perMsg('pgS');
    const perMsgOf = (end, start) =>
      Object.fromEntries(
        Object.entries(end)
          .map(([k, cpuS]) => [k, Math.round(((cpuS - (start[k] ?? 0)) * 1e6) / (s90.count - s10.count))])
          .filter(([, us]) => us > 0)
          .sort((a, b) => b[1] - a[1]),
      );
    result.steadyCpuUsPerMsgBrokerByThread = perMsgOf(s90.brokerThreads, s10.brokerThreads);
    // Per PostgreSQL role (a process that started or ended inside the window counts from zero).
    result.steadyCpuUsPerMsgPostgresByRole = Object.fromEntries(
      Object.entries(s90.pgRoles).map(([role, cpuS]) => [role, Math.round(((cpuS - (s10.pgRoles[role] ?? 0)) * 1e6) / (s90.count - s10.count))]),
    );
  }
  if (pgStatements) result.postgresStatements = await pgStatements.top(s90 && s10 ? s90.count : last.count);
  console.log(JSON.stringify(result, null, 2));
  await admin.disconnect();
} finally {
  if (router && router.exitCode === null) {
    const exited = new Promise((r) => router.once('exit', r));
    router.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15000))]);
  }
  await kafkaServer?.stop().catch(() => undefined);
  await pgServer?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
