import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import type { SubmitRecord } from '@sms/smsc-simulator';
import { eventually } from '@sms/testing';
import { HttpRecorder, startE2eStack, type E2eStack } from './harness.js';

/**
 * A carrier that reports over HTTP: the message goes out over SMPP to the simulator (a number that never
 * gets an SMPP receipt), the carrier's signed JSON callback to dlr-processor then finishes it, and the
 * sender hears about it by webhook and GET.
 */
describe('dlr-processor: HTTP carrier receipts', () => {
  const secret = randomBytes(24).toString('base64url');
  let stack: E2eStack;
  let hooks: HttpRecorder;

  before(async () => {
    hooks = await new HttpRecorder().start();
    stack = await startE2eStack({ DLR_HTTP_CARRIER_SECRETS: `simulator=${secret}` });
  });

  after(async () => {
    await stack?.gateway.stop();
    await hooks?.stop();
  });

  const postReceipt = (body: string, signWith = secret) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', signWith).update(`${timestamp}.${body}`).digest('hex');
    return fetch(`http://127.0.0.1:${stack.ports['dlr-processor']}/v1/carriers/simulator/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-carrier-timestamp': timestamp, 'x-carrier-signature': `sha256=${signature}` },
      body,
    });
  };

  test('a signed HTTP receipt finishes a message the SMPP bind never reported on', async () => {
    const to = '+447911000009';
    const sent = await stack.api('/v1/messages', { method: 'POST', json: { to, from: 'ACME', body: 'hello', trafficClass: 'otp', callbackUrl: hooks.url('/hook') } });
    const sentBody = await sent.text();
    assert.equal(sent.status, 202, sentBody);
    const { id } = JSON.parse(sentBody) as { id: string };
    const submit = await eventually(async () => {
      const r = (await (await fetch(`${stack.gateway.simulatorUrl}/submits?destination=${to.slice(1)}`)).json()) as { submits: SubmitRecord[] };
      return r.submits.find((s) => s.messageId);
    }, 20_000, 'submit at the simulator');
    await eventually(async () => {
      const m = (await (await stack.api(`/v1/messages/${id}`)).json()) as { status: string };
      return m.status === 'submitted' ? true : undefined;
    }, 20_000, 'message submitted');

    const body = JSON.stringify({ carrierMessageId: submit.messageId!.toUpperCase(), status: 'UNDELIV', errorCode: '034', doneAt: new Date().toISOString() });
    assert.equal((await postReceipt(body, 'not-the-carrier-secret')).status, 401);
    assert.equal((await postReceipt('{"carrierMessageId":')).status, 400);
    const accepted = await postReceipt(body);
    assert.equal(accepted.status, 200);

    const hook = await eventually(() => hooks.requests.find((r) => r.body.includes(id)), 30_000, 'webhook');
    const data = (JSON.parse(hook.body) as { data: { status: string; reason: { carrierCode: string } } }).data;
    assert.equal(data.status, 'undelivered');
    assert.equal(data.reason.carrierCode, 'stat:UNDELIV err:034');
    const message = (await (await stack.api(`/v1/messages/${id}`)).json()) as { status: string };
    assert.equal(message.status, 'undelivered');
  });
});
