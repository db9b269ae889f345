import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebhookHttpClient, type WebhookRequest } from './webhook-http.js';

/**
 * A self-signed certificate for hooks.test only (valid until 2126; test data, never trusted elsewhere).
 * Made with: openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
 * -subj /CN=hooks.test -addext subjectAltName=DNS:hooks.test
 */
const HOOKS_TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmDCCAT6gAwIBAgIUXK6EyGMjBpvyb+lH0ODEzVYP0FwwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKaG9va3MudGVzdDAgFw0yNjEyMDUwMDI3NDBaGA8yMTI2MTEx
MTAwMjc0MFowFTETMBEGA1UEAwwKaG9va3MudGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABM0Pp5IZTTaUB2Ew3cW2n9AxfpuB7+WchcBK/vus8X2XcwZTyptD
y7xiE4yn59pIPjP8MRmXJC0kwboC1OXtxMmjajBoMB0GA1UdDgQWBBQFT1qzPknw
oJmzdVsj5HoXfgukKDAfBgNVHSMEGDAWgBQFT1qzPknwoJmzdVsj5HoXfgukKDAP
BgNVHRMBAf8EBTADAQH/MBUGA1UdEQQOMAyCCmhvb2tzLnRlc3QwCgYIKoZIzj0E
AwIDSAAwRQIhALwQsQlQP8ahE4TPl+D/qpoy8VSMPKN8YAoUVTsuwCv1AiAa6ull
4zc3pL5SYgD0PsrXWPc25JqA9DPF7M2C3DGN5w==
-----END CERTIFICATE-----
`;
const HOOKS_TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgspZ7bWdoOvGLQKbs
3KoIFJIGJuG2QjqJbTIuBNRIomKhRANCAATND6eSGU02lAdhMN3Ftp/QMX6bge/l
nIXASv77rPF9l3MGU8qbQ8u8YhOMp+faSD4z/DEZlyQtJMG6AtTl7cTJ
-----END PRIVATE KEY-----
`;

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
      } else if (req.url?.startsWith('/early-hints')) {
        // an interim 103, then the final status
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        setTimeout(() => res.writeHead(201).end(), 50);
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

  it('an interim 1xx is not the result: the final status line is', async () => {
    const result = await client.post(request('/early-hints'));
    assert.deepEqual(result, { kind: 'response', statusCode: 201 });
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

  it('https: connects to the checked address, with the URL\'s name in SNI, Host and the certificate check', async () => {
    const handshakes: (string | false | null)[] = [];
    const hosts: (string | undefined)[] = [];
    const server = https.createServer({ cert: HOOKS_TEST_CERT, key: HOOKS_TEST_KEY }, (req, res) => {
      hosts.push(req.headers.host);
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    server.on('secureConnection', (socket: TLSSocket) => handshakes.push(socket.servername));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const tlsPort = (server.address() as AddressInfo).port;
    const trusting = new WebhookHttpClient({ ca: HOOKS_TEST_CERT });
    try {
      // hooks.test does not resolve: the handshake can only reach the server through the checked address.
      const ok = await trusting.post(request('/hook', { url: new URL(`https://hooks.test:${tlsPort}/hook`), hostname: 'hooks.test' }));
      assert.deepEqual(ok, { kind: 'response', statusCode: 204 });
      assert.deepEqual(handshakes, ['hooks.test']);
      assert.deepEqual(hosts, [`hooks.test:${tlsPort}`]);
      // The certificate is checked against the URL's name, not the address: another name is refused.
      const other = await trusting.post(request('/hook', { url: new URL(`https://other.test:${tlsPort}/hook`), hostname: 'other.test' }));
      assert.equal(other.kind, 'network_error');
      assert.equal(hosts.length, 1);
    } finally {
      trusting.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
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
    const single = new WebhookHttpClient({ connectionsPerOrigin: 1 });
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

  it('a request undici refuses (a header value with a line break) is a network error, not a hang or a throw', async () => {
    const result = await client.post(request('/ok', { headers: { 'x-injected': 'a\r\nx-evil: 1' } }));
    assert.equal(result.kind, 'network_error');
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
