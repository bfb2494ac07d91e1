/**
 * Cross-site request forgery: every form carries a token that only a page of ours could have put
 * there. It is an HMAC of the browser's own random cookie (set on its first page) and of its
 * session when signed in, so a token taken from another browser, or from before sign-in or
 * sign-out, does not fit. Every POST to the pages must carry it in the `_csrf` field.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../platform/crypto.ts';

export const CSRF_FIELD = '_csrf';

export function csrfTokens(encryptionKey: Buffer) {
  const key = Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'calbridge web csrf', 32));
  const tokenFor = (browserId: string, sessionId: string | null) =>
    createHmac('sha256', key)
      .update(`${browserId}|${sessionId ?? ''}`)
      .digest('base64url');
  return {
    newBrowserId: () => randomBytes(32).toString('base64url'),
    tokenFor,
    verify: (sent: unknown, browserId: string | undefined, sessionId: string | null) =>
      typeof sent === 'string' &&
      browserId !== undefined &&
      constantTimeEqual(sent, tokenFor(browserId, sessionId)),
  };
}
