/**
 * The provider conformance suite against the Microsoft 365 stand-in (Entra + Graph), through the
 * real MSAL consent and refresh: a writable default calendar, and a calendar shared read-only.
 */
import { afterAll, beforeAll } from 'vitest';
import type { ProviderContext } from '../../providers/contract.ts';
import { createMicrosoftProvider } from '../../providers/microsoft/adapter.ts';
import type { OAuthCredentials } from '../../providers/oauth.ts';
import { linkAccount, memoryGrant, standinSettings } from '../standins/microsoft/grant.ts';
import { type MicrosoftStandin, startMicrosoftStandin } from '../standins/microsoft/standin.ts';
import { type ConformanceDriver, describeProviderConformance, type NeutralEvent } from './conformance.ts';

let standin: MicrosoftStandin;
let accounts = 0;

beforeAll(async () => {
  standin = await startMicrosoftStandin();
});
afterAll(async () => {
  await standin?.close();
});

async function graphDriver(shape: 'writable' | 'read-only'): Promise<ConformanceDriver> {
  // A fresh mailbox per case: an empty calendar, and delta links no other case has touched.
  const email = `conformance-${++accounts}@example.com`;
  const { calendarIds } = standin.addAccount({
    email,
    calendars: [
      { name: 'Calendar', isDefaultCalendar: true },
      { name: 'Shared with me', canEdit: false, isDefaultCalendar: false },
    ],
  });
  const calendarId = shape === 'writable' ? calendarIds[0]! : calendarIds[1]!;
  const settings = standinSettings(standin);
  const link = await linkAccount(standin, email, settings);
  const context: ProviderContext = {
    requestTimeoutMs: 5000,
    userAgent: 'Calbridge-test/1.0',
    apiUrls: { google: 'https://google.invalid', microsoftGraph: standin.graphUrl },
  };
  const make = (credentials: OAuthCredentials) =>
    createMicrosoftProvider(
      { provider: 'microsoft', serverUrl: null, credentials, grant: memoryGrant(settings, credentials) },
      context,
    );
  // Another account of the tenant whose grant was revoked: Graph refuses its token, Entra its refresh.
  const revokedEmail = `revoked-${accounts}@example.com`;
  standin.addAccount({ email: revokedEmail });
  const revoked = await linkAccount(standin, revokedEmail, settings);
  standin.revokeGrant(revokedEmail, 'revoked');
  const eventIds = new Map<string, string>();
  return {
    provider: () => make(link.credentials),
    providerWithBadCredentials: () => make(revoked.credentials),
    calendarId,
    calendarReadOnly: shape === 'read-only',
    accountEmail: email,
    capabilities: { writes: shape === 'writable', incremental: true },
    seed: {
      async putEvent(event: NeutralEvent) {
        const id = standin.putEvent(email, calendarId, {
          ...(eventIds.has(event.uid) ? { id: eventIds.get(event.uid)! } : {}),
          iCalUId: event.uid,
          subject: event.title,
          start: event.start,
          end: event.end,
          timeZone: 'W. Europe Standard Time',
        });
        eventIds.set(event.uid, id);
      },
      async deleteEvent(uid: string) {
        standin.deleteEvent(email, calendarId, eventIds.get(uid)!);
      },
    },
    expireCursors: async () => standin.expireDeltaTokens(),
    async close() {},
  };
}

describeProviderConformance('Microsoft Graph (stand-in)', () => graphDriver('writable'));
describeProviderConformance('Microsoft Graph read-only calendar (stand-in)', () => graphDriver('read-only'));
