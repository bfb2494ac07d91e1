/**
 * Declarative routes: each route states its auth, its zod schemas and its responses once; the same
 * declaration validates requests and generates the OpenAPI document, so the two cannot drift.
 */
import type { NextFunction, Request, Response, Router } from 'express';
import { z } from 'zod';
import { AppError, toFieldProblems, validationFailed } from '../domain/errors.ts';
import type { Caller } from './auth.ts';

export type Access = 'public' | 'user' | 'admin' | 'any';
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteResponse {
  description: string;
  schema?: z.ZodType;
}

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: Method;
  /** Express-style path, e.g. `/v1/users/:id`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  responses: Record<number, RouteResponse>;
}

export interface HandlerContext<P, Q, B> {
  req: Request;
  res: Response;
  params: P;
  query: Q;
  body: B;
  caller: Caller;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler<P, Q, B> = (ctx: HandlerContext<P, Q, B>) => Promise<Reply>;

export type RegisteredRoute = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

export class ApiRoutes {
  readonly routes: RegisteredRoute[] = [];
  readonly router: Router;
  readonly authenticate: (req: Request) => Promise<Caller>;

  constructor(router: Router, authenticate: (req: Request) => Promise<Caller>) {
    this.router = router;
    this.authenticate = authenticate;
  }

  add<
    P extends z.ZodType = z.ZodObject,
    Q extends z.ZodType = z.ZodObject,
    B extends z.ZodType = z.ZodUnknown,
  >(spec: RouteSpec<P, Q, B>, handler: Handler<z.output<P>, z.output<Q>, z.output<B>>): void {
    this.routes.push(spec as unknown as RegisteredRoute);
    this.router[spec.method](spec.path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const caller = await this.authenticate(req);
        if (spec.access !== 'public') {
          if (caller.kind === 'anonymous')
            throw new AppError(401, 'unauthorized', 'A valid bearer token is required.');
          if (spec.access === 'admin' && caller.kind !== 'admin')
            throw new AppError(403, 'forbidden', 'This route needs the admin token.');
          if (spec.access === 'user' && caller.kind !== 'user')
            throw new AppError(
              403,
              'forbidden',
              "This route acts for a user: call it with that user's token.",
            );
        }
        const params = parsePart(spec.params, req.params, 'params');
        const query = parsePart(spec.query, req.query, 'query');
        const body = spec.body ? parsePart(spec.body, req.body ?? {}, 'body') : undefined;
        const reply = await handler({ req, res, params, query, body, caller } as HandlerContext<
          z.output<P>,
          z.output<Q>,
          z.output<B>
        >);
        for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
        if (reply.body === undefined) res.status(reply.status).end();
        else res.status(reply.status).json(reply.body);
      } catch (error) {
        next(error);
      }
    });
  }
}

function parsePart(schema: z.ZodType | undefined, value: unknown, part: 'params' | 'query' | 'body') {
  if (!schema) return value;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // Paths in query strings and bodies are what the client sent; only params get a prefix.
  throw validationFailed(toFieldProblems(result.error, part === 'params' ? 'path' : undefined));
}

const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** The OpenAPI 3.1 document for every registered route. */
export function buildOpenApi(routes: RegisteredRoute[], info: { version: string; serverUrl: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
    z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
  for (const route of routes) {
    const openApiPath = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', route.params],
      ['query', route.query],
    ] as const) {
      if (!schema) continue;
      const json = jsonSchema(schema, 'input') as {
        properties?: Record<string, unknown>;
        required?: string[];
      };
      for (const [name, prop] of Object.entries(json.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (json.required ?? []).includes(name),
          schema: prop,
        });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const schema = response.schema ?? (Number(status) >= 400 ? errorBody : undefined);
      responses[status] = {
        description: response.description,
        ...(schema ? { content: { 'application/json': { schema: jsonSchema(schema, 'output') } } } : {}),
      };
    }
    if (route.access !== 'public') {
      responses['401'] ??= {
        description: 'Missing or invalid token.',
        content: { 'application/json': { schema: jsonSchema(errorBody, 'output') } },
      };
    }
    responses['400'] ??= {
      description: 'Validation failed or malformed JSON.',
      content: { 'application/json': { schema: jsonSchema(errorBody, 'output') } },
    };
    responses['503'] ??= {
      description: 'Database or Temporal unavailable.',
      content: { 'application/json': { schema: jsonSchema(errorBody, 'output') } },
    };
    paths[openApiPath] ??= {};
    paths[openApiPath][route.method] = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method}${openApiPath.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(route.access === 'public' ? { security: [] } : {}),
      ...(route.access === 'admin' ? { description: 'Admin token only.' } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Calbridge API',
      version: info.version,
      description:
        'The contract is docs/API.md in the Calbridge repository; this document covers every route.',
    },
    servers: [{ url: info.serverUrl }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
