import { z } from 'zod';
import type { ProviderModule } from '../module.ts';
import { createMicrosoftProvider } from './adapter.ts';
import { microsoftOAuth } from './oauth.ts';

/** Microsoft 365 (Entra ID + Graph): linked by OAuth consent, so nothing to store from the body. */
export const microsoftModule: ProviderModule = {
  kind: 'microsoft',
  connectBody: z.object({
    redirectUri: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .max(2048)
      .optional(),
  }),
  oauth: microsoftOAuth,
  create: (connection, context) => createMicrosoftProvider(connection, context),
  pollSeconds: (config) => config.CALDAV_POLL_SECONDS,
};
