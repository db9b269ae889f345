import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, commonServiceShape, loadConfig } from './index.js';

test('valid env parses into typed values with defaults', () => {
  const cfg = loadConfig('svc', commonServiceShape, {
    KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
    DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
    HTTP_PORT: '8080',
  });
  assert.deepEqual(cfg.KAFKA_BROKERS, ['127.0.0.1:9092', '127.0.0.1:9093']);
  assert.equal(cfg.HTTP_PORT, 8080);
  assert.equal(cfg.GATEWAY_MODE, 'production');
});

test('every problem is listed at once, naming the variable', () => {
  assert.throws(
    () => loadConfig('svc', commonServiceShape, { KAFKA_BROKERS: 'nonsense', HTTP_PORT: 'x' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /KAFKA_BROKERS/);
      assert.match(err.message, /DATABASE_URL: .*\(not set\)/);
      assert.match(err.message, /HTTP_PORT/);
      return true;
    },
  );
});
