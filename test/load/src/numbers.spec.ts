import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { bodyFor, destinationFor, maxMessagesPerRun, pickWeighted, seqOfDestination } from './numbers.js';

test('destinations are valid, unique, never magic (…0000-0009) and map back to their message', () => {
  const seen = new Set<string>();
  const seqs = [0, 1, 9, 9989, 9990, 9991, 99_899, 999_000, 1_234_567, maxMessagesPerRun - 1];
  for (let i = 0; i < 20000; i++) seqs.push(i * 499);
  for (const seq of seqs.filter((s) => s < maxMessagesPerRun)) {
    const d = destinationFor(seq);
    assert.ok(Number(d.slice(-4)) >= 10, `${d} ends in a magic number`);
    assert.equal(seqOfDestination(d), seq);
    assert.equal(seqOfDestination(d.slice(1)), seq, 'the carrier sees the number without "+"');
    seen.add(d);
  }
  assert.equal(seen.size, new Set(seqs.filter((s) => s < maxMessagesPerRun)).size);
  for (const seq of [0, 5000, 999_999, 3_333_333, maxMessagesPerRun - 1]) assert.ok(isValidPhoneNumber(destinationFor(seq)), destinationFor(seq));
  assert.throws(() => destinationFor(maxMessagesPerRun));
  assert.equal(seqOfDestination('+447911000001'), undefined);
});

test('bodies are unique per tag and have the intended encoding and length', () => {
  const gsm = /^[A-Za-z0-9 .,:!?'-]*$/;
  assert.ok(gsm.test(bodyFor('gsm7', 'a-1')) && bodyFor('gsm7', 'a-1').length <= 160);
  assert.notEqual(bodyFor('gsm7', 'a-1'), bodyFor('gsm7', 'a-2'));
  assert.ok(!gsm.test(bodyFor('ucs2', 'a-1')) && bodyFor('ucs2', 'a-1').length <= 70);
  const long = bodyFor('multipart', 'a-1');
  assert.ok(gsm.test(long) && long.length > 306 && long.length <= 459, 'GSM-7 in three parts');
  const longUcs = bodyFor('multipartUcs2', 'a-1');
  assert.ok(longUcs.length > 134 && longUcs.length <= 201, 'UCS-2 in three parts');
});

test('pickWeighted follows the mix over any window', () => {
  const counts = { a: 0, b: 0, c: 0 };
  for (let i = 1000; i < 2000; i++) counts[pickWeighted({ a: 1, b: 3, c: 0 }, i) as 'a' | 'b' | 'c']++;
  assert.equal(counts.c, 0);
  assert.ok(Math.abs(counts.a - 250) <= 5 && Math.abs(counts.b - 750) <= 5, JSON.stringify(counts));
  assert.throws(() => pickWeighted({ a: 0 }, 1));
});
