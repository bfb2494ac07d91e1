import { defineEntity, p } from '@mikro-orm/core';
import type { DateOverride, WeeklyHours } from '../../domain/schedule.ts';

/** A calendar provider (a business user). The id is the lower-cased e-mail address. */
export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.string().primary(),
    email: p.string(),
    name: p.string(),
    timeZone: p.string(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

/** A user's API token; only its SHA-256 hash is stored. */
export const ApiToken = defineEntity({
  name: 'ApiToken',
  tableName: 'api_tokens',
  properties: {
    id: p.uuid().primary(),
    userId: p.string(),
    tokenHash: p.string(),
    createdAt: p.datetime().onCreate(() => new Date()),
    lastUsedAt: p.datetime().nullable(),
  },
});

/** Working hours: when a user can be booked, before calendars and appointments are subtracted. */
export const Schedule = defineEntity({
  name: 'Schedule',
  tableName: 'schedules',
  properties: {
    userId: p.string().primary(),
    timeZone: p.string(),
    weekly: p.json<WeeklyHours>(),
    overrides: p.json<DateOverride[]>(),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
