import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type ITopicConfig } from 'kafkajs';
import { assertPortFree, canConnect, LOCALHOST, sleep } from './net.js';
import { guardChild, unguardChild } from './process-guard.js';

/**
 * Newest Apache Kafka release proven against kafkajs 2.2.4 by kafka.int-spec.ts.
 * Override with env SMS_GATEWAY_KAFKA_VERSION or the `version` option (e.g. to try another release).
 */
export const KAFKA_VERSION = '4.4.0';

export interface StartKafkaOptions {
  /** Holds server.properties, the log4j2 config and the KRaft log dirs. Reused across starts. */
  dataDir: string;
  /** Client (PLAINTEXT) port. Default 9092. */
  port?: number;
  /** KRaft controller port. Default 9093. */
  controllerPort?: number;
  /** Broker log (log4j2 + JVM stdout/stderr). Default `<dataDir>/broker.log`, truncated on each start. */
  logFile?: string;
  version?: string;
  /** Default 90 s: a cold JVM on a busy 2-core box can take a while. */
  readyTimeoutMs?: number;
  /** Progress lines (fetch, format, ready). Default: stderr. */
  log?: (line: string) => void;
}

export interface KafkaBroker {
  /** `host:port`, ready for `new Kafka({ brokers: [brokers] })` or env KAFKA_BROKERS. */
  brokers: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  configEntries?: { name: string; value: string }[];
}

const logToStderr = (line: string): void => void process.stderr.write(`${line}\n`);

/** `$SMS_GATEWAY_CACHE`, else `~/.cache/sms-gateway`. Holds the Kafka jars (about 45 MB per version). */
export function cacheDir(): string {
  return process.env['SMS_GATEWAY_CACHE'] || path.join(os.homedir(), '.cache', 'sms-gateway');
}

function kafkaVersion(requested?: string): string {
  return requested || process.env['SMS_GATEWAY_KAFKA_VERSION'] || KAFKA_VERSION;
}

const POM = fileURLToPath(new URL('../kafka/pom.xml', import.meta.url));

/**
 * Returns the directory holding the broker's jars, fetching them with Maven on first use.
 * A marker file is written only after a complete fetch, so an interrupted fetch is redone, not trusted.
 */
export async function ensureKafkaLibs(
  version = kafkaVersion(),
  log: (line: string) => void = logToStderr,
): Promise<string> {
  const home = path.join(cacheDir(), `kafka-${version}`);
  const libs = path.join(home, 'libs');
  const marker = path.join(home, '.complete');
  if (existsSync(marker)) return libs;

  log(`fetching Kafka ${version} jars from Maven Central (first run only)...`);
  const started = Date.now();
  // Fetch into a private dir then rename: two concurrent first runs cannot see half a set of jars.
  const staging = path.join(home, `libs.partial-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const args = [
    '-B', // batch mode: no colours, no interactive prompts
    '-Dstyle.color=never',
    '-f',
    POM,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${staging}`,
    '-DincludeScope=runtime',
    `-Dkafka.version=${version}`,
  ];
  try {
    await runMaven(args, log);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }

  if (!existsSync(path.join(staging, `kafka_2.13-${version}.jar`))) {
    throw new Error(
      `Maven finished but ${staging} has no kafka_2.13-${version}.jar; is ${version} a Kafka release?`,
    );
  }
  try {
    await rename(staging, libs);
  } catch (err) {
    // Another process won the race and its libs are complete (it renames before writing the marker).
    if (!['ENOTEMPTY', 'EEXIST'].includes(String((err as NodeJS.ErrnoException).code))) throw err;
    await rm(staging, { recursive: true, force: true });
  }
  await writeFile(marker, `${new Date().toISOString()}\n`);
  const jars = readdirSync(libs).filter((f) => f.endsWith('.jar'));
  const mb = jars.reduce((sum, f) => sum + statSync(path.join(libs, f)).size, 0) / 1e6;
  log(
    `fetched ${jars.length} jars (${mb.toFixed(0)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${libs}`,
  );
  return libs;
}

function runMaven(args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const mvn = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let downloaded = 0;
    let lastReport = Date.now();
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-20_000);
      downloaded += text.match(/Downloaded from /g)?.length ?? 0; // "[INFO] Downloaded from central: <url>"
      if (Date.now() - lastReport > 2000) {
        lastReport = Date.now();
        log(`  ... ${downloaded} files downloaded so far`);
      }
    };
    mvn.stdout.on('data', onData);
    mvn.stderr.on('data', onData);
    mvn.on('error', (err) =>
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error('`mvn` not found on PATH: install Maven (Debian: apt-get install maven) to fetch Kafka')
          : err,
      ),
    );
    mvn.on('close', (code) => {
      if (code === 0) resolve();
      else {
        const errors = output
          .split('\n')
          .filter((l) => l.startsWith('[ERROR]'))
          .slice(0, 5)
          .join('\n');
        reject(
          new Error(`mvn exited with ${code} while fetching Kafka jars:\n${errors || output.slice(-4000)}`),
        );
      }
    });
  });
}

function serverProperties(o: { port: number; controllerPort: number; logDirs: string }): string {
  return `# Written by @sms/local-stack on every start; edit kafka.ts instead.
# Single node in KRaft combined mode: this process is both the controller and the broker.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${LOCALHOST}:${o.controllerPort}
listeners=PLAINTEXT://${LOCALHOST}:${o.port},CONTROLLER://${LOCALHOST}:${o.controllerPort}
advertised.listeners=PLAINTEXT://${LOCALHOST}:${o.port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=${o.logDirs}

# Topics are created explicitly (createTopics), so a typo in a topic name fails instead of inventing a topic.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1

# One broker: internal topics cannot have more than one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Tests and local runs start consumers one by one; waiting 3 s for more members only slows them down.
group.initial.rebalance.delay.ms=0

# Small box (2 cores, shared with the services): fewer threads than the defaults (3 network, 8 io).
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
`;
}

function log4j2Properties(logFile: string): string {
  return `# Everything to one file; Kafka's own request/state-change loggers stay at their quiet defaults.
status = warn
# Kafka logs its own shutdown from a JVM shutdown hook; log4j's hook would close the file mid-way.
shutdownHook = disable
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${logFile}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
# Each internal client dumps ~270 lines of config at INFO; server.properties is beside this file anyway.
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
`;
}

/** Kafka cluster ids are 16 random bytes, URL-safe base64 without padding (what `kafka-storage random-uuid` prints). */
/**
 * A KRaft cluster id: 16 random bytes, base64url, as `kafka-storage random-uuid` prints. Kafka's own
 * Uuid.randomUuid() draws again when the text starts with '-', because the storage tool's argument parser
 * reads `--cluster-id -AbC...` as a missing value; one id in 64 did, and failed a CI run's broker format.
 */
export function randomClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

// Heap for a 2-core/24 GB box shared with five Node services; GC flags follow kafka-run-class.sh.
// C1 only (no C2): a broker started for development, tests or a benchmark spends its first minutes
// compiling with C2 on the same two cores the services need. Router bench (200,000 messages, fresh
// broker): the C2 threads took 13-19 us of the broker's 29-37 us a routed message, still 8 us after a
// 600,000-message warm-up; with C1 only the broker took 18 us in all (request threads 12 vs 9-13 us).
// A production broker (deploy/helm points at one) runs warm and is not started from here.
const JVM_OPTS = [
  '-XX:TieredStopAtLevel=1',
  '-Xms256m',
  '-Xmx512m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
];

function java(args: string[], logFd: number): ChildProcess {
  return spawn('java', args, { stdio: ['ignore', logFd, logFd] });
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function tail(file: string, lines = 30): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log written)';
  }
}

export async function startKafka(options: StartKafkaOptions): Promise<KafkaBroker> {
  const log = options.log ?? logToStderr;
  const port = options.port ?? 9092;
  const controllerPort = options.controllerPort ?? 9093;
  const dataDir = path.resolve(options.dataDir);
  const logFile = path.resolve(options.logFile ?? path.join(dataDir, 'broker.log'));
  const logDirs = path.join(dataDir, 'kraft-logs');
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const brokers = `${LOCALHOST}:${port}`;
  const version = kafkaVersion(options.version);

  await assertPortFree(port, 'Kafka');
  await assertPortFree(controllerPort, 'Kafka controller');
  const libs = await ensureKafkaLibs(version, log);
  const classpath = `${libs}/*`;

  await mkdir(dataDir, { recursive: true });
  await mkdir(path.dirname(logFile), { recursive: true });
  const propsFile = path.join(dataDir, 'server.properties');
  const log4jFile = path.join(dataDir, 'log4j2.properties');
  // Rewritten every start: ports may change between runs. The static voter list (not --standalone)
  // keeps the controller endpoint out of the formatted metadata, which is what allows that.
  await writeFile(propsFile, serverProperties({ port, controllerPort, logDirs }));
  await writeFile(log4jFile, log4j2Properties(logFile));
  await writeFile(logFile, ''); // one run per log file, so "see the log" points at this run
  const logFd = openSync(logFile, 'a'); // O_APPEND: JVM stderr and log4j interleave safely
  const log4jOpt = `-Dlog4j2.configurationFile=${log4jFile}`;

  try {
    if (!existsSync(path.join(logDirs, 'meta.properties'))) {
      const clusterId = randomClusterId();
      log(`formatting Kafka storage in ${logDirs} (cluster id ${clusterId})`);
      const format = java(
        [
          '-cp',
          classpath,
          log4jOpt,
          'kafka.tools.StorageTool',
          'format',
          '--config',
          propsFile,
          '--cluster-id',
          clusterId,
          '--ignore-formatted',
        ],
        logFd,
      );
      const code = await waitForExit(format);
      if (code !== 0) {
        throw new Error(
          `Kafka storage format failed (exit ${code}); see ${logFile}:\n${await tail(logFile)}`,
        );
      }
    }

    const startedAt = Date.now();
    const child = java([...JVM_OPTS, log4jOpt, '-cp', classpath, 'kafka.Kafka', propsFile], logFd);
    const spawnError = new Promise<never>((_, reject) =>
      child.once('error', (err) =>
        reject(
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? new Error('`java` (17+) not found on PATH')
            : err,
        ),
      ),
    );
    spawnError.catch(() => undefined); // only ever awaited through the race below
    if (child.pid === undefined) await spawnError;
    const pid = child.pid as number;
    guardChild(pid, 'SIGTERM');

    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM'); // controlled shutdown: flushes logs, so the next start needs no recovery
        let timer: NodeJS.Timeout | undefined;
        const exited = await Promise.race([
          waitForExit(child).then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 30_000))),
        ]);
        clearTimeout(timer);
        if (!exited) {
          child.kill('SIGKILL');
          await waitForExit(child);
        }
      }
      unguardChild(pid);
    };

    try {
      await Promise.race([waitUntilReady(brokers, port, child, readyTimeoutMs), spawnError]);
    } catch (err) {
      await stop();
      throw new Error(
        `Kafka did not become ready: ${(err as Error).message}. Broker log: ${logFile}\n${await tail(logFile)}`,
      );
    }
    log(
      `Kafka ${version} ready at ${brokers} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (pid ${pid}, log ${logFile})`,
    );
    return { brokers, pid, logFile, stop };
  } finally {
    closeSync(logFd); // the child has its own copy of the descriptor
  }
}

/**
 * TCP first (cheap), then a metadata round trip, since the port opens before the broker is usable.
 * Then warm the coordinators: the first FindCoordinator creates __consumer_offsets and the first
 * idempotent producer needs a producer-id block; until those are loaded, clients get
 * COORDINATOR_LOAD_IN_PROGRESS and kafkajs consumers log a "Crash" and restart. Ready means no such noise.
 */
async function waitUntilReady(
  brokers: string,
  port: number,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`the broker exited (code ${child.exitCode ?? child.signalCode})`);
    if (await canConnect(port)) {
      const admin = quietKafka(brokers).admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0) {
          await admin.describeGroups(['sms-local-stack-readiness']); // throws while the coordinator loads
          const producer = quietKafka(brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
          try {
            await producer.connect(); // InitProducerId
          } finally {
            await producer.disconnect().catch(() => undefined);
          }
          return;
        }
      } catch {
        // not ready yet
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s`);
}

function quietKafka(brokers: string): Kafka {
  return new Kafka({
    clientId: 'sms-local-stack',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 2, initialRetryTime: 200 },
  });
}

/**
 * Creates the topics that are missing and grows partitions of existing ones that have fewer than asked.
 * Existing topics keep their configs (changing cleanup.policy on a live topic is a decision, not a setup step).
 */
export async function createTopics(brokers: string, specs: TopicSpec[]): Promise<void> {
  const admin = quietKafka(brokers).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing: ITopicConfig[] = specs
      .filter((s) => !existing.has(s.topic))
      .map((s) => ({ topic: s.topic, numPartitions: s.numPartitions, configEntries: s.configEntries ?? [] }));
    if (missing.length > 0) {
      // Resolves false (no throw) for topics that someone created in between: fine, they exist.
      await admin.createTopics({ topics: missing, waitForLeaders: true });
    }

    const present = specs.filter((s) => existing.has(s.topic));
    if (present.length === 0) return;
    const { topics } = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
    const grow = present.flatMap((s) => {
      const have = topics.find((t) => t.name === s.topic)?.partitions.length ?? 0;
      return have < s.numPartitions ? [{ topic: s.topic, count: s.numPartitions }] : [];
    });
    if (grow.length > 0) {
      await admin.createPartitions({ topicPartitions: grow, validateOnly: false, timeout: 10_000 });
    }
  } finally {
    await admin.disconnect();
  }
}
