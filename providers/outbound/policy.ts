/**
 * Where requests to user-supplied URLs may go (OUTBOUND_PRIVATE_NETWORKS): `allow` lets them reach
 * any address (local trials against a server on localhost), `deny` only the public Internet, and a
 * list of CIDRs and host names lets those through although they are private. Origins of
 * operator-configured base URLs (iCloud, Google, Microsoft) are trusted whatever they resolve to.
 *
 * The policy judges an address, not a URL: it is applied to every address a host name resolves to,
 * at connect time (see connect.ts), so a name that changes its answer between checks gains nothing.
 */
import {
  type AddressClass,
  type Cidr,
  cidrContains,
  classifyAddress,
  type IpAddress,
  parseCidr,
} from './addresses.ts';

export interface PrivateNetworkAllowance {
  cidrs: Cidr[];
  /** Lower-case, without a trailing dot. */
  hosts: Set<string>;
}

export type PrivateNetworks = { mode: 'allow' } | ({ mode: 'deny' } & PrivateNetworkAllowance);

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$/i;

/**
 * `allow`, `deny`, or a comma-separated list of CIDRs and host names (deny everything private but
 * those). Returns the entries it could not read as `problems` (config.ts refuses to start on them).
 */
export function parsePrivateNetworks(setting: string): { value: PrivateNetworks; problems: string[] } {
  const text = setting.trim().toLowerCase();
  if (text === 'allow') return { value: { mode: 'allow' }, problems: [] };
  const allowance: PrivateNetworkAllowance = { cidrs: [], hosts: new Set() };
  const problems: string[] = [];
  if (text !== 'deny') {
    for (const entry of text.split(',').map((e) => e.trim())) {
      const cidr = parseCidr(entry);
      if (cidr) allowance.cidrs.push(cidr);
      else if (HOST_NAME.test(entry.replace(/\.$/, ''))) allowance.hosts.add(entry.replace(/\.$/, ''));
      else problems.push(entry === '' ? 'an empty entry' : `'${entry}' is neither a CIDR nor a host name`);
    }
  }
  return { value: { mode: 'deny', ...allowance }, problems };
}

export interface DestinationPolicySettings {
  privateNetworks: PrivateNetworks;
  /** Base URLs the operator configured: their origins are reached whatever they resolve to. */
  trustedUrls: readonly (string | undefined)[];
}

export class DestinationPolicy {
  readonly #networks: PrivateNetworks;
  readonly #trustedOrigins: Set<string>;

  constructor(settings: DestinationPolicySettings) {
    this.#networks = settings.privateNetworks;
    this.#trustedOrigins = new Set(
      settings.trustedUrls.flatMap((url) => {
        if (!url) return [];
        try {
          return [new URL(url).origin];
        } catch {
          return [];
        }
      }),
    );
  }

  /** No restriction at all (tests and benchmarks that build adapters without configuration). */
  static allowAll(): DestinationPolicy {
    return new DestinationPolicy({ privateNetworks: { mode: 'allow' }, trustedUrls: [] });
  }

  /** True when no address is ever refused: connections need no checking. */
  get allowsEverything(): boolean {
    return this.#networks.mode === 'allow';
  }

  isTrusted(url: URL): boolean {
    return this.#trustedOrigins.has(url.origin);
  }

  /** Null when `hostname` may be reached at `address`; otherwise the kind of network refused. */
  refusal(hostname: string, address: IpAddress): Exclude<AddressClass, 'public'> | null {
    const networks = this.#networks;
    if (networks.mode === 'allow') return null;
    const kind = classifyAddress(address);
    if (kind === 'public') return null;
    const host = hostname
      .toLowerCase()
      .replace(/\.$/, '')
      .replace(/^\[(.*)\]$/, '$1');
    if (networks.hosts.has(host)) return null;
    if (networks.cidrs.some((cidr) => cidrContains(cidr, address))) return null;
    return kind;
  }
}

export const USER_INFO_MESSAGE =
  'must not contain a username or password (user:pass@): give the credentials in their own fields';

/** Credentials inside a URL travel wherever the URL is shown or logged: user-supplied URLs carry none. */
export function hasNoUserInfo(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username === '' && parsed.password === '';
  } catch {
    return true; // not a URL at all: the URL check reports that
  }
}
