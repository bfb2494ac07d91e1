/**
 * What the rest of the system needs to know about a provider besides its CalendarProvider: how a
 * user connects it (the API body), how that body is stored (settings vs. encrypted secrets), and how
 * often it is polled. One of these per provider folder; registry.ts lists them.
 */
import type { z } from 'zod';
import type { ProviderKind } from '../domain/connection.ts';
import type { Config } from '../platform/config.ts';
import type { CalendarProvider, ProviderConnection, ProviderContext } from './contract.ts';
import type { OAuthModule } from './oauth.ts';
import { outboundFor } from './outbound/context.ts';

export interface StoredConnectionParts {
  serverUrl: string | null;
  /** Encrypted at rest; never passed to Temporal. */
  credentials: Record<string, unknown>;
  /** What the user sees as the account (login or e-mail), if known before verification. */
  accountEmail: string | null;
  /** Identifies "the same account" to refuse linking it twice. */
  identity: string;
}

export interface ProviderModule<Body extends z.ZodObject = z.ZodObject> {
  kind: ProviderKind;
  /** Nothing can be written to this provider (ICS feeds): a connection to it syncs inbound only. */
  readOnly?: boolean;
  /** The POST /v1/connections (and reconnect) body for this provider, without `provider`. */
  connectBody: Body;
  /** Password and feed providers: what the connect body stores. Absent for OAuth providers. */
  toStored?(body: z.output<Body>, config: Config): StoredConnectionParts;
  /** OAuth providers (Google, Microsoft): consent, code exchange, refresh, revocation. */
  oauth?: OAuthModule;
  create(connection: ProviderConnection, context: ProviderContext): CalendarProvider;
  pollSeconds(config: Config): number;
  /**
   * Its adapters answer `unchangedSince` without credentials to refresh, so the worker's poll loop
   * (connections/watched-polls.ts) asks that and wakes the connection's run only on a change.
   */
  conditionalPoll?: boolean;
}

export function providerContext(config: Config): ProviderContext {
  return {
    requestTimeoutMs: config.PROVIDER_TIMEOUT_SECONDS * 1000,
    userAgent: 'Calbridge/0.1 (+calendar sync)',
    outbound: outboundFor(config),
    apiUrls: { google: config.GOOGLE_API_URL, microsoftGraph: config.MICROSOFT_GRAPH_URL },
  };
}
