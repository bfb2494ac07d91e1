/**
 * The provider conformance suite against the ICS adapter and a local feed server: a read-only,
 * always-full-listing provider (no writes, no incremental sync, no cursor that can expire).
 */
import { afterAll, beforeAll } from 'vitest';
import type { ProviderContext } from '../../providers/contract.ts';
import { createIcsProvider } from '../../providers/ics/adapter.ts';
import { generateIcsCalendar } from '../support/generate-ics.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';
import { type ConformanceDriver, describeProviderConformance, type NeutralEvent } from './conformance.ts';

const ctx: ProviderContext = { requestTimeoutMs: 5000, userAgent: 'Calbridge-test/1.0' };

let server: IcsServer;
let feeds = 0;

beforeAll(async () => {
  server = await startIcsServer();
});
afterAll(async () => {
  await server?.stop();
});

async function icsDriver(): Promise<ConformanceDriver> {
  // The feed URL is the credential: a wrong secret in it typically gets a 401 (or a 404).
  const secret = `s3cr3t-${++feeds}`;
  const path = `/feeds/${secret}/calendar.ics`;
  const deniedPath = `/feeds/wrong-${secret}/calendar.ics`;
  const events = new Map<string, NeutralEvent>();
  const publish = () =>
    server.setFeed(
      path,
      generateIcsCalendar(
        [...events.values()].map((e) => ({ uid: e.uid, summary: e.title, start: e.start, end: e.end })),
        { name: `Conformance feed ${feeds}` },
      ),
    );
  publish();
  server.setFeed(deniedPath, 'Unauthorized', { status: 401 });

  const make = (url: string) =>
    createIcsProvider({ provider: 'ics', serverUrl: null, credentials: { url } }, ctx);
  return {
    provider: () => make(server.url(path)),
    providerWithBadCredentials: () => make(server.url(deniedPath)),
    // Stated here, not asked of the adapter: the id scheme is part of the ICS contract (one calendar
    // per feed, its id independent of the URL so a rotated URL keeps the calendar).
    calendarId: 'ics:feed',
    calendarReadOnly: true,
    accountEmail: null,
    capabilities: { writes: false, incremental: false },
    seed: {
      async putEvent(event) {
        events.set(event.uid, event);
        publish();
      },
      async deleteEvent(uid) {
        events.delete(uid);
        publish();
      },
    },
    async close() {},
  };
}

describeProviderConformance('ICS feed', icsDriver);
