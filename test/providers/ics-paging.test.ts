/** A large feed is applied page by page, and a listing interrupted between pages starts again whole. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangePage, FetchChangesInput, ProviderContext, SyncCursor } from '../../providers/contract.ts';
import { createIcsProvider, ICS_PAGE_OBJECTS } from '../../providers/ics/adapter.ts';
import { generateIcsFeed } from '../support/generate-ics.ts';
import { type IcsServer, startIcsServer } from '../support/ics-server.ts';

const ctx: ProviderContext = { requestTimeoutMs: 5000, userAgent: 'Calbridge-test/1.0' };
const WINDOW = { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-07-01T00:00:00Z') };
const EVENTS = ICS_PAGE_OBJECTS * 2 + 137;

let server: IcsServer;
beforeAll(async () => {
  server = await startIcsServer();
  server.setFeed('/big.ics', generateIcsFeed(EVENTS, { start: new Date('2026-01-05T00:00:00Z'), seed: 7 }));
});
afterAll(() => server?.stop());

async function listing(cursor: SyncCursor | null): Promise<ChangePage[]> {
  const provider = createIcsProvider(
    { provider: 'ics', serverUrl: null, credentials: { url: server.url('/big.ics') } },
    ctx,
  );
  const input: FetchChangesInput = {
    calendar: { externalId: 'ics:feed' },
    window: WINDOW,
    cursor,
    known: new Map(),
  };
  const pages: ChangePage[] = [];
  for await (const page of provider.fetchChanges(input)) pages.push(page);
  return pages;
}

describe('ICS paging', () => {
  it('yields a large feed in pages of bounded size, every object exactly once, only the last complete', async () => {
    const pages = await listing(null);
    expect(pages.map((p) => p.upserts.length)).toEqual([ICS_PAGE_OBJECTS, ICS_PAGE_OBJECTS, 137]);
    expect(pages.map((p) => p.complete)).toEqual([false, false, true]);
    const keys = pages.flatMap((p) => p.upserts.map((o) => o.key));
    expect(new Set(keys).size).toBe(EVENTS);
    // Between pages the cursor says "a full listing is under way" and carries no validator.
    expect(pages[0]!.cursor).toEqual({ phase: 'full' });
    expect(pages[2]!.cursor).toMatchObject({ etag: expect.any(String) });
  });

  it('starts an interrupted listing again unconditionally, so no object of it is lost', async () => {
    server.requests.length = 0;
    const pages = await listing({ phase: 'full' });
    expect(server.requests[0]?.headers['if-none-match']).toBeUndefined();
    expect(pages.flatMap((p) => p.upserts).length).toBe(EVENTS);
    expect(pages.at(-1)!.complete).toBe(true);
  });
});
