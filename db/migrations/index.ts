import type { MigrationObject } from '@mikro-orm/core';
import { Migration0001Initial } from './0001-initial.ts';
import { Migration0002CalendarWarnings } from './0002-calendar-warnings.ts';
import { Migration0003BookingInvites } from './0003-booking-invites.ts';
import { Migration0004OauthAndPush } from './0004-oauth-and-push.ts';
import { Migration0005WebSignIn } from './0005-web-sign-in.ts';
import { Migration0006WatchedPolls } from './0006-watched-polls.ts';

/** Every migration, in order. Listed explicitly so the runtime never scans the file system. */
export const migrations: MigrationObject[] = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-calendar-warnings', class: Migration0002CalendarWarnings },
  { name: '0003-booking-invites', class: Migration0003BookingInvites },
  { name: '0004-oauth-and-push', class: Migration0004OauthAndPush },
  { name: '0005-web-sign-in', class: Migration0005WebSignIn },
  { name: '0006-watched-polls', class: Migration0006WatchedPolls },
];
