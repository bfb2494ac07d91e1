import { z } from 'zod';
import { storable } from '../../platform/validation.ts';
import type { ProviderModule } from '../module.ts';
import { hasNoUserInfo, USER_INFO_MESSAGE } from '../outbound/policy.ts';
import { createIcsProvider } from './adapter.ts';

/** A read-only iCalendar feed. The URL often embeds a secret, so it is stored encrypted. */
export const icsModule: ProviderModule = {
  kind: 'ics',
  readOnly: true,
  connectBody: z.object({
    url: storable(
      z.url({ protocol: /^(https?|webcal)$/, error: 'must be an http(s) or webcal URL' }).max(4096),
    ).refine(hasNoUserInfo, USER_INFO_MESSAGE),
  }),
  toStored: (body) => ({
    serverUrl: null,
    credentials: { url: String(body.url) },
    accountEmail: null,
    identity: String(body.url),
  }),
  create: (connection, context) => createIcsProvider(connection, context),
  pollSeconds: (config) => config.ICS_POLL_SECONDS,
  conditionalPoll: true,
};
