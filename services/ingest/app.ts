// The ingest service's HTTP app: partner webhooks under /webhooks/<partner>/<integrationId>, health.
import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import { AppError } from '../../shared/errors';
import { errorHandler, mountHealth, notFoundHandler } from '../common/http';

export interface IngestDeps {
  pool: pg.Pool;
  temporal: Client;
  logger: Logger;
}

export function createIngestApp(deps: IngestDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  mountHealth(app, deps);
  app.post('/webhooks/:partner/:integrationId', (req, _res, next) => {
    // Partner adapters register here (issue: ingest); until one exists for a partner, its webhooks are unknown.
    next(
      new AppError('not_found', `no webhook integration ${req.params.partner}/${req.params.integrationId}`),
    );
  });
  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger));
  return app;
}
