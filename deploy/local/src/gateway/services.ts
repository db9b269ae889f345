import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKafka, silentLogger } from '@sms/kafka';
import { guardChild, terminate, unguardChild } from '../process-guard.js';

/** Repository root, from deploy/local/dist/gateway/services.js. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export const serviceNames = ['ingest', 'router', 'carrier-dispatch', 'dlr-processor', 'notifier'] as const;
export type ServiceName = (typeof serviceNames)[number];

export interface GatewayPorts {
  ingest: number;
  router: number;
  'carrier-dispatch': number;
  'dlr-processor': number;
  notifier: number;
  smpp: number;
  simulatorHttp: number;
}

export const defaultPorts: GatewayPorts = {
  ingest: 8080,
  router: 8082,
  'carrier-dispatch': 8083,
  'dlr-processor': 8084,
  notifier: 8085,
  smpp: 2775,
  simulatorHttp: 2776,
};

export interface StartGatewayOptions {
  kafkaBrokers: string;
  databaseUrl: string;
  ports: GatewayPorts;
  logDir: string;
  /** Written for router and carrier-dispatch (the simulator carrier on `ports.smpp`). */
  gatewayConfigFile: string;
  demo: { tenantId: string; apiKey: string; webhookSecret: string };
  mode?: 'local' | 'test' | 'production';
  groupPrefix?: string;
  receiptDelayMs?: number;
  /** Extra env for every service (e.g. OTEL_* for the trace test). */
  env?: Record<string, string>;
  log?: (line: string) => void;
  /** Start only these services (default all five). */
  only?: ServiceName[];
  /**
   * Commit the new consumer groups at the current end of their topics before the services start, so a
   * test stack on a shared broker does not replay earlier runs' events. (Services themselves start a new
   * group from the beginning, which is right in production: nothing published before the first deploy
   * of a consumer is skipped.)
   */
  startAtTopicEnd?: boolean;
}

/** Which topics each consumer group reads (mirrors the services' main.ts). */
/** Every service consumer group (without the prefix) and its topics: test stacks and the load harness use it. */
export const consumerGroups: Readonly<Record<string, readonly string[]>> = {
  ingest: ['sms.public.send-requested.v1', 'sms.public.status-changed.v1'],
  'router.otp': ['sms.internal.accepted.otp.v1'],
  'router.transactional': ['sms.internal.accepted.transactional.v1'],
  'router.promotional': ['sms.internal.accepted.promotional.v1'],
  'router.dispatch-failed.otp': ['sms.internal.dispatch-failed.otp.v1'],
  'router.dispatch-failed.transactional': ['sms.internal.dispatch-failed.transactional.v1'],
  'router.dispatch-failed.promotional': ['sms.internal.dispatch-failed.promotional.v1'],
  router: ['sms.internal.mo-received.v1'],
  'carrier-dispatch.otp': ['sms.internal.dispatch.otp.v1'],
  'carrier-dispatch.transactional': ['sms.internal.dispatch.transactional.v1'],
  'carrier-dispatch.promotional': ['sms.internal.dispatch.promotional.v1'],
  'dlr-processor': ['sms.internal.submitted.v1', 'sms.internal.dlr-received.v1'],
  notifier: ['sms.public.status-changed.v1', 'sms.internal.api-key-changed.v1'],
  // Bodies for tenants that opted in to bodies in webhooks (its own group, so it never delays webhooks).
  'notifier-bodies': ['sms.internal.accepted.otp.v1', 'sms.internal.accepted.transactional.v1', 'sms.internal.accepted.promotional.v1'],
};

async function commitGroupsAtTopicEnd(brokers: string, prefix: string): Promise<void> {
  const admin = createKafka({ brokers: brokers.split(','), clientId: 'gateway-cli', logger: silentLogger }).admin();
  await admin.connect();
  try {
    const topics = [...new Set(Object.values(consumerGroups).flat())];
    const ends = new Map(await Promise.all(topics.map(async (t) => [t, await admin.fetchTopicOffsets(t)] as const)));
    // Groups in parallel (each setOffsets joins and leaves the group: seconds apiece when all are
    // sequential), but one topic at a time within a group, since two joins of one group would fight.
    await Promise.all(
      Object.entries(consumerGroups).map(async ([group, groupTopics]) => {
        for (const topic of groupTopics) {
          await admin.setOffsets({
            groupId: `${prefix}.${group}`,
            topic,
            partitions: ends.get(topic)!.map((e) => ({ partition: e.partition, offset: e.high })),
          });
        }
      }),
    );
  } finally {
    await admin.disconnect();
  }
}

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

export interface RunningGateway {
  processes: RunningProcess[];
  url: string;
  simulatorUrl: string;
  stop(): Promise<void>;
  /** Stops one service (e.g. to prove nothing is lost across a restart) and starts it again. */
  restart(name: ServiceName): Promise<void>;
  /**
   * Starts one more replica of a running service (same configuration and consumer groups, its own HTTP port),
   * e.g. to scale out mid-load; stopped with the gateway unless stopped before.
   */
  startReplica(name: ServiceName, httpPort: number): Promise<RunningProcess>;
}

export function writeGatewayConfig(path: string, smppPort: number): void {
  const template = readFileSync(join(repoRoot, 'deploy/local/config/gateway.local.yaml'), 'utf8');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, template.replace(/port: 2775/, `port: ${smppPort}`));
}

function spawnLogged(name: string, args: string[], env: Record<string, string>, logDir: string): RunningProcess {
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  guardChild(child.pid!, 'SIGTERM');
  return {
    name,
    child,
    logFile,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) await terminate(child.pid!, 'SIGTERM', 15000);
      unguardChild(child.pid!);
    },
  };
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitReady(proc: RunningProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited with code ${proc.child.exitCode} while starting. Last log lines (${proc.logFile}):\n${tail(proc.logFile)}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${proc.name} not ready after ${timeoutMs / 1000} s (${url}). Last log lines (${proc.logFile}):\n${tail(proc.logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Starts the SMPP simulator and the five services against the given Kafka and PostgreSQL; waits until ready. */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { ports } = options;
  writeGatewayConfig(options.gatewayConfigFile, ports.smpp);
  if (options.startAtTopicEnd) await commitGroupsAtTopicEnd(options.kafkaBrokers, options.groupPrefix ?? 'sms');
  const processes: RunningProcess[] = [];
  const stopAll = async () => {
    for (const p of [...processes].reverse()) await p.stop().catch(() => undefined);
  };
  try {
    const simulator = spawnLogged(
      'smsc-simulator',
      [
        'test/smsc-simulator/dist/cli.js',
        '--port', String(ports.smpp),
        '--http-port', String(ports.simulatorHttp),
        '--system-id', 'gateway',
        '--password', 'secret',
        '--receipt-delay-ms', String(options.receiptDelayMs ?? 200),
      ],
      {},
      options.logDir,
    );
    processes.push(simulator);
    await waitReady(simulator, `http://127.0.0.1:${ports.simulatorHttp}/health`, 20000);
    log(`  smsc-simulator   smpp://127.0.0.1:${ports.smpp}  (control http://127.0.0.1:${ports.simulatorHttp})`);

    const common: Record<string, string> = {
      KAFKA_BROKERS: options.kafkaBrokers,
      DATABASE_URL: options.databaseUrl,
      GATEWAY_MODE: options.mode ?? 'local',
      KAFKA_GROUP_PREFIX: options.groupPrefix ?? 'sms',
      GATEWAY_CONFIG_FILE: options.gatewayConfigFile,
      HTTP_HOST: '127.0.0.1',
      ...(process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_TRACES_EXPORTER ? {} : { OTEL_TRACES_EXPORTER: 'none' }),
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      ...options.env,
    };
    const perService: Record<ServiceName, Record<string, string>> = {
      ingest: { DEMO_TENANT_ID: options.demo.tenantId, DEMO_API_KEY: options.demo.apiKey },
      router: {},
      'carrier-dispatch': {},
      'dlr-processor': {},
      notifier: { DEMO_TENANT_ID: options.demo.tenantId, DEMO_WEBHOOK_SECRET: options.demo.webhookSecret },
    };
    const names = options.only ?? [...serviceNames];
    const startOne = (name: ServiceName, httpPort = ports[name], logName: string = name) =>
      spawnLogged(logName, [`services/${name}/dist/main.js`], { ...common, ...perService[name], HTTP_PORT: String(httpPort) }, options.logDir);
    // Started together: each waits for its own dependencies (PostgreSQL, Kafka), so order does not matter.
    const started = names.map((name) => startOne(name));
    processes.push(...started);
    await Promise.all(
      started.map(async (proc) => {
        await waitReady(proc, `http://127.0.0.1:${ports[proc.name as ServiceName]}/health/ready`, 90000);
        log(`  ${proc.name.padEnd(16)} http://127.0.0.1:${ports[proc.name as ServiceName]}  ready`);
      }),
    );
    return {
      processes,
      url: `http://127.0.0.1:${ports.ingest}`,
      simulatorUrl: `http://127.0.0.1:${ports.simulatorHttp}`,
      stop: stopAll,
      restart: async (name: ServiceName) => {
        const index = processes.findIndex((p) => p.name === name);
        if (index < 0) throw new Error(`${name} is not running`);
        await processes[index]!.stop();
        const proc = startOne(name);
        processes[index] = proc;
        await waitReady(proc, `http://127.0.0.1:${ports[name]}/health/ready`, 90000);
      },
      startReplica: async (name: ServiceName, httpPort: number) => {
        const proc = startOne(name, httpPort, `${name}-${httpPort}`);
        processes.push(proc);
        await waitReady(proc, `http://127.0.0.1:${httpPort}/health/ready`, 90000);
        return proc;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
