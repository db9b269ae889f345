import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('./explain-cli.js', import.meta.url));
const run = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [cli, ...args], (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });

test('the CLI names the carrier, the rule and each rule\'s verdict; a refused file lists its problems', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'explain-cli-'));
  try {
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      `carriers:
  - { id: a, protocol: smpp, smpp: { host: h, port: 1, systemId: s, password: p } }
  - { id: b, protocol: smpp, simulator: true, smpp: { host: h, port: 1, systemId: s, password: p } }
routes:
  - { id: default, carriers: [a, b] }
  - { id: uk-otp, match: { prefixes: ['+447'], trafficClasses: [otp] }, carriers: [b, a] }
`,
    );
    const otp = await run(['--config', config, '--to', '+447911000001', '--class', 'otp', '--json']);
    assert.equal(otp.code, 0, otp.stderr);
    const body = JSON.parse(otp.stdout) as { carrier: string; routeId: string; decision: { failoverOrder: string[] }; rules: { routeId: string; chosen: boolean }[] };
    assert.equal(body.carrier, 'b');
    assert.equal(body.routeId, 'uk-otp');
    assert.deepEqual(body.decision.failoverOrder, ['b', 'a']);
    assert.deepEqual(body.rules.map((r) => [r.routeId, r.chosen]), [['default', false], ['uk-otp', true]]);

    const text = await run(['--config', config, '--to', '+33612345678']);
    assert.match(text.stdout, /^routed: routed - rule default \(catch-all\) -> a \[ordered\]/);
    assert.match(text.stdout, /- uk-otp: traffic class transactional not in \[otp\]/);

    writeFileSync(config, 'carriers: []\nroutes: []\n');
    const refused = await run(['--config', config, '--to', '+33612345678']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /carriers/);
    assert.equal((await run([])).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
