/**
 * The connection state machine. Every writer of `calendar_connections.status` (the API's use cases,
 * the workflow's activities) goes through `allowedSources`, so this table is the one place to learn
 * how a connection moves:
 *
 *   pending_authorization ─┐
 *                          ├→ awaiting_selection ─(Save)→ importing ⇄ active
 *   (created, verified) ───┘          ↑                       │
 *                                     └── error ←─────────────┤  (provider unreachable)
 *   any live status ─(credentials rejected)→ needs_reauth ─(reconnect)→ back into the loop
 *   any status but removed ─(DELETE)→ removing → removed
 */

export const CONNECTION_STATUSES = [
  'pending_authorization',
  'awaiting_selection',
  'importing',
  'active',
  'needs_reauth',
  'error',
  'removing',
  'removed',
] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** Only a removal may leave these. */
export const REMOVAL_STATUSES = ['removing', 'removed'] as const satisfies readonly ConnectionStatus[];

export function isRemovalStatus(status: ConnectionStatus): boolean {
  return (REMOVAL_STATUSES as readonly ConnectionStatus[]).includes(status);
}

/** Every status a connection syncs (or waits to) in: all but the removal ones. */
const LIVE: readonly ConnectionStatus[] = CONNECTION_STATUSES.filter((status) => !isRemovalStatus(status));

/** For each status, the statuses a connection may be in to move there. */
const SOURCES: Readonly<Record<ConnectionStatus, readonly ConnectionStatus[]>> = {
  // Only a new OAuth link starts here; nothing moves back to it.
  pending_authorization: [],
  // Discovery finished (first time, after a reconnect before any Save, or after an error).
  awaiting_selection: ['pending_authorization', 'awaiting_selection', 'needs_reauth', 'error'],
  // Save, or a sync pass that still has calendars waiting.
  importing: ['awaiting_selection', 'importing', 'active', 'needs_reauth', 'error'],
  // Also straight from awaiting_selection when a Save selected nothing to import.
  active: ['awaiting_selection', 'importing', 'active', 'needs_reauth', 'error'],
  needs_reauth: LIVE,
  error: LIVE,
  // The user's removal wins over everything else, and is idempotent.
  removing: [...LIVE, 'removing'],
  removed: ['removing', 'removed'],
};

/** The statuses from which a connection may move to `to`. */
export function allowedSources(to: ConnectionStatus): readonly ConnectionStatus[] {
  return SOURCES[to];
}

export function canTransition(from: ConnectionStatus, to: ConnectionStatus): boolean {
  return SOURCES[to].includes(from);
}
