// The worker's small HTTP server: /healthz, /readyz (Postgres, Temporal and the worker itself running) and
// /metrics (the process's activity metrics: notifications, partner syncs, outbound webhooks).
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type pg from 'pg';
import type { Logger } from 'pino';
import { errorHandler, mountHealth, notFoundHandler } from '../common/http';

export interface WorkerHttpDeps {
  pool: pg.Pool;
  /** A client on the worker's Temporal: readiness asks the frontend. */
  temporal: Client;
  /** Whether the worker polls its task queue (Worker.getState() === 'RUNNING'). */
  running: () => boolean;
  logger: Logger;
}

export function createWorkerHttpApp(deps: WorkerHttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  mountHealth(app, deps, { service: 'worker', checks: { worker: deps.running } });
  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger));
  return app;
}

/**
 * Listens on the port, or exits with one clear line when it is taken. Unlike the api's and ingest's `listen`,
 * it leaves SIGINT/SIGTERM alone: the Temporal runtime turns them into the worker's graceful shutdown, after
 * which main closes this server.
 */
export function startWorkerHttp(app: Express, port: number, logger: Logger): Promise<Server> {
  return new Promise((resolveServer) => {
    const server = app.listen(port);
    server.once('error', (error: NodeJS.ErrnoException) => {
      process.stderr.write(
        error.code === 'EADDRINUSE'
          ? `leadrelay worker: port ${port} (WORKER_PORT) is already in use: stop what holds it or set another port\n`
          : `leadrelay worker: cannot listen on port ${port}: ${error.message}\n`,
      );
      process.exit(1);
    });
    server.once('listening', () => {
      logger.info({ port }, 'worker http listening');
      resolveServer(server);
    });
  });
}

export function stopWorkerHttp(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}
