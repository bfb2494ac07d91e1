/**
 * The manage token in a booking's e-mails and invite lets its holder see, reschedule or cancel that
 * one booking. It is derived (HMAC) from the booking id under a key of its own, so it never needs to
 * be stored or handed to Temporal to be written into an e-mail later; PostgreSQL keeps its hash.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { constantTimeEqual, hashToken } from '../platform/crypto.ts';

export function manageToken(encryptionKey: Buffer, bookingId: string): string {
  const key = Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'calbridge manage token', 32));
  return `cbm_${createHmac('sha256', key).update(bookingId).digest('base64url')}`;
}

export const manageTokenHash = (encryptionKey: Buffer, bookingId: string) =>
  hashToken(manageToken(encryptionKey, bookingId));

export function isManageToken(encryptionKey: Buffer, bookingId: string, token: string): boolean {
  return constantTimeEqual(token, manageToken(encryptionKey, bookingId));
}

export const manageUrl = (publicUrl: string, encryptionKey: Buffer, bookingId: string) =>
  `${publicUrl}/manage/${bookingId}?token=${manageToken(encryptionKey, bookingId)}`;
