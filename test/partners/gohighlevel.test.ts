// The GoHighLevel adapter's outbound side against its sandbox twin over real HTTP: contacts and pipeline
// opportunities written and read back, contact protection, OAuth refresh on 401, GoHighLevel's error bodies,
// rate limits and faults, and the connection test.
import { z } from 'zod';
import { GoHighLevelConfig, GoHighLevelFields, gohighlevel } from '../../activities/partners/gohighlevel';
import type { PartnerConnection, PartnerLead, StatusPush } from '../../activities/partners/types';
import {
  startGoHighLevelSandbox,
  type GhlSandbox,
  type GhlSandboxPipeline,
} from '../../infra/sandbox/gohighlevel';
import { fromCanonical, type LeadStatus } from '../../shared/lifecycle';
import { fixture as partnerFixture } from '../support/fixtures';
import { contactConflict, partnerError, statusPush } from './support';

const fixture = <T>(name: string): T => partnerFixture<T>('gohighlevel', name);

const PIPELINES = fixture<{ pipelines: GhlSandboxPipeline[] }>('pipelines.json').pipelines;
const LEASING = PIPELINES[0]!;
const stage = (name: string) => LEASING.stages.find((s) => s.name === name)!.id;
const STAGES = {
  new: stage('New Inquiry'),
  contacted: stage('Contacted'),
  tour_scheduled: stage('Tour Booked'),
  toured: stage('Toured'),
  application: stage('Application In'),
  leased: stage('Lease Signed'),
  lost: stage('Lost'),
};

const outbound = gohighlevel.outbound!;
let sandbox: GhlSandbox;
let integrationSeq = 0;

beforeAll(async () => {
  sandbox = await startGoHighLevelSandbox({ pipelines: PIPELINES });
});
afterAll(async () => {
  await sandbox?.close();
});
beforeEach(() => sandbox.reset());

function connection(
  overrides: {
    config?: Record<string, unknown>;
    credentials?: Record<string, string>;
    timeoutMs?: number;
  } = {},
  target: GhlSandbox = sandbox,
): PartnerConnection {
  integrationSeq += 1;
  return {
    // A fresh integration id per connection keeps refreshed tokens of one test out of the next.
    integrationId: `int_ghl_${integrationSeq}`,
    workspaceId: 'ws_1',
    config: {
      base_url: target.url,
      location_id: target.locationId,
      pipeline_id: LEASING.id,
      stage_ids: STAGES,
      lost_reason_id: 'lr_signed_elsewhere',
      ...overrides.config,
    },
    credentials: overrides.credentials ?? { access_token: target.accessToken },
    timeoutMs: overrides.timeoutMs ?? 2000,
  };
}

function lead(overrides: Partial<PartnerLead> = {}): PartnerLead {
  return { ...fixture<PartnerLead>('outbound-lead.json'), ...overrides };
}

function push(status: LeadStatus, overrides: Partial<StatusPush> = {}): StatusPush {
  return statusPush(
    lead(),
    status,
    fromCanonical('gohighlevel', status) ?? status,
    '2025-03-06T16:30:00Z',
    overrides,
  );
}

const writes = () => sandbox.requests.items.filter((r) => r.method === 'POST' || r.method === 'PUT');

describe('pushStatus', () => {
  test('creates the contact and its opportunity at the mapped stage, read back', async () => {
    const result = await outbound.pushStatus(connection(), push('contacted'));
    expect(result).toMatchObject({
      outcome: 'success',
      createdRecord: true,
      readBack: 'confirmed',
      code: 201,
    });
    const contactId = (result as { externalId: string }).externalId;
    expect(sandbox.contacts.get(contactId)).toMatchObject({
      firstName: 'Tessa',
      lastName: 'Lindqvist',
      email: 'tessa.lindqvist@example.com',
      phone: '+17205550163',
      source: 'chatbot',
    });
    const [opportunity] = [...sandbox.opportunities.values()];
    expect(opportunity).toMatchObject({
      contactId,
      pipelineId: LEASING.id,
      pipelineStageId: STAGES.contacted,
      status: 'open',
      name: 'Tessa Lindqvist',
    });
    for (const request of sandbox.requests.items) {
      expect(request.headers.version).toBe('2021-07-28');
      expect(request.headers.authorization).toBe(`Bearer ${sandbox.accessToken}`);
    }
    expect(sandbox.requests.items.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      'GET /contacts/search/duplicate',
      'GET /contacts/search/duplicate',
      'POST /contacts/upsert',
      'GET /opportunities/search',
      'POST /opportunities/',
      `GET /opportunities/${opportunity!.id}`,
    ]);
  });

  test('moves the opportunity to won on the lease-signed stage', async () => {
    const created = await outbound.pushStatus(connection(), push('contacted'));
    const contactId = (created as { externalId: string }).externalId;
    const result = await outbound.pushStatus(
      connection(),
      push('leased', { lead: lead({ externalId: contactId, createdByUs: true }) }),
    );
    expect(result).toEqual({ outcome: 'success', code: 200, externalId: contactId, readBack: 'confirmed' });
    expect([...sandbox.opportunities.values()]).toEqual([
      expect.objectContaining({ status: 'won', pipelineStageId: STAGES.leased }),
    ]);
  });

  test('a lost lead is lost with the configured lost reason', async () => {
    const contact = sandbox.seedContact({ ...lead(), id: 'nmFmQEsNgz6AVpgLVUJ0' });
    sandbox.seedOpportunity({ contactId: contact.id, pipelineStageId: STAGES.toured });
    const result = await outbound.pushStatus(
      connection(),
      push('lost', { lead: lead({ externalId: contact.id }) }),
    );
    expect(result).toMatchObject({ outcome: 'success', externalId: contact.id });
    expect([...sandbox.opportunities.values()][0]).toMatchObject({
      status: 'lost',
      pipelineStageId: STAGES.lost,
      lostReasonId: 'lr_signed_elsewhere',
    });
  });

  test('a repeated push finds the opportunity already there and writes nothing', async () => {
    const contact = sandbox.seedContact({ ...lead() });
    const repeated = push('leased', { lead: lead({ externalId: contact.id }) });
    await outbound.pushStatus(connection(), repeated);
    const writesAfterFirst = writes().length;
    const again = await outbound.pushStatus(connection(), repeated);
    expect(again).toEqual({ outcome: 'success', code: 200, externalId: contact.id, readBack: 'confirmed' });
    expect(writes().length).toBe(writesAfterFirst);
    expect(sandbox.opportunities.size).toBe(1);
  });

  test('links a GoHighLevel contact of the same person without writing its contact fields', async () => {
    const theirs = sandbox.seedContact({
      ...lead(),
      firstName: 'TESSA',
      phone: '(720) 555-0163',
      source: 'Zillow',
    });
    const result = await outbound.pushStatus(connection(), push('contacted'));
    expect(result).toMatchObject({ outcome: 'success', externalId: theirs.id });
    expect(result).not.toHaveProperty('createdRecord');
    expect(writes().map((w) => w.url)).toEqual(['/opportunities/']);
    expect(sandbox.contacts.get(theirs.id)).toMatchObject({ firstName: 'TESSA', source: 'Zillow' });
  });

  test('a contact with this email but another name is a conflict: nothing written', async () => {
    const other = sandbox.seedContact({
      firstName: 'Erik',
      lastName: 'Lindqvist',
      email: 'tessa.lindqvist@example.com',
    });
    const result = await outbound.pushStatus(connection(), push('contacted'));
    expect(result).toEqual(contactConflict(other.id, 'firstName'));
    expect(writes()).toHaveLength(0);
  });

  test('phones match as E.164: another format of the number links, the same ten digits abroad do not', async () => {
    // No email on GoHighLevel's contacts: the duplicate search by number finds them (by its last ten digits).
    const same = sandbox.seedContact({ ...lead(), email: undefined, phone: '720.555.0163' });
    const linked = await outbound.pushStatus(connection(), push('contacted'));
    expect(linked).toMatchObject({ outcome: 'success', externalId: same.id });
    expect(linked).not.toHaveProperty('createdRecord');

    sandbox.reset();
    const abroad = sandbox.seedContact({ ...lead(), email: undefined, phone: '+44 7205 550163' });
    const result = await outbound.pushStatus(connection(), push('contacted'));
    expect(result).toEqual(contactConflict(abroad.id, 'phone'));
    expect(writes()).toHaveLength(0);
  });

  test("a wrong token is final with GoHighLevel's message", async () => {
    const error = await partnerError(
      outbound.pushStatus(connection({ credentials: { access_token: 'expired-token' } }), push('contacted')),
    );
    expect(error).toMatchObject({ kind: 'final', details: { status: 401, partnerCode: 'Unauthorized' } });
    expect(error.message).toContain('Invalid token: access token is invalid');
  });

  test('an expired token is refreshed once with the OAuth app, and the rotated refresh token is used next', async () => {
    const oauth = {
      access_token: sandbox.accessToken,
      client_id: sandbox.oauth.clientId,
      client_secret: sandbox.oauth.clientSecret,
      refresh_token: sandbox.oauth.refreshToken,
    };
    const ghl = connection({ credentials: oauth });
    const refreshesBefore = sandbox.refreshes;
    sandbox.expireTokens();
    const first = await outbound.pushStatus(ghl, push('contacted'));
    expect(first).toMatchObject({ outcome: 'success' });
    expect(sandbox.refreshes).toBe(refreshesBefore + 1);
    const tokenPost = sandbox.requests.items.find((r) => r.url === '/oauth/token')!;
    expect(Object.fromEntries(new URLSearchParams(tokenPost.body))).toEqual({
      client_id: oauth.client_id,
      client_secret: oauth.client_secret,
      grant_type: 'refresh_token',
      refresh_token: oauth.refresh_token,
      user_type: 'Location',
    });
    // The refreshed token is reused; when it expires too, the rotated refresh token gets the next one.
    sandbox.expireTokens();
    const second = await outbound.testConnection(ghl);
    expect(second.detail).toContain('Leasing Pipeline');
    expect(sandbox.refreshes).toBe(refreshesBefore + 2);
  });

  test('a refresh GoHighLevel refuses is final', async () => {
    sandbox.expireTokens();
    const error = await partnerError(
      outbound.testConnection(
        connection({
          credentials: {
            client_id: sandbox.oauth.clientId,
            client_secret: 'wrong-secret',
            refresh_token: 'rt-unknown',
          },
        }),
      ),
    );
    expect(error).toMatchObject({ kind: 'final', details: { status: 401 } });
    expect(error.message).toContain('Invalid client credentials');
  });

  test('a body GoHighLevel refuses (422) is final with its field messages', async () => {
    const error = await partnerError(
      outbound.pushStatus(
        connection(),
        push('contacted', { lead: lead({ email: undefined, phone: undefined }) }),
      ),
    );
    expect(error).toMatchObject({ kind: 'final', details: { status: 422 } });
    expect(error.message).toContain('email or phone should not be empty');
  });

  test('429 with Retry-After is retryable after that time', async () => {
    sandbox.faults.push({ status: 429, retryAfterSeconds: 7 });
    const error = await partnerError(outbound.pushStatus(connection(), push('contacted')));
    expect(error).toMatchObject({ kind: 'retryable', details: { status: 429, retryAfterMs: 7000 } });
  });

  test("GoHighLevel's own rate limit is retryable after its X-RateLimit interval", async () => {
    const limited = await startGoHighLevelSandbox({ pipelines: PIPELINES, rateLimitMax: 2 });
    try {
      const error = await partnerError(outbound.pushStatus(connection({}, limited), push('contacted')));
      expect(error).toMatchObject({ kind: 'retryable', details: { status: 429, retryAfterMs: 10_000 } });
      expect(limited.requests.items.at(-1)?.status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  test('5xx is retryable', async () => {
    sandbox.faults.push({ status: 502, pathIncludes: '/opportunities' });
    const error = await partnerError(outbound.pushStatus(connection(), push('contacted')));
    expect(error).toMatchObject({ kind: 'retryable', details: { status: 502 } });
  });

  test('an answer slower than the timeout is a retryable timeout', async () => {
    sandbox.faults.push({ delayMs: 1000 });
    const error = await partnerError(outbound.pushStatus(connection({ timeoutMs: 150 }), push('contacted')));
    expect(error.kind).toBe('retryable');
    expect(error.message).toContain('within 150 ms');
  });

  test('an update GoHighLevel answers 200 to but does not apply is not_applied', async () => {
    const contact = sandbox.seedContact({ ...lead() });
    sandbox.seedOpportunity({ contactId: contact.id, pipelineStageId: STAGES.contacted });
    sandbox.ignoreWrites = true;
    const result = await outbound.pushStatus(
      connection(),
      push('leased', { lead: lead({ externalId: contact.id }) }),
    );
    expect(result).toEqual({
      outcome: 'not_applied',
      code: 200,
      externalId: contact.id,
      detail: expect.stringContaining(`shows status open and stage ${STAGES.contacted}, not won`),
    });
  });

  test('missing credentials or pipeline fail clearly before any request', async () => {
    const noCredentials = await partnerError(
      outbound.pushStatus(connection({ credentials: {} }), push('contacted')),
    );
    expect(noCredentials.message).toBe(
      'gohighlevel credentials missing: access_token, or client_id, client_secret and refresh_token',
    );
    const noPipeline = await partnerError(
      outbound.pushStatus(connection({ config: { pipeline_id: undefined } }), push('contacted')),
    );
    expect(noPipeline.message).toBe('gohighlevel config missing: pipeline_id');
    expect(sandbox.requests.items).toHaveLength(0);
  });
});

describe('upsertLead', () => {
  test('creates a contact once; a contact we created gets our fields, one we did not is left alone', async () => {
    const created = await outbound.upsertLead!(connection(), lead());
    expect(created).toMatchObject({ created: true, code: 201 });
    await outbound.upsertLead!(
      connection(),
      lead({ externalId: created.externalId, createdByUs: true, lastName: 'Berg' }),
    );
    expect(sandbox.contacts.get(created.externalId)?.lastName).toBe('Berg');
    const theirs = sandbox.seedContact({ firstName: 'Noor', email: 'noor@example.com' });
    const untouched = await outbound.upsertLead!(
      connection(),
      lead({ externalId: theirs.id, firstName: 'Nora', email: 'noor@example.com' }),
    );
    expect(untouched).toEqual({ externalId: theirs.id, created: false, code: 200 });
    expect(sandbox.contacts.get(theirs.id)?.firstName).toBe('Noor');
  });
});

describe('testConnection', () => {
  test('finds the configured pipeline and its stages', async () => {
    await expect(outbound.testConnection(connection())).resolves.toEqual({
      detail: 'gohighlevel location reachable: pipeline "Leasing Pipeline" with 7 stages',
    });
    const request = sandbox.requests.items[0]!;
    expect(request.url).toBe(`/opportunities/pipelines?locationId=${sandbox.locationId}`);
  });

  test('names a pipeline or stage the location does not have, and a bad token', async () => {
    const noPipeline = await partnerError(
      outbound.testConnection(connection({ config: { pipeline_id: 'nope' } })),
    );
    expect(noPipeline).toMatchObject({ kind: 'final', details: { partnerCode: 'pipeline_not_found' } });
    const badStage = await partnerError(
      outbound.testConnection(connection({ config: { stage_ids: { ...STAGES, toured: 'gone' } } })),
    );
    expect(badStage.message).toContain('has no stage for stage_ids.toured');
    const badToken = await partnerError(
      outbound.testConnection(connection({ credentials: { access_token: 'x' } })),
    );
    expect(badToken).toMatchObject({ kind: 'final', details: { status: 401 } });
  });
});

describe('config', () => {
  test('webhook integrations still need the public key; the fields are a JSON-schema form', () => {
    expect(GoHighLevelConfig.safeParse({ location_id: 'loc' }).success).toBe(false);
    const schema = z.toJSONSchema(GoHighLevelFields, { io: 'input' }) as {
      properties: Record<string, unknown>;
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['base_url', 'location_id', 'pipeline_id', 'stage_ids']),
    );
    expect(gohighlevel.integration.credentials!.safeParse({}).success).toBe(true);
  });
});
