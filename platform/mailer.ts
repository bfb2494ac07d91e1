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
  /** Closes pooled SMTP connections (at shutdown). */
  close(): void;
}

export function createMailer(options: { smtpUrl?: string; mailDir: string }): Mailer {
  if (options.smtpUrl) {
    // Pooled: a booking's e-mails reuse open connections instead of paying connect, greeting and
    // TLS for each message. Bounded timeouts, so a hung relay fails a delivery within ~30 s (its
    // run retries) instead of nodemailer's default of minutes. Query parameters of SMTP_URL win.
    const transport = nodemailer.createTransport({
      url: options.smtpUrl,
      pool: true,
      maxConnections: 4,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    return {
      send: async (mail) => void (await transport.sendMail(toMessage(mail))),
      close: () => transport.close(),
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    async send(mail) {
      const info = await transport.sendMail(toMessage(mail));
      await mkdir(options.mailDir, { recursive: true });
      await writeFile(path.join(options.mailDir, `${mail.id}.eml`), info.message as Buffer);
    },
    close() {},
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
