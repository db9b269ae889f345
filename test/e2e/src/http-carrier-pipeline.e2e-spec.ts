import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { startHttpCarrier, type HttpCarrierSimulator } from '@sms/smsc-simulator';
import { eventually } from '@sms/testing';
import { HttpRecorder, startE2eStack, type E2eStack } from './harness.js';

/**
 * The whole gateway with a message routed to an HTTP carrier: ingest -> router -> carrier-dispatch's HTTP
 * connector -> the simulator's HTTP carrier, whose signed receipt reaches dlr-processor's HTTP callback
 * and ends the message `delivered` (GET and webhook).
 */
describe('HTTP carrier end to end', () => {
  const secret = randomBytes(24).toString('base64url');
  const token = randomBytes(16).toString('hex');
  let stack: E2eStack;
  let hooks: HttpRecorder;
  let carrier: HttpCarrierSimulator;

  before(async () => {
    hooks = await new HttpRecorder().start();
    stack = await startE2eStack({ DLR_HTTP_CARRIER_SECRETS: `web=${secret}` });
    carrier = await startHttpCarrier({
      token,
      receiptUrl: `http://127.0.0.1:${stack.ports['dlr-processor']}/v1/carriers/web/receipts`,
      receiptSecret: secret,
      receiptDelayMs: 100,
    });
    // The SMPP simulator stays declared; the default route now goes to the HTTP carrier.
    const file = readFileSync(stack.gatewayConfigFile, 'utf8').replace(/routes:[\s\S]*$/, '');
    writeFileSync(
      stack.gatewayConfigFile,
      [
        file.trimEnd(),
        '  - id: web',
        '    protocol: http',
        '    simulator: true',
        '    mps: 500',
        '    http:',
        `      url: ${carrier.submitUrl}`,
        `      auth: { type: bearer, token: ${token} }`,
        '      request: { fields: { to: to, from: from, text: text, reference: reference } }',
        '      response: { messageIdPath: messageId, errorCodePath: error.code }',
        'routes:',
        '  - id: default',
        '    carriers: [web]',
        '',
      ].join('\n'),
    );
    await stack.gateway.restart('carrier-dispatch');
    await stack.gateway.restart('router');
  });

  after(async () => {
    await stack?.gateway.stop();
    await carrier?.stop();
    await hooks?.stop();
  });

  test('a message routed to the HTTP carrier ends delivered through the signed HTTP receipt', async () => {
    const to = '+447911000010';
    const sent = await stack.api('/v1/messages', { method: 'POST', json: { to, from: 'ACME', body: 'over http', trafficClass: 'transactional', callbackUrl: hooks.url('/hook') } });
    const sentBody = await sent.text();
    assert.equal(sent.status, 202, sentBody);
    const { id } = JSON.parse(sentBody) as { id: string };
    const record = await eventually(() => carrier.submits({ to }).find((r) => r.reference === id && r.messageId !== null), 30_000, 'submit at the HTTP carrier');
    assert.equal(record.text, 'over http');
    await eventually(() => (record.receipt === 'sent' ? true : undefined), 30_000, 'receipt accepted by dlr-processor');
    const message = await eventually(
      async () => {
        const m = (await (await stack.api(`/v1/messages/${id}`)).json()) as { status: string; carrierId?: string };
        return m.status === 'delivered' ? m : undefined;
      },
      30_000,
      'message delivered',
    );
    assert.equal(message.status, 'delivered');
    const hook = await eventually(() => hooks.requests.find((r) => r.body.includes(id) && r.body.includes('"delivered"')), 30_000, 'delivered webhook');
    assert.ok(hook);
    assert.deepEqual(carrier.duplicates(), []);
  });
});
