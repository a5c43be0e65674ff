// POST/GET/DELETE /api/v1/integrations (SPEC section 7): webhook URL and a one-time secret on creation,
// secrets sealed at rest, never read back.
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { fixture, postStandard } from '../support/ingest';

let harness: Harness;
let key: string;
let readKey: string;
let otherKey: string;

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key } = await registerWorkspace(harness.apiUrl));
  ({ apiKey: readKey } = await registerWorkspace(harness.apiUrl, { permissions: ['read'] }));
  ({ apiKey: otherKey } = await registerWorkspace(harness.apiUrl));
  await call(`${harness.apiUrl}/api/v1/properties`, 'POST', key, {
    property_id: 'maple',
    name: 'Maple Commons',
    timezone: 'America/Denver',
    vertical: 'multifamily',
  });
});
afterAll(async () => {
  await harness?.stop();
});

const integrations = (path = '') => `${harness.apiUrl}/api/v1/integrations${path}`;
const TWILIO_TOKEN = 'twilio-auth-token-7e1f0c2a9b';

describe('POST /api/v1/integrations', () => {
  test('answers 201 with the webhook URL and a Standard Webhooks secret shown once', async () => {
    const answer = await call(integrations(), 'POST', key, {
      partner: 'resman',
      name: 'ResMan relay',
      property_id: 'maple',
      config: { base_url: 'https://api.myresman.com' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      id: expect.any(String),
      partner: 'resman',
      status: 'active',
      property_id: 'maple',
      webhook_url: `${harness.ingestUrl}/webhooks/resman/${answer.body.id}`,
      webhook_secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const read = await call(integrations(`/${answer.body.id}`), 'GET', key);
    expect(read.body).toMatchObject({
      id: answer.body.id,
      has_webhook_secret: true,
      config: { base_url: 'https://api.myresman.com' },
    });
    expect(read.body.webhook_secret).toBeUndefined();
    expect(JSON.stringify(read.body)).not.toContain(answer.body.webhook_secret.slice(6));
  });

  test("seals a partner's credentials at rest and never returns them", async () => {
    const answer = await call(integrations(), 'POST', key, {
      partner: 'twilio',
      name: 'Leasing line',
      config: {},
      credentials: { auth_token: TWILIO_TOKEN, account_sid: 'ACae0e2a4f9d7c6b5a4a3b2c1d0e9f8a7b' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body.webhook_secret).toBeNull();
    const list = await call(integrations(), 'GET', key);
    expect(JSON.stringify(list.body)).not.toContain(TWILIO_TOKEN);
    expect(list.body.integrations.find((i: any) => i.id === answer.body.id)).toMatchObject({
      partner: 'twilio',
      has_credentials: true,
      webhook_url: expect.stringContaining(`/webhooks/twilio/${answer.body.id}`),
    });
    const { rows } = await harness.pool.query(
      'SELECT credentials_encrypted, webhook_secret_encrypted FROM integrations WHERE id = $1',
      [answer.body.id],
    );
    expect(rows[0].credentials_encrypted).toMatch(/^v2\.test1\./);
    expect(rows[0].webhook_secret_encrypted).toMatch(/^v1\.test1\./);
    expect(JSON.stringify(rows[0])).not.toContain(TWILIO_TOKEN);
  });

  test('names every bad field: partner, property, and the partner-specific config and credentials', async () => {
    const unknown = await call(integrations(), 'POST', key, { partner: 'yardi', name: 'x', config: {} });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.fields[0].field).toBe('partner');
    const twilio = await call(integrations(), 'POST', key, { partner: 'twilio', name: 'x', config: {} });
    expect(twilio.status).toBe(400);
    expect(twilio.body.error.details.fields.map((f: any) => f.field)).toEqual(['credentials.auth_token']);
    const property = await call(integrations(), 'POST', key, {
      partner: 'webform',
      name: 'x',
      property_id: 'nowhere',
    });
    expect(property.body.error.details.fields).toEqual([
      { field: 'property_id', message: 'unknown property' },
    ]);
    const extra = await call(integrations(), 'POST', key, { partner: 'webform', name: 'x', secret: 'mine' });
    expect(extra.status).toBe(400);
  });

  test('a partner without webhooks (Salesforce) has no webhook URL', async () => {
    const answer = await call(integrations(), 'POST', key, {
      partner: 'salesforce',
      name: 'CRM',
      config: { base_url: 'https://example.my.salesforce.com' },
      credentials: { client_id: 'id', client_secret: 'secret' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ webhook_url: null, webhook_secret: null });
  });

  test('needs the admin permission to create; read is enough to list', async () => {
    const denied = await call(integrations(), 'POST', readKey, { partner: 'webform', name: 'x', config: {} });
    expect(denied.status).toBe(403);
    expect((await call(integrations(), 'GET', readKey)).status).toBe(200);
  });
});

describe('GET and DELETE /api/v1/integrations/:id', () => {
  test("another workspace's integration is 404; a deleted one is 404 and its webhooks too", async () => {
    const created = await call(integrations(), 'POST', key, { partner: 'webform', name: 'Site', config: {} });
    const id = created.body.id;
    expect((await call(integrations(`/${id}`), 'GET', otherKey)).status).toBe(404);
    expect((await call(integrations(`/${id}`), 'DELETE', otherKey)).status).toBe(404);
    expect((await call(integrations('/not-a-uuid'), 'GET', key)).status).toBe(404);

    const before = await postStandard(
      created.body,
      fixture('webform', 'inquiry.json', { email: 'before.delete@example.com', phone: undefined }),
    );
    expect(before.status).toBe(200);
    expect((await call(integrations(`/${id}`), 'DELETE', key)).status).toBe(204);
    expect((await call(integrations(`/${id}`), 'GET', key)).status).toBe(404);
    expect((await call(integrations(`/${id}`), 'DELETE', key)).status).toBe(404);
    const list = await call(integrations(), 'GET', key);
    expect(list.body.integrations.map((i: any) => i.id)).not.toContain(id);
    const after = await postStandard(
      created.body,
      fixture('webform', 'inquiry.json', { email: 'after.delete@example.com', phone: undefined }),
    );
    expect(after.status).toBe(404);
    const { rows } = await harness.pool.query(
      'SELECT status, credentials_encrypted, webhook_secret_encrypted FROM integrations WHERE id = $1',
      [id],
    );
    expect(rows[0]).toEqual({
      status: 'deleted',
      credentials_encrypted: null,
      webhook_secret_encrypted: null,
    });
  });
});
