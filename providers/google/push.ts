/**
 * Watch channels on a calendar's events. Google never extends a channel: renewing is watching
 * anew (at the address the caller gives: Google never tells a channel's address back) and
 * stopping the old one.
 */
import { randomUUID } from 'node:crypto';
import type { PushChannel } from '../contract.ts';
import { InvalidDataError } from '../errors.ts';
import type { GoogleApi } from './client.ts';

/** Google's longest lifetime for calendar channels (and its default). */
const CHANNEL_TTL_SECONDS = 7 * 24 * 3600;

export function googlePush(api: GoogleApi) {
  const subscribe = async (
    calendar: { externalId: string },
    channel: { address: string; token: string },
  ): Promise<PushChannel> => {
    const watched = await api.call((options) =>
      api.calendar.events.watch(
        {
          calendarId: calendar.externalId,
          requestBody: {
            // A UUID: unique, and within Google's 64 characters.
            id: randomUUID(),
            type: 'web_hook',
            address: channel.address,
            token: channel.token,
            params: { ttl: String(CHANNEL_TTL_SECONDS) },
          },
        },
        options,
      ),
    );
    if (!watched.id || !watched.expiration) {
      throw new InvalidDataError('Google opened a watch channel without an id or expiration');
    }
    return {
      channelId: watched.id,
      resourceId: watched.resourceId ?? null,
      expiresAt: new Date(Number(watched.expiration)),
    };
  };

  const stop = async (channel: PushChannel): Promise<void> => {
    // A channel that expired or was stopped before is gone already: that is what we wanted.
    await api.callAccepting(
      (options) =>
        api.calendar.channels.stop(
          { requestBody: { id: channel.channelId, resourceId: channel.resourceId ?? undefined } },
          options,
        ),
      [404],
    );
  };

  return {
    subscribe,
    async renew(
      calendar: { externalId: string },
      channel: PushChannel,
      subscription: { address: string; token: string },
    ): Promise<PushChannel> {
      const renewed = await subscribe(calendar, subscription);
      await stop(channel);
      return renewed;
    },
    stop,
  };
}
