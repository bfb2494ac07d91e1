/**
 * An SMTP outage never blocks a connection: the needs-reauth e-mail waits in its own durable run
 * while the connection parks, reconnects and syncs on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailOutbox } from '../../db/entities/index.ts';
import { freePort } from '../../worker/local/ports.ts';
import { emailWorkflowId } from '../../workflows/ids.ts';
import { eventually, type Platform, startPlatform } from '../harness/platform.ts';
import { asFeed, calendarScenario } from '../support/calendar-scenario.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';

let platform: Platform;
let feeds: IcsServer;
beforeAll(async () => {
  // Nothing listens there: every delivery attempt is refused.
  const smtpPort = await freePort();
  [platform, feeds] = await Promise.all([
    startPlatform({ env: { ICS_POLL_SECONDS: '3600', SMTP_URL: `smtp://127.0.0.1:${smtpPort}` } }),
    startIcsServer(),
  ]);
});
afterAll(async () => {
  await platform?.stop();
  await feeds?.stop();
});

describe('mail outage', () => {
  it('parks, mails durably and resumes while SMTP is down', async () => {
    const user = await platform.createUser();
    const feed = asFeed(calendarScenario().objects);
    feeds.setFeed('/outage.ics', feed);
    const created = await platform.request('POST', '/v1/connections', {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/outage.ics') },
    });
    const id = created.body.id as string;
    await platform.request('PUT', `/v1/connections/${id}/calendars`, {
      token: user.token,
      body: { calendars: [{ id: created.body.calendars[0].id, importForAvailability: true }] },
    });
    const get = async () =>
      (await platform.request('GET', `/v1/connections/${id}`, { token: user.token })).body;
    await eventually(async () => (await get()).status === 'active', { what: 'the import' });

    feeds.setFeed('/outage.ics', 'Unauthorized', { status: 401 });
    await platform.request('POST', `/v1/connections/${id}/sync`, { token: user.token, body: {} });
    await eventually(async () => (await get()).status === 'needs_reauth', { what: 'needs_reauth' });

    // The message is queued and its run keeps retrying delivery...
    const mail = await eventually(
      async () => {
        const row = await platform.orm.em.fork().findOne(EmailOutbox, { toAddress: user.id });
        return row && row.attempts >= 1 ? row : null;
      },
      { what: 'a failed delivery attempt' },
    );
    expect(mail.status).toBe('pending');
    expect(mail.lastError).toBeTruthy();
    const mailRun = await platform.temporal.workflow.getHandle(emailWorkflowId(mail.dedupeKey)).describe();
    expect(mailRun.status.name).toBe('RUNNING');

    // ...while the connection does not wait for it: it reconnects and syncs again.
    feeds.setFeed('/outage.ics', feed);
    const reconnected = await platform.request('POST', `/v1/connections/${id}/reconnect`, {
      token: user.token,
      body: { provider: 'ics', url: feeds.url('/outage.ics') },
    });
    expect(reconnected.status).toBe(200);
    await eventually(async () => (await get()).status === 'active', { what: 'sync to resume' });
    await platform.temporal.workflow.getHandle(emailWorkflowId(mail.dedupeKey)).terminate('test over');
  });
});
