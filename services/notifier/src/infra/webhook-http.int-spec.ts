import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookHttpClient, type WebhookRequest } from './webhook-http.js';

/** Real HTTP servers on 127.0.0.1 (no Kafka, no database): what the webhook client does on the wire. */
describe('webhook http client', () => {
  const seen: { host: string | undefined; url: string | undefined; body: string; headers: http.IncomingHttpHeaders }[] = [];
  let redirectTargetHits = 0;
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
