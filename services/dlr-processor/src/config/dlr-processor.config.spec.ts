import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@sms/config';
import { loadDlrProcessorConfig, resolveExpiryGraceMs } from './dlr-processor.config.js';

const required = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' };

void test('defaults: port 8084, sweep every 30 s, pending receipts parked after 1 h', () => {
  const config = loadDlrProcessorConfig({ ...required });
  assert.equal(config.HTTP_PORT, 8084);
  assert.equal(config.DLR_SWEEP_INTERVAL_MS, 30_000);
  assert.equal(config.DLR_PENDING_RECEIPT_TTL_MS, 3_600_000);
  assert.equal(config.DLR_SWEEP_BATCH_SIZE, 500);
});

void test('expiry grace: 10 min locally and in tests, 1 h in production, or as configured', () => {
  assert.equal(resolveExpiryGraceMs('local', undefined), 600_000);
  assert.equal(resolveExpiryGraceMs('test', undefined), 600_000);
  assert.equal(resolveExpiryGraceMs('production', undefined), 3_600_000);
  assert.equal(loadDlrProcessorConfig({ ...required, GATEWAY_MODE: 'local' }).DLR_EXPIRY_GRACE_MS, 600_000);
  assert.equal(loadDlrProcessorConfig({ ...required, DLR_EXPIRY_GRACE_MS: '0' }).DLR_EXPIRY_GRACE_MS, 0);
});

void test('a bad value stops the start with every problem listed', () => {
  assert.throws(
    () => loadDlrProcessorConfig({ ...required, DLR_SWEEP_INTERVAL_MS: 'soon', DATABASE_URL: 'mysql://x' }),
    (error: unknown) => error instanceof ConfigError && error.problems.length === 2,
  );
});
