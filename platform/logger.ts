import pino from 'pino';

/** Paths that must never reach a log line. */
const redact = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-goog-channel-token"]',
  '*.password',
  '*.appPassword',
  '*.apiToken',
  '*.token',
  '*.refreshToken',
  '*.accessToken',
  '*.credentials',
];

export function createLogger(level: string, name: string) {
  return pino({ name, level, redact: { paths: redact, censor: '[redacted]' } });
}

export type Logger = ReturnType<typeof createLogger>;
