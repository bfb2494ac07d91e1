/** Outgoing mail: a row in the outbox is pending until delivered once. */
export const EMAIL_STATUSES = ['pending', 'sent', 'failed'] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

/** A message to send once: the same `dedupeKey` always means the same message. */
export interface EmailRequest {
  dedupeKey: string;
  to: string;
  subject: string;
  text: string;
  /** The same message as HTML, for mail clients that show it. */
  html?: string;
  ical?: { method: string; content: string };
}

/** A message in the outbox: its row id and the key that names its delivery run (email/<dedupeKey>). */
export interface QueuedEmail {
  id: string;
  dedupeKey: string;
}
