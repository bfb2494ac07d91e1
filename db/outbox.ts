/** The e-mail outbox: a message is queued once per dedupe key and delivered from its row. */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EmailRequest, QueuedEmail } from '../domain/email.ts';

/** Adds the message unless its dedupe key is already there; returns the row's id either way. */
export async function queueEmail(em: EntityManager, request: EmailRequest): Promise<string> {
  const [queued] = await queueEmails(em, [request]);
  return queued!.id;
}

/** Adds each message unless its dedupe key is already there, in one statement; in request order. */
export async function queueEmails(em: EntityManager, requests: EmailRequest[]): Promise<QueuedEmail[]> {
  if (!requests.length) return [];
  const rows = await em.execute<{ id: string; dedupe_key: string }[]>(
    `insert into email_outbox (id, dedupe_key, to_address, subject, text_body, html_body, ical_method, ical_body)
     values ${requests.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
     on conflict (dedupe_key) do update set dedupe_key = excluded.dedupe_key
     returning id, dedupe_key`,
    requests.flatMap((request) => [
      randomUUID(),
      request.dedupeKey,
      request.to,
      request.subject,
      request.text,
      request.html ?? null,
      request.ical?.method ?? null,
      request.ical?.content ?? null,
    ]),
  );
  const idByKey = new Map(rows.map((r) => [r.dedupe_key, r.id]));
  return requests.map((r) => ({ id: idByKey.get(r.dedupeKey)!, dedupeKey: r.dedupeKey }));
}
