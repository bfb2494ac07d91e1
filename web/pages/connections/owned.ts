/** Finding the signed-in provider's connection from a URL: anything else is the same 404. */
import type { Request } from 'express';
import { z } from 'zod';
import { findOwnedConnection } from '../../../connections/views.ts';
import type { CalendarConnectionRow } from '../../../db/entities/connection.ts';
import { notFound } from '../../../domain/errors.ts';
import type { WebContext } from '../../context.ts';
import { PROVIDER_NAMES } from '../calendars.ts';

const connectionId = z.uuid();
export const isConnectionId = (value: string) => connectionId.safeParse(value).success;

/** A malformed id never reaches PostgreSQL (a uuid column would refuse it with a 5xx). */
export async function ownedConnection(
  ctx: WebContext,
  req: Request,
  userId: string,
): Promise<CalendarConnectionRow> {
  const id = connectionId.safeParse(req.params.id);
  if (!id.success) throw notFound('Connection');
  return findOwnedConnection(ctx.em(req), userId, id.data);
}

export const providerName = (provider: string) => PROVIDER_NAMES[provider] ?? provider;

/** "Google · ada@example.com": how a connection is named in headings. */
export const connectionTitle = (connection: { provider: string; accountEmail?: string | null }) =>
  connection.accountEmail
    ? `${providerName(connection.provider)} · ${connection.accountEmail}`
    : providerName(connection.provider);

/** A single form value: repeated or missing fields read as empty. */
export const formValue = (value: unknown): string => (typeof value === 'string' ? value : '');
