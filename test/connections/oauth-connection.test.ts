/**
 * Google and Microsoft 365 end to end through the HTTP API, against the stand-ins driven by the real
 * googleapis / msal-node clients: connect through the OAuth redirect (a replayed or forged state is
 * refused) → calendars → Save → import → a change arrives by push within 2 s → cursor expiry → exact
 * full resync → grant revoked → needs_reauth and one e-mail → reconnect → resumes without duplicates →
 * a booking writes exactly one invite → removal stops the channels and revokes. Then: no secret in
 * any workflow history or log line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsAad } from '../../connections/credentials.ts';
import { decryptJson } from '../../platform/crypto.ts';
import { statusQuery } from '../../workflows/connection.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { type StandinDriver, startStandinDriver } from '../standins/drivers.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const drivers: [string, () => Promise<StandinDriver>][] = [
  ['google', () => startStandinDriver('google')],
  ['microsoft', () => startStandinDriver('microsoft')],
];

describe.each(drivers)('%s connection end to end', (_name, makeDriver) => {
  let driver: StandinDriver;
  let platform: Platform;
  const logLines: string[] = [];

  beforeAll(async () => {
    driver = await makeDriver();
    platform = await startPlatform({
      env: {
        ...driver.env,
        // https, as providers require for push (PUSH_NOTIFICATIONS=auto turns it on); the stand-ins
        // deliver to the test API's own origin instead (deliverTo).
        PUBLIC_URL: 'https://calbridge.test',
        // Polls far apart: a change seen within seconds came by push.
        CALDAV_POLL_SECONDS: '3600',
      },
      logLines,
    });
    driver.deliverTo(platform.apiUrl);
  });
  afterAll(async () => {
    await platform?.stop();
    await driver?.close();
  });

  /** Follows the consent page to our callback, as a browser would; returns the callback response. */
  async function consent(authorizationUrl: string, email: string) {
    driver.consentAs(email);
    const atProvider = await fetch(authorizationUrl, { redirect: 'manual' });
    expect(atProvider.status).toBe(302);
    const callback = new URL(atProvider.headers.get('location')!);
    expect(callback.pathname).toBe(`/v1/oauth/${driver.provider}/callback`);
    const local = `${callback.pathname}${callback.search}`;
    const res = await fetch(`${platform.apiUrl}${local}`, { redirect: 'manual' });
    const text = await res.text();
    return {
      local,
      response: { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null },
    };
  }

  const eventCount = async (token: string, id: string) =>
    (await platform.request('GET', `/v1/connections/${id}/events?limit=500`, { token })).body.items
      .length as number;
  const connectionOf = async (token: string, id: string) =>
    (await platform.request('GET', `/v1/connections/${id}`, { token })).body;

  it('links, imports, follows pushes, resyncs, survives a revoked grant, books and is removed cleanly', async () => {
    const email = `ada-${Date.now().toString(36)}@example.com`;
    const calendarId = driver.addAccount(email);
    const base = Math.ceil(Date.now() / DAY) * DAY + 10 * DAY;
    for (let i = 0; i < 3; i++) driver.putEvent(email, calendarId, `Seed ${i}`, new Date(base + i * DAY));
    const user = await platform.createUser({ timeZone: 'UTC' });

    // Connect: pending, then consent, then the callback redirects back to the app.
    const created = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: driver.provider, redirectUri: 'https://app.example/connected' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ status: 'pending_authorization', accountEmail: null });
    const id = created.body.id as string;
    const { local, response } = await consent(created.body.authorizationUrl, email);
    expect(response.status, JSON.stringify(response.body)).toBe(303);
    const back = new URL(response.headers.get('location')!);
    expect(back.origin + back.pathname).toBe('https://app.example/connected');
    expect(back.searchParams.get('connectionId')).toBe(id);

    // The same callback again, and a forged state: refused, and nothing changes.
    const replayed = await platform.request('GET', local);
    expect(replayed.status).toBe(400);
    expect(replayed.body.error.code).toBe('invalid_oauth_state');
    const forged = new URL(local, platform.apiUrl);
    forged.searchParams.set('state', 'forged-state-value');
    expect((await platform.request('GET', `${forged.pathname}${forged.search}`)).status).toBe(400);

    const linked = await connectionOf(user.token, id);
    expect(linked).toMatchObject({ status: 'awaiting_selection', accountEmail: email });
    const calendar = linked.calendars[0];
    expect(calendar).toMatchObject({ readOnly: false });

    // The same account linked twice: 409, and the second attempt leaves nothing behind.
    const again = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: driver.provider },
    });
    const second = await consent(again.body.authorizationUrl, email);
    expect(second.response.status).toBe(409);
    expect(second.response.body.error.code).toBe('already_exists');
    await eventually(async () => (await connectionOf(user.token, again.body.id)).status === 'removed', {
      what: 'the duplicate link to be dropped',
    });

    // Save → import → active, with a push channel on the calendar.
    const saved = await platform.request('PUT', `/v1/connections/${id}/calendars`, {
      token: user.token,
      body: {
        calendars: [{ id: calendar.id, importForAvailability: true }],
        primaryCalendarId: calendar.id,
      },
    });
    expect(saved.status).toBe(200);
    await eventually(async () => (await connectionOf(user.token, id)).status === 'active', {
      what: 'the first import',
    });
    expect(await eventCount(user.token, id)).toBe(3);
    await eventually(async () => driver.channels() === 1, { what: 'a push channel' });

    // A change at the provider arrives by push, within 2 s.
    const pushedAt = Date.now();
    driver.putEvent(email, calendarId, 'Pushed', new Date(base + 5 * DAY));
    await eventually(async () => (await eventCount(user.token, id)) === 4, {
      what: 'the pushed change',
      intervalMs: 50,
      timeoutMs: 10_000,
    });
    expect(Date.now() - pushedAt).toBeLessThan(2000);

    // A forged notification changes nothing: no pass runs for it.
    const handle = platform.temporal.workflow.getHandle(created.body.workflowId);
    const passes = (await handle.query(statusQuery)).passes;
    if (driver.provider === 'google') {
      const forgedPush = await fetch(`${platform.apiUrl}/v1/webhooks/google`, {
        method: 'POST',
        headers: {
          'x-goog-channel-id': 'not-ours',
          'x-goog-channel-token': 'guess',
          'x-goog-resource-state': 'exists',
        },
      });
      expect(forgedPush.status).toBe(200);
    } else {
      const forgedPush = await platform.request('POST', '/v1/webhooks/microsoft', {
        body: { value: [{ subscriptionId: 'not-ours', clientState: 'guess', changeType: 'updated' }] },
      });
      expect(forgedPush.status).toBe(202);
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect((await handle.query(statusQuery)).passes).toBe(passes);

    // A burst of twenty changes, each notified on its own, costs a few passes (2–3 seen), not twenty.
    for (let i = 0; i < 20; i++)
      driver.putEvent(email, calendarId, `Burst ${i}`, new Date(base + 8 * DAY + i * HOUR));
    await eventually(async () => (await eventCount(user.token, id)) === 24, {
      what: 'the burst',
      intervalMs: 50,
    });
    await new Promise((r) => setTimeout(r, 500));
    expect((await handle.query(statusQuery)).passes - passes).toBeLessThanOrEqual(5);

    // The cursor expires: the next change makes a clean full resync with the exact count.
    driver.expireCursors();
    driver.putEvent(email, calendarId, 'After expiry', new Date(base + 6 * DAY));
    await eventually(async () => (await eventCount(user.token, id)) === 25, { what: 'the full resync' });

    // The grant is revoked: needs_reauth and exactly one e-mail.
    driver.revokeGrant(email);
    driver.putEvent(email, calendarId, 'While revoked', new Date(base + 7 * DAY));
    await eventually(async () => (await connectionOf(user.token, id)).status === 'needs_reauth', {
      what: 'needs_reauth',
    });
    const notices = async () =>
      (
        await platform.orm.em
          .fork()
          .execute<{ n: number }[]>(
            "select count(*)::int as n from email_outbox where to_address = ? and subject ilike '%reconnect%'",
            [user.id],
          )
      )[0]!.n;
    await eventually(async () => (await notices()) === 1, { what: 'the reconnect e-mail' });
    expect(await eventCount(user.token, id)).toBe(25);

    // Reconnect: the dead grant needs consent again; after it the run resumes, without duplicates.
    const reconnect = await platform.request('POST', `/v1/connections/${id}/reconnect`, {
      token: user.token,
      body: { provider: driver.provider },
    });
    expect(reconnect.status).toBe(200);
    expect(reconnect.body.status).toBe('needs_reauth');
    const reconsent = await consent(reconnect.body.authorizationUrl, email);
    expect(reconsent.response.status, JSON.stringify(reconsent.response.body)).toBe(200);
    await eventually(
      async () =>
        (await connectionOf(user.token, id)).status === 'active' && (await eventCount(user.token, id)) === 26,
      { what: 'the resumed sync' },
    );
    // While the grant works, reconnecting resumes at once, with no consent (the body may be {}).
    const resumed = await platform.request('POST', `/v1/connections/${id}/reconnect`, {
      token: user.token,
      body: {},
    });
    expect(resumed.status).toBe(200);
    expect(resumed.body.authorizationUrl).toBeUndefined();
    expect(await notices()).toBe(1);

    // A booking writes exactly one invite into the primary calendar.
    const slug = `oauth-${driver.provider}-${Date.now().toString(36)}`;
    const made = await platform.request('POST', '/v1/booking-calendars', {
      token: user.token,
      body: { slug, name: 'Consultation', type: 'simple', hosts: [user.id], durationMinutes: 30 },
    });
    expect(made.status).toBe(201);
    const from = new Date();
    const slots = await platform.request(
      'GET',
      `/v1/booking-calendars/${slug}/slots?from=${from.toISOString()}&to=${new Date(from.getTime() + 7 * DAY).toISOString()}`,
    );
    const booked = await platform.request('POST', `/v1/booking-calendars/${slug}/bookings`, {
      body: { start: slots.body.slots[0].start, attendee: { name: 'Cleo', email: 'cleo@example.com' } },
    });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    await eventually(async () => driver.writtenEvents(email, calendarId).length === 1, {
      what: 'the invite',
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(driver.writtenEvents(email, calendarId)).toHaveLength(1);

    // What the stores hold right now, to look for in histories and logs below.
    const [row] = await platform.orm.em
      .fork()
      .execute<{ credentials: Buffer }[]>('select credentials from calendar_connections where id = ?', [id]);
    const grant = decryptJson<Record<string, string>>(
      platform.config.encryptionKey,
      Buffer.from(row!.credentials),
      credentialsAad(id),
    );

    // Removal stops the channels and revokes the grant.
    expect((await platform.request('DELETE', `/v1/connections/${id}`, { token: user.token })).status).toBe(
      202,
    );
    await eventually(async () => (await connectionOf(user.token, id)).status === 'removed', {
      what: 'the removal',
    });
    expect(driver.channels()).toBe(0);
    expect(driver.revokedOnRemoval()).toBe(true);
    expect(await eventCount(user.token, id)).toBe(0);

    // No secret in any workflow history or log line.
    const code = new URL(local, platform.apiUrl).searchParams.get('code')!;
    const secrets = [
      driver.clientSecret,
      code,
      grant.accessToken!,
      ...(grant.refreshToken ? [grant.refreshToken] : []),
    ];
    const histories: string[] = [];
    for await (const run of platform.temporal.workflow.list({
      query: `CalbridgeUser = "${user.id}"`,
    })) {
      const history = await platform.temporal.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      // Payloads are bytes: read them as the text they carry.
      histories.push(
        JSON.stringify(history, (_key, value) =>
          value instanceof Uint8Array
            ? Buffer.from(value).toString('utf8')
            : value?.type === 'Buffer' && Array.isArray(value.data)
              ? Buffer.from(value.data).toString('utf8')
              : value,
        ),
      );
    }
    expect(histories.length).toBeGreaterThanOrEqual(2);
    const everything = `${histories.join('\n')}\n${logLines.join('')}`;
    expect(logLines.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(everything.includes(secret), 'a secret leaked into a history or a log').toBe(false);
    }
  });
});
