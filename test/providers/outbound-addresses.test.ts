/**
 * The destination policy's address table (providers/outbound/addresses.ts, policy.ts), table-driven:
 * every special-purpose range, the IPv6 forms that carry an IPv4 address, the allow-list of CIDRs
 * and host names, and the configuration that feeds it. Pure: nothing here opens a connection.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../platform/config.ts';
import {
  type AddressClass,
  classifyAddress,
  parseCidr,
  parseIp,
} from '../../providers/outbound/addresses.ts';
import { destinationPolicy } from '../../providers/outbound/context.ts';
import { DestinationPolicy, hasNoUserInfo, parsePrivateNetworks } from '../../providers/outbound/policy.ts';

const classify = (ip: string): AddressClass => {
  const parsed = parseIp(ip);
  if (!parsed) throw new Error(`not an IP: ${ip}`);
  return classifyAddress(parsed);
};

describe('classifyAddress', () => {
  it.each<[string, AddressClass]>([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['100.127.255.254', 'shared (CGNAT)'],
    ['100.128.0.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.15.255.255', 'public'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', 'public'],
    ['192.0.0.170', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['1.1.1.1', 'public'],
    ['8.8.8.8', 'public'],
    ['17.253.144.10', 'public'],
  ])('IPv4 %s is %s', (ip, kind) => {
    expect(classify(ip)).toBe(kind);
  });

  it.each<[string, AddressClass]>([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['fec0::1', 'reserved'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'], // Teredo
    ['100::1', 'reserved'],
    ['64:ff9b:1::1', 'private'],
    ['4000::1', 'reserved'], // outside global unicast
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:82a::200e', 'public'],
  ])('IPv6 %s is %s', (ip, kind) => {
    expect(classify(ip)).toBe(kind);
  });

  it.each<[string, AddressClass]>([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:169.254.169.254]', 'link-local'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'loopback'], // IPv4-compatible
    ['::a00:1', 'private'], // IPv4-compatible 10.0.0.1
    ['64:ff9b::7f00:1', 'loopback'], // NAT64
    ['64:ff9b::a9fe:a9fe', 'link-local'], // NAT64 169.254.169.254
    ['64:ff9b::808:808', 'public'],
    ['2002:7f00:1::1', 'loopback'], // 6to4 of 127.0.0.1
    ['2002:c0a8:101::1', 'private'], // 6to4 of 192.168.1.1
    ['2002:808:808::1', 'public'],
  ])('IPv6 carrying IPv4: %s is %s', (ip, kind) => {
    expect(classify(ip)).toBe(kind);
  });

  it('reads only literal addresses', () => {
    for (const text of ['localhost', '127.1', '1.2.3', '::g', '', '1.2.3.4.5', '[::1']) {
      expect(parseIp(text), text).toBeNull();
    }
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', true],
    ['10.1.2.3', true],
    ['fd00::/8', true],
    ['::1', true],
    ['10.0.0.0/33', false],
    ['fd00::/129', false],
    ['10.0.0.0/8/1', false],
    ['10.0.0.0/x', false],
    ['calendar.internal', false],
  ])('%s parses: %s', (text, ok) => {
    expect(parseCidr(text) !== null).toBe(ok);
  });
});

describe('DestinationPolicy', () => {
  const policy = (setting: string, trustedUrls: string[] = []) =>
    new DestinationPolicy({ privateNetworks: parsePrivateNetworks(setting).value, trustedUrls });
  const refusal = (p: DestinationPolicy, host: string, ip: string) => p.refusal(host, parseIp(ip)!);

  it('allow refuses nothing; deny refuses every non-public address and no public one', () => {
    const allow = policy('allow');
    const deny = policy('deny');
    for (const ip of ['127.0.0.1', '169.254.169.254', '::1', 'fd00::1', '::ffff:10.0.0.1']) {
      expect(refusal(allow, 'h', ip), ip).toBeNull();
      expect(refusal(deny, 'h', ip), ip).not.toBeNull();
    }
    expect(refusal(deny, 'h', '8.8.8.8')).toBeNull();
    expect(refusal(deny, 'h', '2606:4700:4700::1111')).toBeNull();
    expect(refusal(deny, 'metadata', '169.254.169.254')).toBe('link-local');
  });

  it.each<[string, string, string, boolean]>([
    // [allow-list, host name, resolved address, allowed]
    ['10.1.0.0/16', 'x', '10.1.200.3', true],
    ['10.1.0.0/16', 'x', '10.2.0.1', false],
    ['10.1.0.0/16', 'x', '::ffff:10.1.0.9', true], // a mapped form of an allowed address
    ['10.1.0.0/16', 'x', '::ffff:10.2.0.9', false],
    ['fd00::/8', 'x', 'fd12::1', true],
    ['fd00::/8', 'x', 'fc00::1', false],
    ['127.0.0.2', 'x', '127.0.0.2', true],
    ['127.0.0.2', 'x', '127.0.0.1', false],
    ['calendar.internal', 'calendar.internal', '10.9.9.9', true],
    ['calendar.internal', 'CALENDAR.internal.', '10.9.9.9', true],
    ['calendar.internal', 'other.internal', '10.9.9.9', false],
    ['calendar.internal', 'x.calendar.internal', '10.9.9.9', false],
    [' 10.1.0.0/16 , calendar.internal ', 'calendar.internal', '127.0.0.1', true],
    ['10.1.0.0/16,calendar.internal', 'x', '169.254.169.254', false],
  ])('allow-list %j: %s at %s → allowed %s', (setting, host, ip, allowed) => {
    expect(refusal(policy(setting), host, ip) === null).toBe(allowed);
  });

  it('trusts the origins of operator-configured base URLs, and only those origins', () => {
    const p = policy('deny', ['http://127.0.0.1:8443/caldav/', 'https://graph.microsoft.com']);
    expect(p.isTrusted(new URL('http://127.0.0.1:8443/other'))).toBe(true);
    expect(p.isTrusted(new URL('http://127.0.0.1:8444/'))).toBe(false);
    expect(p.isTrusted(new URL('https://127.0.0.1:8443/'))).toBe(false);
    expect(p.isTrusted(new URL('https://graph.microsoft.com/v1.0/me'))).toBe(true);
  });

  it('reports entries it cannot read', () => {
    expect(parsePrivateNetworks('10.0.0.0/8,,not a host').problems).toHaveLength(2);
    expect(parsePrivateNetworks('DENY').value.mode).toBe('deny');
    expect(parsePrivateNetworks('allow').value.mode).toBe('allow');
  });
});

describe('OUTBOUND_PRIVATE_NETWORKS and the body caps in the configuration', () => {
  const env = (extra: Record<string, string>) => ({
    ADMIN_TOKEN: 'x'.repeat(32),
    ENCRYPTION_KEY: 'a'.repeat(64),
    ...extra,
  });
  const load = (extra: Record<string, string>) => loadConfig(env(extra), { generateSecrets: false });

  it('defaults to deny in production and allow otherwise', () => {
    const refusesLoopback = (extra: Record<string, string>) =>
      destinationPolicy(load(extra)).refusal('localhost', parseIp('127.0.0.1')!) !== null;
    expect(refusesLoopback({})).toBe(false);
    expect(refusesLoopback({ NODE_ENV: 'test' })).toBe(false);
    expect(
      refusesLoopback({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db/x',
        TEMPORAL_ADDRESS: 'temporal:7233',
        PUBLIC_URL: 'https://calbridge.example',
      }),
    ).toBe(true);
    expect(refusesLoopback({ OUTBOUND_PRIVATE_NETWORKS: 'deny' })).toBe(true);
    expect(refusesLoopback({ OUTBOUND_PRIVATE_NETWORKS: '127.0.0.0/8' })).toBe(false);
  });

  it('refuses a bad value with one line naming the variable', () => {
    for (const value of ['10.0.0.0/40', 'maybe please', '10.0.0.0/8,,x']) {
      const error = (() => {
        try {
          load({ OUTBOUND_PRIVATE_NETWORKS: value });
        } catch (e) {
          return e;
        }
      })();
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.join('\n')).toMatch(/^OUTBOUND_PRIVATE_NETWORKS: /);
    }
    expect(() => load({ MAX_FEED_BYTES: 'lots' })).toThrow(/MAX_FEED_BYTES/);
    expect(load({ MAX_MULTISTATUS_BYTES: '2048' }).MAX_MULTISTATUS_BYTES).toBe(2048);
    expect(load({}).MAX_FEED_BYTES).toBe(10 * 1024 * 1024);
  });
});

describe('user-supplied URLs', () => {
  it('carry no user info', () => {
    expect(hasNoUserInfo('https://dav.example.com/')).toBe(true);
    expect(hasNoUserInfo('https://ada:secret@dav.example.com/')).toBe(false);
    expect(hasNoUserInfo('webcal://ada@example.com/feed.ics')).toBe(false);
  });
});
