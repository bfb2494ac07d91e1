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
      return deliver(orm.em.fork(), config, mailer, emailId);
    },

    /**
     * One attempt at each message, side by side; answers those that did not go (their failure is
     * recorded on the row), for the caller to hand to durable delivery runs.
     */
    async deliverEmailsNow(emails: QueuedEmail[]): Promise<QueuedEmail[]> {
      const results = await Promise.allSettled(
        emails.map((email) => deliver(orm.em.fork(), config, mailer, email.id)),
      );
      return emails.filter((_, i) => results[i]!.status === 'rejected');
    },
  };
}

async function deliver(
  em: EntityManager,
  config: Config,
  mailer: Mailer,
  emailId: string,
): Promise<'sent' | 'already_sent'> {
  const mail = await em.findOneOrFail(EmailOutbox, { id: emailId });
  if (mail.status === 'sent') return 'already_sent';
  try {
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
  } catch (error) {
    await em.nativeUpdate(
      EmailOutbox,
      { id: emailId },
      { attempts: mail.attempts + 1, lastError: String((error as Error).message).slice(0, 500) },
    );
    throw error;
  }
  await em.nativeUpdate(
    EmailOutbox,
    { id: emailId },
    { status: 'sent', sentAt: new Date(), attempts: mail.attempts + 1, lastError: null },
  );
  return 'sent';
}
