/**
 * The provider conformance suite against a second CalDAV server implementation, Xandikos (sync
 * tokens are git commits there, the collection is a git repository), and a backfill followed by an
 * incremental sync there.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCalDavProvider } from '../../providers/caldav/adapter.ts';
import type { ProviderContext } from '../../providers/contract.ts';
import { generateIcsEvent } from '../support/generate-ics.ts';
import { startXandikos, type Xandikos } from '../support/xandikos.ts';
import { type ConformanceDriver, collectPages, describeProviderConformance, Mirror } from './conformance.ts';

const USER = { username: 'conformance', password: 'correct horse' };
const ctx: ProviderContext = { requestTimeoutMs: 10_000, userAgent: 'Calbridge-test/1.0' };
const HOUR = 3_600_000;

let xandikos: Xandikos;
let calendars = 0;

beforeAll(async () => {
  xandikos = await startXandikos({ user: USER });
});
afterAll(async () => {
  await xandikos?.stop();
});

const resourceName = (uid: string) => `${uid.replace(/[^A-Za-z0-9-]/g, '_')}.ics`;
const provider = (password = USER.password) =>
  createCalDavProvider(
    { provider: 'caldav', serverUrl: xandikos.url, credentials: { ...USER, password } },
    ctx,
  );

async function xandikosDriver(): Promise<ConformanceDriver> {
  const collection = await xandikos.createCalendar(`conformance-${++calendars}`, {
    displayName: `Conformance ${calendars}`,
  });
  return {
    provider: () => provider(),
    providerWithBadCredentials: () => provider('wrong password'),
    calendarId: collection,
    calendarReadOnly: false,
    accountEmail: USER.username,
    capabilities: { writes: true, incremental: true },
    seed: {
      async putEvent(event) {
        const ics = generateIcsEvent({
          uid: event.uid,
          summary: event.title,
          start: event.start,
          end: event.end,
        });
        await xandikos.putEvent(collection, resourceName(event.uid), ics);
      },
      async deleteEvent(uid) {
        await xandikos.deleteEvent(collection, resourceName(uid));
      },
    },
    async close() {},
  };
}

describeProviderConformance('CalDAV (Xandikos)', xandikosDriver);

it('backfills 120 events from Xandikos, then syncs only what changed', async () => {
  const collection = await xandikos.createCalendar(`backfill-${++calendars}`);
  const base = Math.ceil((Date.now() + 2 * 24 * HOUR) / HOUR) * HOUR;
  await xandikos.seedEvents(
    collection,
    Array.from({ length: 120 }, (_, i) => ({
      name: `seeded-${i}.ics`,
      ics: generateIcsEvent({
        uid: `seeded-${i}@t`,
        summary: `Seeded ${i}`,
        start: new Date(base + i * HOUR),
        end: new Date(base + (i + 1) * HOUR),
      }),
    })),
  );
  const window = { start: new Date(base - 24 * HOUR), end: new Date(base + 30 * 24 * HOUR) };
  const mirror = new Mirror();
  mirror.apply(await collectPages(provider(), collection, window, null));
  expect(mirror.occurrences()).toHaveLength(120);
  expect((mirror.cursor as { phase: string }).phase).toBe('incremental');

  await xandikos.putEvent(
    collection,
    'late.ics',
    generateIcsEvent({ uid: 'late@t', start: new Date(base + 200 * HOUR), end: new Date(base + 201 * HOUR) }),
  );
  const pages = await collectPages(provider(), collection, window, mirror.cursor, mirror.known());
  expect(pages.every((p) => !p.full)).toBe(true);
  expect(pages.flatMap((p) => p.upserts.flatMap((o) => o.occurrences.map((x) => x.uid)))).toEqual(['late@t']);
});
