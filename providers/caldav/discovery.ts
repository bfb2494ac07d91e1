/**
 * CalDAV discovery (RFC 6764, RFC 4791 6.2.1): /.well-known/caldav → current-user-principal →
 * calendar-home-set → calendar collections.
 *
 * We do not use tsdav's createAccount/fetchCalendars: they swallow the well-known failure, throw
 * untyped errors, and resolve every href against the first server's root — but iCloud's home set is
 * an absolute URL on a partition host (https://pNN-caldav.icloud.com/...) and the collections listed
 * there must resolve against that host.
 */

import type { ProviderCalendar } from '../contract.ts';
import { CredentialsRejectedError, InvalidDataError, NotFoundError } from '../errors.ts';
import {
  asArray,
  asCollectionUrl,
  CALDAV_NS,
  CredentialsWithheldError,
  childNames,
  type DavClient,
  type DavResult,
  hrefsOf,
  samePath,
  textOf,
} from './http.ts';

export interface Discovery {
  principalUrl: string;
  /** Absolute calendar home URLs (usually one), on whatever host the server named. */
  homeUrls: string[];
  /** RFC 6638 schedule inbox, where the default calendar is named; null if the server has none. */
  scheduleInboxUrl: string | null;
}

const PRINCIPAL_PROPS = { 'd:current-user-principal': {} };

export async function discover(client: DavClient, serverUrl: string): Promise<Discovery> {
  let base: URL;
  try {
    base = new URL(serverUrl);
  } catch {
    throw new InvalidDataError('The CalDAV server URL is not a valid URL');
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new InvalidDataError(`The CalDAV server URL must be http(s), not ${base.protocol}`);
  }
  // The well-known URL first (it usually redirects to the context path), then the URL as given —
  // some servers only answer there — then the server root.
  const candidates = [
    ...new Set([new URL('/.well-known/caldav', base).href, base.href, new URL('/', base).href]),
  ];
  let principalUrl: string | null = null;
  let refused = false;
  let withheld: CredentialsWithheldError | null = null;
  for (const candidate of candidates) {
    let result: DavResult;
    try {
      result = await client.dav(candidate, {
        method: 'PROPFIND',
        depth: '0',
        body: propfind(PRINCIPAL_PROPS),
      });
    } catch (error) {
      // The well-known URL often redirects to another host, which gets no credentials from us:
      // the URL as given may still answer.
      if (!(error instanceof CredentialsWithheldError)) throw error;
      withheld ??= error;
      continue;
    }
    // A 403 on one candidate can be a web server guarding dot-paths; it only counts if none works.
    if (result.status === 403) refused = true;
    if (result.status !== 207) continue;
    const href = result.responses.flatMap((r) => hrefsOf(r.props?.currentUserPrincipal))[0];
    if (href) {
      principalUrl = new URL(href, result.url).href;
      if (result.authorized) client.trustOrigin(principalUrl);
      break;
    }
  }
  if (!principalUrl) {
    if (withheld) throw withheld;
    if (refused) throw forbidden(base.host);
    throw new InvalidDataError(
      `No CalDAV account found at ${base.host}: neither /.well-known/caldav nor the given URL name a current-user-principal`,
    );
  }

  const principal = await client.dav(principalUrl, {
    method: 'PROPFIND',
    depth: '0',
    body: propfind({ 'c:calendar-home-set': {}, 'c:schedule-inbox-URL': {} }),
  });
  if (principal.status === 403) throw forbidden(base.host);
  if (principal.status !== 207) {
    throw new InvalidDataError(`The CalDAV principal at ${base.host} answered ${principal.status}`);
  }
  const props = principal.responses.find((r) => r.props?.calendarHomeSet !== undefined)?.props;
  // An absolute home href (iCloud's partition host) wins over the principal's origin by URL rules.
  const homeUrls = [
    ...new Set(hrefsOf(props?.calendarHomeSet).map((h) => asCollectionUrl(new URL(h, principal.url).href))),
  ];
  if (homeUrls.length === 0) {
    throw new InvalidDataError(`The CalDAV account at ${base.host} has no calendar-home-set`);
  }
  const inbox = hrefsOf(props?.scheduleInboxURL)[0];
  // The account's own answer names these (iCloud: a partition host): they get the credentials.
  if (principal.authorized) for (const home of homeUrls) client.trustOrigin(home);
  return {
    principalUrl,
    homeUrls,
    scheduleInboxUrl: inbox ? new URL(inbox, principal.url).href : null,
  };
}

function forbidden(host: string): CredentialsRejectedError {
  return new CredentialsRejectedError(`CalDAV server at ${host} refused access to the account (403)`);
}

export function propfind(props: Record<string, unknown>): unknown {
  return {
    propfind: {
      _attributes: {
        ...CALDAV_NS,
        'xmlns:cs': 'http://calendarserver.org/ns/',
        'xmlns:ca': 'http://apple.com/ns/ical/',
      },
      prop: props,
    },
  };
}

const WRITE_PRIVILEGES = new Set(['all', 'write', 'writeContent', 'bind']);

export async function listCalendars(client: DavClient, discovery: Discovery): Promise<ProviderCalendar[]> {
  const defaultCalendar = await defaultCalendarUrl(client, discovery);
  const calendars: ProviderCalendar[] = [];
  const seen = new Set<string>();
  for (const homeUrl of discovery.homeUrls) {
    const result = await client.dav(homeUrl, {
      method: 'PROPFIND',
      depth: '1',
      body: propfind({
        'd:resourcetype': {},
        'd:displayname': {},
        'ca:calendar-color': {},
        'c:supported-calendar-component-set': {},
        'd:current-user-privilege-set': {},
      }),
    });
    if (result.status === 404) throw new NotFoundError(`The calendar home ${homeUrl} does not exist`);
    if (result.status === 403) throw forbidden(new URL(homeUrl).host);
    if (result.status !== 207) {
      throw new InvalidDataError(
        `Listing the calendars at ${new URL(homeUrl).host} answered ${result.status}`,
      );
    }
    for (const response of result.responses) {
      if (!response.ok) continue;
      const url = asCollectionUrl(new URL(response.href ?? '', result.url).href);
      // Members of a collection live under it: an href on another origin is not a calendar of
      // this home, and syncing it would send the credentials there.
      if (new URL(url).origin !== new URL(homeUrl).origin) continue;
      // The home itself comes back in a Depth 1 listing; so do inboxes, outboxes and subscriptions.
      if (samePath(new URL(url).pathname, new URL(homeUrl).pathname) || seen.has(url)) continue;
      const props = response.props ?? {};
      if (!childNames(props.resourcetype).includes('calendar')) continue;
      const components = asArray(props.supportedCalendarComponentSet?.comp as unknown)
        .map((c) =>
          textOf((c as { _attributes?: { name?: unknown } } | null)?._attributes?.name)?.toUpperCase(),
        )
        .filter((c): c is string => Boolean(c));
      // No supported-calendar-component-set means "any component" (RFC 4791 5.2.3).
      if (components.length > 0 && !components.includes('VEVENT')) continue;
      seen.add(url);
      const privileges = props.currentUserPrivilegeSet;
      const granted = asArray(privileges?.privilege as unknown).flatMap(childNames);
      calendars.push({
        externalId: url,
        name: textOf(props.displayname) ?? lastSegment(url),
        color: normalizeColor(textOf(props.calendarColor)),
        // A server that does not report privileges gets the benefit of the doubt; a write then
        // answers 403, which is a ReadOnlyError.
        readOnly: privileges === undefined ? false : !granted.some((p) => WRITE_PRIVILEGES.has(p)),
        providerPrimary:
          defaultCalendar !== null && samePath(new URL(url).pathname, new URL(defaultCalendar).pathname),
      });
    }
  }
  return calendars;
}

/** RFC 6638 schedule-default-calendar-URL (a property of the inbox); null when the server has none. */
async function defaultCalendarUrl(client: DavClient, discovery: Discovery): Promise<string | null> {
  if (!discovery.scheduleInboxUrl) return null;
  try {
    const result = await client.dav(discovery.scheduleInboxUrl, {
      method: 'PROPFIND',
      depth: '0',
      body: propfind({ 'c:schedule-default-calendar-URL': {} }),
    });
    if (result.status !== 207) return null;
    const href = result.responses.flatMap((r) => hrefsOf(r.props?.scheduleDefaultCalendarURL))[0];
    return href ? new URL(href, result.url).href : null;
  } catch (error) {
    // Only a hint: failures other than dead credentials must not break the listing.
    if (error instanceof CredentialsRejectedError) throw error;
    return null;
  }
}

function lastSegment(url: string): string {
  const segments = new URL(url).pathname.split('/').filter(Boolean);
  const last = segments.at(-1) ?? url;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** `#RGB`, `#RRGGBB` or Apple's `#RRGGBBAA` → `#RRGGBB`; anything else → null. */
export function normalizeColor(value: string | null): string | null {
  if (!value) return null;
  const hex = /^#?([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(value.trim())?.[1];
  if (!hex) return null;
  const rgb = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex.slice(0, 6);
  return `#${rgb.toUpperCase()}`;
}
