import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { parseWeights, plannedMessages, resolveProfile, scenariosDir } from './profile.js';

test('every shipped scenario loads; the issue\'s five are there', () => {
  const names = readdirSync(scenariosDir).map((f) => f.replace(/\.json$/, ''));
  for (const required of ['steady', 'burst', 'otp-under-flood', 'multipart-unicode', 'kafka-entry']) assert.ok(names.includes(required), required);
  for (const name of names) assert.ok(plannedMessages(resolveProfile({ scenario: name })) > 0, name);
  const steady = resolveProfile({ scenario: 'steady' });
  assert.equal(steady.phases[0]!.durationS, 300);
  const flood = resolveProfile({ scenario: 'otp-under-flood' });
  assert.deepEqual(flood.phases.map((p) => [p.messages ?? null, p.rate, p.entry, Object.keys(p.mix)]), [
    [100000, 20000, 'kafka', ['promotional']],
    [null, 50, 'rest', ['otp']],
  ]);
});

test('flags rescale a multi-phase scenario and keep its shape', () => {
  const burst = resolveProfile({ scenario: 'burst', rate: 100 });
  assert.deepEqual(burst.phases.map((p) => p.rate), [100, 1000, 100], 'the spike stays 10x the base');
  const short = resolveProfile({ scenario: 'burst', durationS: 10 });
  assert.deepEqual(short.phases.map((p) => p.durationS), [4, 2, 4]);
  const counted = resolveProfile({ scenario: 'steady', messages: 500, entry: 'kafka', latencyMs: 5 });
  assert.equal(counted.phases[0]!.messages, 500);
  assert.equal(counted.phases[0]!.durationS, undefined);
  assert.equal(counted.phases[0]!.entry, 'kafka');
  assert.equal(counted.simulator.latencyMs, 5);
  const scaled = resolveProfile({ scenario: 'otp-under-flood', phaseOverrides: ['flood.messages=20000', 'otp.durationS=30'] });
  assert.deepEqual(scaled.phases.map((p) => [p.messages, p.durationS]), [[20000, undefined], [undefined, 30]]);
  assert.throws(() => resolveProfile({ scenario: 'steady', phaseOverrides: ['nope.rate=1'] }), /no phase "nope"/);
  const adhoc = resolveProfile({ messages: 50, rate: 10, mix: { otp: 1 } });
  assert.equal(adhoc.scenario, 'custom');
  assert.equal(plannedMessages(adhoc), 50);
});

test('parseWeights reads k=w lists and refuses unknown keys', () => {
  assert.deepEqual(parseWeights('otp=1,promotional=3', ['otp', 'transactional', 'promotional']), { otp: 1, promotional: 3 });
  assert.deepEqual(parseWeights('otp', ['otp']), { otp: 1 });
  assert.throws(() => parseWeights('sms=1', ['otp']), /unknown mix key/);
  assert.throws(() => resolveProfile({ scenario: 'no-such-scenario' }), /no scenario/);
});
