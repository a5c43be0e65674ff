// The integrations API beyond create/list/delete (seed 003): templates with JSON Schema forms from the adapters,
// PATCH with field errors, connection tests before and after saving (against the ResMan and HubSpot sandboxes),
// sync now, health, secrets never read back, and key rotation by the admin endpoint and the CLI.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadIntegrationSecrets } from '../../data/integrations';
import { resealSecrets } from '../../data/keyRotation';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../infra/sandbox/hubspot';
import { startResManSandbox, type ResManSandbox } from '../../infra/sandbox/resman';
import { runRotateKeys } from '../../scripts/rotate-keys';
import { createApiApp } from '../../services/api/app';
import { pollScheduleId } from '../../usecases/pollSchedules';
import { KeyRing } from '../../shared/crypto';
import { PARTNERS } from '../../shared/lifecycle';
import { createLogger } from '../../shared/logger';
import {
  ADMIN_TOKEN,
  call,
  ENCRYPTION_KEYS,
  POLLING_RATE_LIMIT,
  registerWorkspace,
  startHarness,
  type Harness,
} from '../support/harness';
import { postStandard, uniqueEmail, waitFor } from '../support/ingest';

let harness: Harness;
let resman: ResManSandbox;
let hubspot: HubSpotSandbox;
let key: string;
let readKey: string;
let workspaceId: string;
const created: string[] = [];

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;
const keyRing = KeyRing.parse(ENCRYPTION_KEYS);

beforeAll(async () => {
  harness = await startHarness();
  resman = await startResManSandbox();
  hubspot = await startHubSpotSandbox();
  // Health is awaited by polling the API.
  ({ workspaceId, apiKey: key } = await registerWorkspace(harness.apiUrl, {
    rate_limit_per_hour: POLLING_RATE_LIMIT,
  }));
  ({ apiKey: readKey } = await registerWorkspace(harness.apiUrl, { permissions: ['read'] }));
  await call(api('/properties'), 'POST', key, {
    property_id: 'birch',
    name: 'Birch Flats',
    timezone: 'America/New_York',
    vertical: 'multifamily',
  });
});
afterAll(async () => {
  // Deleting removes the poll schedules too: nothing of this file keeps firing in the shared dev server.
  for (const id of created) await call(api(`/integrations/${id}`), 'DELETE', key);
  await harness?.stop();
  await resman?.close();
  await hubspot?.close();
});

/** A ResMan integration body pointing at the sandbox (a day between scheduled polls: none fire here). */
function resmanBody(overrides: Record<string, unknown> = {}) {
  return {
    partner: 'resman',
    name: 'ResMan Birch',
    property_id: 'birch',
    config: {
      base_url: resman.url,
      property_id: resman.propertyId,
      default_source_id: resman.sources[0]!.ID,
      poll_interval_minutes: 1440,
    },
    credentials: resman.credentials,
    ...overrides,
  };
}

async function create(body: Record<string, unknown>): Promise<any> {
  const answer = await call(api('/integrations'), 'POST', key, body);
  expect(answer.status).toBe(201);
  created.push(answer.body.id);
  return answer.body;
}

describe('integration templates', () => {
  test('one per partner, with config and credentials forms as JSON Schema from the adapter', async () => {
    const answer = await call(api('/integration-templates'), 'GET', readKey);
    expect(answer.status).toBe(200);
    expect(answer.body.templates.map((t: any) => t.partner).sort()).toEqual([...PARTNERS].sort());
    const byPartner = Object.fromEntries(answer.body.templates.map((t: any) => [t.partner, t]));
    const template = byPartner.resman;
    expect(template).toMatchObject({
      name: 'ResMan',
      category: 'pms',
      docs: 'docs/partners/resman.md',
      capabilities: { webhooks: true, push_status: true, polling: true, test_connection: true },
      webhook_secret: 'generated',
      default_poll_interval_minutes: 15,
      setup_status: 'not_configured',
      integrations_count: 0,
    });
    expect(template.config_schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        base_url: { type: 'string', format: 'uri', default: 'https://api.myresman.com' },
        poll_interval_minutes: { type: 'integer', minimum: 5, default: 15 },
      },
    });
    // Credentials go in, never come out: every field is writeOnly.
    const credentialFields = Object.values(template.credentials_schema.properties) as any[];
    expect(credentialFields.length).toBeGreaterThanOrEqual(3);
    for (const field of credentialFields) expect(field.writeOnly).toBe(true);
    expect(byPartner.twilio).toMatchObject({
      category: 'messaging',
      webhook_secret: 'credential',
      webhook_secret_field: 'auth_token',
      capabilities: { webhooks: true, polling: false, test_connection: false },
    });
    expect(byPartner.webform).toMatchObject({
      category: 'web',
      webhook_secret: 'generated',
      default_poll_interval_minutes: null,
      config_schema: { type: 'object' },
    });
    expect(byPartner.hubspot.capabilities).toMatchObject({
      push_status: true,
      polling: false,
      test_connection: true,
    });
  });

  test('one template by partner, filtered lists by category, and the caller’s setup status', async () => {
    const crm = await call(api('/integration-templates?category=crm'), 'GET', key);
    expect(crm.body.templates.map((t: any) => t.partner).sort()).toEqual([
      'gohighlevel',
      'hubspot',
      'salesforce',
    ]);
    expect((await call(api('/integration-templates?category=fax'), 'GET', key)).status).toBe(400);
    expect((await call(api('/integration-templates/yardi'), 'GET', key)).status).toBe(404);

    const integration = await create({ partner: 'webform', name: 'Birch site form' });
    const one = await call(api('/integration-templates/webform'), 'GET', key);
    expect(one.body).toMatchObject({ partner: 'webform', setup_status: 'active', integrations_count: 1 });
    await call(api(`/integrations/${integration.id}`), 'PATCH', key, { status: 'paused' });
    expect((await call(api('/integration-templates/webform'), 'GET', key)).body.setup_status).toBe('paused');
  });
});

describe('PATCH /api/v1/integrations/:id', () => {
  let integration: any;

  beforeAll(async () => {
    integration = await create(resmanBody());
  });

  test("refuses config the partner's schema refuses, naming each field by its path", async () => {
    const answer = await call(api(`/integrations/${integration.id}`), 'PATCH', key, {
      config: { base_url: 'not a url', poll_interval_minutes: 1, property_id: resman.propertyId },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('validation_failed');
    expect(answer.body.error.details.fields.map((f: any) => f.field).sort()).toEqual([
      'config.base_url',
      'config.poll_interval_minutes',
    ]);
    const unknownField = await call(api(`/integrations/${integration.id}`), 'PATCH', key, {
      partner: 'hubspot',
    });
    expect(unknownField.status).toBe(400);
    const badStatus = await call(api(`/integrations/${integration.id}`), 'PATCH', key, { status: 'error' });
    expect(badStatus.body.error.details.fields).toEqual([expect.objectContaining({ field: 'status' })]);
    const badProperty = await call(api(`/integrations/${integration.id}`), 'PATCH', key, {
      property_id: 'nope',
    });
    expect(badProperty.body.error.details.fields).toEqual([
      expect.objectContaining({ field: 'property_id' }),
    ]);
    const readOnly = await call(api(`/integrations/${integration.id}`), 'PATCH', readKey, { name: 'x' });
    expect(readOnly.status).toBe(403);
    // Nothing of the refused changes stuck.
    const read = await call(api(`/integrations/${integration.id}`), 'GET', key);
    expect(read.body).toMatchObject({ partner: 'resman', name: 'ResMan Birch', status: 'active' });
    expect(read.body.config.poll_interval_minutes).toBe(1440);
  });

  test('renames, re-times polling and pauses: the poll schedule follows', async () => {
    const schedule = harness.client.schedule.getHandle(pollScheduleId(integration.id));
    const patched = await call(api(`/integrations/${integration.id}`), 'PATCH', key, {
      name: 'ResMan Birch Flats',
      config: { ...resmanBody().config, poll_interval_minutes: 720 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'ResMan Birch Flats', status: 'active' });
    expect(patched.body.health.poll).toMatchObject({
      schedule_id: pollScheduleId(integration.id),
      state: 'scheduled',
      interval_minutes: 720,
      next_run_at: expect.any(String),
    });
    expect((await schedule.describe()).spec.intervals?.[0]?.every).toBe(720 * 60_000);

    const paused = await call(api(`/integrations/${integration.id}`), 'PATCH', key, { status: 'paused' });
    expect(paused.body).toMatchObject({
      status: 'paused',
      health: { status: 'idle', poll: { state: 'paused' } },
    });
    expect((await schedule.describe()).state.paused).toBe(true);
    const sync = await call(api(`/integrations/${integration.id}/sync`), 'POST', key);
    expect(sync.status).toBe(409);
    expect(sync.body.error).toMatchObject({ code: 'conflict', details: { status: 'paused' } });

    const resumed = await call(api(`/integrations/${integration.id}`), 'PATCH', key, { status: 'active' });
    expect(resumed.body.health.poll.state).toBe('scheduled');
    expect((await schedule.describe()).state.paused).toBe(false);
  });

  test('replaces credentials write-only: sealed at rest, never in any answer', async () => {
    const newKey = `rm-${randomUUID()}`;
    const answer = await call(api(`/integrations/${integration.id}`), 'PATCH', key, {
      credentials: { ...resman.credentials, api_key: newKey },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.has_credentials).toBe(true);
    const reads = [
      answer,
      await call(api(`/integrations/${integration.id}`), 'GET', key),
      await call(api('/integrations'), 'GET', key),
      await call(api('/integration-templates/resman'), 'GET', key),
    ];
    for (const read of reads) {
      const text = JSON.stringify(read.body);
      expect(text).not.toContain(newKey);
      expect(text).not.toContain(resman.credentials.api_key);
      expect(text).not.toMatch(/"credentials"|webhook_secret"\s*:\s*"whsec/);
    }
    const opened = await loadIntegrationSecrets(harness.pool, keyRing, integration.id);
    expect(opened?.credentials).toEqual({ ...resman.credentials, api_key: newKey });
    // The partner now refuses us, and a saved-connection test says so.
    const test = await call(api(`/integrations/${integration.id}/test`), 'POST', key);
    expect(test.body).toMatchObject({
      ok: false,
      error: {
        code: 'partner_rejected',
        message: expect.stringContaining('Invalid IntegrationPartnerID or ApiKey'),
      },
    });
  });

  test("a partner whose webhook secret is a credential (Twilio's auth token) verifies with the new one", async () => {
    const twilio = await create({
      partner: 'twilio',
      name: 'Leasing line',
      credentials: { auth_token: 'twilio-auth-token-old-000001' },
    });
    const answer = await call(api(`/integrations/${twilio.id}`), 'PATCH', key, {
      credentials: { auth_token: 'twilio-auth-token-new-000002' },
    });
    expect(answer.status).toBe(200);
    expect((await loadIntegrationSecrets(harness.pool, keyRing, twilio.id))?.webhookSecret).toBe(
      'twilio-auth-token-new-000002',
    );
    const missing = await call(api(`/integrations/${twilio.id}`), 'PATCH', key, { credentials: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.fields.map((f: any) => f.field)).toContain('credentials.auth_token');
  });
});

describe('connection tests', () => {
  test('before saving: the partner is asked, nothing is stored', async () => {
    const before = (await call(api('/integrations'), 'GET', key)).body.integrations.length;
    const sourcesAsked = () =>
      resman.requests.items.filter((r) => r.url.includes('GetProspectSources')).length;
    const asked = sourcesAsked();
    const answer = await call(api('/integrations/test'), 'POST', key, resmanBody());
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      ok: true,
      detail: expect.stringContaining('resman'),
      latency_ms: expect.any(Number),
    });
    expect(sourcesAsked()).toBe(asked + 1);
    expect((await call(api('/integrations'), 'GET', key)).body.integrations).toHaveLength(before);
  });

  test('a partner refusing or failing is an answer, not our 5xx', async () => {
    const wrong = await call(
      api('/integrations/test'),
      'POST',
      key,
      resmanBody({ credentials: { ...resman.credentials, api_key: 'wrong-key' } }),
    );
    expect(wrong.status).toBe(200);
    expect(wrong.body).toMatchObject({
      ok: false,
      error: {
        code: 'partner_rejected',
        message: expect.stringContaining('Invalid IntegrationPartnerID or ApiKey'),
      },
    });
    resman.faults = [{ status: 503, pathIncludes: 'GetProspectSources' }];
    const down = await call(api('/integrations/test'), 'POST', key, resmanBody());
    expect(down.body).toMatchObject({
      ok: false,
      error: { code: 'partner_unavailable', partner_status: 503 },
    });
  });

  test('refuses bad fields before calling anyone, and partners with nothing to test', async () => {
    const bad = await call(api('/integrations/test'), 'POST', key, {
      ...resmanBody(),
      config: { base_url: 'ftp://example.com' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: any) => f.field)).toContain('config.base_url');
    const webform = await call(api('/integrations/test'), 'POST', key, { partner: 'webform', name: 'Form' });
    expect(webform.status).toBe(409);
    expect(webform.body.error.code).toBe('not_testable');
  });

  test('after saving: the result is recorded (HubSpot: a revoked token is a 401)', async () => {
    const integration = await create({
      partner: 'hubspot',
      name: 'HubSpot portal',
      config: { base_url: hubspot.url },
      credentials: { client_secret: 'hubspot-client-secret-1', access_token: hubspot.accessToken },
    });
    const ok = await call(api(`/integrations/${integration.id}/test`), 'POST', key);
    expect(ok.body).toMatchObject({ ok: true, latency_ms: expect.any(Number) });
    let read = await call(api(`/integrations/${integration.id}`), 'GET', key);
    expect(read.body).toMatchObject({
      last_test_ok: true,
      last_test_at: expect.any(String),
      last_error: null,
    });

    await call(api(`/integrations/${integration.id}`), 'PATCH', key, {
      credentials: { client_secret: 'hubspot-client-secret-1', access_token: 'pat-revoked' },
    });
    const failed = await call(api(`/integrations/${integration.id}/test`), 'POST', key);
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({
      ok: false,
      error: { code: 'partner_auth_failed', partner_status: 401 },
    });
    read = await call(api(`/integrations/${integration.id}`), 'GET', key);
    expect(read.body).toMatchObject({ last_test_ok: false, last_error: failed.body.error.message });
    expect(read.body.status).toBe('active');
  });
});

describe('sync now', () => {
  test('a polled integration polls through its schedule: 202 with the run', async () => {
    const integration = await create(resmanBody({ name: 'ResMan sync now' }));
    resman.seedProspect({ firstName: 'Mae', lastName: 'Jemison', email: uniqueEmail('mae') });
    const answer = await call(api(`/integrations/${integration.id}/sync`), 'POST', key);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({
      started: true,
      workflow_id: expect.stringMatching(new RegExp(`^poll/${integration.id}-`)),
      already_running: false,
    });
    const result = await harness.client.workflow
      .getHandle(answer.body.workflow_id, answer.body.run_id)
      .result();
    expect(result).toMatchObject({ outcome: 'polled' });
    expect(result.delivered.delivered).toBeGreaterThanOrEqual(1);
    const read = await call(api(`/integrations/${integration.id}`), 'GET', key);
    expect(read.body.health).toMatchObject({
      status: 'healthy',
      last_success_at: expect.any(String),
      events_received_24h: result.fetched,
      poll: { state: 'scheduled', last_run_at: expect.any(String) },
    });
  });

  test('webhook partners, and ResMan relays without credentials, are not polled: 409 not_pollable', async () => {
    const webform = await create({ partner: 'webform', name: 'Form to sync' });
    const relay = await create({ partner: 'resman', name: 'ResMan relay', config: { base_url: resman.url } });
    for (const integration of [webform, relay]) {
      const answer = await call(api(`/integrations/${integration.id}/sync`), 'POST', key);
      expect(answer.status).toBe(409);
      expect(answer.body.error).toMatchObject({
        code: 'not_pollable',
        details: { partner: integration.partner },
      });
      const read = await call(api(`/integrations/${integration.id}`), 'GET', key);
      expect(read.body.health.poll).toBeNull();
    }
    // A relay has no schedule at all.
    await expect(harness.client.schedule.getHandle(pollScheduleId(relay.id)).describe()).rejects.toThrow();
  });
});

describe('health', () => {
  let integration: any;
  let leadId: string;

  beforeAll(async () => {
    integration = await create({ partner: 'resman', name: 'ResMan relay health', property_id: 'birch' });
    const lead = await call(api('/leads'), 'POST', key, { source: 'website', email: uniqueEmail('health') });
    leadId = lead.body.id;
  });

  /** partner_syncs rows as the push activity writes them. */
  async function syncRows(outcomes: string[]) {
    for (const outcome of outcomes) {
      await harness.pool.query(
        `INSERT INTO partner_syncs (idempotency_key, workspace_id, lead_id, partner, status, causation_id, outcome,
                                    integration_id, finished_at)
         VALUES ($1, $2, $3, 'resman', 'contacted', $4, $5, $6, now())`,
        [randomUUID(), workspaceId, leadId, randomUUID(), outcome, integration.id],
      );
    }
  }

  const health = async () => (await call(api(`/integrations/${integration.id}`), 'GET', key)).body.health;

  test('idle until something happens, healthy once a webhook arrives', async () => {
    expect(await health()).toMatchObject({
      status: 'idle',
      last_sync_at: null,
      events_received_24h: 0,
      syncs_24h: { pending: 0, success: 0, failed: 0, conflict: 0, skipped: 0 },
      poll: null,
    });
    const answer = await postStandard(integration, {
      lead_id: `rm-${randomUUID()}`,
      new_status: 'applicant',
      updated_by: 'resman_user',
      updated_at: new Date().toISOString(),
    });
    expect(answer.status).toBeLessThan(300);
    const after = await waitFor('health to count the received event', async () => {
      const h = await health();
      return h.events_received_24h === 1 ? h : undefined;
    });
    expect(after).toMatchObject({ status: 'healthy', last_sync_at: expect.any(String) });
  });

  test('degraded when some pushes fail, failing when all do, with the 24 h counts', async () => {
    await syncRows(['success', 'success', 'failed', 'skipped']);
    expect(await health()).toMatchObject({
      status: 'degraded',
      syncs_24h: { success: 2, failed: 1, skipped: 1, conflict: 0, pending: 0 },
    });
    await harness.pool.query(`DELETE FROM partner_syncs WHERE integration_id = $1 AND outcome = 'success'`, [
      integration.id,
    ]);
    expect(await health()).toMatchObject({ status: 'failing', syncs_24h: { success: 0, failed: 1 } });
  });
});

describe('key rotation', () => {
  const newKey = KeyRing.generateSpec('k2');
  let integration: any;
  let endpointId: string;
  let rotatingApi: { server: Server; url: string };

  beforeAll(async () => {
    integration = await create(resmanBody({ name: 'ResMan to rotate' }));
    const endpoint = await call(api('/webhook-endpoints'), 'POST', key, {
      name: 'Receiver',
      url: 'http://127.0.0.1:9/hook',
      events: ['lead.created'],
    });
    endpointId = endpoint.body.id;
    // The api after the new key was put first: "k2,test1" (the old key still opens what it sealed).
    const app = createApiApp({
      pool: harness.pool,
      temporal: harness.client,
      journeys: harness.journeys,
      logger: createLogger('test', 'silent'),
      adminToken: ADMIN_TOKEN,
      keyRing: KeyRing.parse(`${newKey},${ENCRYPTION_KEYS}`),
    });
    rotatingApi = await new Promise((resolveServe) => {
      const server = app.listen(0, '127.0.0.1', () =>
        resolveServe({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
      );
    });
  });
  afterAll(async () => {
    await harness.pool.query('UPDATE webhook_endpoints SET deleted_at = now() WHERE id = $1', [endpointId]);
    // Whatever happened above, the database is left sealed with the test stack's key for later files.
    await resealSecrets(harness.pool, KeyRing.parse(`${ENCRYPTION_KEYS},${newKey}`));
    await new Promise((done) => rotatingApi?.server.close(done));
  });

  const sealed = async () => {
    const integrationRow = await harness.pool.query(
      'SELECT credentials_encrypted, webhook_secret_encrypted FROM integrations WHERE id = $1',
      [integration.id],
    );
    const endpointRow = await harness.pool.query(
      'SELECT secret_sealed FROM webhook_endpoints WHERE id = $1',
      [endpointId],
    );
    return [
      integrationRow.rows[0].credentials_encrypted,
      integrationRow.rows[0].webhook_secret_encrypted,
      endpointRow.rows[0].secret_sealed,
    ] as string[];
  };

  /** Credentials are sealed bound to their destination (`v2`), the other secrets without one (`v1`). */
  const expectSealedBy = ([credentials, ...others]: string[], keyId: string) => {
    expect(credentials).toMatch(new RegExp(`^v2\\.${keyId}\\.`));
    for (const value of others) expect(value).toMatch(new RegExp(`^v1\\.${keyId}\\.`));
  };

  test('the admin endpoint needs the admin token', async () => {
    expect((await call(`${rotatingApi.url}/api/v1/admin/rotate-keys`, 'POST', undefined, {})).status).toBe(
      401,
    );
    expect((await call(`${rotatingApi.url}/api/v1/admin/rotate-keys`, 'POST', key, {})).status).toBe(401);
  });

  test('a dry run counts without writing; the pass reseals with the new key, which alone then opens them', async () => {
    const dry = await call(`${rotatingApi.url}/api/v1/admin/rotate-keys`, 'POST', ADMIN_TOKEN, {
      dry_run: true,
    });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ primary_key_id: 'k2', dry_run: true });
    expect(dry.body.tables.integrations.resealed).toBeGreaterThanOrEqual(2);
    expectSealedBy(await sealed(), 'test1');

    const pass = await call(`${rotatingApi.url}/api/v1/admin/rotate-keys`, 'POST', ADMIN_TOKEN, {});
    expect(pass.status).toBe(200);
    expect(pass.body.dry_run).toBe(false);
    expect(pass.body.tables.integrations.resealed).toBeGreaterThanOrEqual(2);
    expect(pass.body.tables.webhook_endpoints.resealed).toBeGreaterThanOrEqual(1);
    expectSealedBy(await sealed(), 'k2');

    const newOnly = KeyRing.parse(newKey);
    expect((await loadIntegrationSecrets(harness.pool, newOnly, integration.id))?.credentials).toEqual(
      resman.credentials,
    );
    await expect(loadIntegrationSecrets(harness.pool, keyRing, integration.id)).rejects.toThrow(/k2/);

    // Idempotent: nothing is stale any more.
    const again = await call(`${rotatingApi.url}/api/v1/admin/rotate-keys`, 'POST', ADMIN_TOKEN, {});
    expect(again.body.tables.integrations.resealed).toBe(0);
    expect(again.body.tables.webhook_endpoints.resealed).toBe(0);
  });

  test('npm run rotate-keys does the same from the command line (here: back to the stack’s key)', async () => {
    const lines: string[] = [];
    const code = await runRotateKeys(
      ['--json'],
      { pool: harness.pool, keyRing: KeyRing.parse(`${ENCRYPTION_KEYS},${newKey}`) },
      (line) => lines.push(line),
    );
    const report = JSON.parse(lines[0]!);
    expect(report.primary_key_id).toBe('test1');
    expect(report.tables.integrations.resealed).toBeGreaterThanOrEqual(2);
    // Rows sealed by keys this ring lacks (other test files' throwaway keys) are reported, never touched.
    expect(code).toBe(report.failures.length > 0 ? 1 : 0);
    expectSealedBy(await sealed(), 'test1');
    expect((await loadIntegrationSecrets(harness.pool, keyRing, integration.id))?.credentials).toEqual(
      resman.credentials,
    );
    const text: string[] = [];
    await runRotateKeys([], { pool: harness.pool, keyRing }, (line) => text.push(line));
    expect(text[0]).toBe('sealing key: test1');
    expect(text).toContainEqual(
      expect.stringMatching(/^integrations: \d+ checked, 0 resealed, \d+ already current/),
    );
  });
});
