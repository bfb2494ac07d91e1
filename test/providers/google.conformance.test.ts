/**
 * The provider conformance suite against the Google stand-in, driven by the real googleapis client:
 * each case links a fresh account by a real consent and syncs its primary calendar.
 */
import { afterAll, beforeAll } from 'vitest';
import type { ProviderContext } from '../../providers/contract.ts';
import { createGoogleProvider } from '../../providers/google/adapter.ts';
import { linkAccount, MemoryGrant, standinSettings } from '../standins/google/grant.ts';
import { type GoogleStandin, startGoogleStandin } from '../standins/google/server.ts';
import { type ConformanceDriver, describeProviderConformance, type NeutralEvent } from './conformance.ts';

let standin: GoogleStandin;
let accounts = 0;

beforeAll(async () => {
  standin = await startGoogleStandin();
});
afterAll(async () => {
  await standin?.close();
});

/** Google event ids are base32hex: the suite's uids in hex are, and stay distinct. */
const eventId = (uid: string) => Buffer.from(uid, 'utf8').toString('hex');

async function googleDriver(): Promise<ConformanceDriver> {
  const email = `conformance-${++accounts}@example.com`;
  standin.addAccount({ email });
  const link = await linkAccount(standin, email);
  const context: ProviderContext = {
    requestTimeoutMs: 5000,
    userAgent: 'Calbridge-test/1.0',
    apiUrls: { google: standin.url, microsoftGraph: 'http://127.0.0.1:9' },
  };
  const settings = standinSettings(standin);
  const make = (grant: MemoryGrant) =>
    createGoogleProvider({ provider: 'google', serverUrl: null, credentials: {}, grant }, context, {
      retry: { attempts: 3, baseMs: 5, capMs: 50 },
    });
  return {
    provider: () => make(new MemoryGrant(settings, link.credentials)),
    providerWithBadCredentials: () =>
      make(
        new MemoryGrant(settings, {
          accessToken: 'ya29.not-a-token-the-stand-in-issued',
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          refreshToken: '1//not-a-refresh-token-either',
        }),
      ),
    calendarId: email,
    calendarReadOnly: false,
    accountEmail: email,
    capabilities: { writes: true, incremental: true },
    seed: {
      async putEvent(event: NeutralEvent) {
        standin.putEvent(email, email, {
          id: eventId(event.uid),
          iCalUID: event.uid,
          summary: event.title,
          start: event.start,
          end: event.end,
        });
      },
      async deleteEvent(uid: string) {
        standin.deleteEvent(email, email, eventId(uid));
      },
    },
    expireCursors: async () => standin.expireSyncTokens(),
    async close() {},
  };
}

describeProviderConformance('Google Calendar (stand-in)', googleDriver);
