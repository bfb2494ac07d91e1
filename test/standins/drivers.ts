/**
 * One face for both stand-ins, for scenarios that run the same steps against Google and Microsoft
 * (test/connections/oauth-connection.test.ts, bench/push-latency.ts).
 */
import { type GoogleStandin, startGoogleStandin } from './google/server.ts';
import { type MicrosoftStandin, startMicrosoftStandin } from './microsoft/standin.ts';

const HOUR = 3_600_000;

export type OAuthProviderName = 'google' | 'microsoft';

export interface StandinDriver {
  provider: OAuthProviderName;
  /** The environment that points Calbridge at this stand-in. */
  env: Record<string, string>;
  clientSecret: string;
  /** A new account; returns the id of the calendar that will be primary. */
  addAccount(email: string): string;
  consentAs(email: string): void;
  /** Creates a one-hour event, or moves the one with `id`; returns its id. */
  putEvent(email: string, calendarId: string, title: string, start: Date, id?: string): string;
  expireCursors(): void;
  revokeGrant(email: string): void;
  /** Live push channels / subscriptions. */
  channels(): number;
  /** Change notifications sent to our webhook: answered with a 2xx, or not. */
  notifications(): { delivered: number; failed: number };
  /** Events the adapter wrote (our marker), by title. */
  writtenEvents(email: string, calendarId: string): string[];
  /** Whether the grant was revoked at the provider on removal (true where the provider has no revocation). */
  revokedOnRemoval(): boolean;
  /** Sends push deliveries to this origin instead of PUBLIC_URL's. */
  deliverTo(origin: string): void;
  close(): Promise<void>;
}

const outcomes = (statuses: (number | null)[]) => ({
  delivered: statuses.filter((s) => s !== null && s < 300).length,
  failed: statuses.filter((s) => s === null || s >= 300).length,
});

export function googleDriver(standin: GoogleStandin): StandinDriver {
  return {
    provider: 'google',
    env: standin.env,
    clientSecret: standin.clientSecret,
    addAccount: (email) => standin.addAccount({ email }).calendarIds[0]!,
    consentAs: (email) => standin.consentAs(email),
    putEvent: (email, calendarId, title, start, id) =>
      standin.putEvent(email, calendarId, {
        ...(id ? { id } : {}),
        summary: title,
        start,
        end: new Date(start.getTime() + HOUR),
      }),
    expireCursors: () => standin.expireSyncTokens(),
    revokeGrant: (email) => standin.revokeGrant(email),
    channels: () => standin.channels().length,
    notifications: () =>
      outcomes(
        standin
          .deliveries()
          .filter((d) => d.state === 'exists')
          .map((d) => d.status),
      ),
    writtenEvents: (email, calendarId) =>
      standin
        .listEvents(email, calendarId)
        .filter((e) => e.extendedProperties?.private?.calbridgeId && e.status !== 'cancelled')
        .map((e) => e.summary ?? ''),
    revokedOnRemoval: () => standin.revokedTokens().length > 0,
    deliverTo: (origin) => standin.deliverTo(origin),
    close: () => standin.close(),
  };
}

export function microsoftDriver(standin: MicrosoftStandin): StandinDriver {
  return {
    provider: 'microsoft',
    env: standin.env,
    clientSecret: standin.clientSecret,
    addAccount: (email) => standin.addAccount({ email }).calendarIds[0]!,
    consentAs: (email) => standin.consentAs(email),
    putEvent: (email, calendarId, title, start, id) =>
      standin.putEvent(email, calendarId, {
        ...(id ? { id } : {}),
        subject: title,
        start,
        end: new Date(start.getTime() + HOUR),
      }),
    expireCursors: () => standin.expireDeltaTokens(),
    revokeGrant: (email) => standin.revokeGrant(email, 'revoked'),
    channels: () => standin.subscriptions().length,
    notifications: () =>
      outcomes(
        standin
          .deliveries()
          .filter((d) => d.kind === 'change')
          .map((d) => d.status),
      ),
    writtenEvents: (email, calendarId) =>
      standin
        .listEvents(email, calendarId)
        .filter((e) => e.transactionId && !e.isCancelled)
        .map((e) => e.subject),
    // Entra has no endpoint where a client revokes a user's grant: it is forgotten with the row.
    revokedOnRemoval: () => true,
    deliverTo: (origin) => standin.deliverTo(origin),
    close: () => standin.close(),
  };
}

export async function startStandinDriver(provider: OAuthProviderName): Promise<StandinDriver> {
  return provider === 'google'
    ? googleDriver(await startGoogleStandin())
    : microsoftDriver(await startMicrosoftStandin());
}
