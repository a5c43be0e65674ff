// The api service's HTTP app: routes under /api/v1, health, JSON errors.
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { KeyRing } from '../../shared/crypto';
import { errorHandler, mountHealth, notFoundHandler } from '../common/http';
import type { JourneyClient } from '../../usecases/journeys';
import { authenticate } from './auth';
import { openApiRouter } from './openapi';
import { rateLimit } from './rateLimit';
import { adminRouter } from './routes/admin';
import { analyticsRouter } from './routes/analytics';
import { codecRouter, uiOrigins } from './routes/codec';
import { contactsRouter } from './routes/contacts';
import { inboxRouter } from './routes/inbox';
import { integrationsRouter, integrationTemplatesRouter } from './routes/integrations';
import { conversionsRouter } from './routes/conversions';
import { eventsRouter } from './routes/events';
import { leadsRouter } from './routes/leads';
import { notificationPreferencesRouter, notificationsRouter } from './routes/notifications';
import { unsubscribeRouter } from './routes/unsubscribe';
import { workflowRulesRouter } from './routes/workflowRules';
import { feeTermsRouter, referralFeesRouter } from './routes/referralFees';
import { webhookEndpointsRouter } from './routes/webhookEndpoints';
import { propertiesRouter, workspaceRouter, workspacesRouter } from './routes/workspaces';
import { webAppRouter } from './static';

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
}

export function createApiApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  mountHealth(app, deps, { service: 'api' });
  // Operators' codec endpoint for the Temporal UI and CLI; before the JSON parser, as it takes larger bodies.
  app.use(
    '/codec',
    codecRouter({
      keyRing: deps.keyRing,
      adminToken: deps.adminToken,
      origins: uiOrigins(deps.temporalUiUrl ?? 'http://localhost:8233'),
    }),
  );
  app.use(express.json({ limit: '1mb' }));
  app.use(openApiRouter());
  // The staff dashboard: static files; it calls the API below with the user's own key.
  app.use(
    '/app',
    webAppRouter({
      distDir: deps.webDist,
      temporalUiUrl: deps.temporalUiUrl,
      temporalNamespace: deps.temporal.options.namespace,
    }),
  );

  // Registering a workspace is the one route authenticated by the admin token instead of an API key.
  // Prospects follow this link from email: signed, no API key.
  app.use('/unsubscribe', unsubscribeRouter(deps.pool, deps.keyRing));
  app.use('/api/v1/workspaces', workspacesRouter(deps.pool, deps.adminToken));
  // The inbox is for operators: the admin token, or a workspace key with the admin permission.
  app.use('/api/v1/inbox', inboxRouter(deps));
  // Operator actions across workspaces (key rotation): the admin token only.
  app.use('/api/v1/admin', adminRouter(deps));
  const v1 = express.Router();
  v1.use(authenticate(deps.pool));
  v1.use(rateLimit(deps.pool));
  v1.use('/workspaces', workspaceRouter(deps.pool));
  v1.use('/properties', propertiesRouter(deps.pool));
  v1.use('/leads', leadsRouter(deps));
  v1.use('/notification-preferences', notificationPreferencesRouter(deps.pool));
  v1.use('/notifications', notificationsRouter(deps));
  v1.use(workflowRulesRouter(deps.pool));
  v1.use('/integrations', integrationsRouter(deps));
  v1.use('/integration-templates', integrationTemplatesRouter(deps));
  v1.use('/conversions', conversionsRouter(deps));
  v1.use('/contacts', contactsRouter(deps.pool));
  v1.use('/analytics', analyticsRouter(deps.pool));
  v1.use('/referral-fees', referralFeesRouter(deps.pool));
  v1.use('/referral-fee-terms', feeTermsRouter(deps.pool));
  v1.use('/webhook-endpoints', webhookEndpointsRouter(deps));
  v1.use('/events', eventsRouter(deps.pool));
  app.use('/api/v1', v1);

  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger));
  return app;
}
