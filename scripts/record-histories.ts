// Records workflow histories for the replay test: runs journey scenarios against a throwaway dev server
// and Postgres, then writes each run's history to test/histories/<scenario>.json.
// Run it after a workflow change (guarded by patched()) so the new code path is covered too, with a new
// prefix: `npx tsx scripts/record-histories.ts v3`. Older files stay: today's code must replay them all.
// Scenarios may be named after the prefix to record only those: `... v6 webhook-delivery poll-integration`.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadJourneyContext } from '../activities/db/journey';
import { createOrMatchLead } from '../data/leads';
import { createIntegration } from '../data/integrations';
import { createEndpoint } from '../data/webhookEndpoints';
import { createSequence } from '../data/sequences';
import { DEFAULT_EXIT_RULES } from '../shared/journey/sequences';
import { storedSteps, waitMinutes } from '../shared/sequences';
import { startResManSandbox } from '../infra/sandbox/resman';
import { startFacebookSandbox } from '../infra/sandbox/facebook';
import { facebook } from '../activities/partners/facebook';
import { storable, storeInboxEvent } from '../data/inbox';
import { deliverInboxEvent } from '../usecases/inbox';
import { WebhookDispatcher } from '../services/worker/webhookDispatcher';
import { createPool } from '../data/pool';
import { startHubSpotSandbox } from '../infra/sandbox/hubspot';
import { startSlackSandbox } from '../infra/sandbox/slack';
import { createSlackChannel } from '../activities/notify/slack';
import { KeyRing } from '../shared/crypto';
import { createProperty, createWorkspace } from '../data/workspaces';
import { migrate } from '../infra/db/migrate';
import { freePort } from '../infra/local/ports';
import { LOCAL_EGRESS_ALLOW } from '../shared/egress';
import { startEmbeddedPostgres } from '../infra/local/postgres';
import { startTemporalDevServer } from '../infra/local/temporal';
import { JourneyClient } from '../usecases/journeys';
import { startCsvImport } from '../usecases/imports';
import { createImportWorker, createWorker, type WorkerSetup } from '../services/worker/worker';
import type { LeadEvent } from '../shared/journey/types';
import {
  importWorkflowId,
  inboundFetchWorkflowId,
  leadWorkflowId,
  webhookDeliveryWorkflowId,
} from '../shared/ids';
import { type leadJourney } from '../workflows/leadJourney';
import { changeStatusUpdate, leadEventSignal, leadStateQuery } from '../shared/journey/messages';

const OUT = join(__dirname, '..', 'test', 'histories');
const PREFIX = process.argv[2] ?? 'new';
const ONLY = process.argv.slice(3);
const SCENARIOS = [
  'full-journey',
  'failed-change',
  'new-journey',
  'partner-push',
  'claimed-origin',
  'notification-resend',
  'sequences',
  'webhook-delivery',
  'poll-integration',
  'imported-journey',
  'lead-import',
  'inbound-fetch',
];
const wanted = (name: string) => ONLY.length === 0 || ONLY.includes(name);

/** A webhook receiver on loopback that refuses the first request (500) and takes the rest. */
function flakyReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  let seen = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen += 1;
      res.writeHead(seen === 1 ? 500 : 200).end();
    });
  });
  return new Promise((resolveReceiver) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolveReceiver({
        url: `http://127.0.0.1:${port}/hook`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

/** A recording that has not finished by then is stuck on a scenario's wait: say which, rather than hang. */
const DEADLINE_MS = 15 * 60_000;

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // The scenarios' partners and Slack are local sandboxes: allow loopback as `npm start` does, or the egress
  // guard refuses them and a scenario waits forever for a post that never comes.
  process.env.LEADRELAY_EGRESS_ALLOW ??= LOCAL_EGRESS_ALLOW;
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-record-'));
  chmodSync(dir, 0o755);
  const temporal = await startTemporalDevServer({ port: await freePort() });
  const postgres = await startEmbeddedPostgres({
    dataDir: join(dir, 'pg'),
    port: await freePort(),
    database: 'record',
  });
  try {
    await migrate(postgres.url);
    const pool = createPool(postgres.url);
    const connection = await Connection.connect({ address: temporal.address });
    // No payload codec, on purpose (unlike every service): the recorded histories are fixtures of fake leads,
    // readable in review and replayable without a key. Encryption changes payload bytes, never the commands
    // replay compares, and the codec passes plain payloads through, so encrypted workers replay these too.
    const client = new Client({ connection });
    const taskQueue = 'record';
    const journeys = new JourneyClient({ client, taskQueue });
    // Opens the HubSpot integration's token for pushes; payloads stay plain (no worker keyRing).
    const keyRing = KeyRing.parse(`record:${Buffer.alloc(32, 7).toString('base64')}`);
    const setup: WorkerSetup = {
      connection: await NativeConnection.connect({ address: temporal.address }),
      namespace: 'default',
      taskQueue,
      pool,
      // Polls open integration secrets and hand new leads to journeys with this client.
      notify: { keyRing, temporal: client, channels: { slack: createSlackChannel() } },
    };
    const worker = await createWorker(setup);
    // Imports run on their own queue beside the journeys' (every worker process polls both).
    const importWorker = await createImportWorker(setup);
    const importsRunning = importWorker.run();
    const hubspot = await startHubSpotSandbox();
    const slack = await startSlackSandbox();
    const { workspaceId } = await createWorkspace(pool, {
      name: 'record',
      permissions: ['admin'],
      timezone: 'UTC',
    });
    await createProperty(pool, {
      workspaceId,
      propertyId: 'p1',
      name: 'P1',
      timezone: 'UTC',
      vertical: 'multifamily',
    });
    let clock = 0;
    const at = () => new Date(Date.UTC(2026, 0, 1, 9, 0, clock++)).toISOString();

    /**
     * Started as ingest and the api start a new lead's journey: with its context, whose partners, rules and zone
     * were read for the inquiry (`policyReadFor`). `bare`: without one, as a repush or a resend starts a run (the
     * run loads its context, and the live policy with it).
     */
    const newLead = async (historyLimit?: number, claimedBy?: 'hubspot', bare = false) => {
      const { lead } = await createOrMatchLead(pool, {
        workspaceId,
        propertyId: 'p1',
        source: claimedBy ?? 'website',
        email: `${randomUUID()}@example.com`,
      });
      const inquiry: LeadEvent = {
        kind: 'inquiry',
        eventId: randomUUID(),
        occurredAt: at(),
        // An API caller's partner label (usecases/intake.ts): the caller's word, not the partner's.
        ...(claimedBy ? { source: `partner:${claimedBy}`, sourceUnproven: true } : { source: 'api' }),
        channel: claimedBy ?? 'website',
      };
      const context = bare ? undefined : await loadJourneyContext(pool, { workspaceId, leadId: lead.id });
      await client.workflow.signalWithStart<typeof leadJourney, [LeadEvent]>('leadJourney', {
        workflowId: leadWorkflowId(workspaceId, lead.id),
        taskQueue,
        args: [
          {
            workspaceId,
            leadId: lead.id,
            ...(context ? { context, policyReadFor: inquiry.eventId } : {}),
            historyLimit,
          },
        ],
        signal: leadEventSignal,
        signalArgs: [inquiry],
      });
      return {
        leadId: lead.id,
        handle: client.workflow.getHandle<typeof leadJourney>(leadWorkflowId(workspaceId, lead.id)),
      };
    };
    const until = async (
      leadId: string,
      predicate: (s: Awaited<ReturnType<typeof journeys.state>>) => boolean,
    ) => {
      for (;;) {
        const state = await journeys.state(workspaceId, leadId).catch(() => undefined);
        if (state && state.pendingEvents === 0 && state.pendingEffects === 0 && predicate(state))
          return state;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const change = (to: string, extra: Record<string, unknown> = {}) => ({
      requestId: randomUUID(),
      to: to as never,
      source: 'staff' as const,
      occurredAt: at(),
      ...extra,
    });

    const histories: Record<string, { workflowId: string; runId?: string }[]> = {};
    const laterClosed: { close(): Promise<void> }[] = [];
    setTimeout(() => {
      const done = Object.keys(histories);
      const stuck = SCENARIOS.filter((name) => wanted(name) && !done.includes(name));
      console.error(
        `recording still running after ${DEADLINE_MS / 60_000} min; recorded: ${done.join(', ') || 'none'}; ` +
          `stuck in the first of: ${stuck.join(', ')}`,
      );
      process.exit(1);
    }, DEADLINE_MS).unref();
    for (const name of ONLY) {
      if (!SCENARIOS.includes(name))
        throw new Error(`unknown scenario ${name}; known: ${SCENARIOS.join(', ')}`);
    }
    await worker.runUntil(async () => {
      if (wanted('full-journey')) {
        // A full journey: staff changes, a partner jump forward, a refused change, a conflict, a duplicate, the end.
        const a = await newLead();
        await a.handle.executeUpdate(changeStatusUpdate, { args: [change('contacted')] });
        await a.handle.executeUpdate(changeStatusUpdate, { args: [change('toured')] }).catch(() => undefined);
        const jump: LeadEvent = {
          kind: 'partner_status',
          partner: 'resman',
          value: 'application',
          eventId: 'jump',
          occurredAt: at(),
          source: 'partner:resman',
        };
        await a.handle.signal(leadEventSignal, jump);
        await a.handle.signal(leadEventSignal, jump);
        await a.handle.signal(leadEventSignal, {
          kind: 'partner_status',
          partner: 'resman',
          value: 'contacted',
          eventId: 'back',
          occurredAt: at(),
          source: 'partner:resman',
        });
        await a.handle.signal(leadEventSignal, {
          kind: 'call',
          callId: 'c1',
          direction: 'inbound',
          answered: true,
          eventId: 'call',
          occurredAt: at(),
          source: 'partner:callrail',
        });
        await until(a.leadId, (s) => s.lastEventId === 'call');
        await a.handle.query(leadStateQuery);
        await a.handle.executeUpdate(changeStatusUpdate, { args: [change('leased')] });
        await a.handle.result();
        histories['full-journey'] = [{ workflowId: a.handle.workflowId }];
      }

      if (wanted('failed-change')) {
        // A change Postgres can never store (a NUL byte in its reason): attempted once, a staff task, and the
        // journey goes on to record the next change ('bounded-effects').
        const f = await newLead();
        await f.handle.executeUpdate(changeStatusUpdate, {
          args: [change('contacted', { reason: 'called\u0000back' })],
        });
        await f.handle.executeUpdate(changeStatusUpdate, { args: [change('lost')] });
        await f.handle.result();
        histories['failed-change'] = [{ workflowId: f.handle.workflowId }];
      }

      if (wanted('new-journey')) {
        // A journey started as ingest starts it, that continues as new, then ends, then comes back as journey 2.
        const b = await newLead(30, undefined, true);
        for (let i = 0; i < 12; i++) {
          await b.handle.signal(leadEventSignal, {
            kind: 'note',
            noteId: `n${i}`,
            eventId: `note-${i}`,
            occurredAt: at(),
            source: 'staff',
          });
        }
        await until(b.leadId, (s) => s.lastEventId === 'note-11');
        await b.handle.executeUpdate(changeStatusUpdate, { args: [change('lost')] });
        // As the services do: signal-with-start reaches the ending run or starts the next one.
        await journeys.send(
          { workspaceId, leadId: b.leadId, propertyId: 'p1', source: 'website' },
          {
            kind: 'inquiry',
            eventId: 'again',
            occurredAt: at(),
            source: 'api',
            channel: 'website',
          },
        );
        await until(b.leadId, (s) => s.journey === 2);
        const runs = await client.workflowService.listWorkflowExecutions({
          namespace: 'default',
          query: `WorkflowId = "${b.handle.workflowId}"`,
        });
        histories['new-journey'] = (runs.executions ?? []).map((e) => ({
          workflowId: b.handle.workflowId,
          runId: e.execution?.runId ?? undefined,
        }));
      }

      if (wanted('partner-push')) {
        // Partner pushes: HubSpot connected; a 429 retried, a 400 failed, then re-pushed by an operator.
        await createIntegration(pool, keyRing, {
          workspaceId,
          partner: 'hubspot',
          name: 'HubSpot',
          config: { base_url: hubspot.url },
          credentials: { access_token: hubspot.accessToken },
        });
        hubspot.faults.push({ status: 429, retryAfterSeconds: 1 });
        const c = await newLead();
        await until(c.leadId, (s) => s.counters.events >= 1 && (s.pendingPushes ?? 0) === 0);
        hubspot.faults.push({ status: 400, pathIncludes: '/crm/v3/objects/contacts' });
        await c.handle.executeUpdate(changeStatusUpdate, { args: [change('contacted')] });
        await until(c.leadId, (s) => (s.pendingPushes ?? 0) === 0);
        const failed = await pool.query<{ idempotency_key: string }>(
          `UPDATE partner_syncs SET outcome = 'pending' WHERE lead_id = $1 AND outcome = 'failed'
         RETURNING idempotency_key`,
          [c.leadId],
        );
        for (const row of failed.rows) {
          await journeys.repush(workspaceId, c.leadId, { syncKey: row.idempotency_key, partner: 'hubspot' });
        }
        await until(c.leadId, (s) => (s.pendingPushes ?? 0) === 0);
        await c.handle.executeUpdate(changeStatusUpdate, { args: [change('lost')] });
        await c.handle.result();
        histories['partner-push'] = [{ workflowId: c.handle.workflowId }];
      }

      if (wanted('claimed-origin')) {
        // An inquiry and a change request naming HubSpot as their source (an API label, an updated_by):
        // recorded so, still pushed to HubSpot (patch signed-origin).
        if (!wanted('partner-push')) {
          await createIntegration(pool, keyRing, {
            workspaceId,
            partner: 'hubspot',
            name: 'HubSpot',
            config: { base_url: hubspot.url },
            credentials: { access_token: hubspot.accessToken },
          });
        }
        // Created through the API with the label `hubspot`: HubSpot still gets the new lead.
        const e = await newLead(undefined, 'hubspot');
        await until(e.leadId, (s) => s.counters.events >= 1 && (s.pendingPushes ?? 0) === 0);
        await e.handle.executeUpdate(changeStatusUpdate, {
          args: [change('contacted', { source: 'partner:hubspot' })],
        });
        await until(e.leadId, (s) => (s.pendingPushes ?? 0) === 0);
        const pushed = await pool.query(
          `SELECT 1 FROM partner_syncs WHERE lead_id = $1 AND partner = 'hubspot' AND status IN ('new', 'contacted')`,
          [e.leadId],
        );
        if (pushed.rowCount !== 2)
          throw new Error('claimed-origin: a claimed event was not pushed to HubSpot');
        await e.handle.executeUpdate(changeStatusUpdate, { args: [change('lost')] });
        await e.handle.result();
        histories['claimed-origin'] = [{ workflowId: e.handle.workflowId }];
      }

      if (wanted('notification-resend')) {
        // A notification resent by an operator: Slack refuses the archived channel for good (failed); once it is
        // back, the row is reopened and handed to the journey, which sends it.
        slack.archived.add('sales');
        await pool.query(
          `INSERT INTO notification_preferences (workspace_id, status_type, notification_method, recipients)
         VALUES ($1, 'contacted', 'slack', $2)`,
          [workspaceId, JSON.stringify([slack.webhookUrl('sales')])],
        );
        const d = await newLead();
        await d.handle.executeUpdate(changeStatusUpdate, { args: [change('contacted')] });
        let failedDeliveries;
        for (;;) {
          await until(d.leadId, (s) => (s.pendingDeliveries ?? 0) === 0);
          failedDeliveries = await pool.query<{ idempotency_key: string }>(
            `SELECT idempotency_key FROM notification_deliveries WHERE lead_id = $1 AND status = 'failed'`,
            [d.leadId],
          );
          if (failedDeliveries.rows.length > 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        slack.archived.delete('sales');
        for (const row of failedDeliveries.rows) {
          await pool.query(
            `UPDATE notification_deliveries SET status = 'pending', error = NULL WHERE idempotency_key = $1`,
            [row.idempotency_key],
          );
          await journeys.resend(workspaceId, d.leadId, {
            deliveryKey: row.idempotency_key,
            channel: 'slack',
          });
        }
        await slack.posts.waitFor((post) => post.path === 'sales');
        await until(d.leadId, (s) => (s.pendingDeliveries ?? 0) === 0);
        await d.handle.executeUpdate(changeStatusUpdate, { args: [change('lost')] });
        await d.handle.result();
        histories['notification-resend'] = [{ workflowId: d.handle.workflowId }];
      }

      if (wanted('sequences')) {
        // Nurture sequences: an inquiry enrols the lead, its first step goes at once, a reply ends it before the
        // next; lost with a reason enrols a win-back whose step outlives the final status, then the run ends.
        const own = await createWorkspace(pool, {
          name: 'record-sequences',
          permissions: ['admin'],
          timezone: 'UTC',
        });
        const steps = (waits: string[]) =>
          storedSteps(
            waits.map((wait) => ({
              wait: { text: wait, minutes: waitMinutes(wait)! },
              channel: 'email' as const,
              template_id: 'no_show_follow_up',
            })),
          );
        await createSequence(pool, own.workspaceId, {
          name: 'New inquiries',
          propertyId: null,
          trigger: { event: 'inquiry' },
          steps: steps(['0', '1d']),
          exitOn: DEFAULT_EXIT_RULES,
          isActive: true,
        });
        await createSequence(pool, own.workspaceId, {
          name: 'Win back',
          propertyId: null,
          trigger: { event: 'status', status: 'lost', reasons: ['price'] },
          steps: steps(['0']),
          exitOn: DEFAULT_EXIT_RULES,
          isActive: true,
        });
        const { lead } = await createOrMatchLead(pool, {
          workspaceId: own.workspaceId,
          source: 'website',
          email: `${randomUUID()}@example.com`,
        });
        await journeys.send(
          { workspaceId: own.workspaceId, leadId: lead.id, source: 'website' },
          { kind: 'inquiry', eventId: randomUUID(), occurredAt: at(), source: 'api', channel: 'website' },
          await loadJourneyContext(pool, { workspaceId: own.workspaceId, leadId: lead.id }),
        );
        const stepped = async (state: string, step: number) => {
          for (;;) {
            const { rows } = await pool.query(
              'SELECT 1 FROM sequence_enrolments WHERE lead_id = $1 AND state = $2 AND step = $3',
              [lead.id, state, step],
            );
            if (rows.length > 0) return;
            await new Promise((r) => setTimeout(r, 20));
          }
        };
        await stepped('active', 1);
        const handle = client.workflow.getHandle<typeof leadJourney>(
          leadWorkflowId(own.workspaceId, lead.id),
        );
        await handle.signal(leadEventSignal, {
          kind: 'sms_received',
          messageId: 'SMrecord',
          eventId: 'reply',
          occurredAt: at(),
          source: 'partner:twilio',
        });
        await stepped('exited', 1);
        await handle.executeUpdate(changeStatusUpdate, {
          args: [change('lost', { reason: 'price too high' })],
        });
        await handle.result();
        histories.sequences = [{ workflowId: handle.workflowId }];
      }

      if (wanted('webhook-delivery')) {
        // One outbound webhook message: the receiver refuses the first attempt, the retry is delivered.
        const receiver = await flakyReceiver();
        const own = await createWorkspace(pool, {
          name: 'record-webhooks',
          permissions: ['admin'],
          timezone: 'UTC',
        });
        await createEndpoint(pool, keyRing, {
          workspaceId: own.workspaceId,
          name: 'receiver',
          url: receiver.url,
          events: ['lead.created'],
          secret: `whsec_${Buffer.alloc(24, 3).toString('base64')}`,
        });
        const dispatcher = new WebhookDispatcher({ pool, client, taskQueue, retryScheduleSeconds: [1] });
        const { lead } = await createOrMatchLead(pool, {
          workspaceId: own.workspaceId,
          source: 'website',
          email: `${randomUUID()}@example.com`,
        });
        await journeys.send(
          { workspaceId: own.workspaceId, leadId: lead.id, source: 'website' },
          { kind: 'inquiry', eventId: randomUUID(), occurredAt: at(), source: 'api', channel: 'website' },
          await loadJourneyContext(pool, { workspaceId: own.workspaceId, leadId: lead.id }),
        );
        let messageId: string | undefined;
        while (!messageId) {
          await dispatcher.runOnce();
          const { rows } = await pool.query<{ id: string }>(
            `SELECT id FROM webhook_messages WHERE lead_id = $1 AND workflow_started_at IS NOT NULL`,
            [lead.id],
          );
          messageId = rows[0]?.id;
          if (!messageId) await new Promise((r) => setTimeout(r, 50));
        }
        const workflowId = webhookDeliveryWorkflowId(messageId);
        await client.workflow.getHandle(workflowId).result();
        await receiver.close();
        histories['webhook-delivery'] = [{ workflowId }];
      }

      if (wanted('poll-integration')) {
        // One poll of ResMan (its sandbox twin): a prospect entered there becomes a lead.
        const resman = await startResManSandbox();
        const integration = await createIntegration(pool, keyRing, {
          workspaceId,
          partner: 'resman',
          name: 'ResMan',
          propertyId: 'p1',
          config: {
            base_url: resman.url,
            property_id: resman.propertyId,
            default_source_id: resman.sources[0]!.ID,
            poll_interval_minutes: 1440,
          },
          credentials: resman.credentials,
        });
        resman.seedProspect({
          firstName: 'Ada',
          lastName: 'Record',
          email: `${randomUUID()}@example.com`,
          createdAt: new Date(Date.now() - 3600_000).toISOString(),
        });
        const workflowId = `poll/${integration.id}-record`;
        await client.workflow.execute('pollIntegration', {
          workflowId,
          taskQueue,
          args: [{ integrationId: integration.id, workspaceId }],
        });
        // Open until the end: later scenarios' journeys in this workspace push their changes to ResMan too.
        laterClosed.push(resman);
        histories['poll-integration'] = [{ workflowId }];
      }

      if (wanted('imported-journey')) {
        // A lead imported at tour_scheduled (its tour still ahead, so reminders wait), then toured and lost by staff.
        const { lead } = await createOrMatchLead(pool, {
          workspaceId,
          propertyId: 'p1',
          source: 'apfm',
          email: `${randomUUID()}@example.com`,
        });
        const day = 86_400_000;
        const imported: LeadEvent = {
          kind: 'imported',
          eventId: `import:record:1`,
          occurredAt: at(),
          source: 'partner:apfm',
          importId: 'record',
          row: 1,
          status: 'tour_scheduled',
          createdAt: new Date(Date.now() - 20 * day).toISOString(),
          stageDates: { contacted: new Date(Date.now() - 18 * day).toISOString() },
          channel: 'apfm',
          facts: { hasEmail: true, hasPhone: false, tourAt: new Date(Date.now() + 5 * day).toISOString() },
        };
        await journeys.send(
          { workspaceId, leadId: lead.id, propertyId: 'p1', source: 'apfm' },
          imported,
          await loadJourneyContext(pool, { workspaceId, leadId: lead.id }),
        );
        await until(lead.id, (s) => s.status === 'tour_scheduled');
        const handle = client.workflow.getHandle<typeof leadJourney>(leadWorkflowId(workspaceId, lead.id));
        await handle.executeUpdate(changeStatusUpdate, { args: [change('toured')] });
        await handle.executeUpdate(changeStatusUpdate, { args: [change('lost')] });
        await handle.result();
        histories['imported-journey'] = [{ workflowId: handle.workflowId }];
      }

      if (wanted('lead-import')) {
        // An import of a small file: two batches a run (so it continues as new), throttled, one bad row.
        const csv = [
          'email,status,created_at,status_changed_at,tour_at',
          ...Array.from(
            { length: 5 },
            (_, i) => `import-${i}-${randomUUID()}@example.com,contacted,2026-01-0${i + 1},,`,
          ),
          'not-an-email,new,2026-01-01,,',
        ].join('\n');
        const started = await startCsvImport(
          { pool, temporal: client, taskQueue, rowsPerSecond: 5, batchSize: 2, batchesPerRun: 2 },
          {
            workspaceId,
            propertyId: 'p1',
            body: [Buffer.from(csv)],
            maxBytes: 1 << 20,
            fileName: 'record.csv',
          },
        );
        const workflowId = importWorkflowId(started.id);
        await client.workflow.getHandle(workflowId).result();
        const runs = await client.workflowService.listWorkflowExecutions({
          namespace: 'default',
          query: `WorkflowId = "${workflowId}"`,
        });
        histories['lead-import'] = (runs.executions ?? []).map((e) => ({
          workflowId,
          runId: e.execution?.runId ?? undefined,
        }));
        // One of the probes its looks started on the journeys' queue (patch import-probe), finished.
        const probes = await client.workflowService.listWorkflowExecutions({
          namespace: 'default',
          query: `WorkflowType = "importProbe" AND ExecutionStatus = "Completed"`,
        });
        const probeId = probes.executions?.[0]?.execution?.workflowId;
        if (!probeId) throw new Error('the import started no probe that finished');
        histories['import-probe'] = [{ workflowId: probeId }];
      }

      if (wanted('inbound-fetch')) {
        // A Facebook leadgen notification completed from the Graph API (its twin: one throttled answer, then the
        // lead) before delivery to a new lead's journey.
        const graph = await startFacebookSandbox();
        const integration = await createIntegration(pool, keyRing, {
          workspaceId,
          partner: 'facebook',
          name: 'Lead Ads',
          config: { base_url: graph.url },
          credentials: {
            app_secret: graph.appSecret,
            verify_token: graph.verifyToken,
            page_access_token: graph.pageAccessToken,
          },
        });
        const lead = graph.addLead({ full_name: 'Ada Record', email: `${randomUUID()}@example.com` });
        graph.faults.push({ status: 503, retryAfterSeconds: 1 });
        const request = graph.notificationRequest(lead);
        const [event] = facebook.inbound!.parse(request, {
          integrationId: integration.id,
          workspaceId,
          config: {},
        });
        const { row } = await storeInboxEvent(pool, {
          workspaceId,
          integrationId: integration.id,
          partner: 'facebook',
          event: storable(event!),
          headers: request.headers,
          rawBody: request.rawBody,
        });
        await deliverInboxEvent({ pool, temporal: client, journeys }, row);
        const workflowId = inboundFetchWorkflowId(row.id);
        await client.workflow.getHandle(workflowId).result();
        await graph.close();
        histories['inbound-fetch'] = [{ workflowId }];
      }
    });
    importWorker.shutdown();
    await importsRunning;
    await hubspot.close();
    await slack.close();
    for (const twin of laterClosed) await twin.close();

    mkdirSync(OUT, { recursive: true });
    for (const [name, runs] of Object.entries(histories)) {
      let i = 0;
      for (const run of runs) {
        const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
        const file = join(OUT, `${PREFIX}-${name}${runs.length > 1 ? `-${++i}` : ''}.json`);
        writeFileSync(file, historyToJSON(history));
        process.stdout.write(`recorded ${file} (${history.events?.length ?? 0} events)\n`);
      }
    }
    await pool.end();
    await connection.close();
  } finally {
    await temporal.stop();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`record-histories: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
