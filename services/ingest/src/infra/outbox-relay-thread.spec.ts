import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Throttle } from './outbox-relay-thread.js';

test('wake-ups of the relay thread: a lone one at once, a burst merged into one at the end of the interval', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 1000;
  const runs: number[] = [];
  const throttle = new Throttle(10, () => runs.push(now), () => now);

  throttle.call();
  assert.deepEqual(runs, [1000], 'the first at once');
  now = 1003;
  throttle.call();
  now = 1006;
  throttle.call();
  assert.deepEqual(runs, [1000], 'the next ones wait for the interval');
  now = 1010;
  t.mock.timers.tick(7);
  assert.deepEqual(runs, [1000, 1010], 'merged into one');
  t.mock.timers.tick(100);
  assert.deepEqual(runs, [1000, 1010]);

  now = 1050;
  throttle.call();
  assert.deepEqual(runs, [1000, 1010, 1050], 'after a quiet interval, at once again');
  now = 1052;
  throttle.call();
  throttle.cancel();
  t.mock.timers.tick(100);
  assert.deepEqual(runs, [1000, 1010, 1050], 'cancelled');
});
