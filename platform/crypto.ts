/** Secrets at rest (AES-256-GCM) and bearer tokens (stored only as SHA-256 hashes). */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const VERSION = 1;

/** Encrypts a JSON-serialisable value: version(1) | iv(12) | tag(16) | ciphertext. */
export function encryptJson(key: Buffer, value: unknown, associatedData: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  // Binding the row id as associated data stops a ciphertext from being swapped onto another row.
  cipher.setAAD(Buffer.from(associatedData));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ciphertext]);
}

export function decryptJson<T = unknown>(key: Buffer, blob: Buffer, associatedData: string): T {
  if (blob[0] !== VERSION) throw new Error('Unknown ciphertext version');
  const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(1, 13));
  decipher.setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(blob.subarray(13, 29));
  const plain = Buffer.concat([decipher.update(blob.subarray(29)), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as T;
}

/** A new bearer token (192 random bits unless told otherwise); the prefix tells what it is when it shows up in a log. */
export function newToken(prefix: string, bytes = 24): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
