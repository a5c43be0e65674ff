// Starts an HTTP app on a port (one clear line when the port is taken) and stops it on SIGINT/SIGTERM.
import type { Express } from 'express';
import type { Server } from 'node:http';
import type { Logger } from 'pino';

export function listen(
  app: Express,
  port: number,
  name: string,
  logger: Logger,
  onClose: () => Promise<void>,
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
    const stop = () => {
      if (stopping) return;
      stopping = true;
      logger.info(`${name} stopping`);
      server.close(() => {
        void onClose().finally(() => process.exit(0));
      });
      server.closeAllConnections?.();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
