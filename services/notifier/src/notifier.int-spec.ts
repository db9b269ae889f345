import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import {
  acceptedContracts,
  AcceptedOtpV1,
  ApiKeyChangedV1,
  DEAD_LETTER_TOPIC,
  deadLetterHeaders,
  StatusChangedV1,
  type AcceptedPayload,
  type StatusChangedPayload,
} from '@sms/contracts';
import type { EventDraft, EventPublisher, Kafka } from '@sms/kafka';
import { contextFromTraceparent } from '@sms/telemetry';
import { connectedPublisher, createTestDatabase, ensureTestTopics, eventually, testKafka, TopicProbe, uniqueSuffix } from '@sms/testing';

/**
 * The notifier as a black box: the built service (dist/main.js) runs as a child process on a fresh
 * database and its own consumer group; the test publishes StatusChangedV1 events and watches real HTTP
 * receivers on 127.0.0.1.
 */

const TIMEOUT_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// --- receivers -----------------------------------------------------------------------------------------

interface Received {
  headers: Record<string, string>;
  body: string;
  url: string;
  at: number;
}

type Reply = { status: number; headers?: Record<string, string> } | 'hang';

class Receiver {
  readonly requests: Received[] = [];
  private readonly server: http.Server;
  private hanging = 0;
  private port = 0;

  constructor(private readonly reply: (n: number) => Reply) {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        this.requests.push({ headers, body, url: req.url ?? '', at: Date.now() });
        const answer = this.reply(this.requests.length);
        if (answer === 'hang') {
          this.hanging++;
          res.on('close', () => this.hanging--);
          return;
        }
        res.writeHead(answer.status, answer.headers).end('ok');
      });
    });
  }

  get inFlight(): number {
    return this.hanging;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async waitForRequests(count: number, timeoutMs = 15_000): Promise<Received[]> {
    await eventually(() => this.requests.length >= count || undefined, timeoutMs, `${count} request(s) at ${this.url()}`);
    return this.requests;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const always = (status: number) => () => ({ status });

// --- the service under test ------------------------------------------------------------------------------

interface RunningNotifier {
  groupId: string;
  databaseUrl: string;
  httpUrl: string;
  logs: string[];
  stop(): Promise<void>;
  /** SIGKILL: no shutdown hook runs, nothing more is written or committed. */
  kill(): Promise<void>;
}

interface StartOptions {
  /** Reuse a database (a restart after a crash) instead of a fresh one. */
  database?: { url: string; drop(): Promise<void> };
  /** Start the status topic where this group's committed offsets are (a restart), not at its end. */
  offsetsOf?: string;
}

async function startNotifier(
  kafka: Kafka,
  env: Record<string, string>,
  options: StartOptions = {},
): Promise<RunningNotifier & { dropDatabase(): Promise<void> }> {
  const database = options.database ?? (await createTestDatabase('notifier'));
  const prefix = `notifier-it-${uniqueSuffix()}`;
  const groupId = `${prefix}.notifier`;
  // Start at the end of the topic: a new group would otherwise replay every status event other suites
  // ever published, with callback URLs on ports that now belong to someone else.
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Concrete offsets: resetOffsets() commits the -1 "latest" marker, which a new group reads as "none".
    const atEnd = async (group: string, topic: string) => {
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({ groupId: group, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
    };
    if (options.offsetsOf) {
      const [committed] = await admin.fetchOffsets({ groupId: options.offsetsOf, topics: [StatusChangedV1.topic] });
      await admin.setOffsets({ groupId, topic: StatusChangedV1.topic, partitions: committed!.partitions.map((p) => ({ partition: p.partition, offset: p.offset })) });
    } else {
      await atEnd(groupId, StatusChangedV1.topic);
    }
    for (const contract of acceptedContracts) await atEnd(`${prefix}.notifier-bodies`, contract.topic);
  } finally {
    await admin.disconnect();
  }
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(new URL('./main.js', import.meta.url))], {
    env: {
      ...process.env,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      DATABASE_URL: database.url,
      KAFKA_GROUP_PREFIX: prefix,
      HTTP_PORT: '0',
      LOG_LEVEL: 'debug',
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_RETRY_SCALE: '0.002', // 5 s -> 10 ms, 5 min -> 600 ms
      WEBHOOK_POLL_INTERVAL_MS: '200',
      WEBHOOK_CONCURRENCY: '8',
      WEBHOOK_ENDPOINT_CONCURRENCY: '2',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  // Kept on disk too, so a failing run can be read afterwards.
  const logFile = createWriteStream(join(tmpdir(), `${prefix}.log`));
  let httpUrl: string | undefined;
  const collect = (chunk: Buffer) => {
    logFile.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      logs.push(line);
      if (line.includes('notifier started')) {
        const parsed = JSON.parse(line) as { url?: string };
        httpUrl = parsed.url;
      }
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  let stopped = false;
  void exited.then((code) => (exitCode = code));
  try {
    await eventually(
      () => {
        if (exitCode !== undefined) throw new Error(`notifier exited with ${exitCode}:\n${logs.join('\n')}`);
        return httpUrl;
      },
      30_000,
      'notifier to start',
    );
  } catch (error) {
    child.kill('SIGKILL');
    await database.drop();
    throw error;
  }
  return {
    groupId,
    databaseUrl: database.url,
    httpUrl: httpUrl!.replace('[::1]', '127.0.0.1'),
    logs,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      logFile.end();
    },
    kill: async () => {
      if (exitCode === undefined) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    dropDatabase: () => database.drop(),
  };
}

// --- helpers -----------------------------------------------------------------------------------------

interface DeliveryRow {
  webhook_id: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  dead_reason: string | null;
  trace_parent: string | null;
}

function statusDraft(
  tenantId: string,
  callbackUrl: string | undefined,
  overrides: Partial<StatusChangedPayload> = {},
  extra: Partial<EventDraft<StatusChangedPayload>> = {},
): EventDraft<StatusChangedPayload> & { eventId: string; messageId: string } {
  return {
    tenantId,
    messageId: randomUUID(),
    eventId: randomUUID(),
    payload: {
      status: 'delivered',
      reason: { code: 'delivered', carrierCode: 'DELIVRD' },
      sequence: 5,
      parts: { total: 1, delivered: 1, failed: 0 },
      carrierId: 'sim-1',
      trafficClass: 'otp',
      changedAt: new Date().toISOString(),
      reference: 'order-42',
      callbackUrl,
      ...overrides,
    },
    ...extra,
  };
}

// --- test mode -----------------------------------------------------------------------------------------

describe('notifier (GATEWAY_MODE=test)', { timeout: 180_000 }, () => {
  const tenantId = `tenant-${uniqueSuffix()}`;
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let kafka: Kafka;
  let publisher: EventPublisher;
  let notifier: Awaited<ReturnType<typeof startNotifier>>;
  let db: pg.Client;
  const receivers: Receiver[] = [];

  const receiver = async (reply: (n: number) => Reply) => {
    const r = await new Receiver(reply).start();
    receivers.push(r);
    return r;
  };
  const publish = async (...drafts: EventDraft<StatusChangedPayload>[]) => {
    await publisher.publish(StatusChangedV1, drafts);
  };
  const row = async (eventId: string): Promise<DeliveryRow | undefined> => {
    const rows = await db.query<DeliveryRow>(
      `SELECT webhook_id, status, attempts, last_status_code, last_error, dead_reason, trace_parent
       FROM notifier.webhook_deliveries WHERE webhook_id = $1`,
      [`msg_${eventId}`],
    );
    return rows.rows[0];
  };
  const rowWhen = (eventId: string, predicate: (r: DeliveryRow) => boolean, what: string) =>
    eventually(async () => {
      const r = await row(eventId);
      return r && predicate(r) ? r : undefined;
    }, 15_000, what);

  before(async () => {
    kafka = testKafka('notifier-it');
    await ensureTestTopics(kafka);
    publisher = await connectedPublisher(kafka);
    notifier = await startNotifier(kafka, { GATEWAY_MODE: 'test', DEMO_TENANT_ID: tenantId, DEMO_WEBHOOK_SECRET: secret });
    db = new pg.Client({ connectionString: notifier.databaseUrl });
    await db.connect();
  });

  after(async () => {
    await notifier?.stop();
    await db?.end();
    await publisher?.disconnect();
    for (const r of receivers) await r.close();
    await notifier?.dropDatabase();
  });

  it('delivers a final status once, signed with the tenant secret, continuing the trace', async () => {
    const target = await receiver(always(200));
    const traceId = randomBytes(16).toString('hex');
    const draft = statusDraft(tenantId, target.url('/hook?token=abc'), {}, {
      context: contextFromTraceparent(`00-${traceId}-${randomBytes(8).toString('hex')}-01`),
    });
    await publish(draft);
    const [request] = await target.waitForRequests(1);
    const delivered = await rowWhen(draft.eventId, (r) => r.status === 'delivered', 'delivered row');
    await sleep(500);
    assert.equal(target.requests.length, 1, 'exactly one request');

    assert.equal(request!.url, '/hook?token=abc');
    assert.equal(request!.headers['webhook-id'], `msg_${draft.eventId}`);
    assert.equal(request!.headers['content-type'], 'application/json');
    assert.equal(request!.headers['user-agent'], 'sms-gateway-notifier');
    assert.match(request!.headers['webhook-timestamp']!, /^\d{10}$/);
    const verified = new Webhook(secret).verify(request!.body, request!.headers) as { type: string; timestamp: string; data: Record<string, unknown> };
    assert.equal(verified.type, 'message.status_changed');
    assert.deepEqual(verified.data, {
      messageId: draft.messageId,
      status: 'delivered',
      reason: { code: 'delivered', message: null, carrierCode: 'DELIVRD' },
      sequence: 5,
      parts: { total: 1, delivered: 1, failed: 0 },
      carrierId: 'sim-1',
      reference: 'order-42',
      changedAt: draft.payload.changedAt,
    });
    assert.doesNotMatch(request!.body, /callback|token|\+\d{7,}/);
    // The webhook span belongs to the status event's trace.
    assert.match(request!.headers.traceparent ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
    assert.match(delivered.trace_parent ?? '', new RegExp(`^00-${traceId}-`));
    assert.equal(delivered.attempts, 1);
    assert.equal(delivered.last_status_code, 200);
  });

  it('does not webhook intermediate statuses or events without a callback URL', async () => {
    const target = await receiver(always(200));
    const submitted = statusDraft(tenantId, target.url(), { status: 'submitted' });
    const noUrl = statusDraft(tenantId, undefined);
    const marker = statusDraft(tenantId, target.url('/marker'));
    await publish(submitted, noUrl);
    await publish(marker);
    await target.waitForRequests(1);
    await sleep(300);
    assert.deepEqual(target.requests.map((r) => r.url), ['/marker']);
    assert.equal(await row(submitted.eventId), undefined);
    assert.equal(await row(noUrl.eventId), undefined);
  });

  it('retries a 500 and succeeds, with the same webhook-id on every attempt', async () => {
    const target = await receiver((n) => (n === 1 ? { status: 500 } : { status: 200 }));
    const draft = statusDraft(tenantId, target.url());
    await publish(draft);
    const requests = await target.waitForRequests(2);
    const delivered = await rowWhen(draft.eventId, (r) => r.status === 'delivered', 'delivered after retry');
    assert.equal(delivered.attempts, 2);
    assert.equal(requests[0]!.headers['webhook-id'], `msg_${draft.eventId}`);
    assert.equal(requests[1]!.headers['webhook-id'], requests[0]!.headers['webhook-id']);
    for (const r of requests) assert.doesNotThrow(() => new Webhook(secret).verify(r.body, r.headers));
    assert.equal(requests[1]!.body, requests[0]!.body, 'same body on retry');
  });

  it('times out a hanging endpoint and retries it', async () => {
    const target = await receiver((n) => (n === 1 ? 'hang' : { status: 204 }));
    const draft = statusDraft(tenantId, target.url());
    await publish(draft);
    const requests = await target.waitForRequests(2, 10_000);
    const gap = requests[1]!.at - requests[0]!.at;
    assert.ok(gap >= TIMEOUT_MS - 50, `second attempt only after the timeout (gap ${gap} ms)`);
    const delivered = await rowWhen(draft.eventId, (r) => r.status === 'delivered', 'delivered after timeout');
    assert.equal(delivered.attempts, 2);
    assert.equal(requests[1]!.headers['webhook-id'], requests[0]!.headers['webhook-id']);
  });

  it('does not follow a redirect and counts it as a failure', async () => {
    const elsewhere = await receiver(always(200));
    const target = await receiver(() => ({ status: 302, headers: { location: elsewhere.url('/stolen') } }));
    const draft = statusDraft(tenantId, target.url());
    await publish(draft);
    await target.waitForRequests(2);
    const pending = await rowWhen(draft.eventId, (r) => r.attempts >= 2 && r.last_status_code === 302, 'redirect recorded as failure');
    assert.equal(pending.status, 'pending');
    assert.equal(elsewhere.requests.length, 0);
  });

  it('stops retrying on 410 Gone', async () => {
    const target = await receiver(always(410));
    const draft = statusDraft(tenantId, target.url());
    await publish(draft);
    await target.waitForRequests(1);
    const gone = await rowWhen(draft.eventId, (r) => r.status === 'gone', 'gone row');
    await sleep(1000);
    assert.equal(target.requests.length, 1);
    assert.equal(gone.attempts, 1);
    assert.equal(gone.last_status_code, 410);
  });

  it('a slow endpoint does not delay a fast one', async () => {
    const slow = await receiver(() => 'hang');
    const fast = await receiver(always(200));
    // More slow deliveries than the dispatcher has slots (8): only the per-endpoint cap (2) keeps slots free.
    await publish(...Array.from({ length: 12 }, () => statusDraft(tenantId, slow.url())));
    await eventually(() => slow.inFlight >= 2 || undefined, 10_000, 'slow endpoint busy');
    const publishedAt = Date.now();
    await publish(statusDraft(tenantId, fast.url()));
    const [request] = await fast.waitForRequests(1, 10_000);
    const latency = request!.at - publishedAt;
    assert.ok(latency < TIMEOUT_MS, `fast webhook took ${latency} ms while the slow endpoint hung`);
    assert.ok(slow.inFlight <= 2, `slow endpoint had ${slow.inFlight} requests in flight`);
  });

  it('does not send a redelivered event twice', async () => {
    const target = await receiver(always(200));
    const draft = statusDraft(tenantId, target.url());
    await publish(draft, draft); // twice in one batch
    await target.waitForRequests(1);
    await rowWhen(draft.eventId, (r) => r.status === 'delivered', 'delivered');
    await publish(draft); // and again after delivery
    const marker = statusDraft(tenantId, target.url('/marker'));
    await publish(marker);
    await target.waitForRequests(2);
    await sleep(500);
    assert.deepEqual(target.requests.map((r) => r.url), ['/hook', '/marker']);
  });

  it('sends a malformed event to the dead-letter topic and keeps consuming', async () => {
    const probe = await new TopicProbe(kafka, DEAD_LETTER_TOPIC).start();
    try {
      const producer = kafka.producer();
      await producer.connect();
      const key = randomUUID();
      await producer.send({
        topic: StatusChangedV1.topic,
        messages: [
          { key, value: 'this is not json' },
          { key, value: JSON.stringify({ eventId: randomUUID(), type: 'sms.status-changed', version: 1, payload: { status: 'teleported' } }) },
        ],
      });
      await producer.disconnect();
      const isOurs = (r: { key: string | null; headers: Record<string, string> }) =>
        r.key === key && r.headers[deadLetterHeaders.consumerGroup] === notifier.groupId;
      const invalidJson = await probe.waitForRaw((r) => isOurs(r) && r.headers[deadLetterHeaders.reason] === 'invalid_json');
      assert.equal(invalidJson.value, 'this is not json');
      assert.equal(invalidJson.headers[deadLetterHeaders.originTopic], StatusChangedV1.topic);
      await probe.waitForRaw((r) => isOurs(r) && r.headers[deadLetterHeaders.reason] === 'schema_violation');

      const target = await receiver(always(200));
      const after = statusDraft(tenantId, target.url());
      await publish(after);
      await target.waitForRequests(1);
    } finally {
      await probe.stop();
    }
  });

  it('refuses the metadata address even in test mode, without a request', async () => {
    const draft = statusDraft(tenantId, 'http://169.254.169.254/latest/meta-data/');
    await publish(draft);
    const dead = await rowWhen(draft.eventId, (r) => r.status === 'dead', 'dead row');
    assert.equal(dead.dead_reason, 'ssrf_blocked');
    assert.equal(dead.last_status_code, null);
    assert.match(dead.last_error ?? '', /metadata/);
  });

  it('generates a secret for a tenant that has none and signs with it', async () => {
    const target = await receiver(always(200));
    const newTenant = `tenant-${uniqueSuffix()}`;
    await publish(statusDraft(newTenant, target.url()));
    const [request] = await target.waitForRequests(1);
    const secrets = await db.query<{ secret: string }>('SELECT secret FROM notifier.webhook_secrets WHERE tenant_id = $1', [newTenant]);
    assert.equal(secrets.rows.length, 1);
    assert.doesNotThrow(() => new Webhook(secrets.rows[0]!.secret).verify(request!.body, request!.headers));
    assert.throws(() => new Webhook(secret).verify(request!.body, request!.headers), 'not signed with another tenant secret');
  });

  it('exposes webhook metrics', async () => {
    const response = await fetch(`${notifier.httpUrl}/metrics`);
    const text = await response.text();
    assert.match(text, /webhook_attempts_total\{[^}]*outcome="2xx"[^}]*\} [1-9]/);
    assert.match(text, /webhook_attempts_total\{[^}]*outcome="gone"[^}]*\} [1-9]/);
    assert.match(text, /webhook_attempts_total\{[^}]*outcome="timeout"[^}]*\} [1-9]/);
    assert.match(text, /webhook_attempts_total\{[^}]*outcome="blocked"[^}]*\} [1-9]/);
    assert.match(text, /webhook_deliveries_dead_total\{[^}]*reason="ssrf_blocked"[^}]*\} [1-9]/);
    assert.match(text, /webhook_attempt_duration_seconds_bucket/);
    assert.match(text, /webhook_delivery_latency_seconds_count/);
  });

  it('logs no callback URL query strings', () => {
    assert.equal(notifier.logs.filter((l) => l.includes('token=abc')).length, 0);
  });
});

// --- production mode -------------------------------------------------------------------------------------

describe('notifier (GATEWAY_MODE=production): SSRF guard', { timeout: 120_000 }, () => {
  const tenantId = `tenant-${uniqueSuffix()}`;
  let kafka: Kafka;
  let publisher: EventPublisher;
  let notifier: Awaited<ReturnType<typeof startNotifier>>;
  let db: pg.Client;
  let target: Receiver;

  before(async () => {
    kafka = testKafka('notifier-it-prod');
    await ensureTestTopics(kafka);
    publisher = await connectedPublisher(kafka);
    notifier = await startNotifier(kafka, { GATEWAY_MODE: 'production' });
    db = new pg.Client({ connectionString: notifier.databaseUrl });
    await db.connect();
    target = await new Receiver(always(200)).start();
  });

  after(async () => {
    await notifier?.stop();
    await db?.end();
    await publisher?.disconnect();
    await target?.close();
    await notifier?.dropDatabase();
  });

  it('refuses http, loopback and private endpoint URLs at registration', async () => {
    const api = apiClient(notifier.httpUrl, await publishApiKey(publisher, tenantId));
    await keyUsable(api);
    const port = new URL(target.url()).port;
    for (const [url, reason] of [
      [target.url(), /https required/],
      [`https://127.0.0.1:${port}/hook`, /loopback/],
      [`https://localhost:${port}/hook`, /loopback/],
      ['https://10.1.2.3/hook', /private/],
      ['https://100.64.0.1/hook', /./],
      ['https://[fd00::1]/hook', /./],
      ['https://169.254.169.254/latest/meta-data/', /metadata/],
    ] as const) {
      const refused = await api.call('POST', '/v1/webhook-endpoints', { url });
      assert.equal(refused.status, 422, url);
      assert.match(String(refused.json.detail), reason, url);
    }
    assert.deepEqual((await api.call('GET', '/v1/webhook-endpoints')).json.data, []);
  });

  it('refuses http, loopback and private targets and never connects', async () => {
    const port = new URL(target.url()).port;
    const cases = [
      { url: target.url(), reason: /https required/ },
      { url: `https://127.0.0.1:${port}/hook`, reason: /loopback/ },
      { url: `https://localhost:${port}/hook`, reason: /loopback/ },
      { url: `https://[::ffff:127.0.0.1]:${port}/hook`, reason: /loopback/ },
      { url: 'https://10.0.0.1/hook', reason: /private/ },
      { url: 'https://169.254.169.254/latest/meta-data/', reason: /metadata/ },
    ];
    const drafts = cases.map((c) => statusDraft(tenantId, c.url));
    await publisher.publish(StatusChangedV1, drafts);
    for (const [i, draft] of drafts.entries()) {
      const dead = await eventually(async () => {
        const rows = await db.query<DeliveryRow>(
          'SELECT webhook_id, status, attempts, last_status_code, last_error, dead_reason, trace_parent FROM notifier.webhook_deliveries WHERE webhook_id = $1',
          [`msg_${draft.eventId}`],
        );
        const r = rows.rows[0];
        return r && r.status === 'dead' ? r : undefined;
      }, 15_000, `dead row for ${cases[i]!.url}`);
      assert.equal(dead.dead_reason, 'ssrf_blocked', cases[i]!.url);
      assert.match(dead.last_error ?? '', cases[i]!.reason, cases[i]!.url);
      assert.equal(dead.attempts, 1);
    }
    await sleep(300);
    assert.equal(target.requests.length, 0);
  });
});

// --- at-least-once across a crash on the direct path ------------------------------------------------------

describe('notifier: direct path, a crash after a POST and a hanging receiver in a batch (GATEWAY_MODE=test)', { timeout: 180_000 }, () => {
  const tenantId = `tenant-${uniqueSuffix()}`;
  let kafka: Kafka;
  let publisher: EventPublisher;
  const notifiers: Awaited<ReturnType<typeof startNotifier>>[] = [];
  const receivers: Receiver[] = [];
  let db: pg.Client | undefined;

  before(async () => {
    kafka = testKafka('notifier-it-crash');
    await ensureTestTopics(kafka);
    publisher = await connectedPublisher(kafka);
  });

  after(async () => {
    for (const n of notifiers) await n.stop();
    await db?.end();
    await publisher?.disconnect();
    for (const r of receivers) await r.close();
    // The restarted notifier shares the first one's database and drops nothing.
    for (const n of notifiers) await n.dropDatabase();
  });

  it('sends the webhook again with the same webhook-id: a duplicate, never a loss', async () => {
    // The batch holds one webhook whose receiver answers at once and one whose receiver hangs, so the
    // direct path is still waiting (and has written nothing, committed nothing) when the process dies.
    let hang = true;
    const answered = await new Receiver(always(200)).start();
    const slow = await new Receiver(() => (hang ? 'hang' : { status: 200 })).start();
    receivers.push(answered, slow);
    const env = { GATEWAY_MODE: 'test', WEBHOOK_DIRECT_WAIT_MS: '20000', WEBHOOK_TIMEOUT_MS: '30000' };
    const first = await startNotifier(kafka, env);
    notifiers.push(first);
    // One message id: one partition, one consumed batch.
    const messageId = randomUUID();
    const sent = statusDraft(tenantId, answered.url(), {}, { messageId });
    const held = statusDraft(tenantId, slow.url(), {}, { messageId });
    await publisher.publish(StatusChangedV1, [sent, held]);
    const [request] = await answered.waitForRequests(1);
    await slow.waitForRequests(1);
    await first.kill();

    db = new pg.Client({ connectionString: first.databaseUrl });
    await db.connect();
    const rowsOf = async (eventId: string) =>
      (await db!.query<{ status: string }>('SELECT status FROM notifier.webhook_deliveries WHERE webhook_id = $1', [`msg_${eventId}`])).rows;
    assert.deepEqual(await rowsOf(sent.eventId), [], 'the delivered webhook had not been recorded: the crash hit the window');

    hang = false;
    const second = await startNotifier(kafka, env, { database: { url: first.databaseUrl, drop: async () => undefined }, offsetsOf: first.groupId });
    notifiers.push(second);
    const again = await answered.waitForRequests(2, 30_000);
    assert.equal(again[1]!.headers['webhook-id'], request!.headers['webhook-id'], 'the same webhook-id, so the receiver can drop it');
    assert.equal(request!.headers['webhook-id'], `msg_${sent.eventId}`);
    for (const eventId of [sent.eventId, held.eventId]) {
      await eventually(async () => ((await rowsOf(eventId))[0]?.status === 'delivered' ? true : undefined), 15_000, `${eventId} delivered`);
    }
    await sleep(300);
    assert.equal(answered.requests.length, 2, 'sent twice in all, not more');
  });

  it('a hanging receiver holds its batch only for the direct wait, not for its timeout', async () => {
    // The previous test's notifiers would consume these events too (their own groups, same topic).
    for (const n of notifiers) await n.stop();
    const slow = await new Receiver(() => 'hang').start();
    const fast = await new Receiver(always(200)).start();
    receivers.push(slow, fast);
    // A long timeout: waiting for the hanging POST would hold the partition for 20 s.
    const notifier = await startNotifier(kafka, { GATEWAY_MODE: 'test', WEBHOOK_TIMEOUT_MS: '20000', WEBHOOK_DIRECT_WAIT_MS: '250' });
    notifiers.push(notifier);
    const client = new pg.Client({ connectionString: notifier.databaseUrl });
    await client.connect();
    try {
      // One message id: one partition; the hanging and the answered webhook in one batch, the next event behind them.
      const messageId = randomUUID();
      const stuck = statusDraft(tenantId, slow.url(), {}, { messageId });
      const quick = statusDraft(tenantId, fast.url(), {}, { messageId });
      await publisher.publish(StatusChangedV1, [stuck, quick]);
      await slow.waitForRequests(1);
      await publisher.publish(StatusChangedV1, [statusDraft(tenantId, fast.url('/next'), {}, { messageId })]);
      const requests = await fast.waitForRequests(2, 10_000);
      assert.deepEqual(requests.map((r) => r.url), ['/hook', '/next']);
      assert.equal(slow.inFlight, 1, 'the hanging POST is still running');
      const rows = await client.query<{ webhook_id: string; status: string; attempts: number }>(
        'SELECT webhook_id, status, attempts FROM notifier.webhook_deliveries WHERE webhook_id = ANY($1::text[])',
        [[`msg_${stuck.eventId}`, `msg_${quick.eventId}`]],
      );
      const byId = new Map(rows.rows.map((r) => [r.webhook_id, r]));
      assert.equal(byId.get(`msg_${quick.eventId}`)?.status, 'delivered');
      // Written as a leased attempt: the claim loop leaves it alone while its POST runs.
      assert.deepEqual([byId.get(`msg_${stuck.eventId}`)?.status, byId.get(`msg_${stuck.eventId}`)?.attempts], ['pending', 1]);
    } finally {
      await client.end();
    }
  });
});

// --- the webhook API (tenant endpoints, secrets, dead letters) ----------------------------------------------

/** Publishes a key's state as ingest does (ApiKeyChangedV1) and returns the key. */
async function publishApiKey(
  publisher: EventPublisher,
  tenantId: string,
  options: { key?: string; scopes?: string[]; revoked?: boolean } = {},
): Promise<string> {
  const key = options.key ?? `sk_test_${randomBytes(32).toString('base64url')}`;
  await publisher.publish(ApiKeyChangedV1, [
    {
      tenantId,
      payload: {
        keyHash: createHash('sha256').update(key, 'utf8').digest('hex'),
        keyPrefix: key.slice(0, 12),
        scopes: options.scopes ?? ['send', 'read'],
        sandbox: true,
        revokedAt: options.revoked ? new Date().toISOString() : undefined,
        changedAt: new Date().toISOString(),
      },
    },
  ]);
  return key;
}

interface ApiClient {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; type: string; json: Record<string, unknown> }>;
}

function apiClient(baseUrl: string, key: string | undefined): ApiClient {
  return {
    async call(method, path, body) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, type: response.headers.get('content-type') ?? '', json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
  };
}

/** Waits until the notifier has consumed the key (the API answers 200 with it). */
const keyUsable = (api: ApiClient) =>
  eventually(async () => ((await api.call('GET', '/v1/webhook-endpoints')).status === 200 ? true : undefined), 15_000, 'API key consumed');

describe('notifier webhook API (GATEWAY_MODE=test)', { timeout: 180_000 }, () => {
  const tenantId = `tenant-${uniqueSuffix()}`;
  const otherTenant = `tenant-${uniqueSuffix()}`;
  let kafka: Kafka;
  let publisher: EventPublisher;
  let notifier: Awaited<ReturnType<typeof startNotifier>>;
  let db: pg.Client;
  let api: ApiClient;
  let otherApi: ApiClient;
  const receivers: Receiver[] = [];
  const receiver = async (reply: (n: number) => Reply) => {
    const r = await new Receiver(reply).start();
    receivers.push(r);
    return r;
  };

  before(async () => {
    kafka = testKafka('notifier-it-api');
    await ensureTestTopics(kafka);
    publisher = await connectedPublisher(kafka);
    notifier = await startNotifier(kafka, {
      GATEWAY_MODE: 'test',
      // The whole 8-attempt schedule (about 27 h) in about a second, so a delivery can die in a test.
      WEBHOOK_RETRY_SCALE: '0.00001',
      WEBHOOK_BREAKER_COOLDOWN_MS: '100',
      WEBHOOK_SECRET_CACHE_MS: '50',
      WEBHOOK_SECRET_ROTATION_OVERLAP_S: '2',
      WEBHOOK_MAX_ENDPOINTS_PER_TENANT: '3',
    });
    db = new pg.Client({ connectionString: notifier.databaseUrl });
    await db.connect();
    api = apiClient(notifier.httpUrl, await publishApiKey(publisher, tenantId));
    otherApi = apiClient(notifier.httpUrl, await publishApiKey(publisher, otherTenant));
    await keyUsable(api);
    await keyUsable(otherApi);
  });

  after(async () => {
    await notifier?.stop();
    await db?.end();
    await publisher?.disconnect();
    for (const r of receivers) await r.close();
    await notifier?.dropDatabase();
  });

  it('refuses requests without a key, with an unknown key, and with a revoked key (problem+json)', async () => {
    const none = await apiClient(notifier.httpUrl, undefined).call('GET', '/v1/webhook-endpoints');
    assert.equal(none.status, 401);
    assert.match(none.type, /application\/problem\+json/);
    assert.equal((await apiClient(notifier.httpUrl, 'sk_test_unknown').call('GET', '/v1/webhook-endpoints')).status, 401);

    const revokedKey = await publishApiKey(publisher, tenantId);
    const revokedApi = apiClient(notifier.httpUrl, revokedKey);
    await keyUsable(revokedApi);
    await publishApiKey(publisher, tenantId, { key: revokedKey, revoked: true });
    await eventually(async () => ((await revokedApi.call('GET', '/v1/webhook-endpoints')).status === 401 ? true : undefined), 15_000, 'revocation applied');

    const readOnly = apiClient(notifier.httpUrl, await publishApiKey(publisher, tenantId, { scopes: ['read'] }));
    await keyUsable(readOnly);
    const forbidden = await readOnly.call('POST', '/v1/webhook-endpoints', { url: 'http://127.0.0.1:1/hook' });
    assert.equal(forbidden.status, 403);
  });

  it('validates the body and refuses SSRF targets at registration', async () => {
    const malformed = await api.call('POST', '/v1/webhook-endpoints', '{"url":');
    assert.equal(malformed.status, 400);
    assert.match(malformed.type, /application\/problem\+json/);
    assert.equal((await api.call('POST', '/v1/webhook-endpoints', { url: 42 })).status, 400);
    const metadata = await api.call('POST', '/v1/webhook-endpoints', { url: 'http://169.254.169.254/latest/meta-data/' });
    assert.equal(metadata.status, 422);
    assert.match(String(metadata.json.detail), /metadata/);
    assert.equal((await api.call('POST', '/v1/webhook-endpoints', { url: 'ftp://127.0.0.1/x' })).status, 422);
    assert.equal((await api.call('POST', '/v1/webhook-endpoints', { url: 'http://no-such-host.invalid/hook' })).status, 422);
    assert.deepEqual((await api.call('GET', '/v1/webhook-endpoints')).json.data, []);
  });

  it('sends each status event to the callback URL and every tenant endpoint, with one webhook-id', async () => {
    const callback = await receiver(always(200));
    const endpointA = await receiver(always(200));
    const endpointB = await receiver(always(204));
    const a = await api.call('POST', '/v1/webhook-endpoints', { url: endpointA.url('/a'), description: 'orders' });
    assert.equal(a.status, 201);
    assert.equal(a.json.url, endpointA.url('/a'));
    assert.equal(a.json.description, 'orders');
    const b = await api.call('POST', '/v1/webhook-endpoints', { url: endpointB.url('/b') });
    assert.equal(b.status, 201);
    const listed = (await api.call('GET', '/v1/webhook-endpoints')).json.data as { id: string }[];
    assert.deepEqual(listed.map((e) => e.id), [a.json.id, b.json.id]);
    // Another tenant sees none of them and cannot delete them.
    assert.deepEqual((await otherApi.call('GET', '/v1/webhook-endpoints')).json.data, []);
    assert.equal((await otherApi.call('DELETE', `/v1/webhook-endpoints/${String(a.json.id)}`)).status, 404);

    const secrets = (await api.call('GET', '/v1/webhook-secret')).json.secrets as { secret: string }[];
    assert.equal(secrets.length, 1);
    const draft = statusDraft(tenantId, callback.url());
    await publisher.publish(StatusChangedV1, [draft]);
    const [c] = await callback.waitForRequests(1);
    const [ra] = await endpointA.waitForRequests(1);
    const [rb] = await endpointB.waitForRequests(1);
    for (const r of [c!, ra!, rb!]) {
      assert.equal(r.headers['webhook-id'], `msg_${draft.eventId}`);
      assert.doesNotThrow(() => new Webhook(secrets[0]!.secret).verify(r.body, r.headers));
    }
    assert.equal(ra!.url, '/a');
    // An event of another tenant does not reach this tenant's endpoints; an event without callbackUrl still does.
    await publisher.publish(StatusChangedV1, [statusDraft(otherTenant, undefined), statusDraft(tenantId, undefined, { reference: 'no-callback' })]);
    const [, second] = await endpointA.waitForRequests(2);
    assert.match(second!.body, /no-callback/);
    await sleep(300);
    assert.equal(endpointA.requests.length, 2);

    // Deleted: no more webhooks to it; the other endpoint still gets them.
    assert.equal((await api.call('DELETE', `/v1/webhook-endpoints/${String(a.json.id)}`)).status, 204);
    assert.equal((await api.call('DELETE', `/v1/webhook-endpoints/${String(a.json.id)}`)).status, 404);
    await publisher.publish(StatusChangedV1, [statusDraft(tenantId, undefined)]);
    await endpointB.waitForRequests(3);
    await sleep(300);
    assert.equal(endpointA.requests.length, 2);
    assert.equal((await api.call('DELETE', `/v1/webhook-endpoints/${String(b.json.id)}`)).status, 204);
  });

  it('caps the endpoints per tenant', async () => {
    const target = await receiver(always(200));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await api.call('POST', '/v1/webhook-endpoints', { url: target.url(`/${i}`) });
      assert.equal(created.status, 201);
      ids.push(String(created.json.id));
    }
    assert.equal((await api.call('POST', '/v1/webhook-endpoints', { url: target.url('/4') })).status, 409);
    for (const id of ids) assert.equal((await api.call('DELETE', `/v1/webhook-endpoints/${id}`)).status, 204);
  });

  it('rotates the secret: both sign during the overlap, then only the new one', async () => {
    const target = await receiver(always(200));
    const [old] = (await api.call('GET', '/v1/webhook-secret')).json.secrets as { secret: string }[];
    const rotated = await api.call('POST', '/v1/webhook-secret/rotate');
    assert.equal(rotated.status, 201);
    const fresh = String(rotated.json.secret);
    assert.match(fresh, /^whsec_/);
    const during = (await api.call('GET', '/v1/webhook-secret')).json.secrets as { secret: string; expiresAt: string | null }[];
    assert.deepEqual(during.map((s) => s.secret), [old!.secret, fresh]);
    assert.ok(during[0]!.expiresAt && during[1]!.expiresAt === null);
    await sleep(100); // past the dispatcher's secret cache
    await publisher.publish(StatusChangedV1, [statusDraft(tenantId, target.url('/during'))]);
    const [first] = await target.waitForRequests(1);
    assert.equal(first!.headers['webhook-signature']!.split(' ').length, 2);
    assert.doesNotThrow(() => new Webhook(old!.secret).verify(first!.body, first!.headers));
    assert.doesNotThrow(() => new Webhook(fresh).verify(first!.body, first!.headers));

    await sleep(2200); // the 2 s overlap
    await publisher.publish(StatusChangedV1, [statusDraft(tenantId, target.url('/after'))]);
    const [, second] = await target.waitForRequests(2);
    assert.equal(second!.headers['webhook-signature']!.split(' ').length, 1);
    assert.doesNotThrow(() => new Webhook(fresh).verify(second!.body, second!.headers));
    assert.throws(() => new Webhook(old!.secret).verify(second!.body, second!.headers));
  });

  it('lists dead letters and replays them', async () => {
    let healthy = false;
    const target = await receiver(() => (healthy ? { status: 200 } : { status: 500 }));
    const draft = statusDraft(tenantId, target.url('/flaky'));
    await publisher.publish(StatusChangedV1, [draft]);
    const webhookId = `msg_${draft.eventId}`;
    const dead = await eventually(async () => {
      const list = (await api.call('GET', '/v1/webhook-dead-letters')).json.data as { webhookId: string; attempts: number; deadReason: string; lastStatusCode: number }[];
      return list.find((d) => d.webhookId === webhookId);
    }, 30_000, 'dead letter listed');
    assert.equal(dead.attempts, 8);
    assert.equal(dead.deadReason, 'attempts_exhausted');
    assert.equal(dead.lastStatusCode, 500);
    assert.equal(target.requests.length, 8);
    // Not visible to, nor replayable by, another tenant.
    assert.deepEqual((await otherApi.call('GET', '/v1/webhook-dead-letters')).json.data, []);
    assert.equal((await otherApi.call('POST', '/v1/webhook-dead-letters/replay', { webhookIds: [webhookId] })).json.replayed, 0);
    assert.equal((await api.call('GET', '/v1/webhook-dead-letters?limit=0')).status, 400);

    healthy = true;
    const replay = await api.call('POST', '/v1/webhook-dead-letters/replay', { webhookIds: [webhookId] });
    assert.equal(replay.status, 202);
    assert.equal(replay.json.replayed, 1);
    await target.waitForRequests(9);
    assert.equal(target.requests[8]!.headers['webhook-id'], webhookId);
    await eventually(async () => {
      const rows = await db.query<{ status: string }>('SELECT status FROM notifier.webhook_deliveries WHERE webhook_id = $1', [webhookId]);
      return rows.rows[0]?.status === 'delivered' ? true : undefined;
    }, 15_000, 'replayed delivery delivered');
    const after = (await api.call('GET', '/v1/webhook-dead-letters')).json.data as { webhookId: string }[];
    assert.equal(after.some((d) => d.webhookId === webhookId), false);
  });
});

// --- privacy: bodies only for tenants that opted in ---------------------------------------------------------

describe('notifier: message bodies in webhooks only for tenants that opted in (GATEWAY_MODE=test)', { timeout: 180_000 }, () => {
  const optedIn = `tenant-${uniqueSuffix()}`;
  const notOptedIn = `tenant-${uniqueSuffix()}`;
  // Recognisable strings that must never show up in a log line.
  const phone = '+4915112345678';
  const secretText = `Your login code is 845217 ${uniqueSuffix()}`;
  let kafka: Kafka;
  let publisher: EventPublisher;
  let notifier: Awaited<ReturnType<typeof startNotifier>>;
  let db: pg.Client;
  let api: ApiClient;
  let otherApi: ApiClient;
  let target: Receiver;

  const accepted = (tenantId: string, messageId: string, body: string): EventDraft<AcceptedPayload> => ({
    tenantId,
    messageId,
    payload: {
      to: phone,
      from: 'Acme',
      body,
      trafficClass: 'otp',
      encoding: 'GSM-7',
      segments: 1,
      validUntil: new Date(Date.now() + 3_600_000).toISOString(),
      acceptedAt: new Date().toISOString(),
      sandbox: true,
    },
  });
  const keptBodies = async (tenantId: string) =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifier.message_bodies WHERE tenant_id = $1', [tenantId])).rows[0]!.n;

  before(async () => {
    kafka = testKafka('notifier-it-bodies');
    await ensureTestTopics(kafka);
    publisher = await connectedPublisher(kafka);
    notifier = await startNotifier(kafka, { GATEWAY_MODE: 'test', WEBHOOK_BODY_WAIT_MS: '1500' });
    db = new pg.Client({ connectionString: notifier.databaseUrl });
    await db.connect();
    api = apiClient(notifier.httpUrl, await publishApiKey(publisher, optedIn));
    otherApi = apiClient(notifier.httpUrl, await publishApiKey(publisher, notOptedIn));
    await keyUsable(api);
    await keyUsable(otherApi);
    target = await new Receiver(always(200)).start();
  });

  after(async () => {
    await notifier?.stop();
    await db?.end();
    await publisher?.disconnect();
    await target?.close();
    await notifier?.dropDatabase();
  });

  it('is off by default, and the setting is validated (problem+json naming the field)', async () => {
    const initial = await api.call('GET', '/v1/webhook-settings');
    assert.equal(initial.status, 200);
    assert.equal(initial.json.includeBody, false);
    const bad = await api.call('PUT', '/v1/webhook-settings', { includeBody: 'yes' });
    assert.equal(bad.status, 400);
    assert.match(bad.type, /application\/problem\+json/);
    assert.equal((bad.json.errors as { field: string }[])[0]!.field, 'includeBody');
    const unknown = await api.call('PUT', '/v1/webhook-settings', { includeBody: true, includePhone: true });
    assert.equal(unknown.status, 400);
    assert.equal((unknown.json.errors as { field: string }[])[0]!.field, 'includePhone');
    assert.equal((await api.call('GET', '/v1/webhook-settings')).json.includeBody, false);
  });

  it('sends the body to an opted-in tenant, signed, and never to another tenant', async () => {
    const on = await api.call('PUT', '/v1/webhook-settings', { includeBody: true });
    assert.equal(on.status, 200);
    assert.equal(on.json.includeBody, true);
    const secret = ((await api.call('GET', '/v1/webhook-secret')).json.secrets as { secret: string }[])[0]!.secret;

    const mine = statusDraft(optedIn, target.url('/mine'));
    const theirs = statusDraft(notOptedIn, target.url('/theirs'));
    await publisher.publish(AcceptedOtpV1, [accepted(optedIn, mine.messageId, secretText), accepted(notOptedIn, theirs.messageId, secretText)]);
    await eventually(async () => ((await keptBodies(optedIn)) === 1 ? true : undefined), 15_000, 'opted-in body kept');
    await publisher.publish(StatusChangedV1, [mine, theirs]);
    const requests = await target.waitForRequests(2);
    const byPath = new Map(requests.map((r) => [r.url, r]));
    const mineBody = JSON.parse(byPath.get('/mine')!.body) as { data: Record<string, unknown> };
    const theirsBody = JSON.parse(byPath.get('/theirs')!.body) as { data: Record<string, unknown> };
    assert.equal(mineBody.data.body, secretText, byPath.get("/mine")!.body);
    assert.doesNotThrow(() => new Webhook(secret).verify(byPath.get('/mine')!.body, byPath.get('/mine')!.headers));
    assert.equal('body' in theirsBody.data, false, 'a tenant that did not opt in gets no body key');
    assert.equal(byPath.get('/theirs')!.body.includes(secretText), false);
    // Neither tenant's webhook carries the phone number, and the other tenant's body was never kept.
    for (const r of requests) assert.equal(r.body.includes(phone), false);
    assert.equal(await keptBodies(notOptedIn), 0);
    const stored = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifier.webhook_deliveries WHERE payload::text LIKE '%845217%'`);
    assert.equal(stored.rows[0]!.n, 0, 'the queue never holds a body');
  });

  it('waits briefly for a body that trails its status, then sends body null', async () => {
    const late = statusDraft(optedIn, target.url('/late'));
    const missing = statusDraft(optedIn, target.url('/missing'));
    await publisher.publish(StatusChangedV1, [late, missing]);
    await sleep(300);
    await publisher.publish(AcceptedOtpV1, [accepted(optedIn, late.messageId, 'trailing body')]);
    const lateRequest = await eventually(() => target.requests.find((r) => r.url === '/late'), 15_000, 'late webhook');
    assert.equal((JSON.parse(lateRequest.body) as { data: { body: unknown } }).data.body, 'trailing body');
    const missingRequest = await eventually(() => target.requests.find((r) => r.url === '/missing'), 15_000, 'webhook without a known body');
    assert.equal((JSON.parse(missingRequest.body) as { data: { body: unknown } }).data.body, null);
  });

  it('opting out deletes the kept bodies and stops sending them at once', async () => {
    assert.ok((await keptBodies(optedIn)) >= 1);
    const off = await api.call('PUT', '/v1/webhook-settings', { includeBody: false });
    assert.equal(off.status, 200);
    assert.equal(off.json.includeBody, false);
    assert.equal(await keptBodies(optedIn), 0);
    const after = statusDraft(optedIn, target.url('/after-opt-out'));
    await publisher.publish(AcceptedOtpV1, [accepted(optedIn, after.messageId, secretText)]);
    await publisher.publish(StatusChangedV1, [after]);
    const request = await eventually(() => target.requests.find((r) => r.url === '/after-opt-out'), 15_000, 'webhook after opt-out');
    assert.equal('body' in (JSON.parse(request.body) as { data: Record<string, unknown> }).data, false);
    await sleep(300);
    assert.equal(await keptBodies(optedIn), 0);
  });

  it('logs (at debug level) neither a phone number nor a message body', () => {
    assert.ok(notifier.logs.length > 0);
    const digits = phone.slice(1);
    const leaks = notifier.logs.filter((l) => l.includes(digits) || l.includes('845217') || l.includes('trailing body'));
    assert.deepEqual(leaks, []);
  });
});
