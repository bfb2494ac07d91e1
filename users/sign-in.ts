/**
 * Signing in to the web console: a single-use link sent by e-mail opens a session. Link and session
 * tokens are stored only as SHA-256 hashes. The e-mail is queued here and delivered by its own
 * run (deliverQueuedEmailWorkflow), so the link never enters a workflow history.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { queueEmail } from '../db/outbox.ts';
import type { Config } from '../platform/config.ts';
import { hashToken, newToken } from '../platform/crypto.ts';
import { deliverQueuedEmailWorkflow } from '../workflows/email.ts';
import { emailWorkflowId } from '../workflows/ids.ts';

export const SIGN_IN_LINK_MINUTES = 15;
export const SESSION_DAYS = 14;

export interface SignInContext {
  em: EntityManager;
  config: Config;
  temporal: Client;
}

export const signInLinkUrl = (publicUrl: string, token: string) => `${publicUrl}/sign-in/${token}`;

/**
 * Mails a sign-in link to the user with this e-mail address. Says nothing about whether there is
 * one: the page answers the same either way, so it cannot be used to learn who has an account.
 */
export async function sendSignInLink(
  ctx: SignInContext,
  email: string,
  purpose: 'sign-in' | 'welcome' = 'sign-in',
): Promise<void> {
  const [user] = await ctx.em.execute<{ id: string; name: string }[]>(
    'select id, name from users where id = ?',
    [email.trim().toLowerCase()],
  );
  if (!user) return;
  const token = newToken('cbl');
  const tokenHash = hashToken(token);
  await ctx.em.execute(
    `insert into sign_in_links (token_hash, user_id, expires_at) values (?, ?, now() + make_interval(mins => ?))`,
    [tokenHash, user.id, SIGN_IN_LINK_MINUTES],
  );
  const url = signInLinkUrl(ctx.config.PUBLIC_URL, token);
  const dedupeKey = `${purpose}/${tokenHash.slice(0, 32)}`;
  const greeting =
    purpose === 'welcome'
      ? `Hello ${user.name},\n\nan account on Calbridge was created for you. Sign in to connect your calendars and share your booking page:`
      : `Hello ${user.name},\n\nuse this link to sign in to Calbridge:`;
  const emailId = await queueEmail(ctx.em, {
    dedupeKey,
    to: user.id,
    subject: purpose === 'welcome' ? 'Welcome to Calbridge' : 'Your Calbridge sign-in link',
    text: `${greeting}\n\n${url}\n\nThe link works once, within ${SIGN_IN_LINK_MINUTES} minutes. If you did not ask for it, ignore this e-mail.\n`,
  });
  try {
    await ctx.temporal.workflow.start(deliverQueuedEmailWorkflow, {
      workflowId: emailWorkflowId(dedupeKey),
      taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
      args: [emailId],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

export type LinkOutcome =
  | { ok: true; userId: string }
  | { ok: false; reason: 'used' | 'expired' | 'unknown' };

/** Spends a sign-in link: the first use within its lifetime wins, any other is refused with why. */
export async function useSignInLink(em: EntityManager, token: string): Promise<LinkOutcome> {
  const tokenHash = hashToken(token);
  const [spent] = await em.execute<{ user_id: string }[]>(
    `update sign_in_links set used_at = now()
     where token_hash = ? and used_at is null and expires_at > now() returning user_id`,
    [tokenHash],
  );
  if (spent) return { ok: true, userId: spent.user_id };
  const [link] = await em.execute<{ used_at: Date | null }[]>(
    'select used_at from sign_in_links where token_hash = ?',
    [tokenHash],
  );
  if (!link) return { ok: false, reason: 'unknown' };
  return { ok: false, reason: link.used_at ? 'used' : 'expired' };
}

export type SessionHolder = { kind: 'user'; userId: string } | { kind: 'admin' };

/** Opens a session; returns the token for the cookie (only its hash is stored). */
export async function openSession(em: EntityManager, holder: SessionHolder): Promise<string> {
  const token = newToken('cbw', 32);
  await em.execute(
    `insert into web_sessions (token_hash, user_id, is_admin, expires_at)
     values (?, ?, ?, now() + make_interval(days => ?))`,
    [hashToken(token), holder.kind === 'user' ? holder.userId : null, holder.kind === 'admin', SESSION_DAYS],
  );
  return token;
}

export interface Session {
  /** The stored hash: names the session (for CSRF tokens) without being the secret. */
  id: string;
  holder: SessionHolder;
}

/** The live session a cookie carries, or null (unknown, revoked or expired). */
export async function findSession(em: EntityManager, token: string): Promise<Session | null> {
  const tokenHash = hashToken(token);
  const [row] = await em.execute<{ user_id: string | null; is_admin: boolean }[]>(
    // last_seen_at is kept to within five minutes: a page view does not write a row every time.
    `with live as (
       select token_hash, user_id, is_admin, last_seen_at from web_sessions
        where token_hash = ? and revoked_at is null and expires_at > now()
     ), touched as (
       update web_sessions s set last_seen_at = now() from live
        where s.token_hash = live.token_hash and live.last_seen_at < now() - interval '5 minutes'
     )
     select user_id, is_admin from live`,
    [tokenHash],
  );
  if (!row) return null;
  return {
    id: tokenHash,
    holder: row.is_admin ? { kind: 'admin' } : { kind: 'user', userId: row.user_id! },
  };
}

export async function closeSession(em: EntityManager, sessionId: string): Promise<void> {
  await em.execute('update web_sessions set revoked_at = now() where token_hash = ? and revoked_at is null', [
    sessionId,
  ]);
}
