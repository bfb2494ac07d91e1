/** What a connection tells its owner by e-mail. Composed here, sent through the outbox (workflows/email.ts). */
import type { ProviderKind } from '../domain/connection.ts';
import type { EmailRequest } from '../domain/email.ts';

/**
 * "Reconnect your calendar": once per set of credentials, so a reconnect with new ones that fail
 * again mails again, while a connection that stays broken never mails twice.
 */
export function needsReauthNotice(
  connection: {
    id: string;
    userId: string;
    provider: ProviderKind;
    accountEmail: string | null;
    credentialsVersion: number;
  },
  reason: string,
  publicUrl: string,
): EmailRequest {
  const { id, provider, accountEmail } = connection;
  const label = accountEmail ? `${provider} account ${accountEmail}` : `${provider} calendar`;
  return {
    dedupeKey: `needs-reauth:${id}:${connection.credentialsVersion}`,
    to: connection.userId,
    subject: `Action needed: reconnect your ${label}`,
    text: [
      `Calbridge can no longer read your ${label}: the provider rejected the stored credentials (${reason}).`,
      '',
      'Your availability still uses the busy times imported before this happened, but new changes are not seen until you reconnect.',
      provider === 'icloud'
        ? 'Create a new app-specific password at appleid.apple.com, then reconnect with it.'
        : 'Reconnect with the current password (or feed URL).',
      '',
      `Reconnect on your Calendars page (the Reconnect button beside this calendar): ${publicUrl}/console/calendars`,
      `Through the API: POST ${publicUrl}/v1/connections/${id}/reconnect`,
      'Sync resumes where it stopped, without duplicates.',
    ].join('\n'),
  };
}
