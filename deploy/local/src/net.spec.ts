import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { LOCALHOST, ephemeralPortRange, freePort } from './net.js';

test('free ports come from below the ephemeral range, never twice, and can be listened on', async () => {
  const { low, high } = ephemeralPortRange();
  assert.ok(low > 0 && high >= low);
  const ports: number[] = [];
  for (let i = 0; i < 200; i++) ports.push(await freePort());
  assert.equal(new Set(ports).size, ports.length, 'no port handed out twice');
  if (low > 11000) assert.ok(ports.every((p) => p >= 10000 && p < low), `outside ${low}-${high}: ${ports.filter((p) => p >= low).join(', ')}`);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ports.at(-1), LOCALHOST, resolve);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
