import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, secretKey, signatureHeader, signedHeaders, signOnce } from './webhook-signature.js';

// Test vector published with the Standard Webhooks specification.
const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SPEC_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const SPEC_TIMESTAMP = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

describe('webhook signature', () => {
  it('matches the specification known answer', () => {
    assert.equal(signOnce(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY), SPEC_SIGNATURE);
  });

  it('verifies with the standardwebhooks reference library', () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ type: 'message.status_changed', data: { messageId: 'm1' } });
    const headers = signedHeaders([secret], 'msg_abc', new Date(), body);
    assert.deepEqual(new Webhook(secret).verify(body, { ...headers }), JSON.parse(body));
  });

  it('signs with every active secret so either side of a rotation verifies', () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const body = '{"a":1}';
    const headers = signedHeaders([oldSecret, newSecret], 'msg_rot', new Date(), body);
    assert.equal(headers['webhook-signature'].split(' ').length, 2);
    assert.doesNotThrow(() => new Webhook(oldSecret).verify(body, { ...headers }));
    assert.doesNotThrow(() => new Webhook(newSecret).verify(body, { ...headers }));
    assert.throws(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers }));
  });

  it('a changed body or id no longer verifies', () => {
    const secret = generateWebhookSecret();
    const headers = signedHeaders([secret], 'msg_x', new Date(), '{"a":1}');
    assert.throws(() => new Webhook(secret).verify('{"a":2}', { ...headers }));
    assert.throws(() => new Webhook(secret).verify('{"a":1}', { ...headers, 'webhook-id': 'msg_y' }));
  });

  it('timestamp header is unix seconds', () => {
    const headers = signedHeaders([generateWebhookSecret()], 'msg_t', new Date(1_700_000_000_999), '{}');
    assert.equal(headers['webhook-timestamp'], '1700000000');
  });

  it('generated secrets are whsec_ with a 32-byte key', () => {
    const secret = generateWebhookSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(secretKey(secret).length, 32);
    assert.notEqual(secret, generateWebhookSecret());
  });

  it('rejects malformed secrets and an empty secret list', () => {
    assert.throws(() => secretKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), /prefix/);
    assert.throws(() => secretKey('whsec_not base64!'), /base64/);
    assert.throws(() => secretKey('whsec_AAAA'), /shorter/);
    assert.throws(() => signatureHeader([], 'msg', 1, '{}'), /no active secret/);
  });
});
