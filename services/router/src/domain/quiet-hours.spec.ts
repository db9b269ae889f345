import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isQuietMinute, localMinute, parseQuietWindow, releaseAt, zonesOf } from './quiet-hours.js';

const night = parseQuietWindow('21:00-08:00');

describe('quiet hours', () => {
  test('parse and membership, wrapping midnight or not', () => {
    assert.deepEqual(night, { start: 1260, end: 480 });
    const cases: [string, number, boolean][] = [
      ['21:00-08:00', 21 * 60, true],
      ['21:00-08:00', 7 * 60 + 59, true],
      ['21:00-08:00', 8 * 60, false],
      ['21:00-08:00', 20 * 60 + 59, false],
      ['12:00-14:00', 13 * 60, true],
      ['12:00-14:00', 14 * 60, false],
    ];
    for (const [w, minute, quiet] of cases) assert.equal(isQuietMinute(parseQuietWindow(w), minute), quiet, `${w} at ${minute}`);
    assert.throws(() => parseQuietWindow('9-17'), /21:00-08:00/);
    assert.throws(() => parseQuietWindow('08:00-08:00'), /differ/);
  });

  test('zones of a country from ICU', () => {
    assert.deepEqual(zonesOf('FR'), ['Europe/Paris']);
    assert.ok(zonesOf('US').includes('America/New_York') && zonesOf('US').includes('Pacific/Honolulu'));
    assert.deepEqual(zonesOf('ZZ'), []);
  });

  const release: [string, string, string[], string | undefined][] = [
    ['daytime in Paris: now', '2026-06-15T10:00:00Z', ['Europe/Paris'], undefined],
    ['23:30 in Paris (CEST): 08:00 local', '2026-06-15T21:30:00Z', ['Europe/Paris'], '2026-06-16T06:00:00.000Z'],
    ['winter, 22:00 in Paris (CET)', '2026-01-15T21:00:00Z', ['Europe/Paris'], '2026-01-16T07:00:00.000Z'],
    ['exactly 21:00 local is quiet', '2026-06-15T19:00:00Z', ['Europe/Paris'], '2026-06-16T06:00:00.000Z'],
    ['07:59 local waits a minute', '2026-06-16T05:59:30Z', ['Europe/Paris'], '2026-06-16T06:00:00.000Z'],
    // Spring forward in Europe: 29 March 2026 02:00 CET -> 03:00 CEST; 08:00 CEST is 06:00Z.
    ['over the spring DST change', '2026-03-28T22:00:00Z', ['Europe/Paris'], '2026-03-29T06:00:00.000Z'],
    // Fall back: 25 October 2026 03:00 CEST -> 02:00 CET; 08:00 CET is 07:00Z.
    ['over the autumn DST change', '2026-10-24T22:00:00Z', ['Europe/Paris'], '2026-10-25T07:00:00.000Z'],
    // Half-hour zone: India is UTC+5:30; 22:00 IST = 16:30Z, 08:00 IST = 02:30Z.
    ['half-hour offset (Asia/Kolkata)', '2026-06-15T16:30:00Z', ['Asia/Kolkata'], '2026-06-16T02:30:00.000Z'],
    // 14:00Z is 10:00 in New York but 04:00 in Honolulu: wait for Honolulu's 08:00 (18:00Z).
    ['several zones: the last one to wake up', '2026-06-15T14:00:00Z', ['America/New_York', 'Pacific/Honolulu'], '2026-06-15T18:00:00.000Z'],
    ['no zone known: now', '2026-06-15T21:30:00Z', [], undefined],
  ];
  for (const [name, now, zones, expected] of release) {
    test(name, () => assert.equal(releaseAt(new Date(now), zones, night)?.toISOString(), expected));
  }

  test('zones whose quiet periods cover the day: released when the last quiet period ends', () => {
    // 23 hours quiet: Paris and Tokyo have no common free minute.
    const long = parseQuietWindow('09:00-08:00');
    const at = releaseAt(new Date('2026-06-15T12:00:00Z'), ['Europe/Paris', 'Asia/Tokyo'], long);
    assert.ok(at && at.getTime() > Date.parse('2026-06-15T12:00:00Z'));
  });

  test('local minute', () => assert.equal(localMinute(new Date('2026-06-15T21:30:00Z'), 'Europe/Paris'), 23 * 60 + 30));
});
