// `npm start` and `npm test` land here (through scripts/gateway.mjs, which installs and builds first).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createKafka, ensureTopics, silentLogger } from '@sms/kafka';
import { startKafka, type KafkaBroker } from '../kafka.js';
import { startPostgres, type PostgresServer } from '../postgres.js';
import { freePort } from '../net.js';
import { defaultPorts, repoRoot, startGateway, type RunningGateway } from './services.js';
import { testRunnerArgs, type TestTier } from './test-tiers.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const step = (line: string) => process.stdout.write(`[gateway] ${line}\n`);

interface Infra {
  kafkaBrokers: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

/** Kafka and PostgreSQL: the ones named by KAFKA_BROKERS / DATABASE_URL, else local ones we start. */
async function startInfra(dataDir: string, ports: { kafka: number; controller: number; postgres: number }): Promise<Infra> {
  let kafka: KafkaBroker | undefined;
  let postgres: PostgresServer | undefined;
  const stop = async () => {
    await kafka?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
  };
  try {
    const log = (line: string) => step(line);
    const [pg, broker] = await Promise.all([
      process.env.DATABASE_URL ? undefined : startPostgres({ dataDir: join(dataDir, 'postgres'), port: ports.postgres, log }),
      process.env.KAFKA_BROKERS
        ? undefined
        : startKafka({ dataDir: join(dataDir, 'kafka'), port: ports.kafka, controllerPort: ports.controller, log }),
    ]);
    postgres = pg;
    kafka = broker;
    const kafkaBrokers = process.env.KAFKA_BROKERS ?? kafka!.brokers;
    const databaseUrl = process.env.DATABASE_URL ?? postgres!.url;
    step('creating topics with the partition counts the contracts declare');
    await ensureTopics(createKafka({ brokers: kafkaBrokers.split(','), clientId: 'gateway-cli', logger: silentLogger }));
    return { kafkaBrokers, databaseUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function loadOrCreateLocalSecrets(file: string): { apiKey: string; webhookSecret: string } {
  const existing: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m) existing[m[1]!] = m[2]!;
    }
  }
  return {
    apiKey: existing.DEMO_API_KEY ?? `sk_test_${randomBytes(24).toString('base64url')}`,
    webhookSecret: existing.DEMO_WEBHOOK_SECRET ?? `whsec_${randomBytes(24).toString('base64')}`,
  };
}

async function start(): Promise<void> {
  // Overridable so a test (or a second checkout) can run `start` beside a developer's own gateway.
  const stateDir = process.env.GATEWAY_STATE_DIR ?? join(repoRoot, '.gateway');
  const base = process.env.GATEWAY_BASE_PORT ? Number(process.env.GATEWAY_BASE_PORT) : undefined;
  const ports = base
    ? { ingest: base, router: base + 2, 'carrier-dispatch': base + 3, 'dlr-processor': base + 4, notifier: base + 5, smpp: base + 6, simulatorHttp: base + 7 }
    : defaultPorts;
  mkdirSync(stateDir, { recursive: true });
  const secrets = loadOrCreateLocalSecrets(join(stateDir, 'local.env'));
  let infra: Infra | undefined;
  let gateway: RunningGateway | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    step('stopping services, simulator, Kafka and PostgreSQL...');
    await gateway?.stop();
    await infra?.stop();
    step('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    infra = await startInfra(join(stateDir, 'data'), { kafka: 9092, controller: 9093, postgres: 5432 });
    step('starting the SMPP simulator and the five services');
    gateway = await startGateway({
      kafkaBrokers: infra.kafkaBrokers,
      databaseUrl: infra.databaseUrl,
      ports,
      groupPrefix: process.env.KAFKA_GROUP_PREFIX,
      startAtTopicEnd: process.env.GATEWAY_START_AT_TOPIC_END === 'true',
      logDir: join(stateDir, 'logs'),
      gatewayConfigFile: join(stateDir, 'gateway.yaml'),
      demo: { tenantId: 'demo', apiKey: secrets.apiKey, webhookSecret: secrets.webhookSecret },
      mode: 'local',
      log: step,
    });
  } catch (error) {
    process.stderr.write(`\n[gateway] start failed: ${(error as Error).message}\n`);
    await shutdown(1);
    return;
  }
  writeFileSync(
    join(stateDir, 'local.env'),
    `GATEWAY_URL=${gateway.url}\nDEMO_API_KEY=${secrets.apiKey}\nDEMO_WEBHOOK_SECRET=${secrets.webhookSecret}\n` +
      `KAFKA_BROKERS=${infra.kafkaBrokers}\nDATABASE_URL=${infra.databaseUrl}\nSIMULATOR_URL=${gateway.simulatorUrl}\n`,
  );
  say(`
SMS gateway is up.
  API          ${gateway.url}   (docs: README "Sending a message")
  API key      ${secrets.apiKey}
  Webhook key  ${secrets.webhookSecret}
  Written to   .gateway/local.env   (logs in .gateway/logs/)

Try it:
  curl -s -X POST ${gateway.url}/v1/messages \\
    -H "Authorization: Bearer ${secrets.apiKey}" -H 'Content-Type: application/json' \\
    -d '{"to":"+447911000001","from":"ACME","body":"Your code is 123456"}'

Ctrl-C stops everything.`);
  // Stay in the foreground; if a service dies, say so and stop the rest.
  for (const proc of gateway.processes) {
    proc.child.once('exit', (code) => {
      if (stopping) return;
      process.stderr.write(`[gateway] ${proc.name} exited (code ${code}); see ${relative(repoRoot, proc.logFile)}\n`);
      void shutdown(1);
    });
  }
}

/** Finds compiled test files of a tier under every package's dist/. */
function findTests(suffix: string): string[] {
  const roots = ['libs', 'services', 'test', 'deploy'].flatMap((top) =>
    readdirSync(join(repoRoot, top)).map((pkg) => join(repoRoot, top, pkg, 'dist')),
  );
  const found: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith(suffix)) found.push(path);
    }
  };
  roots.forEach(walk);
  return found.sort();
}

interface TierResult {
  passed: number;
  failed: number;
  skipped: number;
}

async function runTier(name: TestTier, files: string[], env: Record<string, string>): Promise<TierResult> {
  if (files.length === 0) return { passed: 0, failed: 0, skipped: 0 };
  step(`${name}: ${files.length} file(s)`);
  const tapFile = join(repoRoot, '.gateway', `test-${name}.tap`);
  const args = testRunnerArgs(
    name,
    files.map((f) => relative(repoRoot, f)),
    tapFile,
  );
  const code = await new Promise<number>((resolveExit) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (c) => resolveExit(c ?? 1));
  });
  const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
  const count = (key: string) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  const result = { passed: count('pass'), failed: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo') };
  if (code !== 0 && result.failed === 0) result.failed = 1; // the runner itself failed (e.g. a file crashed on load)
  step(`${name}: ${result.passed} passed, ${result.failed} failed`);
  return result;
}

async function test(tiers: string[]): Promise<void> {
  mkdirSync(join(repoRoot, '.gateway'), { recursive: true });
  const total: TierResult = { passed: 0, failed: 0, skipped: 0 };
  const add = (r: TierResult) => {
    total.passed += r.passed;
    total.failed += r.failed;
    total.skipped += r.skipped;
  };
  const want = (tier: string) => tiers.length === 0 || tiers.includes(tier);
  const dataDir = join(repoRoot, '.gateway', `test-data-${process.pid}`);
  let infra: Promise<Infra> | undefined;
  const cleanup = async () => {
    const started = await infra?.catch(() => undefined);
    await started?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    if (want('integration') || want('e2e')) {
      // Kafka and PostgreSQL start while the unit tests run (fresh data, free ports: never the `npm start` stack).
      step('starting Kafka and PostgreSQL for the integration and e2e tiers (in the background)');
      infra = (async () =>
        startInfra(dataDir, { kafka: await freePort(), controller: await freePort(), postgres: await freePort() }))();
      infra.catch(() => undefined);
    }
    if (want('unit')) add(await runTier('unit', findTests('.spec.js').filter((f) => !f.endsWith('.int-spec.js') && !f.endsWith('.e2e-spec.js')), {}));
    if (infra) {
      const ready = await infra;
      const env = { KAFKA_BROKERS: ready.kafkaBrokers, DATABASE_URL: ready.databaseUrl };
      if (want('integration')) add(await runTier('integration', findTests('.int-spec.js'), env));
      if (want('e2e')) add(await runTier('e2e', findTests('.e2e-spec.js'), env));
    }
  } catch (error) {
    process.stderr.write(`[gateway] test run failed: ${(error as Error).message}\n`);
    total.failed += 1;
  } finally {
    await cleanup();
  }
  say(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  process.exit(total.failed > 0 || total.passed === 0 ? 1 : 0);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'start') await start();
else if (command === 'test') await test(rest);
else {
  process.stderr.write('usage: gateway-cli start | test [unit|integration|e2e ...]\n');
  process.exit(2);
}
