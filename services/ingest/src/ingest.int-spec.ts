// ingest in-process on the real Kafka and a fresh PostgreSQL database, driven through its HTTP API, its
// Kafka entry and the admin CLI. Each error path of the issue's "Bad input" list has a test here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  acceptedContracts,
  ApiKeyChangedV1,
  DEAD_LETTER_TOPIC,
  SendRejectedV1,
  SendRequestedV1,
  StatusChangedV1,
  type AcceptedPayload,
  type ApiKeyChangedPayload,
  type StatusChangedPayload,
} from '@sms/contracts';
import type { EventPublisher, Kafka } from '@sms/kafka';
import { TopicProbe, connectedPublisher, createTestDatabase, ensureTestTopics, eventually, testKafka, uniqueSuffix } from '@sms/testing';
import { runAdmin } from './admin-cli.js';
import { loadIngestConfig } from './config/ingest.config.js';
import { ingestContracts } from './consumers/ingest.consumer.js';
import { hashApiKey } from './domain/api-key.js';
import { sendRequestSchema } from './domain/send-request.js';
import { apiRoutes } from './http/api-routes.js';
import { jsonSchemaOf, openApiPath } from './http/openapi.js';
import { startIngest, type RunningIngest } from './service.js';

process.env.OTEL_SDK_DISABLED = 'true';

type Json = Record<string, unknown>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ingest on Kafka and PostgreSQL', { timeout: 300_000 }, () => {
  const suffix = uniqueSuffix();
  const prefix = `it-ingest-${suffix}`;
  const acme = `acme-${suffix}`;
  const globex = `globex-${suffix}`;
  const sandboxTenant = `sbx-${suffix}`;
  const slowTenant = `slow-${suffix}`;
  let kafka: Kafka;
  let database: { url: string; drop(): Promise<void> };
  let publisher: EventPublisher;
  let ingest: RunningIngest;
  let accepted: TopicProbe<AcceptedPayload>;
  let statuses: TopicProbe<StatusChangedPayload>;
  let keyChanges: TopicProbe<ApiKeyChangedPayload>;
  let rejected: TopicProbe<{ requestEventId: string; reasons: { field: string; code: string }[] }>;
  let deadLetters: TopicProbe<unknown>;
  const keys: Record<string, string> = {};
  // The gateway config file previews resolve routes from (the router's file format and engine).
  const configDir = mkdtempSync(join(tmpdir(), 'ingest-it-'));
  const configFile = join(configDir, 'gateway.yaml');
  const carrierYaml = (id: string, simulator = false) =>
    `  - id: ${id}\n    protocol: smpp\n    simulator: ${simulator}\n    smpp: { host: 127.0.0.1, port: 2775, systemId: gw, password: pw }\n`;
  const gatewayFile = (routes: string) => `carriers:\n${carrierYaml('uk-a')}${carrierYaml('uk-b')}${carrierYaml('sim', true)}routes:\n${routes}`;
  const previewRoutes =
    `  - id: uk-otp\n    match: { prefixes: ['+447'], trafficClasses: [otp] }\n    carriers: [uk-b, uk-a, sim]\n` +
    `  - id: uk-bulk\n    match: { prefixes: ['+447'] }\n    carriers: [uk-a, sim]\n`;
  // Atomic replace, as a ConfigMap update does it.
  const writeGatewayFile = (text: string) => {
    writeFileSync(`${configFile}.tmp`, text);
    renameSync(`${configFile}.tmp`, configFile);
  };
  writeGatewayFile(gatewayFile(previewRoutes));

  async function admin(...args: string[]): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const code = await runAdmin(args, (line) => lines.push(line));
    return { code, lines };
  }
  async function newKey(tenant: string, scopes = 'send,read'): Promise<string> {
    const { code, lines } = await admin('create-key', '--tenant', tenant, '--scopes', scopes, '--json');
    assert.equal(code, 0, lines.join('\n'));
    return (JSON.parse(lines[0]!) as { key: string }).key;
  }
  async function call(method: string, path: string, options: { key?: string; body?: unknown; raw?: string; type?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.type ?? 'application/json';
    const response = await fetch(`${ingest.url}${path}`, { method, headers, body });
    const text = await response.text();
    let json: Json = {};
    try {
      json = JSON.parse(text) as Json;
    } catch {
      // not JSON (docs page, assets)
    }
    return { status: response.status, json, text, headers: response.headers };
  }
  const message = (extra: Json = {}) => ({ to: '+447911123456', from: 'ACME', body: 'Your code is 123456', ...extra });
  const fieldsOf = (json: Json) => ((json.errors as { field: string; code: string }[] | undefined) ?? []).map((e) => `${e.field}:${e.code}`);
  const assertProblem = (r: { status: number; headers: Headers; json: Json }, status: number) => {
    assert.equal(r.status, status, JSON.stringify(r.json));
    assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(r.json.status, status);
    assert.equal(typeof r.json.title, 'string');
  };

  before(async () => {
    kafka = testKafka('ingest-it');
    await ensureTestTopics(kafka);
    database = await createTestDatabase('ingest_it');
    publisher = await connectedPublisher(kafka);
    // A fresh consumer group would replay every earlier run's send-requests: start it at the topics' end.
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    for (const contract of ingestContracts) {
      const ends = await kafkaAdmin.fetchTopicOffsets(contract.topic);
      await kafkaAdmin.setOffsets({ groupId: `${prefix}.ingest`, topic: contract.topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
    }
    await kafkaAdmin.disconnect();
    [accepted, statuses, keyChanges, rejected, deadLetters] = await Promise.all([
      new TopicProbe(kafka, acceptedContracts).start(),
      new TopicProbe(kafka, StatusChangedV1).start(),
      new TopicProbe(kafka, ApiKeyChangedV1).start(),
      new TopicProbe(kafka, SendRejectedV1).start(),
      new TopicProbe<unknown>(kafka, DEAD_LETTER_TOPIC).start(),
    ]);
    process.env.DATABASE_URL = database.url;
    ingest = await startIngest(
      loadIngestConfig({
        ...process.env,
        DATABASE_URL: database.url,
        HTTP_PORT: '0',
        HTTP_HOST: '127.0.0.1',
        KAFKA_GROUP_PREFIX: prefix,
        LOG_LEVEL: process.env.IT_LOG_LEVEL ?? 'error',
        API_KEY_CACHE_MS: '300',
        OUTBOX_POLL_MS: '100',
        BODY_LIMIT_BYTES: String(64 * 1024),
        GATEWAY_CONFIG_FILE: configFile,
        INGEST_CONFIG_POLL_MS: '100',
      }),
    );
    assert.equal((await admin('create-tenant', '--tenant', acme)).code, 0);
    assert.equal((await admin('create-tenant', '--tenant', globex)).code, 0);
    assert.equal((await admin('create-tenant', '--tenant', sandboxTenant, '--sandbox')).code, 0);
    assert.equal((await admin('create-tenant', '--tenant', slowTenant, '--rate-limit', '2')).code, 0);
    keys.acme = await newKey(acme);
    keys.acmeReadOnly = await newKey(acme, 'read');
    keys.globex = await newKey(globex);
    keys.sandbox = await newKey(sandboxTenant);
    keys.slow = await newKey(slowTenant);
    await eventually(async () => (await call('GET', '/health/ready')).status === 200 || undefined, 30_000, 'ingest ready');
  });

  after(async () => {
    await ingest?.close();
    await Promise.all([accepted, statuses, keyChanges, rejected, deadLetters].map((p) => p?.stop()));
    await publisher?.disconnect();
    await database?.drop();
    rmSync(configDir, { recursive: true, force: true });
  });

  describe('OpenAPI document', () => {
    test('every /v1 route the app serves is in /openapi.json, and every documented operation is served', async () => {
      const r = await call('GET', '/openapi.json');
      assert.equal(r.status, 200);
      assert.equal(r.json.openapi, '3.1.0');
      const paths = r.json.paths as Record<string, Record<string, unknown>>;
      const served = ingest.routes
        .filter((route) => route.url.startsWith('/v1/') && route.method !== 'head')
        .map((route) => `${route.method} ${openApiPath(route.url)}`)
        .sort();
      const documented = Object.entries(paths)
        .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`))
        .sort();
      assert.deepEqual(served, documented);
      assert.ok(served.length >= 7);
    });

    test('the documented request schema is the one the handler validates with', async () => {
      const r = await call('GET', '/openapi.json');
      const op = (r.json.paths as Record<string, Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>>)['/v1/messages']!.post!;
      assert.equal(apiRoutes.sendMessage.body, sendRequestSchema);
      assert.deepEqual(op.requestBody.content['application/json']!.schema, jsonSchemaOf(sendRequestSchema, 'input'));
      // The document refuses unknown fields exactly as the validator does.
      assert.equal((op.requestBody.content['application/json']!.schema as Json).additionalProperties, false);
    });

    test('interactive docs are served at /docs with swagger-ui\'s own assets', async () => {
      const page = await call('GET', '/docs');
      assert.equal(page.status, 200);
      assert.match(page.text, /SwaggerUIBundle\(\{ url: '\/openapi.json'/);
      const bundle = await call('GET', '/docs/swagger-ui-bundle.js');
      assert.equal(bundle.status, 200);
      assert.ok(bundle.text.length > 100_000);
      assert.equal((await call('GET', '/docs/../../package.json')).status, 404);
    });
  });

  describe('tenants and API keys', () => {
    test('a created key works, is published hashed on api-key-changed, and a revoked key is 401', async () => {
      const key = await newKey(acme);
      const published = await keyChanges.waitFor((e) => e.payload.keyHash === hashApiKey(key) && !e.payload.revokedAt, 15_000, 'key created');
      assert.equal(published.tenantId, acme);
      assert.ok(!JSON.stringify(published).includes(key), 'the key itself never travels');
      // Stored hashed: no column of any key row holds the key itself.
      const stored: unknown[] = await ingest.runtime.dataSource.query('SELECT * FROM api_keys WHERE key_hash = $1', [hashApiKey(key)]);
      assert.equal(stored.length, 1);
      assert.ok(!JSON.stringify(stored).includes(key), 'the key is stored only as its hash');
      assert.equal((await call('POST', '/v1/messages', { key, body: message() })).status, 202);

      const listed = await admin('list-keys', '--tenant', acme, '--json');
      const prefix = key.slice(0, 16);
      const entry = (JSON.parse(listed.lines[0]!) as { prefix: string; revokedAt: string | null }[]).find((k) => k.prefix === prefix);
      assert.ok(entry && entry.revokedAt === null);

      assert.equal((await admin('revoke-key', prefix)).code, 0);
      await keyChanges.waitFor((e) => e.payload.keyHash === hashApiKey(key) && Boolean(e.payload.revokedAt), 15_000, 'key revoked');
      // The guard caches found keys for API_KEY_CACHE_MS (300 ms here): the revocation holds within it.
      await sleep(400);
      const refused = await call('POST', '/v1/messages', { key, body: message() });
      assertProblem(refused, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await admin('revoke-key', prefix)).code, 1, 'nothing left to revoke');
    });

    test('unknown, missing and under-scoped keys', async () => {
      assertProblem(await call('POST', '/v1/messages', { body: message() }), 401);
      assertProblem(await call('POST', '/v1/messages', { key: 'sk_live_nope', body: message() }), 401);
      assertProblem(await call('POST', '/v1/messages', { key: keys.acmeReadOnly, body: message() }), 403);
    });

    test('the CLI refuses bad input', async () => {
      assert.equal((await admin('create-key', '--tenant', `nobody-${suffix}`)).code, 2);
      assert.equal((await admin('create-key', '--tenant', acme, '--scopes', 'send,admin')).code, 2);
      assert.equal((await admin('frobnicate')).code, 2);
    });

    test('another tenant\'s message or batch is 404, and lists never show it', async () => {
      const sent = await call('POST', '/v1/messages', { key: keys.acme, body: message({ reference: `iso-${suffix}` }) });
      const batch = await call('POST', '/v1/messages/batch', { key: keys.acme, body: { from: 'ACME', body: 'hi', recipients: ['+447911123456'] } });
      const id = sent.json.id as string;
      assert.equal((await call('GET', `/v1/messages/${id}`, { key: keys.acme })).status, 200);
      assertProblem(await call('GET', `/v1/messages/${id}`, { key: keys.globex }), 404);
      assertProblem(await call('DELETE', `/v1/messages/${id}`, { key: keys.globex }), 404);
      assertProblem(await call('GET', `/v1/batches/${batch.json.batchId as string}`, { key: keys.globex }), 404);
      const list = await call('GET', `/v1/messages?reference=iso-${suffix}`, { key: keys.globex });
      assert.deepEqual(list.json.items, []);
      const listBatch = await call('GET', `/v1/messages?batchId=${batch.json.batchId as string}`, { key: keys.globex });
      assert.deepEqual(listBatch.json.items, []);
      assertProblem(await call('GET', '/v1/messages/not-a-uuid', { key: keys.acme }), 404);
    });

    test('a sandbox key\'s messages carry sandbox: true to the router', async () => {
      const sent = await call('POST', '/v1/messages', { key: keys.sandbox, body: message() });
      assert.equal(sent.status, 202);
      const event = await accepted.waitFor((e) => e.messageId === sent.json.id, 15_000, 'sandbox accepted');
      assert.equal(event.payload.sandbox, true);
      assert.ok(keys.sandbox!.startsWith('sk_test_'));
      const normal = await call('POST', '/v1/messages', { key: keys.acme, body: message() });
      assert.equal((await accepted.waitFor((e) => e.messageId === normal.json.id)).payload.sandbox, false);
      assert.equal((await call('GET', `/v1/messages/${sent.json.id as string}`, { key: keys.sandbox })).json.sandbox, true);
    });
  });

  describe('send, batch, list, preview', () => {
    test('a message is accepted, published once, and its status history follows status events', async () => {
      const sent = await call('POST', '/v1/messages', { key: keys.acme, body: message({ body: 'Привет', trafficClass: 'otp', metadata: { campaign: 'it' } }) });
      assert.equal(sent.status, 202);
      assert.equal(sent.json.encoding, 'UCS-2');
      assert.equal(sent.json.segments, 1);
      assert.equal(sent.json.status, 'accepted');
      const id = sent.json.id as string;
      const stored: { metadata: unknown }[] = await ingest.runtime.dataSource.query('SELECT metadata FROM messages WHERE id = $1', [id]);
      assert.deepEqual(stored[0]!.metadata, { campaign: 'it' });
      await accepted.waitFor((e) => e.messageId === id);
      await publisher.publish(StatusChangedV1, [
        { tenantId: acme, messageId: id, payload: { status: 'routed', reason: { code: `it-${suffix}` }, sequence: 1, changedAt: new Date().toISOString() } },
      ]);
      // The shared dev stack's router may route this message too: look for this event in the history.
      const view = await eventually(async () => {
        const r = await call('GET', `/v1/messages/${id}`, { key: keys.acme });
        return (r.json.history as { reason: { code: string } | null }[]).some((h) => h.reason?.code === `it-${suffix}`) ? r.json : undefined;
      });
      const history = view.history as { status: string }[];
      assert.equal(history[0]!.status, 'accepted');
      assert.ok(history.some((h) => h.status === 'routed'));
      assert.notEqual(view.status, 'accepted', 'the status moved forward');
      assert.deepEqual(view.parts, { total: 1, delivered: 0, failed: 0 }, 'no event carried part counts yet: every part pending');

      // Part counts follow the events that carry them; the history keeps each event's own counts.
      await publisher.publish(StatusChangedV1, [
        { tenantId: acme, messageId: id, payload: { status: 'submitted', reason: { code: `it-sub-${suffix}` }, parts: { total: 1, delivered: 0, failed: 0 }, sequence: 2, changedAt: new Date().toISOString() } },
        { tenantId: acme, messageId: id, payload: { status: 'delivered', reason: { code: `it-del-${suffix}` }, parts: { total: 1, delivered: 1, failed: 0 }, sequence: 3, changedAt: new Date().toISOString() } },
      ]);
      const delivered = await eventually(async () => {
        const r = await call('GET', `/v1/messages/${id}`, { key: keys.acme });
        return r.json.status === 'delivered' ? r.json : undefined;
      });
      assert.deepEqual(delivered.parts, { total: 1, delivered: 1, failed: 0 });
      const entries = delivered.history as { status: string; reason: { code: string } | null; parts: unknown }[];
      assert.deepEqual(entries.find((h) => h.reason?.code === `it-sub-${suffix}`)?.parts, { total: 1, delivered: 0, failed: 0 });
      assert.deepEqual(entries.find((h) => h.reason?.code === `it-del-${suffix}`)?.parts, { total: 1, delivered: 1, failed: 0 });
      assert.equal(entries[0]!.parts, null, 'the acceptance carries no part counts');
    });

    test('a batch accepts and rejects per recipient, and shows progress by status', async () => {
      const body = {
        from: 'ACME',
        body: 'Sale today',
        trafficClass: 'promotional',
        reference: `batch-${suffix}`,
        recipients: [
          '+447911123456',
          { to: '+447911123457', body: 'Personal offer' },
          'not-a-number',
          { to: '+447911123458', colour: 'red' },
          '+44 7911 123459',
        ],
      };
      const r = await call('POST', '/v1/messages/batch', { key: keys.acme, body });
      assert.equal(r.status, 202, JSON.stringify(r.json));
      assert.equal(r.json.recipients, 5);
      assert.equal(r.json.accepted, 3);
      assert.equal(r.json.rejected, 2);
      const results = r.json.results as Json[];
      assert.deepEqual(results.map((x) => x.status), ['accepted', 'accepted', 'rejected', 'rejected', 'accepted']);
      assert.deepEqual(fieldsOf(results[2]!), ['recipients.2.to:invalid_number']);
      assert.deepEqual(fieldsOf(results[3]!), ['recipients.3.colour:unknown_field']);
      const batchId = r.json.batchId as string;
      const ids = [results[0]!.id as string, results[1]!.id as string, results[4]!.id as string];
      // Each accepted event carries its own recipient's values: the shared ones, or the ones it overrides.
      const events = await Promise.all(ids.map((id) => accepted.waitFor((e) => e.messageId === id)));
      assert.deepEqual(
        events.map((e) => [e.payload.to, e.payload.body, e.payload.reference, e.payload.trafficClass]),
        [
          ['+447911123456', 'Sale today', `batch-${suffix}`, 'promotional'],
          ['+447911123457', 'Personal offer', `batch-${suffix}`, 'promotional'],
          ['+447911123459', 'Sale today', `batch-${suffix}`, 'promotional'],
        ],
      );
      // All end final (the shared dev stack's router may also route them; the first final wins).
      await publisher.publish(
        StatusChangedV1,
        ids.map((id) => ({ tenantId: acme, messageId: id, payload: { status: 'undelivered' as const, sequence: 3, changedAt: new Date().toISOString() } })),
      );
      const view = await eventually(async () => {
        const b = await call('GET', `/v1/batches/${batchId}`, { key: keys.acme });
        return b.json.final === 3 ? b.json : undefined;
      });
      assert.equal(Object.values(view.counts as Record<string, number>).reduce((x, y) => x + y, 0), 3);
      assert.equal(view.progress, 1);
      assert.equal(view.accepted, 3);
      assert.equal(view.rejected, 2);
      const listed = await call('GET', `/v1/messages?batchId=${batchId}`, { key: keys.acme });
      assert.deepEqual((listed.json.items as Json[]).map((m) => m.id).sort(), [...ids].sort());
      assert.deepEqual((listed.json.items as Json[]).map((m) => m.to).sort(), ['+447911123456', '+447911123457', '+447911123459']);
      assertProblem(await call('GET', `/v1/batches/${randomUUID()}`, { key: keys.acme }), 404);
    });

    test('a batch of 10,000 is accepted in one call; 10,001 is refused', async () => {
      const recipients = Array.from({ length: 10_000 }, (_, i) => `+4479110${String(i).padStart(5, '0')}`);
      const r = await call('POST', '/v1/messages/batch', { key: keys.acme, body: { from: 'ACME', body: 'Bulk', recipients } });
      assert.equal(r.status, 202);
      assert.equal(r.json.accepted, 10_000);
      const over = await call('POST', '/v1/messages/batch', { key: keys.acme, body: { from: 'ACME', body: 'Bulk', recipients: [...recipients, '+447911123456'] } });
      assertProblem(over, 400);
      assert.deepEqual(fieldsOf(over.json), ['recipients:too_big']);
    });

    test('the list filters by status, reference and date, and pages with a cursor', async () => {
      const reference = `page-${suffix}`;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await call('POST', '/v1/messages', { key: keys.acme, body: message({ reference }) })).json.id as string);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r = await call('GET', `/v1/messages?reference=${reference}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: keys.acme });
        assert.equal(r.status, 200);
        seen.push(...(r.json.items as Json[]).map((m) => m.id as string));
        cursor = r.json.nextCursor as string | null;
        pages++;
      } while (cursor && pages < 10);
      assert.deepEqual([...seen].sort(), [...ids].sort());
      assert.equal(new Set(seen).size, 5);
      const scheduled = await call('GET', `/v1/messages?reference=${reference}&status=scheduled`, { key: keys.acme });
      assert.deepEqual(scheduled.json.items, []);
      const future = await call('GET', `/v1/messages?reference=${reference}&createdFrom=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { key: keys.acme });
      assert.deepEqual(future.json.items, []);
      assert.deepEqual(fieldsOf((await call('GET', '/v1/messages?status=lost', { key: keys.acme })).json), ['status:invalid_value']);
      assert.deepEqual(fieldsOf((await call('GET', '/v1/messages?cursor=garbage', { key: keys.acme })).json), ['cursor:invalid_cursor']);
      assert.deepEqual(fieldsOf((await call('GET', '/v1/messages?colour=red', { key: keys.acme })).json), ['colour:unknown_field']);
    });

    test('preview shows encoding and segments and sends nothing', async () => {
      const reference = `preview-${suffix}`;
      const r = await call('POST', '/v1/messages/preview', { key: keys.acme, body: message({ body: '€'.repeat(100), reference }) });
      assert.equal(r.status, 200);
      assert.equal(r.json.encoding, 'GSM-7');
      assert.equal(r.json.segments, 2, '€ takes two septets: 200 septets is two 153-septet segments');
      assert.equal(r.json.lane, 'transactional');
      assert.deepEqual(r.json.route, {
        outcome: 'routable',
        routeId: 'uk-bulk',
        rule: 'prefix +447',
        strategy: 'ordered',
        carriers: ['uk-a', 'sim'],
        skipped: [],
        country: null,
        matchedPrefix: '+447',
      });
      assertProblem(await call('POST', '/v1/messages/preview', { key: keys.acme, body: message({ to: '123' }) }), 400);
      await sleep(300);
      assert.deepEqual((await call('GET', `/v1/messages?reference=${reference}`, { key: keys.acme })).json.items, []);
    });

    test('preview shows the route the router would take from the gateway config file, and follows its changes', async () => {
      const preview = async (key: string, extra: Json = {}) => {
        const r = await call('POST', '/v1/messages/preview', { key, body: message(extra) });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        return r.json.route as { outcome: string; routeId: string | null; carriers: string[]; skipped: { carrierId: string; reason: string }[] };
      };
      const otp = await preview(keys.acme, { trafficClass: 'otp' });
      assert.equal(otp.routeId, 'uk-otp', 'the longest prefix, then the more specific rule');
      assert.deepEqual(otp.carriers, ['uk-b', 'uk-a', 'sim'], 'failover order as in the file');
      // A sandbox key only routes to simulator carriers: the others are listed as skipped, with the reason.
      const sandboxed = await preview(keys.sandbox, { trafficClass: 'otp' });
      assert.deepEqual(sandboxed.carriers, ['sim']);
      assert.deepEqual(sandboxed.skipped, [
        { carrierId: 'uk-b', reason: 'not_simulator' },
        { carrierId: 'uk-a', reason: 'not_simulator' },
      ]);
      assert.equal((await preview(keys.acme, { to: '+12025550123' })).outcome, 'no_route');

      // The file changes (atomically replaced): previews follow without a restart.
      writeGatewayFile(gatewayFile(`  - id: uk-otp-v2\n    match: { prefixes: ['+447'], trafficClasses: [otp] }\n    carriers: [uk-a]\n`));
      await eventually(async () => ((await preview(keys.acme, { trafficClass: 'otp' })).routeId === 'uk-otp-v2' ? true : undefined), 10_000, 'preview follows the new file');
      assert.deepEqual((await preview(keys.acme, { trafficClass: 'otp' })).carriers, ['uk-a']);
      // An invalid file is refused: the previous routes stay.
      writeGatewayFile('carriers: []\nroutes: nope\n');
      await sleep(500);
      assert.equal((await preview(keys.acme, { trafficClass: 'otp' })).routeId, 'uk-otp-v2');
      writeGatewayFile(gatewayFile(previewRoutes));
      await eventually(async () => ((await preview(keys.acme, { trafficClass: 'otp' })).routeId === 'uk-otp' ? true : undefined), 10_000, 'original routes back');
    });
  });

  describe('bad input never returns 500', () => {
    test('malformed JSON, wrong content type, huge payload', async () => {
      const malformed = await call('POST', '/v1/messages', { key: keys.acme, raw: '{"to": "+44' });
      assertProblem(malformed, 400);
      assert.deepEqual(fieldsOf(malformed.json), ['(body):malformed_json']);
      assertProblem(await call('POST', '/v1/messages', { key: keys.acme, raw: 'to=+447911123456', type: 'application/x-www-form-urlencoded' }), 415);
      assertProblem(await call('POST', '/v1/messages', { key: keys.acme, raw: 'hello', type: 'text/plain' }), 415);
      assertProblem(await call('POST', '/v1/messages', { key: keys.acme, body: message({ body: 'x'.repeat(70 * 1024) }) }), 413);
      assertProblem(await call('POST', '/v1/messages', { key: keys.acme, body: [message()] }), 400);
      // The batch endpoint: the same, with its own (larger) body limit of 8 MiB.
      const batchMalformed = await call('POST', '/v1/messages/batch', { key: keys.acme, raw: '{"recipients": [' });
      assertProblem(batchMalformed, 400);
      assert.deepEqual(fieldsOf(batchMalformed.json), ['(body):malformed_json']);
      assertProblem(await call('POST', '/v1/messages/batch', { key: keys.acme, raw: 'hello', type: 'text/plain' }), 415);
      const big = { from: 'ACME', body: 'x', recipients: Array.from({ length: 5000 }, () => '+447911123456') };
      assert.equal((await call('POST', '/v1/messages/batch', { key: keys.acme, body: { ...big, reference: `big-${suffix}` } })).status, 202, 'over the general limit, within the batch limit');
      assertProblem(await call('POST', '/v1/messages/batch', { key: keys.acme, body: { ...big, body: 'x'.repeat(9 * 1024 * 1024) } }), 413);
    });

    test('bad number, bad sender, unknown field, wrong type, over-long body: each field named', async () => {
      const cases: [Json, string[]][] = [
        [message({ to: '+1' }), ['to:invalid_number']],
        [message({ to: '07911 123456' }), ['to:invalid_number']],
        [message({ from: 'WAY-TOO-LONG-SENDER' }), ['from:invalid_sender']],
        [message({ from: '1234567890123456' }), ['from:invalid_sender']],
        [message({ from: 'ÄCME' }), ['from:invalid_sender']],
        [message({ colour: 'red' }), ['colour:unknown_field']],
        [message({ to: 447911123456 }), ['to:invalid_type']],
        [message({ body: '' }), ['body:empty_body']],
        [message({ body: 'a'.repeat(1531) }), ['body:body_too_long']],
        [message({ sendAt: new Date(Date.now() + 36 * 24 * 3600 * 1000).toISOString() }), ['sendAt:too_far_ahead']],
      ];
      for (const [body, expected] of cases) {
        const r = await call('POST', '/v1/messages', { key: keys.acme, body });
        assertProblem(r, 400);
        assert.deepEqual(fieldsOf(r.json), expected, JSON.stringify(body).slice(0, 80));
      }
      const national = await call('POST', '/v1/messages', { key: keys.acme, body: message({ to: '07911 123456', defaultRegion: 'GB' }) });
      assert.equal(national.status, 202);
    });

    test('Idempotency-Key: a replay returns the first message, a changed body is 422, concurrent requests create one', async () => {
      const key = `idem-${suffix}`;
      const headers = { 'idempotency-key': key };
      const first = await call('POST', '/v1/messages', { key: keys.acme, body: message({ reference: key }), headers });
      const again = await call('POST', '/v1/messages', { key: keys.acme, body: message({ reference: key }), headers });
      assert.equal(first.status, 202);
      assert.equal(again.json.id, first.json.id);
      const changed = await call('POST', '/v1/messages', { key: keys.acme, body: message({ reference: key, body: 'other' }), headers });
      assertProblem(changed, 422);
      assertProblem(await call('POST', '/v1/messages', { key: keys.acme, body: message(), headers: { 'idempotency-key': 'k'.repeat(256) } }), 400);

      const racing = `race-${suffix}`;
      const results = await Promise.all(
        Array.from({ length: 8 }, () => call('POST', '/v1/messages', { key: keys.acme, body: message({ reference: racing }), headers: { 'idempotency-key': racing } })),
      );
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set([202]));
      assert.equal(new Set(results.map((r) => r.json.id)).size, 1);
      assert.equal(((await call('GET', `/v1/messages?reference=${racing}`, { key: keys.acme })).json.items as Json[]).length, 1);
      // Keys are per tenant: another tenant may use the same key.
      assert.equal((await call('POST', '/v1/messages', { key: keys.globex, body: message(), headers: { 'idempotency-key': racing } })).status, 202);
    });

    test('Idempotency-Key on a batch: a replay returns the first response and creates nothing, a changed body is 422, concurrent requests create one batch, keys live 24 h', async () => {
      const reference = `idem-batch-${suffix}`;
      const key = `idem-batch-${suffix}`;
      const body = { from: 'ACME', body: 'Sale', reference, recipients: ['+447911123456', 'not-a-number', { to: '+447911123457', body: 'Yours' }] };
      const countByReference = async (ref: string) => ((await call('GET', `/v1/messages?reference=${ref}`, { key: keys.acme })).json.items as Json[]).length;
      const first = await call('POST', '/v1/messages/batch', { key: keys.acme, body, headers: { 'idempotency-key': key } });
      assert.equal(first.status, 202, JSON.stringify(first.json));
      assert.equal(first.json.accepted, 2);
      const again = await call('POST', '/v1/messages/batch', { key: keys.acme, body, headers: { 'idempotency-key': key } });
      assert.equal(again.status, 202);
      assert.deepEqual(again.json, first.json, 'the first response, rejections included');
      assert.equal(await countByReference(reference), 2, 'the replay created no messages');
      const batches: { n: number }[] = await ingest.runtime.dataSource.query('SELECT count(*)::int AS n FROM batches WHERE id = $1', [first.json.batchId]);
      assert.equal(batches[0]!.n, 1);

      assertProblem(await call('POST', '/v1/messages/batch', { key: keys.acme, body: { ...body, body: 'Other' }, headers: { 'idempotency-key': key } }), 422);
      // One key space per tenant across both endpoints: a message's key is not a batch's, and the other way round.
      assertProblem(await call('POST', '/v1/messages', { key: keys.acme, body: message(), headers: { 'idempotency-key': key } }), 422);
      const singleKey = `idem-single-${suffix}`;
      assert.equal((await call('POST', '/v1/messages', { key: keys.acme, body: message(), headers: { 'idempotency-key': singleKey } })).status, 202);
      assertProblem(await call('POST', '/v1/messages/batch', { key: keys.acme, body, headers: { 'idempotency-key': singleKey } }), 422);
      assertProblem(await call('POST', '/v1/messages/batch', { key: keys.acme, body, headers: { 'idempotency-key': 'k'.repeat(256) } }), 400);

      const racingReference = `race-batch-${suffix}`;
      const racing = { ...body, reference: racingReference };
      const results = await Promise.all(
        Array.from({ length: 6 }, () => call('POST', '/v1/messages/batch', { key: keys.acme, body: racing, headers: { 'idempotency-key': racingReference } })),
      );
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set([202]));
      assert.equal(new Set(results.map((r) => r.json.batchId)).size, 1, 'one batch');
      assert.equal(await countByReference(racingReference), 2, 'its messages created once');

      // Another tenant may use the same key.
      const other = await call('POST', '/v1/messages/batch', { key: keys.globex, body, headers: { 'idempotency-key': key } });
      assert.equal(other.status, 202);
      assert.notEqual(other.json.batchId, first.json.batchId);

      // After 24 h the key is free again: the same key with another body creates a new batch.
      await ingest.runtime.dataSource.query(`UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 minute' WHERE tenant_id = $1 AND key = $2`, [acme, key]);
      const later = await call('POST', '/v1/messages/batch', { key: keys.acme, body: { ...body, body: 'Other' }, headers: { 'idempotency-key': key } });
      assert.equal(later.status, 202, JSON.stringify(later.json));
      assert.notEqual(later.json.batchId, first.json.batchId);
      assert.equal(await countByReference(reference), 4);
    });

    test('rate limit per tenant: 429 with Retry-After as problem+json; other tenants unaffected', async () => {
      // slow tenant: 2 requests/s, so a burst of 4 (the default burst is twice the rate).
      const statusesSeen: number[] = [];
      let limited: Awaited<ReturnType<typeof call>> | undefined;
      for (let i = 0; i < 8; i++) {
        const r = await call('POST', '/v1/messages/preview', { key: keys.slow, body: message() });
        statusesSeen.push(r.status);
        if (r.status === 429) limited = r;
      }
      assert.ok(limited, `some request is limited: ${statusesSeen.join(',')}`);
      assertProblem(limited, 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal((await call('POST', '/v1/messages/preview', { key: keys.acme, body: message() })).status, 200);
    });

    test('malformed and invalid Kafka send-requests: dead-lettered or rejected with reasons; the partition moves on', async () => {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: SendRequestedV1.topic, messages: [{ key: acme, value: '{not json' }] });
      await producer.disconnect();
      const [bad] = await publisher.publish(SendRequestedV1, [{ tenantId: acme, payload: { to: '12', from: 'ACME', body: 'x', trafficClass: 'otp' } }]);
      const [unknownTenant] = await publisher.publish(SendRequestedV1, [
        { tenantId: `nobody-${suffix}`, payload: { to: '+447911123456', from: 'ACME', body: 'x', trafficClass: 'otp' } },
      ]);
      const reference = `kafka-${suffix}`;
      const [good] = await publisher.publish(SendRequestedV1, [
        { tenantId: acme, payload: { to: '+447911123456', from: 'ACME', body: 'via Kafka', trafficClass: 'otp', reference } },
      ]);
      // Redelivery of the same event id creates nothing new.
      await publisher.publish(SendRequestedV1, [{ eventId: good!.eventId, tenantId: acme, payload: good!.payload }]);

      await deadLetters.waitForRaw((r) => r.headers['dlq-consumer-group'] === `${prefix}.ingest` && r.value === '{not json');
      const rejection = await rejected.waitFor((e) => e.payload.requestEventId === bad!.eventId);
      assert.deepEqual(rejection.payload.reasons.map((r) => `${r.field}:${r.code}`), ['to:invalid_number']);
      const unknown = await rejected.waitFor((e) => e.payload.requestEventId === unknownTenant!.eventId);
      assert.equal(unknown.payload.reasons[0]!.code, 'unknown_tenant');
      const listed = await eventually(async () => {
        const r = await call('GET', `/v1/messages?reference=${reference}`, { key: keys.acme });
        return (r.json.items as Json[]).length > 0 ? (r.json.items as Json[]) : undefined;
      });
      await sleep(500);
      assert.equal(((await call('GET', `/v1/messages?reference=${reference}`, { key: keys.acme })).json.items as Json[]).length, 1);
      assert.equal(listed[0]!.trafficClass, 'otp');
    });
  });

  describe('scheduling and validity', () => {
    test('a scheduled message is held until sendAt, then released', async () => {
      const sendAt = new Date(Date.now() + 1500);
      const r = await call('POST', '/v1/messages', { key: keys.acme, body: message({ sendAt: sendAt.toISOString() }) });
      assert.equal(r.json.status, 'scheduled');
      const id = r.json.id as string;
      assert.equal((await call('GET', `/v1/messages/${id}`, { key: keys.acme })).json.status, 'scheduled');
      const event = await accepted.waitFor((e) => e.messageId === id, 15_000, 'released');
      assert.ok(Date.parse(event.occurredAt) >= 0);
      // When the relay published it (the record's timestamp), not when this test's probe got round to it.
      const releasedAt = accepted.raw.find((r) => r.value.includes(event.eventId))!.timestamp;
      assert.ok(releasedAt >= sendAt.getTime(), `never released before its time (${releasedAt - sendAt.getTime()} ms)`);
      assert.ok(releasedAt - sendAt.getTime() < 1000, `released within 1 s of its time (after ${releasedAt - sendAt.getTime()} ms)`);
      assertProblem(await call('DELETE', `/v1/messages/${id}`, { key: keys.acme }), 409);
    });

    test('a scheduled message is cancellable until released, and never sent', async () => {
      const r = await call('POST', '/v1/messages', { key: keys.acme, body: message({ sendAt: new Date(Date.now() + 2000).toISOString() }) });
      const id = r.json.id as string;
      const canceled = await call('DELETE', `/v1/messages/${id}`, { key: keys.acme });
      assert.equal(canceled.status, 200);
      assert.equal(canceled.json.status, 'canceled');
      assertProblem(await call('DELETE', `/v1/messages/${id}`, { key: keys.acme }), 409);
      await sleep(3000);
      assert.equal(accepted.events.filter((e) => e.messageId === id).length, 0);
      const view = await call('GET', `/v1/messages/${id}`, { key: keys.acme });
      assert.equal(view.json.status, 'canceled');
      assertProblem(await call('DELETE', `/v1/messages/${(await call('POST', '/v1/messages', { key: keys.acme, body: message() })).json.id as string}`, { key: keys.acme }), 409);
    });

    test('a message whose validity ended before release ends expired and is never handed to the router', async () => {
      const r = await call('POST', '/v1/messages', { key: keys.acme, body: message({ sendAt: new Date(Date.now() + 1500).toISOString(), validityPeriod: 60 }) });
      const id = r.json.id as string;
      // Stand-in for a relay outage longer than the validity: the held event's validity is already over.
      await ingest.runtime.dataSource.query(
        `UPDATE outbox SET payload = jsonb_set(payload, '{validUntil}', to_jsonb($2::text)) WHERE message_id = $1`,
        [id, new Date(Date.now() - 1000).toISOString()],
      );
      const expired = await statuses.waitFor((e) => e.messageId === id && e.payload.status === 'expired', 15_000, 'expired');
      assert.equal(expired.payload.reason?.code, 'validity_elapsed_before_release');
      const view = await eventually(async () => {
        const v = await call('GET', `/v1/messages/${id}`, { key: keys.acme });
        return v.json.status === 'expired' ? v.json : undefined;
      });
      assert.deepEqual((view.history as { status: string }[]).map((h) => h.status), ['scheduled', 'expired']);
      await sleep(500);
      assert.equal(accepted.events.filter((e) => e.messageId === id).length, 0);
    });
  });
});
