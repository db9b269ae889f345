import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BodyKind } from './numbers.js';

export type TrafficClass = 'otp' | 'transactional' | 'promotional';
export type EntryPoint = 'rest' | 'rest-batch' | 'kafka';

/** One stretch of load at a constant target rate; a run is its phases in order. */
export interface Phase {
  name: string;
  /** Stop after this many messages, or after durationS seconds (one of the two). */
  messages?: number;
  durationS?: number;
  /** Target messages per second offered. */
  rate: number;
  mix: Partial<Record<TrafficClass, number>>;
  bodies: Partial<Record<BodyKind, number>>;
  entry: EntryPoint;
}

export interface LoadProfile {
  scenario: string;
  description: string;
  phases: Phase[];
  /** Simulator knobs (PATCH /knobs) for the run. */
  simulator: { latencyMs: number; receiptDelayMs: number };
  /** HTTP requests in flight at most (REST entries). */
  concurrency: number;
  /** Messages per request for rest-batch and per produce call for kafka. */
  batchSize: number;
  /** After the last send, wait until every accepted message is final and webhooked, or this long without progress. */
  drainIdleS: number;
  /** Hard cap on the wait after the last send. */
  drainMaxS: number;
}

export const scenariosDir = resolve(dirname(fileURLToPath(import.meta.url)), '../scenarios');

const defaults: Omit<LoadProfile, 'scenario' | 'description' | 'phases'> = {
  simulator: { latencyMs: 0, receiptDelayMs: 200 },
  concurrency: 64,
  batchSize: 100,
  drainIdleS: 20,
  drainMaxS: 600,
};

const defaultPhase: Omit<Phase, 'name'> = {
  rate: 200,
  mix: { transactional: 1 },
  bodies: { gsm7: 1 },
  entry: 'rest',
};

export interface ProfileFlags {
  scenario?: string;
  messages?: number;
  durationS?: number;
  rate?: number;
  entry?: EntryPoint;
  mix?: Partial<Record<TrafficClass, number>>;
  bodies?: Partial<Record<BodyKind, number>>;
  latencyMs?: number;
  receiptDelayMs?: number;
  concurrency?: number;
  batchSize?: number;
  /** Per-phase overrides, `flood.messages=10000` (messages, durationS, rate), applied after the rescaling. */
  phaseOverrides?: string[];
}

/** `otp=1,promotional=3` → {otp: 1, promotional: 3}. */
export function parseWeights<K extends string>(text: string, allowed: readonly K[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const part of text.split(',').filter(Boolean)) {
    const [key, value = '1'] = part.split('=');
    if (!allowed.includes(key as K)) throw new Error(`unknown mix key "${key}" (expected ${allowed.join(', ')})`);
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`bad weight "${value}" for ${key}`);
    out[key as K] = n;
  }
  return out;
}

function loadScenario(nameOrPath: string): Omit<LoadProfile, 'scenario'> & { scenario?: string } {
  const file = existsSync(nameOrPath) ? nameOrPath : join(scenariosDir, `${nameOrPath}.json`);
  if (!existsSync(file)) throw new Error(`no scenario "${nameOrPath}" (looked for ${file})`);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<LoadProfile>;
  if (!Array.isArray(raw.phases) || raw.phases.length === 0) throw new Error(`${file}: "phases" must be a non-empty array`);
  return {
    ...defaults,
    ...raw,
    simulator: { ...defaults.simulator, ...raw.simulator },
    description: raw.description ?? '',
    phases: raw.phases.map((p, i) => ({ ...defaultPhase, ...p, name: p.name ?? `phase${i + 1}` })),
  };
}

/**
 * The profile a run uses: a scenario file (or one default phase), then the flags. On a scenario with several
 * phases, --rate / --messages / --duration rescale every phase in proportion (a burst stays 10x its base),
 * so the shape of the scenario is kept.
 */
export function resolveProfile(flags: ProfileFlags): LoadProfile {
  const base = flags.scenario
    ? loadScenario(flags.scenario)
    : { ...defaults, description: 'ad-hoc profile from flags', phases: [{ ...defaultPhase, messages: 1000, name: 'main' }] };
  const phases = base.phases.map((p) => ({ ...p, mix: { ...p.mix }, bodies: { ...p.bodies } }));
  if (flags.rate !== undefined) {
    const factor = flags.rate / phases[0]!.rate;
    for (const p of phases) p.rate = Math.max(1, Math.round(p.rate * factor));
  }
  if (flags.messages !== undefined) {
    const total = phases.reduce((s, p) => s + (p.messages ?? Math.round((p.durationS ?? 0) * p.rate)), 0);
    for (const p of phases) {
      const own = p.messages ?? Math.round((p.durationS ?? 0) * p.rate);
      p.messages = Math.max(1, Math.round((own * flags.messages) / Math.max(1, total)));
      delete p.durationS;
    }
  } else if (flags.durationS !== undefined) {
    const total = phases.reduce((s, p) => s + (p.durationS ?? (p.messages ?? 0) / p.rate), 0);
    for (const p of phases) {
      const own = p.durationS ?? (p.messages ?? 0) / p.rate;
      p.durationS = Math.max(1, (own * flags.durationS) / Math.max(1, total));
      delete p.messages;
    }
  }
  for (const override of flags.phaseOverrides ?? []) {
    const m = /^([\w-]+)\.(messages|durationS|rate)=(\d+(?:\.\d+)?)$/.exec(override);
    if (!m) throw new Error(`--phase "${override}": expected <phase>.<messages|durationS|rate>=<number>`);
    const phase = phases.find((p) => p.name === m[1]);
    if (!phase) throw new Error(`--phase "${override}": no phase "${m[1]}" (have ${phases.map((p) => p.name).join(', ')})`);
    const key = m[2] as 'messages' | 'durationS' | 'rate';
    phase[key] = Number(m[3]);
    if (key === 'messages') delete phase.durationS;
    if (key === 'durationS') delete phase.messages;
  }
  for (const p of phases) {
    if (flags.entry) p.entry = flags.entry;
    if (flags.mix) p.mix = flags.mix;
    if (flags.bodies) p.bodies = flags.bodies;
    if (p.messages === undefined && p.durationS === undefined) throw new Error(`phase ${p.name}: needs messages or durationS`);
    if (!(p.rate > 0)) throw new Error(`phase ${p.name}: rate must be positive`);
  }
  return {
    ...base,
    scenario: flags.scenario ?? 'custom',
    phases,
    simulator: {
      latencyMs: flags.latencyMs ?? base.simulator.latencyMs,
      receiptDelayMs: flags.receiptDelayMs ?? base.simulator.receiptDelayMs,
    },
    concurrency: flags.concurrency ?? base.concurrency,
    batchSize: flags.batchSize ?? base.batchSize,
  };
}

/** Messages a phase will send at most (durations at their target rate). */
export function plannedMessages(profile: LoadProfile): number {
  return profile.phases.reduce((s, p) => s + (p.messages ?? Math.ceil((p.durationS ?? 0) * p.rate)), 0);
}
