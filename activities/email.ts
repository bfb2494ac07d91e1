/**
 * E-mail through the outbox: queue once (deduplicated by key), deliver at most once per row. A
 * run delivers its queued messages itself first (deliverEmailsNow, a local activity); what cannot
 * go at once gets an email/<dedupeKey> run that retries durably (workflows/email.ts).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { EmailOutbox } from '../db/entities/index.ts';
import { queueEmail } from '../db/outbox.ts';
import type { EmailRequest, QueuedEmail } from '../domain/email.ts';
import type { Config } from '../platform/config.ts';
import type { Mailer } from '../platform/mailer.ts';
import type { ActivityDeps } from './deps.ts';

export function createEmailActivities({ orm, config, mailer }: ActivityDeps) {
  return {
    /** Adds the message to the outbox unless its dedupe key is already there; returns its id. */
    async queueEmail(request: EmailRequest): Promise<string> {
      return queueEmail(orm.em.fork(), request);
    },

    /** Sends a queued message; a message already sent is not sent again. */
    async deliverEmail(emailId: string): Promise<'sent' | 'already_sent'> {
      const [result] = await deliver(orm.em.fork(), config, mailer, [emailId]);
      if (result!.status === 'rejected') throw result!.reason;
      return result!.value;
    },

    /**
     * One attempt at each message, side by side; answers those that did not go (their failure is
     * recorded on the row), for the caller to hand to durable delivery runs.
     */
    async deliverEmailsNow(emails: QueuedEmail[]): Promise<QueuedEmail[]> {
      return sendQueuedNow({ orm, config, mailer }, emails);
    },
  };
}

/**
 * One attempt at each queued message, side by side; answers those that did not go (their failure
 * is recorded on the row). Throws only when the outbox itself cannot be read or written.
 */
export async function sendQueuedNow(
  { orm, config, mailer }: Pick<ActivityDeps, 'orm' | 'config' | 'mailer'>,
  emails: QueuedEmail[],
): Promise<QueuedEmail[]> {
  if (!emails.length) return [];
  const results = await deliver(
    orm.em.fork(),
    config,
    mailer,
    emails.map((email) => email.id),
  );
  return emails.filter((_, i) => results[i]!.status === 'rejected');
}

/** Sends each queued message not sent yet, side by side: one read and one write for them all. */
async function deliver(
  em: EntityManager,
  config: Config,
  mailer: Mailer,
  emailIds: string[],
): Promise<PromiseSettledResult<'sent' | 'already_sent'>[]> {
  const rows = new Map(
    (await em.find(EmailOutbox, { id: { $in: emailIds } })).map((mail) => [mail.id, mail] as const),
  );
  const results = await Promise.allSettled(
    emailIds.map(async (emailId) => {
      const mail = rows.get(emailId);
      if (!mail) throw new Error(`e-mail ${emailId} is not in the outbox`);
      if (mail.status === 'sent') return 'already_sent' as const;
      await mailer.send({
        id: mail.id,
        from: config.EMAIL_FROM,
        to: mail.toAddress,
        subject: mail.subject,
        text: mail.textBody,
        ...(mail.htmlBody ? { html: mail.htmlBody } : {}),
        ...(mail.icalMethod && mail.icalBody
          ? { ical: { method: mail.icalMethod, content: mail.icalBody } }
          : {}),
      });
      return 'sent' as const;
    }),
  );
  const sent = emailIds.filter((_, i) => results[i]!.status === 'fulfilled' && results[i]!.value === 'sent');
  const failed = emailIds.flatMap((id, i) => {
    const result = results[i]!;
    return result.status === 'rejected' && rows.has(id)
      ? [{ id, error: String((result.reason as Error).message).slice(0, 500) }]
      : [];
  });
  if (sent.length)
    await em.execute(
      `update email_outbox set status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = null
        where id = any(?::uuid[])`,
      [`{${sent.join(',')}}`],
    );
  if (failed.length)
    await em.execute(
      `update email_outbox o set attempts = o.attempts + 1, last_error = f.error
         from jsonb_to_recordset(?::jsonb) as f(id uuid, error text) where o.id = f.id`,
      [JSON.stringify(failed)],
    );
  return results;
}
