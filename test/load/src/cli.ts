// `npm run bench -- --scenario steady [--messages N | --duration S] [--rate R] ...`: see BENCHMARKS.md.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { topSelfTime } from './cpuprofile.js';
import { parseWeights, resolveProfile, type EntryPoint } from './profile.js';
import { renderComparison, renderMarkdown, renderSummaryMarkdown, renderTerminal, type LoadReport } from './report.js';
import { runLoad } from './run.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const help = `Usage: npm run bench -- [options]

  --scenario <name|file>   steady | burst | otp-under-flood | multipart-unicode | kafka-entry | smoke,
                           or a JSON file (see test/load/scenarios/)
  --messages <n>           total messages (rescales every phase)
  --duration <s>           total sending time (rescales every phase)
  --rate <msg/s>           target rate of the first phase (other phases keep their ratio to it)
  --entry <rest|rest-batch|kafka>
  --mix <k=w,...>          traffic classes, e.g. otp=1,transactional=6,promotional=3
  --bodies <k=w,...>       gsm7, ucs2, multipart (GSM-7, 3 parts), multipartUcs2 (3 parts)
  --latency-ms <ms>        simulator submit_sm_resp delay
  --receipt-delay-ms <ms>  simulator delay between response and receipt
  --concurrency <n>        REST requests in flight
  --batch-size <n>         messages per batch request / Kafka produce
  --phase <name>.<messages|durationS|rate>=<n>   change one phase (repeatable), e.g. --phase flood.messages=20000
  --env NAME=value         extra environment for the five services (repeatable)
  --cpu-prof               sample every service's CPU (V8 profiler, written on exit); prints each one's hottest functions
  --out <dir>              results folder (default test/load/results)
  --compare <a.json> <b.json>   compare two reports, run nothing
  --summary <report.json>  print a compact Markdown block of a report (for BENCHMARKS.md), run nothing
  --profile-top <file.cpuprofile>  print the hottest functions of a profile, run nothing

Kafka and PostgreSQL: KAFKA_BROKERS / DATABASE_URL if set (a fresh database is created on that server),
else both are started for the run and stopped after it.`;

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a non-negative number, got "${v}"`);
  return n;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      scenario: { type: 'string' },
      messages: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      entry: { type: 'string' },
      mix: { type: 'string' },
      bodies: { type: 'string' },
      'latency-ms': { type: 'string' },
      'receipt-delay-ms': { type: 'string' },
      concurrency: { type: 'string' },
      'batch-size': { type: 'string' },
      phase: { type: 'string', multiple: true },
      env: { type: 'string', multiple: true },
      'cpu-prof': { type: 'boolean' },
      out: { type: 'string' },
      compare: { type: 'boolean' },
      'profile-top': { type: 'string' },
      summary: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (values.compare) {
    if (positionals.length !== 2) throw new Error('--compare needs two report files: --compare a.json b.json');
    const [a, b] = positionals.map((p) => JSON.parse(readFileSync(p, 'utf8')) as LoadReport);
    process.stdout.write(`${renderComparison(a!, b!)}\n`);
    return 0;
  }
  if (values.summary) {
    process.stdout.write(`${renderSummaryMarkdown(JSON.parse(readFileSync(values.summary, 'utf8')) as LoadReport)}\n`);
    return 0;
  }
  if (values['profile-top']) {
    printProfile(values['profile-top']);
    return 0;
  }
  const entry = values.entry as EntryPoint | undefined;
  if (entry && !['rest', 'rest-batch', 'kafka'].includes(entry)) throw new Error(`--entry must be rest, rest-batch or kafka`);
  const profile = resolveProfile({
    scenario: values.scenario,
    messages: num(values.messages, 'messages'),
    durationS: num(values.duration, 'duration'),
    rate: num(values.rate, 'rate'),
    entry,
    mix: values.mix ? parseWeights(values.mix, ['otp', 'transactional', 'promotional']) : undefined,
    bodies: values.bodies ? parseWeights(values.bodies, ['gsm7', 'ucs2', 'multipart', 'multipartUcs2']) : undefined,
    latencyMs: num(values['latency-ms'], 'latency-ms'),
    receiptDelayMs: num(values['receipt-delay-ms'], 'receipt-delay-ms'),
    concurrency: num(values.concurrency, 'concurrency'),
    batchSize: num(values['batch-size'], 'batch-size'),
    phaseOverrides: values.phase,
  });
  const outDir = resolve(values.out ?? join(packageRoot, 'results'));
  mkdirSync(outDir, { recursive: true });
  const cpuProfileDir = values['cpu-prof'] ? join(outDir, `cpuprof-${Date.now()}`) : undefined;
  if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
  const serviceEnv: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!m) throw new Error(`--env "${pair}": expected NAME=value`);
    serviceEnv[m[1]!] = m[2]!;
  }
  const report = await runLoad({ profile, cpuProfileDir, serviceEnv });
  const base = join(outDir, `${report.scenario}-${report.date.replace(/[:.]/g, '-')}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${renderMarkdown(report)}\n`);
  process.stdout.write(`\n${renderTerminal(report)}\nReports: ${base}.json, ${base}.md\n`);
  if (cpuProfileDir) {
    const byPid = new Map(report.processes.map((p) => [p.pid, p.name]));
    for (const file of existsSync(cpuProfileDir) ? readdirSync(cpuProfileDir) : []) {
      const pid = Number(/^CPU\.(\d+)\.cpuprofile$/.exec(file)?.[1]);
      process.stdout.write(`\n── CPU profile: ${byPid.get(pid) ?? `pid ${pid}`} (${file})\n`);
      printProfile(join(cpuProfileDir, file));
    }
  }
  return report.checks.passed ? 0 : 1;
}

function printProfile(file: string): void {
  const top = topSelfTime(file);
  process.stdout.write(`total ${(top.totalMs / 1000).toFixed(1)} s sampled, idle ${top.idlePercent.toFixed(1)} %\n`);
  for (const f of top.functions) process.stdout.write(`${f.selfPercent.toFixed(1).padStart(5)} %  ${f.name}  ${f.where}\n`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
