import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointGate, endpointOf } from './endpoint-gate.js';

function gate(overrides: Partial<{ maxInFlight: number; failureThreshold: number; cooldownMs: number }> = {}) {
  const clock = { now: 1_000_000 };
  const g = new EndpointGate({ maxInFlight: 2, failureThreshold: 3, cooldownMs: 10_000, now: () => clock.now, ...overrides });
  return { g, clock };
}

describe('endpoint gate', () => {
  it('caps concurrent requests per endpoint, not globally', () => {
    const { g } = gate();
    assert.equal(g.tryAcquire('https://a:443').ok, true);
    assert.equal(g.tryAcquire('https://a:443').ok, true);
    const third = g.tryAcquire('https://a:443');
    assert.equal(third.ok, false);
    assert.equal(!third.ok && third.reason, 'busy');
    assert.equal(g.tryAcquire('https://b:443').ok, true);
    assert.deepEqual(g.unavailable(), ['https://a:443']);
    g.release('https://a:443', false);
    assert.equal(g.tryAcquire('https://a:443').ok, true);
  });

  it('opens after consecutive failures, then lets one probe through after the cooldown', () => {
    const { g, clock } = gate();
    const e = 'https://down:443';
    for (let i = 0; i < 3; i++) {
      assert.equal(g.tryAcquire(e).ok, true);
      g.release(e, true);
    }
    assert.equal(g.isOpen(e), true);
    const refused = g.tryAcquire(e);
    assert.deepEqual(refused, { ok: false, reason: 'open', retryAt: clock.now + 10_000 });
    assert.deepEqual(g.unavailable(), [e]);

    clock.now += 10_001;
    assert.equal(g.tryAcquire(e).ok, true, 'probe admitted');
    assert.equal(g.tryAcquire(e).ok, false, 'only one probe at a time');
    g.release(e, true);
    assert.equal(g.isOpen(e), true, 'failed probe re-opens');

    clock.now += 10_001;
    assert.equal(g.tryAcquire(e).ok, true);
    g.release(e, false);
    assert.equal(g.isOpen(e), false);
    assert.equal(g.tryAcquire(e).ok, true);
    assert.equal(g.tryAcquire(e).ok, true);
  });

  it('a success resets the failure count', () => {
    const { g } = gate();
    const e = 'http://flaky:80';
    for (const failed of [true, true, false, true, true]) {
      g.tryAcquire(e);
      g.release(e, failed);
    }
    assert.equal(g.isOpen(e), false);
    assert.equal(g.openCount(), 0);
  });

  it('forgets healthy idle endpoints', () => {
    const { g } = gate();
    g.tryAcquire('http://x:80');
    g.release('http://x:80', false);
    assert.deepEqual(g.unavailable(), []);
  });

  it('keys endpoints by scheme, host and port', () => {
    assert.equal(endpointOf('https://Example.COM/hook?token=1'), 'https://example.com:443');
    assert.equal(endpointOf('http://127.0.0.1:8080/a'), 'http://127.0.0.1:8080');
    assert.equal(endpointOf('http://[::1]/a'), 'http://[::1]:80');
    assert.equal(endpointOf('not a url'), '');
  });
});
