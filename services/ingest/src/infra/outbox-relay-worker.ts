// Entry of the outbox relay thread (see OutboxRelayThread): the relay with its own pool and producer.
import { parentPort, workerData } from 'node:worker_threads';
import { createKafka, EventPublisher } from '@sms/kafka';
import { createLogger, openServiceDatabase } from '@sms/platform';
import { shutdownTelemetry, startTelemetry } from '@sms/telemetry';
import { ingestMigrations } from './migrations/index.js';
import { OutboxRelay } from './outbox-relay.js';
import type { FromRelayThread, RelayThreadData, ToRelayThread } from './outbox-relay-thread.js';

const port = parentPort;
if (!port) throw new Error('outbox-relay-worker runs as a worker thread');
const { settings, wakePending } = workerData as RelayThreadData;

// The thread has its own globals: its publish spans need their own SDK (same OTEL_* environment).
startTelemetry('ingest');
const logger = createLogger('ingest', settings.logLevel);
// The main thread ran the migrations before starting this thread; opening checks them under the lock.
const db = await openServiceDatabase({
  url: settings.databaseUrl,
  schema: 'ingest',
  migrations: ingestMigrations,
  poolSize: settings.poolSize,
  applicationName: 'ingest-relay',
});
const publisher = new EventPublisher(createKafka({ brokers: settings.brokers, clientId: 'ingest-relay', logger }));
await publisher.connect();
const relay = new OutboxRelay(db, publisher, logger, { pollMs: settings.pollMs, batch: settings.batch, loops: settings.loops });
relay.onPublished = (count, oldest) => port.postMessage({ type: 'published', count, oldestCreatedAt: oldest.getTime() } satisfies FromRelayThread);
relay.start();

port.on('message', (message: ToRelayThread) => {
  if (message.type === 'wake') {
    Atomics.store(wakePending, 0, 0);
    relay.wake();
    return;
  }
  void (async () => {
    try {
      await relay.stop();
      await publisher.disconnect();
      await db.destroy();
      await shutdownTelemetry();
    } catch (error) {
      logger.warn({ error: (error as Error).message }, 'outbox relay thread: unclean stop');
    } finally {
      // Ends this thread only, whatever a client library still holds open.
      process.exit(0);
    }
  })();
});
