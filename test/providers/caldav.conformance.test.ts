/**
 * The provider conformance suite against a real Radicale: plain CalDAV, iCloud-shaped (discovery on
 * one host, calendars on a partition host, collection listed in its own reports), and a read-only
 * share (the iCloud front with write privileges withdrawn).
 */
import { afterAll, beforeAll } from 'vitest';
import { createCalDavProvider } from '../../providers/caldav/adapter.ts';
import type { ProviderContext } from '../../providers/contract.ts';
import { generateIcsEvent } from '../support/generate-ics.ts';
import { type ICloudProxy, startICloudProxy } from '../support/icloud-proxy.ts';
import { type Radicale, startRadicale } from '../support/radicale.ts';
import { type ConformanceDriver, describeProviderConformance, type NeutralEvent } from './conformance.ts';

const USER = { username: 'conformance', password: 'correct horse' };
const ctx: ProviderContext = { requestTimeoutMs: 5000, userAgent: 'Calbridge-test/1.0' };

let radicale: Radicale;
let proxy: ICloudProxy;
let calendars = 0;

beforeAll(async () => {
  radicale = await startRadicale({ users: [USER] });
  proxy = await startICloudProxy({ upstream: radicale.url });
});
afterAll(async () => {
  await proxy?.stop();
  await radicale?.stop();
});

const resourceName = (uid: string) => `${uid.replace(/[^A-Za-z0-9-]/g, '_')}.ics`;

async function radicaleDriver(shape: 'caldav' | 'icloud' | 'read-only'): Promise<ConformanceDriver> {
  proxy.listCollectionInReports = shape !== 'caldav';
  proxy.readOnly = shape === 'read-only';
  const slug = `conformance-${++calendars}`;
  const collection = await radicale.createCalendar(USER.username, USER.password, slug, {
    displayName: `Conformance ${calendars}`,
  });
  const serverUrl = shape === 'caldav' ? radicale.url : proxy.url;
  // What the adapter reports: on the partition host when going through the iCloud front.
  const calendarId =
    shape === 'caldav' ? collection : new URL(new URL(collection).pathname, proxy.partitionUrl).href;
  const make = (password: string) =>
    createCalDavProvider(
      {
        provider: shape === 'caldav' ? 'caldav' : 'icloud',
        serverUrl,
        credentials: { username: USER.username, password },
      },
      ctx,
    );
  return {
    provider: () => make(USER.password),
    providerWithBadCredentials: () => make('wrong password'),
    calendarId,
    calendarReadOnly: shape === 'read-only',
    accountEmail: USER.username,
    capabilities: { writes: shape !== 'read-only', incremental: true },
    seed: {
      async putEvent(event: NeutralEvent) {
        const ics = generateIcsEvent({
          uid: event.uid,
          summary: event.title,
          start: event.start,
          end: event.end,
        });
        await radicale.putEvent(collection, USER.username, USER.password, resourceName(event.uid), ics);
      },
      async deleteEvent(uid: string) {
        await radicale.deleteEvent(collection, USER.username, USER.password, resourceName(uid));
      },
    },
    expireCursors: () => radicale.forgetSyncTokens(collection),
    async close() {
      proxy.listCollectionInReports = false;
      proxy.readOnly = false;
    },
  };
}

describeProviderConformance('CalDAV (Radicale)', () => radicaleDriver('caldav'));
describeProviderConformance('iCloud-shaped CalDAV (partition host in front of Radicale)', () =>
  radicaleDriver('icloud'),
);
describeProviderConformance('CalDAV read-only share', () => radicaleDriver('read-only'));
