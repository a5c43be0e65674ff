// Workspaces over HTTP: the per-workspace rate limit shared by api processes, operator settings, and the
// seed 004 activity summary.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPool } from '../../data/pool';
import { createLogger } from '../../shared/logger';
import { createApiApp } from '../../services/api/app';
import { testStack } from '../setup/stack';
import { ADMIN_TOKEN, call, registerWorkspace, startHarness, type Harness } from '../support/harness';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

const api = (path: string, base = harness.apiUrl) => `${base}/api/v1${path}`;

describe('rate limit', () => {
  test('sends RateLimit headers and answers 429 with Retry-After once the hourly limit is used', async () => {
    const ws = await registerWorkspace(harness.apiUrl, { rate_limit_per_hour: 3 });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await call(api('/properties'), 'GET', ws.apiKey));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0', '0']);
    const first = answers[0]!.headers;
    expect(first.get('ratelimit-limit')).toBe('3');
    expect(first.get('ratelimit-policy')).toBe('3;w=3600');
    const reset = Number(first.get('ratelimit-reset'));
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(3600);
    const refused = answers[3]!;
    expect(refused.body.error).toMatchObject({
      code: 'rate_limited',
      details: { limit: 3, window_seconds: 3600 },
    });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(reset);
  });

  test("the dashboard's requests spend its own budget, never the one integrations rely on", async () => {
    const ws = await registerWorkspace(harness.apiUrl, { rate_limit_per_hour: 2 });
    const dashboard = { 'x-leadrelay-client': 'dashboard' };
    const fromApp = [];
    for (let i = 0; i < 4; i++)
      fromApp.push(await call(api('/properties'), 'GET', ws.apiKey, undefined, dashboard));
    expect(fromApp.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(fromApp[0]!.headers.get('ratelimit-limit')).toBe('1000');
    expect(fromApp[3]!.headers.get('ratelimit-remaining')).toBe('996');
    // The integrations' budget is untouched by the four requests above.
    const fromIntegration = [];
    for (let i = 0; i < 3; i++) fromIntegration.push(await call(api('/properties'), 'GET', ws.apiKey));
    expect(fromIntegration.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(fromIntegration[0]!.headers.get('ratelimit-remaining')).toBe('1');
    expect(fromIntegration[2]!.body.error.details).toMatchObject({ limit: 2, budget: 'api' });
    // And the app keeps working once the integrations' budget is spent.
    expect((await call(api('/properties'), 'GET', ws.apiKey, undefined, dashboard)).status).toBe(200);
    // Operators set the app's budget apart from the integrations'.
    const changed = await call(api(`/workspaces/${ws.workspaceId}`), 'PATCH', ADMIN_TOKEN, {
      dashboard_rate_limit_per_hour: 6,
    });
    expect(changed.body).toMatchObject({ rate_limit_per_hour: 2, dashboard_rate_limit_per_hour: 6 });
    const last = await call(api('/properties'), 'GET', ws.apiKey, undefined, dashboard);
    expect([last.status, last.headers.get('ratelimit-limit')]).toEqual([200, '6']);
    const over = await call(api('/properties'), 'GET', ws.apiKey, undefined, dashboard);
    expect(over.status).toBe(429);
    expect(over.body.error.details).toMatchObject({ limit: 6, budget: 'dashboard' });
  });

  test('two api processes share one count through Postgres', async () => {
    const ws = await registerWorkspace(harness.apiUrl, { rate_limit_per_hour: 4 });
    const pool = createPool(testStack().databaseUrl, 2);
    const second = createApiApp({
      pool,
      temporal: harness.client,
      journeys: harness.journeys,
      logger: createLogger('test', 'silent'),
      adminToken: ADMIN_TOKEN,
    });
    const server: Server = await new Promise((resolve) => {
      const s = second.listen(0, '127.0.0.1', () => resolve(s));
    });
    const otherUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) {
        statuses.push(
          (await call(api('/properties', i % 2 ? otherUrl : harness.apiUrl), 'GET', ws.apiKey)).status,
        );
      }
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await pool.end();
    }
  });

  test('the admin token changes a workspace’s limit; the next request uses it', async () => {
    const ws = await registerWorkspace(harness.apiUrl);
    const before = await call(api('/properties'), 'GET', ws.apiKey);
    expect(before.headers.get('ratelimit-limit')).toBe('1000');
    const denied = await call(api(`/workspaces/${ws.workspaceId}`), 'PATCH', ws.apiKey, {
      rate_limit_per_hour: 5,
    });
    expect(denied.status).toBe(401);
    const changed = await call(api(`/workspaces/${ws.workspaceId}`), 'PATCH', ADMIN_TOKEN, {
      rate_limit_per_hour: 5000,
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ workspace_id: ws.workspaceId, rate_limit_per_hour: 5000 });
    const after = await call(api(`/workspaces/${ws.workspaceId}`), 'GET', ws.apiKey);
    expect(after.body.rate_limit_per_hour).toBe(5000);
    expect(after.headers.get('ratelimit-limit')).toBe('5000');
    expect(after.headers.get('ratelimit-remaining')).toBe('4998');
    expect(
      (await call(api('/workspaces/nobody'), 'PATCH', ADMIN_TOKEN, { rate_limit_per_hour: 9 })).status,
    ).toBe(404);
  });
});

describe('GET /api/v1/workspaces/:id/activity', () => {
  test('counts contacts received and sent, conversions and the rate, with the latest actions first', async () => {
    const ws = await registerWorkspace(harness.apiUrl);
    const lead = async () =>
      (
        await call(api('/leads'), 'POST', ws.apiKey, {
          source: 'website',
          email: `${randomUUID()}@example.com`,
        })
      ).body.id as string;
    const [a, b] = [await lead(), await lead()];
    const conversion = await call(api('/conversions'), 'POST', ws.apiKey, {
      contact_id: a,
      conversion_type: 'lease',
      conversion_value: 1800,
    });
    expect(conversion.status).toBe(201);
    const sent = await call(api(`/contacts/${b}/conversion`), 'PATCH', ws.apiKey, {
      sent_from_workspace: 'call_center',
    });
    expect(sent.status).toBe(200);

    const answer = await call(api(`/workspaces/${ws.workspaceId}/activity`), 'GET', ws.apiKey);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      workspace_id: ws.workspaceId,
      total_contacts_received: 2,
      total_contacts_sent: 1,
      total_conversions: 1,
      total_conversion_value: 1800,
      converted_contacts: 1,
      conversion_rate: 50,
    });
    const actions = answer.body.recent_activity.map((r: any) => [r.action, r.contact_id]);
    expect(
      actions
        .slice(0, 2)
        .map(([action]: string[]) => action)
        .sort(),
    ).toEqual(['sent', 'updated']);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['converted', a],
        ['received', a],
        ['received', b],
      ]),
    );
    const limited = await call(api(`/workspaces/${ws.workspaceId}/activity?limit=2`), 'GET', ws.apiKey);
    expect(limited.body.recent_activity).toHaveLength(2);
    const past = await call(
      api(`/workspaces/${ws.workspaceId}/activity?to_date=2020-01-01`),
      'GET',
      ws.apiKey,
    );
    expect(past.body).toMatchObject({
      total_contacts_received: 0,
      total_conversions: 0,
      recent_activity: [],
    });
  });
});
