/**
 * The receipt text of SMPP 3.4 Appendix B, which most SMSCs send even when they also send TLVs:
 * `id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...`
 * Fields are kept as strings: vendors vary (decimal vs hex ids, 10 or 12 digit dates).
 */
export interface ReceiptText {
  id: string;
  sub?: string;
  dlvrd?: string;
  submitDate?: string;
  doneDate?: string;
  /** DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD, ENROUTE. */
  stat?: string;
  err?: string;
  text?: string;
}

const FIELD = /(id|sub|dlvrd|submit date|done date|stat|err):(\S*)/gi;

/** Parses a receipt text; undefined when it has no `id:` field. Only the first 512 characters are read. */
export function parseReceiptText(input: string): ReceiptText | undefined {
  const source = input.slice(0, 512);
  const textAt = source.search(/\btext:/i);
  const head = textAt < 0 ? source : source.slice(0, textAt);
  const fields = new Map<string, string>();
  for (const match of head.matchAll(FIELD)) {
    const key = match[1]!.toLowerCase();
    if (!fields.has(key)) fields.set(key, match[2]!);
  }
  const id = fields.get('id');
  if (id === undefined || id === '') return undefined;
  const receipt: ReceiptText = { id };
  const set = (key: keyof ReceiptText, field: string): void => {
    const value = fields.get(field);
    if (value !== undefined) receipt[key] = value;
  };
  set('sub', 'sub');
  set('dlvrd', 'dlvrd');
  set('submitDate', 'submit date');
  set('doneDate', 'done date');
  set('stat', 'stat');
  set('err', 'err');
  if (textAt >= 0) receipt.text = source.slice(textAt + 5);
  return receipt;
}
