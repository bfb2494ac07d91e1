import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import type { ApiRoutes } from '../routing.ts';

const part = z.enum(['ok', 'unavailable']);
const healthView = z.object({ status: part, database: part, temporal: part });

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(api: ApiRoutes, ctx: ApiContext): void {
  api.add(
    {
      method: 'get',
      path: '/healthz',
      summary:
        'Liveness and dependencies: 200 when PostgreSQL and Temporal answer, else 503 naming the failing part.',
      tag: 'Health',
      access: 'public',
      responses: {
        200: { description: 'Everything is up.', schema: healthView },
        503: { description: 'A dependency is down; the body names it.', schema: healthView },
      },
    },
    async () => {
      const [database, temporal] = await Promise.all([
        within(2000, ctx.orm.em.getConnection().execute('select 1')).then(
          () => 'ok' as const,
          () => 'unavailable' as const,
        ),
        within(2000, ctx.temporal.workflowService.getSystemInfo({})).then(
          () => 'ok' as const,
          () => 'unavailable' as const,
        ),
      ]);
      const ok = database === 'ok' && temporal === 'ok';
      return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'unavailable', database, temporal } };
    },
  );
}
