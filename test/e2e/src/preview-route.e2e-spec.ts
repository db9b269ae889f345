import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ensureTestTopics, eventually, testKafka } from '@sms/testing';
import { startE2eStack, type E2eStack } from './harness.js';

/**
 * `POST /v1/messages/preview` on the stack `npm start` runs: ingest resolves the route from the same gateway
 * config file the router routes by, and the message sent afterwards goes to the carrier the preview named.
 */
describe('preview names the route the router then takes', { timeout: 180_000 }, () => {
  let stack: E2eStack;

  before(async () => {
    await ensureTestTopics(testKafka('e2e-preview-route'));
    stack = await startE2eStack();
  });

  after(async () => {
    await stack?.gateway.stop();
  });

  test('rule and carriers from the gateway config file; the sent message reaches the first carrier', async () => {
    const file = parse(readFileSync(stack.gatewayConfigFile, 'utf8')) as { routes: { id: string; carriers: string[] }[] };
    const message = { to: '+447911123456', from: 'ACME', body: 'Your code is 123456', trafficClass: 'otp' };

    const preview = await stack.api('/v1/messages/preview', { method: 'POST', json: message });
    assert.equal(preview.status, 200);
    const { route } = (await preview.json()) as { route: { outcome: string; routeId: string; carriers: string[]; skipped: unknown[] } };
    const rule = file.routes.find((r) => r.id === route.routeId);
    assert.ok(rule, `the preview's rule ${route.routeId} is one of the file's`);
    assert.equal(route.outcome, 'routable');
    assert.deepEqual(route.carriers, rule.carriers, 'carriers in the file\'s failover order');

    const sent = await stack.api('/v1/messages', { method: 'POST', json: message });
    assert.equal(sent.status, 202);
    const { id } = (await sent.json()) as { id: string };
    const carrierId = await eventually(
      async () => {
        const view = (await (await stack.api(`/v1/messages/${id}`)).json()) as { history: { carrierId: string | null }[] };
        return view.history.find((h) => h.carrierId)?.carrierId ?? undefined;
      },
      60_000,
      'the message at a carrier',
    );
    assert.equal(carrierId, route.carriers[0]);
  });
});
