import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { GatewayFileError, parseGatewayFile, type GatewayFile } from '@sms/config';
import type { Logger } from '@sms/platform';
import { RouteTable, allHealthy, type RouteRequest } from '@sms/routing';

/** The route `POST /v1/messages/preview` shows: what the router's table decides with every carrier healthy. */
export interface RoutePreview {
  /** `routable`: a rule matched and has a usable carrier; `no_route`: no rule matches; `no_carrier`: every carrier was skipped. */
  outcome: 'routable' | 'no_route' | 'no_carrier';
  routeId: string | null;
  /** The matched rule's conditions (e.g. `prefix +4479, class otp`, or `catch-all`). */
  rule: string | null;
  strategy: 'ordered' | 'weighted' | 'cheapest' | null;
  /** Carriers in attempt order: first choice, then failover. */
  carriers: string[];
  skipped: { carrierId: string; reason: string }[];
  country: string | null;
  matchedPrefix: string | null;
}

export function routeTableOf(file: GatewayFile): RouteTable {
  return new RouteTable(
    file.routes,
    file.carriers.map((c) => ({ id: c.id, simulator: c.simulator })),
  );
}

/**
 * Ingest's copy of the router's route table, built from the same gateway config file (GATEWAY_CONFIG_FILE)
 * with the same engine (@sms/routing), so a preview and the router agree on rule and carrier order. Reloaded
 * the way the router reloads it: the file is polled by `stat` (a Kubernetes ConfigMap update swaps a symlink,
 * which inotify on the file misses), a valid file replaces the table in one assignment, an invalid one is
 * logged and the previous table kept. Between the two services' polls a preview may show the old routes for
 * up to one poll interval.
 *
 * Carrier health is not known here: circuit-breaker state lives in the router (from carrier-health events),
 * so every carrier is assumed healthy and the preview says so.
 */
export class RoutePreviewSource {
  private table: RouteTable;
  private watching = false;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {
    this.table = routeTableOf(parseGatewayFile(readFileSync(path, 'utf8'), path));
  }

  preview(request: RouteRequest): RoutePreview {
    const decision = this.table.resolve(request, allHealthy);
    if (!decision) {
      return { outcome: 'no_route', routeId: null, rule: null, strategy: null, carriers: [], skipped: [], country: null, matchedPrefix: null };
    }
    return {
      outcome: decision.carriers.length > 0 ? 'routable' : 'no_carrier',
      routeId: decision.routeId,
      rule: decision.conditions,
      strategy: decision.strategy,
      carriers: decision.carriers,
      skipped: decision.skipped,
      country: decision.country ?? null,
      matchedPrefix: decision.matchedPrefix ?? null,
    };
  }

  /** Re-reads the file; a refused file keeps the previous table. */
  reload(): boolean {
    try {
      this.table = routeTableOf(parseGatewayFile(readFileSync(this.path, 'utf8'), this.path));
      this.logger.info({ file: this.path, routes: this.table.size }, 'gateway config reloaded for previews');
      return true;
    } catch (error) {
      const problems = error instanceof GatewayFileError ? error.problems : [(error as Error).message];
      this.logger.error({ file: this.path, problems }, 'gateway config refused, previews keep the previous routes');
      return false;
    }
  }

  watch(intervalMs: number): void {
    if (this.watching) return;
    this.watching = true;
    watchFile(this.path, { interval: intervalMs, persistent: false }, (current: Stats, previous: Stats) => {
      if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
      if (current.nlink === 0 && current.size === 0) return; // removed mid-swap: wait for the new file
      this.reload();
    });
  }

  stop(): void {
    if (this.watching) unwatchFile(this.path);
    this.watching = false;
  }
}
