// Child process for the outbox crash test: relays the outbox of DATABASE_URL in batches of RELAY_BATCH and
// kills itself with SIGKILL right after Kafka acknowledged batch number CRASH_AFTER_BATCH, before that
// batch's rows are deleted and committed: the worst moment for an outbox relay to die.
import { createKafka, EventPublisher, silentLogger } from '@sms/kafka';
import { createLogger, openServiceDatabase } from '@sms/platform';
import { ingestMigrations } from '../infra/migrations/index.js';
import { OutboxRelay } from '../infra/outbox-relay.js';

const db = await openServiceDatabase({ url: process.env.DATABASE_URL!, schema: 'ingest', migrations: ingestMigrations, applicationName: 'relay-crash' });
const publisher = new EventPublisher(createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'relay-crash', logger: silentLogger }));
await publisher.connect();
const relay = new OutboxRelay(db, publisher, createLogger('relay-crash', 'error'), { pollMs: 10_000, batch: Number(process.env.RELAY_BATCH) });
let batches = 0;
relay.afterPublish = () => {
  batches++;
  if (batches === Number(process.env.CRASH_AFTER_BATCH)) process.kill(process.pid, 'SIGKILL');
};
relay.start();
