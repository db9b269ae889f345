import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@sms/config';
import { loadNotifierConfig } from './notifier.config.js';

const base = { KAFKA_BROKERS: 'localhost:9092', DATABASE_URL: 'postgres://u:p@localhost:5432/db' };

describe('notifier config', () => {
  it('defaults: final statuses only, 15 s timeout, 256 in flight (32 per endpoint), full retry schedule, production mode', () => {
    const config = loadNotifierConfig(base);
    assert.deepEqual([...config.WEBHOOK_STATUSES].sort(), ['canceled', 'delivered', 'expired', 'failed', 'rejected', 'undelivered']);
    assert.equal(config.WEBHOOK_TIMEOUT_MS, 15_000);
    assert.equal(config.WEBHOOK_CONCURRENCY, 256);
    assert.equal(config.WEBHOOK_ENDPOINT_CONCURRENCY, 32);
    assert.equal(config.WEBHOOK_BODY_RETENTION_H, 48);
    assert.equal(config.WEBHOOK_CLAIM_BATCH, 200);
    assert.equal(config.WEBHOOK_RETRY_SCALE, 1);
    assert.equal(config.GATEWAY_MODE, 'production');
    assert.equal(config.DEMO_TENANT_ID, undefined);
  });

  it('reads a status list and a shrunk schedule', () => {
    const config = loadNotifierConfig({ ...base, WEBHOOK_STATUSES: 'submitted, delivered', WEBHOOK_RETRY_SCALE: '0.001' });
    assert.deepEqual([...config.WEBHOOK_STATUSES], ['submitted', 'delivered']);
    assert.equal(config.WEBHOOK_RETRY_SCALE, 0.001);
  });

  it('rejects unknown statuses and malformed demo secrets', () => {
    assert.throws(() => loadNotifierConfig({ ...base, WEBHOOK_STATUSES: 'delivered,arrived' }), ConfigError);
    assert.throws(() => loadNotifierConfig({ ...base, DEMO_WEBHOOK_SECRET: 'hunter2' }), ConfigError);
    const ok = loadNotifierConfig({ ...base, DEMO_TENANT_ID: 'demo', DEMO_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
    assert.equal(ok.DEMO_WEBHOOK_SECRET, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  });
});
