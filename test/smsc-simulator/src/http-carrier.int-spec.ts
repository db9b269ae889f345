import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHttpCarrier } from './http-carrier.js';
import { magicNumber } from './simulator.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receipt callback on real HTTP that answers `status` (to prove the carrier resends on non-2xx). */
async function callback(statuses: number[] = []): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/carriers/web/receipts`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const submit = (url: string, body: unknown, token = 'tk') =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });

const waitFor = async <T>(fn: () => T | undefined, ms = 5000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('a submit answers a carrier message id and the outcome arrives as a signed receipt, resent after a non-2xx', async () => {
  const receipts = await callback([503]);
  const carrier = await startHttpCarrier({ token: 'tk', receiptUrl: receipts.url, receiptSecret: 'a-secret-of-16-chars', receiptDelayMs: 10, outcomeMix: { undeliverable: 1 } });
  try {
    const answer = await submit(carrier.submitUrl, { to: '+447911000123', from: 'ACME', text: 'hi', reference: 'r1' });
    assert.equal(answer.status, 200);
    const { messageId } = (await answer.json()) as { messageId: string };
    assert.match(messageId, /^[0-9A-F]{12}$/);
    const [first, second] = await waitFor(() => (receipts.received.length >= 2 ? receipts.received : undefined));
    assert.equal(first!.body, second!.body, 'the same receipt resent after the 503');
    const receipt = JSON.parse(second!.body) as { carrierMessageId: string; status: string; errorCode: string };
    assert.deepEqual([receipt.carrierMessageId, receipt.status, receipt.errorCode], [messageId, 'UNDELIV', '001']);
    const timestamp = second!.headers['x-carrier-timestamp'] as string;
    const expected = createHmac('sha256', 'a-secret-of-16-chars').update(`${timestamp}.${second!.body}`).digest('hex');
    assert.equal(second!.headers['x-carrier-signature'], `sha256=${expected}`);
    await waitFor(() => (carrier.submits({ to: '447911000123' })[0]!.receipt === 'sent' ? true : undefined));
    assert.equal((await submit(carrier.submitUrl, { to: '+447911000123', from: 'ACME', text: 'hi' }, 'wrong')).status, 401);
  } finally {
    await carrier.stop();
    await receipts.close();
  }
});

test('knobs: latency delays the answer, throttling answers 429, transient errors 503, magic numbers their verdict', async () => {
  const carrier = await startHttpCarrier({ latencyMs: 150 });
  try {
    const started = Date.now();
    assert.equal((await submit(carrier.submitUrl, { to: '+447911000124', from: 'ACME', text: 'x' })).status, 200);
    assert.ok(Date.now() - started >= 140, 'latency applied');
    carrier.setKnobs({ latencyMs: 0, throttleAboveMps: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await submit(carrier.submitUrl, { to: '+447911000125', from: 'ACME', text: `t${i}` })).status);
    assert.ok(statuses.includes(429), `statuses ${statuses.join(',')}`);
    carrier.setKnobs({ throttleAboveMps: null, transientErrorRate: 1 });
    const transient = await submit(carrier.submitUrl, { to: '+447911000126', from: 'ACME', text: 'y' });
    assert.equal(transient.status, 503);
    assert.deepEqual(((await transient.json()) as { error: { code: string } }).error.code, 'TEMPORARY');
    carrier.setKnobs({ transientErrorRate: 0 });
    const invalid = await submit(carrier.submitUrl, { to: `+${magicNumber('INVALID_DESTINATION')}`, from: 'ACME', text: 'z' });
    assert.equal(invalid.status, 400);
    assert.equal(((await invalid.json()) as { error: { code: string } }).error.code, 'INVALID_NUMBER');
    assert.equal((await submit(carrier.submitUrl, { to: '+447911000127', from: 'ACME' })).status, 400);
    // Control API over HTTP, like the SMPP simulator's.
    const knobs = await fetch(`${carrier.baseUrl}/knobs`, { method: 'PATCH', body: JSON.stringify({ latencyMs: 5 }) });
    assert.equal(((await knobs.json()) as { latencyMs: number }).latencyMs, 5);
    const listed = (await (await fetch(`${carrier.baseUrl}/submits?to=447911000126`)).json()) as { count: number; submits: { status: number }[] };
    assert.deepEqual([listed.count, listed.submits[0]!.status], [1, 503]);
  } finally {
    await carrier.stop();
  }
});

test('accepted submits of the same reference are reported as duplicates', async () => {
  const carrier = await startHttpCarrier();
  try {
    for (let i = 0; i < 2; i++) await submit(carrier.submitUrl, { to: '+447911000128', from: 'ACME', text: 'same', reference: 'dup' });
    await submit(carrier.submitUrl, { to: '+447911000128', from: 'ACME', text: 'other', reference: 'single' });
    assert.deepEqual(carrier.duplicates(), [{ key: 'dup', count: 2 }]);
  } finally {
    await carrier.stop();
  }
});
