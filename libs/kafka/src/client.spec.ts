import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { logLevel } from 'kafkajs';
import { kafkaLogLevelOf } from './client.js';

test('a rebalance answered to a heartbeat is logged at info, other kafkajs errors stay errors', () => {
  // The message kafkajs itself attaches to REBALANCE_IN_PROGRESS (so a kafkajs upgrade that rewords it fails here).
  const errors = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { errorCodes: { type: string; message: string }[] };
  const rebalancing = errors.errorCodes.find((e) => e.type === 'REBALANCE_IN_PROGRESS')!.message;
  assert.equal(kafkaLogLevelOf(logLevel.ERROR, { error: rebalancing }), 'info');
  assert.equal(kafkaLogLevelOf(logLevel.ERROR, { error: 'The coordinator is not aware of this member' }), 'error');
  assert.equal(kafkaLogLevelOf(logLevel.ERROR, {}), 'error');
  assert.equal(kafkaLogLevelOf(logLevel.WARN, { error: rebalancing }), 'warn');
  assert.equal(kafkaLogLevelOf(logLevel.INFO, {}), 'debug');
});
