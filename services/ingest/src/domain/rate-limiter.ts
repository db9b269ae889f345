/**
 * Token bucket per tenant, in process memory: each replica enforces the limit on the requests it serves,
 * so a tenant spread over N replicas gets up to N times the rate (documented; a shared limiter would cost
 * a round trip per request on the hot path).
 */
export class TenantRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly defaults: { perSecond: number; burst: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token; returns 0 when allowed, else the seconds to wait (for Retry-After). */
  take(tenantId: string, perSecond = this.defaults.perSecond): number {
    if (perSecond <= 0) return 0;
    const burst = Math.max(1, Math.round((this.defaults.burst / this.defaults.perSecond) * perSecond));
    const now = this.now();
    let bucket = this.buckets.get(tenantId);
    if (!bucket) {
      bucket = { tokens: burst, at: now };
      if (this.buckets.size > 100_000) this.buckets.clear();
      this.buckets.set(tenantId, bucket);
    }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
  }
}
