/**
 * The provider conformance suite: one set of behavioural cases every CalendarProvider adapter must
 * pass (CalDAV/iCloud and ICS now, Google and Microsoft against their stand-ins later).
 *
 * An adapter's test file calls `describeProviderConformance(name, makeDriver)`. The driver is built
 * fresh for every case (a new, empty calendar on the backend) and acts on the backend directly for
 * seeding — never through the adapter under test. Events are described neutrally (uid, title,
 * instants); the driver turns them into whatever its backend stores (iCalendar resources, a feed,
 * Google/Graph JSON).
 *
 * Pages are applied by `Mirror`, which follows the ChangePage contract exactly as the sync engine
 * does (upserts, unchanged, removed, and the sweep after a full sync's complete page).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Occurrence, OutboundEvent, TimeWindow } from '../../domain/calendar.ts';
import type { CalendarProvider, ChangePage, EventRef, SyncCursor } from '../../providers/contract.ts';
import { CredentialsRejectedError, CursorExpiredError, ReadOnlyError } from '../../providers/errors.ts';

/** A timed, non-recurring event, as the suite seeds it. */
export interface NeutralEvent {
  uid: string;
  title: string;
  start: Date;
  end: Date;
}

export interface ConformanceDriver {
  /** The adapter under test, with valid credentials. */
  provider(): CalendarProvider;
  /** The same adapter with credentials the backend rejects. */
  providerWithBadCredentials(): CalendarProvider;
  /** `externalId` of the calendar the seed writes to, as listCalendars reports it. */
  calendarId: string;
  /** What listCalendars must report as `readOnly` for it. */
  calendarReadOnly: boolean;
  /** What verifyAccess must report as `accountEmail`; undefined: not checked. */
  accountEmail?: string | null;
  capabilities: {
    /** create/update/delete work (else they throw ReadOnlyError). */
    writes: boolean;
    /** fetchChanges from a stored cursor returns only changes (else it lists fully, using `known`). */
    incremental: boolean;
  };
  seed: {
    /** Creates or replaces the event with this uid, directly on the backend. */
    putEvent(event: NeutralEvent): Promise<void>;
    deleteEvent(uid: string): Promise<void>;
  };
  /** Makes the backend reject every sync position it has issued so far (e.g. expire its tokens). */
  expireCursors?(): Promise<void>;
  close(): Promise<void>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Applies pages the way connections/import-engine.ts does. */
export class Mirror {
  readonly objects = new Map<string, { etag: string | null; occurrences: Occurrence[] }>();
  cursor: SyncCursor | null = null;

  known(): Map<string, string | null> {
    return new Map([...this.objects].map(([key, o]) => [key, o.etag]));
  }

  apply(pages: ChangePage[], resumingFull = false): void {
    const mentioned = new Set<string>();
    if (resumingFull) for (const key of this.objects.keys()) mentioned.add(key);
    for (const page of pages) {
      for (const object of page.upserts) {
        this.objects.set(object.key, { etag: object.etag, occurrences: object.occurrences });
        mentioned.add(object.key);
      }
      for (const key of page.unchanged) mentioned.add(key);
      for (const key of page.removed) this.objects.delete(key);
      if (page.full && page.complete) {
        for (const key of [...this.objects.keys()]) if (!mentioned.has(key)) this.objects.delete(key);
      }
      this.cursor = page.cursor;
    }
  }

  occurrences(): Occurrence[] {
    return [...this.objects.values()].flatMap((o) => o.occurrences).sort(byStart);
  }
}

export async function collectPages(
  provider: CalendarProvider,
  calendarId: string,
  window: TimeWindow,
  cursor: SyncCursor | null,
  known: ReadonlyMap<string, string | null> = new Map(),
): Promise<ChangePage[]> {
  const pages: ChangePage[] = [];
  for await (const page of provider.fetchChanges({
    calendar: { externalId: calendarId },
    window,
    cursor,
    known,
  })) {
    pages.push(page);
  }
  return pages;
}

function byStart(a: Occurrence, b: Occurrence): number {
  return a.start.getTime() - b.start.getTime() || a.uid.localeCompare(b.uid);
}

/** What the suite compares: uid, exact instants, title, our marker. */
function summary(o: Occurrence) {
  return {
    uid: o.uid,
    start: o.start.toISOString(),
    end: o.end.toISOString(),
    title: o.title,
    allDay: o.allDay,
    busy: o.busy,
  };
}

function expected(e: NeutralEvent) {
  return {
    uid: e.uid,
    start: e.start.toISOString(),
    end: e.end.toISOString(),
    title: e.title,
    allDay: false,
    busy: true,
  };
}

export function describeProviderConformance(
  name: string,
  makeDriver: () => Promise<ConformanceDriver>,
): void {
  describe(`provider conformance: ${name}`, () => {
    let driver: ConformanceDriver;
    let provider: CalendarProvider;
    // Whole hours, well inside every window, independent of the clock.
    const base = Math.ceil((Date.now() + 3 * DAY) / HOUR) * HOUR;
    const window: TimeWindow = { start: new Date(base - 5 * DAY), end: new Date(base + 30 * DAY) };
    const at = (hours: number) => new Date(base + hours * HOUR);
    const event = (uid: string, title: string, startHour: number, hours = 1): NeutralEvent => ({
      uid,
      title,
      start: at(startHour),
      end: at(startHour + hours),
    });

    beforeEach(async () => {
      driver = await makeDriver();
      provider = driver.provider();
    });
    afterEach(async () => {
      await driver?.close();
    });

    it('verifies access with valid credentials', async () => {
      const info = await provider.verifyAccess();
      if (driver.accountEmail !== undefined) expect(info.accountEmail).toBe(driver.accountEmail);
    });

    it('rejects bad credentials with CredentialsRejectedError', async () => {
      await expect(driver.providerWithBadCredentials().verifyAccess()).rejects.toBeInstanceOf(
        CredentialsRejectedError,
      );
    });

    it('lists the seeded calendar with its access level', async () => {
      const calendars = await provider.listCalendars();
      const calendar = calendars.find((c) => c.externalId === driver.calendarId);
      expect(calendar, `calendars: ${calendars.map((c) => c.externalId).join(', ')}`).toBeDefined();
      expect(calendar?.readOnly).toBe(driver.calendarReadOnly);
      expect(typeof calendar?.name).toBe('string');
      // externalId is stable across listings.
      expect((await provider.listCalendars()).map((c) => c.externalId)).toEqual(
        calendars.map((c) => c.externalId),
      );
    });

    it('returns the seeded events with exact instants in a full fetch', async () => {
      const a = event('conformance-a', 'Alpha', 10);
      const b = event('conformance-b', 'Beta', 50, 2);
      await driver.seed.putEvent(a);
      await driver.seed.putEvent(b);

      const pages = await collectPages(provider, driver.calendarId, window, null);
      expect(pages.length).toBeGreaterThan(0);
      expect(pages.every((p) => p.full)).toBe(true);
      expect(pages.at(-1)?.complete).toBe(true);
      expect(pages.slice(0, -1).every((p) => !p.complete)).toBe(true);
      const mirror = new Mirror();
      mirror.apply(pages);
      expect(mirror.occurrences().map(summary)).toEqual([expected(a), expected(b)]);
      expect(mirror.occurrences().every((o) => o.calbridgeId === null && o.occurrenceKey === '')).toBe(true);
      // Every page's cursor is JSON (it is stored as jsonb).
      for (const page of pages) expect(JSON.parse(JSON.stringify(page.cursor))).toEqual(page.cursor);
    });

    it('returns exactly the changes since the stored cursor, and unchanged objects as unchanged', async () => {
      const a = event('conformance-a', 'Alpha', 10);
      const b = event('conformance-b', 'Beta', 30);
      const c = event('conformance-c', 'Gamma', 60);
      for (const e of [a, b, c]) await driver.seed.putEvent(e);
      const mirror = new Mirror();
      mirror.apply(await collectPages(provider, driver.calendarId, window, null));
      expect(mirror.occurrences().map((o) => o.uid)).toEqual([a.uid, b.uid, c.uid]);

      const movedA = { ...a, title: 'Alpha (moved)', start: at(80), end: at(81.5) };
      const d = event('conformance-d', 'Delta', 20);
      await driver.seed.putEvent(d);
      await driver.seed.putEvent(movedA);
      await driver.seed.deleteEvent(b.uid);

      const pages = await collectPages(provider, driver.calendarId, window, mirror.cursor, mirror.known());
      expect(pages.at(-1)?.complete).toBe(true);
      const upserted = pages.flatMap((p) => p.upserts.flatMap((o) => o.occurrences.map((x) => x.uid)));
      expect(new Set(upserted)).toEqual(new Set([movedA.uid, d.uid]));
      if (driver.capabilities.incremental) {
        expect(pages.every((p) => !p.full)).toBe(true);
        const bKey = [...mirror.objects].find(([, o]) => o.occurrences.some((x) => x.uid === b.uid))?.[0];
        expect(pages.flatMap((p) => p.removed)).toContain(bKey);
      }
      mirror.apply(pages);
      expect(mirror.occurrences().map(summary)).toEqual([expected(d), expected(c), expected(movedA)]);

      // A new full listing by a consumer that holds everything: nothing to fetch again.
      const relisted = await collectPages(provider, driver.calendarId, window, null, mirror.known());
      expect(relisted.flatMap((p) => p.upserts)).toEqual([]);
      expect(new Set(relisted.flatMap((p) => p.unchanged))).toEqual(new Set(mirror.objects.keys()));
      mirror.apply(relisted);
      expect(mirror.occurrences().map((o) => o.uid)).toEqual([d.uid, c.uid, movedA.uid]);
    });

    it('rejects a bogus or expired cursor with CursorExpiredError', async (context) => {
      if (!driver.capabilities.incremental) context.skip();
      await driver.seed.putEvent(event('conformance-a', 'Alpha', 10));
      const bogus = collectPages(provider, driver.calendarId, window, { bogus: 'not a cursor we wrote' });
      await expect(bogus).rejects.toBeInstanceOf(CursorExpiredError);

      if (driver.expireCursors) {
        const mirror = new Mirror();
        mirror.apply(await collectPages(provider, driver.calendarId, window, null));
        await driver.seed.putEvent(event('conformance-b', 'Beta', 20));
        await driver.expireCursors();
        const expired = collectPages(provider, driver.calendarId, window, mirror.cursor, mirror.known());
        await expect(expired).rejects.toBeInstanceOf(CursorExpiredError);
      }
    });

    const outbound = (id: string, startHour: number, sequence = 0): OutboundEvent => ({
      id,
      title: 'Booking with Conformance',
      description: 'Written by the conformance suite',
      start: at(startHour),
      end: at(startHour + 0.5),
      timeZone: 'Europe/Berlin',
      organizer: { name: 'Host', email: 'host@example.com' },
      attendees: [{ name: 'Guest', email: 'guest@example.com' }],
      sequence,
    });

    it('writes idempotently, updates, deletes, and marks written events', async (context) => {
      if (!driver.capabilities.writes) context.skip();
      const calendar = { externalId: driver.calendarId };
      // Lower-case base32hex: valid as a Google event id too.
      const id = `c0nf${Date.now().toString(32)}`;
      const mine = (mirror: Mirror) => mirror.occurrences().filter((o) => o.calbridgeId === id);
      const sync = async () => {
        const mirror = new Mirror();
        mirror.apply(await collectPages(provider, driver.calendarId, window, null));
        return mirror;
      };

      const ref = await provider.createEvent(calendar, outbound(id, 40));
      expect(typeof ref.externalId).toBe('string');
      // A retried create (same id) finds the first one.
      const again = await provider.createEvent(calendar, outbound(id, 40));
      expect(again.externalId).toBe(ref.externalId);
      let written = mine(await sync());
      expect(written).toHaveLength(1);
      expect(written[0]?.start.toISOString()).toBe(at(40).toISOString());
      expect(written[0]?.end.toISOString()).toBe(at(40.5).toISOString());

      const moved: EventRef = await provider.updateEvent(calendar, again, outbound(id, 70, 1));
      expect(moved.externalId).toBe(ref.externalId);
      written = mine(await sync());
      expect(written).toHaveLength(1);
      expect(written[0]?.start.toISOString()).toBe(at(70).toISOString());

      await provider.deleteEvent(calendar, moved);
      expect(mine(await sync())).toHaveLength(0);
      // Deleting what is already gone succeeds.
      await provider.deleteEvent(calendar, moved);
    });

    it('refuses writes with ReadOnlyError when the calendar is read-only', async (context) => {
      if (driver.capabilities.writes) context.skip();
      const calendar = { externalId: driver.calendarId };
      await expect(provider.createEvent(calendar, outbound('c0nfread0n1', 40))).rejects.toBeInstanceOf(
        ReadOnlyError,
      );
    });
  });
}
