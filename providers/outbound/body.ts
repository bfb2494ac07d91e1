/**
 * Reading a response body under a byte cap that holds for what we keep, i.e. AFTER decompression: a
 * few hundred KB of gzip can inflate to gigabytes. The body streams through the decoders and stops
 * the moment the cap is passed; a declared Content-Length over the cap is refused before reading.
 */
import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { InvalidDataError } from '../errors.ts';
import { ResponseTooLargeError } from './errors.ts';

export interface BodyLimit {
  maxBytes: number;
  /** Keep the first `maxBytes` and drop the rest instead of failing (error pages: only their start matters). */
  truncate: boolean;
}

/** What we tell servers we can decode; anything else they send is refused. */
export const ACCEPT_ENCODING = 'gzip, deflate, br';

const STOP = Symbol('body cap reached');

export async function readBody(
  response: IncomingMessage,
  limit: BodyLimit,
  host: string,
  signal: AbortSignal,
): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (!limit.truncate && Number.isFinite(declared) && declared > limit.maxBytes) {
    response.destroy();
    throw new ResponseTooLargeError(host, limit.maxBytes);
  }
  const decoders = decodersFor(response.headers['content-encoding'], host);
  const chunks: Buffer[] = [];
  let size = 0;
  const overflow = () => (limit.truncate ? STOP : new ResponseTooLargeError(host, limit.maxBytes));
  // pipeline's overloads do not cover a spread of transforms; the call is the documented form.
  const run = pipeline as (...stages: unknown[]) => Promise<void>;
  try {
    await run(
      response,
      // Compressed bytes count too: a stream of empty deflate blocks inflates to nothing, forever.
      byteCounter(limit.maxBytes, overflow),
      ...decoders,
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          if (size + chunk.length > limit.maxBytes) {
            chunks.push(chunk.subarray(0, limit.maxBytes - size));
            size = limit.maxBytes;
            throw overflow();
          }
          chunks.push(chunk);
          size += chunk.length;
        }
      },
      { signal },
    );
  } catch (error) {
    if (error === STOP) return Buffer.concat(chunks, size);
    if (isZlibError(error)) {
      throw new InvalidDataError(`The response from ${host} could not be decompressed`);
    }
    throw error;
  }
  return Buffer.concat(chunks, size);
}

function byteCounter(maxBytes: number, overflow: () => unknown): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > maxBytes) callback(overflow() as Error);
      else callback(null, chunk);
    },
  });
}

/** Decoders in the order to apply them (the reverse of the order the server applied its codings). */
function decodersFor(header: string | undefined, host: string): Transform[] {
  const codings = (header ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  // Z_SYNC_FLUSH: a body cut short decodes as far as it goes instead of failing, as browsers do; a
  // truncated feed is then caught by the iCalendar checks.
  return codings.reverse().map((coding) => {
    if (coding === 'gzip' || coding === 'x-gzip') {
      return zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    }
    if (coding === 'deflate') return zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    if (coding === 'br') {
      return zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
    }
    throw new InvalidDataError(`The response from ${host} uses a content encoding this server cannot read`);
  });
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR_BROTLI'));
}
