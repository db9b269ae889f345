import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { GatewayFileError, parseGatewayFile, type GatewayFile } from '@sms/config';
import type { Logger } from '@sms/platform';
import { Counter, Gauge, type Registry } from '@sms/telemetry';
import { RouteTable } from '@sms/routing';

export function routeTableOf(file: GatewayFile): RouteTable {
  return new RouteTable(
    file.routes,
    file.carriers.map((c) => ({ id: c.id, simulator: c.simulator })),
  );
}

/**
 * The route table, reloaded when GATEWAY_CONFIG_FILE changes. The file is polled by `stat` (not inotify):
 * a Kubernetes ConfigMap update swaps a symlink, which inotify on the file misses and stat follows. A
 * valid file replaces the table in one assignment (a batch being routed keeps the table it started with);
 * an invalid one is refused, logged with every problem (key path and line), counted, and the old table kept.
 */
export class RouteConfigSource {
  private table: RouteTable;
  private watching = false;
  private readonly listeners: ((file: GatewayFile) => void)[] = [];
  private readonly reloads: Counter<'result'>;
  private readonly routesGauge: Gauge;
  private readonly lastReload: Gauge<'result'>;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
    metrics: Registry,
    initial?: GatewayFile,
  ) {
    this.reloads = new Counter({
      name: 'router_config_reloads_total',
      help: 'Gateway config reloads, by result (success: table replaced; failure: file refused, old table kept)',
      labelNames: ['result'],
      registers: [metrics],
    });
    this.routesGauge = new Gauge({ name: 'router_config_routes', help: 'Routing rules in the active table', registers: [metrics] });
    this.lastReload = new Gauge({
      name: 'router_config_last_reload_timestamp_seconds',
      help: 'Time of the last reload attempt, by result',
      labelNames: ['result'],
      registers: [metrics],
    });
    this.table = routeTableOf(initial ?? parseGatewayFile(readFileSync(path, 'utf8'), path));
    this.routesGauge.set(this.table.size);
  }

  current(): RouteTable {
    return this.table;
  }

  /** Reads and validates the file; returns the problems when it was refused. */
  reload(): { ok: true; routes: number } | { ok: false; problems: string[] } {
    let file: GatewayFile;
    try {
      file = parseGatewayFile(readFileSync(this.path, 'utf8'), this.path);
    } catch (error) {
      const problems = error instanceof GatewayFileError ? error.problems : [(error as Error).message];
      this.reloads.inc({ result: 'failure' });
      this.lastReload.set({ result: 'failure' }, Date.now() / 1000);
      this.logger.error({ file: this.path, problems }, `gateway config refused, keeping the previous routes: ${problems.join('; ')}`);
      return { ok: false, problems };
    }
    this.table = routeTableOf(file);
    this.routesGauge.set(this.table.size);
    for (const listener of this.listeners) listener(file);
    this.reloads.inc({ result: 'success' });
    this.lastReload.set({ result: 'success' }, Date.now() / 1000);
    this.logger.info({ file: this.path, routes: this.table.size }, 'gateway config reloaded');
    return { ok: true, routes: this.table.size };
  }

  /** Called with each accepted file, after it replaced the table (a refused file never reaches it). */
  onChange(listener: (file: GatewayFile) => void): void {
    this.listeners.push(listener);
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
