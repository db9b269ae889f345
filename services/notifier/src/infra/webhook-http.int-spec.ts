import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookHttpClient, type WebhookRequest } from './webhook-http.js';

/** Real HTTP servers on 127.0.0.1 (no Kafka, no database): what the webhook client does on the wire. */
describe('webhook http client', () => {
  const seen: { host: string | undefined; url: string | undefined; body: string; headers: http.IncomingHttpHeaders }[] = [];
  let redirectTargetHits = 0;
  let resolveStreamClosed: (ms: number) => void = () => undefined;
  const streamClosed = new Promise<number>((resolve) => (resolveStreamClosed = resolve));
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ host: req.headers.host, url: req.url, body, headers: req.headers });
      if (req.url?.startsWith('/redirect')) {
        res.writeHead(302, { location: `http://127.0.0.1:${port}/target` }).end();
      } else if (req.url?.startsWith('/target')) {
        redirectTargetHits++;
        res.writeHead(200).end();
      } else if (req.url?.startsWith('/hang')) {
        // never answers
      } else if (req.url?.startsWith('/stream')) {
        // a status line, then a body that never ends
        const opened = Date.now();
        res.writeHead(200, { 'content-type': 'text/plain' });
        const ticker = setInterval(() => res.write('x'.repeat(1024)), 20);
        res.on('close', () => {
          clearInterval(ticker);
          resolveStreamClosed(Date.now() - opened);
        });
      } else {
        res.writeHead(204).end();
      }
    });
  });
  let port = 0;
  const client = new WebhookHttpClient();

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const request = (path: string, overrides: Partial<WebhookRequest> = {}): WebhookRequest => ({
    url: new URL(`http://hooks.rebind.invalid:${port}${path}`),
    hostname: 'hooks.rebind.invalid',
    address: { address: '127.0.0.1', family: 4 },
    headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' },
    body: '{"a":1}',
    deadline: Date.now() + 2000,
    ...overrides,
  });

  it('connects to the checked address while keeping the name in Host (no second resolution)', async () => {
    // hooks.rebind.invalid cannot resolve: reaching the server proves the pinned address was used.
    const result = await client.post(request('/hook?token=t'));
    assert.deepEqual(result, { kind: 'response', statusCode: 204 });
    const last = seen.at(-1)!;
    assert.equal(last.host, `hooks.rebind.invalid:${port}`);
    assert.equal(last.url, '/hook?token=t');
    assert.equal(last.body, '{"a":1}');
    assert.equal(last.headers['webhook-id'], 'msg_1');
    assert.equal(last.headers['content-length'], '7');
  });

  it('does not follow redirects', async () => {
    const result = await client.post(request('/redirect'));
    assert.deepEqual(result, { kind: 'response', statusCode: 302 });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(redirectTargetHits, 0);
  });

  it('gives up at the deadline', async () => {
    const started = Date.now();
    const result = await client.post(request('/hang', { deadline: Date.now() + 300 }));
    assert.deepEqual(result, { kind: 'timeout' });
    const took = Date.now() - started;
    assert.ok(took >= 280 && took < 1500, `took ${took} ms`);
  });

  it('reports connection errors', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await client.post(request('/x', { url: new URL(`http://hooks.rebind.invalid:${deadPort}/x`) }));
    assert.deepEqual(result, { kind: 'network_error', code: 'ECONNREFUSED' });
  });

  it('connects to the checked address although the name now resolves to another one, with a pool per address', async () => {
    // Two receivers on one port: 127.0.0.2 (the checked address) and 127.0.0.1 (what "localhost" resolves to).
    const hits: string[] = [];
    const receiver = (name: string) =>
      http.createServer((req, res) => {
        hits.push(name);
        req.resume();
        req.on('end', () => res.writeHead(204).end());
      });
    const checked = receiver('checked');
    const resolved = receiver('resolved');
    let samePort = 0;
    for (let tries = 0; tries < 5 && samePort === 0; tries++) {
      await new Promise<void>((resolve) => checked.listen(0, '127.0.0.2', resolve));
      const candidate = (checked.address() as AddressInfo).port;
      const bound = await new Promise<boolean>((resolve) => {
        resolved.once('error', () => resolve(false));
        resolved.listen(candidate, '127.0.0.1', () => resolve(true));
      });
      if (bound) samePort = candidate;
      else await new Promise((resolve) => checked.close(resolve));
    }
    assert.ok(samePort > 0, 'no port free on both loopback addresses');
    try {
      const url = new URL(`http://localhost:${samePort}/hook`);
      const first = await client.post(request('/hook', { url, hostname: 'localhost', address: { address: '127.0.0.2', family: 4 } }));
      assert.deepEqual(first, { kind: 'response', statusCode: 204 });
      assert.deepEqual(hits, ['checked']);
      // Same URL, a later check answered 127.0.0.1: the keep-alive socket to 127.0.0.2 must not carry it.
      const second = await client.post(request('/hook', { url, hostname: 'localhost', address: { address: '127.0.0.1', family: 4 } }));
      assert.deepEqual(second, { kind: 'response', statusCode: 204 });
      assert.deepEqual(hits, ['checked', 'resolved']);
    } finally {
      for (const server of [checked, resolved]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  it('sends URL credentials as Basic auth, as node:http did', async () => {
    const url = new URL(`http://us%40er:p%3Ass@hooks.rebind.invalid:${port}/auth`);
    const result = await client.post(request('/auth', { url }));
    assert.deepEqual(result, { kind: 'response', statusCode: 204 });
    assert.equal(seen.at(-1)!.headers.authorization, `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
  });

  it('answers at the status line and stops draining an endless body shortly after the deadline', async () => {
    const started = Date.now();
    const result = await client.post(request('/stream', { deadline: Date.now() + 300 }));
    assert.deepEqual(result, { kind: 'response', statusCode: 200 });
    assert.ok(Date.now() - started < 250, 'answered at the status line, not at the end of the body');
    const closedAfter = await streamClosed;
    // Deadline 300 ms, then at most a second of draining and one sweep tick.
    assert.ok(closedAfter >= 280 && closedAfter < 2500, `socket closed after ${closedAfter} ms`);
  });

  it('a request still waiting for a connection of its pool times out at its own deadline', async () => {
    // One connection per origin: the hanging request holds it, the second one never gets a socket.
    const single = new WebhookHttpClient(1);
    try {
      const hanging = single.post(request('/hang', { deadline: Date.now() + 3000 }));
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      const queued = await single.post(request('/ok', { deadline: Date.now() + 300 }));
      const took = Date.now() - started;
      assert.deepEqual(queued, { kind: 'timeout' });
      assert.ok(took >= 280 && took < 1500, `took ${took} ms`);
      assert.deepEqual(await hanging, { kind: 'timeout' });
    } finally {
      single.close();
    }
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const pending = client.post(request('/hang', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    const result = await pending;
    assert.equal(result.kind, 'network_error');
  });

  it('one signal shared by many requests: finished ones are unaffected, every pending one stops on abort', async () => {
    const controller = new AbortController();
    const done = await client.post(request('/ok', { signal: controller.signal }));
    assert.deepEqual(done, { kind: 'response', statusCode: 204 });
    const pending = Array.from({ length: 20 }, () => client.post(request('/hang', { signal: controller.signal })));
    setTimeout(() => controller.abort(), 50);
    const results = await Promise.all(pending);
    assert.deepEqual(new Set(results.map((r) => r.kind)), new Set(['network_error']));
  });
});
