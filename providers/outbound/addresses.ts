/**
 * IP addresses as numbers, CIDR ranges, and the one table that says which addresses are the public
 * Internet. Everything a user-supplied URL may not reach is named here (IANA's special-purpose
 * registries for IPv4 and IPv6), including the IPv6 forms that carry an IPv4 address inside them
 * (mapped, compatible, NAT64, 6to4): those reach the embedded IPv4 address, so they are judged by it.
 */
import { isIP } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

/** Why an address is not on the public Internet; `public` when it is. */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared (CGNAT)'
  | 'unique-local'
  | 'multicast'
  | 'reserved';

/** A literal address, with or without IPv6 brackets and zone id; null for anything else. */
export function parseIp(text: string): IpAddress | null {
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const address = unbracketed.split('%')[0] ?? '';
  const family = isIP(address);
  if (family === 4) return { family: 4, value: ipv4Value(address) };
  if (family === 6) return { family: 6, value: ipv6Value(address) };
  return null;
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

/** `isIP` has validated the text: only the expansion of `::` and a dotted IPv4 tail remain to do. */
function ipv6Value(address: string): bigint {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const v4 = ipv4Value(dotted);
    text = `${text.slice(0, -dotted.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce(
    (value, group) => (value << 16n) | BigInt(Number.parseInt(group, 16)),
    0n,
  );
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (a /32 or /128); null when it is neither. */
export function parseCidr(text: string): Cidr | null {
  const [addressText = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const address = parseIp(addressText);
  if (!address) return null;
  const bits = address.family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return null;
  return { family: address.family, network: masked(address.value, prefix, bits), prefix };
}

export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  const candidate = address.family === 6 && cidr.family === 4 ? mappedIpv4(address) : address;
  if (!candidate || candidate.family !== cidr.family) return false;
  const bits = cidr.family === 4 ? 32 : 128;
  return masked(candidate.value, cidr.prefix, bits) === cidr.network;
}

function masked(value: bigint, prefix: number, bits: number): bigint {
  const hostBits = BigInt(bits - prefix);
  return (value >> hostBits) << hostBits;
}

/** The IPv4 address of an IPv4-mapped IPv6 address (::ffff:a.b.c.d), which is where it connects. */
function mappedIpv4(address: IpAddress): IpAddress | null {
  return address.value >> 32n === 0xffffn ? { family: 4, value: address.value & 0xffffffffn } : null;
}

const range = (text: string): Cidr => {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`bad built-in range ${text}`);
  return cidr;
};

/** IANA IPv4 special-purpose registry (RFC 6890 and later), as far as a connection can go there. */
const IPV4_SPECIAL: [Cidr, AddressClass][] = [
  [range('0.0.0.0/8'), 'unspecified'],
  [range('10.0.0.0/8'), 'private'],
  [range('100.64.0.0/10'), 'shared (CGNAT)'],
  [range('127.0.0.0/8'), 'loopback'],
  [range('169.254.0.0/16'), 'link-local'],
  [range('172.16.0.0/12'), 'private'],
  [range('192.0.0.0/24'), 'reserved'],
  [range('192.0.2.0/24'), 'reserved'],
  [range('192.88.99.0/24'), 'reserved'],
  [range('192.168.0.0/16'), 'private'],
  [range('198.18.0.0/15'), 'reserved'],
  [range('198.51.100.0/24'), 'reserved'],
  [range('203.0.113.0/24'), 'reserved'],
  [range('224.0.0.0/4'), 'multicast'],
  [range('240.0.0.0/4'), 'reserved'],
];

/** IPv6 ranges whose traffic goes to an embedded IPv4 address: [range, where the IPv4 bits start]. */
const IPV6_EMBEDDING: [Cidr, bigint][] = [
  [range('::ffff:0:0/96'), 0n], // IPv4-mapped
  [range('::/96'), 0n], // IPv4-compatible (deprecated; :: and ::1 are matched before)
  [range('64:ff9b::/96'), 0n], // NAT64 well-known prefix
  [range('2002::/16'), 80n], // 6to4
];

const IPV6_SPECIAL: [Cidr, AddressClass][] = [
  [range('::/128'), 'unspecified'],
  [range('::1/128'), 'loopback'],
  [range('64:ff9b:1::/48'), 'private'], // local-use NAT64
  [range('100::/64'), 'reserved'], // discard-only
  [range('2001::/23'), 'reserved'], // IETF protocol assignments (Teredo, benchmarking, ORCHID...)
  [range('2001:db8::/32'), 'reserved'], // documentation
  [range('3fff::/20'), 'reserved'], // documentation
  [range('5f00::/16'), 'reserved'], // SRv6 SIDs
  [range('fc00::/7'), 'unique-local'],
  [range('fe80::/10'), 'link-local'],
  [range('fec0::/10'), 'reserved'], // site-local (deprecated)
  [range('ff00::/8'), 'multicast'],
];

const GLOBAL_UNICAST_V6 = range('2000::/3');

export function classifyAddress(address: IpAddress): AddressClass {
  if (address.family === 4) {
    return IPV4_SPECIAL.find(([cidr]) => cidrContains(cidr, address))?.[1] ?? 'public';
  }
  const special = IPV6_SPECIAL.find(([cidr]) => cidrContains(cidr, address))?.[1];
  if (special) return special;
  for (const [cidr, shift] of IPV6_EMBEDDING) {
    if (cidrContains(cidr, address)) {
      return classifyAddress({ family: 4, value: (address.value >> shift) & 0xffffffffn });
    }
  }
  return cidrContains(GLOBAL_UNICAST_V6, address) ? 'public' : 'reserved';
}
