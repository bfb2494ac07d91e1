/**
 * What adapters get in their ProviderContext to reach user-supplied URLs: the policy-checked client
 * and the body caps, built once per configuration (the client keeps connections alive).
 */
import type { Config } from '../../platform/config.ts';
import { OutboundClient } from './fetch.ts';
import { DestinationPolicy, parsePrivateNetworks } from './policy.ts';

export interface Outbound {
  client: OutboundClient;
  /** MAX_FEED_BYTES: one ICS feed, decompressed. */
  maxFeedBytes: number;
  /** MAX_MULTISTATUS_BYTES: one CalDAV response, decompressed. */
  maxMultistatusBytes: number;
}

export const DEFAULT_MAX_FEED_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_MULTISTATUS_BYTES = 20 * 1024 * 1024;

let unrestricted: Outbound | null = null;

/** For adapters built without configuration (tests, benchmarks): no destination policy, default caps. */
export function unrestrictedOutbound(): Outbound {
  unrestricted ??= {
    client: new OutboundClient({ policy: DestinationPolicy.allowAll() }),
    maxFeedBytes: DEFAULT_MAX_FEED_BYTES,
    maxMultistatusBytes: DEFAULT_MAX_MULTISTATUS_BYTES,
  };
  return unrestricted;
}

const byConfig = new WeakMap<Config, Outbound>();

export function outboundFor(config: Config): Outbound {
  let outbound = byConfig.get(config);
  if (!outbound) {
    outbound = {
      client: new OutboundClient({ policy: destinationPolicy(config) }),
      maxFeedBytes: config.MAX_FEED_BYTES,
      maxMultistatusBytes: config.MAX_MULTISTATUS_BYTES,
    };
    byConfig.set(config, outbound);
  }
  return outbound;
}

export function destinationPolicy(config: Config): DestinationPolicy {
  const setting = config.OUTBOUND_PRIVATE_NETWORKS ?? (config.NODE_ENV === 'production' ? 'deny' : 'allow');
  return new DestinationPolicy({
    privateNetworks: parsePrivateNetworks(setting).value,
    trustedUrls: [
      config.ICLOUD_CALDAV_URL,
      config.GOOGLE_API_URL,
      config.GOOGLE_OAUTH_URL,
      config.MICROSOFT_GRAPH_URL,
      config.MICROSOFT_AUTHORITY,
    ],
  });
}
