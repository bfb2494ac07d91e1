import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../platform/crypto.ts';
import { type Platform, startPlatform } from '../harness/platform.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform({ worker: false });
});
afterAll(() => platform?.stop());

const unique = () => `u${Math.random().toString(36).slice(2, 10)}`;

describe('Users API', () => {
  it('creates a user with a lower-cased id, returns a token once and stores only its hash', async () => {
    const email = `${unique()}@Example.COM`;
    const res = await platform.request('POST', '/v1/users', {
      token: platform.adminToken,
      body: { email, name: 'Ada Lovelace', timeZone: 'Europe/London' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: email.toLowerCase(),
      email: email.toLowerCase(),
      name: 'Ada Lovelace',
      timeZone: 'Europe/London',
    });
    expect(res.body.apiToken).toMatch(/^cbu_[A-Za-z0-9_-]{32}$/);

    const rows = await platform.orm.em
      .fork()
      .execute<{ token_hash: string }[]>('select token_hash from api_tokens where user_id = ?', [
        res.body.id,
      ]);
    expect(rows).toEqual([{ token_hash: hashToken(res.body.apiToken) }]);
    const raw = await platform.orm.em
      .fork()
      .execute<{ n: number }[]>('select count(*)::int as n from api_tokens where token_hash = ?', [
        res.body.apiToken,
      ]);
    expect(raw[0]!.n).toBe(0);

    const me = await platform.request('GET', '/v1/me', { token: res.body.apiToken });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: email.toLowerCase(),
      email: email.toLowerCase(),
      name: 'Ada Lovelace',
      timeZone: 'Europe/London',
    });
  });

  it('answers 409 already_exists for an existing e-mail, whatever its case', async () => {
    const email = `${unique()}@example.com`;
    const first = await platform.request('POST', '/v1/users', {
      token: platform.adminToken,
      body: { email, name: 'A', timeZone: 'UTC' },
    });
    expect(first.status).toBe(201);
    const again = await platform.request('POST', '/v1/users', {
      token: platform.adminToken,
      body: { email: email.toUpperCase(), name: 'B', timeZone: 'UTC' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_exists');
  });

  it('rejects an invalid e-mail and an unknown time zone with 400 validation_failed naming the fields', async () => {
    const res = await platform.request('POST', '/v1/users', {
      token: platform.adminToken,
      body: { email: 'not-an-email', name: 'X', timeZone: 'Mars/Olympus_Mons' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    const paths = res.body.error.details.fields.map((f: { path: string }) => f.path).sort();
    expect(paths).toEqual(['email', 'timeZone']);
  });

  it('answers 401 without a token and with an invalid one', async () => {
    const none = await platform.request('GET', '/v1/me');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    const bad = await platform.request('GET', '/v1/me', { token: 'cbu_not-a-real-token' });
    expect(bad.status).toBe(401);
    const malformed = await platform.request('GET', '/v1/me', { headers: { authorization: 'Basic abc' } });
    expect(malformed.status).toBe(401);
  });

  it('hides other users: a user reading another user gets 404, reading themself 200', async () => {
    const a = await platform.createUser();
    const b = await platform.createUser();
    const other = await platform.request('GET', `/v1/users/${encodeURIComponent(b.id)}`, { token: a.token });
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('not_found');
    const self = await platform.request('GET', `/v1/users/${encodeURIComponent(a.id)}`, { token: a.token });
    expect(self.status).toBe(200);
    expect(self.body.id).toBe(a.id);
    const byAdmin = await platform.request('GET', `/v1/users/${encodeURIComponent(b.id)}`, {
      token: platform.adminToken,
    });
    expect(byAdmin.status).toBe(200);
  });

  it('keeps admin-only routes from users with 403', async () => {
    const a = await platform.createUser();
    const create = await platform.request('POST', '/v1/users', {
      token: a.token,
      body: { email: `${unique()}@example.com`, name: 'X', timeZone: 'UTC' },
    });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('forbidden');
    const tokens = await platform.request('POST', `/v1/users/${encodeURIComponent(a.id)}/tokens`, {
      token: a.token,
    });
    expect(tokens.status).toBe(403);
  });

  it('issues further tokens that work, for existing users only', async () => {
    const a = await platform.createUser();
    const res = await platform.request('POST', `/v1/users/${encodeURIComponent(a.id)}/tokens`, {
      token: platform.adminToken,
    });
    expect(res.status).toBe(201);
    expect(res.body.apiToken).not.toBe(a.token);
    expect((await platform.request('GET', '/v1/me', { token: res.body.apiToken })).body.id).toBe(a.id);
    expect((await platform.request('GET', '/v1/me', { token: a.token })).status).toBe(200);
    const missing = await platform.request('POST', '/v1/users/nobody@example.com/tokens', {
      token: platform.adminToken,
    });
    expect(missing.status).toBe(404);
  });

  it('answers malformed JSON with 400 malformed_json and an oversized body with 413', async () => {
    const res = await platform.request('POST', '/v1/users', {
      token: platform.adminToken,
      rawBody: '{"email": "a@b.c",',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_json');
    const huge = await platform.request('POST', '/v1/users', {
      token: platform.adminToken,
      rawBody: JSON.stringify({ email: 'a@b.c', name: 'x'.repeat(400_000), timeZone: 'UTC' }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
    const notObject = await platform.request('POST', '/v1/users', {
      token: platform.adminToken,
      rawBody: '[1,2]',
    });
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.code).toBe('validation_failed');
  });

  it('gives a new user the Monday-Friday 09:00-17:00 schedule and replaces it on PUT', async () => {
    const a = await platform.createUser({ timeZone: 'America/New_York' });
    const initial = await platform.request('GET', '/v1/me/schedule', { token: a.token });
    expect(initial.status).toBe(200);
    expect(initial.body.timeZone).toBe('America/New_York');
    for (const day of ['mon', 'tue', 'wed', 'thu', 'fri'])
      expect(initial.body.weekly[day]).toEqual([{ start: '09:00', end: '17:00' }]);
    expect(initial.body.weekly.sat).toEqual([]);
    expect(initial.body.weekly.sun).toEqual([]);

    const put = await platform.request('PUT', '/v1/me/schedule', {
      token: a.token,
      body: {
        timeZone: 'Europe/Paris',
        weekly: {
          mon: [
            { start: '13:00', end: '17:00' },
            { start: '08:00', end: '12:00' },
          ],
          sat: [{ start: '10:00', end: '12:00' }],
        },
        overrides: [
          {
            date: '2026-12-31',
            intervals: [
              { start: '14:00', end: '16:00' },
              { start: '09:00', end: '11:00' },
            ],
          },
          { date: '2026-12-24', intervals: [] },
        ],
      },
    });
    expect(put.status).toBe(200);
    // Overrides by date, and each one's intervals by start, as the weekly days.
    expect(put.body.overrides).toEqual([
      { date: '2026-12-24', intervals: [] },
      {
        date: '2026-12-31',
        intervals: [
          { start: '09:00', end: '11:00' },
          { start: '14:00', end: '16:00' },
        ],
      },
    ]);
    expect(put.body.weekly.mon).toEqual([
      { start: '08:00', end: '12:00' },
      { start: '13:00', end: '17:00' },
    ]);
    expect(put.body.weekly.tue).toEqual([]);
    const read = await platform.request('GET', '/v1/me/schedule', { token: a.token });
    expect(read.body).toEqual(put.body);
  });

  it('rejects bad schedules: overlapping intervals, end before start, bad dates, unknown zones', async () => {
    const a = await platform.createUser();
    const cases = [
      {
        timeZone: 'UTC',
        weekly: {
          mon: [
            { start: '09:00', end: '12:00' },
            { start: '11:00', end: '13:00' },
          ],
        },
      },
      { timeZone: 'UTC', weekly: { tue: [{ start: '17:00', end: '09:00' }] } },
      { timeZone: 'UTC', weekly: {}, overrides: [{ date: '2026-02-30', intervals: [] }] },
      { timeZone: 'Nowhere/City', weekly: {} },
      { timeZone: 'UTC', weekly: { funday: [] } },
    ];
    for (const body of cases) {
      const res = await platform.request('PUT', '/v1/me/schedule', { token: a.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });

  it('answers unknown routes with the 404 error shape', async () => {
    const res = await platform.request('GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });
});
