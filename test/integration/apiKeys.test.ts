// API keys over HTTP: created and shown once, listed without the key, permissions never widened, revoked keys
// refused at once, rotation with a grace period, and repeated bad keys answered without a database round trip.
// Rate limits beyond the workspace routes: the operator budget of the codec sign-in, codec, admin and inbox routes.
import type { Server } from 'node:http';
import { createApiApp } from '../../services/api/app';
import { KeyRing } from '../../shared/crypto';
import { createLogger } from '../../shared/logger';
import {
  ADMIN_TOKEN,
  call,
  close,
  ENCRYPTION_KEYS,
  POLLING_RATE_LIMIT,
  registerWorkspace,
  serve,
  startHarness,
  type Harness,
} from '../support/harness';
import { waitFor } from '../support/wait';

let harness: Harness;
/** The workspace owner's key: every permission. */
let owner: string;

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: owner } = await registerWorkspace(harness.apiUrl, { rate_limit_per_hour: POLLING_RATE_LIMIT }));
});
afterAll(async () => {
  await harness?.stop();
});

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

async function createKey(by: string, body: Record<string, unknown>) {
  const answer = await call(api('/api-keys'), 'POST', by, body);
  if (answer.status !== 201)
    throw new Error(`key not created: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as { id: string; api_key: string; prefix: string };
}

/** The status a key gets on a route that needs only `read`. */
const statusWith = async (key: string) => (await call(api('/api-keys'), 'GET', key)).status;

test('a created key is shown once, works, and the list never shows it or its hash', async () => {
  const created = await call(api('/api-keys'), 'POST', owner, { label: 'CRM sync', permissions: ['read'] });
  expect(created.status).toBe(201);
  expect(created.body).toEqual({
    id: expect.any(String),
    api_key: expect.stringMatching(/^lr_/),
    prefix: created.body.api_key.slice(0, 7),
    label: 'CRM sync',
    permissions: ['read'],
    created_at: expect.any(String),
  });
  expect(await statusWith(created.body.api_key)).toBe(200);

  const listed = await call(api('/api-keys'), 'GET', owner);
  expect(listed.status).toBe(200);
  const row = listed.body.api_keys.find((key: { id: string }) => key.id === created.body.id);
  expect(row).toEqual({
    id: created.body.id,
    prefix: created.body.prefix,
    label: 'CRM sync',
    permissions: ['read'],
    created_at: created.body.created_at,
    last_used_at: expect.any(String),
    expires_at: null,
  });
  expect(JSON.stringify(listed.body)).not.toContain(created.body.api_key);
  expect(JSON.stringify(listed.body)).not.toContain(created.body.api_key.slice(7));
  expect(listed.body.api_keys.map((key: { label: string }) => key.label)).toContain('workspace key');
});

test('a key cannot grant, rotate or revoke permissions it does not hold, and bad bodies name the field', async () => {
  const editor = await createKey(owner, { label: 'editor', permissions: ['read', 'update'] });
  const wider = await call(api('/api-keys'), 'POST', editor.api_key, {
    label: 'escalation',
    permissions: ['read', 'admin'],
  });
  expect(wider.status).toBe(403);
  expect(wider.body.error).toMatchObject({
    code: 'forbidden',
    details: { fields: [{ field: 'permissions' }], not_held: ['admin'] },
  });
  const narrower = await call(api('/api-keys'), 'POST', editor.api_key, {
    label: 'reader',
    permissions: ['read'],
  });
  expect(narrower.status).toBe(201);

  const admin = await createKey(owner, { label: 'second admin', permissions: ['admin'] });
  for (const [method, path] of [
    ['DELETE', `/api-keys/${admin.id}`],
    ['POST', `/api-keys/${admin.id}/rotate`],
  ] as const) {
    const refused = await call(api(path), method, editor.api_key);
    expect(refused.status).toBe(403);
    expect(refused.body.error.details.fields).toEqual([expect.objectContaining({ field: 'id' })]);
  }
  expect(await statusWith(admin.api_key)).toBe(200);

  const reader = await createKey(owner, { label: 'read only', permissions: ['read'] });
  expect(
    (await call(api('/api-keys'), 'POST', reader.api_key, { label: 'x', permissions: ['read'] })).status,
  ).toBe(403);
  const unnamed = await call(api('/api-keys'), 'POST', owner, { permissions: ['read'] });
  expect(unnamed.status).toBe(400);
  expect(unnamed.body.error.details.fields).toEqual([expect.objectContaining({ field: 'label' })]);
  const unknown = await call(api('/api-keys'), 'POST', owner, { label: 'x', permissions: ['superuser'] });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error.details.fields[0].field).toMatch(/^permissions/);
});

test('a revoked key answers 401 at once and leaves the list', async () => {
  const doomed = await createKey(owner, { label: 'leaked', permissions: ['read'] });
  expect(await statusWith(doomed.api_key)).toBe(200);
  // Another workspace's owner sees no such key.
  const { apiKey: stranger } = await registerWorkspace(harness.apiUrl);
  expect((await call(api(`/api-keys/${doomed.id}`), 'DELETE', stranger)).status).toBe(404);
  expect((await call(api(`/api-keys/${doomed.id}/rotate`), 'POST', stranger)).status).toBe(404);
  expect(await statusWith(doomed.api_key)).toBe(200);
  expect((await call(api(`/api-keys/${doomed.id}`), 'DELETE', owner)).status).toBe(204);
  const refused = await call(api('/api-keys'), 'GET', doomed.api_key);
  expect(refused.status).toBe(401);
  expect(refused.body.error.code).toBe('unauthorized');
  const listed = await call(api('/api-keys'), 'GET', owner);
  expect(listed.body.api_keys.map((key: { id: string }) => key.id)).not.toContain(doomed.id);
  expect((await call(api(`/api-keys/${doomed.id}`), 'DELETE', owner)).status).toBe(404);
});

test('rotation: a new key with the same label, the old one working until the grace it states ends', async () => {
  const old = await createKey(owner, { label: 'partner portal', permissions: ['read', 'update'] });
  const before = Date.now();
  const rotated = await call(api(`/api-keys/${old.id}/rotate`), 'POST', owner, { grace_seconds: 3600 });
  expect(rotated.status).toBe(201);
  expect(rotated.body).toMatchObject({
    label: 'partner portal',
    permissions: ['read', 'update'],
    previous_key: { id: old.id, expires_at: expect.any(String) },
  });
  expect(rotated.body.api_key).not.toBe(old.api_key);
  const expiresAt = Date.parse(rotated.body.previous_key.expires_at);
  expect(expiresAt).toBeGreaterThanOrEqual(before + 3_590_000);
  expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
  expect(await statusWith(old.api_key)).toBe(200);
  expect(await statusWith(rotated.body.api_key)).toBe(200);
  const listed = await call(api('/api-keys'), 'GET', owner);
  const oldRow = listed.body.api_keys.find((key: { id: string }) => key.id === old.id);
  expect(oldRow.expires_at).toBe(rotated.body.previous_key.expires_at);

  // Rotating the rotated key again with no grace ends it now; its successor works.
  const again = await call(api(`/api-keys/${rotated.body.id}/rotate`), 'POST', owner, { grace_seconds: 0 });
  expect(again.status).toBe(201);
  expect(await statusWith(rotated.body.api_key)).toBe(401);
  expect(await statusWith(again.body.api_key)).toBe(200);
  expect(await statusWith(old.api_key)).toBe(200);

  // A short grace ends on its own.
  const brief = await call(api(`/api-keys/${old.id}/rotate`), 'POST', owner, { grace_seconds: 1 });
  expect(brief.status).toBe(201);
  await waitFor('the old key to answer 401 once its 1 s grace ended', () => statusWith(old.api_key), {
    until: (status) => status === 401,
  });
  expect(await statusWith(brief.body.api_key)).toBe(200);
});

test('a grace beyond 7 days is refused naming the field', async () => {
  const key = await createKey(owner, { label: 'long', permissions: ['read'] });
  const refused = await call(api(`/api-keys/${key.id}/rotate`), 'POST', owner, {
    grace_seconds: 8 * 24 * 3600,
  });
  expect(refused.status).toBe(400);
  expect(refused.body.error.details.fields).toEqual([expect.objectContaining({ field: 'grace_seconds' })]);
  expect(await statusWith(key.api_key)).toBe(200);
});

test('a bad key asked again costs no database round trip until a key is created', async () => {
  const queried: string[] = [];
  const pool = harness.pool;
  const query = pool.query.bind(pool);
  // Counts the api's statements against api_keys; every call still goes to Postgres.
  pool.query = ((...args: Parameters<typeof query>) => {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
    if (text?.includes('api_keys')) queried.push(text);
    return (query as (...a: unknown[]) => unknown)(...args);
  }) as typeof pool.query;
  try {
    const bogus = `lr_${'x'.repeat(43)}`;
    expect(await statusWith(bogus)).toBe(401);
    expect(queried).toHaveLength(1);
    for (let i = 0; i < 5; i++) expect(await statusWith(bogus)).toBe(401);
    expect(queried).toHaveLength(1);

    await createKey(owner, { label: 'fresh', permissions: ['read'] });
    const afterCreate = queried.length;
    expect(await statusWith(bogus)).toBe(401);
    expect(queried).toHaveLength(afterCreate + 1);
  } finally {
    pool.query = query;
  }
});

test("every change made with a key records the key's label as its actor; reads and refusals are not changes", async () => {
  const bot = await createKey(owner, { label: 'CRM sync bot', permissions: ['admin'] });
  const lead = await call(api('/leads'), 'POST', bot.api_key, {
    source: 'website',
    first_name: 'Ada',
    email: `actor-${Date.now()}@example.com`,
  });
  expect(lead.status).toBe(201);
  const status = await call(api(`/leads/${lead.body.id}/status`), 'PUT', bot.api_key, {
    new_status: 'contacted',
    status_reason: 'called back',
  });
  expect(status.status).toBe(200);
  const endpoint = await call(api('/webhook-endpoints'), 'POST', bot.api_key, {
    name: 'crm',
    url: 'http://127.0.0.1:9/hook',
    events: ['lead.created'],
  });
  expect(endpoint.status).toBe(201);
  expect(
    (await call(api(`/webhook-endpoints/${endpoint.body.id}`), 'PATCH', bot.api_key, { name: 'crm 2' }))
      .status,
  ).toBe(200);
  const preference = await call(api('/notification-preferences'), 'POST', bot.api_key, {
    property_id: null,
    status_type: 'new',
    notification_method: 'email',
    recipients: ['leasing@example.com'],
  });
  expect(preference.status).toBe(201);
  expect(
    (await call(api(`/notification-preferences/${preference.body.id}`), 'DELETE', bot.api_key)).status,
  ).toBe(204);
  // Not changes: a read and a refused write.
  expect((await call(api(`/leads/${lead.body.id}`), 'GET', bot.api_key)).status).toBe(200);
  expect((await call(api('/webhook-endpoints'), 'POST', bot.api_key, { name: 'x' })).status).toBe(400);

  // The lead's history names the key on the inquiry it made and on the status change.
  const history = await call(api(`/leads/${lead.body.id}/status-history`), 'GET', bot.api_key);
  expect(history.body.status_changes.map((row: { actor: string | null }) => row.actor)).toEqual([
    'CRM sync bot',
    'CRM sync bot',
  ]);
  const changes = await call(api('/api-changes?limit=20'), 'GET', owner);
  expect(changes.status).toBe(200);
  const byBot = changes.body.changes.filter((row: { api_key_id: string }) => row.api_key_id === bot.id);
  expect(byBot.map((row: { method: string; route: string }) => `${row.method} ${row.route}`)).toEqual([
    'DELETE /api/v1/notification-preferences/:id',
    'POST /api/v1/notification-preferences',
    'PATCH /api/v1/webhook-endpoints/:id',
    'POST /api/v1/webhook-endpoints',
    'PUT /api/v1/leads/:id/status',
    'POST /api/v1/leads',
  ]);
  expect(byBot[0]).toMatchObject({
    actor: 'CRM sync bot',
    params: { id: preference.body.id },
    status: 204,
    created_at: expect.any(String),
  });
  expect(byBot[4]).toMatchObject({ params: { id: lead.body.id }, status: 200 });
  // The key that created the bot is in the log too, under its own label.
  expect(changes.body.changes).toContainEqual(
    expect.objectContaining({ actor: 'workspace key', method: 'POST', route: '/api/v1/api-keys' }),
  );
  const forged = await call(api('/api-changes?cursor=eyJpZCI6MX0'), 'GET', owner);
  expect(forged.status).toBe(400);
});

describe('rate limits of the operator, codec and inbox routes', () => {
  /** A second api on the same stack whose operator budget is OPERATOR_LIMIT requests an hour. */
  const OPERATOR_LIMIT = 4;
  let limited: { server: Server; url: string };
  beforeAll(async () => {
    limited = await serve(
      createApiApp({
        pool: harness.pool,
        temporal: harness.client,
        journeys: harness.journeys,
        logger: createLogger('test', 'silent'),
        adminToken: ADMIN_TOKEN,
        keyRing: KeyRing.parse(ENCRYPTION_KEYS),
        operatorRateLimitPerHour: OPERATOR_LIMIT,
      }),
    );
  });
  afterAll(async () => {
    if (limited) await close(limited.server);
  });

  /**
   * Calls until the budget answers 429 (other test files' operator calls from this address may have spent some of
   * it already, never more): at most one call past the limit.
   */
  async function until429(send: () => Promise<Response>, limit: number) {
    for (let n = 1; n <= limit + 1; n++) {
      const response = await send();
      if (response.status === 429) return response;
      expect(response.headers.get('ratelimit-limit')).toBe(String(limit));
    }
    throw new Error(`no 429 within ${limit + 1} calls`);
  }

  async function expectLimited(response: Response, budget: string) {
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await response.json()).toMatchObject({
      error: { code: 'rate_limited', details: { budget, limit: expect.any(Number) } },
    });
  }

  const operator = (path: string, init: RequestInit = {}) =>
    fetch(`${limited.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });

  test('the codec sign-in answers 429 with Retry-After once the operator budget is spent, even for a wrong token', async () => {
    const guess = () =>
      fetch(`${limited.url}/codec/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'token=not-the-operator-token',
      });
    await expectLimited(await until429(guess, OPERATOR_LIMIT), 'operator');
    // Spent: the right token waits too, and so do the codec and the admin and inbox routes under the token.
    await expectLimited(await operator('/codec/session', { method: 'POST' }), 'operator');
    await expectLimited(
      await operator('/codec/decode', { method: 'POST', body: '{"payloads":[]}' }),
      'operator',
    );
    await expectLimited(await operator('/api/v1/inbox'), 'operator');
    await expectLimited(
      await operator('/api/v1/admin/rotate-keys', { method: 'POST', body: '{}' }),
      'operator',
    );
    await expectLimited(
      await operator('/api/v1/workspaces', { method: 'POST', body: '{"workspace_name":"x"}' }),
      'operator',
    );
  });

  test("the inbox under an API key spends the key's workspace budget", async () => {
    const { workspaceId, apiKey } = await registerWorkspace(harness.apiUrl);
    await harness.pool.query('UPDATE workspaces SET rate_limit_per_hour = 2 WHERE id = $1', [workspaceId]);
    const inbox = () =>
      fetch(`${limited.url}/api/v1/inbox`, { headers: { authorization: `Bearer ${apiKey}` } });
    const first = await inbox();
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    await expectLimited(await until429(inbox, 2), 'api');
  });
});
