/** A named check that tells whether a dependency (Kafka, PostgreSQL, a carrier bind) is usable. */
export interface ReadinessCheck {
  name: string;
  /** Resolves to a detail string when ready, throws (or returns false) when not. */
  check(): Promise<boolean | string>;
  /** Optional checks show in the detail but do not make the service unready (e.g. one carrier down). */
  optional?: boolean;
}

export interface ReadinessReport {
  ready: boolean;
  checks: { name: string; ok: boolean; detail?: string; optional?: boolean }[];
}

export class ReadinessRegistry {
  private readonly checks: ReadinessCheck[] = [];

  register(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  async report(timeoutMs = 2000): Promise<ReadinessReport> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        try {
          const outcome = await Promise.race([
            c.check(),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs).unref()),
          ]);
          const ok = outcome !== false;
          return { name: c.name, ok, detail: typeof outcome === 'string' ? outcome : undefined, optional: c.optional };
        } catch (error) {
          return { name: c.name, ok: false, detail: (error as Error).message, optional: c.optional };
        }
      }),
    );
    return { ready: results.every((r) => r.ok || r.optional), checks: results };
  }
}
