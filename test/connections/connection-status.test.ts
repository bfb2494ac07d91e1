/**
 * The connection state machine: the transition table (pure), and its one writer against the real
 * table, including two writers racing on the same row.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeConnectionStatus } from '../../connections/status.ts';
import { createOrm, type Orm } from '../../db/orm.ts';
import {
  allowedSources,
  CONNECTION_STATUSES,
  type ConnectionStatus,
  canTransition,
} from '../../domain/connection-status.ts';
import { loadConfig } from '../../platform/config.ts';
import { testEnv } from '../harness/platform.ts';
import { seedConnection } from '../support/seed.ts';

let orm: Orm;
const config = loadConfig(testEnv(), { generateSecrets: false });
beforeAll(async () => {
  orm = await createOrm({ databaseUrl: config.DATABASE_URL! });
});
afterAll(() => orm?.close());

async function connectionIn(status: ConnectionStatus): Promise<string> {
  const { connectionId } = await seedConnection(orm, config, {
    provider: 'ics',
    serverUrl: null,
    credentials: { url: 'https://feeds.example/a.ics' },
    externalId: `https://feeds.example/${randomUUID()}.ics`,
  });
  await orm.em
    .fork()
    .execute('update calendar_connections set status = ? where id = ?', [status, connectionId]);
  return connectionId;
}

async function statusOf(connectionId: string): Promise<{ status: string; status_reason: string | null }> {
  const [row] = await orm.em
    .fork()
    .execute<{ status: string; status_reason: string | null }[]>(
      'select status, status_reason from calendar_connections where id = ?',
      [connectionId],
    );
  return row!;
}

describe('the transition table', () => {
  it('lets nothing but removal leave removing, and nothing at all leave removed', () => {
    for (const to of CONNECTION_STATUSES) {
      expect(canTransition('removing', to), `removing → ${to}`).toBe(to === 'removing' || to === 'removed');
      expect(canTransition('removed', to), `removed → ${to}`).toBe(to === 'removed');
    }
  });

  it('lets every live status be removed, parked for reauth, or fail', () => {
    const live = CONNECTION_STATUSES.filter((s) => s !== 'removing' && s !== 'removed');
    for (const from of live) {
      for (const to of ['removing', 'needs_reauth', 'error'] as const)
        expect(canTransition(from, to)).toBe(true);
      expect(canTransition(from, 'removed'), `${from} → removed skips removing`).toBe(false);
    }
  });

  it('never goes back to pending_authorization, nor from importing back to awaiting_selection', () => {
    expect(allowedSources('pending_authorization')).toEqual([]);
    expect(canTransition('importing', 'awaiting_selection')).toBe(false);
    expect(canTransition('active', 'awaiting_selection')).toBe(false);
  });
});

describe('changeConnectionStatus', () => {
  it('moves along an allowed transition and records the reason', async () => {
    const id = await connectionIn('active');
    expect(
      await changeConnectionStatus(orm.em.fork(), id, 'needs_reauth', { reason: 'password changed' }),
    ).toBe('needs_reauth');
    expect(await statusOf(id)).toEqual({ status: 'needs_reauth', status_reason: 'password changed' });
    expect(await changeConnectionStatus(orm.em.fork(), id, 'active')).toBe('active');
    expect(await statusOf(id)).toEqual({ status: 'active', status_reason: null });
  });

  it('refuses a move the table forbids and answers the status that refused it', async () => {
    const id = await connectionIn('removing');
    expect(await changeConnectionStatus(orm.em.fork(), id, 'active')).toBe('removing');
    expect((await statusOf(id)).status).toBe('removing');
    expect(await changeConnectionStatus(orm.em.fork(), id, 'removed')).toBe('removed');
    expect(await changeConnectionStatus(orm.em.fork(), id, 'needs_reauth')).toBe('removed');
  });

  it('narrows a move with onlyFrom (Save moves on only from awaiting_selection)', async () => {
    const id = await connectionIn('needs_reauth');
    expect(
      await changeConnectionStatus(orm.em.fork(), id, 'importing', { onlyFrom: ['awaiting_selection'] }),
    ).toBe('needs_reauth');
    const waiting = await connectionIn('awaiting_selection');
    expect(
      await changeConnectionStatus(orm.em.fork(), waiting, 'importing', { onlyFrom: ['awaiting_selection'] }),
    ).toBe('importing');
  });

  it('answers removed for a connection that no longer exists', async () => {
    expect(await changeConnectionStatus(orm.em.fork(), randomUUID(), 'active')).toBe('removed');
  });

  it('lets a removal win over a late sync pass when both race on the row', async () => {
    for (let round = 0; round < 10; round++) {
      const id = await connectionIn('importing');
      const [removal, pass] = await Promise.all([
        changeConnectionStatus(orm.em.fork(), id, 'removing'),
        changeConnectionStatus(orm.em.fork(), id, 'active'),
      ]);
      expect(removal).toBe('removing');
      // Whichever ran first, the row ends in removing: a pass after the removal is refused.
      expect(['active', 'removing']).toContain(pass);
      expect((await statusOf(id)).status).toBe('removing');
    }
  });
});
