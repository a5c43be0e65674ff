// B1 of the ingest bench: ingest's HTTP layer (raw body, route, Standard Webhooks signature, the web form's zod
// schema, the same JSON answer) and then the journey's signal-with-start, with no database at all. Beside B0 (the
// bare signal) and B2 (the whole webhook) it splits B2's cost into HTTP, database and Temporal. The lead of each
// request is named by the bench (`x-bench-lead`, inserted ahead like B0's), its context given as ingest gives it.
import express from 'express';
import { inboundAdapter } from '../activities/partners';
import { errorHandler, notFoundHandler, route } from '../services/common/http';
import { webhookMetrics } from '../services/common/metrics';
import { connectClient } from '../services/common/temporal';
import { KeyRing } from '../shared/crypto';
import { AppError } from '../shared/errors';
import type { JourneyContext } from '../shared/journey/types';
import { createLogger } from '../shared/logger';
import { JourneyClient } from '../usecases/journeys';

async function main(): Promise<void> {
  const env = process.env;
  const logger = createLogger('b1', env.LOG_LEVEL ?? 'info');
  const keyRing = KeyRing.parse(env.LEADRELAY_ENCRYPTION_KEYS!);
  const temporal = await connectClient(env.TEMPORAL_ADDRESS!, env.TEMPORAL_NAMESPACE ?? 'default', keyRing);
  const journeys = new JourneyClient({ client: temporal, taskQueue: env.TEMPORAL_TASK_QUEUE ?? 'leads' });
  const secret = env.B1_WEBHOOK_SECRET!;
  const context = JSON.parse(env.B1_CONTEXT!) as JourneyContext;
  const workspaceId = env.B1_WORKSPACE_ID!;
  const propertyId = env.B1_PROPERTY_ID!;
  const adapter = inboundAdapter('webform')!;

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.post(
    '/webhooks/:partner/:integrationId',
    webhookMetrics((partner) => partner === 'webform'),
    express.raw({ type: () => true, limit: '256kb' }),
    route(async (req, res) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const request = {
        method: req.method,
        rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        headers,
        query: {},
        urls: [],
        now: new Date(),
      };
      adapter.verify(request, { webhookSecret: secret, credentials: {}, config: {} });
      const [event] = adapter.parse(request, {
        integrationId: String(req.params.integrationId),
        workspaceId,
        config: {},
      });
      const leadId = headers['x-bench-lead'];
      if (!event || !leadId) throw new AppError('validation_failed', 'x-bench-lead names the lead');
      await temporal.withDeadline(Date.now() + 5000, () =>
        journeys.send(
          { workspaceId, leadId, propertyId, source: 'webform', status: 'new' },
          {
            kind: 'inquiry',
            eventId: `b1/${leadId}/0`,
            occurredAt: event.occurredAt,
            source: 'partner:webform',
            channel: 'webform',
            propertyId,
            facts: { hasEmail: true, hasPhone: false },
          },
          context,
          // As ingest hands it over: the context's partners, rules and zone read for this inquiry.
          { policyReadFor: `b1/${leadId}/0` },
        ),
      );
      res.json({ accepted: true, duplicate: false, lead_id: leadId, status: 'delivered' });
    }),
  );
  app.use(notFoundHandler());
  app.use(errorHandler(logger));
  const server = app.listen(Number(env.B1_PORT));
  const stop = () => server.close(() => void temporal.connection.close().finally(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench b1: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
