// The api service's HTTP app: every route is mounted through one table that /openapi.json describes.
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { KeyRing } from '../../shared/crypto';
import type { PlanChannels } from '../../shared/notifications/recipients';
import type { JourneyClient } from '../../usecases/journeys';
import { Endpoints } from '../common/endpoints';
import { errorHandler, mountHealth, notFoundHandler } from '../common/http';
import { recordApiChanges } from './audit';
import { apiChangeEndpoints } from './routes/apiChanges';
import { apiKeyFallback, guard, operatorRateLimit, RecentMisses } from './auth';
import { openApiEndpoints } from './openapi';
import { adminEndpoints } from './routes/admin';
import { apiKeyEndpoints } from './routes/apiKeys';
import { analyticsEndpoints } from './routes/analytics';
import { codecCors, codecEndpoints, uiOrigins } from './routes/codec';
import { conversionEndpoints } from './routes/conversions';
import { emailLinkEndpoints } from './routes/emailLinks';
import { eventEndpoints } from './routes/events';
import { importEndpoints } from './routes/imports';
import { inboxEndpoints } from './routes/inbox';
import { integrationEndpoints } from './routes/integrations';
import { leadEndpoints } from './routes/leads';
import { notificationEndpoints } from './routes/notifications';
import { referralFeeEndpoints } from './routes/referralFees';
import { sequenceEndpoints } from './routes/sequences';
import { tourEndpoints } from './routes/tours';
import { unsubscribeEndpoints } from './routes/unsubscribe';
import { webhookEndpointEndpoints } from './routes/webhookEndpoints';
import { whatIfEndpoints } from './routes/whatif';
import { workflowRuleEndpoints } from './routes/workflowRules';
import { workspaceEndpoints } from './routes/workspaces';
import { webAppEndpoints, webAppFiles } from './static';

import type { PolicyCache } from '../../data/policies';

export interface ApiDeps {
  pool: pg.Pool;
  temporal: Client;
  journeys: JourneyClient;
  logger: Logger;
  adminToken?: string;
  /** Seals integration secrets (LEADRELAY_ENCRYPTION_KEYS); without it integrations cannot be created. */
  keyRing?: KeyRing;
  /** Public base URL of the ingest service, for integrations' webhook_url (default http://localhost:8081). */
  publicIngestUrl?: string;
  /** The worker's task queue, where scheduled partner polls run (TEMPORAL_TASK_QUEUE; default leads). */
  taskQueue?: string;
  /** Base URL of the Temporal Web UI for the dashboard's run links (TEMPORAL_UI_URL). */
  temporalUiUrl?: string;
  /** The built dashboard served at /app (default web/dist). */
  webDist?: string;
  /** The worker's notification channels, which the what-if plans deliveries on (default: none configured). */
  whatIfChannels?: PlanChannels;
  /**
   * Imports: IMPORT_ROWS_PER_SECOND and IMPORT_MAX_BYTES (defaults 100 and 64 MiB), the closed loop's
   * IMPORT_JOURNEY_WINDOW and IMPORT_MAX_QUEUE_DELAY_MS; rows per batch for tests.
   */
  imports?: {
    rowsPerSecond?: number;
    maxBytes?: number;
    batchSize?: number;
    journeyWindow?: number;
    maxQueueDelayMs?: number;
  };
  /** Journey policies kept until Postgres notifies a change: a new lead's journey starts with its context. */
  policies?: PolicyCache;
  /** Operator requests an hour per client address (LEADRELAY_OPERATOR_RATE_LIMIT_PER_HOUR; default 3600). */
  operatorRateLimitPerHour?: number;
}

export function createApiApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  const misses = new RecentMisses();
  const operatorLimit = operatorRateLimit(deps.pool, deps.operatorRateLimitPerHour);
  const endpoints = new Endpoints(guard({ ...deps, misses, operatorLimit }), recordApiChanges(deps.pool));
  mountHealth(app, deps, { service: 'api', endpoints });
  // Operators' codec endpoint for the Temporal UI and CLI; before the JSON parser, as it takes larger bodies.
  app.use('/codec', codecCors(uiOrigins(deps.temporalUiUrl ?? 'http://localhost:8233')));
  endpoints.mount(app, codecEndpoints({ ...deps, operatorLimit }));
  app.use(express.json({ limit: '1mb' }));
  endpoints.mount(app, [
    ...openApiEndpoints(endpoints),
    // The staff dashboard: it calls the API below with the user's own key.
    ...webAppEndpoints({
      ...deps,
      distDir: deps.webDist,
      temporalNamespace: deps.temporal.options.namespace,
    }),
    ...eventEndpoints(deps.pool),
    ...workspaceEndpoints(deps.pool),
    ...apiKeyEndpoints({ pool: deps.pool, misses }),
    ...apiChangeEndpoints(deps.pool),
    ...leadEndpoints(deps),
    ...integrationEndpoints(deps),
    ...adminEndpoints(deps),
    ...inboxEndpoints(deps),
    ...conversionEndpoints(deps),
    ...analyticsEndpoints(deps.pool),
    ...referralFeeEndpoints(deps.pool),
    ...webhookEndpointEndpoints(deps),
    // Prospects follow this link from email: signed, no API key.
    ...unsubscribeEndpoints(deps),
    // Sequence email's open pixel and tracked links: signed, no API key.
    ...emailLinkEndpoints(deps),
    ...notificationEndpoints(deps),
    ...workflowRuleEndpoints(deps.pool),
    ...whatIfEndpoints(deps),
    ...importEndpoints({
      pool: deps.pool,
      temporal: deps.temporal,
      taskQueue: deps.taskQueue ?? 'leads',
      rowsPerSecond: deps.imports?.rowsPerSecond ?? 100,
      maxBytes: deps.imports?.maxBytes ?? 64 * 1024 * 1024,
      batchSize: deps.imports?.batchSize,
      journeyWindow: deps.imports?.journeyWindow,
      maxQueueDelayMs: deps.imports?.maxQueueDelayMs,
    }),
    ...sequenceEndpoints(deps),
    ...tourEndpoints(deps),
  ]);
  app.use('/app', webAppFiles(deps.webDist));
  app.use('/api/v1', ...apiKeyFallback(deps.pool, misses));
  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger));
  return app;
}
