/** Users (calendar providers): creating one with its first API token and default working hours. */
import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { ApiToken, Schedule, User } from '../db/entities/index.ts';
import { AppError, notFound } from '../domain/errors.ts';
import { defaultWeeklyHours } from '../domain/schedule.ts';
import { hashToken, newToken } from '../platform/crypto.ts';
import { email, text, timeZone } from '../platform/validation.ts';

/** What POST /v1/users and the administrator's page accept for a new user. */
export const newUserInput = z.object({ email, name: text(200).trim().min(1, 'is required'), timeZone });
export type NewUser = z.infer<typeof newUserInput>;

export interface UserView {
  id: string;
  email: string;
  name: string;
  timeZone: string;
}

export const userView = (u: UserView): UserView => ({
  id: u.id,
  email: u.email,
  name: u.name,
  timeZone: u.timeZone,
});

/** Creates a user (id: the lower-cased e-mail) with a first API token, shown only here. */
export async function createUser(
  em: EntityManager,
  input: NewUser,
): Promise<UserView & { apiToken: string; tokenId: string }> {
  const id = input.email.toLowerCase();
  const apiToken = newToken('cbu');
  const tokenId = randomUUID();
  try {
    await em.transactional(async (tx) => {
      tx.create(User, { id, email: id, name: input.name, timeZone: input.timeZone });
      tx.create(ApiToken, { id: tokenId, userId: id, tokenHash: hashToken(apiToken) });
      tx.create(Schedule, {
        userId: id,
        timeZone: input.timeZone,
        weekly: defaultWeeklyHours(),
        overrides: [],
      });
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException)
      throw new AppError(409, 'already_exists', `A user with the e-mail ${id} already exists.`);
    throw error;
  }
  return { id, email: id, name: input.name, timeZone: input.timeZone, apiToken, tokenId };
}

export async function readUser(em: EntityManager, id: string): Promise<UserView> {
  const user = await em.findOne(User, { id: id.toLowerCase() });
  if (!user) throw notFound('User');
  return userView(user);
}

/** Every user, newest first (the administrator's page; capped). */
export async function listUsers(em: EntityManager, limit = 500): Promise<(UserView & { createdAt: Date })[]> {
  const users = await em.find(User, {}, { orderBy: { createdAt: 'desc', id: 'asc' }, limit });
  return users.map((u) => ({ ...userView(u), createdAt: u.createdAt }));
}
