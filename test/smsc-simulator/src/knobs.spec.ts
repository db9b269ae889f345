import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyKnobs, DEFAULT_KNOBS, KnobError, parseKnobsPatch, pickKnobs } from './knobs.js';

void describe('knobs', () => {
  void it('defaults to a well-behaved carrier', () => {
    assert.deepEqual(DEFAULT_KNOBS, {
      latencyMs: 0,
      receiptDelayMs: 500,
      throttleAboveMps: null,
      transientErrorRate: 0,
      dropResponseRate: 0,
      disconnectAfterSubmits: null,
      windowLimit: null,
      outcomeMix: { delivered: 1, undeliverable: 0, expired: 0, rejected: 0 },
    });
  });

  void it('replaces the whole outcome mix with a partial one', () => {
    const next = applyKnobs({ ...DEFAULT_KNOBS }, { outcomeMix: { undeliverable: 3, expired: 1 } });
    assert.deepEqual(next.outcomeMix, { delivered: 0, undeliverable: 3, expired: 1, rejected: 0 });
  });

  void it('rejects bad input', () => {
    for (const bad of [
      null,
      [],
      { latencyMs: '5' },
      { windowLimit: -1 },
      { transientErrorRate: 1.5 },
      { outcomeMix: { sent: 1 } },
      { x: 1 },
    ]) {
      assert.throws(() => parseKnobsPatch(bad), KnobError, JSON.stringify(bad));
    }
    assert.deepEqual(parseKnobsPatch({ throttleAboveMps: null }), { throttleAboveMps: null });
  });

  void it('picks knob fields out of wider options', () => {
    const options = { latencyMs: 3, port: 2775, credentials: [] };
    assert.deepEqual(pickKnobs(options), { latencyMs: 3 });
  });
});
