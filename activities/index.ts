/** All activities, built over their dependencies. The worker registers exactly this object. */
import { createBookingActivities } from './booking.ts';
import { createConnectionActivities } from './connection.ts';
import type { ActivityDeps } from './deps.ts';
import { createEmailActivities } from './email.ts';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createEmailActivities(deps),
    ...createConnectionActivities(deps),
    ...createBookingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
