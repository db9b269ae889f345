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
  const file = parseGatewayFile(valid);
  assert.equal(file.carriers[0]!.smpp.window, 50);
  assert.deepEqual(file.carriers[0]!.smpp.binds, { otp: 1, transactional: 1, promotional: 1 });
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
