import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AimdRateLimiter, shareOfMps } from './rate-limiter.js';

/** A fake clock: sleeping advances time, so a test measures slots without waiting. */
function fakeClock() {
  const clock = { t: 0, now: () => clock.t, sleep: async (ms: number) => void (clock.t += ms) };
  return clock;
}

async function sendFor(limiter: AimdRateLimiter, clock: ReturnType<typeof fakeClock>, ms: number): Promise<number> {
  const end = clock.t + ms;
  let sent = 0;
  while (clock.t < end) {
    await limiter.acquire('transactional');
    if (clock.t < end) sent++;
  }
  return sent;
}

test('spaces sends at the configured rate', async () => {
  const clock = fakeClock();
  const limiter = new AimdRateLimiter({ ceilingMps: 100, burstMs: 0, now: clock.now, sleep: clock.sleep });
  const sent = await sendFor(limiter, clock, 2000);
  assert.ok(sent >= 199 && sent <= 201, `sent ${sent} in 2 s at 100 mps`);
});

test('halves the rate on throttling, once per cooldown, not below the floor', () => {
  const clock = fakeClock();
  const limiter = new AimdRateLimiter({ ceilingMps: 100, now: clock.now, sleep: clock.sleep });
  limiter.onThrottled();
  assert.equal(limiter.currentMps, 50);
  limiter.onThrottled(); // same burst
  assert.equal(limiter.currentMps, 50);
  for (let i = 0; i < 20; i++) {
    clock.t += 1000;
    limiter.onThrottled();
  }
  assert.equal(limiter.currentMps, 5); // floor: 5 % of the ceiling
});

test('recovers additively to the ceiling when throttling stops', async () => {
  const clock = fakeClock();
  const limiter = new AimdRateLimiter({ ceilingMps: 100, now: clock.now, sleep: clock.sleep });
  limiter.onThrottled();
  limiter.onThrottled();
  assert.equal(limiter.currentMps, 50);
  clock.t += 1000;
  await limiter.acquire('transactional');
  assert.equal(limiter.currentMps, 60);
  clock.t += 3000;
  await limiter.acquire('transactional');
  assert.equal(limiter.currentMps, 90);
  clock.t += 10_000;
  await limiter.acquire('transactional');
  assert.equal(limiter.currentMps, 100);
});

test('a throttled carrier gets fewer sends per second after the decrease', async () => {
  const clock = fakeClock();
  const limiter = new AimdRateLimiter({ ceilingMps: 200, burstMs: 0, increaseIntervalMs: 60_000, now: clock.now, sleep: clock.sleep });
  const before = await sendFor(limiter, clock, 1000);
  limiter.onThrottled();
  const after = await sendFor(limiter, clock, 1000);
  assert.ok(after < before * 0.6, `before ${before}, after ${after}`);
});

test('a late wake-up (busy event loop) does not turn into a burst above the rate', async () => {
  const clock = fakeClock();
  const limiter = new AimdRateLimiter({ ceilingMps: 100, burstMs: 50, now: clock.now, sleep: clock.sleep });
  await sendFor(limiter, clock, 500);
  clock.t += 2000; // the process stalled for 2 s
  const sentAt: number[] = [];
  const end = clock.t + 1000;
  while (clock.t < end) {
    await limiter.acquire('transactional');
    sentAt.push(clock.t);
  }
  // At most the burst (5) plus 100 per second, not 200 "owed" sends.
  assert.ok(sentAt.length <= 106, `${sentAt.length} sends in the second after a stall`);
});

test('a new share after a rebalance changes the ceiling and keeps the relative position', () => {
  const clock = fakeClock();
  const limiter = new AimdRateLimiter({ ceilingMps: 100, now: clock.now, sleep: clock.sleep });
  limiter.onThrottled();
  limiter.setCeiling(200);
  assert.equal(limiter.ceilingMps, 200);
  assert.equal(limiter.currentMps, 100);
});

test('shares by owned partitions add up to the carrier mps across replicas', () => {
  // Two lanes of 6 partitions; replica A owns 4 + 2, replica B owns 2 + 4.
  const a = shareOfMps(300, [{ owned: 4, total: 6 }, { owned: 2, total: 6 }]);
  const b = shareOfMps(300, [{ owned: 2, total: 6 }, { owned: 4, total: 6 }]);
  assert.equal(a + b, 300);
  assert.equal(shareOfMps(300, [{ owned: 2, total: 6 }]), 100);
  assert.equal(shareOfMps(300, [{ owned: 0, total: 6 }]), 0);
  assert.equal(shareOfMps(300, []), 300);
});

test('a freed token goes to a waiting OTP before the promotional and transactional submits queued earlier', async () => {
  // A real clock scaled down: 100 mps, no burst, so each token takes 10 ms and waiters really queue.
  const limiter = new AimdRateLimiter({ ceilingMps: 100, burstMs: 0 });
  const order: string[] = [];
  const waiting: Promise<void>[] = [];
  for (let i = 0; i < 5; i++) waiting.push(limiter.acquire('promotional').then(() => void order.push(`promotional-${i}`)));
  for (let i = 0; i < 2; i++) waiting.push(limiter.acquire('transactional').then(() => void order.push(`transactional-${i}`)));
  waiting.push(limiter.acquire('otp').then(() => void order.push('otp')));
  await Promise.all(waiting);
  // The first token went before the others queued (there was one in the bucket); after it, by lane priority.
  assert.deepEqual(order, ['promotional-0', 'otp', 'transactional-0', 'transactional-1', 'promotional-1', 'promotional-2', 'promotional-3', 'promotional-4']);
});
