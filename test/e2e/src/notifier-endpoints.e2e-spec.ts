import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { ApiKeyChangedV1 } from '@sms/contracts';
import type { EventPublisher } from '@sms/kafka';
import { connectedPublisher, ensureTestTopics, eventually, testKafka } from '@sms/testing';
import { HttpRecorder, startE2eStack, type E2eStack } from './harness.js';

/**
 * Tenant webhook endpoints, black-box: the demo tenant's API key (as ingest publishes it on
 * ApiKeyChangedV1) registers an endpoint on notifier's API; a message sent through ingest then reaches both
 * its own callbackUrl and the endpoint, with one webhook-id, signed with the tenant's secret.
 */
describe('notifier: tenant webhook endpoints', () => {
  let stack: E2eStack;
  let publisher: EventPublisher;
  let callback: HttpRecorder;
  let endpoint: HttpRecorder;

  before(async () => {
    callback = await new HttpRecorder().start();
    endpoint = await new HttpRecorder().start();
    const kafka = testKafka('e2e-notifier');
    await ensureTestTopics(kafka);
    publisher = await connectedPublisher(kafka);
    stack = await startE2eStack();
    // What ingest publishes for its keys (published here too, so the test does not depend on when ingest does).
    await publisher.publish(ApiKeyChangedV1, [
      {
        tenantId: 'demo',
        payload: {
          keyHash: createHash('sha256').update(stack.apiKey, 'utf8').digest('hex'),
          keyPrefix: stack.apiKey.slice(0, 12),
          scopes: ['send', 'read'],
          sandbox: true,
          changedAt: new Date().toISOString(),
        },
      },
    ]);
  });

  after(async () => {
    await stack?.gateway.stop();
    await publisher?.disconnect();
    await callback?.stop();
    await endpoint?.stop();
  });

  const notifierApi = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${stack.ports.notifier}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });

  test('a message is webhooked to its callbackUrl and to the tenant endpoint with one webhook-id', async () => {
    await eventually(async () => ((await notifierApi('/v1/webhook-endpoints')).status === 200 ? true : undefined), 20_000, 'API key known to notifier');
    const created = await notifierApi('/v1/webhook-endpoints', { method: 'POST', body: JSON.stringify({ url: endpoint.url('/tenant-hook') }) });
    assert.equal(created.status, 201);
    const metadata = await notifierApi('/v1/webhook-endpoints', { method: 'POST', body: JSON.stringify({ url: 'http://169.254.169.254/' }) });
    assert.equal(metadata.status, 422);

    const sent = await stack.api('/v1/messages', {
      method: 'POST',
      json: { to: '+447911000001', from: 'ACME', body: 'Your code is 123456', callbackUrl: callback.url('/cb') },
    });
    assert.equal(sent.status, 202);
    const { id } = (await sent.json()) as { id: string };
    const isOurs = (r: { body: string }) => (JSON.parse(r.body) as { data: { messageId: string } }).data.messageId === id;
    const viaCallback = await eventually(() => callback.requests.find(isOurs), 30_000, 'callback webhook');
    const viaEndpoint = await eventually(() => endpoint.requests.find(isOurs), 30_000, 'endpoint webhook');
    assert.equal(viaEndpoint.path, '/tenant-hook');
    assert.equal(viaEndpoint.headers['webhook-id'], viaCallback.headers['webhook-id']);
    assert.equal(viaEndpoint.body, viaCallback.body);
    const verified = new Webhook(stack.webhookSecret).verify(viaEndpoint.body, {
      'webhook-id': String(viaEndpoint.headers['webhook-id']),
      'webhook-timestamp': String(viaEndpoint.headers['webhook-timestamp']),
      'webhook-signature': String(viaEndpoint.headers['webhook-signature']),
    }) as { data: { status: string } };
    assert.equal(verified.data.status, 'delivered');
    assert.doesNotMatch(viaEndpoint.body, /123456|447911000001/);
  });

  test('the body reaches the webhook only while the tenant opts in (through ingest, router, carrier and receipt)', async () => {
    await eventually(async () => ((await notifierApi('/v1/webhook-settings')).status === 200 ? true : undefined), 20_000, 'API key known to notifier');
    const send = async (body: string) => {
      const sent = await stack.api('/v1/messages', { method: 'POST', json: { to: '+447911000002', from: 'ACME', body, callbackUrl: callback.url('/cb-body') } });
      assert.equal(sent.status, 202);
      const { id } = (await sent.json()) as { id: string };
      const request = await eventually(
        () => callback.requests.find((r) => (JSON.parse(r.body) as { data: { messageId: string; status: string } }).data.messageId === id),
        30_000,
        `webhook of ${id}`,
      );
      return { raw: request.body, data: (JSON.parse(request.body) as { data: Record<string, unknown> }).data };
    };

    const on = await notifierApi('/v1/webhook-settings', { method: 'PUT', body: JSON.stringify({ includeBody: true }) });
    assert.equal(on.status, 200);
    const opted = await send('Opted-in text 7731');
    assert.equal(opted.data.body, 'Opted-in text 7731');
    assert.doesNotMatch(opted.raw, /447911000002/, 'never the phone number');

    const off = await notifierApi('/v1/webhook-settings', { method: 'PUT', body: JSON.stringify({ includeBody: false }) });
    assert.equal(off.status, 200);
    const plain = await send('Not opted-in text 7732');
    assert.equal('body' in plain.data, false);
    assert.doesNotMatch(plain.raw, /7732|447911000002/);
  });
});
