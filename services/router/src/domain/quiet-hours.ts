/**
 * Quiet hours for promotional traffic, in the recipient's local time. The country comes from the number
 * (libphonenumber-js), its IANA time zones from ICU (`Intl.Locale#timeZones`). A country with several
 * zones is quiet while ANY of its zones is quiet: a message is released only when it is outside quiet
 * hours everywhere in the country (nobody gets a promotion at night; the sendable window shrinks).
 */
export interface QuietWindow {
  /** Minutes after local midnight the quiet period starts (inclusive) and ends (exclusive); may wrap midnight. */
  start: number;
  end: number;
}

export function parseQuietWindow(text: string): QuietWindow {
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!m) throw new Error(`quiet hours must look like 21:00-08:00, got ${text}`);
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  if (start === end) throw new Error('quiet hours start and end must differ');
  return { start, end };
}

export function isQuietMinute(window: QuietWindow, minute: number): boolean {
  return window.start < window.end ? minute >= window.start && minute < window.end : minute >= window.start || minute < window.end;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes after local midnight in `zone` at `at`. */
export function localMinute(at: Date, zone: string): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(zone, f);
  }
  let hour = 0;
  let minute = 0;
  for (const part of f.formatToParts(at)) {
    if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return hour * 60 + minute;
}

const zoneCache = new Map<string, string[]>();

/** IANA zones of an ISO country (empty when ICU knows none). */
export function zonesOf(country: string): string[] {
  let zones = zoneCache.get(country);
  if (!zones) {
    try {
      const locale = new Intl.Locale(`und-${country}`) as Intl.Locale & { timeZones?: string[]; getTimeZones?: () => string[] };
      zones = locale.getTimeZones?.() ?? locale.timeZones ?? [];
    } catch {
      zones = [];
    }
    zoneCache.set(country, zones);
  }
  return zones;
}

/**
 * When a message to these zones may go: undefined if now (no zone is quiet), else the first minute at which
 * no zone is quiet. If the zones' quiet periods cover the whole day, the time the last zone's quiet ends.
 */
export function releaseAt(now: Date, zones: readonly string[], window: QuietWindow): Date | undefined {
  if (zones.length === 0) return undefined;
  const quietSomewhere = (at: Date) => zones.some((zone) => isQuietMinute(window, localMinute(at, zone)));
  let at = now;
  let quietAnywhere = false;
  for (let round = 0; round < 4; round++) {
    let waitMinutes = 0;
    for (const zone of zones) {
      const minute = localMinute(at, zone);
      if (isQuietMinute(window, minute)) waitMinutes = Math.max(waitMinutes, (window.end - minute + 1440) % 1440);
    }
    if (waitMinutes === 0) return quietAnywhere ? at : undefined;
    quietAnywhere = true;
    let hi = floorMinute(new Date(at.getTime() + waitMinutes * 60_000));
    if (!quietSomewhere(hi)) {
      // Wall-clock arithmetic overshoots across a DST change: find the first free minute between.
      let lo = at;
      while (hi.getTime() - lo.getTime() > 60_000) {
        const mid = floorMinute(new Date(lo.getTime() + (hi.getTime() - lo.getTime()) / 2));
        if (mid.getTime() <= lo.getTime()) break;
        if (quietSomewhere(mid)) lo = mid;
        else hi = mid;
      }
      return hi;
    }
    at = hi;
  }
  return at;
}

function floorMinute(at: Date): Date {
  const d = new Date(at.getTime());
  d.setUTCSeconds(0, 0);
  return d;
}
