import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveProfile } from './profile.js';
import { buildReport, renderComparison, renderMarkdown, renderSummaryMarkdown, renderTerminal } from './report.js';
import { Tracker } from './tracker.js';

const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(t0 + ms).toISOString();

function tracked(n: number) {
  const tracker = new Tracker('run1');
  for (let seq = 0; seq < n; seq++) {
    tracker.messages.push({ seq, phase: 0, trafficClass: seq % 2 ? 'otp' : 'promotional', body: 'gsm7', entry: 'rest', sentAt: t0 + seq, carrierParts: 0, finalWebhooks: 0, webhooks: 0 });
  }
  return tracker;
}

function fullJourney(tracker: Tracker, seq: number) {
  tracker.onAccepted(seq, `id-${seq}`, iso(seq + 5), 1);
  tracker.onStatus(seq, 'routed', iso(seq + 15));
  tracker.onCarrierSubmit(seq, t0 + seq + 40);
  tracker.onStatus(seq, 'submitted', iso(seq + 45));
  tracker.onStatus(seq, 'delivered', iso(seq + 240));
  tracker.onWebhook(seq, 'delivered', t0 + seq + 260);
}

const build = (tracker: Tracker, duplicates = 0) =>
  buildReport({
    runId: 'run1',
    profile: resolveProfile({ messages: tracker.messages.length, rate: 10 }),
    tracker,
    phases: [{ name: 'main', startedAt: t0, endedAt: t0 + 1000, sent: tracker.messages.length }],
    startedAt: t0,
    sendEndedAt: t0 + 1000,
    drainedAt: t0 + 2000,
    processes: [{ name: 'ingest', pid: 1, cpuAvgPercent: 50, cpuPeakPercent: 80, rssPeakMb: 150, rssEndMb: 140 }],
    lag: [{ group: 'router', max: 12, end: 0 }],
    simulatorDuplicates: duplicates,
    simulatorStats: {},
    notes: [],
    machine: { cores: 2, memoryGb: 24, cpuModel: 'test' },
  });

test('a clean run passes, with per-stage latencies from the system timestamps', () => {
  const tracker = tracked(100);
  for (let seq = 0; seq < 100; seq++) fullJourney(tracker, seq);
  assert.equal(tracker.complete(), true);
  const r = build(tracker);
  assert.equal(r.checks.passed, true);
  assert.equal(r.counts.delivered, 100);
  const stage = (name: string) => r.stages.find((s) => s.stage === name)!.latency!;
  assert.equal(stage('accepted → routed').p99, 10);
  assert.equal(stage('routed → carrier (last part)').p50, 25);
  assert.equal(stage('carrier → receipt applied').max, 200);
  assert.equal(stage('accepted → webhook').p50, 255);
  assert.deepEqual(r.byClass.map((c) => [c.trafficClass, c.count, c.acceptToCarrier!.p99]), [['otp', 50, 35], ['promotional', 50, 35]]);
  assert.equal(r.byClass[0]!.stages!.find((s) => s.stage === 'accepted → routed')!.latency!.count, 50, 'stages per class count only that class');
  assert.match(renderTerminal(r), /PASS/);
  assert.match(renderTerminal(r), /Stages per traffic class/);
  assert.match(renderMarkdown(r), /\| accepted → routed \| 100 \|/);
  assert.match(renderSummaryMarkdown(r), /lost 0, webhook missing 0, carrier duplicates 0: \*\*PASS\*\*/);
});

test('loss, a missing webhook, carrier duplicates and extra parts each fail the run', () => {
  const tracker = tracked(4);
  for (let seq = 0; seq < 4; seq++) fullJourney(tracker, seq);
  const lost = tracked(2);
  fullJourney(lost, 0);
  lost.onAccepted(1, 'id-1', iso(1), 1); // accepted, never final
  assert.equal(lost.complete(), false);
  assert.equal(build(lost).checks.lost, 1);
  assert.equal(build(lost).checks.passed, false);

  const noHook = tracked(1);
  noHook.onAccepted(0, 'id-0', iso(0), 1);
  noHook.onStatus(0, 'undelivered', iso(100), 'absent_subscriber');
  const r = build(noHook);
  assert.equal(r.checks.webhookMissing, 1);
  assert.deepEqual(r.errors, { 'final:undelivered/absent_subscriber': 1 });

  assert.equal(build(tracker, 2).checks.passed, false, 'simulator duplicates fail the run');
  tracker.onCarrierSubmit(0, t0 + 50);
  assert.equal(build(tracker).checks.extraParts, 1);
  tracker.messages[1]!.segments = 3; // delivered, but the carrier saw one part of three
  assert.equal(build(tracker).checks.missingParts, 1);
});

test('a different second final status is counted, the first one kept', () => {
  const tracker = tracked(1);
  fullJourney(tracker, 0);
  tracker.onStatus(0, 'failed', iso(300), 'no_route');
  assert.equal(tracker.messages[0]!.finalStatus, 'delivered');
  assert.equal(tracker.errors.get('conflicting_final_status'), 1);
  assert.equal(tracker.seqOf('run1:0'), 0);
  assert.equal(tracker.seqOf('other:0'), undefined);
  assert.equal(tracker.seqOf('run1:9'), undefined);
});

test('compare shows both runs and the change', () => {
  const a = tracked(10);
  for (let seq = 0; seq < 10; seq++) fullJourney(a, seq);
  const ra = build(a);
  const rb = { ...ra, runId: 'run2', throughput: { ...ra.throughput, acceptedSustained: ra.throughput.acceptedSustained * 2 } };
  const text = renderComparison(ra, rb);
  assert.match(text, /accepted msg\/s \(sustained\).*\+100\.0 %/);
  assert.match(text, /ingest rss peak MB/);
});

test('database statements, when the harness ran PostgreSQL, are listed with their share of database time', () => {
  const tracker = tracked(2);
  for (let seq = 0; seq < 2; seq++) fullJourney(tracker, seq);
  const r = build(tracker);
  r.topStatements = [
    { query: 'INSERT INTO outbox (a | b) VALUES ($1)', calls: 10, totalMs: 300, meanMs: 30, rows: 10 },
    { query: 'DELETE FROM outbox WHERE id = ANY($1)', calls: 10, totalMs: 100, meanMs: 10, rows: 10 },
  ];
  assert.match(renderMarkdown(r), /\| `INSERT INTO outbox \(a \\\| b\) VALUES \(\$1\)` \| 10 \| 300 \| 30\.00 \| 10 \| 75 % \|/);
  assert.match(renderTerminal(r), /Database time by statement/);
});

test("the harness's own event-loop delay is shown, and flagged when it would distort client latencies", () => {
  const tracker = tracked(2);
  for (let seq = 0; seq < 2; seq++) fullJourney(tracker, seq);
  const r = build(tracker);
  r.harnessLoopDelay = { p50: 10.2, p99: 12.5, max: 40 };
  assert.match(renderTerminal(r), /p50 10 ms, p99 13 ms, max 40 ms\./);
  r.harnessLoopDelay = { p50: 20, p99: 80, max: 200 };
  assert.match(renderMarkdown(r), /client-side latencies include this delay/);
});
