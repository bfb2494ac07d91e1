/**
 * E-mail through the outbox: queue once (deduplicated by key), deliver at most once per row. The
 * email/<dedupeKey> workflow runs these two with durable retries; nothing else sends mail.
 */
import { EmailOutbox } from '../db/entities/index.ts';
import { queueEmail } from '../db/outbox.ts';
import type { EmailRequest } from '../domain/email.ts';
import type { ActivityDeps } from './deps.ts';

export function createEmailActivities({ orm, config, mailer }: ActivityDeps) {
  return {
    /** Adds the message to the outbox unless its dedupe key is already there; returns its id. */
    async queueEmail(request: EmailRequest): Promise<string> {
      return queueEmail(orm.em.fork(), request);
    },

    /** Sends a queued message; a message already sent is not sent again. */
    async deliverEmail(emailId: string): Promise<'sent' | 'already_sent'> {
      const em = orm.em.fork();
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
    },
  };
}
