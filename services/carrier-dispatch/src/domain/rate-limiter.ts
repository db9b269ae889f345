import type { TrafficClass } from '@sms/contracts';

/** The order lanes get tokens in when several wait. */
const LANE_PRIORITY: readonly TrafficClass[] = ['otp', 'transactional', 'promotional'];

/**
 * Messages-per-second limit for one carrier on this replica, with AIMD adaptation:
 * - the ceiling is this replica's share of the carrier's `mps` (see `shareOfMps`), so the sum over
 *   replicas never exceeds what the carrier allows;
 * - a throttling answer (ESME_RTHROTTLED / ESME_RMSGQFUL) halves the current rate (at most once per
 *   `decreaseCooldownMs`, so one burst of throttled answers from one window counts once);
 * - every `increaseIntervalMs` without throttling adds `increaseFraction` of the ceiling back, so the
 *   rate recovers when the carrier does.
 *
 * `acquire(lane)` is a token bucket with a small burst; callers wait for a token, which is the back-pressure
 * on the lane's consumer. The bucket is the carrier's, shared by its three lanes, and a freed token goes to the
 * most urgent lane waiting (OTP, then transactional, then promotional; in order within a lane): with one
 * queue for all, an OTP waited behind every promotional submit already waiting for a token, seconds at a
 * carrier's real mps during a campaign. Time is injectable for unit tests.
 */

export interface AimdOptions {
  ceilingMps: number;
  /** Lowest rate it backs off to, as a fraction of the ceiling. */
  floorFraction?: number;
  decreaseFactor?: number;
  decreaseCooldownMs?: number;
  increaseFraction?: number;
  increaseIntervalMs?: number;
  /** Slots that may be used at once after an idle period. */
  burstMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class AimdRateLimiter {
  private ceiling: number;
  private rate: number;
  private tokens = 1;
  private lastRefill: number;
  private readonly waiting: Record<TrafficClass, (() => void)[]> = { otp: [], transactional: [], promotional: [] };
  private waiters = 0;
  private serving = false;
  private lastDecrease = -Infinity;
  private lastIncrease: number;
  private readonly floorFraction: number;
  private readonly decreaseFactor: number;
  private readonly decreaseCooldownMs: number;
  private readonly increaseFraction: number;
  private readonly increaseIntervalMs: number;
  private readonly burstMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  onRateChange?: (rate: number) => void;

  constructor(options: AimdOptions) {
    this.ceiling = options.ceilingMps;
    this.rate = Math.max(0.1, options.ceilingMps);
    this.floorFraction = options.floorFraction ?? 0.05;
    this.decreaseFactor = options.decreaseFactor ?? 0.5;
    this.decreaseCooldownMs = options.decreaseCooldownMs ?? 1000;
    this.increaseFraction = options.increaseFraction ?? 0.1;
    this.increaseIntervalMs = options.increaseIntervalMs ?? 1000;
    this.burstMs = options.burstMs ?? 50;
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.lastIncrease = this.now();
    this.lastRefill = this.lastIncrease;
  }

  get currentMps(): number {
    return this.rate;
  }

  get ceilingMps(): number {
    return this.ceiling;
  }

  /** A new share after a rebalance; the current rate keeps its position relative to the ceiling. */
  setCeiling(mps: number): void {
    const ratio = this.ceiling > 0 ? this.rate / this.ceiling : 1;
    this.ceiling = mps;
    this.setRate(Math.max(this.floor(), mps * ratio));
  }

  /**
   * Waits for a token. A token bucket holding at most `burstMs` worth of tokens: however late a waiter
   * wakes (a busy event loop), no more than rate x t + burst sends happen in any span t. Waiters get tokens by
   * lane priority, in order within a lane.
   */
  acquire(lane: TrafficClass): Promise<void> {
    if (this.waiters === 0 && this.takeToken()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiting[lane].push(resolve);
      this.waiters++;
      if (!this.serving) void this.serve();
    });
  }

  /** Hands tokens to waiters as they come, most urgent lane first, until none waits. */
  private async serve(): Promise<void> {
    this.serving = true;
    try {
      while (this.waiters > 0) {
        if (this.takeToken()) {
          this.waiters--;
          for (const lane of LANE_PRIORITY) {
            const next = this.waiting[lane].shift();
            if (next) {
              next();
              break;
            }
          }
          continue;
        }
        await this.sleep(Math.max(1, ((1 - this.tokens) * 1000) / this.rate));
      }
    } finally {
      this.serving = false;
    }
  }

  private takeToken(): boolean {
    const now = this.now();
    this.maybeIncrease(now);
    const capacity = Math.max(1, (this.rate * this.burstMs) / 1000);
    this.tokens = Math.min(capacity, this.tokens + ((now - this.lastRefill) * this.rate) / 1000);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** The carrier said slow down. */
  onThrottled(): void {
    const now = this.now();
    if (now - this.lastDecrease < this.decreaseCooldownMs) return;
    this.lastDecrease = now;
    this.lastIncrease = now;
    this.setRate(Math.max(this.floor(), this.rate * this.decreaseFactor));
  }

  private maybeIncrease(now: number): void {
    if (this.rate >= this.ceiling) {
      this.lastIncrease = now;
      return;
    }
    const steps = Math.floor((now - Math.max(this.lastIncrease, this.lastDecrease)) / this.increaseIntervalMs);
    if (steps <= 0) return;
    this.lastIncrease = now;
    this.setRate(Math.min(this.ceiling, this.rate + steps * this.increaseFraction * this.ceiling));
  }

  private floor(): number {
    return Math.max(0.1, this.ceiling * this.floorFraction);
  }

  private setRate(rate: number): void {
    if (rate === this.rate) return;
    this.rate = rate;
    this.onRateChange?.(rate);
  }
}

/**
 * This replica's share of a carrier's mps: the carrier's lanes' partitions it owns over all their
 * partitions. Each partition is owned by exactly one replica per lane group, so the shares of all
 * replicas add up to at most 1 (exactly 1 when every partition is assigned).
 */
export function shareOfMps(mps: number, owned: { owned: number; total: number }[]): number {
  const total = owned.reduce((sum, o) => sum + o.total, 0);
  if (total === 0) return mps;
  const mine = owned.reduce((sum, o) => sum + Math.min(o.owned, o.total), 0);
  return (mps * mine) / total;
}
