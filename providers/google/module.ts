import { z } from 'zod';
import { storable } from '../../platform/validation.ts';
import type { ProviderModule } from '../module.ts';
import { createGoogleProvider } from './adapter.ts';
import { googleOAuth } from './oauth.ts';

/** Google Calendar: linked by OAuth consent; the connect body only says where to return afterwards. */
export const googleModule: ProviderModule = {
  kind: 'google',
  connectBody: z.object({
    redirectUri: storable(
      z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
    ).optional(),
  }),
  oauth: googleOAuth,
  create: (connection, context) => createGoogleProvider(connection, context),
  // Push notifications (when enabled) make changes arrive sooner; polling stays the fallback.
  pollSeconds: (config) => config.CALDAV_POLL_SECONDS,
};
