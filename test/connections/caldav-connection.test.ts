/**
 * CalDAV connections end to end against a real Radicale server: create (422s), Save → exact import,
 * changes seen after "sync now" and after the poll, a password changed on the server → needs_reauth
 * and an e-mail → reconnect → sync resumes with exact counts, and removal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailOutbox } from '../../db/entities/index.ts';
import { freePort } from '../../worker/local/ports.ts';
import { emailWorkflowId } from '../../workflows/ids.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { calendarScenario } from '../support/calendar-scenario.ts';
import { generateIcsEvent } from '../support/generate-ics.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';

let platform: Platform;
let radicale: Radicale;
const scenario = calendarScenario();

beforeAll(async () => {
  [platform, radicale] = await Promise.all([
    startPlatform({ env: { CALDAV_POLL_SECONDS: '2' } }),
    startRadicale({ users: [{ username: 'setup', password: 'setup' }] }),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await radicale?.stop();
});

type Api = Platform['request'];
let counter = 0;

/** A Radicale account with a "Work" calendar holding the scenario and an empty "Personal" one. */
async function account() {
  const username = `dav${++counter}-${Date.now().toString(36)}`;
  const password = `pw-${username}`;
  await radicale.setPassword(username, password);
  const work = await radicale.createCalendar(username, password, 'work', {
    displayName: 'Work',
    color: '#FF8800',
  });
  await radicale.createCalendar(username, password, 'personal', { displayName: 'Personal' });
  for (const o of scenario.objects) await radicale.putEvent(work, username, password, `${o.name}.ics`, o.ics);
  return { username, password, work };
}

async function events(request: Api, token: string, id: string) {
  const res = await request('GET', `/v1/connections/${id}/events?limit=500`, { token });
  return res.body.items.map((e: Record<string, unknown>) => ({
    start: e.start,
    end: e.end,
    allDay: e.allDay,
    busy: e.busy,
    title: e.title,
  }));
}

const connection = (token: string, id: string) =>
  platform.request('GET', `/v1/connections/${id}`, { token }).then((r) => r.body);

async function syncedAfter(token: string, id: string, after: string, calendarName = 'Work') {
  return eventually(
    async () => {
      const c = await connection(token, id);
      const cal = c.calendars.find((x: { name: string }) => x.name === calendarName);
      return c.status === 'active' && cal.importStatus === 'ready' && (cal.lastSyncedAt ?? '') > after
        ? c
        : null;
    },
    { what: 'a completed sync pass', timeoutMs: 30_000 },
  );
}

async function linkAndImport(token: string, acct: { username: string; password: string }) {
  const created = await platform.request('POST', '/v1/connections', {
    token,
    body: { provider: 'caldav', serverUrl: radicale.url, username: acct.username, password: acct.password },
  });
  expect(created.status).toBe(201);
  const work = created.body.calendars.find((c: { name: string }) => c.name === 'Work');
  const saved = await platform.request('PUT', `/v1/connections/${created.body.id}/calendars`, {
    token,
    body: { calendars: [{ id: work.id, importForAvailability: true }], primaryCalendarId: work.id },
  });
  expect(saved.status).toBe(200);
  const ready = await syncedAfter(token, created.body.id, '');
  return { id: created.body.id as string, workflowId: created.body.workflowId as string, ready };
}

describe('CalDAV connections (Radicale)', () => {
  it('refuses a wrong password (422 invalid_credentials) and an unreachable server (422 provider_unreachable), keeping nothing', async () => {
    const user = await platform.createUser();
    const acct = await account();
    const wrong = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'caldav', serverUrl: radicale.url, username: acct.username, password: 'not-it' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    const down = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: {
        provider: 'caldav',
        serverUrl: `http://127.0.0.1:${await freePort()}/`,
        username: 'x',
        password: 'y',
      },
    });
    expect(down.status).toBe(422);
    expect(down.body.error.code).toBe('provider_unreachable');
    const [row] = await platform.orm.em
      .fork()
      .execute<{ n: number }[]>('select count(*)::int as n from calendar_connections where user_id = ?', [
        user.id,
      ]);
    expect(row!.n).toBe(0);
  });

  it('lists calendars, imports the selected one exactly, and follows changes after "sync now" and after the poll', async () => {
    const user = await platform.createUser();
    const acct = await account();
    const linked = await linkAndImport(user.token, acct);
    const names = linked.ready.calendars.map(
      (c: { name: string; color: string | null; readOnly: boolean; isPrimary: boolean }) => [
        c.name,
        c.readOnly,
        c.isPrimary,
      ],
    );
    expect(names).toEqual([
      ['Personal', false, false],
      ['Work', false, true],
    ]);
    const work = linked.ready.calendars.find((c: { name: string }) => c.name === 'Work');
    expect(work.color).toBe('#FF8800');
    expect(work.eventCount).toBe(scenario.expected.length);
    expect(await events(platform.request, user.token, linked.id)).toEqual(scenario.expected);

    // Added, moved and deleted on the server, then "sync now".
    const { changes } = scenario;
    await radicale.putEvent(
      acct.work,
      acct.username,
      acct.password,
      `${changes.added.name}.ics`,
      changes.added.ics,
    );
    await radicale.putEvent(
      acct.work,
      acct.username,
      acct.password,
      `${changes.moved.name}.ics`,
      changes.moved.ics,
    );
    await radicale.deleteEvent(acct.work, acct.username, acct.password, `${changes.deleted.name}.ics`);
    const before = work.lastSyncedAt;
    const sync = await platform.request('POST', `/v1/connections/${linked.id}/sync`, {
      token: user.token,
      body: { direction: 'inbound' },
    });
    expect(sync.status).toBe(202);
    const afterSync = await syncedAfter(user.token, linked.id, before);
    expect(afterSync.calendars.find((c: { name: string }) => c.name === 'Work').eventCount).toBe(
      changes.expected.length,
    );
    expect(await events(platform.request, user.token, linked.id)).toEqual(changes.expected);

    // No request at all: the 2-second poll picks up the next change.
    await radicale.deleteEvent(acct.work, acct.username, acct.password, `${changes.added.name}.ics`);
    await eventually(async () => (await events(platform.request, user.token, linked.id)).length === 5, {
      what: 'the poll to remove the deleted event',
    });
  });

  it('parks the connection in needs_reauth when the password changes, e-mails once, and resumes after reconnect without duplicates', async () => {
    const user = await platform.createUser();
    const acct = await account();
    const linked = await linkAndImport(user.token, acct);

    await radicale.setPassword(acct.username, 'rotated-password');
    await platform.request('POST', `/v1/connections/${linked.id}/sync`, { token: user.token, body: {} });
    const parked = await eventually(
      async () => {
        const c = await connection(user.token, linked.id);
        return c.status === 'needs_reauth' ? c : null;
      },
      { what: 'needs_reauth' },
    );
    expect(parked.statusReason).toBeTruthy();
    // Busy time imported before the break still counts.
    expect((await events(platform.request, user.token, linked.id)).length).toBe(6);
    const mails = await eventually(
      async () => {
        const rows = await platform.orm.em.fork().find(EmailOutbox, { toAddress: user.id });
        // Queued first, then delivered by its own e-mail run.
        return rows.some((row) => row.status === 'sent') ? rows : null;
      },
      { what: 'the reauth e-mail' },
    );
    expect(mails).toHaveLength(1);
    // It went out through the durable e-mail path: its own run, which the connection's does not wait on.
    const mailRun = await platform.temporal.workflow
      .getHandle(emailWorkflowId(mails[0]!.dedupeKey))
      .describe();
    expect(mailRun.type).toBe('sendEmailWorkflow');
    expect(mailRun.status.name).toBe('COMPLETED');
    expect(mails[0]).toMatchObject({ status: 'sent', subject: expect.stringContaining('reconnect') });
    expect(mails[0]!.textBody).toContain(`${platform.config.PUBLIC_URL}/console/calendars`);
    expect(mails[0]!.textBody).toContain(`/v1/connections/${linked.id}/reconnect`);

    // No tight retry loop: a few poll intervals later, still one mail and still parked.
    await new Promise((r) => setTimeout(r, 5000));
    expect(await platform.orm.em.fork().count(EmailOutbox, { toAddress: user.id })).toBe(1);
    expect((await connection(user.token, linked.id)).status).toBe('needs_reauth');

    // Meanwhile the calendar changes.
    await radicale.putEvent(
      acct.work,
      acct.username,
      'rotated-password',
      'while-away.ics',
      generateIcsEvent({
        uid: 'away@t',
        summary: 'While away',
        start: scenario.at(8, 9, 0, 'UTC'),
        end: scenario.at(8, 10, 0, 'UTC'),
      }),
    );

    const wrong = await platform.request('POST', `/v1/connections/${linked.id}/reconnect`, {
      token: user.token,
      body: { provider: 'caldav', serverUrl: radicale.url, username: acct.username, password: 'still-wrong' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.code).toBe('invalid_credentials');

    const before = (await connection(user.token, linked.id)).calendars.find(
      (c: { name: string }) => c.name === 'Work',
    ).lastSyncedAt;
    const fixed = await platform.request('POST', `/v1/connections/${linked.id}/reconnect`, {
      token: user.token,
      body: {
        provider: 'caldav',
        serverUrl: radicale.url,
        username: acct.username,
        password: 'rotated-password',
      },
    });
    expect(fixed.status).toBe(200);
    const resumed = await syncedAfter(user.token, linked.id, before);
    expect(resumed.statusReason).toBeNull();
    const list = await events(platform.request, user.token, linked.id);
    expect(list).toHaveLength(7);
    expect(new Set(list.map((e: { start: string; title: string }) => `${e.start}|${e.title}`)).size).toBe(7);

    // Removal: imported events and calendars gone, the run completes.
    expect(
      (await platform.request('DELETE', `/v1/connections/${linked.id}`, { token: user.token })).status,
    ).toBe(202);
    await platform.temporal.workflow.getHandle(linked.workflowId).result();
    const gone = await connection(user.token, linked.id);
    expect(gone).toMatchObject({ status: 'removed', calendars: [] });
    const [left] = await platform.orm.em
      .fork()
      .execute<{ n: number }[]>('select count(*)::int as n from imported_events where user_id = ?', [
        user.id,
      ]);
    expect(left!.n).toBe(0);
    const reconnectRemoved = await platform.request('POST', `/v1/connections/${linked.id}/reconnect`, {
      token: user.token,
      body: {
        provider: 'caldav',
        serverUrl: radicale.url,
        username: acct.username,
        password: 'rotated-password',
      },
    });
    expect(reconnectRemoved.status).toBe(409);
  });
});
