import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peakPerSecond, summarize, sustainedRate } from './stats.js';

test('summarize gives nearest-rank percentiles of observed values', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
  const s = summarize(values)!;
  assert.deepEqual({ count: s.count, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max, mean: s.mean }, { count: 100, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
  assert.equal(summarize([]), null);
  assert.equal(summarize([7])!.p99, 7);
});

test('peakPerSecond counts the busiest whole second; sustainedRate spans first to last', () => {
  const base = 1_700_000_000_000;
  const ts = [base + 10, base + 500, base + 999, base + 1000, base + 2000];
  assert.equal(peakPerSecond(ts), 3);
  assert.equal(sustainedRate(ts), 5 / 1.99);
  assert.equal(sustainedRate([base + 2000, base + 3000], base), 2 / 3, "counted from the given start");
  assert.equal(sustainedRate([base]), 0);
});
