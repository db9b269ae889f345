import type { ProcessReport } from './procstat.js';
import type { Summary } from './stats.js';

/**
 * Which stage bounds a run, and whether the issue's targets were met. A reader of a report should not
 * have to work out from five tables where the time went: this names the stage, the service behind it,
 * and whether that service was short of CPU or waiting (latency- or concurrency-bound).
 */

/** The pipeline stages in order, each with the service (and consumer groups) that does its work. */
const pipeline: { stage: string; service: string; groups: (group: string) => boolean }[] = [
  { stage: 'client → accepted response', service: 'ingest', groups: () => false },
  { stage: 'accepted → routed', service: 'router', groups: (g) => g === 'router' || g.startsWith('router.') },
  { stage: 'routed → carrier (last part)', service: 'carrier-dispatch', groups: (g) => g.startsWith('carrier-dispatch') },
  { stage: 'carrier → receipt applied', service: 'dlr-processor', groups: (g) => g.startsWith('dlr-processor') },
  { stage: 'receipt applied → webhook', service: 'notifier', groups: (g) => g.startsWith('notifier') },
];

export interface BoundsInput {
  stages: { stage: string; latency: Summary | null }[];
  processes: ProcessReport[];
  lag: { group: string; max: number; end: number }[];
  cores: number;
  /** The simulator's configured receipt delay: part of 'carrier → receipt applied' that is not ours. */
  receiptDelayMs: number;
  /** REST phases whose offered rate fell short of their target (the client waits for each response). */
  restShortfall?: { phase: string; offered: number; target: number; concurrency: number };
}

export interface BoundsFinding {
  stage: string;
  service: string;
  /** Share of the accepted → webhook median spent in this stage (0..1). */
  shareOfMedian: number;
  /** 'cpu' when the machine's cores were (nearly) all busy; 'waiting' when the service mostly waited. */
  kind: 'cpu' | 'waiting';
  text: string[];
}

const pct = (x: number) => `${Math.round(x * 100)} %`;
const f0 = (n: number) => Math.round(n).toLocaleString('en-US');

export function findBounds(input: BoundsInput): BoundsFinding | null {
  const latency = (stage: string) => input.stages.find((s) => s.stage === stage)?.latency ?? null;
  const contributions = pipeline
    .slice(1)
    .map((p) => {
      const l = latency(p.stage);
      if (!l) return null;
      // The simulator's own receipt delay is the carrier's time, not the gateway's.
      const own = p.service === 'dlr-processor' ? Math.max(0, l.p50 - input.receiptDelayMs) : l.p50;
      return { ...p, p50: own };
    })
    .filter((c): c is NonNullable<typeof c> => c !== null);
  const total = contributions.reduce((s, c) => s + c.p50, 0);
  // CPU while load was offered when known (the whole-run average is diluted by the drain).
  const cpu = (p: ProcessReport) => p.cpuSendAvgPercent ?? p.cpuAvgPercent;
  const machineCpu = input.processes.reduce((s, p) => s + cpu(p), 0) / (input.cores * 100);
  const busiest = [...input.processes].sort((a, b) => cpu(b) - cpu(a)).slice(0, 3);
  const window = input.processes.some((p) => p.cpuSendAvgPercent !== undefined) ? 'while sending' : 'over the run';
  const cpuLine = `Machine CPU: ${pct(machineCpu)} of ${input.cores} cores on average ${window}; busiest: ${busiest.map((p) => `${p.name} ${f0(cpu(p))} %`).join(', ')}.`;
  const kindOf = (service: string): 'cpu' | 'waiting' => {
    const proc = input.processes.find((p) => p.name === service);
    // A service near a full core is CPU-bound (Node runs JS on one thread); a busy machine starves all.
    return machineCpu >= 0.85 || (proc !== undefined && cpu(proc) >= 85) ? 'cpu' : 'waiting';
  };

  const cpuOf = (service: string) => {
    const p = input.processes.find((x) => x.name === service);
    return p ? cpu(p) : 0;
  };
  if (input.restShortfall) {
    const s = input.restShortfall;
    const accept = latency(pipeline[0]!.stage);
    const kind = kindOf('ingest');
    return {
      stage: pipeline[0]!.stage,
      service: 'ingest',
      shareOfMedian: 0,
      kind,
      text: [
        `Acceptance bounds the run: phase ${s.phase} offered ${f0(s.offered)} msg/s of the ${f0(s.target)} msg/s target, because each of the ${s.concurrency} client connections waits for ingest's answer (p50 ${accept ? f0(accept.p50) : '–'} ms, p99 ${accept ? f0(accept.p99) : '–'} ms).`,
        kind === 'cpu' ? 'The machine was CPU-bound while it did so.' : `ingest averaged ${f0(cpuOf('ingest'))} % of a core: it was waiting (database commits, pool), not computing.`,
        cpuLine,
      ],
    };
  }
  if (contributions.length === 0 || total <= 0) return null;
  const worst = contributions.reduce((a, b) => (b.p50 > a.p50 ? b : a));
  const lag = input.lag.filter((l) => worst.groups(l.group)).reduce((m, l) => Math.max(m, l.max), 0);
  const proc = input.processes.find((p) => p.name === worst.service);
  const kind = kindOf(worst.service);
  return {
    stage: worst.stage,
    service: worst.service,
    shareOfMedian: worst.p50 / total,
    kind,
    text: [
      `${worst.stage} (${worst.service}) is ${pct(worst.p50 / total)} of the gateway's median accept→webhook time (p50 ${f0(worst.p50)} ms${worst.service === 'dlr-processor' ? ` after the simulator's ${f0(input.receiptDelayMs)} ms receipt delay` : ''}); its consumer lag peaked at ${f0(lag)} records.`,
      kind === 'cpu'
        ? `CPU-bound: ${proc ? `${worst.service} averaged ${f0(cpu(proc))} % of a core and ` : ''}the machine was ${pct(machineCpu)} busy.`
        : `${worst.service} averaged ${f0(proc ? cpu(proc) : 0)} % of a core: it waited (I/O round trips, too little concurrency), it was not short of CPU.`,
      cpuLine,
    ],
  };
}

export interface TargetVerdict {
  target: string;
  measured: string;
  met: boolean;
}

/** The issue's targets, judged on whatever scenario ran (a target a scenario does not exercise is left out). */
export function judgeTargets(input: {
  scenario: string;
  sendDurationS: number;
  webhookSustained: number;
  passed: boolean;
  otpAcceptToCarrierP99?: number;
  otpCount: number;
  processes: ProcessReport[];
}): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  if (input.scenario === 'steady') {
    out.push({
      target: 'steady: ≥ 3,000 msg/s accept→webhook for 5 min, zero loss, zero duplicates',
      measured: `${f0(input.webhookSustained)} msg/s over ${f0(input.sendDurationS)} s, checks ${input.passed ? 'pass' : 'fail'}`,
      met: input.webhookSustained >= 3000 && input.sendDurationS >= 300 && input.passed,
    });
  }
  if (input.otpCount > 0 && input.otpAcceptToCarrierP99 !== undefined && input.scenario === 'otp-under-flood') {
    out.push({ target: 'otp-under-flood: OTP p99 accept→carrier < 200 ms', measured: `p99 ${f0(input.otpAcceptToCarrierP99)} ms over ${f0(input.otpCount)} OTPs`, met: input.otpAcceptToCarrierP99 < 200 });
  }
  const services = input.processes.filter((p) => !['kafka', 'postgres', 'load-harness', 'smsc-simulator'].includes(p.name));
  if (services.length > 0) {
    const worst = services.reduce((a, b) => (b.rssPeakMb > a.rssPeakMb ? b : a));
    out.push({ target: 'every service < 300 MB resident', measured: `max ${worst.name} ${f0(worst.rssPeakMb)} MB`, met: worst.rssPeakMb < 300 });
  }
  return out;
}
