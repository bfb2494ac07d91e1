/**
 * Sends mail by SMTP (SMTP_URL), or, without one, keeps each message as an .eml file under
 * DATA_DIR/mail so local development and tests can read what would have been sent.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';

export interface OutgoingMail {
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** An iCalendar attachment sent as text/calendar with this METHOD (REQUEST, CANCEL, ...). */
  ical?: { method: string; content: string };
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}

export function createMailer(options: { smtpUrl?: string; mailDir: string }): Mailer {
  if (options.smtpUrl) {
    const transport = nodemailer.createTransport(options.smtpUrl);
    return { send: async (mail) => void (await transport.sendMail(toMessage(mail))) };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    async send(mail) {
      const info = await transport.sendMail(toMessage(mail));
      await mkdir(options.mailDir, { recursive: true });
      await writeFile(path.join(options.mailDir, `${mail.id}.eml`), info.message as Buffer);
    },
  };
}

function toMessage(mail: OutgoingMail) {
  return {
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    ...(mail.html ? { html: mail.html } : {}),
    messageId: `<${mail.id}@calbridge>`,
    // nodemailer's default method is PUBLISH, which mail clients do not treat as an invitation.
    ...(mail.ical ? { icalEvent: { method: mail.ical.method, content: mail.ical.content } } : {}),
  };
}
