import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskPhoneNumber } from './masking.js';
import { contextFromTraceparent, injectContext, trace } from './index.js';

test('phone numbers are masked, keeping prefix and last two digits', () => {
  assert.equal(maskPhoneNumber('+447700900123'), '+44********23');
  assert.equal(maskPhoneNumber(''), '');
  assert.equal(maskPhoneNumber('123'), '***');
});

test('a stored traceparent round-trips through header injection', () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const ctx = contextFromTraceparent(traceparent);
  assert.equal(trace.getSpanContext(ctx)?.traceId, '0af7651916cd43dd8448eb211c80319c');
});

test('injecting without a propagator-registered SDK yields no traceparent for the root context', () => {
  assert.equal(injectContext().traceparent, undefined);
});
