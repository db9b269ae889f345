#!/usr/bin/env node
// The no-Docker local stack: `node deploy/local/dist/cli.js up [--data-dir .gateway/data]`.
// Prints KAFKA_BROKERS=... and DATABASE_URL=... on stdout (progress goes to stderr), stays in the
// foreground, and stops both servers on Ctrl-C / SIGTERM / SIGHUP.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startKafka, type KafkaBroker } from './kafka.js';
import { assertPortFree } from './net.js';
import { startPostgres, type PostgresServer } from './postgres.js';
import { isAlive } from './process-guard.js';

const USAGE = `usage: node deploy/local/dist/cli.js up [options]

  --data-dir <dir>           where Kafka and PostgreSQL keep their data (default .gateway/data)
  --kafka-port <port>        Kafka client port (default 9092)
  --kafka-controller-port <port>  KRaft controller port (default 9093)
  --postgres-port <port>     PostgreSQL port (default 5432)

Kafka jars are cached in $SMS_GATEWAY_CACHE or ~/.cache/sms-gateway (fetched with Maven on first run).`;

const say = (line: string): void => void process.stderr.write(`[local-stack] ${line}\n`);

function port(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${flag}: not a port: ${value}`);
  return n;
}

async function up(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string', default: '.gateway/data' },
      'kafka-port': { type: 'string' },
      'kafka-controller-port': { type: 'string' },
      'postgres-port': { type: 'string' },
    },
  });
  const dataDir = path.resolve(values['data-dir']);
  const ports = {
    kafka: port(values['kafka-port'], 9092, '--kafka-port'),
    controller: port(values['kafka-controller-port'], 9093, '--kafka-controller-port'),
    postgres: port(values['postgres-port'], 5432, '--postgres-port'),
  };
  const t0 = Date.now();
  // All at once up front, so a busy port fails in milliseconds rather than after Kafka has started.
  await assertPortFree(ports.kafka, 'Kafka');
  await assertPortFree(ports.controller, 'Kafka controller');
  await assertPortFree(ports.postgres, 'PostgreSQL');

  let kafka: KafkaBroker | undefined;
  let postgres: PostgresServer | undefined;
  let stopping: Promise<void> | undefined;
  // Idempotent: signals, a crashed server and startup failure all end up here.
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      say('stopping...');
      await Promise.allSettled([kafka?.stop(), postgres?.stop()]);
      say('stopped');
    })());

  let signals = 0;
  let starting = true;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      // Second Ctrl-C: the 'exit' listener of process-guard still signals both servers.
      say(`${signal} again, exiting without waiting`);
      process.exit(130);
    }
    say(`${signal} received`);
    // During startup the handles do not exist yet; stop right after startup settles instead.
    if (starting) say('stopping once startup settles (again to exit now)');
    else void stopAll().then(() => process.exit(0));
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);

  const [k, p] = await Promise.allSettled([
    startKafka({
      dataDir: path.join(dataDir, 'kafka'),
      port: ports.kafka,
      controllerPort: ports.controller,
      log: (l) => say(`kafka: ${l}`),
    }),
    startPostgres({
      dataDir: path.join(dataDir, 'postgres'),
      port: ports.postgres,
      log: (l) => say(`postgres: ${l}`),
    }),
  ]);
  starting = false;
  if (k.status === 'fulfilled') kafka = k.value;
  if (p.status === 'fulfilled') postgres = p.value;
  if (k.status === 'rejected' || p.status === 'rejected') {
    for (const r of [k, p])
      if (r.status === 'rejected') say(`ERROR ${(r.reason as Error).message ?? String(r.reason)}`);
    await stopAll();
    return 1;
  }
  if (!kafka || !postgres || signals > 0) {
    await stopAll(); // a signal arrived during startup
    return 0;
  }

  process.stdout.write(`KAFKA_BROKERS=${kafka.brokers}\nDATABASE_URL=${postgres.url}\n`);
  say(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s; data in ${dataDir}; Ctrl-C to stop`);

  // A server that dies on its own (crash, OOM, killed by hand) takes the stack down with a pointer to its log.
  const running = { kafka, postgres };
  const crashed = await new Promise<string>((resolve) => {
    const timer = setInterval(() => {
      if (stopping) return clearInterval(timer);
      for (const [name, server] of Object.entries(running)) {
        if (!isAlive(server.pid)) {
          clearInterval(timer);
          resolve(`${name} (pid ${server.pid}) exited unexpectedly; see ${server.logFile}`);
        }
      }
    }, 2000);
  });
  say(`ERROR ${crashed}`);
  await stopAll();
  return 1;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'up') {
    process.exitCode = await up(rest);
    return;
  }
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = command === undefined || command === '--help' || command === '-h' ? 0 : 2;
}

main().catch((err: unknown) => {
  say(`ERROR ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
