/** The OAuth callback and the providers' push notifications: public routes, verified by what they carry. */
import { z } from 'zod';
import { AuthorizationFailed, completeAuthorization } from '../../connections/oauth.ts';
import { receiveGoogleNotification, receiveGraphNotifications } from '../../connections/webhooks.ts';
import { OAUTH_PROVIDER_KINDS } from '../../domain/connection.ts';
import { rateLimit } from '../../platform/rate-limits.ts';
import { text } from '../../platform/validation.ts';
import { type ApiContext, useCaseContext } from '../context.ts';
import type { ApiRoutes } from '../routing.ts';

const short = (max: number) => text(max).optional();

export function registerOAuthRoutes(api: ApiRoutes, ctx: ApiContext): void {
  const callbacks = rateLimit(ctx.config.PUBLIC_RATE_LIMIT_PER_MINUTE, 'requests from this address');

  api.add(
    {
      method: 'get',
      path: '/v1/oauth/:provider/callback',
      summary:
        'Where the provider sends the browser after consent: completes the link (or reconnect) and redirects to the redirectUri given when it started, or answers the connection as JSON.',
      tag: 'Connections',
      access: 'public',
      params: z.object({ provider: z.enum(OAUTH_PROVIDER_KINDS) }),
      query: z.object({
        state: short(512),
        code: short(4096),
        error: short(256),
        error_description: short(2048),
        scope: short(4096),
        session_state: short(512),
        iss: short(2048),
        authuser: short(16),
        prompt: short(64),
        hd: short(256),
        client_info: short(4096),
      }),
      responses: {
        200: { description: 'Linked (no redirectUri was given): the connection.' },
        303: {
          description:
            'When a redirectUri was given: linked → redirect to it with connectionId and status; failed after the state was accepted → redirect with connectionId, status=error and error=<code> (the codes below).',
        },
        400: { description: 'Unknown, expired or already used state (invalid_oauth_state).' },
        409: {
          description: 'This account is already linked (already_exists), or the connection was removed.',
        },
        422: {
          description: 'Consent declined, the code was refused, or the provider could not be reached.',
        },
      },
    },
    async ({ req, res, params, query }) => {
      await callbacks(res, req.ip ?? 'unknown');
      let outcome: Awaited<ReturnType<typeof completeAuthorization>>;
      try {
        outcome = await completeAuthorization(useCaseContext(ctx, req), params.provider, query);
      } catch (error) {
        if (!(error instanceof AuthorizationFailed)) throw error;
        const target = new URL(error.redirectUri);
        target.searchParams.set('connectionId', error.connectionId);
        target.searchParams.set('status', 'error');
        target.searchParams.set('error', error.error.code);
        return { status: 303, headers: { Location: target.toString() } };
      }
      const { view, redirectUri } = outcome;
      if (!redirectUri) return { status: 200, body: view };
      const target = new URL(redirectUri);
      target.searchParams.set('connectionId', view.id);
      target.searchParams.set('status', view.status);
      return { status: 303, headers: { Location: target.toString() } };
    },
  );

  api.add(
    {
      method: 'post',
      path: '/v1/webhooks/google',
      summary:
        'Google Calendar push notifications (X-Goog-* headers, empty body). Verified by channel id and token; anything else is ignored.',
      tag: 'Webhooks',
      access: 'public',
      responses: { 200: { description: 'Received (whether or not it could be verified).' } },
    },
    async ({ req }) => {
      await receiveGoogleNotification(useCaseContext(ctx, req), {
        channelId: req.get('x-goog-channel-id') ?? undefined,
        token: req.get('x-goog-channel-token') ?? undefined,
        resourceState: req.get('x-goog-resource-state') ?? undefined,
      });
      return { status: 200 };
    },
  );

  const graphNotification = z
    .object({
      subscriptionId: text(256).optional(),
      clientState: text(512).nullable().optional(),
      lifecycleEvent: text(64).optional(),
    })
    .passthrough();

  api.add(
    {
      method: 'post',
      path: '/v1/webhooks/microsoft',
      summary:
        "Microsoft Graph change and lifecycle notifications, and Graph's validation handshake (?validationToken= is echoed as text/plain). Verified by subscription id and clientState; anything else is ignored.",
      tag: 'Webhooks',
      access: 'public',
      query: z.object({ validationToken: text(1024).optional() }),
      body: z.object({ value: z.array(graphNotification).max(1000).optional() }).passthrough(),
      responses: {
        200: { description: 'The validation token, as text/plain.' },
        202: { description: 'Notifications received (whether or not they could be verified).' },
      },
    },
    async ({ req, query, body }) => {
      if (query.validationToken !== undefined) return { status: 200, text: query.validationToken };
      await receiveGraphNotifications(useCaseContext(ctx, req), body.value ?? []);
      return { status: 202 };
    },
  );
}
