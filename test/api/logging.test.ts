import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { freePort } from '../../worker/local/ports.ts';
import { type Platform, startPlatform } from '../harness/platform.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform({ worker: false });
});
afterAll(() => platform?.stop());

describe('request logs', () => {
  it('carry a request id and never a token, a password or a query-string secret', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const { app } = createApp({
      config: platform.config,
      orm: platform.orm,
      temporal: platform.temporal,
      logger,
    });
    const server = app.listen(0);
    const port = (server.address() as { port: number }).port;
    try {
      const user = await platform.createUser();
      const res = await fetch(`http://127.0.0.1:${port}/v1/connections?token=query-secret-123`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${user.token}`,
          'content-type': 'application/json',
          'x-request-id': 'req-abc-123',
        },
        body: JSON.stringify({
          provider: 'caldav',
          serverUrl: `http://127.0.0.1:${await freePort()}/`,
          username: 'ada',
          password: 'hunter2-secret',
        }),
      });
      expect(res.status).toBe(422);
      expect(res.headers.get('x-request-id')).toBe('req-abc-123');
      const out = lines.join('');
      expect(out).toContain('req-abc-123');
      expect(out).not.toContain(user.token);
      expect(out).not.toContain('hunter2-secret');
      expect(out).not.toContain('query-secret-123');
    } finally {
      server.close();
    }
  });
});
