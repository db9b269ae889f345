import { execFileSync } from 'node:child_process';
import type { LoadProfile, TrafficClass } from './profile.js';
import type { ProcessReport } from './procstat.js';
import type { StatementStat } from './db-statements.js';
import { findBounds, judgeTargets, type BoundsFinding, type TargetVerdict } from './bounds.js';
import { peakPerSecond, summarize, sustainedRate, type Summary } from './stats.js';
import type { Tracker, TrackedMessage } from './tracker.js';

export interface LagReport {
  group: string;
  max: number;
  end: number;
}

export interface StageReport {
  stage: string;
  latency: Summary | null;
}

export interface LoadReport {
  runId: string;
  scenario: string;
  description: string;
  date: string;
  commit: string;
  machine: { cores: number; memoryGb: number; cpuModel: string; loadAvgStart?: number; loadAvgEnd?: number };
  command: string;
  profile: LoadProfile;
  phases: { name: string; startedAt: number; endedAt: number; sent: number; offeredRate: number }[];
  counts: { sent: number; skipped: number; sendErrors: number; accepted: number; routed: number; carrier: number; final: number; delivered: number; webhooked: number };
  throughput: {
    acceptedSustained: number;
    acceptedPeak: number;
    carrierSustained: number;
    carrierPeak: number;
    /** Webhooks (final) per second from the first acceptance to the last webhook: the accept-to-webhook rate. */
    webhookSustained: number;
    webhookPeak: number;
  };
  stages: StageReport[];
  byClass: { trafficClass: TrafficClass; count: number; delivered: number; acceptToCarrier: Summary | null; acceptToWebhook: Summary | null; stages?: StageReport[] }[];
  lag: LagReport[];
  processes: ProcessReport[];
  errors: Record<string, number>;
  checks: {
    /** Accepted but no final status. */
    lost: number;
    /** Final status but no final webhook. */
    webhookMissing: number;
    /** Simulator GET /duplicates count. */
    carrierDuplicates: number;
    /** Messages the carrier saw more parts of than they have. */
    extraParts: number;
    /** Delivered messages of which the carrier saw fewer parts than they have. */
    missingParts?: number;
    /** Messages with more than one final webhook (retries of an answered webhook). */
    duplicateFinalWebhooks: number;
    passed: boolean;
  };
  simulatorStats: unknown;
  notes: string[];
  durations: { sendS: number; drainS: number };
  /** The stage that bounds the run and why (optional: reports written before it existed lack it). */
  bounds?: BoundsFinding | null;
  /** The issue's targets this scenario exercises, met or not. */
  targets?: TargetVerdict[];
  /** PostgreSQL statements by total execution time during the load (when the harness ran PostgreSQL). */
  topStatements?: StatementStat[];
  /** The harness's own event-loop delay while sending (ms): client-side latencies include it. */
  harnessLoopDelay?: { p50: number; p99: number; max: number };
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const diff = (ms: TrackedMessage[], from: (m: TrackedMessage) => number | undefined, to: (m: TrackedMessage) => number | undefined) => {
  const out: number[] = [];
  for (const m of ms) {
    const a = from(m);
    const b = to(m);
    if (a !== undefined && b !== undefined) out.push(b - a);
  }
  return out;
};

/** Latency of each stage of the journey, from the system's own timestamps. */
function stageLatencies(accepted: TrackedMessage[]): StageReport[] {
  return [
    { stage: 'client → accepted response', latency: summarize(diff(accepted.filter((m) => m.entry !== 'kafka'), (m) => m.sentAt, (m) => m.ackedAt)) },
    { stage: 'accepted → routed', latency: summarize(diff(accepted, (m) => m.acceptedAt, (m) => m.routedAt)) },
    { stage: 'routed → carrier (last part)', latency: summarize(diff(accepted, (m) => m.routedAt, (m) => m.carrierAt)) },
    { stage: 'carrier → receipt applied', latency: summarize(diff(accepted, (m) => m.carrierAt, (m) => m.finalAt)) },
    { stage: 'receipt applied → webhook', latency: summarize(diff(accepted, (m) => m.finalAt, (m) => m.webhookAt)) },
    { stage: 'accepted → carrier', latency: summarize(diff(accepted, (m) => m.acceptedAt, (m) => m.carrierAt)) },
    { stage: 'accepted → webhook', latency: summarize(diff(accepted, (m) => m.acceptedAt, (m) => m.webhookAt)) },
  ];
}

export function buildReport(input: {
  runId: string;
  profile: LoadProfile;
  tracker: Tracker;
  phases: { name: string; startedAt: number; endedAt: number; sent: number }[];
  startedAt: number;
  sendEndedAt: number;
  drainedAt: number;
  processes: ProcessReport[];
  lag: LagReport[];
  simulatorDuplicates: number;
  simulatorStats: unknown;
  topStatements?: StatementStat[];
  harnessLoopDelay?: { p50: number; p99: number; max: number };
  notes: string[];
  machine: { cores: number; memoryGb: number; cpuModel: string; loadAvgStart?: number; loadAvgEnd?: number };
}): LoadReport {
  const all = input.tracker.messages;
  const sent = all.filter((m) => !m.skipped);
  const live = sent.filter((m) => !m.sendError);
  const accepted = live.filter((m) => m.acceptedAt !== undefined);
  const times = (f: (m: TrackedMessage) => number | undefined) => accepted.map(f).filter((t): t is number => t !== undefined);
  const acceptTimes = times((m) => m.acceptedAt);
  const carrierTimes = times((m) => m.carrierAt);
  const webhookTimes = times((m) => m.webhookAt);
  const firstAccept = acceptTimes.length ? acceptTimes.reduce((a, b) => Math.min(a, b)) : undefined;
  const lost = accepted.filter((m) => m.finalAt === undefined).length;
  const webhookMissing = accepted.filter((m) => m.finalAt !== undefined && m.webhookAt === undefined).length;
  const extraParts = accepted.filter((m) => m.segments !== undefined && m.carrierParts > m.segments).length;
  const missingParts = accepted.filter((m) => m.finalStatus === 'delivered' && m.segments !== undefined && m.carrierParts < m.segments).length;
  const duplicateFinalWebhooks = accepted.filter((m) => m.finalWebhooks > 1).length;
  const notAccepted = live.length - accepted.length;
  const notes = [...input.notes];
  if (notAccepted > 0) notes.push(`${notAccepted} sent message(s) were never accepted (no accepted event).`);
  const classes: TrafficClass[] = ['otp', 'transactional', 'promotional'];
  const report: LoadReport = {
    runId: input.runId,
    scenario: input.profile.scenario,
    description: input.profile.description,
    date: new Date(input.startedAt).toISOString(),
    commit: commit(),
    machine: input.machine,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    profile: input.profile,
    phases: input.phases.map((p) => ({ ...p, offeredRate: p.sent / Math.max(0.001, (p.endedAt - p.startedAt) / 1000) })),
    counts: {
      sent: sent.length,
      skipped: all.length - sent.length,
      sendErrors: sent.length - live.length,
      accepted: accepted.length,
      routed: accepted.filter((m) => m.routedAt !== undefined).length,
      carrier: accepted.filter((m) => m.carrierParts > 0).length,
      final: accepted.filter((m) => m.finalAt !== undefined).length,
      delivered: accepted.filter((m) => m.finalStatus === 'delivered').length,
      webhooked: webhookTimes.length,
    },
    throughput: {
      acceptedSustained: sustainedRate(acceptTimes),
      acceptedPeak: peakPerSecond(acceptTimes),
      carrierSustained: sustainedRate(carrierTimes, firstAccept),
      carrierPeak: peakPerSecond(carrierTimes),
      webhookSustained: sustainedRate(webhookTimes, firstAccept),
      webhookPeak: peakPerSecond(webhookTimes),
    },
    stages: stageLatencies(accepted),
    byClass: classes
      .map((c) => {
        const ms = accepted.filter((m) => m.trafficClass === c);
        return {
          trafficClass: c,
          count: ms.length,
          delivered: ms.filter((m) => m.finalStatus === 'delivered').length,
          acceptToCarrier: summarize(diff(ms, (m) => m.acceptedAt, (m) => m.carrierAt)),
          acceptToWebhook: summarize(diff(ms, (m) => m.acceptedAt, (m) => m.webhookAt)),
          stages: stageLatencies(ms).slice(0, 5),
        };
      })
      .filter((c) => c.count > 0),
    lag: input.lag,
    processes: input.processes,
    errors: Object.fromEntries([...input.tracker.errors.entries()].sort((a, b) => b[1] - a[1])),
    checks: {
      lost,
      webhookMissing,
      carrierDuplicates: input.simulatorDuplicates,
      extraParts,
      missingParts,
      duplicateFinalWebhooks,
      passed: lost === 0 && webhookMissing === 0 && input.simulatorDuplicates === 0 && extraParts === 0 && missingParts === 0 && notAccepted === 0,
    },
    simulatorStats: input.simulatorStats,
    topStatements: input.topStatements,
    harnessLoopDelay: input.harnessLoopDelay,
    notes,
    durations: { sendS: (input.sendEndedAt - input.startedAt) / 1000, drainS: (input.drainedAt - input.sendEndedAt) / 1000 },
  };
  const shortfall = report.phases
    .map((p, i) => ({ p, target: input.profile.phases[i]?.rate ?? 0, entry: input.profile.phases[i]?.entry }))
    .find(({ p, target, entry }) => entry !== 'kafka' && target > 0 && p.sent > 0 && p.offeredRate < 0.9 * target);
  report.bounds = findBounds({
    stages: report.stages,
    processes: report.processes,
    lag: report.lag,
    cores: input.machine.cores,
    receiptDelayMs: input.profile.simulator.receiptDelayMs,
    restShortfall: shortfall ? { phase: shortfall.p.name, offered: shortfall.p.offeredRate, target: shortfall.target, concurrency: input.profile.concurrency } : undefined,
  });
  const otp = report.byClass.find((c) => c.trafficClass === 'otp');
  report.targets = judgeTargets({
    scenario: report.scenario,
    sendDurationS: report.durations.sendS,
    webhookSustained: report.throughput.webhookSustained,
    passed: report.checks.passed,
    otpAcceptToCarrierP99: otp?.acceptToCarrier?.p99,
    otpCount: otp?.acceptToCarrier?.count ?? 0,
    processes: report.processes,
  });
  return report;
}

const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number | undefined) => (n === undefined ? '–' : n < 10 ? n.toFixed(1) : f0(n));

function table(headers: string[], rows: string[][], markdown: boolean): string {
  if (markdown) {
    return [`| ${headers.join(' | ')} |`, `|${headers.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function sections(r: LoadReport, markdown: boolean): string[] {
  const h = (t: string) => (markdown ? `### ${t}` : `── ${t}`);
  const lat = (s: Summary | null) => (s ? [f0(s.count), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max)] : ['0', '–', '–', '–', '–']);
  const out: string[] = [];
  out.push(
    h('Throughput (messages/s)'),
    table(
      ['', 'sustained', 'peak 1 s'],
      [
        ['accepted', f0(r.throughput.acceptedSustained), f0(r.throughput.acceptedPeak)],
        ['submitted to carrier', f0(r.throughput.carrierSustained), f0(r.throughput.carrierPeak)],
        ['webhook delivered (accept→webhook)', f0(r.throughput.webhookSustained), f0(r.throughput.webhookPeak)],
      ],
      markdown,
    ),
    '',
    h('Phases'),
    table(['phase', 'sent', 'offered msg/s', 'target msg/s', 'entry'], r.phases.map((p, i) => [p.name, f0(p.sent), f0(p.offeredRate), f0(r.profile.phases[i]?.rate ?? 0), r.profile.phases[i]?.entry ?? '']), markdown),
    '',
    h('Latency per stage (ms, system timestamps)'),
    table(['stage', 'n', 'p50', 'p95', 'p99', 'max'], r.stages.map((s) => [s.stage, ...lat(s.latency)]), markdown),
    '',
    h('Per traffic class (ms)'),
    table(
      ['class', 'n', 'delivered', 'accept→carrier p50', 'p99', 'accept→webhook p50', 'p99'],
      r.byClass.map((c) => [c.trafficClass, f0(c.count), (c.delivered === undefined ? '–' : f0(c.delivered)), ms(c.acceptToCarrier?.p50), ms(c.acceptToCarrier?.p99), ms(c.acceptToWebhook?.p50), ms(c.acceptToWebhook?.p99)]),
      markdown,
    ),
    '',
    ...classStages(r, markdown, h),
    h('Processes (CPU % of one core; RSS MB)'),
    table(['process', 'cpu sending', 'cpu avg', 'cpu peak', 'rss peak', 'rss end'], r.processes.map((p) => [p.name, p.cpuSendAvgPercent === undefined ? '–' : f0(p.cpuSendAvgPercent), f0(p.cpuAvgPercent), f0(p.cpuPeakPercent), f0(p.rssPeakMb), f0(p.rssEndMb)]), markdown),
    '',
    h('Consumer group lag (records)'),
    table(['group', 'max', 'at end'], r.lag.map((l) => [l.group, f0(l.max), f0(l.end)]), markdown),
    '',
    h('Checks'),
    table(
      ['check', 'value'],
      [
        ['sent / accepted / final / webhooked', `${f0(r.counts.sent)} / ${f0(r.counts.accepted)} / ${f0(r.counts.final)} / ${f0(r.counts.webhooked)}`],
        ['delivered', f0(r.counts.delivered)],
        ['lost (accepted, no final status)', f0(r.checks.lost)],
        ['final status without webhook', f0(r.checks.webhookMissing)],
        ['carrier duplicates (simulator)', f0(r.checks.carrierDuplicates)],
        ['messages with extra parts at carrier', f0(r.checks.extraParts)],
        ['delivered with parts missing at carrier', f0(r.checks.missingParts ?? 0)],
        ['repeated final webhooks', f0(r.checks.duplicateFinalWebhooks)],
        ['send errors / skipped', `${f0(r.counts.sendErrors)} / ${f0(r.counts.skipped)}`],
        ['result', r.checks.passed ? 'PASS' : 'FAIL'],
      ],
      markdown,
    ),
    '',
  );
  if (r.targets?.length) {
    out.push(h('Targets'), table(['target', 'measured', 'met'], r.targets.map((t) => [t.target, t.measured, t.met ? 'yes' : markdown ? '**no**' : 'NO']), markdown), '');
  }
  if (r.topStatements?.length) {
    const total = r.topStatements.reduce((sum, st) => sum + st.totalMs, 0);
    out.push(
      h('Database time by statement (pg_stat_statements, top 10)'),
      table(
        ['statement', 'calls', 'total ms', 'mean ms', 'rows', 'share'],
        r.topStatements.map((st) => [markdown ? `\`${st.query.replace(/\|/g, '\\|')}\`` : st.query.slice(0, 90), f0(st.calls), f0(st.totalMs), st.meanMs.toFixed(2), f0(st.rows), `${Math.round((st.totalMs / Math.max(1, total)) * 100)} %`]),
        markdown,
      ),
      '',
    );
  }
  if (r.bounds) out.push(h(`What bounds this run: ${r.bounds.stage} (${r.bounds.service}, ${r.bounds.kind === 'cpu' ? 'CPU-bound' : 'waiting, not CPU'})`), ...r.bounds.text.map((t) => `- ${t}`), '');
  const errors = Object.entries(r.errors);
  out.push(h('Errors by category'), errors.length ? table(['category', 'count'], errors.map(([k, v]) => [k, f0(v)]), markdown) : 'none', '');
  if (r.harnessLoopDelay) {
    const d = r.harnessLoopDelay;
    out.push(
      h('Harness'),
      `Event-loop delay of the load client while sending: p50 ${ms(d.p50)} ms, p99 ${ms(d.p99)} ms, max ${ms(d.max)} ms${d.p99 > 50 ? ' (large: client-side latencies include this delay)' : ''}.`,
      '',
    );
  }
  if (r.notes.length) out.push(h('Notes'), ...r.notes.map((n) => `- ${n}`), '');
  return out;
}

/** Each class's journey stage by stage (p50 / p99), so a lane's own delays are visible under a mix. */
function classStages(r: LoadReport, markdown: boolean, h: (t: string) => string): string[] {
  const withStages = r.byClass.filter((c) => c.stages?.length);
  if (r.byClass.length < 2 || withStages.length === 0) return [];
  const names = withStages[0]!.stages!.map((s) => s.stage);
  return [
    h('Stages per traffic class (ms, p50 / p99)'),
    table(['class', ...names], withStages.map((c) => [c.trafficClass, ...c.stages!.map((s) => (s.latency ? `${ms(s.latency.p50)} / ${ms(s.latency.p99)}` : '–'))]), markdown),
    '',
  ];
}

export function renderTerminal(r: LoadReport): string {
  return [`${r.scenario} (${r.runId}) · commit ${r.commit} · ${r.machine.cores} cores, ${r.machine.memoryGb} GB · ${r.date}`, '', ...sections(r, false)].join('\n');
}

export function renderMarkdown(r: LoadReport): string {
  return [
    `## ${r.scenario} — ${r.date.slice(0, 10)}`,
    '',
    r.description,
    '',
    `- Command: \`${r.command}\``,
    `- Commit: \`${r.commit}\`, run \`${r.runId}\``,
    `- Machine: ${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.memoryGb} GB; everything (Kafka, PostgreSQL, simulator, five services, harness) on it; 1-min load average ${r.machine.loadAvgStart?.toFixed(1) ?? '?'} at start, ${r.machine.loadAvgEnd?.toFixed(1) ?? '?'} at end (other work shares the machine)`,
    `- Sending ${r.durations.sendS.toFixed(1)} s, drain ${r.durations.drainS.toFixed(1)} s`,
    '',
    ...sections(r, true),
  ].join('\n');
}

/** Side by side of two reports' headline figures. */
export function renderComparison(a: LoadReport, b: LoadReport): string {
  const rows: [string, number | undefined, number | undefined, boolean][] = [
    ['accepted msg/s (sustained)', a.throughput.acceptedSustained, b.throughput.acceptedSustained, true],
    ['carrier msg/s (sustained)', a.throughput.carrierSustained, b.throughput.carrierSustained, true],
    ['webhook msg/s (sustained)', a.throughput.webhookSustained, b.throughput.webhookSustained, true],
    ['webhook msg/s (peak)', a.throughput.webhookPeak, b.throughput.webhookPeak, true],
  ];
  for (const s of a.stages) {
    const other = b.stages.find((x) => x.stage === s.stage);
    rows.push([`${s.stage} p50 ms`, s.latency?.p50, other?.latency?.p50, false], [`${s.stage} p99 ms`, s.latency?.p99, other?.latency?.p99, false]);
  }
  for (const c of a.byClass) {
    const other = b.byClass.find((x) => x.trafficClass === c.trafficClass);
    rows.push([`${c.trafficClass} accept→carrier p99 ms`, c.acceptToCarrier?.p99, other?.acceptToCarrier?.p99, false]);
  }
  for (const p of a.processes) {
    const other = b.processes.find((x) => x.name === p.name);
    rows.push([`${p.name} cpu avg %`, p.cpuAvgPercent, other?.cpuAvgPercent, false], [`${p.name} rss peak MB`, p.rssPeakMb, other?.rssPeakMb, false]);
  }
  rows.push(['lost', a.checks.lost, b.checks.lost, false], ['carrier duplicates', a.checks.carrierDuplicates, b.checks.carrierDuplicates, false]);
  const fmt = (n: number | undefined) => (n === undefined ? '–' : n < 10 ? n.toFixed(1) : f0(n));
  const change = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined || x === 0 ? '' : `${y >= x ? '+' : ''}${(((y - x) / x) * 100).toFixed(1)} %`);
  return [
    `A: ${a.scenario} ${a.runId} (${a.commit}, ${a.date})`,
    `B: ${b.scenario} ${b.runId} (${b.commit}, ${b.date})`,
    '',
    table(['metric', 'A', 'B', 'change'], rows.map(([name, x, y]) => [name, fmt(x), fmt(y), change(x, y)]), false),
  ].join('\n');
}

/** A compact Markdown block of one report for BENCHMARKS.md: headline, stages, classes, processes, checks. */
export function renderSummaryMarkdown(r: LoadReport): string {
  const lat = (s: Summary | null) => (s ? `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)} / ${ms(s.max)}` : '–');
  const worstRss = [...r.processes].filter((p) => !['kafka', 'postgres', 'load-harness', 'smsc-simulator'].includes(p.name)).sort((a, b) => b.rssPeakMb - a.rssPeakMb)[0];
  const failed = r.counts.final - r.counts.delivered;
  return [
    `- Command: \`${r.command}\``,
    `- Commit \`${r.commit}\`, ${r.date}, ${r.machine.cores} cores / ${r.machine.memoryGb} GB, load average ${r.machine.loadAvgStart?.toFixed(1) ?? '?'} → ${r.machine.loadAvgEnd?.toFixed(1) ?? '?'}`,
    `- Offered: ${r.phases.map((p, i) => `${p.name} ${f0(p.sent)} msgs at ${f0(p.offeredRate)}/s (target ${f0(r.profile.phases[i]?.rate ?? 0)}/s, ${r.profile.phases[i]?.entry})`).join('; ')}`,
    `- Throughput, sustained / peak 1 s (msg/s): accepted ${f0(r.throughput.acceptedSustained)} / ${f0(r.throughput.acceptedPeak)}, carrier ${f0(r.throughput.carrierSustained)} / ${f0(r.throughput.carrierPeak)}, **accept→webhook ${f0(r.throughput.webhookSustained)}** / ${f0(r.throughput.webhookPeak)}`,
    `- Checks: ${f0(r.counts.accepted)} accepted, lost ${r.checks.lost}, webhook missing ${r.checks.webhookMissing}, carrier duplicates ${r.checks.carrierDuplicates}: **${r.checks.passed ? 'PASS' : 'FAIL'}**; delivered ${f0(r.counts.delivered)}${failed > 0 ? `, **${f0(failed)} failed** (${Object.entries(r.errors).map(([k, v]) => `${k} ${f0(v)}`).join(', ')})` : ''}`,
    `- Peak RSS of a service: ${worstRss ? `${worstRss.name} ${f0(worstRss.rssPeakMb)} MB` : '–'}; max lag: ${r.lag.filter((l) => l.max > 0).map((l) => `${l.group} ${f0(l.max)}`).join(', ') || 'none'}`,
    '',
    table(['stage (ms)', 'n', 'p50 / p95 / p99 / max'], r.stages.map((s) => [s.stage, f0(s.latency?.count ?? 0), lat(s.latency)]), true),
    '',
    table(
      ['class', 'n', 'delivered', 'accept→carrier p50 / p99', 'accept→webhook p50 / p99'],
      r.byClass.map((c) => [c.trafficClass, f0(c.count), (c.delivered === undefined ? '–' : f0(c.delivered)), `${ms(c.acceptToCarrier?.p50)} / ${ms(c.acceptToCarrier?.p99)}`, `${ms(c.acceptToWebhook?.p50)} / ${ms(c.acceptToWebhook?.p99)}`]),
      true,
    ),
    '',
    table(['process', 'cpu sending %', 'cpu avg %', 'cpu peak %', 'rss peak MB'], r.processes.map((p) => [p.name, p.cpuSendAvgPercent === undefined ? '–' : f0(p.cpuSendAvgPercent), f0(p.cpuAvgPercent), f0(p.cpuPeakPercent), f0(p.rssPeakMb)]), true),
    ...(r.bounds ? ['', `Bound: **${r.bounds.stage}** (${r.bounds.service}, ${r.bounds.kind === 'cpu' ? 'CPU-bound' : 'waiting, not CPU'}). ${r.bounds.text.join(' ')}`] : []),
    ...(r.targets?.length ? ['', ...r.targets.map((t) => `- Target ${t.target}: ${t.measured} → **${t.met ? 'met' : 'missed'}**`)] : []),
  ].join('\n');
}
