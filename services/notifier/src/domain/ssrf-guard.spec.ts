import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkUrlSyntax,
  classifyAddress,
  guardWebhookUrl,
  isAllowedCategory,
  parseIPv6,
  type AddressCategory,
  type GatewayMode,
  type ResolvedAddress,
  type Resolver,
} from './ssrf-guard.js';

const ranges: [address: string, category: AddressCategory][] = [
  // IPv4
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['100.63.255.255', 'public'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['100.128.0.0', 'public'],
  ['100.100.100.200', 'metadata'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.0.1', 'link_local'],
  ['169.254.169.254', 'metadata'],
  ['172.15.255.255', 'public'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.0', 'public'],
  ['192.0.0.1', 'reserved'],
  ['192.0.0.192', 'metadata'],
  ['192.0.2.10', 'documentation'],
  ['192.88.99.1', 'reserved'],
  ['192.167.255.255', 'public'],
  ['192.168.0.1', 'private'],
  ['192.168.255.255', 'private'],
  ['198.17.255.255', 'public'],
  ['198.18.0.1', 'benchmark'],
  ['198.19.255.255', 'benchmark'],
  ['198.20.0.0', 'public'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'reserved'],
  ['8.8.8.8', 'public'],
  ['93.184.216.34', 'public'],
  // IPv6
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fc00::1', 'private'],
  ['fd12:3456:789a::1', 'private'],
  ['fd00:ec2::254', 'metadata'],
  ['fe80::1', 'link_local'],
  ['fe80::1%eth0', 'link_local'],
  ['febf:ffff::1', 'link_local'],
  ['fec0::1', 'reserved'],
  ['ff02::1', 'multicast'],
  ['2001:db8::1', 'documentation'],
  ['2001:0:4136:e378::1', 'reserved'], // Teredo
  ['100::1', 'reserved'],
  ['::2', 'reserved'],
  ['2606:4700:4700::1111', 'public'],
  ['2a00:1450:4001:80b::200e', 'public'],
  // IPv4 inside IPv6: judged by the IPv4 they reach
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['::ffff:a9fe:a9fe', 'metadata'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:192.168.1.1', 'private'],
  ['::ffff:100.64.0.1', 'cgnat'],
  ['::ffff:8.8.8.8', 'public'],
  ['64:ff9b::a9fe:a9fe', 'metadata'],
  ['64:ff9b::8.8.8.8', 'public'],
  ['2002:7f00:1::', 'loopback'],
  ['2002:a9fe:a9fe::1', 'metadata'],
  ['2002:808:808::1', 'public'],
  // not addresses
  ['example.com', 'invalid'],
  ['1.2.3', 'invalid'],
  ['256.1.1.1', 'invalid'],
  ['1::2::3', 'invalid'],
];

describe('ssrf guard: address ranges', () => {
  for (const [address, category] of ranges) {
    it(`${address} is ${category}`, () => assert.equal(classifyAddress(address), category));
  }

  it('parses compressed and dotted-tail IPv6', () => {
    assert.equal(parseIPv6('::ffff:1.2.3.4'), parseIPv6('::ffff:102:304'));
    assert.equal(parseIPv6('1:2:3:4:5:6:7:8'), 0x00010002000300040005000600070008n);
    assert.equal(parseIPv6('1::8'), 0x00010000000000000000000000000008n);
    assert.equal(parseIPv6('1:2:3:4:5:6:7:8:9'), undefined);
    assert.equal(parseIPv6('12345::'), undefined);
  });
});

describe('ssrf guard: policy per mode', () => {
  const refusedEverywhere: AddressCategory[] = ['link_local', 'metadata', 'unspecified', 'multicast', 'reserved', 'documentation', 'benchmark', 'cgnat', 'invalid'];
  for (const mode of ['local', 'test', 'production'] as GatewayMode[]) {
    it(`${mode}: public allowed, link-local and metadata refused`, () => {
      assert.equal(isAllowedCategory('public', mode), true);
      for (const category of refusedEverywhere) assert.equal(isAllowedCategory(category, mode), false, category);
    });
  }
  it('loopback and private only outside production', () => {
    assert.equal(isAllowedCategory('loopback', 'production'), false);
    assert.equal(isAllowedCategory('private', 'production'), false);
    assert.equal(isAllowedCategory('loopback', 'test'), true);
    assert.equal(isAllowedCategory('private', 'local'), true);
  });
});

function resolverOf(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

describe('ssrf guard: URLs', () => {
  const dns = resolverOf({
    'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'internal.example.com': ['10.0.0.5'],
    'mixed.example.com': ['93.184.216.34', '127.0.0.1'],
    'metadata.example.com': ['169.254.169.254'],
    'mapped.example.com': ['::ffff:169.254.169.254'],
    localhost: ['127.0.0.1', '::1'],
  });

  it('production: https to a public host passes and returns the checked address', async () => {
    const result = await guardWebhookUrl('https://hooks.example.com/sms?x=1', 'production', dns);
    assert.equal(result.ok, true);
    assert.deepEqual(result.ok && result.address, { address: '93.184.216.34', family: 4 });
    assert.equal(result.ok && result.hostname, 'hooks.example.com');
  });

  it('production: http is refused before any lookup', async () => {
    const before = dns.calls.length;
    assert.deepEqual(await guardWebhookUrl('http://hooks.example.com/', 'production', dns), { ok: false, reason: 'https required' });
    assert.equal(dns.calls.length, before);
  });

  it('production: loopback, private and names that resolve to them are refused', async () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://localhost:8443/',
      'https://internal.example.com/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://2130706433/', // 127.0.0.1 as one number
      'https://0x7f.1/',
      'https://10.1.2.3/',
    ]) {
      const result = await guardWebhookUrl(url, 'production', dns);
      assert.equal(result.ok, false, url);
    }
  });

  it('a name with one private answer among public ones is refused (no picking)', async () => {
    const result = await guardWebhookUrl('https://mixed.example.com/', 'production', dns);
    assert.deepEqual(result, { ok: false, reason: 'loopback address 127.0.0.1' });
  });

  it('test/local: http and loopback allowed, metadata still refused', async () => {
    assert.equal((await guardWebhookUrl('http://127.0.0.1:8080/hook', 'test', dns)).ok, true);
    assert.equal((await guardWebhookUrl('http://localhost:8080/hook', 'local', dns)).ok, true);
    assert.equal((await guardWebhookUrl('http://internal.example.com/', 'local', dns)).ok, true);
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://metadata.example.com/',
      'http://mapped.example.com/',
      'http://[fe80::1]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://0.0.0.0:8080/',
    ]) {
      const result = await guardWebhookUrl(url, 'test', dns);
      assert.equal(result.ok, false, url);
    }
  });

  it('refuses other schemes and unparseable URLs', async () => {
    assert.deepEqual(checkUrlSyntax('ftp://example.com/', 'test'), { ok: false, reason: 'scheme ftp: not allowed' });
    assert.deepEqual(checkUrlSyntax('file:///etc/passwd', 'local'), { ok: false, reason: 'scheme file: not allowed' });
    assert.deepEqual(checkUrlSyntax('not a url', 'test'), { ok: false, reason: 'invalid_url' });
  });

  it('lookup failures are thrown (retryable), not refusals', async () => {
    await assert.rejects(guardWebhookUrl('https://nowhere.invalid/', 'production', dns), /ENOTFOUND/);
  });
});
