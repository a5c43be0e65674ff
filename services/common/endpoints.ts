// One definition per HTTP route: method, path, zod schemas, who may call and its OpenAPI text beside the handler.
// Mounting definitions is the only way a service adds routes, and the api describes what it mounted in
// /openapi.json, so a route cannot exist undocumented.
import type { IRouter, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { Permission } from '../../data/workspaces';
import { AppError } from '../../shared/errors';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call: a workspace API key, the operator's admin token, either, or anyone. */
export type Auth = 'api_key' | 'admin_token' | 'admin_token_or_key' | 'none';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Also answers text/csv when asked with Accept: text/csv. */
  csv?: boolean;
  /** Also answers an Excel workbook with `?format=xlsx` (a list's export). */
  xlsx?: boolean;
  /** The body is an HTML page. */
  html?: boolean;
}

/** Parses with zod, or throws a 400 naming every bad field. */
export function parse<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: 'body' | 'query' | 'params' = 'body',
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : where,
    message: issue.message,
  }));
  const named = [...new Set(fields.map((f) => f.field))].join(', ');
  throw new AppError('validation_failed', `invalid ${where}: ${named}`, { fields });
}

type Parsed<S, Otherwise> = S extends z.ZodType ? z.output<S> : Otherwise;

/** The names in an Express path, e.g. `/leads/:id/syncs/:syncId` → `{ id: string; syncId: string }`. */
type PathParams<Path extends string> = Path extends `${string}:${infer Name}/${infer Rest}`
  ? { [K in Name]: string } & PathParams<`/${Rest}`>
  : Path extends `${string}:${infer Name}`
    ? { [K in Name]: string }
    : Record<string, never>;

export interface Input<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  req: Request;
  res: Response;
}

export interface Definition<
  Path extends string,
  P extends z.ZodObject | undefined,
  Q extends z.ZodObject | undefined,
  B extends z.ZodType | undefined,
> {
  method: Method;
  /** Express-style path from the root, e.g. /api/v1/leads/:id */
  path: Path;
  tag: string;
  summary: string;
  description?: string;
  /** Who may call; an API key unless said otherwise. */
  auth?: Auth;
  permission?: Permission;
  params?: P;
  query?: Q;
  body?: B;
  /** A missing body reads as `{}` (bodies whose every field is optional). */
  bodyOptional?: boolean;
  /**
   * A file the route also takes as the raw request body (e.g. text/csv): not parsed here, so `body` is undefined
   * and the handler reads the request stream.
   */
  upload?: { contentType: string; description: string };
  headers?: { name: string; description: string }[];
  responses: Record<number, ResponseSpec>;
  /** Replaces the checks `auth` implies, for a route that proves the caller its own way (the codec's session). */
  guard?: RequestHandler[];
  /** Runs after the guard and before parsing, e.g. a body parser of the route's own. */
  before?: RequestHandler[];
  /**
   * A returned value is answered as JSON with the lowest documented 2xx status (`reply` picks another).
   * Nothing returned: a route documented as 204 answers it; any other answers itself (CSV, HTML, a file, a stream).
   */
  handler(
    input: Input<Parsed<P, PathParams<Path>>, Parsed<Q, Record<string, never>>, Parsed<B, undefined>>,
  ): unknown;
}

export type Endpoint = Definition<
  string,
  z.ZodObject | undefined,
  z.ZodObject | undefined,
  z.ZodType | undefined
> & { auth: Auth };

/** Types the handler's input from the schemas given. */
export function endpoint<
  Path extends string,
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(definition: Definition<Path, P, Q, B>): Endpoint {
  return { auth: 'api_key', ...definition } as unknown as Endpoint;
}

class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

/** A JSON answer with a status other than the route's first documented one (201 new vs 200 matched). */
export function reply(status: number, body: unknown): Reply {
  return new Reply(status, body);
}

/**
 * Told of every write a route answered successfully (any method but GET), before its answer is sent: the api
 * keeps its audit log of who changed what with it.
 */
export type ChangeRecorder = (definition: Endpoint, req: Request, status: number) => Promise<void>;

function handle(definition: Endpoint, recorded?: ChangeRecorder): RequestHandler {
  const success = Number(Object.keys(definition.responses).find((status) => status.startsWith('2')) ?? 200);
  const answer = async (req: Request, res: Response) => {
    const { params, query, body } = definition;
    const result = await definition.handler({
      params: params ? parse(params, req.params, 'params') : req.params,
      query: query ? parse(query, req.query, 'query') : {},
      body: body ? parse(body, definition.bodyOptional ? (req.body ?? {}) : req.body) : undefined,
      req,
      res,
    });
    if (recorded && definition.method !== 'get') {
      // A route that answered itself (a file, a stream) has its status on the response already.
      const status =
        result instanceof Reply
          ? result.status
          : result !== undefined || success === 204
            ? success
            : res.statusCode;
      if (status < 400) await recorded(definition, req, status);
    }
    if (result instanceof Reply) res.status(result.status).json(result.body);
    else if (result !== undefined) res.status(success).json(result);
    else if (success === 204) res.status(204).end();
  };
  return (req, res, next) => {
    answer(req, res).catch(next);
  };
}

/** The routes an app mounted, in order: what its OpenAPI document describes. */
export class Endpoints {
  private readonly mounted: Endpoint[] = [];

  /** `guard` turns a route's `auth` and `permission` into the middleware that enforces them. */
  constructor(
    private readonly guard: (definition: Endpoint) => RequestHandler[] = () => [],
    private readonly recorded?: ChangeRecorder,
  ) {}

  /** Mounts each route (the first whose path matches wins, as in Express) and keeps it for the document. */
  mount(router: IRouter, definitions: Endpoint[]): void {
    for (const definition of definitions) {
      const guard = definition.guard ?? this.guard(definition);
      router[definition.method](
        definition.path,
        ...guard,
        ...(definition.before ?? []),
        handle(definition, this.recorded),
      );
      this.mounted.push(definition);
    }
  }

  list(): readonly Endpoint[] {
    return this.mounted;
  }
}
