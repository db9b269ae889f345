import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { maxAttempts, nextRetryDelayMs } from './retry-schedule.js';
import { decide, isEndpointFailure, outcomeOf } from './delivery-policy.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const noJitter = { jitter: 0 };

describe('retry schedule', () => {
  it('follows immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then gives up', () => {
    const delays = Array.from({ length: 9 }, (_, i) => nextRetryDelayMs(i, noJitter));
    assert.deepEqual(delays, [0, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR, undefined]);
    assert.equal(maxAttempts, 8);
  });

  it('scales the whole schedule', () => {
    assert.equal(nextRetryDelayMs(1, { ...noJitter, scale: 0.001 }), 5);
    assert.equal(nextRetryDelayMs(7, { ...noJitter, scale: 0.001 }), 36_000);
    assert.equal(nextRetryDelayMs(8, { ...noJitter, scale: 0.001 }), undefined);
  });

  it('jitters within +-20 % by default', () => {
    assert.equal(nextRetryDelayMs(1, { random: () => 0 }), 4 * SECOND);
    assert.equal(nextRetryDelayMs(1, { random: () => 0.5 }), 5 * SECOND);
    assert.equal(nextRetryDelayMs(1, { random: () => 0.999999 }), 6 * SECOND);
    for (let i = 0; i < 200; i++) {
      const delay = nextRetryDelayMs(2)!;
      assert.ok(delay >= 4 * MINUTE && delay <= 6 * MINUTE, String(delay));
    }
  });
});

describe('delivery policy', () => {
  const response = (statusCode: number) => ({ kind: 'response' as const, statusCode });

  it('only a 2xx delivers', () => {
    for (const code of [200, 201, 202, 204, 299]) assert.deepEqual(decide(response(code), 1), { status: 'delivered' });
  });

  it('a redirect is a failure, not followed', () => {
    assert.equal(outcomeOf(response(302)), '3xx');
    assert.equal(decide(response(301), 1, noJitter).status, 'pending');
  });

  it('410 Gone stops retries', () => {
    assert.equal(outcomeOf(response(410)), 'gone');
    assert.deepEqual(decide(response(410), 1), { status: 'gone' });
  });

  it('4xx, 5xx, timeouts and connection errors are retried on the schedule', () => {
    assert.deepEqual(decide(response(500), 1, noJitter), { status: 'pending', retryInMs: 5 * SECOND });
    assert.deepEqual(decide(response(404), 2, noJitter), { status: 'pending', retryInMs: 5 * MINUTE });
    assert.deepEqual(decide({ kind: 'timeout' }, 3, noJitter), { status: 'pending', retryInMs: 30 * MINUTE });
    assert.deepEqual(decide({ kind: 'network_error', code: 'ECONNREFUSED' }, 1, noJitter), { status: 'pending', retryInMs: 5 * SECOND });
  });

  it('the eighth failure is dead', () => {
    assert.deepEqual(decide(response(503), 8), { status: 'dead', deadReason: 'attempts_exhausted' });
  });

  it('a blocked URL is dead at once', () => {
    assert.deepEqual(decide({ kind: 'blocked', reason: 'loopback address 127.0.0.1' }, 1), { status: 'dead', deadReason: 'ssrf_blocked' });
    assert.equal(outcomeOf({ kind: 'blocked', reason: 'x' }), 'blocked');
  });

  it('labels outcomes for metrics', () => {
    assert.deepEqual(
      [200, 302, 404, 500, 410].map((c) => outcomeOf(response(c))),
      ['2xx', '3xx', '4xx', '5xx', 'gone'],
    );
    assert.equal(outcomeOf({ kind: 'timeout' }), 'timeout');
  });

  it('only server-side trouble counts against the endpoint breaker', () => {
    assert.equal(isEndpointFailure(response(500)), true);
    assert.equal(isEndpointFailure(response(429)), true);
    assert.equal(isEndpointFailure({ kind: 'timeout' }), true);
    assert.equal(isEndpointFailure({ kind: 'network_error', code: 'ECONNRESET' }), true);
    assert.equal(isEndpointFailure(response(404)), false);
    assert.equal(isEndpointFailure(response(302)), false);
    assert.equal(isEndpointFailure(response(200)), false);
  });
});
