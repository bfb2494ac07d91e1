/** The Express application: middleware, routes by resource, OpenAPI, and the error middleware. */
import { randomUUID } from 'node:crypto';
import express, { type Request } from 'express';
import { pinoHttp } from 'pino-http';
import { createWebRouter } from '../web/app.ts';
import { createAuthenticator } from './auth.ts';
import type { ApiContext } from './context.ts';
import { errorHandler, unknownRoute } from './errors.ts';
import { registerBookingCalendarRoutes } from './routes/booking-calendars.ts';
import { registerBookingRoutes } from './routes/bookings.ts';
import { registerConnectionRoutes } from './routes/connections.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerOAuthRoutes } from './routes/oauth.ts';
import { registerUserRoutes } from './routes/users.ts';
import { ApiRoutes, buildOpenApi } from './routing.ts';

type Deps = Omit<ApiContext, 'em'>;

export function createApp(deps: Deps) {
  const app = express();
  app.disable('x-powered-by');
  // Which proxies' X-Forwarded-For is believed: rate limits key on the client address it yields,
  // so trusting any sender would let a client pick its own address.
  app.set(
    'trust proxy',
    /^\d+$/.test(deps.config.TRUST_PROXY) ? Number(deps.config.TRUST_PROXY) : deps.config.TRUST_PROXY,
  );
  app.set('query parser', 'simple');

  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      // Query strings can carry manage/one-time tokens: log the path only.
      serializers: { req: (req) => ({ id: req.id, method: req.method, url: String(req.url).split('?')[0] }) },
      autoLogging: { ignore: (req) => req.url === '/healthz' },
      // In development a request that went well is noise next to the start banner: debug. Failures
      // keep a level that shows.
      customLogLevel: (_req, res, error) => {
        if (error || res.statusCode >= 500) return 'error';
        if (res.statusCode >= 400) return 'warn';
        return deps.config.NODE_ENV === 'development' ? 'debug' : 'info';
      },
    }),
  );
  // Bodies are read per route, by the routes that take one (routing.ts): 415 for non-JSON there.

  const ems = new WeakMap<Request, ReturnType<typeof deps.orm.em.fork>>();
  const em = (req: Request) => {
    let fork = ems.get(req);
    if (!fork) {
      fork = deps.orm.em.fork();
      ems.set(req, fork);
    }
    return fork;
  };
  const ctx: ApiContext = { ...deps, em };

  const router = express.Router();
  const api = new ApiRoutes(router, createAuthenticator(deps.config.ADMIN_TOKEN, em));
  registerHealthRoutes(api, ctx);
  registerUserRoutes(api, ctx);
  registerConnectionRoutes(api, ctx);
  registerOAuthRoutes(api, ctx);
  registerBookingCalendarRoutes(api, ctx);
  registerBookingRoutes(api, ctx);

  const openApi = buildOpenApi(api.routes, { version: '1', serverUrl: deps.config.PUBLIC_URL });
  api.add(
    {
      method: 'get',
      path: '/openapi.json',
      summary: 'This OpenAPI document.',
      tag: 'Meta',
      access: 'public',
      responses: { 200: { description: 'The OpenAPI 3.1 document covering every route.' } },
    },
    async () => ({ status: 200, body: openApi }),
  );
  // The document lists itself too.
  Object.assign(openApi.paths, buildOpenApi(api.routes.slice(-1), { version: '1', serverUrl: '' }).paths);

  // The pages for people (web/): their own paths, before the API's.
  app.use(createWebRouter(ctx));
  app.use(router);
  app.use(unknownRoute);
  app.use(errorHandler);
  return { app, routes: api.routes, openApi };
}
