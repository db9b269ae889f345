import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifySessionError, classifySmppStatus, smppStatusCodes } from './error-map.js';

test('throttling and queue-full are retryable, bad destinations permanent rejections', () => {
  assert.equal(classifySmppStatus(0x58).disposition, 'retry');
  assert.equal(classifySmppStatus(0x14).disposition, 'retry');
  assert.deepEqual(classifySmppStatus(0x0b), { disposition: 'permanent', reason: 'invalid_destination', finalStatus: 'rejected' });
});

test('unknown vendor codes fail over rather than retry forever', () => {
  assert.equal(classifySmppStatus(0x0400).disposition, 'failover');
});

test('every mapped code has a reason code', () => {
  for (const code of smppStatusCodes) assert.match(classifySmppStatus(code).reason, /^[a-z_]+$/);
});

test('a bind down or open breaker is a failover, never permanent', () => {
  for (const code of ['not_bound', 'connection_lost', 'response_timeout', 'breaker_open']) {
    assert.equal(classifySessionError(code).disposition, 'failover');
  }
});
