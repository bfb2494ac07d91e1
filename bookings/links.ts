/**
 * One-time links: each good for exactly one booking. The token (256 random bits) is shown once;
 * only its hash is stored. The booking's hold consumes the link in its own transaction (hold.ts).
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { BookingCalendarRow, OneTimeLinkRow } from '../db/entities/booking.ts';
import { BookingCalendar, OneTimeLink } from '../db/entities/index.ts';
import type { OneTimeLinkStatus } from '../domain/booking.ts';
import { AppError, notFound } from '../domain/errors.ts';
import { hashToken, newToken } from '../platform/crypto.ts';
import { type Actor, findHostedCalendar, hostsOf } from './booking-calendars.ts';

export interface OneTimeLinkView {
  id: string;
  token?: string;
  url?: string;
  status: OneTimeLinkStatus;
  expiresAt: string | null;
  usedAt: string | null;
  createdAt: string;
}

export const oneTimeLinkUrl = (publicUrl: string, token: string) => `${publicUrl}/l/${token}`;

export async function createOneTimeLink(
  em: EntityManager,
  actor: Actor,
  slug: string,
  options: { expiresAt: Date | null },
  publicUrl: string,
): Promise<OneTimeLinkView> {
  const { calendar } = await findHostedCalendar(em, actor, slug);
  const token = newToken('otl', 32);
  const link = em.create(OneTimeLink, {
    id: randomUUID(),
    bookingCalendarId: calendar.id,
    tokenHash: hashToken(token),
    expiresAt: options.expiresAt,
    createdBy: actor.kind === 'user' ? actor.userId : null,
  });
  await em.flush();
  return { ...linkView(link), token, url: oneTimeLinkUrl(publicUrl, token) };
}

export async function listOneTimeLinks(
  em: EntityManager,
  actor: Actor,
  slug: string,
): Promise<OneTimeLinkView[]> {
  const { calendar } = await findHostedCalendar(em, actor, slug);
  const links = await em.find(
    OneTimeLink,
    { bookingCalendarId: calendar.id },
    { orderBy: { createdAt: 'desc' } },
  );
  return links.map(linkView);
}

/** Revokes a link of one of the actor's calendars; revoking twice is harmless. */
export async function revokeOneTimeLink(em: EntityManager, actor: Actor, linkId: string): Promise<void> {
  const link = await em.findOne(OneTimeLink, { id: linkId });
  if (!link) throw notFound('One-time link');
  const hosts = await hostsOf(em, link.bookingCalendarId);
  if (actor.kind === 'user' && !hosts.includes(actor.userId)) throw notFound('One-time link');
  await em.nativeUpdate(OneTimeLink, { id: linkId, status: 'active' }, { status: 'revoked' });
}

/**
 * The link a visitor holds and its booking calendar, if it can still be used: 404 for an unknown
 * token, 410 `link_used` / `link_revoked` (and expired) with a message that says what to do.
 */
export async function usableLink(
  em: EntityManager,
  token: string,
): Promise<{ link: OneTimeLinkRow; calendar: BookingCalendarRow }> {
  const link = await em.findOne(OneTimeLink, { tokenHash: hashToken(token) });
  if (!link) throw notFound('One-time link');
  const calendar = await em.findOne(BookingCalendar, { id: link.bookingCalendarId });
  if (!calendar) throw notFound('One-time link');
  assertUsable(link, await ownerName(em, calendar.id));
  return { link, calendar };
}

export function assertUsable(link: Pick<OneTimeLinkRow, 'status' | 'expiresAt'>, owner: string): void {
  if (link.status === 'used') throw linkUsed(owner);
  if (link.status === 'revoked') throw linkRevoked(owner);
  if (link.expiresAt && link.expiresAt.getTime() <= Date.now()) throw linkExpired(owner);
}

export const linkUsed = (owner: string) =>
  new AppError(410, 'link_used', `This link has already been used. Please contact ${owner} for a new one.`);
const linkRevoked = (owner: string) =>
  new AppError(410, 'link_revoked', `This link is no longer valid. Please contact ${owner} for a new one.`);
const linkExpired = (owner: string) =>
  new AppError(410, 'link_revoked', `This link has expired. Please contact ${owner} for a new one.`);

/** Who a visitor should contact: the first host's name and address. */
export async function ownerName(em: EntityManager, bookingCalendarId: string): Promise<string> {
  const [row] = await em.execute<{ name: string; email: string }[]>(
    `select u.name, u.email from booking_calendar_hosts h join users u on u.id = h.user_id
        where h.booking_calendar_id = ? order by h.position limit 1`,
    [bookingCalendarId],
  );
  return row ? `${row.name} (${row.email})` : 'the owner of this booking page';
}

function linkView(link: OneTimeLinkRow): OneTimeLinkView {
  return {
    id: link.id,
    status: link.status,
    expiresAt: link.expiresAt ? link.expiresAt.toISOString() : null,
    usedAt: link.usedAt ? link.usedAt.toISOString() : null,
    createdAt: link.createdAt.toISOString(),
  };
}
