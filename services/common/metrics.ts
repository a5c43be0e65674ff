// Every Prometheus metric leadrelay exports, in one registry per process: HTTP traffic of api and ingest,
// ingest webhook outcomes, the inbox backlog, notification, partner sync and outbound webhook outcomes.
// GET /metrics (services/common/http.ts mountHealth) serves the registry; see docs/metrics.md.
import type { RequestHandler } from 'express';
import type pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();

let defaultsStarted = false;
/** Process metrics (CPU, memory, event loop lag, GC): started by the first /metrics mounted, not on import. */
export function startDefaultMetrics(): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  collectDefaultMetrics({ register: registry });
}

// ---- HTTP (api, ingest, worker's health server) ----

export const httpRequests = new Counter({
  name: 'leadrelay_http_requests_total',
  help: 'HTTP requests answered, by service, method, route pattern and status code.',
  labelNames: ['service', 'method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: 'leadrelay_http_request_duration_seconds',
  help: 'Time from request to the last byte of the answer, by service, method, route pattern and status code.',
  labelNames: ['service', 'method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/** The route label of requests no route answered (404s, API-key or CORS middleware answers). */
export const NO_ROUTE = 'none';

/**
 * Counts every request by its route *pattern* (`/api/v1/leads/:id`, never the id itself, so the label set stays
 * small). Express sets `req.route` when a route matches, while `req.baseUrl` still names the routers it
 * passed through; an error unwinding the routers resets `baseUrl`, so the pattern is taken at that moment.
 */
export function httpMetrics(service: string): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let matched = req.route as { path?: unknown } | undefined;
    let pattern: string | undefined;
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => matched,
      set: (value: { path?: unknown } | undefined) => {
        matched = value;
        if (typeof value?.path === 'string') pattern = `${req.baseUrl}${value.path}`;
      },
    });
    res.once('finish', () => {
      const labels = {
        service,
        method: req.method,
        route: pattern ?? NO_ROUTE,
        status: String(res.statusCode),
      };
      httpRequests.inc(labels);
      httpRequestDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}

// ---- ingest ----

export const WEBHOOK_OUTCOMES = [
  'accepted',
  'duplicate',
  'deferred',
  'unauthorized',
  'invalid',
  'too_large',
  'not_found',
  'unavailable',
  'overloaded',
  'error',
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export const ingestWebhooks = new Counter({
  name: 'leadrelay_ingest_webhooks_total',
  help: 'Partner webhooks answered by ingest, by partner and outcome (accepted, duplicate, deferred: stored but not yet delivered to a journey, unauthorized, invalid, too_large, not_found, unavailable, overloaded: refused by the bounded gate before anything was stored, error).',
  labelNames: ['partner', 'outcome'] as const,
  registers: [registry],
});

export const signatureFailures = new Counter({
  name: 'leadrelay_ingest_signature_failures_total',
  help: 'Partner webhooks refused for a missing or wrong signature, by partner.',
  labelNames: ['partner'] as const,
  registers: [registry],
});

/** A webhook answer's outcome from its status code (and, for a 200, whether every event was a redelivery). */
export function webhookOutcome(status: number, duplicate: boolean, errorCode?: string): WebhookOutcome {
  if (status === 200) return duplicate ? 'duplicate' : 'accepted';
  if (errorCode === 'overloaded') return 'overloaded';
  if (status >= 200 && status < 300) return 'deferred';
  if (status === 401) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 413) return 'too_large';
  if (status === 503) return 'unavailable';
  if (status >= 400 && status < 500) return 'invalid';
  return 'error';
}

/**
 * Route middleware of POST /webhooks/:partner/:integrationId: counts the answer's outcome once it is sent. A
 * partner name we do not know is labelled `unknown` (anyone can post to any path). The handler sets
 * `res.locals.duplicate` when every event of the webhook was a redelivery; the error handler `res.locals.errorCode`.
 */
export function webhookMetrics(isPartner: (name: string) => boolean): RequestHandler {
  return (req, res, next) => {
    const name = String(req.params.partner);
    const partner = isPartner(name) ? name : 'unknown';
    res.once('finish', () => {
      const outcome = webhookOutcome(
        res.statusCode,
        res.locals.duplicate === true,
        res.locals.errorCode as string | undefined,
      );
      ingestWebhooks.inc({ partner, outcome });
      if (outcome === 'unauthorized') signatureFailures.inc({ partner });
    });
    next();
  };
}

export const inboxBacklog = new Gauge({
  name: 'leadrelay_inbox_backlog',
  help: 'Inbox events waiting, by status: pending (stored, not yet delivered to a journey) and unmatched (no lead yet). Read from Postgres at each scrape.',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const inboxOldestPending = new Gauge({
  name: 'leadrelay_inbox_oldest_pending_seconds',
  help: 'Age of the oldest pending inbox event (0 when none). Read from Postgres at each scrape.',
  registers: [registry],
});

/** Reads the backlog into its gauges; when Postgres does not answer the gauges are emptied, not left stale. */
export async function collectInboxBacklog(pool: pg.Pool): Promise<void> {
  try {
    const { rows } = await pool.query<{ pending: number; unmatched: number; oldest: number | null }>(
      `SELECT (SELECT count(*) FROM inbox_events WHERE status = 'pending')::int AS pending,
              (SELECT count(*) FROM inbox_events WHERE status = 'unmatched')::int AS unmatched,
              (SELECT extract(epoch FROM now() - min(received_at)) FROM inbox_events WHERE status = 'pending')::float8
                AS oldest`,
    );
    const row = rows[0]!;
    inboxBacklog.set({ status: 'pending' }, row.pending);
    inboxBacklog.set({ status: 'unmatched' }, row.unmatched);
    inboxOldestPending.set(row.oldest ?? 0);
  } catch {
    inboxBacklog.reset();
    inboxOldestPending.reset();
  }
}

// ---- worker activities ----

export const notificationOutcomes = new Counter({
  name: 'leadrelay_notifications_total',
  help: 'Notification deliveries finished, by channel (email, sms, slack) and outcome (sent, failed, skipped).',
  labelNames: ['channel', 'outcome'] as const,
  registers: [registry],
});

export const partnerSyncOutcomes = new Counter({
  name: 'leadrelay_partner_syncs_total',
  help: 'Status pushes to partners finished, by partner and outcome (success, failed, conflict, skipped).',
  labelNames: ['partner', 'outcome'] as const,
  registers: [registry],
});

export const webhookDeliveryOutcomes = new Counter({
  name: 'leadrelay_webhook_deliveries_total',
  help: 'Outbound webhook delivery attempts, by outcome (delivered, failed, endpoint_disabled).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** The text a Prometheus scrape gets, with its content type. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
