/**
 * The Google adapter and OAuth module beyond the conformance suite, with the real googleapis and
 * google-auth-library clients against the stand-in: consent and code exchange, refresh and
 * revocation, token expiry mid-listing, series instances, all-day and free events, incremental
 * removals, expired sync tokens, short and empty pages, idempotent writes, throttling and 5xx
 * during a large import, and watch channels with their deliveries.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { google } from 'googleapis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundEvent, TimeWindow } from '../../domain/calendar.ts';
import type { CalendarProvider, ProviderContext } from '../../providers/contract.ts';
import {
  CredentialsRejectedError,
  CursorExpiredError,
  NotFoundError,
  ProviderUnreachableError,
  RateLimitedError,
  ReadOnlyError,
  TransientProviderError,
} from '../../providers/errors.ts';
import { createGoogleProvider } from '../../providers/google/adapter.ts';
import { googleModule } from '../../providers/google/module.ts';
import { googleOAuth } from '../../providers/google/oauth.ts';
import type { GrantAccess } from '../../providers/oauth.ts';
import {
  consentCode,
  linkAccount,
  MemoryGrant,
  pkcePair,
  standinSettings,
} from '../standins/google/grant.ts';
import { type GoogleStandin, startGoogleStandin } from '../standins/google/server.ts';
import { collectPages, Mirror } from './conformance.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FAST_RETRIES = { attempts: 8, baseMs: 2, capMs: 20 };

let standin: GoogleStandin;
let accounts = 0;
// Whole hours, well inside the window, independent of the clock.
const base = Math.ceil((Date.now() + 3 * DAY) / DAY) * DAY;
const at = (hours: number) => new Date(base + hours * HOUR);
const window: TimeWindow = { start: new Date(base - 5 * DAY), end: new Date(base + 30 * DAY) };

beforeAll(async () => {
  standin = await startGoogleStandin();
});
afterAll(async () => {
  await standin?.close();
});
afterEach(() => {
  standin.faults.clear();
});

function context(apiUrl = standin.url): ProviderContext {
  return {
    requestTimeoutMs: 5000,
    userAgent: 'Calbridge-test/1.0',
    apiUrls: { google: apiUrl, microsoftGraph: 'http://127.0.0.1:9' },
  };
}

const adapter = (grant: GrantAccess, apiUrl?: string) =>
  createGoogleProvider({ provider: 'google', serverUrl: null, credentials: {}, grant }, context(apiUrl), {
    retry: FAST_RETRIES,
  });

/** A fresh linked account: its e-mail (= primary calendar id), grant and adapter. */
async function linked(calendars?: Parameters<GoogleStandin['addAccount']>[0]['calendars']) {
  const email = `user-${++accounts}@example.com`;
  standin.addAccount({ email, ...(calendars ? { calendars } : {}) });
  const link = await linkAccount(standin, email);
  const grant = new MemoryGrant(standinSettings(standin), link.credentials);
  return { email, link, grant, provider: adapter(grant) };
}

async function fullSync(provider: CalendarProvider, calendarId: string, mirror = new Mirror()) {
  mirror.apply(await collectPages(provider, calendarId, window, null, mirror.known()));
  return mirror;
}

async function incrementalSync(provider: CalendarProvider, calendarId: string, mirror: Mirror) {
  const pages = await collectPages(provider, calendarId, window, mirror.cursor, mirror.known());
  mirror.apply(pages);
  return pages;
}

const tokenRequests = () => standin.requests.filter((r) => r.path === '/token').length;

describe('Google OAuth module', () => {
  it('builds the consent URL with offline access, PKCE S256, state and login hint', async () => {
    const url = new URL(
      await googleOAuth.authorizationUrl(standinSettings(standin), {
        state: 'state-1',
        codeChallenge: 'challenge-1',
        loginHint: 'ada@example.com',
      }),
    );
    expect(url.origin + url.pathname).toBe(`${standin.url}/o/oauth2/v2/auth`);
    const q = url.searchParams;
    expect(q.get('access_type')).toBe('offline');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toBe('challenge-1');
    expect(q.get('state')).toBe('state-1');
    expect(q.get('login_hint')).toBe('ada@example.com');
    expect(q.get('scope')?.split(' ')).toEqual([
      'openid',
      'email',
      'https://www.googleapis.com/auth/calendar',
    ]);
    expect(q.has('prompt')).toBe(false);
    const forced = new URL(
      await googleOAuth.authorizationUrl(standinSettings(standin), {
        state: 's',
        codeChallenge: 'c',
        forceConsent: true,
      }),
    );
    expect(forced.searchParams.get('prompt')).toBe('consent');
  });

  it('exchanges a code for a grant and learns the account from the verified id_token', async () => {
    const email = `oauth-${++accounts}@example.com`;
    const { sub } = standin.addAccount({ email });
    const { codeVerifier, codeChallenge } = pkcePair();
    const { code, state } = await consentCode(standin, email, { state: 'my-state', codeChallenge });
    expect(state).toBe('my-state');

    const link = await googleOAuth.exchangeCode(standinSettings(standin), { code, codeVerifier });
    expect(link.accountId).toBe(sub);
    expect(link.accountEmail).toBe(email);
    expect(typeof link.credentials.refreshToken).toBe('string');
    expect(Date.parse(link.credentials.expiresAt)).toBeGreaterThan(Date.now() + 50 * 60_000);

    // The code is single-use.
    await expect(
      googleOAuth.exchangeCode(standinSettings(standin), { code, codeVerifier }),
    ).rejects.toBeInstanceOf(CredentialsRejectedError);
  });

  it('rejects a code presented with the wrong PKCE verifier', async () => {
    const email = `oauth-${++accounts}@example.com`;
    standin.addAccount({ email });
    const { codeChallenge } = pkcePair();
    const { code } = await consentCode(standin, email, { codeChallenge });
    await expect(
      googleOAuth.exchangeCode(standinSettings(standin), { code, codeVerifier: pkcePair().codeVerifier }),
    ).rejects.toBeInstanceOf(CredentialsRejectedError);
  });

  it('asks for consent again when Google grants no refresh token, and gets one with prompt=consent', async () => {
    const email = `oauth-${++accounts}@example.com`;
    standin.addAccount({ email });
    await linkAccount(standin, email);
    await expect(linkAccount(standin, email)).rejects.toThrow(/consent/);
    const forced = await linkAccount(standin, email, { forceConsent: true });
    expect(typeof forced.credentials.refreshToken).toBe('string');
  });

  it('relays a denied consent to the redirect URI with the state', async () => {
    standin.denyConsent();
    const url = await googleOAuth.authorizationUrl(standinSettings(standin), {
      state: 'denied-state',
      codeChallenge: pkcePair().codeChallenge,
    });
    const response = await fetch(url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location') ?? '');
    expect(response.status).toBe(302);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('denied-state');
  });

  it('refreshes, keeping the refresh token; a revoked grant is CredentialsRejectedError for refresh and adapter', async () => {
    const { email, link, grant, provider } = await linked();
    const refreshed = await googleOAuth.refresh(standinSettings(standin), link.credentials);
    expect(refreshed.accessToken).not.toBe(link.credentials.accessToken);
    expect(refreshed.refreshToken).toBe(link.credentials.refreshToken);
    await expect(provider.verifyAccess()).resolves.toEqual({ accountEmail: email });

    standin.revokeGrant(email);
    const refresh = googleOAuth.refresh(standinSettings(standin), link.credentials);
    await expect(refresh).rejects.toBeInstanceOf(CredentialsRejectedError);
    await expect(refresh).rejects.toThrow('Google access was revoked or expired: reconnect');
    await expect(provider.verifyAccess()).rejects.toBeInstanceOf(CredentialsRejectedError);
    expect(grant.refreshes).toBe(0);
  });

  it('revokes the grant at Google, and revoking it again succeeds', async () => {
    const { link } = await linkedPlain();
    await googleOAuth.revoke(standinSettings(standin), link.credentials);
    expect(standin.revokedTokens()).toContain(link.credentials.refreshToken);
    await expect(googleOAuth.refresh(standinSettings(standin), link.credentials)).rejects.toBeInstanceOf(
      CredentialsRejectedError,
    );
    await expect(googleOAuth.revoke(standinSettings(standin), link.credentials)).resolves.toBeUndefined();
  });

  it('reads its settings from configuration, null without a client', () => {
    const config = {
      GOOGLE_CLIENT_ID: 'id',
      GOOGLE_CLIENT_SECRET: 'secret',
      PUBLIC_URL: 'https://calbridge.example',
      GOOGLE_OAUTH_URL: undefined,
      GOOGLE_API_URL: 'https://www.googleapis.com',
      PROVIDER_TIMEOUT_SECONDS: 15,
    } as unknown as Parameters<typeof googleOAuth.settings>[0];
    expect(googleOAuth.settings(config)).toEqual({
      clientId: 'id',
      clientSecret: 'secret',
      redirectUri: 'https://calbridge.example/v1/oauth/google/callback',
      authorityUrl: null,
      apiUrl: 'https://www.googleapis.com',
      requestTimeoutMs: 15_000,
    });
    expect(googleOAuth.settings({ ...config, GOOGLE_CLIENT_SECRET: undefined })).toBeNull();
  });
});

async function linkedPlain() {
  const email = `plain-${++accounts}@example.com`;
  standin.addAccount({ email });
  return { email, link: await linkAccount(standin, email) };
}

describe('Google adapter: reading', () => {
  it('refreshes an access token that expires mid-listing once, and lists everything', async () => {
    const { email, grant, provider } = await linked();
    for (let i = 0; i < 60; i++)
      standin.putEvent(email, email, { summary: `E${i}`, start: at(i), end: at(i + 1) });
    standin.faults.maxPageSize(10);
    const before = tokenRequests();
    const pages = [];
    for await (const page of provider.fetchChanges({
      calendar: { externalId: email },
      window,
      cursor: null,
      known: new Map(),
    })) {
      pages.push(page);
      if (pages.length === 2) standin.expireAccessTokens();
    }
    expect(pages).toHaveLength(6);
    const mirror = new Mirror();
    mirror.apply(pages);
    expect(mirror.occurrences()).toHaveLength(60);
    expect(tokenRequests() - before).toBe(1);
    expect(grant.refreshes).toBe(1);
  });

  it('expands a series into instances, each its own object, EXDATE applied', async () => {
    const { email, provider } = await linked();
    const id = standin.putEvent(email, email, {
      summary: 'Weekly',
      start: at(10),
      end: at(11),
      timeZone: 'Europe/Berlin',
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=10', `EXDATE:${basicUtc(at(10 + 7 * 24))}`],
    });
    const mirror = await fullSync(provider, email);
    // Window: 30 days ahead of base → weeks 0..4 minus the excluded week 1.
    const starts = mirror.occurrences().map((o) => o.start.toISOString());
    expect(starts).toEqual([0, 2, 3, 4].map((week) => at(10 + week * 7 * 24).toISOString()));
    expect([...mirror.objects.keys()].every((key) => key.startsWith(`${id}_`))).toBe(true);
    expect(mirror.occurrences()[0]?.occurrenceKey).toBe(at(10).toISOString());
  });

  it('reads free, tentative and all-day events', async () => {
    const { email, provider } = await linked();
    standin.putEvent(email, email, {
      summary: 'Free',
      start: at(1),
      end: at(2),
      transparency: 'transparent',
    });
    standin.putEvent(email, email, { summary: 'Maybe', start: at(3), end: at(4), status: 'tentative' });
    const day = new Date(base + 2 * DAY).toISOString().slice(0, 10);
    const next = new Date(base + 3 * DAY).toISOString().slice(0, 10);
    standin.putEvent(email, email, { summary: 'Holiday', start: { date: day }, end: { date: next } });
    const byTitle = new Map((await fullSync(provider, email)).occurrences().map((o) => [o.title, o]));
    expect(byTitle.get('Free')?.busy).toBe(false);
    expect(byTitle.get('Maybe')).toMatchObject({ busy: true, status: 'tentative' });
    expect(byTitle.get('Holiday')).toMatchObject({ allDay: true, busy: true });
    expect(byTitle.get('Holiday')?.start.toISOString()).toBe(`${day}T00:00:00.000Z`);
    expect(byTitle.get('Holiday')?.end.toISOString()).toBe(`${next}T00:00:00.000Z`);
  });

  it('removes deleted events and whole deleted series in an incremental sync', async () => {
    const { email, provider } = await linked();
    const single = standin.putEvent(email, email, { summary: 'Single', start: at(1), end: at(2) });
    const series = standin.putEvent(email, email, {
      summary: 'Daily',
      start: at(5),
      end: at(6),
      recurrence: ['RRULE:FREQ=DAILY;COUNT=5'],
    });
    standin.putEvent(email, email, { summary: 'Stays', start: at(3), end: at(4) });
    const mirror = await fullSync(provider, email);
    expect(mirror.occurrences()).toHaveLength(7);

    standin.deleteEvent(email, email, single);
    standin.deleteEvent(email, email, series);
    const pages = await incrementalSync(provider, email, mirror);
    expect(pages.every((p) => !p.full)).toBe(true);
    const removed = pages.flatMap((p) => p.removed);
    expect(removed).toContain(single);
    expect(new Set(removed.filter((key) => key.startsWith(`${series}_`))).size).toBe(5);
    expect(mirror.occurrences().map((o) => o.title)).toEqual(['Stays']);
  });

  it('turns an expired sync token into CursorExpiredError', async () => {
    const { email, provider } = await linked();
    standin.putEvent(email, email, { summary: 'A', start: at(1), end: at(2) });
    const mirror = await fullSync(provider, email);
    standin.expireSyncTokens();
    await expect(incrementalSync(provider, email, mirror)).rejects.toBeInstanceOf(CursorExpiredError);
  });

  it('follows short and empty pages, resuming a full listing from a stored cursor', async () => {
    const { email, provider } = await linked();
    for (let i = 0; i < 10; i++)
      standin.putEvent(email, email, { summary: `E${i}`, start: at(i), end: at(i + 1) });
    standin.faults.maxPageSize(3);
    standin.faults.emptyPages(2);
    const pages = await collectPages(provider, email, window, null);
    expect(pages.slice(0, 2).map((p) => [p.upserts.length, p.complete])).toEqual([
      [0, false],
      [0, false],
    ]);
    expect(pages.map((p) => p.upserts.length)).toEqual([0, 0, 3, 3, 3, 1]);
    expect(pages.at(-1)?.complete).toBe(true);

    // A consumer that stopped after the third page resumes with its cursor.
    const resumed = new Mirror();
    resumed.apply(pages.slice(0, 3));
    expect(resumed.cursor).toMatchObject({ phase: 'full' });
    resumed.apply(await collectPages(provider, email, window, resumed.cursor, resumed.known()), true);
    expect(resumed.occurrences()).toHaveLength(10);
    expect(resumed.cursor).toMatchObject({ phase: 'incremental' });
  });

  it('turns a stored page position Google no longer accepts into CursorExpiredError', async () => {
    const { email, provider } = await linked();
    const stale = {
      phase: 'full',
      pageToken: 'expired-page-token',
      timeMin: window.start.toISOString(),
      timeMax: window.end.toISOString(),
    };
    await expect(collectPages(provider, email, window, stale)).rejects.toBeInstanceOf(CursorExpiredError);
  });

  it('lists calendars with access levels, leaving out free/busy-only shares', async () => {
    const { provider } = await linked([
      { summary: 'Mine', primary: true },
      { id: 'team@group.calendar.google.com', summary: 'Team', accessRole: 'reader' },
      { id: 'boss@example.com', summary: 'Boss', accessRole: 'freeBusyReader' },
    ]);
    const calendars = await provider.listCalendars();
    expect(calendars.map((c) => [c.name, c.readOnly, c.providerPrimary])).toEqual([
      ['Mine', false, true],
      ['Team', true, false],
    ]);
    await expect(
      provider.createEvent({ externalId: 'team@group.calendar.google.com' }, outbound('ro', 1)),
    ).rejects.toBeInstanceOf(ReadOnlyError);
    await expect(collectPages(provider, 'nobody@example.com', window, null)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

const outbound = (id: string, startHour: number, sequence = 0): OutboundEvent => ({
  id,
  title: 'Booking with Grace',
  description: 'Booked through Calbridge',
  start: at(startHour),
  end: at(startHour + 0.5),
  timeZone: 'Europe/Berlin',
  location: 'Room 1',
  organizer: { name: 'Ada', email: 'ada@example.com' },
  attendees: [{ name: 'Grace', email: 'grace@example.com' }],
  sequence,
});

describe('Google adapter: writing', () => {
  it('creates idempotently under a derived id, with our marker, the attendee and no Google invitations', async () => {
    const { email, provider } = await linked();
    const ourId = '0b9d7c1e-5d2a-4f7b-9b8e-3f2a1c4d5e6f';
    const first = await provider.createEvent({ externalId: email }, outbound(ourId, 5));
    const second = await provider.createEvent({ externalId: email }, outbound(ourId, 5));
    expect(second).toEqual(first);
    expect(first.externalId).toMatch(/^[a-v0-9]{5,1024}$/);

    const stored = standin.listEvents(email, email);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      id: first.externalId,
      summary: 'Booking with Grace',
      description: 'Booked through Calbridge',
      location: 'Room 1',
      sendUpdates: 'none',
      extendedProperties: { private: { calbridgeId: ourId } },
      attendees: [{ email: 'grace@example.com', displayName: 'Grace' }],
      start: { timeZone: 'Europe/Berlin' },
    });
    const mine = (await fullSync(provider, email)).occurrences();
    expect(mine.map((o) => [o.calbridgeId, o.start.toISOString()])).toEqual([[ourId, at(5).toISOString()]]);
  });

  it('updates by patch without invitations, and deletes (twice is fine)', async () => {
    const { email, provider } = await linked();
    const ref = await provider.createEvent({ externalId: email }, outbound('c0ffee00', 5));
    const moved = await provider.updateEvent({ externalId: email }, ref, outbound('c0ffee00', 9, 1));
    expect(moved.externalId).toBe(ref.externalId);
    expect(moved.etag).not.toBe(ref.etag);
    expect(standin.listEvents(email, email)[0]).toMatchObject({ sequence: 1, sendUpdates: 'none' });

    await provider.deleteEvent({ externalId: email }, moved);
    expect(standin.listEvents(email, email)[0]?.status).toBe('cancelled');
    await expect(provider.deleteEvent({ externalId: email }, moved)).resolves.toBeUndefined();
    await expect(
      provider.deleteEvent({ externalId: email }, { externalId: 'neverexisted', etag: null }),
    ).resolves.toBeUndefined();
    await expect(
      provider.updateEvent({ externalId: email }, moved, outbound('c0ffee00', 9, 2)),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('Google adapter: failures', () => {
  it('imports 5,000 events exactly while 30% of requests are throttled or fail', async () => {
    const { email, provider } = await linked();
    const expected = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const start = new Date(window.start.getTime() + (i % 700) * HOUR + HOUR);
      expected.add(
        standin.putEvent(email, email, {
          summary: `Bulk ${i}`,
          start,
          end: new Date(start.getTime() + HOUR / 2),
        }),
      );
    }
    standin.faults.maxPageSize(250);
    standin.faults.failRate(0.3);
    const seen = standin.requests.length;
    const mirror = await fullSync(provider, email);
    expect(new Set(mirror.objects.keys())).toEqual(expected);
    expect(mirror.occurrences()).toHaveLength(5000);

    const statuses = standin.requests.slice(seen).map((r) => r.status);
    const count = (status: number) => statuses.filter((s) => s === status).length;
    expect(count(429)).toBeGreaterThan(0);
    expect(count(403)).toBeGreaterThan(0);
    expect(count(500) + count(503)).toBeGreaterThan(0);
  });

  it('gives up with RateLimitedError or TransientProviderError once the retries are spent', async () => {
    const { email, provider } = await linked();
    standin.faults.failRate(1, ['429']);
    await expect(provider.listCalendars()).rejects.toBeInstanceOf(RateLimitedError);
    standin.faults.failRate(1, ['403-rate']);
    await expect(provider.verifyAccess()).rejects.toBeInstanceOf(RateLimitedError);
    standin.faults.failRate(1, ['503']);
    await expect(collectPages(provider, email, window, null)).rejects.toBeInstanceOf(TransientProviderError);
  });

  it('reports an unreachable API as ProviderUnreachableError', async () => {
    const { grant } = await linked();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    await expect(adapter(grant, url).verifyAccess()).rejects.toBeInstanceOf(ProviderUnreachableError);
  });
});

describe('Google adapter: push', () => {
  let receiver: Server;
  let receiverUrl: string;
  const received: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      received.push(req.headers);
      req.resume();
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  const deliveries = (channelId: string) => received.filter((h) => h['x-goog-channel-id'] === channelId);
  const waitFor = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(check()).toBe(true);
  };

  it('watches a calendar (sync, then exists on a change), renews by re-watching, and stops', async () => {
    const { email, provider } = await linked();
    const push = provider.push!;
    const address = `${receiverUrl}/v1/webhooks/google`;
    const channel = await push.subscribe({ externalId: email }, { address, token: 'token-1' });
    expect(channel.expiresAt.getTime()).toBeGreaterThan(Date.now() + 6 * DAY);
    await waitFor(() => deliveries(channel.channelId).length === 1);
    expect(deliveries(channel.channelId)[0]).toMatchObject({
      'x-goog-resource-state': 'sync',
      'x-goog-message-number': '1',
      'x-goog-channel-token': 'token-1',
      'x-goog-resource-id': channel.resourceId,
    });

    standin.putEvent(email, email, { summary: 'Change', start: at(1), end: at(2) });
    await waitFor(() => deliveries(channel.channelId).length === 2);
    expect(deliveries(channel.channelId)[1]).toMatchObject({
      'x-goog-resource-state': 'exists',
      'x-goog-message-number': '2',
    });

    const renewed = await push.renew({ externalId: email }, channel, { address, token: 'token-2' });
    expect(renewed.channelId).not.toBe(channel.channelId);
    expect(standin.channels().map((c) => [c.id, c.token, c.address])).toEqual([
      [renewed.channelId, 'token-2', address],
    ]);

    await push.stop(renewed);
    expect(standin.channels()).toEqual([]);
    // Stopping a channel that is gone already succeeds.
    await expect(push.stop(renewed)).resolves.toBeUndefined();
  });
});

function basicUtc(instant: Date): string {
  return instant
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

describe('Google module and stand-in', () => {
  it('declares an OAuth provider whose connect body takes only an optional http(s) redirect URI', () => {
    expect(googleModule.kind).toBe('google');
    expect(googleModule.oauth).toBe(googleOAuth);
    expect(googleModule.toStored).toBeUndefined();
    expect(googleModule.connectBody.safeParse({}).success).toBe(true);
    expect(googleModule.connectBody.safeParse({ redirectUri: 'https://app.example/done' }).success).toBe(
      true,
    );
    expect(googleModule.connectBody.safeParse({ redirectUri: 'javascript:alert(1)' }).success).toBe(false);
    expect(
      googleModule.connectBody.safeParse({ redirectUri: `https://a.example/${'x'.repeat(2048)}` }).success,
    ).toBe(false);
  });

  it('answers as Google does where the adapter relies on it', async () => {
    const { email, link } = await linkedPlain();
    const calendar = google.calendar({ version: 'v3', rootUrl: `${standin.url}/`, retry: false });
    const auth = { headers: { Authorization: `Bearer ${link.credentials.accessToken}` } };
    const reason = async (request: Promise<unknown>) => {
      const error = (await request.then(
        () => null,
        (e: unknown) => e,
      )) as { status?: number; response?: { data?: { error?: { errors?: { reason?: string }[] } } } } | null;
      return [error?.status, error?.response?.data?.error?.errors?.[0]?.reason];
    };
    for (let i = 0; i < 3; i++) standin.putEvent(email, email, { start: at(i), end: at(i + 1) });

    const first = await calendar.events.list({ calendarId: email, maxResults: 2, singleEvents: true }, auth);
    expect(first.data.nextPageToken).toBeTruthy();
    expect(first.data.nextSyncToken).toBeUndefined();
    const last = await calendar.events.list(
      { calendarId: email, maxResults: 2, singleEvents: true, pageToken: first.data.nextPageToken ?? '' },
      auth,
    );
    expect(last.data.nextPageToken).toBeUndefined();
    expect(last.data.nextSyncToken).toBeTruthy();

    const syncToken = last.data.nextSyncToken ?? '';
    expect(
      await reason(
        calendar.events.list({ calendarId: email, syncToken, timeMin: new Date().toISOString() }, auth),
      ),
    ).toEqual([400, 'syncTokenWithRequestRestrictions']);
    const event = { start: { dateTime: at(1).toISOString() }, end: { dateTime: at(2).toISOString() } };
    expect(
      await reason(
        calendar.events.insert({ calendarId: email, requestBody: { id: 'Not-Base32', ...event } }, auth),
      ),
    ).toEqual([400, 'invalid']);
    await calendar.events.insert({ calendarId: email, requestBody: { id: 'abcde12345', ...event } }, auth);
    expect(
      await reason(
        calendar.events.insert({ calendarId: email, requestBody: { id: 'abcde12345', ...event } }, auth),
      ),
    ).toEqual([409, 'duplicate']);
    await calendar.events.delete({ calendarId: email, eventId: 'abcde12345' }, auth);
    expect(await reason(calendar.events.delete({ calendarId: email, eventId: 'abcde12345' }, auth))).toEqual([
      410,
      'deleted',
    ]);
    expect(
      await reason(calendar.calendarList.list({}, { headers: { Authorization: 'Bearer ya29.forged' } })),
    ).toEqual([401, 'authError']);
  });
});
