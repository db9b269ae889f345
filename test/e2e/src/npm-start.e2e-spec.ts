import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@sms/local-stack/gateway';
import { createTestDatabase, eventually, requireEnv } from '@sms/testing';

/**
 * What `npm start` runs (the gateway CLI's `start`), as a user would: it prints the URL and the demo key,
 * writes .gateway/local.env, a curl with that key is delivered, and Ctrl-C stops every process.
 * Kafka and PostgreSQL come from the test stack (KAFKA_BROKERS / DATABASE_URL), as the CLI allows.
 */
test('npm start: up, prints and writes the demo key, delivers a message, and Ctrl-C leaves nothing behind', async () => {
  const database = await createTestDatabase('npmstart');
  const stateDir = mkdtempSync(join(tmpdir(), 'sms-start-'));
  // Below Linux's ephemeral range (32768+), where the test stack's Kafka, PostgreSQL and every client
  // connection take their ports: a base port in that range could collide and the gateway never comes up.
  const basePort = 20000 + Math.floor(Math.random() * 12000);
  const child = spawn(process.execPath, ['deploy/local/dist/gateway/cli.js', 'start'], {
    cwd: repoRoot,
    env: { ...process.env, KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'), DATABASE_URL: database.url, GATEWAY_STATE_DIR: stateDir, GATEWAY_BASE_PORT: String(basePort),
      // A fresh group prefix at the topic end: the shared test broker holds earlier suites' events.
      KAFKA_GROUP_PREFIX: `start-${basePort}`,
      GATEWAY_START_AT_TOPIC_END: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    let exitedEarly: number | null | undefined;
    void exited.then((code) => (exitedEarly = code));
    await eventually(
      () => {
        if (exitedEarly !== undefined) throw new Error(`npm start exited (${exitedEarly}) before the gateway was up:\n${output}`);
        return output.includes('SMS gateway is up') ? true : undefined;
      },
      120000,
      'the gateway to come up',
    ).catch((error: unknown) => {
      // The output at the time of failure, not at the start of the wait.
      throw new Error(`${(error as Error).message}\n--- npm start output ---\n${output}`);
    });
    const env = Object.fromEntries(
      readFileSync(join(stateDir, 'local.env'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    ) as Record<string, string>;
    assert.equal(env.GATEWAY_URL, `http://127.0.0.1:${basePort}`);
    assert.match(env.DEMO_API_KEY ?? '', /^sk_test_/);
    assert.match(env.DEMO_WEBHOOK_SECRET ?? '', /^whsec_/);
    assert.ok(output.includes(env.DEMO_API_KEY!), 'the key is printed');

    const sent = await fetch(`${env.GATEWAY_URL}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.DEMO_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+447911000001', from: 'ACME', body: 'npm start works' }),
    });
    assert.equal(sent.status, 202);
    const { id } = (await sent.json()) as { id: string };
    await eventually(async () => {
      const view = (await (await fetch(`${env.GATEWAY_URL}/v1/messages/${id}`, { headers: { authorization: `Bearer ${env.DEMO_API_KEY}` } })).json()) as {
        status: string;
      };
      return view.status === 'delivered' ? true : undefined;
    }, 30000, 'delivered');

    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.match(output, /\[gateway\] stopped/);
    // Every port the gateway listened on is closed again: no process left behind.
    for (const port of [basePort, basePort + 2, basePort + 3, basePort + 4, basePort + 5, basePort + 7]) {
      await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }), `port ${port} still open`);
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await database.drop().catch(() => undefined);
  }
});
