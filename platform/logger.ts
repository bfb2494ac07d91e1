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

/** `destination`: where lines go instead of stdout (tests read them). */
export function createLogger(level: string, name: string, destination?: pino.DestinationStream) {
  return pino({ name, level, redact: { paths: redact, censor: '[redacted]' } }, destination);
}

export type Logger = ReturnType<typeof createLogger>;
