import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayFileError, parseGatewayFile } from './gateway-file.js';

const valid = `
carriers:
  - id: sim
    protocol: smpp
    smpp: { host: 127.0.0.1, port: 2775, systemId: gw, password: pw }
routes:
  - id: default
    carriers: [sim]
`;

test('a valid file parses with defaults', () => {
  const carrier = parseGatewayFile(valid).carriers[0]!;
  assert.equal(carrier.protocol, 'smpp');
  if (carrier.protocol !== 'smpp') return;
  assert.equal(carrier.smpp.window, 50);
  assert.deepEqual(carrier.smpp.binds, { otp: 1, transactional: 1, promotional: 1 });
});

const httpCarrier = `
carriers:
  - id: web
    protocol: http
    http:
      url: https://api.carrier.example/v1/sms
      auth: { type: bearer, token: t0k }
      response: { messageIdPath: data.id, errorCodePath: error.code }
      errors: { INVALID_NUMBER: { disposition: permanent, reason: invalid_destination } }
routes:
  - id: default
    carriers: [web]
`;

test('an HTTP carrier parses with its mapping defaults', () => {
  const carrier = parseGatewayFile(httpCarrier).carriers[0]!;
  assert.equal(carrier.protocol, 'http');
  if (carrier.protocol !== 'http') return;
  assert.deepEqual(carrier.http.auth, { type: 'bearer', token: 't0k' });
  assert.deepEqual(carrier.http.request.fields, { to: 'to', from: 'from', text: 'text' });
  assert.equal(carrier.http.request.format, 'json');
  assert.equal(carrier.http.response.messageIdPath, 'data.id');
  assert.deepEqual(carrier.http.lanes, { otp: 20, transactional: 20, promotional: 20 });
  assert.equal(carrier.http.errors.INVALID_NUMBER!.disposition, 'permanent');
});

test('an HTTP carrier with SMPP settings, a bad url or an unknown protocol is refused with the field', () => {
  assert.throws(() => parseGatewayFile(httpCarrier.replace('    http:\n', '    smpp: { host: h, port: 1, systemId: s, password: p }\n    http:\n')), /smpp/);
  assert.throws(() => parseGatewayFile(httpCarrier.replace('https://api.carrier.example/v1/sms', 'ftp://x')), /carriers\.0\.http\.url/);
  assert.throws(() => parseGatewayFile(httpCarrier.replace('protocol: http', 'protocol: soap')), /carriers\.0\.protocol/);
});

test('an unknown carrier in a route is refused with its path and line', () => {
  assert.throws(
    () => parseGatewayFile(valid.replace('carriers: [sim]', 'carriers: [nope]')),
    (e: unknown) => e instanceof GatewayFileError && /routes\.0\.carriers\.0 \(line 8\): unknown carrier nope/.test(e.message),
  );
});

test('an unknown key is refused', () => {
  assert.throws(() => parseGatewayFile(valid.replace('protocol: smpp', 'protocol: smpp\n    colour: red')), /colour/);
});
