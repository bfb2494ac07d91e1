/** What the booking-calendar pages share: who acts, in which zone times are shown, the copy rows. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Request } from 'express';
import { z } from 'zod';
import { bookingCalendarSlug } from '../../../bookings/booking-calendar-input.ts';
import type { Actor } from '../../../bookings/booking-calendars.ts';
import { notFound } from '../../../domain/errors.ts';
import { readUser } from '../../../users/accounts.ts';
import { type Html, html } from '../../html.ts';

export const userActor = (userId: string): Actor => ({ kind: 'user', userId });

/** The provider's own zone: every time on these pages is shown in it, with its name. */
export const zoneOf = async (em: EntityManager, userId: string) => (await readUser(em, userId)).timeZone;

/**
 * The slug in the path, or 404: a slug no calendar could have is not looked up (a NUL byte in a
 * path would otherwise reach PostgreSQL).
 */
export function slugParam(req: Request): string {
  const parsed = bookingCalendarSlug.safeParse(req.params.slug);
  if (!parsed.success) throw notFound('Booking calendar');
  return parsed.data;
}

/** An id in the path (a one-time link, a booking), or 404. */
export function idParam(req: Request, what: string): string {
  const parsed = z.uuid().safeParse(req.params.id);
  if (!parsed.success) throw notFound(what);
  return parsed.data;
}

/** The flash after a redirect, from `?done=`; unknown values show nothing. */
export const flashOf = (req: Request, messages: Record<string, string>) =>
  typeof req.query.done === 'string' ? (messages[req.query.done] ?? null) : null;

/** A read-only link with a copy button (web/static/app.js); without script, select and copy it. */
export function copyRow(id: string, label: string | Html, url: string): Html {
  // Plain button text: the script swaps it for "Copied" and back.
  return html`<div class="field">
    <label for="${id}" id="${id}-label">${label}</label>
    <div class="copy-row">
      <input id="${id}" type="url" value="${url}" readonly>
      <button type="button" class="secondary" data-copy="#${id}" aria-describedby="${id}-label">Copy link</button>
    </div>
  </div>`;
}

export const minutesText = (minutes: number) => (minutes === 1 ? '1 minute' : `${minutes} minutes`);
