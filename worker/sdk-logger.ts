/**
 * The Temporal SDK's own log messages (worker lifecycle, bundling, the native core) as pino lines:
 * one JSON object per line like every other log, instead of console dumps of nested objects.
 */
import {
  type LogLevel,
  type LogMetadata,
  makeTelemetryFilterString,
  type Logger as SdkLogger,
} from '@temporalio/worker';
import pino from 'pino';
import type { Logger } from '../platform/logger.ts';

type PinoLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const pinoLevel: Record<LogLevel, PinoLevel> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The SDK narrates every worker start and stop at info, which would bury the launcher's banner: it
 * shows from warn on, unless LOG_LEVEL asks for debug or more, or for less than warn.
 */
export function sdkLevel(logger: Logger): string {
  const { values } = pino.levels;
  if (logger.level === 'silent' || logger.levelVal <= values.debug! || logger.levelVal >= values.warn!)
    return logger.level;
  return 'warn';
}

/**
 * What the native core forwards: its own messages at the same threshold; those of the libraries
 * under it (hyper, h2: every HTTP/2 frame at debug) only when they are errors, as the SDK's default.
 */
export function coreLogFilter(logger: Logger): string {
  const level = sdkLevel(logger);
  const core = (Object.keys(pinoLevel) as LogLevel[]).find((l) => pinoLevel[l] === level) ?? 'ERROR';
  return makeTelemetryFilterString({ core, other: 'ERROR' });
}

function fields(meta: LogMetadata | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {}))
    out[key] = value instanceof Error ? pino.stdSerializers.err(value) : value;
  return out;
}

export function sdkLogger(logger: Logger): SdkLogger {
  const child = logger.child({ component: 'temporal-sdk' }, { level: sdkLevel(logger) });
  const log = (level: LogLevel, message: string, meta?: LogMetadata) =>
    child[pinoLevel[level] ?? 'info'](fields(meta), message);
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
