/**
 * SSRF guard for callback URLs. A callback URL is chosen by a tenant, so without this guard the gateway
 * could be made to POST into its own network: cloud metadata endpoints, databases' HTTP ports, admin UIs.
 *
 * The policy is pure; name resolution is injected. The caller must connect to the address this guard
 * returns (not resolve the name again), otherwise a DNS answer that changes between check and connect
 * (DNS rebinding) walks straight past the check.
 */

export type GatewayMode = 'local' | 'test' | 'production';

export type AddressCategory =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'metadata'
  | 'cgnat'
  | 'benchmark'
  | 'unspecified'
  | 'multicast'
  | 'documentation'
  | 'reserved'
  | 'invalid';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (dns.lookup with `all: true`). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export type UrlCheck = { ok: true; url: URL; hostname: string } | { ok: false; reason: string };

export type GuardResult =
  | { ok: true; url: URL; hostname: string; address: ResolvedAddress }
  | { ok: false; reason: string };

/**
 * local/test: demos and tests run receivers on 127.0.0.1 or a LAN over plain http. Link-local (and with it
 * the cloud metadata service) stays refused in every mode: nothing legitimate listens there.
 */
const relaxedCategories: ReadonlySet<AddressCategory> = new Set(['public', 'loopback', 'private']);
const strictCategories: ReadonlySet<AddressCategory> = new Set(['public']);

export function isAllowedCategory(category: AddressCategory, mode: GatewayMode): boolean {
  return (mode === 'production' ? strictCategories : relaxedCategories).has(category);
}

/** Checks what can be checked without the network: syntax, scheme, credentials-free host. */
export function checkUrlSyntax(raw: string, mode: GatewayMode): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'invalid_url' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: `scheme ${url.protocol} not allowed` };
  if (mode === 'production' && url.protocol !== 'https:') return { ok: false, reason: 'https required' };
  // WHATWG URL has already normalised numeric forms like 2130706433 or 0x7f.1 to dotted quads.
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (hostname === '') return { ok: false, reason: 'invalid_url' };
  return { ok: true, url, hostname };
}

/** Every address must be allowed: a name that resolves to one public and one private address is refused. */
export function checkAddresses(addresses: readonly ResolvedAddress[], mode: GatewayMode): { ok: true; address: ResolvedAddress } | { ok: false; reason: string } {
  if (addresses.length === 0) return { ok: false, reason: 'host has no address' };
  for (const candidate of addresses) {
    const category = classifyAddress(candidate.address);
    if (!isAllowedCategory(category, mode)) return { ok: false, reason: `${category} address ${candidate.address}` };
  }
  return { ok: true, address: addresses[0]! };
}

/**
 * The whole check: syntax and scheme, then the host's addresses (an IP literal is its own address).
 * Resolution errors are thrown to the caller: they are transient (retry), not a refusal.
 */
export async function guardWebhookUrl(raw: string, mode: GatewayMode, resolve: Resolver): Promise<GuardResult> {
  const syntax = checkUrlSyntax(raw, mode);
  if (!syntax.ok) return syntax;
  const literal = ipFamily(syntax.hostname);
  const addresses = literal ? [{ address: syntax.hostname, family: literal }] : await resolve(syntax.hostname);
  const checked = checkAddresses(addresses, mode);
  if (!checked.ok) return checked;
  return { ok: true, url: syntax.url, hostname: syntax.hostname, address: checked.address };
}

// --- address classification ------------------------------------------------------------------------

type V4Range = { base: number; bits: number; category: AddressCategory };

const v4 = (cidr: string, category: AddressCategory): V4Range => {
  const [ip, bits] = cidr.split('/');
  return { base: parseIPv4(ip!)!, bits: Number(bits), category };
};

/** Most specific first: the first match wins (169.254.169.254 is `metadata` before `link_local`). */
const v4Ranges: V4Range[] = [
  v4('169.254.169.254/32', 'metadata'),
  v4('100.100.100.200/32', 'metadata'), // Alibaba Cloud
  v4('192.0.0.192/32', 'metadata'), // Oracle Cloud
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'cgnat'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link_local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.88.99.0/24', 'reserved'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'benchmark'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'), // includes 255.255.255.255
];

export function classifyIPv4(value: number): AddressCategory {
  for (const range of v4Ranges) {
    const mask = range.bits === 0 ? 0 : (0xffffffff << (32 - range.bits)) >>> 0;
    if (((value & mask) >>> 0) === ((range.base & mask) >>> 0)) return range.category;
  }
  return 'public';
}

type V6Range = { prefix: bigint; bits: number; category: AddressCategory } | { prefix: bigint; bits: number; embedsV4At: bigint };

const v6 = (cidr: string, category: AddressCategory): V6Range => {
  const [ip, bits] = cidr.split('/');
  return { prefix: parseIPv6(ip!)!, bits: Number(bits), category };
};

/** A range whose addresses carry an IPv4 address `embedsV4At` bits from the right: judged by that IPv4. */
const v6Embedding = (cidr: string, embedsV4At: bigint): V6Range => {
  const [ip, bits] = cidr.split('/');
  return { prefix: parseIPv6(ip!)!, bits: Number(bits), embedsV4At };
};

/** Checked in order; anything outside 2000::/3 (global unicast) that no rule names is `reserved`. */
const v6Ranges: V6Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6Embedding('::ffff:0:0/96', 0n), // IPv4-mapped: the kernel connects to the embedded IPv4
  v6Embedding('64:ff9b::/96', 0n), // NAT64 well-known prefix: a NAT64 gateway reaches the embedded IPv4
  v6('fd00:ec2::254/128', 'metadata'), // AWS IMDS over IPv6 (inside the ULA range)
  v6('fc00::/7', 'private'),
  v6('fe80::/10', 'link_local'),
  v6('fec0::/10', 'reserved'), // deprecated site-local
  v6('ff00::/8', 'multicast'),
  v6('2001:db8::/32', 'documentation'),
  v6Embedding('2002::/16', 80n), // 6to4: bits 16..48 are an IPv4 address
  v6('2001::/23', 'reserved'), // IETF protocol assignments, Teredo included
  v6('2000::/3', 'public'),
];

export function classifyIPv6(value: bigint): AddressCategory {
  for (const range of v6Ranges) {
    const shift = BigInt(128 - range.bits);
    if (value >> shift !== range.prefix >> shift) continue;
    if ('embedsV4At' in range) return classifyIPv4(Number((value >> range.embedsV4At) & 0xffffffffn));
    return range.category;
  }
  return 'reserved';
}

/** Classifies a textual IPv4 or IPv6 address (zone ids like `%eth0` are ignored). */
export function classifyAddress(address: string): AddressCategory {
  const asV4 = parseIPv4(address);
  if (asV4 !== undefined) return classifyIPv4(asV4);
  const asV6 = parseIPv6(address);
  if (asV6 !== undefined) return classifyIPv6(asV6);
  return 'invalid';
}

export function ipFamily(value: string): 4 | 6 | undefined {
  if (parseIPv4(value) !== undefined) return 4;
  if (parseIPv6(value) !== undefined) return 6;
  return undefined;
}

/** Strict dotted-quad parse (what resolvers return and what WHATWG URL normalises to). */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** Parses IPv6 text (with `::` compression and an optional dotted IPv4 tail) into a 128-bit integer. */
export function parseIPv6(text: string): bigint | undefined {
  const zone = text.indexOf('%');
  let body = zone >= 0 ? text.slice(0, zone) : text;
  if (!body.includes(':')) return undefined;
  const groups: number[] = [];
  const tailMatch = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  let tail: number[] = [];
  if (tailMatch) {
    const v4value = parseIPv4(tailMatch[1]!);
    if (v4value === undefined) return undefined;
    tail = [(v4value >>> 16) & 0xffff, v4value & 0xffff];
    body = body.slice(0, -tailMatch[1]!.length);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const explicit = head.length + rest.length + tail.length;
  if (halves.length === 2) {
    if (explicit > 7) return undefined;
    groups.push(...head, ...new Array<number>(8 - explicit).fill(0), ...rest, ...tail);
  } else {
    if (explicit !== 8) return undefined;
    groups.push(...head, ...tail);
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}
