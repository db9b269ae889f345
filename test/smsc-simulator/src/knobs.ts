// Behaviour knobs: shared by the programmatic API (`setKnobs`), the CLI and `PATCH /knobs`.

export interface OutcomeMix {
  delivered: number;
  undeliverable: number;
  expired: number;
  rejected: number;
}

export interface SimulatorKnobs {
  /** Delay before each submit_sm_resp (ms). Submits waiting for it count as outstanding. */
  latencyMs: number;
  /** Delay between submit_sm_resp and the delivery receipt (ms). */
  receiptDelayMs: number;
  /** ESME_RTHROTTLED once a bind has had more than this many submits in the last second; null = off. */
  throttleAboveMps: number | null;
  /** Probability (0..1) of answering an otherwise acceptable submit with ESME_RSYSERR. */
  transientErrorRate: number;
  /** Probability (0..1) of swallowing a submit: no response, no message id, no receipt. */
  dropResponseRate: number;
  /** Close a connection once its N-th submit_sm has been answered; null = never. */
  disconnectAfterSubmits: number | null;
  /** ESME_RMSGQFUL when a submit arrives while N are already outstanding on the bind; null = off. */
  windowLimit: number | null;
  /** Relative weights of the final state for destinations without a magic suffix. */
  outcomeMix: OutcomeMix;
}

export const DEFAULT_KNOBS: Readonly<SimulatorKnobs> = Object.freeze({
  latencyMs: 0,
  receiptDelayMs: 500,
  throttleAboveMps: null,
  transientErrorRate: 0,
  dropResponseRate: 0,
  disconnectAfterSubmits: null,
  windowLimit: null,
  outcomeMix: Object.freeze({ delivered: 1, undeliverable: 0, expired: 0, rejected: 0 }),
});

export type KnobsPatch = Partial<Omit<SimulatorKnobs, 'outcomeMix'>> & { outcomeMix?: Partial<OutcomeMix> };

export class KnobError extends Error {}

export const KNOB_NAMES = [
  'latencyMs',
  'receiptDelayMs',
  'throttleAboveMps',
  'transientErrorRate',
  'dropResponseRate',
  'disconnectAfterSubmits',
  'windowLimit',
  'outcomeMix',
] as const satisfies ReadonlyArray<keyof SimulatorKnobs>;

/** The knob fields of a wider options object (e.g. SimulatorOptions), leaving the rest out. */
export function pickKnobs(options: KnobsPatch): KnobsPatch {
  const patch: Record<string, unknown> = {};
  for (const name of KNOB_NAMES) if (options[name] !== undefined) patch[name] = options[name];
  return patch as KnobsPatch;
}

const NUMBER_KNOBS = ['latencyMs', 'receiptDelayMs'] as const;
const RATE_KNOBS = ['transientErrorRate', 'dropResponseRate'] as const;
const NULLABLE_KNOBS = ['throttleAboveMps', 'disconnectAfterSubmits', 'windowLimit'] as const;
const MIX_KEYS = ['delivered', 'undeliverable', 'expired', 'rejected'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new KnobError(`${name} must be a finite number >= 0`);
  }
  return value;
}

/** Checks an untrusted patch (HTTP body, CLI) and returns it typed; unknown keys are rejected. */
export function parseKnobsPatch(input: unknown): KnobsPatch {
  if (!isRecord(input)) throw new KnobError('knobs must be a JSON object');
  const known = new Set<string>(KNOB_NAMES);
  for (const key of Object.keys(input)) {
    if (!known.has(key)) throw new KnobError(`unknown knob ${key}`);
  }
  const patch: KnobsPatch = {};
  for (const key of NUMBER_KNOBS) {
    if (input[key] !== undefined) patch[key] = nonNegative(key, input[key]);
  }
  for (const key of RATE_KNOBS) {
    if (input[key] !== undefined) {
      const rate = nonNegative(key, input[key]);
      if (rate > 1) throw new KnobError(`${key} must be between 0 and 1`);
      patch[key] = rate;
    }
  }
  for (const key of NULLABLE_KNOBS) {
    if (input[key] === null) patch[key] = null;
    else if (input[key] !== undefined) patch[key] = nonNegative(key, input[key]);
  }
  if (input.outcomeMix !== undefined) {
    const mix = input.outcomeMix;
    if (!isRecord(mix)) throw new KnobError('outcomeMix must be an object of weights');
    const parsed: Partial<OutcomeMix> = {};
    for (const key of Object.keys(mix)) {
      if (!(MIX_KEYS as readonly string[]).includes(key)) throw new KnobError(`unknown outcome ${key}`);
    }
    for (const key of MIX_KEYS) {
      if (mix[key] !== undefined) parsed[key] = nonNegative(`outcomeMix.${key}`, mix[key]);
    }
    patch.outcomeMix = parsed;
  }
  return patch;
}

/** A partial outcomeMix replaces the whole mix: weights left out are 0, so {expired: 1} means all expire. */
export function applyKnobs(current: SimulatorKnobs, patch: KnobsPatch): SimulatorKnobs {
  const checked = parseKnobsPatch(patch);
  const next: SimulatorKnobs = { ...current, ...checked, outcomeMix: current.outcomeMix };
  if (checked.outcomeMix !== undefined) {
    const mix: OutcomeMix = {
      delivered: 0,
      undeliverable: 0,
      expired: 0,
      rejected: 0,
      ...checked.outcomeMix,
    };
    if (MIX_KEYS.every((key) => mix[key] === 0))
      throw new KnobError('outcomeMix needs at least one positive weight');
    next.outcomeMix = mix;
  }
  return next;
}
