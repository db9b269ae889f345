#!/usr/bin/env node
// A private Kafka and PostgreSQL on free ports (throw-away data), for running router tests or the lanes
// e2e test without routing anyone else's traffic on a shared broker. Writes KAFKA_BROKERS/DATABASE_URL to
// the file given (default /tmp/router-private.env) and stops both on SIGINT/SIGTERM.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka, ensureTopics, silentLogger } from '@sms/kafka';
import { freePort, startKafka, startPostgres } from '@sms/local-stack';

const envFile = process.argv[2] ?? '/tmp/router-private.env';
const dir = mkdtempSync(join(tmpdir(), 'router-private-'));
const log = (line) => process.stderr.write(`${line}\n`);
const [pg, kafka] = await Promise.all([
  startPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), log }),
  startKafka({ dataDir: join(dir, 'kafka'), port: await freePort(), controllerPort: await freePort(), log }),
]);
await ensureTopics(createKafka({ brokers: [kafka.brokers], clientId: 'router-private', logger: silentLogger }));
writeFileSync(envFile, `KAFKA_BROKERS=${kafka.brokers}\nDATABASE_URL=${pg.url}\n`);
log(`ready: ${envFile}`);
const stop = async () => {
  await kafka.stop().catch(() => undefined);
  await pg.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => undefined, 60_000);
