// Starts an HTTP app on a port (one clear line when the port is taken) and drains it on SIGINT/SIGTERM: it stops
// accepting, lets the requests in flight finish and answer, then closes its dependencies and exits.
import type { Express } from 'express';
import type { Server } from 'node:http';
import type { Logger } from 'pino';

/**
 * How long requests in flight may take to finish once a stop is asked for; then their connections are cut. Below
 * the manifests' terminationGracePeriodSeconds (30 s, of which a preStop pause takes 5 s).
 */
export const DRAIN_MS = 20_000;

export function listen(
  app: Express,
  port: number,
  name: string,
  logger: Logger,
  onClose: () => Promise<void>,
  drainMs = DRAIN_MS,
): Promise<Server> {
  return new Promise((resolveServer) => {
    const server = app.listen(port);
    server.once('error', (error: NodeJS.ErrnoException) => {
      process.stderr.write(
        error.code === 'EADDRINUSE'
          ? `leadrelay ${name}: port ${port} is already in use: stop what holds it or set another port\n`
          : `leadrelay ${name}: cannot listen on port ${port}: ${error.message}\n`,
      );
      process.exit(1);
    });
    server.once('listening', () => {
      logger.info({ port }, `${name} listening`);
      resolveServer(server);
    });
    let stopping = false;
    let inFlight = 0;
    server.on('request', (_request, response) => {
      inFlight += 1;
      // A request that arrives on a kept-alive connection while draining is served, and its connection closed.
      if (stopping && !response.headersSent) response.setHeader('connection', 'close');
      response.once('close', () => {
        inFlight -= 1;
        // The connection is idle once its response is out: close it, so server.close() can complete.
        if (stopping) setImmediate(() => server.closeIdleConnections());
      });
    });
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, inFlight, drainMs }, `${name} stopping: draining requests in flight`);
      const cut = setTimeout(() => {
        logger.warn(
          { inFlight },
          `${name}: requests still in flight after ${drainMs} ms; closing their connections`,
        );
        server.closeAllConnections();
      }, drainMs);
      // Stops accepting at once; the callback runs when every connection has closed.
      server.close(() => {
        clearTimeout(cut);
        logger.info(`${name} drained`);
        void onClose().finally(() => process.exit(0));
      });
      server.closeIdleConnections();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
