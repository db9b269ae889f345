import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFromRoutingThread, isToRoutingThread } from './protocol.js';

test('thread messages are told apart from anything else on the port', () => {
  assert.equal(isToRoutingThread({ type: 'stop' }), true);
  assert.equal(isToRoutingThread({ type: 'routes', version: 1, file: {} }), true);
  assert.equal(isToRoutingThread({ type: 'started' }), false, 'a thread-to-main message');
  assert.equal(isToRoutingThread(null), false);
  assert.equal(isToRoutingThread('stop'), false);
  assert.equal(isFromRoutingThread({ type: 'status', id: 1, status: {} }), true);
  assert.equal(isFromRoutingThread({ type: 'health' }), false, 'a main-to-thread message');
  assert.equal(isFromRoutingThread(undefined), false);
});
