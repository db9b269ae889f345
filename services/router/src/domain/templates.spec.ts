import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesTemplate, templatePattern, validTemplate } from './templates.js';

test('template matching, table-driven', () => {
  const otp = templatePattern('Your {{brand}} code is {{code}}. Do not share it.');
  const cases: [string, boolean][] = [
    ['Your ACME code is 123456. Do not share it.', true],
    ['  Your ACME code is 123456. Do not share it.  ', true],
    ['Your ACME code is 123456. Do not share it! Click http://x', false],
    ['Your  code is 123456. Do not share it.', false],
    ['Your ACME code is 12\n3456. Do not share it.', false],
    ['Your (ACME) code is $1.00 [x]. Do not share it.', true],
  ];
  for (const [body, expected] of cases) assert.equal(matchesTemplate(body, [otp]), expected, body);
  assert.equal(matchesTemplate('Spring sale', [templatePattern('Spring sale')]), true);
  assert.equal(matchesTemplate('anything', []), false);
  assert.equal(validTemplate('Hi {{name}}'), undefined);
  assert.match(validTemplate('Hi {{ 1x }}')!, /placeholders/);
  assert.match(validTemplate('  ')!, /not empty/);
});
