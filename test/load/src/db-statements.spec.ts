import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shorten } from './db-statements.js';

test('statements are shown on one line and cut at a readable length', () => {
  assert.equal(shorten('SELECT *\n    FROM outbox\n  WHERE id = $1'), 'SELECT * FROM outbox WHERE id = $1');
  const long = shorten(`INSERT INTO t VALUES ${'($1),'.repeat(100)}`, 40);
  assert.equal(long.length, 40);
  assert.ok(long.endsWith('…'));
});
