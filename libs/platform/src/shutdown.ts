import type { Logger } from 'pino';

/** Runs the given cleanup once on SIGINT/SIGTERM, then exits; a second signal exits at once. */
export function onShutdownSignal(logger: Logger, cleanup: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15000);
    force.unref();
    cleanup()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ error: (error as Error).message }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
