/**
 * E-mail through the outbox: queue once (deduplicated by key), deliver at most once per row. The
 * email/<dedupeKey> workflow runs these two with durable retries; nothing else sends mail.
 */
import { randomUUID } from 'node:crypto';
import { EmailOutbox } from '../db/entities/index.ts';
import type { EmailRequest } from '../domain/email.ts';
import type { ActivityDeps } from './deps.ts';

export function createEmailActivities({ orm, config, mailer }: ActivityDeps) {
  return {
    /** Adds the message to the outbox unless its dedupe key is already there; returns its id. */
    async queueEmail(request: EmailRequest): Promise<string> {
      const em = orm.em.fork();
      const [row] = await em.execute<{ id: string }[]>(
        `insert into email_outbox (id, dedupe_key, to_address, subject, text_body, html_body, ical_method, ical_body)
         values (?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (dedupe_key) do update set dedupe_key = excluded.dedupe_key
         returning id`,
        [
          randomUUID(),
          request.dedupeKey,
          request.to,
          request.subject,
          request.text,
          request.html ?? null,
          request.ical?.method ?? null,
          request.ical?.content ?? null,
        ],
      );
      return row!.id;
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
