// The Salesforce adapter against its sandbox twin over real HTTP: client credentials token, Lead upsert by our
// external id, Status push with origin and causation, read-back, refresh-once on 401, and how every kind of
// Salesforce answer is sorted (final, retryable, conflict, not applied).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { partnerAdapter } from '../../activities/partners';
import { salesforce, SalesforceConfig, SalesforceCredentials } from '../../activities/partners/salesforce';
import type { PartnerConnection, PartnerLead, StatusPush } from '../../activities/partners/types';
import { fromCanonical, type LeadStatus } from '../../shared/lifecycle';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../infra/sandbox/salesforce';
import { partnerError, statusPush } from './support';
import { fixture as partnerFixture } from '../support/fixtures';

const outbound = salesforce.outbound!;
let sandbox: SalesforceSandbox;

beforeAll(async () => {
  sandbox = await startSalesforceSandbox();
});

afterAll(async () => {
  await sandbox.close();
});

afterEach(() => {
  sandbox.faults.length = 0;
  sandbox.down = false;
  sandbox.ignoreWrites = false;
  sandbox.requiredFields = new Set(['LastName', 'Company']);
});

const fixture = (name: string): any => partnerFixture('salesforce', name);

function connection(
  overrides: {
    config?: Record<string, unknown>;
    credentials?: Record<string, string>;
    timeoutMs?: number;
  } = {},
  target: SalesforceSandbox = sandbox,
): PartnerConnection {
  return {
    integrationId: '5a7e0c1d-2b3f-4e6a-8c9d-0e1f2a3b4c5d',
    workspaceId: 'ws_salesforce_partner_test',
    config: { base_url: target.url, ...overrides.config },
    credentials: overrides.credentials ?? { client_id: target.clientId, client_secret: target.clientSecret },
    timeoutMs: overrides.timeoutMs ?? 5_000,
  };
}

function lead(overrides: Partial<PartnerLead> = {}): PartnerLead {
  return {
    leadId: randomUUID(),
    firstName: 'Eleanor',
    lastName: 'Vasquez',
    email: `eleanor.vasquez.${randomUUID().slice(0, 8)}@example.com`,
    phone: '+16175550199',
    message: 'Touring for my mother, memory care',
    source: 'apfm',
    createdAt: '2025-03-04T15:22:10.000Z',
    createdByUs: false,
    ...overrides,
  };
}

function push(
  partnerLead: PartnerLead,
  status: LeadStatus = 'contacted',
  overrides: Partial<StatusPush> = {},
): StatusPush {
  return statusPush(
    partnerLead,
    status,
    fromCanonical('salesforce', status) ?? '',
    '2025-03-04T15:30:00.000Z',
    overrides,
  );
}

const requestsSince = (start: number) =>
  sandbox.requests.items.slice(start).map((r) => `${r.method} ${r.url.split('?')[0]} ${r.status}`);

const externalIdOf = (result: Awaited<ReturnType<typeof outbound.pushStatus>>) =>
  result.outcome === 'success' || result.outcome === 'not_applied' ? result.externalId : undefined;

describe('push and read-back', () => {
  test('a new lead: one token, upsert by LeadRelay_Id__c with Company filled, Status with origin and causation, read back', async () => {
    const newLead = lead();
    const statusPush = push(newLead, 'contacted', { origin: 'partner:apfm' });
    const before = sandbox.requests.items.length;
    const tokensBefore = sandbox.tokenRequests;

    const result = await outbound.pushStatus(connection(), statusPush);

    const record = sandbox.leadBy('LeadRelay_Id__c', newLead.leadId)!;
    expect(result).toEqual({
      outcome: 'success',
      code: 204,
      externalId: record.Id,
      createdRecord: true,
      readBack: 'confirmed',
    });
    expect(record.fields).toMatchObject({
      FirstName: 'Eleanor',
      LastName: 'Vasquez',
      Email: newLead.email,
      Phone: '+16175550199',
      Company: '[not provided]',
      Status: 'Working - Contacted',
      LeadRelay_Origin__c: 'partner:apfm',
      LeadRelay_Causation_Id__c: statusPush.causationId,
    });
    const upsertPath = `/services/data/v60.0/sobjects/Lead/LeadRelay_Id__c/${newLead.leadId}`;
    expect(requestsSince(before)).toEqual([
      'POST /services/oauth2/token 200',
      `PATCH ${upsertPath} 400`,
      `PATCH ${upsertPath} 201`,
      `PATCH /services/data/v60.0/sobjects/Lead/${record.Id} 204`,
      `GET /services/data/v60.0/sobjects/Lead/${record.Id} 200`,
    ]);
    expect(sandbox.tokenRequests - tokensBefore).toBe(1);
    const tokenBody = new URLSearchParams(sandbox.requests.items[before]!.body);
    expect(Object.fromEntries(tokenBody)).toEqual({
      grant_type: 'client_credentials',
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
    });
  });

  test('a lead without a last name gets the placeholder only because Salesforce names it missing', async () => {
    const noName = lead({ lastName: undefined, firstName: 'Sam' });
    const result = await outbound.pushStatus(
      connection({ config: { default_company: 'Maple Grove Senior Living' } }),
      push(noName, 'new'),
    );
    expect(result.outcome).toBe('success');
    expect(sandbox.leadBy('LeadRelay_Id__c', noName.leadId)!.fields).toMatchObject({
      FirstName: 'Sam',
      LastName: '[not provided]',
      Company: 'Maple Grove Senior Living',
      Status: 'Open - Not Contacted',
    });
  });

  test('repeating a push is idempotent: one Lead, the same Status, confirmed each time', async () => {
    const repeated = lead();
    const statusPush = push(repeated, 'lost');

    const first = await outbound.pushStatus(connection(), statusPush);
    const second = await outbound.pushStatus(connection(), statusPush);
    const third = await outbound.pushStatus(connection(), {
      ...statusPush,
      lead: { ...repeated, externalId: externalIdOf(first) },
    });

    expect(first).toMatchObject({ outcome: 'success', createdRecord: true });
    expect(second).toMatchObject({ outcome: 'success', createdRecord: false });
    expect(third).toMatchObject({ outcome: 'success', createdRecord: false });
    expect(new Set([first, second, third].map(externalIdOf)).size).toBe(1);
    const holders = [...sandbox.leads.values()].filter((l) => l.fields.LeadRelay_Id__c === repeated.leadId);
    expect(holders).toHaveLength(1);
    expect(holders[0]!.fields.Status).toBe('Closed - Not Converted');
  });

  test("staff's edits on an existing Lead survive a repeat upsert (no placeholder over LastName or Company)", async () => {
    const edited = lead({ lastName: undefined });
    const first = await outbound.pushStatus(connection(), push(edited, 'new'));
    const id = externalIdOf(first)!;
    Object.assign(sandbox.lead(id)!.fields, { LastName: 'Whitaker', Company: 'Whitaker Family' });

    await outbound.pushStatus(connection(), push(edited, 'contacted'));

    expect(sandbox.lead(id)!.fields).toMatchObject({
      LastName: 'Whitaker',
      Company: 'Whitaker Family',
      Status: 'Working - Contacted',
    });
  });

  test('a Lead made in Salesforce is linked to our id and its Status written, its contact fields untouched', async () => {
    const existing = sandbox.addLead({
      FirstName: 'Harold',
      LastName: 'Nguyen',
      Company: 'Nguyen Household',
    });
    const before = sandbox.requests.items.length;

    const linked = await outbound.upsertLead!(
      connection(),
      lead({ externalId: existing.Id, firstName: 'Other' }),
    );
    const result = await outbound.pushStatus(
      connection(),
      push(lead({ externalId: existing.Id }), 'qualified', {
        value: '',
      }),
    );

    expect(linked).toEqual({ externalId: existing.Id, created: false, code: 204 });
    expect(sandbox.lead(existing.Id)!.fields).toMatchObject({ FirstName: 'Harold', LastName: 'Nguyen' });
    expect(typeof sandbox.lead(existing.Id)!.fields.LeadRelay_Id__c).toBe('string');
    // Salesforce's default picklist has no word for qualified: nothing to write, and nothing sent.
    expect(result).toEqual({ outcome: 'skipped', detail: 'no Lead Status value for qualified' });
    expect(requestsSince(before)).toHaveLength(2);
  });

  test('status_map from config writes the org’s own picklist value', async () => {
    sandbox.statusValues.push('Tour Booked');
    try {
      const toured = lead();
      const result = await outbound.pushStatus(
        connection({ config: { status_map: { tour_scheduled: 'Tour Booked' } } }),
        push(toured, 'tour_scheduled', { value: '' }),
      );
      expect(result).toMatchObject({ outcome: 'success', readBack: 'confirmed' });
      expect(sandbox.leadBy('LeadRelay_Id__c', toured.leadId)!.fields.Status).toBe('Tour Booked');
    } finally {
      sandbox.statusValues.pop();
    }
  });

  test('a Lead deleted in Salesforce is found again (or re-created) by our external id', async () => {
    const gone = lead();
    const first = await outbound.pushStatus(connection(), push(gone, 'new'));
    const oldId = externalIdOf(first)!;
    sandbox.deleteLead(oldId);

    const result = await outbound.pushStatus(connection(), push({ ...gone, externalId: oldId }, 'contacted'));

    const recreated = sandbox.leadBy('LeadRelay_Id__c', gone.leadId)!;
    expect(recreated.Id).not.toBe(oldId);
    expect(result).toMatchObject({ outcome: 'success', externalId: recreated.Id, createdRecord: true });
    expect(recreated.fields.Status).toBe('Working - Contacted');
  });

  test('a converted Lead is a conflict, not an error to retry', async () => {
    const converted = lead();
    const id = externalIdOf(await outbound.pushStatus(connection(), push(converted, 'contacted')))!;
    sandbox.convertLead(id);

    const result = await outbound.pushStatus(connection(), push({ ...converted, externalId: id }, 'lost'));

    expect(result).toEqual({
      outcome: 'conflict',
      code: 400,
      externalId: id,
      detail: 'the Lead was converted in Salesforce; a converted Lead cannot be updated',
    });
  });

  test('ignoreWrites: Salesforce answers 204 but the read-back shows the old Status → not_applied', async () => {
    const ignored = lead();
    const id = externalIdOf(await outbound.pushStatus(connection(), push(ignored, 'new')))!;
    sandbox.ignoreWrites = true;

    const result = await outbound.pushStatus(connection(), push({ ...ignored, externalId: id }, 'contacted'));

    expect(result).toEqual({
      outcome: 'not_applied',
      code: 204,
      externalId: id,
      detail: 'Status reads "Open - Not Contacted" after writing "Working - Contacted"',
    });
  });

  test('before API v46 an update answers 204 without a body: the Id is read by external id', async () => {
    const old = lead();
    const config = { api_version: 'v45.0' };
    const created = await outbound.upsertLead!(connection({ config }), old);
    const updated = await outbound.upsertLead!(connection({ config }), old);
    expect(created).toMatchObject({ created: true, code: 201 });
    expect(updated).toEqual({ externalId: created.externalId, created: false, code: 204 });
  });

  test('upsertLead on API v60 answers 200 with created: false on the second call', async () => {
    const again = lead();
    const created = await outbound.upsertLead!(connection(), again);
    expect(await outbound.upsertLead!(connection(), again)).toEqual({
      externalId: created.externalId,
      created: false,
      code: 200,
    });
  });
});

describe('auth', () => {
  test('a given access token is used as is, without a token request', async () => {
    const tokensBefore = sandbox.tokenRequests;
    const result = await outbound.pushStatus(
      connection({ credentials: { access_token: sandbox.issueSession() } }),
      push(lead()),
    );
    expect(result.outcome).toBe('success');
    expect(sandbox.tokenRequests).toBe(tokensBefore);
  });

  test('an expired given token is replaced once through client credentials', async () => {
    const stale = sandbox.issueSession();
    sandbox.revokeSessions();
    const tokensBefore = sandbox.tokenRequests;

    const result = await outbound.pushStatus(
      connection({
        credentials: {
          access_token: stale,
          client_id: sandbox.clientId,
          client_secret: sandbox.clientSecret,
        },
      }),
      push(lead()),
    );

    expect(result.outcome).toBe('success');
    expect(sandbox.tokenRequests - tokensBefore).toBe(1);
  });

  test('401 INVALID_SESSION_ID again after the refresh is final, with one refresh only', async () => {
    sandbox.faults.push(
      { status: 401, pathIncludes: '/sobjects/' },
      { status: 401, pathIncludes: '/sobjects/' },
    );
    const tokensBefore = sandbox.tokenRequests;

    const error = await partnerError(outbound.pushStatus(connection(), push(lead())));

    expect(error).toMatchObject({ kind: 'final', status: 401 });
    expect(error.details.partnerCode).toBe('INVALID_SESSION_ID');
    expect(error.message).toContain('Session expired or invalid');
    expect(sandbox.tokenRequests - tokensBefore).toBe(2);
  });

  test('a bad token without client credentials is final at once', async () => {
    const tokensBefore = sandbox.tokenRequests;
    const error = await partnerError(
      outbound.pushStatus(connection({ credentials: { access_token: '00Dfake!expired' } }), push(lead())),
    );
    expect(error).toMatchObject({ kind: 'final', status: 401 });
    expect(error.details.partnerCode).toBe('INVALID_SESSION_ID');
    expect(sandbox.tokenRequests).toBe(tokensBefore);
  });

  test("a wrong client secret is final with the token endpoint's own error", async () => {
    const error = await partnerError(
      outbound.testConnection(
        connection({ credentials: { client_id: sandbox.clientId, client_secret: 'wrong' } }),
      ),
    );
    expect(error).toMatchObject({ kind: 'final', status: 400 });
    expect(error.details.partnerCode).toBe('invalid_client');
    expect(error.message).toContain('invalid client credentials');
  });

  test('no credentials at all is final before any request', async () => {
    const before = sandbox.requests.items.length;
    const error = await partnerError(outbound.pushStatus(connection({ credentials: {} }), push(lead())));
    expect(error.kind).toBe('final');
    expect(error.message).toContain('credentials.client_id');
    expect(sandbox.requests.items.length).toBe(before);
  });
});

describe('errors', () => {
  test('a Status outside the restricted picklist is a final 400 naming the field; the Lead keeps its Status', async () => {
    const invalid = lead();
    const id = externalIdOf(await outbound.pushStatus(connection(), push(invalid, 'new')))!;

    const error = await partnerError(
      outbound.pushStatus(
        connection({ config: { status_map: { contacted: 'Left Voicemail' } } }),
        push({ ...invalid, externalId: id }, 'contacted'),
      ),
    );

    expect(error).toMatchObject({ kind: 'final', status: 400 });
    expect(error.details.partnerCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    expect(error.message).toContain(
      'bad value for restricted picklist field: Left Voicemail (fields: Status)',
    );
    expect(sandbox.lead(id)!.fields.Status).toBe('Open - Not Contacted');
  });

  test('a field the org requires and we do not have is a final REQUIRED_FIELD_MISSING', async () => {
    sandbox.requiredFields.add('LeadSource');
    const error = await partnerError(outbound.pushStatus(connection(), push(lead())));
    expect(error).toMatchObject({ kind: 'final', status: 400 });
    expect(error.details.partnerCode).toBe('REQUIRED_FIELD_MISSING');
    expect(error.message).toContain('Required fields are missing: [Company, LeadSource]');
  });

  test('a custom field the org lacks is a final INVALID_FIELD', async () => {
    const error = await partnerError(
      outbound.pushStatus(connection({ config: { origin_field: 'Origin_Typo__c' } }), push(lead())),
    );
    expect(error).toMatchObject({ kind: 'final', status: 400 });
    expect(error.details.partnerCode).toBe('INVALID_FIELD');
    expect(error.message).toContain("No such column 'Origin_Typo__c' on sobject of type Lead");
  });

  test('429 with Retry-After is retryable and carries the wait', async () => {
    sandbox.faults.push({ status: 429, retryAfterSeconds: 12, pathIncludes: '/sobjects/' });
    const error = await partnerError(outbound.pushStatus(connection(), push(lead())));
    expect(error).toMatchObject({ kind: 'retryable', status: 429 });
    expect(error.details.retryAfterMs).toBe(12_000);
  });

  test('403 REQUEST_LIMIT_EXCEEDED (the org used its daily API calls) is retryable', async () => {
    sandbox.faults.push({ status: 403, pathIncludes: '/sobjects/' });
    const error = await partnerError(outbound.pushStatus(connection(), push(lead())));
    expect(error).toMatchObject({ kind: 'retryable', status: 403 });
    expect(error.details.partnerCode).toBe('REQUEST_LIMIT_EXCEEDED');
  });

  test.each([500, 503])('%i is retryable, at the token endpoint too', async (status) => {
    sandbox.faults.push({ status, pathIncludes: '/sobjects/' });
    expect(await partnerError(outbound.pushStatus(connection(), push(lead())))).toMatchObject({
      kind: 'retryable',
      status,
    });
    sandbox.faults.push({ status, pathIncludes: '/oauth2/token' });
    expect(await partnerError(outbound.testConnection(connection()))).toMatchObject({
      kind: 'retryable',
      status,
    });
  });

  test('a partner slower than timeoutMs is a retryable timeout', async () => {
    sandbox.faults.push({ delayMs: 400, pathIncludes: '/sobjects/' });
    const error = await partnerError(outbound.pushStatus(connection({ timeoutMs: 100 }), push(lead())));
    expect(error.kind).toBe('retryable');
    expect(error.status).toBeUndefined();
    expect(error.message).toMatch(
      /^salesforce did not answer PATCH \/services\/data\/v60\.0\/sobjects\/Lead\/\S+ within 100 ms$/,
    );
  });

  test('Salesforce down is retryable', async () => {
    sandbox.down = true;
    expect(await partnerError(outbound.testConnection(connection()))).toMatchObject({
      kind: 'retryable',
      status: 503,
    });
  });
});

describe('testConnection', () => {
  test('passes with a token, the Lead describe and our fields, and reports API usage', async () => {
    const { detail } = await outbound.testConnection(connection());
    expect(detail).toMatch(
      /^Lead describe readable; Status takes all 4 mapped values; leadrelay fields present; API usage \d+\/15000$/,
    );
  });

  test('fails final naming the fields and picklist values the org lacks', async () => {
    const bare = await startSalesforceSandbox({
      customFields: ['LeadRelay_Origin__c'],
      statusValues: ['Open - Not Contacted', 'Working - Contacted', 'Closed - Not Converted'],
    });
    try {
      const error = await partnerError(outbound.testConnection(connection({}, bare)));
      expect(error.kind).toBe('final');
      expect(error.message).toContain('Lead has no field LeadRelay_Id__c (Text, External ID, Unique)');
      expect(error.message).toContain('Lead has no field LeadRelay_Causation_Id__c (Text)');
      expect(error.message).toContain('Lead Status has no active value "Closed - Converted"');
    } finally {
      await bare.close();
    }
  });
});

describe('registration, schemas and the sandbox twin', () => {
  test('Salesforce is registered with an outbound side, no inbound side, and no webhook secret', () => {
    const adapter = partnerAdapter('salesforce')!;
    expect(adapter.partner).toBe('salesforce');
    expect(adapter.inbound).toBeUndefined();
    expect(adapter.outbound).toBeDefined();
    expect(adapter.integration.webhookSecret).toEqual({ kind: 'none' });
  });

  test('config needs the My Domain URL; credentials need a client pair or an access token', () => {
    expect(SalesforceConfig.parse({ base_url: 'https://acme.my.salesforce.com' })).toMatchObject({
      api_version: 'v60.0',
      external_id_field: 'LeadRelay_Id__c',
      origin_field: 'LeadRelay_Origin__c',
      causation_field: 'LeadRelay_Causation_Id__c',
      default_company: '[not provided]',
    });
    expect(SalesforceConfig.safeParse({}).success).toBe(false);
    expect(
      SalesforceConfig.safeParse({ base_url: 'https://x.my.salesforce.com', api_version: '60' }).success,
    ).toBe(false);
    expect(SalesforceCredentials.safeParse({ client_id: 'a', client_secret: 'b' }).success).toBe(true);
    expect(SalesforceCredentials.safeParse({ access_token: 't' }).success).toBe(true);
    const partial = SalesforceCredentials.safeParse({ client_id: 'a' });
    expect(partial.success).toBe(false);
    expect(partial.error!.issues[0]!.path).toEqual(['client_secret']);
  });

  test('config and credentials render as JSON Schema forms with a description on every field', () => {
    for (const schema of [SalesforceConfig, SalesforceCredentials]) {
      const json = z.toJSONSchema(schema, { io: 'input' }) as {
        properties: Record<string, { description?: string }>;
      };
      for (const [name, field] of Object.entries(json.properties)) {
        expect([name, typeof field.description]).toEqual([name, 'string']);
      }
    }
  });

  test("the sandbox answers in Salesforce's documented shapes", async () => {
    const keys = (body: object) => Object.keys(body).sort();
    const token = await fetch(`${sandbox.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: sandbox.clientId,
        client_secret: sandbox.clientSecret,
      }),
    });
    const tokenBody = (await token.json()) as Record<string, string>;
    expect(keys(tokenBody)).toEqual(keys(fixture('token.json')));

    const badClient = await fetch(`${sandbox.url}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: sandbox.clientId,
        client_secret: 'x',
      }),
    });
    expect(await badClient.json()).toEqual(fixture('error-invalid-client.json'));

    const session = await fetch(`${sandbox.url}/services/data/v60.0/limits`, {
      headers: { authorization: 'Bearer x' },
    });
    expect([session.status, await session.json()]).toEqual([401, fixture('error-session.json')]);

    const auth = { authorization: `Bearer ${tokenBody.access_token}`, 'content-type': 'application/json' };
    const required = await fetch(`${sandbox.url}/services/data/v60.0/sobjects/Lead`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ FirstName: 'Ada' }),
    });
    expect([required.status, await required.json()]).toEqual([400, fixture('error-required-field.json')]);

    const upsert = await fetch(
      `${sandbox.url}/services/data/v60.0/sobjects/Lead/LeadRelay_Id__c/${randomUUID()}`,
      {
        method: 'PATCH',
        headers: auth,
        body: JSON.stringify({ LastName: 'Lovelace', Company: 'Analytical Engines' }),
      },
    );
    expect(upsert.status).toBe(201);
    expect(keys((await upsert.json()) as object)).toEqual(keys(fixture('upsert-created.json')));
    expect(upsert.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/15000$/);
  });
});
