/** User API tokens: listed without the secret, revocable by the user or an admin, dead at once. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from '../harness/platform.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform({ worker: false });
});
afterAll(() => platform?.stop());

const tokensPath = (userId: string) => `/v1/users/${encodeURIComponent(userId)}/tokens`;

async function issueToken(userId: string) {
  const res = await platform.request('POST', tokensPath(userId), { token: platform.adminToken });
  expect(res.status).toBe(201);
  return res.body as { apiToken: string; tokenId: string };
}

describe('user tokens', () => {
  it('names the token it returns at user creation and on issue', async () => {
    const created = await platform.request('POST', '/v1/users', {
      token: platform.adminToken,
      body: { email: `t${Date.now()}@example.com`, name: 'T', timeZone: 'UTC' },
    });
    expect(created.status).toBe(201);
    expect(created.body.tokenId).toMatch(/^[0-9a-f-]{36}$/);
    const issued = await issueToken(created.body.id);
    expect(issued.tokenId).toMatch(/^[0-9a-f-]{36}$/);
    expect(issued.tokenId).not.toBe(created.body.tokenId);

    const list = await platform.request('GET', tokensPath(created.body.id), { token: created.body.apiToken });
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: { id: string }) => t.id).sort()).toEqual(
      [created.body.tokenId, issued.tokenId].sort(),
    );
  });

  it('lists ids and use, never the token or its hash, and records when each was last used', async () => {
    const user = await platform.createUser();
    const second = await issueToken(user.id);
    const before = await platform.request('GET', tokensPath(user.id), { token: platform.adminToken });
    expect(before.status).toBe(200);
    expect(before.body.nextCursor).toBeNull();
    expect(before.body.items).toHaveLength(2);
    for (const item of before.body.items) {
      expect(Object.keys(item).sort()).toEqual(['createdAt', 'id', 'lastUsedAt']);
      expect(new Date(item.createdAt).toISOString()).toBe(item.createdAt);
    }
    const text = JSON.stringify(before.body);
    expect(text).not.toContain(user.token);
    expect(text).not.toContain(second.apiToken);
    expect(before.body.items.find((t: { id: string }) => t.id === second.tokenId).lastUsedAt).toBeNull();

    expect((await platform.request('GET', '/v1/me', { token: second.apiToken })).status).toBe(200);
    const after = await platform.request('GET', tokensPath(user.id), { token: platform.adminToken });
    const used = after.body.items.find((t: { id: string }) => t.id === second.tokenId);
    expect(Date.parse(used.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(used.createdAt));

    // Kept to the minute: a request within it writes nothing; one after it moves the time on.
    const lastUsed = async () =>
      (await platform.request('GET', tokensPath(user.id), { token: platform.adminToken })).body.items.find(
        (t: { id: string }) => t.id === second.tokenId,
      ).lastUsedAt as string;
    expect((await platform.request('GET', '/v1/me', { token: second.apiToken })).status).toBe(200);
    expect(await lastUsed()).toBe(used.lastUsedAt);
    await platform.orm.em
      .fork()
      .execute(`update api_tokens set last_used_at = now() - interval '2 minutes' where id = ?`, [
        second.tokenId,
      ]);
    const backdated = await lastUsed();
    expect((await platform.request('GET', '/v1/me', { token: second.apiToken })).status).toBe(200);
    expect(Date.parse(await lastUsed())).toBeGreaterThan(Date.parse(backdated) + 60_000);
  });

  it('pages through many tokens, newest first, each exactly once', async () => {
    const user = await platform.createUser();
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await issueToken(user.id)).tokenId);
    const seen: { id: string; createdAt: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await platform.request('GET', `${tokensPath(user.id)}${query}`, { token: user.token });
      expect(res.status).toBe(200);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen.map((t) => t.id)).size).toBe(5);
    for (const id of ids) expect(seen.map((t) => t.id)).toContain(id);
    const times = seen.map((t) => Date.parse(t.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
  });

  it('lets a user revoke their own token: 204, and it fails at once while the others keep working', async () => {
    const user = await platform.createUser();
    const spare = await issueToken(user.id);
    const list = await platform.request('GET', tokensPath(user.id), { token: user.token });
    const firstId = list.body.items.find((t: { id: string }) => t.id !== spare.tokenId).id;

    const revoked = await platform.request('DELETE', `${tokensPath(user.id)}/${firstId}`, {
      token: user.token,
    });
    expect(revoked.status).toBe(204);
    const dead = await platform.request('GET', '/v1/me', { token: user.token });
    expect(dead.status).toBe(401);
    expect(dead.body.error.code).toBe('unauthorized');
    expect((await platform.request('GET', '/v1/me', { token: spare.apiToken })).status).toBe(200);

    const again = await platform.request('DELETE', `${tokensPath(user.id)}/${firstId}`, {
      token: spare.apiToken,
    });
    expect(again.status).toBe(404);
    const remaining = await platform.request('GET', tokensPath(user.id), { token: spare.apiToken });
    expect(remaining.body.items.map((t: { id: string }) => t.id)).toEqual([spare.tokenId]);
  });

  it('lets an admin revoke any token', async () => {
    const user = await platform.createUser();
    const issued = await issueToken(user.id);
    const res = await platform.request('DELETE', `${tokensPath(user.id)}/${issued.tokenId}`, {
      token: platform.adminToken,
    });
    expect(res.status).toBe(204);
    expect((await platform.request('GET', '/v1/me', { token: issued.apiToken })).status).toBe(401);
    expect((await platform.request('GET', '/v1/me', { token: user.token })).status).toBe(200);
  });

  it("hides other users' tokens: listing or revoking them is a 404 and changes nothing", async () => {
    const a = await platform.createUser();
    const b = await platform.createUser();
    const bToken = await issueToken(b.id);
    expect((await platform.request('GET', tokensPath(b.id), { token: a.token })).status).toBe(404);
    const other = await platform.request('DELETE', `${tokensPath(b.id)}/${bToken.tokenId}`, {
      token: a.token,
    });
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('not_found');
    // B's token id under A's own path is not A's token either.
    const crossed = await platform.request('DELETE', `${tokensPath(a.id)}/${bToken.tokenId}`, {
      token: a.token,
    });
    expect(crossed.status).toBe(404);
    expect((await platform.request('GET', '/v1/me', { token: bToken.apiToken })).status).toBe(200);

    expect((await platform.request('GET', tokensPath(b.id))).status).toBe(401);
    expect(
      (await platform.request('GET', tokensPath('nobody@example.com'), { token: platform.adminToken }))
        .status,
    ).toBe(404);
  });
});
