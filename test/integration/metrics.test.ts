// Prometheus metrics on the real stack: GET /metrics of api, ingest and the worker's HTTP server, scraped
// before and after real traffic (HTTP requests, signed and forged partner webhooks, a Slack notification to
// the Slack sandbox) to show each counter moving by what happened, and the inbox backlog read from Postgres.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSlackChannel } from '../../activities/notify/slack';
import { startSlackSandbox, type SlackSandbox } from '../../infra/sandbox/slack';
import { createWorkerHttpApp, stopWorkerHttp } from '../../services/worker/http';
import { createLogger } from '../../shared/logger';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import {
  createIntegration,
  fixture,
  post,
  postStandard,
  standardWebhookHeaders,
  waitFor,
  type CreatedIntegration,
} from '../support/ingest';
import { recorded } from '../support/wait';

let harness: Harness;
let slack: SlackSandbox;
let workerHttp: Server;
let workerUrl: string;
let apiKey: string;
let webform: CreatedIntegration;
let resman: CreatedIntegration;

beforeAll(async () => {
  slack = await startSlackSandbox();
  harness = await startHarness({
    notify: { channels: { slack: createSlackChannel() }, defaultSlackWebhookUrl: slack.webhookUrl('staff') },
  });
  ({ apiKey } = await registerWorkspace(harness.apiUrl));
  const property = {
    property_id: 'elm',
    name: 'Elm Flats',
    timezone: 'America/Denver',
    vertical: 'multifamily',
  };
  expect((await call(`${harness.apiUrl}/api/v1/properties`, 'POST', apiKey, property)).status).toBe(201);
  webform = await createIntegration(harness, apiKey, { partner: 'webform', property_id: 'elm' });
  resman = await createIntegration(harness, apiKey, { partner: 'resman', property_id: 'elm' });
  const app = createWorkerHttpApp({
    pool: harness.pool,
    temporal: harness.client,
    running: () => harness.worker.getState() === 'RUNNING',
    logger: createLogger('test', 'silent'),
  });
  workerHttp = await new Promise<Server>((resolveServer) => {
    const server = app.listen(0, '127.0.0.1', () => resolveServer(server));
  });
  workerUrl = `http://127.0.0.1:${(workerHttp.address() as AddressInfo).port}`;
});
afterAll(async () => {
  if (workerHttp) await stopWorkerHttp(workerHttp);
  await harness?.stop();
  await slack?.close();
});

/** One scrape of a /metrics endpoint (checking it is Prometheus' text format). */
async function scrape(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** Every series of a metric with its labels and value. */
function series(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const found = [];
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

/** The sum of a metric's series whose labels include `labels` (0 when there is none yet). */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  return series(text, name)
    .filter((s) => Object.entries(labels).every(([key, v]) => s.labels[key] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

const requests = 'leadrelay_http_requests_total';

test('api: requests are counted and timed by route pattern and status, never by the ids in the path', async () => {
  const before = await scrape(harness.apiUrl);
  const missing = randomUUID();
  for (let i = 0; i < 3; i++) expect((await fetch(`${harness.apiUrl}/healthz`)).status).toBe(200);
  const lead = await call(`${harness.apiUrl}/api/v1/leads/${missing}`, 'GET', apiKey);
  expect(lead.status).toBe(404);
  expect((await fetch(`${harness.apiUrl}/no/such/${missing}`)).status).toBe(404);
  const after = await scrape(harness.apiUrl);

  const health = { service: 'api', method: 'GET', route: '/healthz', status: '200' };
  expect(value(after, requests, health) - value(before, requests, health)).toBe(3);
  // A 404 from inside a route (the lead does not exist) keeps the route's pattern.
  const byId = { service: 'api', method: 'GET', route: '/api/v1/leads/:id', status: '404' };
  expect(value(after, requests, byId) - value(before, requests, byId)).toBe(1);
  const noRoute = { service: 'api', route: 'none', status: '404' };
  expect(value(after, requests, noRoute) - value(before, requests, noRoute)).toBe(1);
  const timed = 'leadrelay_http_request_duration_seconds_count';
  expect(value(after, timed, health) - value(before, timed, health)).toBe(3);
  expect(series(after, 'leadrelay_http_request_duration_seconds_bucket').length).toBeGreaterThan(10);
  for (const s of series(after, requests)) expect(s.labels.route).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}/);
  expect(after).not.toContain(missing);
  // Process metrics come with every scrape.
  expect(value(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
});

test('ingest: a good webhook counts as accepted, its redelivery as duplicate, a forged one as a signature failure', async () => {
  const before = await scrape(harness.ingestUrl);
  const inquiry = fixture('webform', 'inquiry.json', {
    submission_id: `sub_${randomUUID()}`,
    email: `${randomUUID()}@example.com`,
  });
  const body = JSON.stringify(inquiry);
  const headers = standardWebhookHeaders(webform.webhook_secret!, body);
  const first = await post(webform.webhook_url, body, headers);
  expect(first.status).toBe(200);
  const again = await post(webform.webhook_url, body, headers);
  expect(again.body.duplicate).toBe(true);
  const forged = await post(
    webform.webhook_url,
    body,
    standardWebhookHeaders(`whsec_${Buffer.from(randomUUID()).toString('base64')}`, body),
  );
  expect(forged.status).toBe(401);
  const unknownPartner = await post(
    `${harness.ingestUrl}/webhooks/nosuchpartner/${randomUUID()}`,
    body,
    headers,
  );
  expect(unknownPartner.status).toBe(404);
  const after = await scrape(harness.ingestUrl);

  const moved = (labels: Record<string, string>) =>
    value(after, 'leadrelay_ingest_webhooks_total', labels) -
    value(before, 'leadrelay_ingest_webhooks_total', labels);
  expect(moved({ partner: 'webform', outcome: 'accepted' })).toBe(1);
  expect(moved({ partner: 'webform', outcome: 'duplicate' })).toBe(1);
  expect(moved({ partner: 'webform', outcome: 'unauthorized' })).toBe(1);
  expect(moved({ partner: 'unknown', outcome: 'not_found' })).toBe(1);
  const failures = (text: string) =>
    value(text, 'leadrelay_ingest_signature_failures_total', { partner: 'webform' });
  expect(failures(after) - failures(before)).toBe(1);
  expect(value(after, 'leadrelay_ingest_signature_failures_total', { partner: 'resman' })).toBe(
    value(before, 'leadrelay_ingest_signature_failures_total', { partner: 'resman' }),
  );
  // Partner names nobody registered never become label values.
  expect(after).not.toContain('nosuchpartner');
  const route = { service: 'ingest', route: '/webhooks/:partner/:integrationId', method: 'POST' };
  expect(value(after, requests, route) - value(before, requests, route)).toBe(4);
});

test('ingest: the inbox backlog is read from Postgres at each scrape', async () => {
  const count = async (status: string) =>
    (await harness.pool.query('SELECT count(*)::int AS n FROM inbox_events WHERE status = $1', [status]))
      .rows[0].n as number;
  const before = await scrape(harness.ingestUrl);
  expect(value(before, 'leadrelay_inbox_backlog', { status: 'unmatched' })).toBe(await count('unmatched'));
  expect(value(before, 'leadrelay_inbox_backlog', { status: 'pending' })).toBe(await count('pending'));
  // A ResMan status for a prospect nobody has seen yet is kept, unmatched.
  const answer = await postStandard(
    resman,
    fixture('resman', 'status-update.json', { lead_id: `RM-${randomUUID()}`, new_status: 'contacted' }),
  );
  expect(answer.status).toBe(202);
  const after = await scrape(harness.ingestUrl);
  expect(value(after, 'leadrelay_inbox_backlog', { status: 'unmatched' })).toBe(
    value(before, 'leadrelay_inbox_backlog', { status: 'unmatched' }) + 1,
  );
  expect(value(after, 'leadrelay_ingest_webhooks_total', { partner: 'resman', outcome: 'deferred' })).toBe(
    value(before, 'leadrelay_ingest_webhooks_total', { partner: 'resman', outcome: 'deferred' }) + 1,
  );
  expect(series(after, 'leadrelay_inbox_oldest_pending_seconds')).toHaveLength(1);
});

test("worker: /metrics shows a notification's outcome once it is delivered; /readyz reports the worker", async () => {
  const sent = { channel: 'slack', outcome: 'sent' };
  const before = value(await scrape(workerUrl), 'leadrelay_notifications_total', sent);
  const lead = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', apiKey, {
    source: 'website',
    property_id: 'elm',
    email: `${randomUUID()}@example.com`,
  });
  expect(lead.status).toBe(201);
  // Without preferences, staff hear about a lost lead on the default Slack channel.
  const lost = await call(`${harness.apiUrl}/api/v1/leads/${lead.body.id}/status`, 'PUT', apiKey, {
    new_status: 'lost',
    status_reason: 'signed elsewhere',
  });
  expect(lost.status).toBe(200);
  await recorded(
    'the lost-lead Slack post to staff',
    slack.posts,
    (p) => p.path === 'staff' && p.text.includes(lead.body.id),
  );
  // The counter moves when the delivery row is marked sent, just after Slack answered.
  const after = await waitFor('leadrelay_notifications_total to count the sent Slack post', async () => {
    const text = await scrape(workerUrl);
    return value(text, 'leadrelay_notifications_total', sent) > before ? text : undefined;
  });
  expect(value(after, 'leadrelay_notifications_total', sent)).toBe(before + 1);
  const ready = await call(`${workerUrl}/readyz`, 'GET', undefined);
  expect(ready.status).toBe(200);
  expect(ready.body).toEqual({ status: 'ready', checks: { postgres: true, temporal: true, worker: true } });
  expect((await call(`${workerUrl}/healthz`, 'GET', undefined)).body).toEqual({ status: 'ok' });
});
