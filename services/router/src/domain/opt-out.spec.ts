import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { moCommand, normalizeMsisdn, normalizeSender } from './opt-out.js';

describe('MO keywords', () => {
  const cases: [string, ReturnType<typeof moCommand>][] = [
    ['STOP', { action: 'opt_out', keyword: 'STOP' }],
    ['stop', { action: 'opt_out', keyword: 'STOP' }],
    ['  Stop.', { action: 'opt_out', keyword: 'STOP' }],
    ['STOP please', { action: 'opt_out', keyword: 'STOP' }],
    ['StopAll', { action: 'opt_out', keyword: 'STOPALL' }],
    ['unsubscribe', { action: 'opt_out', keyword: 'UNSUBSCRIBE' }],
    ['CANCEL', { action: 'opt_out', keyword: 'CANCEL' }],
    ['end', { action: 'opt_out', keyword: 'END' }],
    ['QUIT', { action: 'opt_out', keyword: 'QUIT' }],
    ['START', { action: 'opt_in', keyword: 'START' }],
    ['unstop', { action: 'opt_in', keyword: 'UNSTOP' }],
    ['STOPPED', undefined],
    ['please stop', undefined],
    ['', undefined],
    ['123', undefined],
  ];
  for (const [text, expected] of cases) test(JSON.stringify(text), () => assert.deepEqual(moCommand(text), expected));
});

describe('number forms', () => {
  test('msisdn', () => {
    assert.equal(normalizeMsisdn('447911000001'), '+447911000001');
    assert.equal(normalizeMsisdn('+44 7911 000001'), '+447911000001');
    assert.equal(normalizeMsisdn('07911000001'), undefined);
    assert.equal(normalizeMsisdn('123'), undefined);
  });
  test('sender', () => {
    assert.equal(normalizeSender('+44 7911 000009'), '447911000009');
    assert.equal(normalizeSender('ACME'), 'ACME');
  });
});
