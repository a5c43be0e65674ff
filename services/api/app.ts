// The api service's HTTP app: routes under /api/v1, health, JSON errors.
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import { errorHandler, mountHealth, notFoundHandler } from '../common/http';
import type { JourneyClient } from '../common/journeys';
import { authenticate } from './auth';
import { leadsRouter } from './routes/leads';
import { propertiesRouter, workspacesRouter } from './routes/workspaces';

export interface ApiDeps {
  pool: pg.Pool;
  temporal: Client;
  journeys: JourneyClient;
  logger: Logger;
  adminToken?: string;
}

export function createApiApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));
  mountHealth(app, deps);

  // Registering a workspace is the one route authenticated by the admin token instead of an API key.
  app.use('/api/v1/workspaces', workspacesRouter(deps.pool, deps.adminToken));
  const v1 = express.Router();
  v1.use(authenticate(deps.pool));
  v1.use('/properties', propertiesRouter(deps.pool));
  v1.use('/leads', leadsRouter(deps));
  app.use('/api/v1', v1);

  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger));
  return app;
}
