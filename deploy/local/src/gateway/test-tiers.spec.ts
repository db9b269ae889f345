import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testRunnerArgs } from './test-tiers.js';

test('integration and e2e files run one at a time whatever the core count; unit files in parallel', () => {
  for (const tier of ['integration', 'e2e'] as const) {
    const args = testRunnerArgs(tier, ['a.js', 'b.js'], '/tmp/t.tap');
    assert.ok(args.includes('--test-concurrency=1'), tier);
    assert.deepEqual(args.slice(-2), ['a.js', 'b.js']);
  }
  assert.ok(!testRunnerArgs('unit', ['a.js'], '/tmp/t.tap').some((a) => a.startsWith('--test-concurrency')));
});

test('each tier has its own per-test timeout and writes TAP for the totals', () => {
  assert.ok(testRunnerArgs('unit', [], '/x.tap').includes('--test-timeout=60000'));
  assert.ok(testRunnerArgs('e2e', [], '/x.tap').includes('--test-timeout=600000'));
  assert.ok(testRunnerArgs('integration', [], '/x.tap').includes('--test-reporter-destination=/x.tap'));
});
