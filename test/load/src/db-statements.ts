import pg from 'pg';

/**
 * Where the database time goes during a run, from pg_stat_statements. Only available when the harness
 * started PostgreSQL itself (it preloads the extension); on a server given by DATABASE_URL it is skipped.
 */
export interface StatementStat {
  /** The statement as PostgreSQL normalised it ($n for constants), shortened. */
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  rows: number;
}

/** Server settings for a cluster the harness starts (pg_stat_statements must be preloaded). */
export const statementStatsSettings = { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.max': '2000' };

export class StatementStats {
  private constructor(private readonly url: string) {}

  /** Creates the extension and clears what the services' startup (migrations) recorded. */
  static async start(url: string): Promise<StatementStats> {
    const stats = new StatementStats(url);
    await stats.run(async (client) => {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await client.query('SELECT pg_stat_statements_reset()');
    });
    return stats;
  }

  /** The top statements by total execution time since start(). */
  async top(limit = 10): Promise<StatementStat[]> {
    return this.run(async (client) => {
      const { rows } = await client.query<{ query: string; calls: string; total: number; mean: number; rows: string }>(
        `SELECT query, calls, total_exec_time AS total, mean_exec_time AS mean, rows
           FROM pg_stat_statements
          WHERE query NOT ILIKE '%pg_stat_statements%'
          ORDER BY total_exec_time DESC
          LIMIT $1`,
        [limit],
      );
      return rows.map((r) => ({ query: shorten(r.query), calls: Number(r.calls), totalMs: r.total, meanMs: r.mean, rows: Number(r.rows) }));
    });
  }

  private async run<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
}

/** One line, whitespace collapsed, at most 140 characters: enough to tell which table and which statement. */
export function shorten(query: string, max = 140): string {
  const line = query.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
