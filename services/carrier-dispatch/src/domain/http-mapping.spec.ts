import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayFile } from '@sms/config';
import { classifyHttpFailure, httpStatusCodes } from './error-map.js';
import { buildHttpSubmit, interpretHttpAnswer, readPath, type HttpCarrierSettings } from './http-mapping.js';

function settings(http: string): HttpCarrierSettings {
  const carrier = parseGatewayFile(`carriers:\n  - id: web\n    protocol: http\n    http: ${http}\nroutes:\n  - { id: r, carriers: [web] }\n`).carriers[0]!;
  if (carrier.protocol !== 'http') throw new Error('not http');
  return carrier.http;
}

const message = { from: '+447700900123', to: '+447911000001', text: 'héllo', reference: 'm-1', validUntil: '2026-11-26T00:00:00.000Z' };

test('a JSON request carries the mapped field names, constants and bearer auth', () => {
  const s = settings(
    '{ url: "https://c.example/sms", auth: { type: bearer, token: tk }, request: { fields: { to: msisdn, from: sender, text: content, reference: clientRef }, stripPlus: true, static: { account: 7 } } }',
  );
  const request = buildHttpSubmit(s, message);
  assert.equal(request.url, 'https://c.example/sms');
  assert.equal(request.headers.authorization, 'Bearer tk');
  assert.equal(request.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(request.body), { account: 7, msisdn: '447911000001', sender: '447700900123', content: 'héllo', clientRef: 'm-1' });
});

test('a form request with basic auth and an alphanumeric sender kept as is', () => {
  const s = settings('{ url: "http://c.example/send", auth: { type: basic, username: u, password: p }, request: { format: form } }');
  const request = buildHttpSubmit(s, { ...message, from: 'ACME' });
  assert.equal(request.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
  assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.deepEqual(Object.fromEntries(new URLSearchParams(request.body)), { to: '+447911000001', from: 'ACME', text: 'héllo' });
});

test('a custom auth header', () => {
  const request = buildHttpSubmit(settings('{ url: "http://c.example/send", auth: { type: header, name: X-Api-Key, value: k1 } }'), message);
  assert.equal(request.headers['x-api-key'], 'k1');
});

test('the message id is read from the configured path of a 2xx answer', () => {
  const s = settings('{ url: "http://c.example/send", response: { messageIdPath: messages.0.id } }');
  assert.deepEqual(interpretHttpAnswer(s, 201, '{"messages":[{"id":"0A1b"}]}'), { ok: true, messageId: '0A1b' });
  assert.deepEqual(interpretHttpAnswer(s, 200, '{"messages":[{"id":12345}]}'), { ok: true, messageId: '12345' });
  assert.equal(readPath({ a: { b: [1, 2] } }, 'a.b.1'), 2);
});

test('a 2xx without a message id is a broken carrier answer: fail over, never counted as submitted', () => {
  const s = settings('{ url: "http://c.example/send" }');
  for (const body of ['{}', 'not json', '{"messageId":"has space"}']) {
    const answer = interpretHttpAnswer(s, 200, body);
    assert.equal(answer.ok, false);
    if (!answer.ok) assert.deepEqual(answer.failure, { disposition: 'failover', reason: 'carrier_protocol_error', finalStatus: 'failed' });
  }
});

test("the carrier's own error code, when mapped, decides before the HTTP status; the raw code is kept", () => {
  const s = settings(
    '{ url: "http://c.example/send", response: { errorCodePath: error.code }, errors: { INVALID_NUMBER: { disposition: permanent, reason: invalid_destination }, BUSY: { disposition: retry, reason: carrier_busy } } }',
  );
  assert.deepEqual(interpretHttpAnswer(s, 400, '{"error":{"code":"INVALID_NUMBER"}}'), {
    ok: false,
    failure: { disposition: 'permanent', reason: 'invalid_destination', finalStatus: 'rejected' },
    carrierCode: 'INVALID_NUMBER',
  });
  const busy = interpretHttpAnswer(s, 400, '{"error":{"code":"BUSY"}}');
  assert.equal(!busy.ok && busy.failure.disposition, 'retry');
  const unmapped = interpretHttpAnswer(s, 503, '{"error":{"code":"MAINTENANCE"}}');
  assert.deepEqual(unmapped.ok ? undefined : [unmapped.failure.reason, unmapped.carrierCode], ['carrier_temporary_error', 'MAINTENANCE']);
  const noCode = interpretHttpAnswer(s, 502, '<html>bad gateway</html>');
  assert.equal(noCode.ok ? undefined : noCode.carrierCode, 'HTTP 502');
});

test('HTTP statuses: throttling and 5xx retry, auth and unknown 4xx fail over, bad request is a permanent rejection', () => {
  assert.deepEqual(classifyHttpFailure(429, undefined), { disposition: 'retry', reason: 'carrier_throttled', finalStatus: 'failed' });
  for (const status of [500, 502, 503, 504, 599]) assert.equal(classifyHttpFailure(status, undefined).disposition, 'retry');
  for (const status of [401, 403, 404, 418]) assert.equal(classifyHttpFailure(status, undefined).disposition, 'failover');
  assert.deepEqual(classifyHttpFailure(400, undefined), { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' });
  for (const status of httpStatusCodes) assert.match(classifyHttpFailure(status, undefined).reason, /^[a-z_]+$/);
});
