/**
 * Destination numbers and bodies for generated load.
 *
 * Every message of a run gets its own destination, so a carrier submit is matched to its message by the
 * destination alone (also for multipart messages, whose later parts do not carry the body's tag), and
 * every body is unique, so the simulator's duplicate check (source, destination, octets) means what it
 * says. Numbers never end in 0000-0009: the simulator gives 0001-0009 special outcomes.
 */
const perBlock = 9990;
const blocksPerPrefix = 100;
/** UK mobile ranges libphonenumber accepts over their whole million (checked by numbers.spec). */
const prefixes = ['7400', '7401', '7402', '7403', '7404', '7405', '7406', '7407', '7408', '7409'];
export const maxMessagesPerRun = prefixes.length * blocksPerPrefix * perBlock;

export function destinationFor(seq: number): string {
  if (!Number.isInteger(seq) || seq < 0 || seq >= maxMessagesPerRun) throw new RangeError(`message ${seq} is outside 0..${maxMessagesPerRun - 1}`);
  const prefix = prefixes[Math.floor(seq / (blocksPerPrefix * perBlock))]!;
  const inPrefix = seq % (blocksPerPrefix * perBlock);
  const block = Math.floor(inPrefix / perBlock);
  const last4 = (inPrefix % perBlock) + 10;
  return `+44${prefix}${String(block).padStart(2, '0')}${String(last4).padStart(4, '0')}`;
}

/** The inverse of destinationFor, from the digits a carrier sees (with or without '+'); undefined if not ours. */
export function seqOfDestination(destination: string): number | undefined {
  const digits = destination.replace(/\D/g, '');
  const m = /^44(740\d)(\d{2})(\d{4})$/.exec(digits);
  if (!m) return undefined;
  const p = prefixes.indexOf(m[1]!);
  const last4 = Number(m[3]);
  if (p < 0 || last4 < 10) return undefined;
  return p * blocksPerPrefix * perBlock + Number(m[2]) * perBlock + (last4 - 10);
}

export type BodyKind = 'gsm7' | 'ucs2' | 'multipart' | 'multipartUcs2';

const gsmFiller = 'Thank you for shopping with us. Your parcel is on its way and will arrive within two working days. ';
const ucsFiller = 'Спасибо за покупку! Ваш заказ уже в пути. ';

/** A unique body of the given kind: GSM-7 or UCS-2, one segment or three. */
export function bodyFor(kind: BodyKind, tag: string): string {
  switch (kind) {
    case 'gsm7':
      return `Your code is ${tag}. Do not share it.`;
    case 'ucs2':
      return `Ваш код ${tag} ✓`;
    case 'multipart':
      return `Order ${tag}: ${gsmFiller.repeat(4)}`.slice(0, 420);
    case 'multipartUcs2':
      return `Заказ ${tag}: ${ucsFiller.repeat(4)}`.slice(0, 180);
  }
}

/** Deterministic weighted choice: the i-th draw of a sequence spreads the weights evenly (no randomness). */
export function pickWeighted<K extends string>(weights: Partial<Record<K, number>>, i: number): K {
  const entries = (Object.entries(weights) as [K, number][]).filter(([, w]) => w > 0);
  if (entries.length === 0) throw new Error('a mix needs at least one positive weight');
  const total = entries.reduce((s, [, w]) => s + w, 0);
  // Golden-ratio low-discrepancy sequence: any window of the run has close to the configured mix.
  const x = ((i + 1) * 0.6180339887498949) % 1;
  let acc = 0;
  for (const [k, w] of entries) {
    acc += w / total;
    if (x < acc) return k;
  }
  return entries[entries.length - 1]![0];
}
