// HTTP plumbing shared by the api and ingest services: JSON errors, health and readiness.
import type { Client } from '@temporalio/client';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import type pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { pingDatabase } from '../../data/pool';
import { AppError, isUnavailable } from '../../shared/errors';
import { endpoint, Endpoints } from './endpoints';
import { collectInboxBacklog, httpMetrics, metricsText, startDefaultMetrics } from './metrics';

/** Wraps an async handler so a rejection reaches the error middleware. */
export function route(handler: (req: Request, res: express.Response) => Promise<unknown>): RequestHandler {
  return (req, res, next) => {
    handler(req, res).catch(next);
  };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const body = error as { type?: string; status?: number; expose?: boolean; message?: string };
    let appError: AppError;
    if (error instanceof AppError) appError = error;
    else if (body?.type === 'entity.too.large')
      appError = new AppError('payload_too_large', 'request body is too large');
    else if (body?.type === 'entity.parse.failed')
      appError = new AppError('validation_failed', 'request body is not valid JSON', {
        fields: [{ field: 'body', message: 'invalid JSON' }],
      });
    else if (
      (typeof body?.type === 'string' || body?.expose === true) &&
      (body.status ?? 0) >= 400 &&
      (body.status ?? 0) < 500
    ) {
      // Other body-parser refusals (bad gzip, unsupported encoding or charset, aborted or mis-sized body).
      const reason = body.type ?? body.message ?? 'unreadable body';
      appError = new AppError('validation_failed', `request body refused: ${reason}`, {
        fields: [{ field: 'body', message: reason }],
      });
    } else if (isUnavailable(error))
      appError = new AppError('unavailable', 'a backing service is unavailable; retry later');
    else {
      logger.error({ err: error, path: req.path }, 'unhandled error');
      appError = new AppError('internal', 'internal error');
    }
    res.locals.errorCode = appError.code;
    if (appError.code === 'unavailable') res.setHeader('Retry-After', '5');
    // A refusal that says when to come back (a concurrency limit) says it in the header too.
    const retryAfter = appError.details.retry_after;
    if (typeof retryAfter === 'number' && !res.getHeader('Retry-After'))
      res.setHeader('Retry-After', String(retryAfter));
    res.status(appError.status).json(appError.toJSON());
  };
}

export function notFoundHandler(): RequestHandler {
  return (req, _res, next) => next(new AppError('not_found', `no route ${req.method} ${req.path}`));
}

export interface HealthOptions {
  /** Counts the app's requests in the HTTP metrics under this service name (api, ingest, worker). */
  service?: string;
  /** /metrics reads the ingest inbox backlog from Postgres at each scrape. */
  inboxBacklog?: boolean;
  /** More readiness checks beside Postgres and Temporal (e.g. the worker's own state). */
  checks?: Record<string, () => boolean>;
  /** Where the routes are kept for a service that documents them (the api's OpenAPI). */
  endpoints?: Endpoints;
}

const Ready = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({ postgres: z.boolean(), temporal: z.boolean() }),
});

/** `/healthz` (process up), `/readyz` (Temporal and Postgres reachable), `/metrics` (Prometheus). */
export function mountHealth(
  app: Express,
  deps: { pool: pg.Pool; temporal: Client },
  options: HealthOptions = {},
): void {
  if (options.service) app.use(httpMetrics(options.service));
  startDefaultMetrics();
  (options.endpoints ?? new Endpoints()).mount(app, [
    endpoint({
      method: 'get',
      path: '/metrics',
      tag: 'service',
      summary: 'Prometheus metrics of this process',
      description:
        'Prometheus text format: HTTP requests and latency by route and status, process metrics, and the worker-side counters when they run in this process. See docs/metrics.md. Keep it off the public proxy: scrape it on the service port.',
      auth: 'none',
      responses: { 200: { description: 'text/plain; version=0.0.4 (Prometheus exposition format)' } },
      async handler({ res }) {
        if (options.inboxBacklog) await collectInboxBacklog(deps.pool);
        const { contentType, body } = await metricsText();
        res.type(contentType).send(body);
      },
    }),
    endpoint({
      method: 'get',
      path: '/healthz',
      tag: 'service',
      summary: 'Process is up',
      auth: 'none',
      responses: { 200: { description: 'up', schema: z.object({ status: z.literal('ok') }) } },
      handler: () => ({ status: 'ok' }),
    }),
    endpoint({
      method: 'get',
      path: '/readyz',
      tag: 'service',
      summary: 'Temporal and Postgres are reachable',
      auth: 'none',
      responses: {
        200: { description: 'ready', schema: Ready },
        503: { description: 'a dependency is unreachable', schema: Ready },
      },
      async handler({ res }) {
        const [postgres, temporal] = await Promise.all([
          pingDatabase(deps.pool),
          withTimeout(deps.temporal.workflowService.getSystemInfo({}), 3000).then(
            () => true,
            () => false,
          ),
        ]);
        const checks: Record<string, boolean> = { postgres, temporal };
        for (const [name, check] of Object.entries(options.checks ?? {})) checks[name] = check();
        const ready = Object.values(checks).every(Boolean);
        res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
      },
    }),
  ]);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolveValue, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolveValue(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
