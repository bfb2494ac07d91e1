/**
 * Declarative routes: each route states its auth, its zod schemas and its responses once; the same
 * declaration validates requests and generates the OpenAPI document, so the two cannot drift.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { AppError, toFieldProblems, validationFailed } from '../domain/errors.ts';
import type { Caller } from './auth.ts';
import { unsupportedMediaType } from './errors.ts';

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
  /** The route's own outcomes; 400, 401, 403, 413, 415 and 503 follow from the rest of the spec. */
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
  /** A text/plain body instead of JSON (Graph's validation handshake wants the token echoed as is). */
  text?: string;
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
        // Only routes that take a body read one, and only after the caller is known.
        const body = spec.body
          ? parsePart(spec.body, (await readJsonBody(req, res)) ?? {}, 'body')
          : undefined;
        const reply = await handler({ req, res, params, query, body, caller } as HandlerContext<
          z.output<P>,
          z.output<Q>,
          z.output<B>
        >);
        for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
        if (reply.text !== undefined) res.status(reply.status).type('text/plain').send(reply.text);
        else if (reply.body === undefined) res.status(reply.status).end();
        else res.status(reply.status).json(reply.body);
      } catch (error) {
        next(error);
      }
    });
  }
}

const JSON_TYPES = ['application/json', 'application/*+json'];
/** Limits the decompressed size too: body-parser counts the bytes it inflates. */
const parseJson = express.json({ limit: '256kb', strict: true, type: JSON_TYPES });

/**
 * The request's JSON body, or undefined when it sends none (an optional body may be left out). A
 * body of another type is a 415: read as JSON it would look like "every field missing".
 */
async function readJsonBody(req: Request, res: Response): Promise<unknown> {
  const sendsBody =
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!sendsBody) return undefined;
  if (!req.is(JSON_TYPES)) throw unsupportedMediaType();
  await new Promise<void>((resolve, reject) =>
    parseJson(req, res, (error) => (error ? reject(error) : resolve())),
  );
  return req.body;
}

function parsePart(schema: z.ZodType | undefined, value: unknown, part: 'params' | 'query' | 'body') {
  if (!schema) return value;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // Paths in query strings and bodies are what the client sent; only params get a prefix.
  throw validationFailed(toFieldProblems(result.error, part === 'params' ? 'path' : undefined));
}

const errorBody = z
  .object({
    error: z.object({
      code: z.string().meta({
        description: 'snake_case code from the table in docs/API.md',
        examples: ['validation_failed'],
      }),
      message: z.string().meta({ description: 'A sentence for a person.' }),
      details: z.record(z.string(), z.unknown()).optional().meta({
        description:
          'For validation_failed: `{ "fields": [{ "path": "a.b", "message": "..." }] }`; otherwise code-specific.',
      }),
    }),
  })
  .meta({ description: 'The body of every error response.' });

const ERROR_REF = { $ref: '#/components/schemas/Error' };

/** The outcomes every route of a kind shares, whatever its handler does. */
function impliedResponses(route: RegisteredRoute): Record<number, string> {
  const implied: Record<number, string> = {};
  if (route.params || route.query || route.body)
    implied[400] =
      'validation_failed (details.fields names each problem), or malformed_json for a body that is not readable JSON.';
  // Public routes authenticate a token too when one is sent, so a bad one is a 401 there as well.
  implied[401] =
    route.access === 'public'
      ? 'unauthorized: an Authorization header was sent that is not a valid bearer token.'
      : 'unauthorized: missing or invalid bearer token.';
  if (route.access === 'admin') implied[403] = 'forbidden: this route needs the admin token.';
  if (route.access === 'user')
    implied[403] = "forbidden: this route acts for a user; call it with that user's token.";
  if (route.body) {
    implied[413] = 'payload_too_large: the body exceeds 256 KB (after decompression).';
    implied[415] =
      'unsupported_media_type: the body is not UTF-8 JSON, or its Content-Encoding is not gzip, deflate, br or zstd.';
  }
  implied[503] = 'dependency_unavailable: PostgreSQL or Temporal is unavailable.';
  return implied;
}

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
      const schema = response.schema
        ? jsonSchema(response.schema, 'output')
        : Number(status) >= 400
          ? ERROR_REF
          : undefined;
      responses[status] = {
        description: response.description,
        ...(schema ? { content: { 'application/json': { schema } } } : {}),
      };
    }
    for (const [status, description] of Object.entries(impliedResponses(route)))
      responses[status] ??= { description, content: { 'application/json': { schema: ERROR_REF } } };
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
              // A body whose every field is optional may be left out entirely.
              required: !route.body.safeParse({}).success,
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
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: jsonSchema(errorBody, 'output') },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
