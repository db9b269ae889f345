import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { DEAD_LETTER_TOPIC, deadLetterHeaders, StatusChangedV1, type StatusChangedPayload } from '@sms/contracts';
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
}

async function startNotifier(kafka: Kafka, env: Record<string, string>): Promise<RunningNotifier & { dropDatabase(): Promise<void> }> {
  const database = await createTestDatabase('notifier');
  const prefix = `notifier-it-${uniqueSuffix()}`;
  const groupId = `${prefix}.notifier`;
  // Start at the end of the topic: a new group would otherwise replay every status event other suites
  // ever published, with callback URLs on ports that now belong to someone else.
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Concrete offsets: resetOffsets() commits the -1 "latest" marker, which a new group reads as "none".
    const ends = await admin.fetchTopicOffsets(StatusChangedV1.topic);
    await admin.setOffsets({ groupId, topic: StatusChangedV1.topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
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
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      logFile.end();
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
