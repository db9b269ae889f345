import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { silentLogger } from '@sms/kafka';
import { Registry } from '@sms/telemetry';
import type { AttemptResult } from '../domain/delivery-policy.js';
import type { Resolver } from '../domain/ssrf-guard.js';
import { endpointOf } from '../domain/endpoint-gate.js';
import { generateWebhookSecret } from '../domain/webhook-signature.js';
import type { WebhookPayload } from '../domain/webhook-payload.js';
import type { ClaimedDelivery, DeliveryUpdate, NewDelivery, RecordedDelivery } from '../infra/webhook-deliveries.repository.js';
import type { WebhookRequest } from '../infra/webhook-http.js';
import { WebhookDispatcher, type DispatcherOptions } from './webhook-dispatcher.js';

/** The dispatcher against in-memory ports: no database, no network. */

const payload: WebhookPayload = {
  type: 'message.status_changed',
  timestamp: '2025-01-01T00:00:00.000Z',
  data: {
    messageId: '7d9f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
    status: 'delivered',
    reason: null,
    sequence: 3,
    parts: null,
    carrierId: null,
    reference: null,
    changedAt: '2025-01-01T00:00:00.000Z',
  },
};

let counter = 0;
function delivery(url: string, overrides: Partial<ClaimedDelivery> = {}): ClaimedDelivery {
  counter++;
  return {
    webhookId: `msg_${counter}`,
    target: 'callback',
    tenantId: 'tenant-a',
    messageId: payload.data.messageId,
    url,
    endpoint: endpointOf(url),
    payload,
    traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    attempts: 1,
    createdAt: new Date(),
    includeBody: false,
    body: null,
    ...overrides,
  };
}

/** A fresh webhook as the consumer hands it to the direct path. */
function fresh(url: string, overrides: Partial<NewDelivery> = {}): NewDelivery {
  const { attempts: _a, createdAt: _c, includeBody: _i, body: _b, ...row } = delivery(url);
  return { ...row, ...overrides };
}

class Fakes {
  readonly queue: ClaimedDelivery[] = [];
  readonly updates: DeliveryUpdate[] = [];
  /** Direct-path writes, in order. */
  readonly recorded: RecordedDelivery[][] = [];
  /** Fails the next insertRecorded when set. */
  failRecord: Error | undefined;
  readonly requests: WebhookRequest[] = [];
  readonly secretsByTenant = new Map<string, string[]>([['tenant-a', [generateWebhookSecret()]]]);
  readonly generatedFor: string[] = [];
  claims = 0;
  respond: (request: WebhookRequest) => Promise<AttemptResult> = async () => ({ kind: 'response', statusCode: 200 });

  /** A small model of the table: leased rows come back when their retry or postponement is due. */
  private readonly table = new Map<string, { row: ClaimedDelivery; dueAt: number; status: string }>();
  deliveries = {
    claimDue: async (limit: number, room: { default: number; byEndpoint: ReadonlyMap<string, number> }) => {
      this.claims++;
      for (const row of this.queue.splice(0)) this.table.set(row.webhookId, { row: { ...row, attempts: row.attempts - 1 }, dueAt: 0, status: 'pending' });
      const now = Date.now();
      const picked: ClaimedDelivery[] = [];
      const taken = new Map<string, number>();
      for (const entry of this.table.values()) {
        if (picked.length >= limit) break;
        const endpoint = entry.row.endpoint;
        if (entry.status !== 'pending' || entry.dueAt > now) continue;
        if ((taken.get(endpoint) ?? 0) >= (room.byEndpoint.get(endpoint) ?? room.default)) continue;
        taken.set(endpoint, (taken.get(endpoint) ?? 0) + 1);
        entry.row = { ...entry.row, attempts: entry.row.attempts + 1 };
        entry.dueAt = now + 60_000;
        picked.push(entry.row);
      }
      return picked;
    },
    insertRecorded: async (rows: RecordedDelivery[]) => {
      if (this.failRecord) {
        const error = this.failRecord;
        this.failRecord = undefined;
        throw error;
      }
      this.recorded.push(rows);
      const inserted = new Set<string>();
      const now = Date.now();
      for (const r of rows) {
        if (this.table.has(r.webhookId)) continue;
        const row: ClaimedDelivery = { ...r, attempts: r.attempts, createdAt: new Date(), includeBody: false, body: null };
        this.table.set(r.webhookId, { row, dueAt: now + r.dueInMs, status: r.status });
        inserted.add(`${r.webhookId}\u0000${r.target}`);
      }
      return inserted;
    },
    applyUpdates: async (updates: DeliveryUpdate[]) => {
      this.updates.push(...updates);
      const now = Date.now();
      for (const u of updates) {
        const entry = this.table.get(u.webhookId);
        if (!entry || entry.row.attempts !== u.claimedAttempts) continue;
        if (u.kind === 'postpone') entry.row = { ...entry.row, attempts: entry.row.attempts - 1 };
        if (u.kind === 'postpone' || u.kind === 'retry') entry.dueAt = now + u.retryInMs;
        else entry.status = u.kind;
      }
    },
  };
  secrets = {
    activeFor: async (tenants: string[]) => new Map(tenants.filter((t) => this.secretsByTenant.has(t)).map((t) => [t, this.secretsByTenant.get(t)!])),
    ensureActive: async (tenant: string) => {
      this.generatedFor.push(tenant);
      const secrets = [generateWebhookSecret()];
      this.secretsByTenant.set(tenant, secrets);
      return secrets;
    },
  };
  http = {
    post: (request: WebhookRequest) => {
      this.requests.push(request);
      return this.respond(request);
    },
    close: () => undefined,
  };
}

function dispatcher(fakes: Fakes, options: Partial<DispatcherOptions> = {}, resolver: Resolver = async () => [{ address: '93.184.216.34', family: 4 }]) {
  return new WebhookDispatcher(
    {
      mode: 'production',
      timeoutMs: 1000,
      concurrency: 8,
      endpointConcurrency: 2,
      breakerThreshold: 3,
      breakerCooldownMs: 60_000,
      claimBatch: 200,
      pollIntervalMs: 20,
      retryScale: 0.001,
      ...options,
    },
    {
      ...fakes,
      resolver,
      metrics: new Registry(),
      logger: silentLogger,
    },
  );
}

async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('webhook dispatcher', () => {
  it('signs, sends to the checked address with the trace context, and records the delivery', async () => {
    const fakes = new Fakes();
    const d = dispatcher(fakes);
    const row = delivery('https://hooks.example.com/sms?token=t');
    fakes.queue.push(row);
    d.start();
    await until(() => fakes.updates.length === 1, 'update');
    await d.stop();
    const [request] = fakes.requests;
    assert.deepEqual(request!.address, { address: '93.184.216.34', family: 4 });
    assert.equal(request!.hostname, 'hooks.example.com');
    assert.equal(request!.headers['webhook-id'], row.webhookId);
    assert.equal(request!.headers['user-agent'], 'sms-gateway-notifier');
    assert.match(request!.headers.traceparent ?? '', /^00-0af7651916cd43dd8448eb211c80319c-/);
    const secret = fakes.secretsByTenant.get('tenant-a')![0]!;
    assert.doesNotThrow(() => new Webhook(secret).verify(request!.body, request!.headers));
    assert.deepEqual(fakes.updates, [{ webhookId: row.webhookId, target: 'callback', claimedAttempts: 1, kind: 'delivered', statusCode: 200 }]);
  });

  it('marks a refused URL dead without any request', async () => {
    const fakes = new Fakes();
    const d = dispatcher(fakes);
    fakes.queue.push(delivery('http://hooks.example.com/sms'), delivery('https://127.0.0.1/x'));
    d.start();
    await until(() => fakes.updates.length === 2, 'updates');
    await d.stop();
    assert.equal(fakes.requests.length, 0);
    for (const update of fakes.updates) {
      assert.equal(update.kind, 'dead');
      assert.equal(update.kind === 'dead' && update.deadReason, 'ssrf_blocked');
    }
  });

  it('schedules a retry after a failure, and gives up after the last attempt', async () => {
    const fakes = new Fakes();
    fakes.respond = async () => ({ kind: 'response', statusCode: 503 });
    const d = dispatcher(fakes);
    fakes.queue.push(delivery('https://a.example.com/'), delivery('https://b.example.com/', { attempts: 8 }));
    d.start();
    // The first delivery's retry is due within milliseconds (scaled schedule), so it may be claimed
    // again before the second delivery is answered: look the updates up by attempt, not by count.
    await until(
      () => fakes.updates.some((u) => u.claimedAttempts === 1) && fakes.updates.some((u) => u.claimedAttempts === 8),
      'updates',
    );
    await d.stop();
    const first = fakes.updates.find((u) => u.claimedAttempts === 1);
    const last = fakes.updates.find((u) => u.claimedAttempts === 8);
    assert.equal(first!.kind, 'retry');
    assert.ok(first!.kind === 'retry' && first!.retryInMs >= 4 && first!.retryInMs <= 6, 'scaled 5 s');
    assert.deepEqual(last, {
      webhookId: last!.webhookId,
      target: 'callback',
      claimedAttempts: 8,
      kind: 'dead',
      deadReason: 'attempts_exhausted',
      statusCode: 503,
      error: 'HTTP 503',
    });
  });

  it('caps requests per endpoint; claims a buffer beyond the cap and starts it as slots free, without postponing', async () => {
    const fakes = new Fakes();
    const release: (() => void)[] = [];
    fakes.respond = (request) =>
      request.hostname === 'slow.example.com'
        ? new Promise((resolve) => release.push(() => resolve({ kind: 'response', statusCode: 200 })))
        : Promise.resolve({ kind: 'response', statusCode: 200 });
    // Cap 2 + buffer 4: of 8 slow rows, 6 are claimed and 2 stay in the table until there is room.
    const d = dispatcher(fakes, { concurrency: 16 });
    fakes.queue.push(...Array.from({ length: 8 }, () => delivery('https://slow.example.com/')), delivery('https://fast.example.com/'));
    d.start();
    await until(() => fakes.requests.some((r) => r.hostname === 'fast.example.com'), 'fast request');
    const slow = () => fakes.requests.filter((r) => r.hostname === 'slow.example.com').length;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(slow(), 2, 'never more than the cap in flight');
    for (let sent = 2; sent < 8; sent++) {
      await until(() => release.length > 0, 'a slow request');
      release.shift()!();
      await until(() => slow() === sent + 1, `slow request ${sent + 1}`);
      assert.equal(release.length, 2, 'still at the cap');
    }
    while (release.length > 0) release.shift()!();
    await until(() => fakes.updates.filter((u) => u.kind === 'delivered').length === 9, 'all delivered');
    await d.stop();
    assert.equal(fakes.updates.filter((u) => u.kind === 'postpone').length, 0, 'no row went back to the table');
  });

  it('with one busy endpoint, claims once per several ended POSTs, not once per webhook', async () => {
    const fakes = new Fakes();
    const d = dispatcher(fakes, { concurrency: 64, endpointConcurrency: 8, pollIntervalMs: 60_000 });
    fakes.queue.push(...Array.from({ length: 400 }, () => delivery('https://busy.example.com/')));
    d.start();
    await until(() => fakes.updates.filter((u) => u.kind === 'delivered').length === 400, 'all delivered');
    await d.stop();
    assert.equal(fakes.updates.filter((u) => u.kind === 'postpone').length, 0);
    assert.ok(fakes.claims <= 400 / 4, `${fakes.claims} claims for 400 webhooks`);
  });

  it('opens the breaker after consecutive failures: the endpoint is left alone, others still flow', async () => {
    const fakes = new Fakes();
    fakes.respond = async (request) => (request.hostname === 'down.example.com' ? { kind: 'timeout' } : { kind: 'response', statusCode: 200 });
    const d = dispatcher(fakes, { endpointConcurrency: 1 });
    fakes.queue.push(...Array.from({ length: 5 }, () => delivery('https://down.example.com/')));
    d.start();
    await until(() => fakes.updates.filter((u) => u.kind === 'retry').length === 3, 'three failures');
    await new Promise((r) => setTimeout(r, 200));
    const down = () => fakes.requests.filter((r) => r.hostname === 'down.example.com').length;
    assert.equal(down(), 3, 'threshold 3, then open: no more requests');
    fakes.queue.push(delivery('https://up.example.com/'));
    d.wake();
    await until(() => fakes.updates.some((u) => u.kind === 'delivered'), 'other endpoint delivered');
    await d.stop();
    assert.equal(down(), 3);
    for (const u of fakes.updates.filter((x) => x.kind === 'postpone')) assert.equal(u.kind === 'postpone' && u.claimedAttempts >= 1, true);
  });

  it('generates a secret for a tenant without one', async () => {
    const fakes = new Fakes();
    const d = dispatcher(fakes);
    fakes.queue.push(delivery('https://hooks.example.com/', { tenantId: 'tenant-new' }));
    d.start();
    await until(() => fakes.updates.length === 1, 'update');
    await d.stop();
    assert.deepEqual(fakes.generatedFor, ['tenant-new']);
    const secret = fakes.secretsByTenant.get('tenant-new')![0]!;
    assert.doesNotThrow(() => new Webhook(secret).verify(fakes.requests[0]!.body, fakes.requests[0]!.headers));
  });

  it('on stop, aborts attempts still running after the grace period and gives their rows back', async () => {
    const fakes = new Fakes();
    fakes.respond = (request) =>
      new Promise((resolve) => request.signal!.addEventListener('abort', () => resolve({ kind: 'network_error', code: 'aborted' })));
    const d = dispatcher(fakes);
    fakes.queue.push(delivery('https://hang.example.com/'));
    d.start();
    await until(() => fakes.requests.length === 1, 'request');
    await d.stop(50);
    assert.deepEqual(fakes.updates.map((u) => u.kind), ['postpone']);
  });

  it('a wake makes it claim at once instead of waiting for the poll', async () => {
    const fakes = new Fakes();
    const d = dispatcher(fakes, { pollIntervalMs: 60_000 });
    d.start();
    await new Promise((r) => setTimeout(r, 20));
    fakes.queue.push(delivery('https://hooks.example.com/'));
    d.wake();
    await until(() => fakes.updates.length === 1, 'update', 1000);
    await d.stop();
  });
});

describe('webhook dispatcher: direct path (a consumed batch POSTed at once)', () => {
  /** A response the test releases by hand, per request. */
  const held = (fakes: Fakes, hostname: string) => {
    const release: ((result: AttemptResult) => void)[] = [];
    const fallback = fakes.respond;
    fakes.respond = (request) =>
      request.hostname === hostname ? new Promise((resolve) => release.push(resolve)) : fallback(request);
    return release;
  };

  it('sends the batch at once and writes it in one statement, delivered, without a claim or an update', async () => {
    const fakes = new Fakes();
    const d = dispatcher(fakes, { pollIntervalMs: 60_000 });
    d.start();
    const rows = [fresh('https://a.example.com/'), fresh('https://b.example.com/'), fresh('https://a.example.com/x')];
    const claimsBefore = fakes.claims;
    await d.deliverNow(rows);
    assert.equal(fakes.requests.length, 3);
    assert.equal(fakes.recorded.length, 1, 'one write for the batch');
    assert.deepEqual(
      fakes.recorded[0]!.map((r) => [r.webhookId, r.status, r.attempts, r.statusCode]),
      rows.map((r) => [r.webhookId, 'delivered', 1, 200]),
    );
    const secret = fakes.secretsByTenant.get('tenant-a')![0]!;
    for (const request of fakes.requests) assert.doesNotThrow(() => new Webhook(secret).verify(request.body, request.headers));
    assert.equal(fakes.claims, claimsBefore, 'no claim query');
    await d.stop();
    assert.deepEqual(fakes.updates, []);
  });

  it('a slow endpoint holds the batch only for the direct wait: its webhook is written leased, its late result applied to that row', async () => {
    const fakes = new Fakes();
    const release = held(fakes, 'slow.example.com');
    const d = dispatcher(fakes, { directWaitMs: 50, pollIntervalMs: 60_000 });
    d.start();
    const slow = fresh('https://slow.example.com/');
    const fast = fresh('https://fast.example.com/');
    const started = Date.now();
    await d.deliverNow([slow, fast]);
    const took = Date.now() - started;
    assert.ok(took >= 45 && took < 1000, `deliverNow took ${took} ms`);
    const written = new Map(fakes.recorded[0]!.map((r) => [r.webhookId, r]));
    assert.equal(written.get(fast.webhookId)!.status, 'delivered');
    const leased = written.get(slow.webhookId)!;
    assert.deepEqual([leased.status, leased.attempts], ['pending', 1]);
    assert.ok(leased.dueInMs >= 1000 * 2, 'due only after the lease (longer than an attempt), so no one else sends it meanwhile');
    release.shift()!({ kind: 'response', statusCode: 204 });
    await until(() => fakes.updates.length === 1, 'late result');
    assert.deepEqual(fakes.updates[0], { webhookId: slow.webhookId, target: 'callback', claimedAttempts: 1, kind: 'delivered', statusCode: 204 });
    await d.stop();
  });

  it('keeps the endpoint cap: the rest wait for a slot, and those still waiting after the wait are queued unattempted', async () => {
    const fakes = new Fakes();
    const release = held(fakes, 'busy.example.com');
    const d = dispatcher(fakes, { directWaitMs: 50, endpointConcurrency: 2, pollIntervalMs: 60_000 });
    d.start();
    const rows = Array.from({ length: 6 }, () => fresh('https://busy.example.com/'));
    const done = d.deliverNow(rows);
    await until(() => release.length === 2, 'two in flight');
    release.shift()!({ kind: 'response', statusCode: 200 }); // frees a slot within the wait: the third starts
    await until(() => release.length === 2 && fakes.requests.length === 3, 'third request');
    await done;
    assert.equal(fakes.requests.length, 3, 'never more than the cap (2) in flight');
    const states = fakes.recorded[0]!.map((r) => `${r.status}/${r.attempts}`);
    assert.deepEqual(states, ['delivered/1', 'pending/1', 'pending/1', 'pending/0', 'pending/0', 'pending/0']);
    assert.ok(fakes.recorded[0]!.slice(3).every((r) => r.dueInMs === 0), 'queued rows are due at once');
    // The queued rows go through the claim loop as slots free up.
    while (fakes.updates.filter((u) => u.kind === 'delivered').length < 5) {
      await until(() => release.length > 0 || fakes.updates.filter((u) => u.kind === 'delivered').length >= 5, 'a request');
      release.shift()?.({ kind: 'response', statusCode: 200 });
      d.wake();
    }
    await d.stop();
    assert.equal(fakes.requests.length, 6);
    assert.equal(new Set(fakes.requests.map((r) => r.headers['webhook-id'])).size, 6, 'each webhook sent once');
  });

  it('keeps the global cap (WEBHOOK_CONCURRENCY) for POSTs left running: beyond it webhooks are written unattempted, due now', async () => {
    const fakes = new Fakes();
    const release = held(fakes, 'slow.example.com');
    const d = dispatcher(fakes, { directWaitMs: 20, concurrency: 3, endpointConcurrency: 64, pollIntervalMs: 60_000 });
    d.start();
    try {
      // The first batch's POSTs outlive the direct wait and keep their slots: the cap is full.
      await d.deliverNow(Array.from({ length: 3 }, () => fresh('https://slow.example.com/')));
      await d.deliverNow(Array.from({ length: 2 }, () => fresh('https://slow.example.com/')));
      assert.equal(release.length, 3, 'never more than 3 POSTs left running');
      assert.deepEqual(
        fakes.recorded[1]!.map((r) => `${r.status}/${r.attempts}/${r.dueInMs}`),
        ['pending/0/0', 'pending/0/0'],
      );
      // Once they end, a new batch is sent at once again.
      while (release.length > 0) release.shift()!({ kind: 'response', statusCode: 200 });
      await until(() => fakes.updates.length === 3, 'late results');
      await d.deliverNow([fresh('https://fast.example.com/')]);
      assert.equal(fakes.recorded[2]![0]!.status, 'delivered');
    } finally {
      while (release.length > 0) release.shift()!({ kind: 'response', statusCode: 200 });
      await d.stop();
    }
  });

  it('writes failures with their retry, refused URLs dead without a request, and open-breaker rows unattempted', async () => {
    const fakes = new Fakes();
    fakes.respond = async (request) => (request.hostname === 'down.example.com' ? { kind: 'response', statusCode: 503 } : { kind: 'response', statusCode: 200 });
    const d = dispatcher(fakes, { breakerThreshold: 1, pollIntervalMs: 60_000, endpointConcurrency: 1 });
    d.start();
    const down = fresh('https://down.example.com/');
    const refused = fresh('http://hooks.example.com/');
    await d.deliverNow([down, refused]);
    const afterOpen = fresh('https://down.example.com/2');
    await d.deliverNow([afterOpen]);
    await d.stop();
    const written = new Map(fakes.recorded.flat().map((r) => [r.webhookId, r]));
    const retry = written.get(down.webhookId)!;
    assert.deepEqual([retry.status, retry.attempts, retry.statusCode, retry.error], ['pending', 1, 503, 'HTTP 503']);
    assert.ok(retry.dueInMs >= 4 && retry.dueInMs <= 6, 'the scaled 5 s retry');
    const dead = written.get(refused.webhookId)!;
    assert.deepEqual([dead.status, dead.deadReason], ['dead', 'ssrf_blocked']);
    const postponed = written.get(afterOpen.webhookId)!;
    assert.deepEqual([postponed.status, postponed.attempts], ['pending', 0]);
    assert.ok(postponed.dueInMs > 1000, 'due when the breaker lets a probe through');
    assert.equal(fakes.requests.length, 1, 'only the first down request; none for the refused URL or while open');
  });

  it('a failed write rejects (so the offsets stay), and a late result never goes to a row it did not insert', async () => {
    const fakes = new Fakes();
    const release = held(fakes, 'slow.example.com');
    const d = dispatcher(fakes, { directWaitMs: 30, pollIntervalMs: 60_000 });
    d.start();
    fakes.failRecord = new Error('connection reset');
    await assert.rejects(d.deliverNow([fresh('https://slow.example.com/'), fresh('https://fast.example.com/')]), /connection reset/);
    release.shift()!({ kind: 'response', statusCode: 200 });
    await new Promise((r) => setTimeout(r, 50));
    await d.stop();
    assert.deepEqual(fakes.updates, [], 'nothing written for the lost batch: the redelivered events will send again');
  });

  it('is off when stopped or with a wait of 0 (the consumer queues instead)', async () => {
    const fakes = new Fakes();
    const on = dispatcher(fakes);
    assert.equal(on.acceptsDirect(), false, 'not started');
    on.start();
    assert.equal(on.acceptsDirect(), true);
    await on.stop();
    const off = dispatcher(fakes, { directWaitMs: 0 });
    off.start();
    assert.equal(off.acceptsDirect(), false);
    await off.stop();
  });
});

describe('webhook dispatcher: SSRF verdicts reused briefly', () => {
  it('resolves a name once per cache period, connects only to the checked address, and keeps a refusal', async () => {
    const fakes = new Fakes();
    let answer = '93.184.216.34';
    const resolved: string[] = [];
    const resolver: Resolver = async (hostname) => {
      resolved.push(hostname);
      return [{ address: answer, family: 4 }];
    };
    const d = dispatcher(fakes, { guardCacheMs: 100, pollIntervalMs: 60_000 }, resolver);
    d.start();
    await d.deliverNow([fresh('https://hooks.example.com/a'), fresh('https://hooks.example.com/a')]);
    assert.deepEqual(resolved, ['hooks.example.com'], 'one resolution for both POSTs');
    // The name now points inside (DNS rebinding): within the period the POST still goes to the checked address.
    answer = '10.0.0.7';
    await d.deliverNow([fresh('https://hooks.example.com/a')]);
    assert.deepEqual(fakes.requests.map((r) => r.address.address), ['93.184.216.34', '93.184.216.34', '93.184.216.34']);
    await new Promise((r) => setTimeout(r, 120));
    const refused = fresh('https://hooks.example.com/a');
    await d.deliverNow([refused]);
    assert.equal(resolved.length, 2, 'resolved again after the period');
    assert.equal(fakes.requests.length, 3, 'the private answer is refused without a request');
    const again = fresh('https://hooks.example.com/a');
    await d.deliverNow([again]);
    await d.stop();
    assert.equal(resolved.length, 2, 'the refusal is reused too');
    const written = new Map(fakes.recorded.flat().map((r) => [r.webhookId, r]));
    for (const row of [refused, again]) assert.deepEqual([written.get(row.webhookId)!.status, written.get(row.webhookId)!.deadReason], ['dead', 'ssrf_blocked']);
  });

  it('with a cache period of 0, checks every attempt', async () => {
    const fakes = new Fakes();
    let resolutions = 0;
    const d = dispatcher(fakes, { guardCacheMs: 0, pollIntervalMs: 60_000 }, async () => {
      resolutions++;
      return [{ address: '93.184.216.34', family: 4 }];
    });
    d.start();
    await d.deliverNow([fresh('https://hooks.example.com/a'), fresh('https://hooks.example.com/a')]);
    await d.stop();
    assert.equal(resolutions, 2);
  });
});
