import { z } from 'zod';
import type { ProviderModule } from '../module.ts';
import { createIcsProvider } from './adapter.ts';

/** A read-only iCalendar feed. The URL often embeds a secret, so it is stored encrypted. */
export const icsModule: ProviderModule = {
  kind: 'ics',
  readOnly: true,
  connectBody: z.object({
    url: z.url({ protocol: /^(https?|webcal)$/, error: 'must be an http(s) or webcal URL' }).max(4096),
  }),
  toStored: (body) => ({
    serverUrl: null,
    credentials: { url: String(body.url) },
    accountEmail: null,
    identity: String(body.url),
  }),
  create: (connection, context) => createIcsProvider(connection, context),
  pollSeconds: (config) => config.ICS_POLL_SECONDS,
};
