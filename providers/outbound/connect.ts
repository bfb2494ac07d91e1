/**
 * The connect-time half of the destination policy: a DNS lookup for sockets that drops every
 * address the policy refuses, so the address checked is the address connected to (a host name that
 * answers "public" to one query and "127.0.0.1" to the next cannot slip through). Literal IPs never
 * reach a lookup, so they are checked before the request (checkLiteral).
 */

import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { parseIp } from './addresses.ts';
import { DestinationNotAllowedError } from './errors.ts';
import type { DestinationPolicy } from './policy.ts';

/** Every address of a host name (tests inject one to play a rebinding DNS server). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, order: 'verbatim' });

/** Throws when `hostname` is a literal IP the policy refuses; host names are left to the lookup. */
export function checkLiteral(policy: DestinationPolicy, hostname: string): void {
  const address = parseIp(hostname);
  if (!address) return;
  const refused = policy.refusal(hostname, address);
  if (refused) throw new DestinationNotAllowedError(hostname, refused);
}

export function guardedLookup(policy: DestinationPolicy, resolve: Resolver): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    const wanted = typeof options.family === 'number' && options.family !== 0 ? options.family : null;
    resolve(hostname).then(
      (found) => {
        const candidates = found.filter((a) => wanted === null || a.family === wanted);
        let refused: string | null = null;
        const permitted = candidates.filter((a) => {
          const address = parseIp(a.address);
          const kind = address ? policy.refusal(hostname, address) : 'reserved';
          refused ??= kind;
          return kind === null;
        });
        if (permitted.length === 0 && refused) {
          callback(asErrno(new DestinationNotAllowedError(hostname, refused)), '', 0);
          return;
        }
        if (permitted.length === 0) {
          callback(
            asErrno(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' })),
            '',
            0,
          );
          return;
        }
        if (options.all) callback(null, permitted);
        else callback(null, permitted[0]!.address, permitted[0]!.family);
      },
      (error: unknown) => callback(asErrno(error), '', 0),
    );
  };
}

function asErrno(error: unknown): NodeJS.ErrnoException {
  return error instanceof Error ? error : new Error(String(error));
}
