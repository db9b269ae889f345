import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { concatReference } from './dispatch.service.js';

test('the concatenation reference is the same on every attempt of a message, and fits its scheme', () => {
  fc.assert(
    fc.property(fc.uuid(), (messageId) => {
      const r8 = concatReference(messageId, 'udh8');
      const r16 = concatReference(messageId, 'udh16');
      return r8 === concatReference(messageId, 'udh8') && r16 === concatReference(messageId, 'udh16') && r8 >= 0 && r8 < 256 && r16 >= 0 && r16 < 65536;
    }),
  );
});

test('different messages usually get different references', () => {
  const refs = new Set(Array.from({ length: 200 }, (_, i) => concatReference(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 'udh16')));
  assert.ok(refs.size > 190);
});
