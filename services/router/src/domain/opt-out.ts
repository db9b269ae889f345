/** Keywords a recipient texts to stop or resume messages from a sender (CTIA / common carrier set). */
export const STOP_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'] as const;
export const START_KEYWORDS = ['START', 'UNSTOP'] as const;

export type MoCommand = { action: 'opt_out' | 'opt_in'; keyword: string } | undefined;

/**
 * The command of an MO text: the first word, case-insensitive, ignoring surrounding spaces and
 * punctuation ("Stop.", " stop please"). Anything else is not a command.
 */
export function moCommand(text: string): MoCommand {
  const first = /^[\s"'.!]*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase();
  if (!first) return undefined;
  if ((STOP_KEYWORDS as readonly string[]).includes(first)) return { action: 'opt_out', keyword: first };
  if ((START_KEYWORDS as readonly string[]).includes(first)) return { action: 'opt_in', keyword: first };
  return undefined;
}

/** E.164 form of a number as carriers send it in MOs (`447911000001`, `+44 7911 000001`). */
export function normalizeMsisdn(value: string): string | undefined {
  const digits = value.replace(/[^\d]/g, '');
  if (digits.length < 7 || digits.length > 15 || digits.startsWith('0')) return undefined;
  return `+${digits}`;
}

/** Sender ids are compared as carriers deliver them: digits only for numbers, exact for alphanumerics. */
export function normalizeSender(value: string): string {
  const trimmed = value.trim();
  return /^\+?[\d\s-]+$/.test(trimmed) ? trimmed.replace(/[^\d]/g, '') : trimmed;
}
