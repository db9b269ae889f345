import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sms/platform';
import { Registry } from '@sms/telemetry';
import { RouteConfigSource } from './route-config.source.js';

const file = (routes: string) =>
  `carriers:\n  - { id: a, protocol: smpp, smpp: { host: h, port: 1, systemId: s, password: p } }\n  - { id: b, protocol: smpp, smpp: { host: h, port: 1, systemId: s, password: p } }\nroutes:\n${routes}`;

test('a valid file replaces the table; an invalid one is refused with key and line, counted, and the old table kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'route-source-'));
  try {
    const path = join(dir, 'gateway.yaml');
    writeFileSync(path, file('  - { id: r, carriers: [a] }\n'));
    const metrics = new Registry();
    const source = new RouteConfigSource(path, createLogger('test', 'silent'), metrics);
    const request = { to: '+447911000001', trafficClass: 'otp' as const, tenantId: 't' };
    assert.deepEqual(source.current().resolve(request)?.carriers, ['a']);
    const first = source.current();
    // What routing threads are sent: each accepted file, never a refused one.
    const posted: number[] = [];
    source.onChange((accepted) => posted.push(accepted.routes[0]!.carriers.length));

    writeFileSync(path, file('  - { id: r, carriers: [b, a] }\n'));
    assert.deepEqual(source.reload(), { ok: true, routes: 1 });
    assert.notEqual(source.current(), first, 'a new table, swapped in');
    assert.deepEqual(source.current().resolve(request)?.carriers, ['b', 'a']);

    writeFileSync(path, file('  - { id: r, carriers: [b, nope] }\n'));
    const refused = source.reload();
    assert.equal(refused.ok, false);
    assert.match((refused as { problems: string[] }).problems.join('\n'), /routes\.0\.carriers\.1 \(line 5\): unknown carrier nope/);
    assert.deepEqual(source.current().resolve(request)?.carriers, ['b', 'a'], 'old table kept');

    writeFileSync(path, 'carriers: [\n');
    assert.equal(source.reload().ok, false, 'broken YAML is refused too');
    assert.deepEqual(posted, [2], 'only the accepted file reached the listener');
    const text = await metrics.metrics();
    assert.match(text, /router_config_reloads_total\{result="success"\} 1/);
    assert.match(text, /router_config_reloads_total\{result="failure"\} 2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
