/** The e-mail outbox: a message is queued once per dedupe key and delivered from its row. */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EmailRequest } from '../domain/email.ts';

/** Adds the message unless its dedupe key is already there; returns the row's id either way. */
export async function queueEmail(em: EntityManager, request: EmailRequest): Promise<string> {
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
}
