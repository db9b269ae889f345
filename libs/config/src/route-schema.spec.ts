import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayFileError, parseGatewayFile } from './gateway-file.js';

const carriers = `
carriers:
  - id: a
    protocol: smpp
    smpp: { host: 127.0.0.1, port: 2775, systemId: gw, password: pw }
  - id: b
    protocol: smpp
    smpp: { host: 127.0.0.1, port: 2776, systemId: gw, password: pw }
routes:
`;

const problemsOf = (routes: string): string[] => {
  try {
    parseGatewayFile(carriers + routes);
  } catch (error) {
    if (error instanceof GatewayFileError) return error.problems;
    throw error;
  }
  return [];
};

describe('route rules in the gateway file', () => {
  test('carriers may be ids or objects with weight and cost; ids stay a plain list', () => {
    const file = parseGatewayFile(
      carriers +
        `  - id: split
    match: { countries: [GB], senders: [ACME] }
    carriers:
      - { id: a, weight: 70, cost: 0.01 }
      - { id: b, weight: 30 }
`,
    );
    const route = file.routes[0]!;
    assert.deepEqual(route.carriers, ['a', 'b']);
    assert.deepEqual(route.carrierOptions, { a: { weight: 70, cost: 0.01 }, b: { weight: 30, cost: undefined } });
    assert.deepEqual(route.match, { countries: ['GB'], senders: ['ACME'] });
  });

  const invalid: [string, string, RegExp][] = [
    ['unknown carrier', `  - id: r\n    carriers: [a, zz]\n`, /routes\.0\.carriers\.1 \(line 11\): unknown carrier zz/],
    [
      'duplicate rule',
      `  - id: r1\n    match: { prefixes: ['+44', '+33'] }\n    carriers: [a]\n  - id: r2\n    match: { prefixes: ['+33', '+44'] }\n    carriers: [b]\n`,
      /routes\.1\.id \(line 13\): duplicate rule: route r2 has the same conditions as route r1/,
    ],
    ['invalid prefix', `  - id: r\n    match: { prefixes: ['44'] }\n    carriers: [a]\n`, /routes\.0\.match\.prefixes\.0 \(line 11\): a prefix is \+ and up to 15 digits/],
    ['invalid country', `  - id: r\n    match: { countries: [gb] }\n    carriers: [a]\n`, /routes\.0\.match\.countries\.0 \(line 11\): .*ISO 3166/],
    [
      'invalid weight',
      `  - id: r\n    carriers:\n      - { id: a, weight: 1.5 }\n      - { id: b, weight: 1 }\n`,
      /routes\.0\.carriers\.0\.weight \(line 12\): a weight is a whole number/,
    ],
    ['weights all or none', `  - id: r\n    carriers:\n      - { id: a, weight: 1 }\n      - b\n`, /routes\.0\.carriers\.1 \(line 13\): weights are all or none/],
    ['carrier listed twice', `  - id: r\n    carriers: [a, a]\n`, /routes\.0\.carriers\.1 \(line 11\): carrier a is listed twice/],
  ];
  for (const [name, routes, expected] of invalid) {
    test(`${name} is refused, naming the key and line`, () => {
      const problems = problemsOf(routes);
      assert.ok(problems.some((p) => expected.test(p)), problems.join('\n'));
    });
  }
});
