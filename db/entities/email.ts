import { defineEntity, p } from '@mikro-orm/core';
import type { EmailStatus } from '../../domain/email.ts';

/**
 * Outgoing mail. Rows are written with a deterministic `dedupeKey` so a retried activity never
 * queues the same message twice, then delivered by SMTP (or kept as .eml files locally).
 */
export const EmailOutbox = defineEntity({
  name: 'EmailOutbox',
  tableName: 'email_outbox',
  properties: {
    id: p.uuid().primary(),
    dedupeKey: p.string(),
    toAddress: p.string(),
    subject: p.string(),
    textBody: p.text(),
    htmlBody: p.text().nullable(),
    icalMethod: p.string().nullable(),
    icalBody: p.text().nullable(),
    status: p.string().$type<EmailStatus>().default('pending'),
    attempts: p.integer().default(0),
    lastError: p.string().nullable(),
    sentAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
