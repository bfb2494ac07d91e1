/**
 * A real SMTP server in-process (smtp-server) on a free loopback port, keeping every message it
 * receives, parsed (postal-mime), so tests read what recipients would read.
 */
import PostalMime, { type Email } from 'postal-mime';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../worker/local/ports.ts';

export interface ReceivedMail {
  to: string[];
  raw: string;
  parsed: Email;
  /** The text/calendar part, decoded, if any. */
  calendar: string | null;
}

export interface SmtpSink {
  url: string;
  /** Every message received (none kept when started with `keep: false`). */
  messages: ReceivedMail[];
  /** How many messages were received. */
  readonly received: number;
  to(address: string): ReceivedMail[];
  stop(): Promise<void>;
}

/**
 * On `port` when given (a relay coming back where one was down), else on a free one. `keep: false`
 * only counts messages (benchmarks: parsing and keeping thousands would be the sink's cost, not ours).
 */
export async function startSmtpSink(options: { port?: number; keep?: boolean } = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // A loopback sink: a reverse DNS lookup per connection only adds latency (no DNS here).
    disableReverseLookup: true,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        received += 1;
        if (options.keep === false) return callback();
        const raw = Buffer.concat(chunks).toString('utf8');
        const parsed = await PostalMime.parse(raw);
        const part = parsed.attachments.find((a) => a.mimeType.startsWith('text/calendar'));
        const calendar =
          part === undefined
            ? null
            : typeof part.content === 'string'
              ? part.content
              : new TextDecoder().decode(part.content);
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, parsed, calendar });
        callback();
      });
    },
  });
  const port = options.port ?? (await freePort());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    get received() {
      return received;
    },
    to: (address) => messages.filter((m) => m.to.includes(address)),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
