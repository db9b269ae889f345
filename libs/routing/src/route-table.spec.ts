import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { getCountries, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import {
  RouteTable,
  callingCodeOf,
  carrierOrder,
  countryOf,
  type BreakerState,
  type CarrierHealthView,
  type RouteConfig,
  type RouteMatch,
  type TrafficClass,
} from './route-table.js';

type CarrierEntry = string | { id: string; weight?: number; cost?: number };

/** The normalisation @sms/config's routesSchema applies (validation is that library's job and tested there). */
const routesSchema = {
  parse: (rules: { id: string; match?: RouteMatch; carriers: CarrierEntry[] }[]): RouteConfig[] =>
    rules.map((rule) => {
      const carrierOptions: Record<string, { weight?: number; cost?: number }> = {};
      const carriers = rule.carriers.map((c) => {
        if (typeof c === 'string') return c;
        if (c.weight !== undefined || c.cost !== undefined) carrierOptions[c.id] = { weight: c.weight, cost: c.cost };
        return c.id;
      });
      return { id: rule.id, match: rule.match ?? {}, carriers, carrierOptions };
    }),
};

const routes = routesSchema.parse([
  { id: 'default', carriers: ['a', 'b'] },
  { id: 'uk', match: { prefixes: ['+44'] }, carriers: ['uk1'] },
  { id: 'uk-mobile', match: { prefixes: ['+447'] }, carriers: ['uk2', 'uk1'] },
  { id: 'uk-otp', match: { prefixes: ['+447'], trafficClasses: ['otp'] }, carriers: ['fast'] },
  { id: 'acme-promo', match: { tenants: ['acme'], trafficClasses: ['promotional'] }, carriers: ['cheap'] },
  { id: 'jersey', match: { countries: ['JE'] }, carriers: ['island'] },
  { id: 'us-acme-sender', match: { countries: ['US'], senders: ['ACME'] }, carriers: ['us-acme'] },
  { id: 'us', match: { countries: ['US', 'CA'] }, carriers: ['us1'] },
]);
const table = new RouteTable(routes, [
  { id: 'a', simulator: false },
  { id: 'b', simulator: true },
]);

describe('route table: matching', () => {
  const cases: [string, string, TrafficClass, string, string | undefined, string][] = [
    ['longest prefix wins', '+447700900001', 'transactional', 'beta', undefined, 'uk-mobile'],
    ['a more specific rule wins at equal prefix', '+447700900001', 'otp', 'beta', undefined, 'uk-otp'],
    ['shorter prefix when the longer does not match', '+441234567890', 'transactional', 'beta', undefined, 'uk'],
    ['fallback to the catch-all', '+33612345678', 'transactional', 'beta', undefined, 'default'],
    ['tenant and class rule', '+33612345678', 'promotional', 'acme', undefined, 'acme-promo'],
    ['a longer prefix beats a country rule (Jersey is +447797)', '+447797123456', 'transactional', 'beta', undefined, 'uk-mobile'],
    ['a prefix rule beats a country rule (prefix length counts first)', '+447797123456', 'otp', 'beta', undefined, 'uk-otp'],
    ['country among several (+1 is US or CA)', '+16135550123', 'transactional', 'beta', undefined, 'us'],
    ['sender condition', '+12125550123', 'transactional', 'beta', 'ACME', 'us-acme-sender'],
    ['other sender: the less specific rule', '+12125550123', 'transactional', 'beta', 'OTHER', 'us'],
  ];
  for (const [name, to, trafficClass, tenantId, from, expected] of cases) {
    test(name, () => assert.equal(table.resolve({ to, trafficClass, tenantId, from })?.routeId, expected));
  }

  test('no rule: no decision', () => {
    const strict = new RouteTable(routesSchema.parse([{ id: 'uk', match: { prefixes: ['+44'] }, carriers: ['a'] }]));
    assert.equal(strict.resolve({ to: '+33612345678', trafficClass: 'otp', tenantId: 't' }), undefined);
  });

  test('country from libphonenumber: Jersey shares +44 with GB', () => {
    const countries = new RouteTable(routesSchema.parse([
      { id: 'gb', match: { countries: ['GB'] }, carriers: ['a'] },
      { id: 'jersey', match: { countries: ['JE'] }, carriers: ['b'] },
    ]));
    assert.equal(countries.resolve({ to: '+447797123456', trafficClass: 'otp', tenantId: 't' })?.routeId, 'jersey');
    assert.equal(countries.resolve({ to: '+447911000001', trafficClass: 'otp', tenantId: 't' })?.routeId, 'gb');
    assert.equal(countries.resolve({ to: '+33612345678', trafficClass: 'otp', tenantId: 't' }), undefined);
  });

  test('country lookup', () => {
    assert.equal(countryOf('+447911000001'), 'GB');
    assert.equal(countryOf('+12125550123'), 'US');
    assert.equal(countryOf('+999123'), undefined);
  });

  test('country lookup agrees with a full libphonenumber parse for numbers of every calling code', () => {
    const codes = [...new Set(getCountries().map((c) => getCountryCallingCode(c)))];
    // Non-geographic and unassigned codes too: those must fall through to the full parse.
    const code = fc.oneof(fc.constantFrom(...codes, '800', '808', '870', '881', '882', '883', '888', '979', '999', '0'), fc.stringMatching(/^[0-9]{1,3}$/));
    fc.assert(
      fc.property(code, fc.stringMatching(/^[0-9]{0,19}$/), (cc, national) => {
        const to = `+${cc}${national}`;
        assert.equal(countryOf(to), parsePhoneNumberFromString(to)?.country, to);
      }),
      { numRuns: 10_000 },
    );
    for (const to of ['+331', '+3312', '+33123456789012345678', '+4479110001', '+447797123456', '+16135550123', '+80012345678', '+33 6 12', '']) {
      assert.equal(countryOf(to), parsePhoneNumberFromString(to)?.country, to);
    }
  });

  test('a number outside every country rule\'s calling codes is routed without a country lookup', () => {
    assert.equal(callingCodeOf('FR'), '33');
    assert.equal(callingCodeOf('XX'), undefined);
    const countries = new RouteTable(routesSchema.parse([
      { id: 'default', carriers: ['a'] },
      { id: 'fr', match: { countries: ['FR', 'XX'] }, carriers: ['b'] },
    ]));
    const gb = countries.resolve({ to: '+447911000001', trafficClass: 'otp', tenantId: 't' })!;
    assert.equal(gb.routeId, 'default');
    assert.equal(gb.country, undefined, 'not looked up');
    const fr = countries.resolve({ to: '+33612345678', trafficClass: 'otp', tenantId: 't' })!;
    assert.deepEqual([fr.routeId, fr.country], ['fr', 'FR']);
  });

  test('explain lists every rule with why it did or did not match', () => {
    const explanation = table.explain({ to: '+447911000001', trafficClass: 'otp', tenantId: 'beta' });
    assert.equal(explanation.decision?.routeId, 'uk-otp');
    assert.equal(explanation.request.country, 'GB');
    const byId = Object.fromEntries(explanation.rules.map((r) => [r.routeId, r]));
    assert.equal(byId['uk-otp']!.detail, 'prefix +447, class otp');
    assert.equal(byId['acme-promo']!.matched, false);
    assert.match(byId['acme-promo']!.detail, /traffic class otp not in \[promotional\]/);
    assert.match(byId['jersey']!.detail, /country GB not in \[JE\]/);
  });
});

describe('route table: carrier order', () => {
  const health = (states: Record<string, BreakerState>): CarrierHealthView => ({
    breaker: (carrierId, lane) => states[`${carrierId}:${lane}`],
  });
  const r = { to: '+33612345678', trafficClass: 'transactional' as const, tenantId: 't' };
  const cases: [string, Record<string, BreakerState>, boolean, string[], string[]][] = [
    ['file order when all healthy', {}, false, ['a', 'b'], []],
    ['an open breaker is skipped', { 'a:transactional': 'open' }, false, ['b'], ['a:breaker_open']],
    ['another lane\'s breaker does not matter', { 'a:otp': 'open' }, false, ['a', 'b'], []],
    ['half-open goes after closed', { 'a:transactional': 'half_open' }, false, ['b', 'a'], []],
    ['all open: tried anyway, in order', { 'a:transactional': 'open', 'b:transactional': 'open' }, false, ['a', 'b'], []],
    ['sandbox keeps simulators only', {}, true, ['b'], ['a:not_simulator']],
    ['sandbox, simulator open: nothing left but it is tried', { 'b:transactional': 'open' }, true, ['b'], ['a:not_simulator']],
  ];
  for (const [name, states, sandbox, carriers, skipped] of cases) {
    test(name, () => {
      const d = table.resolve({ ...r, sandbox }, health(states))!;
      assert.deepEqual(d.carriers, carriers);
      assert.deepEqual(d.skipped.map((s) => `${s.carrierId}:${s.reason}`), skipped);
    });
  }

  test('cheapest first, uncosted last', () => {
    const [route] = routesSchema.parse([{ id: 'c', carriers: ['x', { id: 'y', cost: 0.02 }, { id: 'z', cost: 0.01 }] }]);
    assert.deepEqual(carrierOrder(route!, 'm'), { order: ['z', 'y', 'x'], strategy: 'cheapest' });
  });

  test('weights split traffic in proportion, stable per message id, others follow by weight', () => {
    const [route] = routesSchema.parse([
      { id: 'w', carriers: [{ id: 'x', weight: 70 }, { id: 'y', weight: 20 }, { id: 'z', weight: 10 }, { id: 'off', weight: 0 }] },
    ]);
    const counts: Record<string, number> = { x: 0, y: 0, z: 0, off: 0 };
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const id = randomUUID();
      const first = carrierOrder(route!, id);
      assert.deepEqual(carrierOrder(route!, id), first, 'same message id, same order');
      assert.equal(first.order.length, 4);
      assert.equal(first.order.at(-1), first.order[0] === 'off' ? 'z' : 'off');
      counts[first.order[0]!]! += 1;
    }
    assert.equal(counts.off, 0);
    // 20,000 draws: each share is within 2 points of its weight (well over 5 standard deviations).
    assert.ok(Math.abs(counts.x! / n - 0.7) < 0.02, JSON.stringify(counts));
    assert.ok(Math.abs(counts.y! / n - 0.2) < 0.02, JSON.stringify(counts));
    assert.ok(Math.abs(counts.z! / n - 0.1) < 0.02, JSON.stringify(counts));
  });
});
