import type { SubmitRecord } from './simulator.js';

export interface ReassembledMessage {
  sourceAddr: string;
  destinationAddr: string;
  /** Concatenation reference, null for a single-part message. */
  ref: number | null;
  total: number;
  /** One record per received part, ordered by sequence number. */
  parts: SubmitRecord[];
  missing: number[];
  /** Parts received more than once (same seq): a sign of a duplicate submit. */
  repeatedParts: number;
  complete: boolean;
  /** The parts' texts joined when complete and textual, else null. */
  text: string | null;
}

/**
 * Groups submits into the messages a handset would display: by (source, destination, ref, total)
 * for UDH or SAR concatenation, one group per single-part submit. Pass only accepted records
 * (`commandStatus === 0`) to see what reached the "handset".
 */
export function reassemble(records: readonly SubmitRecord[]): ReassembledMessage[] {
  const groups = new Map<
    string,
    { first: SubmitRecord; bySeq: Map<number, SubmitRecord>; repeated: number }
  >();
  const out: Array<{ key: string } | ReassembledMessage> = [];
  for (const r of records) {
    if (r.concat === null) {
      out.push({
        sourceAddr: r.sourceAddr,
        destinationAddr: r.destinationAddr,
        ref: null,
        total: 1,
        parts: [r],
        missing: [],
        repeatedParts: 0,
        complete: true,
        text: r.text,
      });
      continue;
    }
    const key = `${r.sourceAddr}\u0000${r.destinationAddr}\u0000${r.concat.ref}\u0000${r.concat.total}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { first: r, bySeq: new Map(), repeated: 0 };
      groups.set(key, group);
      out.push({ key });
    }
    if (group.bySeq.has(r.concat.seq)) group.repeated++;
    else group.bySeq.set(r.concat.seq, r);
  }
  return out.map((entry) => {
    if (!('key' in entry)) return entry;
    const group = groups.get(entry.key);
    if (group === undefined) throw new Error('unreachable: group vanished');
    const total = group.first.concat?.total ?? 1;
    const parts = [...group.bySeq.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
    const missing: number[] = [];
    for (let seq = 1; seq <= total; seq++) if (!group.bySeq.has(seq)) missing.push(seq);
    const complete = missing.length === 0;
    const texts = parts.map((p) => p.text);
    return {
      sourceAddr: group.first.sourceAddr,
      destinationAddr: group.first.destinationAddr,
      ref: group.first.concat?.ref ?? null,
      total,
      parts,
      missing,
      repeatedParts: group.repeated,
      complete,
      text: complete && texts.every((t) => t !== null) ? texts.join('') : null,
    };
  });
}
