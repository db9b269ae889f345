import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findBounds, judgeTargets } from './bounds.js';
import type { Summary } from './stats.js';

const s = (p50: number, p99 = p50 * 2): Summary => ({ count: 100, p50, p95: p99, p99, max: p99, mean: p50 });
const proc = (name: string, cpuAvgPercent: number, rssPeakMb = 100) => ({ name, pid: 1, cpuAvgPercent, cpuPeakPercent: cpuAvgPercent, rssPeakMb, rssEndMb: rssPeakMb });

const stages = (webhookP50: number) => [
  { stage: 'client → accepted response', latency: s(20) },
  { stage: 'accepted → routed', latency: s(30) },
  { stage: 'routed → carrier (last part)', latency: s(40) },
  { stage: 'carrier → receipt applied', latency: s(230) },
  { stage: 'receipt applied → webhook', latency: s(webhookP50) },
];

test('the stage with the largest share of the median journey bounds the run; a mostly idle service is waiting', () => {
  const b = findBounds({
    stages: stages(16_000),
    processes: [proc('ingest', 9), proc('router', 7), proc('notifier', 11), proc('kafka', 20)],
    lag: [{ group: 'notifier', max: 900, end: 0 }, { group: 'router', max: 24, end: 0 }],
    cores: 2,
    receiptDelayMs: 200,
  });
  assert.ok(b);
  assert.equal(b.service, 'notifier');
  assert.equal(b.kind, 'waiting');
  assert.ok(b.shareOfMedian > 0.95);
  assert.match(b.text[0]!, /peaked at 900 records/);
});

test('the simulator receipt delay is not counted against dlr-processor', () => {
  // 230 ms receipt stage minus a 200 ms simulator delay = 30 ms of our own; routed→carrier (40) bounds.
  const b = findBounds({ stages: stages(10), processes: [], lag: [], cores: 2, receiptDelayMs: 200 });
  assert.equal(b?.service, 'carrier-dispatch');
  const without = findBounds({ stages: stages(10), processes: [], lag: [], cores: 2, receiptDelayMs: 0 });
  assert.equal(without?.service, 'dlr-processor');
});

test('a busy machine makes the bound CPU; a REST phase short of its target is bounded by acceptance', () => {
  const busy = findBounds({ stages: stages(5_000), processes: [proc('notifier', 90), proc('kafka', 60), proc('postgres', 40)], lag: [], cores: 2, receiptDelayMs: 200 });
  assert.equal(busy?.kind, 'cpu');
  const short = findBounds({
    stages: stages(5_000),
    processes: [proc('ingest', 9)],
    lag: [],
    cores: 2,
    receiptDelayMs: 200,
    restShortfall: { phase: 'steady', offered: 480, target: 1000, concurrency: 64 },
  });
  assert.equal(short?.service, 'ingest');
  assert.equal(short?.kind, 'waiting');
  assert.match(short!.text[0]!, /offered 480 msg\/s of the 1,000 msg\/s target/);
});

test('targets: steady needs 3,000 msg/s for 300 s with passing checks; RSS under 300 MB; OTP p99 under 200 ms', () => {
  const base = { passed: true, otpCount: 0, processes: [proc('ingest', 10, 250), proc('kafka', 10, 900)] };
  const [steady, rss] = judgeTargets({ ...base, scenario: 'steady', sendDurationS: 300, webhookSustained: 3100 });
  assert.equal(steady?.met, true);
  assert.equal(rss?.met, true, 'kafka and postgres are not services of ours');
  assert.equal(judgeTargets({ ...base, scenario: 'steady', sendDurationS: 60, webhookSustained: 3100 })[0]?.met, false, 'a short run does not prove 5 minutes');
  assert.equal(judgeTargets({ ...base, passed: false, scenario: 'steady', sendDurationS: 300, webhookSustained: 3100 })[0]?.met, false);
  const otp = judgeTargets({ ...base, scenario: 'otp-under-flood', sendDurationS: 60, webhookSustained: 10, otpCount: 3000, otpAcceptToCarrierP99: 250, processes: [proc('router', 10, 320)] });
  assert.deepEqual(otp.map((t) => t.met), [false, false]);
});
