import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DueQueue, nowMs } from './due-queue.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

void describe('DueQueue', () => {
  void it('releases the items due together in one call, in due order, never before their due time', async () => {
    const releases: { items: number[]; at: number }[] = [];
    const queue = new DueQueue<number>((items) => releases.push({ items, at: nowMs() }));
    const start = nowMs();
    const due: number[] = [];
    for (let i = 0; i < 50; i++) {
      due[i] = start + 30;
      queue.add(i, due[i]);
    }
    due[50] = start + 10; // a lowered delay: due before the others
    queue.add(50, due[50]);
    await sleep(80);
    // Item 50 first (due earlier); the 50 due at the same time in one call (a stalled machine may add 50 to it).
    assert.deepEqual(
      releases.flatMap((r) => r.items),
      [50, ...Array.from({ length: 50 }, (_, i) => i)],
    );
    assert.ok(releases.some((r) => r.items.filter((i) => i < 50).length === 50));
    for (const release of releases) for (const item of release.items) assert.ok(release.at >= (due[item] as number));
    assert.equal(queue.size, 0);
  });

  void it('clear drops the held items and their timer', async () => {
    const released: number[] = [];
    const queue = new DueQueue<number>((items) => released.push(...items));
    queue.add(1, nowMs() + 10);
    assert.deepEqual(queue.clear(), [1]);
    await sleep(30);
    assert.deepEqual(released, []);
  });
});

void describe('DueQueue with many held items', () => {
  void it('releases thousands in order across many timer turns', async () => {
    const released: number[] = [];
    const queue = new DueQueue<number>((items) => released.push(...items));
    const start = nowMs();
    for (let i = 0; i < 5000; i++) queue.add(i, start + 1 + i * 0.02);
    while (queue.size > 0) await sleep(5);
    assert.equal(released.length, 5000);
    assert.deepEqual(released, [...released].sort((a, b) => a - b));
  });
});
