import { z } from 'zod';
import { storable, text } from '../../platform/validation.ts';
import type { ProviderModule } from '../module.ts';
import { hasNoUserInfo, USER_INFO_MESSAGE } from '../outbound/policy.ts';
import { createCalDavProvider } from './adapter.ts';

const secret = text(1024).min(1);

/** Any CalDAV server, with its URL, a username and a password. */
export const caldavModule: ProviderModule = {
  kind: 'caldav',
  connectBody: z.object({
    serverUrl: storable(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048)).refine(
      hasNoUserInfo,
      USER_INFO_MESSAGE,
    ),
    username: text(320).trim().min(1),
    password: secret,
  }),
  toStored: (body) => ({
    serverUrl: String(body.serverUrl),
    credentials: { username: body.username, password: body.password },
    accountEmail: String(body.username),
    identity: `${new URL(String(body.serverUrl)).host}|${String(body.username).toLowerCase()}`,
  }),
  create: (connection, context) => createCalDavProvider(connection, context),
  pollSeconds: (config) => config.CALDAV_POLL_SECONDS,
};

/** iCloud: CalDAV at ICLOUD_CALDAV_URL with an Apple ID and an app-specific password. */
export const icloudModule: ProviderModule = {
  kind: 'icloud',
  connectBody: z.object({
    username: text(320).trim().min(1),
    appPassword: secret,
  }),
  toStored: (body, config) => ({
    serverUrl: config.ICLOUD_CALDAV_URL,
    credentials: { username: body.username, password: body.appPassword },
    accountEmail: String(body.username),
    identity: String(body.username).toLowerCase(),
  }),
  create: (connection, context) => createCalDavProvider(connection, context),
  pollSeconds: (config) => config.CALDAV_POLL_SECONDS,
};
