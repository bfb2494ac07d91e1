/**
 * Microsoft 365 beyond the conformance suite, against the stand-in with the real MSAL and fetch:
 * the OAuth module (consent, code exchange, refresh, the ways a grant dies), Graph's faults
 * (throttling, 5xx, dead delta links, replayed items, short pages), time zones, writes and
 * change subscriptions.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TimeWindow } from '../../domain/calendar.ts';
import { loadConfig } from '../../platform/config.ts';
import type { CalendarProvider, ProviderContext } from '../../providers/contract.ts';
import {
  CredentialsRejectedError,
  CursorExpiredError,
  InvalidDataError,
  RateLimitedError,
  TransientProviderError,
} from '../../providers/errors.ts';
import { createMicrosoftProvider } from '../../providers/microsoft/adapter.ts';
import { microsoftOAuth } from '../../providers/microsoft/oauth.ts';
import { readInstant } from '../../providers/microsoft/time.ts';
import { type GraphEvent, toSourceObject } from '../../providers/microsoft/wire.ts';
import type { OAuthCredentials } from '../../providers/oauth.ts';
import {
  authorizationCode,
  linkAccount,
  type MemoryGrant,
  memoryGrant,
  pkcePair,
  standinSettings,
} from '../standins/microsoft/grant.ts';
import { type MicrosoftStandin, startMicrosoftStandin } from '../standins/microsoft/standin.ts';
import { collectPages, Mirror } from './conformance.ts';

const HOUR = 3_600_000;
const base = Math.ceil((Date.now() + 2 * 24 * HOUR) / HOUR) * HOUR;
const at = (hours: number) => new Date(base + hours * HOUR);
const window: TimeWindow = { start: new Date(base - 5 * 24 * HOUR), end: new Date(base + 30 * 24 * HOUR) };
const FAST = { retry: { attempts: 3, maxRetryAfterMs: 5_000, backoffMs: 5 } };

let standin: MicrosoftStandin;
let accounts = 0;

beforeAll(async () => {
  standin = await startMicrosoftStandin();
});
afterAll(async () => {
  await standin?.close();
});
afterEach(() => {
  standin.faults.clear();
});

/** A fresh account with a real consent, and an adapter on its grant. */
async function account(tuning = FAST) {
  const email = `user-${++accounts}@example.com`;
  const { calendarIds } = standin.addAccount({ email });
  const calendarId = calendarIds[0]!;
  const settings = standinSettings(standin);
  const link = await linkAccount(standin, email, settings);
  const grant = memoryGrant(settings, link.credentials);
  const provider = adapter(grant, tuning);
  return { email, calendarId, settings, link, grant, provider };
}

function adapter(grant: MemoryGrant, tuning = FAST): CalendarProvider {
  const context: ProviderContext = {
    requestTimeoutMs: 5000,
    userAgent: 'Calbridge-test/1.0',
    apiUrls: { google: 'https://google.invalid', microsoftGraph: standin.graphUrl },
  };
  return createMicrosoftProvider(
    { provider: 'microsoft', serverUrl: null, credentials: grant.credentials, grant },
    context,
    tuning,
  );
}

const seed = (email: string, calendarId: string, subject: string, hour: number, extra = {}) =>
  standin.putEvent(email, calendarId, { subject, start: at(hour), end: at(hour + 1), ...extra });

const requestsSince = (mark: number) => standin.requests.slice(mark);

describe('OAuth module (MSAL against the stand-in authority)', () => {
  it('takes no settings without a client id and secret, and builds the callback from PUBLIC_URL', () => {
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: 'postgres://x@127.0.0.1/x',
      PUBLIC_URL: 'https://cal.example.com',
    };
    expect(microsoftOAuth.settings(loadConfig(env, { generateSecrets: true }))).toBeNull();
    const settings = microsoftOAuth.settings(
      loadConfig({ ...env, ...standin.env }, { generateSecrets: true }),
    );
    expect(settings).toMatchObject({
      clientId: standin.clientId,
      redirectUri: 'https://cal.example.com/v1/oauth/microsoft/callback',
      authorityUrl: standin.authority,
      apiUrl: standin.graphUrl,
    });
  });

  it('consents with PKCE, exchanges the code, and talks to no host but the authority', async () => {
    const email = `consent-${++accounts}@example.com`;
    const { oid } = standin.addAccount({ email });
    const settings = standinSettings(standin);
    const { codeVerifier, codeChallenge } = pkcePair();
    const mark = standin.requests.length;

    const url = new URL(
      await microsoftOAuth.authorizationUrl(settings, { state: 'state-1', codeChallenge, loginHint: email }),
    );
    expect(url.origin + url.pathname).toBe(`${standin.authority}/oauth2/v2.0/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: standin.clientId,
      redirect_uri: settings.redirectUri,
      response_type: 'code',
      state: 'state-1',
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      login_hint: email,
    });
    expect(url.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining(['offline_access', 'User.Read', 'Calendars.ReadWrite']),
    );
    expect(url.searchParams.has('prompt')).toBe(false);

    standin.consentAs(email);
    const consent = await fetch(url, { redirect: 'manual' });
    const back = new URL(consent.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('state-1');
    const link = await microsoftOAuth.exchangeCode(settings, {
      code: back.searchParams.get('code')!,
      codeVerifier,
    });

    expect(link.accountEmail).toBe(email);
    expect(link.accountId).toMatch(new RegExp(`^${oid}\\.`));
    expect(Date.parse(link.credentials.expiresAt)).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(link.credentials.msalCache).toContain('RefreshToken');
    // Discovery, consent, discovery, token: all on the stand-in's authority, none elsewhere.
    expect(requestsSince(mark).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /common/v2.0/.well-known/openid-configuration',
      'GET /common/oauth2/v2.0/authorize',
      'GET /common/v2.0/.well-known/openid-configuration',
      'POST /common/oauth2/v2.0/token',
    ]);
  });

  it('asks for consent again only when told to, and reports a refused consent', async () => {
    const settings = standinSettings(standin);
    const url = await microsoftOAuth.authorizationUrl(settings, {
      state: 's',
      codeChallenge: pkcePair().codeChallenge,
      forceConsent: true,
    });
    expect(new URL(url).searchParams.get('prompt')).toBe('consent');
    standin.denyConsent();
    const back = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('s');
    expect(back.searchParams.has('code')).toBe(false);
  });

  it('rejects a replayed code and a PKCE verifier that does not match', async () => {
    const email = `codes-${++accounts}@example.com`;
    standin.addAccount({ email });
    const settings = standinSettings(standin);
    const pair = pkcePair();
    const code = await authorizationCode(standin, settings, email, pair.codeChallenge);
    await microsoftOAuth.exchangeCode(settings, { code, codeVerifier: pair.codeVerifier });
    await expect(
      microsoftOAuth.exchangeCode(settings, { code, codeVerifier: pair.codeVerifier }),
    ).rejects.toBeInstanceOf(CredentialsRejectedError);

    const other = await authorizationCode(standin, settings, email, pair.codeChallenge);
    await expect(
      microsoftOAuth.exchangeCode(settings, { code: other, codeVerifier: pkcePair().codeVerifier }),
    ).rejects.toBeInstanceOf(CredentialsRejectedError);
  });

  it('refreshes into new credentials with the rotated refresh token', async () => {
    const { settings, link } = await account();
    const refreshed = await microsoftOAuth.refresh(settings, link.credentials);
    expect(refreshed.accessToken).not.toBe(link.credentials.accessToken);
    expect(refreshed.homeAccountId).toBe(link.accountId);
    const refreshTokens = (credentials: OAuthCredentials) =>
      Object.values(
        JSON.parse(credentials.msalCache as string).RefreshToken as Record<string, { secret: string }>,
      ).map((t) => t.secret);
    expect(refreshTokens(refreshed)).toHaveLength(1);
    expect(refreshTokens(refreshed)).not.toEqual(refreshTokens(link.credentials));
    // The new credentials refresh again on their own.
    const again = await microsoftOAuth.refresh(settings, refreshed);
    expect(again.accessToken).not.toBe(refreshed.accessToken);
  });

  it.each(['revoked', 'expired', 'consent_withdrawn'] as const)(
    'turns a %s grant into CredentialsRejectedError',
    async (form) => {
      const { email, settings, link } = await account();
      standin.revokeGrant(email, form);
      await expect(microsoftOAuth.refresh(settings, link.credentials)).rejects.toBeInstanceOf(
        CredentialsRejectedError,
      );
    },
  );

  it('does not blame the grant for a wrong client secret', async () => {
    const { settings, link } = await account();
    const error = await microsoftOAuth
      .refresh({ ...settings, clientSecret: 'wrong' }, link.credentials)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidDataError);
  });

  it('revokes without calling Entra (it has no revocation endpoint for clients)', async () => {
    const { settings, link } = await account();
    const mark = standin.requests.length;
    await microsoftOAuth.revoke(settings, link.credentials);
    expect(requestsSince(mark)).toEqual([]);
  });
});

describe('Graph adapter: authentication', () => {
  it('refreshes once after a 401 and goes on', async () => {
    const { provider, grant, email } = await account();
    standin.expireAccessTokens();
    await expect(provider.verifyAccess()).resolves.toEqual({ accountEmail: email });
    expect(grant.refreshes).toBe(1);
  });

  it('gives CredentialsRejectedError when the refreshed token is refused too', async () => {
    const { provider, email } = await account();
    standin.revokeGrant(email, 'expired');
    await expect(provider.listCalendars()).rejects.toBeInstanceOf(CredentialsRejectedError);
  });
});

describe('Graph adapter: faults', () => {
  it('waits out Retry-After on 429 and then succeeds', async () => {
    const { provider } = await account();
    standin.faults.throttleRate(0.5, 1);
    const mark = standin.requests.length;
    const started = Date.now();
    await provider.listCalendars();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(requestsSince(mark).map((r) => r.status)).toEqual([429, 200]);
  });

  it('gives RateLimitedError with the provider delay when throttling persists', async () => {
    const { provider } = await account();
    standin.faults.throttleRate(1, 30);
    const error = await provider.listCalendars().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(30_000);
  });

  it('retries 5xx with backoff, then gives TransientProviderError', async () => {
    const { provider } = await account();
    standin.faults.failRate(0.5);
    await expect(provider.listCalendars()).resolves.toHaveLength(1);
    standin.faults.failRate(1);
    const mark = standin.requests.length;
    await expect(provider.listCalendars()).rejects.toBeInstanceOf(TransientProviderError);
    expect(requestsSince(mark).map((r) => r.status)).toEqual([503, 500, 503]);
  });

  it('imports 5,000 events exactly while 30% of requests are throttled or fail', async () => {
    const { provider, email, calendarId } = await account();
    const expected = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const start = new Date(window.start.getTime() + (i % 700) * HOUR + HOUR);
      expected.add(
        standin.putEvent(email, calendarId, {
          subject: `Bulk ${i}`,
          start,
          end: new Date(start.getTime() + HOUR / 2),
        }),
      );
    }
    standin.faults.maxPageSize(250);
    // 0.15 throttled, then 0.18 of the rest failing: 30% of all requests answered with an error.
    standin.faults.throttleRate(0.15, 1);
    standin.faults.failRate(0.18);
    const mark = standin.requests.length;
    const mirror = new Mirror();
    mirror.apply(await collectPages(provider, calendarId, window, null));
    expect(new Set(mirror.objects.keys())).toEqual(expected);
    expect(mirror.occurrences()).toHaveLength(5000);

    const statuses = requestsSince(mark).map((r) => r.status);
    const errors = statuses.filter((s) => s !== 200).length;
    expect(errors / statuses.length).toBeGreaterThanOrEqual(0.25);
    for (const status of [429, 500, 503]) expect(statuses).toContain(status);
  });

  it('gives CursorExpiredError for a dead delta link and for a dead next link', async () => {
    const { provider, email, calendarId } = await account();
    for (let i = 0; i < 3; i++) seed(email, calendarId, `Event ${i}`, i * 2);
    const synced = new Mirror();
    synced.apply(await collectPages(provider, calendarId, window, null));
    standin.expireDeltaTokens();
    await expect(collectPages(provider, calendarId, window, synced.cursor)).rejects.toBeInstanceOf(
      CursorExpiredError,
    );

    standin.faults.maxPageSize(1);
    const iterator = provider.fetchChanges({
      calendar: { externalId: calendarId },
      window,
      cursor: null,
      known: new Map(),
    });
    const first = await iterator[Symbol.asyncIterator]().next();
    expect(first.value?.cursor.phase).toBe('full');
    standin.expireDeltaTokens();
    await expect(collectPages(provider, calendarId, window, first.value!.cursor)).rejects.toBeInstanceOf(
      CursorExpiredError,
    );
  });

  it('applies replayed items idempotently across short pages', async () => {
    const { provider, email, calendarId } = await account();
    for (let i = 0; i < 5; i++) seed(email, calendarId, `Event ${i}`, i * 2);
    standin.faults.maxPageSize(2);
    standin.faults.replayItems(true);
    const pages = await collectPages(provider, calendarId, window, null);
    expect(pages).toHaveLength(3);
    const keys = pages.flatMap((p) => p.upserts.map((o) => o.key));
    expect(keys.length).toBeGreaterThan(new Set(keys).size);
    const mirror = new Mirror();
    mirror.apply(pages);
    expect(mirror.occurrences().map((o) => o.title)).toEqual([
      'Event 0',
      'Event 1',
      'Event 2',
      'Event 3',
      'Event 4',
    ]);
  });

  it('resumes an interrupted full round from its stored cursor, then syncs deletions incrementally', async () => {
    const { provider, email, calendarId } = await account();
    const ids = [0, 1, 2].map((i) => seed(email, calendarId, `Event ${i}`, i * 2));
    standin.faults.maxPageSize(1);
    const mirror = new Mirror();
    const iterator = provider
      .fetchChanges({ calendar: { externalId: calendarId }, window, cursor: null, known: new Map() })
      [Symbol.asyncIterator]();
    mirror.apply([(await iterator.next()).value!]);
    await iterator.return?.(undefined);
    expect(mirror.cursor).toMatchObject({ phase: 'full', nextLink: expect.any(String) });

    const rest = await collectPages(provider, calendarId, window, mirror.cursor, mirror.known());
    expect(rest.every((p) => p.full)).toBe(true);
    mirror.apply(rest, true);
    expect(mirror.objects.size).toBe(3);
    expect(mirror.cursor).toMatchObject({ phase: 'incremental', deltaLink: expect.any(String) });

    standin.deleteEvent(email, calendarId, ids[1]!);
    const changes = await collectPages(provider, calendarId, window, mirror.cursor, mirror.known());
    expect(changes.flatMap((p) => p.removed)).toEqual([ids[1]]);
    expect(changes.every((p) => !p.full)).toBe(true);
  });

  it('refuses to follow a link to another origin, without sending anything there', async () => {
    const { provider, calendarId } = await account();
    const cursor = {
      phase: 'full',
      nextLink: 'https://graph.example.net/v1.0/me/calendars/x/calendarView/delta?$skiptoken=abc',
      window: { start: window.start.toISOString(), end: window.end.toISOString() },
    };
    const mark = standin.requests.length;
    await expect(collectPages(provider, calendarId, window, cursor)).rejects.toBeInstanceOf(InvalidDataError);
    expect(requestsSince(mark)).toEqual([]);
  });
});

describe('Graph adapter: events and time zones', () => {
  it('reads Windows zone names, and reads an unknown zone as UTC with a warning', () => {
    const winter = { dateTime: '2025-01-15T09:00:00.0000000', timeZone: 'W. Europe Standard Time' };
    expect(readInstant(winter)?.instant.toISOString()).toBe('2025-01-15T08:00:00.000Z');
    const summer = { dateTime: '2025-07-15T09:00:00.0000000', timeZone: 'Pacific Standard Time' };
    expect(readInstant(summer)?.instant.toISOString()).toBe('2025-07-15T16:00:00.000Z');
    expect(
      readInstant({ dateTime: '2025-07-15T09:00:00', timeZone: 'Asia/Tokyo' })?.instant.toISOString(),
    ).toBe('2025-07-15T00:00:00.000Z');
    const odd = toSourceObject(
      {
        id: 'x',
        start: { dateTime: '2025-07-15T09:00:00.0000000', timeZone: 'Customized Time Zone' },
        end: { dateTime: '2025-07-15T10:00:00.0000000', timeZone: 'Customized Time Zone' },
      },
      { start: new Date('2025-07-01T00:00:00Z'), end: new Date('2025-08-01T00:00:00Z') },
    );
    expect(odd.occurrences[0]?.start.toISOString()).toBe('2025-07-15T09:00:00.000Z');
    expect(odd.warnings?.[0]?.kind).toBe('time-zone');
  });

  it('maps the event in its own (Windows) zone as Graph sends it without the UTC preference', async () => {
    const { email, calendarId, grant } = await account();
    const start = new Date('2026-03-29T00:30:00Z'); // the night Europe/Berlin moves to summer time
    standin.putEvent(email, calendarId, {
      subject: 'Across DST',
      start,
      end: new Date(start.getTime() + 2 * HOUR),
      timeZone: 'W. Europe Standard Time',
    });
    const response = await fetch(
      `${standin.graphUrl}/v1.0/me/calendars/${encodeURIComponent(calendarId)}/calendarView/delta?startDateTime=2026-03-28T00:00:00Z&endDateTime=2026-03-31T00:00:00Z`,
      { headers: { Authorization: `Bearer ${await grant.accessToken()}` } },
    );
    const item = ((await response.json()) as { value: GraphEvent[] }).value[0]!;
    expect(item.start).toEqual({
      dateTime: '2026-03-29T01:30:00.0000000',
      timeZone: 'W. Europe Standard Time',
    });
    const dstWindow = { start: new Date('2026-03-28T00:00:00Z'), end: new Date('2026-03-31T00:00:00Z') };
    const [occurrence] = toSourceObject(item, dstWindow).occurrences;
    expect(occurrence?.start.toISOString()).toBe(start.toISOString());
    expect(occurrence?.end.toISOString()).toBe('2026-03-29T02:30:00.000Z');
  });

  it('maps free, tentative, cancelled and all-day events', async () => {
    const { provider, email, calendarId } = await account();
    seed(email, calendarId, 'Free', 1, { showAs: 'free' });
    seed(email, calendarId, 'Maybe', 3, { showAs: 'tentative' });
    seed(email, calendarId, 'Off', 5, { isCancelled: true });
    const day = new Date(Math.floor(base / (24 * HOUR)) * 24 * HOUR + 2 * 24 * HOUR);
    standin.putEvent(email, calendarId, {
      subject: 'Holiday',
      start: day,
      end: new Date(day.getTime() + 24 * HOUR),
      isAllDay: true,
      timeZone: 'Pacific Standard Time',
    });
    const mirror = new Mirror();
    mirror.apply(await collectPages(provider, calendarId, window, null));
    const byTitle = Object.fromEntries(mirror.occurrences().map((o) => [o.title, o]));
    expect(byTitle.Free).toMatchObject({ busy: false, status: 'confirmed' });
    expect(byTitle.Maybe).toMatchObject({ busy: true, status: 'tentative' });
    expect(byTitle.Off).toBeUndefined();
    expect(mirror.objects.size).toBe(4);
    expect(byTitle.Holiday).toMatchObject({
      allDay: true,
      start: day,
      end: new Date(day.getTime() + 24 * HOUR),
    });
  });

  it('creates once per event id, marks it, invites nobody through Outlook, and updates over a stale etag', async () => {
    const { provider, email, calendarId } = await account();
    const event = {
      id: 'booking-42',
      title: 'Intro call',
      description: 'Booked through Calbridge',
      start: at(10),
      end: at(10.5),
      timeZone: 'Europe/Berlin',
      attendees: [{ name: 'Guest', email: 'guest@example.com' }],
      sequence: 0,
    };
    const calendar = { externalId: calendarId };
    const first = await provider.createEvent(calendar, event);
    const second = await provider.createEvent(calendar, event);
    expect(second.externalId).toBe(first.externalId);
    const [stored] = standin.listEvents(email, calendarId);
    expect(standin.listEvents(email, calendarId)).toHaveLength(1);
    expect(stored).toMatchObject({ subject: 'Intro call', timeZone: 'Europe/Berlin', attendees: [] });
    expect(stored?.body.content).toContain('Guest <guest@example.com>');
    expect(stored?.singleValueExtendedProperties).toEqual([
      { id: expect.stringMatching(/^String \{[0-9a-f-]{36}\} Name calbridgeId$/), value: 'booking-42' },
    ]);
    expect(stored?.start.toISOString()).toBe(at(10).toISOString());

    // Someone touched it in Outlook: our update still lands, over the newer etag.
    standin.putEvent(email, calendarId, {
      id: first.externalId,
      subject: 'Renamed',
      start: at(10),
      end: at(10.5),
    });
    const moved = await provider.updateEvent(calendar, first, {
      ...event,
      start: at(12),
      end: at(13),
      sequence: 1,
    });
    expect(moved.etag).not.toBe(first.etag);
    expect(standin.listEvents(email, calendarId)[0]).toMatchObject({ subject: 'Intro call', start: at(12) });

    await provider.deleteEvent(calendar, moved);
    await provider.deleteEvent(calendar, moved);
    expect(standin.listEvents(email, calendarId)).toEqual([]);
  });
});

describe('Graph adapter: change subscriptions', () => {
  let receiver: http.Server;
  let origin: string;
  const received: { path: string; body: { value: Record<string, unknown>[] } }[] = [];
  let answerValidation = true;

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://receiver');
      const token = url.searchParams.get('validationToken');
      if (token !== null) {
        if (!answerValidation) return void res.writeHead(500).end();
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(token);
        return;
      }
      let text = '';
      req.on('data', (chunk) => {
        text += chunk;
      });
      req.on('end', () => {
        received.push({ path: url.pathname, body: JSON.parse(text) });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    standin.deliverTo(origin);
  });
  afterAll(async () => {
    standin.deliverTo(null);
    await new Promise((resolve) => receiver.close(resolve));
  });

  const waitFor = async <T>(find: () => T | undefined): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const found = find();
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('nothing arrived');
  };

  it('subscribes after the validation handshake, is notified, renews, hears lifecycle events and stops', async () => {
    const { provider, email, calendarId } = await account();
    const push = provider.push!;
    const address = 'https://calbridge.test/v1/webhooks/microsoft';
    const channel = await push.subscribe({ externalId: calendarId }, { address, token: 'secret-state' });
    const [subscription] = standin.subscriptions().filter((s) => s.id === channel.channelId);
    expect(subscription).toMatchObject({
      resource: `/me/calendars/${encodeURIComponent(calendarId)}/events`,
      notificationUrl: address,
      lifecycleNotificationUrl: address,
      clientState: 'secret-state',
    });
    const lifetime = channel.expiresAt.getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(2.9 * 24 * HOUR);
    expect(lifetime).toBeLessThanOrEqual(10_080 * 60_000);
    expect(
      standin.deliveries().filter((d) => d.subscriptionId === channel.channelId && d.kind === 'validation'),
    ).toHaveLength(2);

    const eventId = seed(email, calendarId, 'Pushed', 4);
    const notification = await waitFor(() =>
      received.find(
        (r) => r.body.value[0]?.subscriptionId === channel.channelId && r.body.value[0]?.changeType,
      ),
    );
    expect(notification.path).toBe('/v1/webhooks/microsoft');
    expect(notification.body.value[0]).toMatchObject({
      changeType: 'created',
      clientState: 'secret-state',
      resourceData: { id: eventId },
    });

    await standin.sendLifecycle(channel.channelId, 'reauthorizationRequired');
    const lifecycle = received.find((r) => r.body.value[0]?.lifecycleEvent === 'reauthorizationRequired');
    expect(lifecycle?.body.value[0]).toMatchObject({
      subscriptionId: channel.channelId,
      clientState: 'secret-state',
    });

    const renewed = await push.renew({ externalId: calendarId }, channel, { address, token: 'secret-state' });
    expect(renewed.channelId).toBe(channel.channelId);
    expect(renewed.expiresAt.getTime()).toBeGreaterThanOrEqual(channel.expiresAt.getTime());
    expect(standin.requests.at(-1)).toMatchObject({ method: 'PATCH', status: 200 });

    // Graph dropped it: renewing subscribes anew at the same address.
    await standin.sendLifecycle(channel.channelId, 'subscriptionRemoved');
    const replaced = await push.renew({ externalId: calendarId }, renewed, {
      address,
      token: 'secret-state',
    });
    expect(replaced.channelId).not.toBe(channel.channelId);
    expect(standin.subscriptions().find((s) => s.id === replaced.channelId)?.notificationUrl).toBe(address);

    await push.stop(replaced);
    await push.stop(replaced);
    expect(standin.subscriptions().find((s) => s.id === replaced.channelId)).toBeUndefined();
  });

  it('fails to subscribe when the webhook does not answer the validation request', async () => {
    const { provider, calendarId } = await account();
    answerValidation = false;
    try {
      await expect(
        provider.push!.subscribe(
          { externalId: calendarId },
          { address: 'https://calbridge.test/v1/webhooks/microsoft', token: 't' },
        ),
      ).rejects.toBeInstanceOf(InvalidDataError);
    } finally {
      answerValidation = true;
    }
  });
});
