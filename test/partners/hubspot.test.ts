// The HubSpot adapter's outbound half against its sandbox twin over real HTTP: contact upsert, stage push with
// origin and causation, read-back, and how every kind of HubSpot answer is sorted (final, retryable, not applied).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { hubspot, HubSpotConfig, HubSpotCredentials } from '../../activities/partners/hubspot';
import type { PartnerConnection, PartnerLead, StatusPush } from '../../activities/partners/types';
import { fromCanonical, type LeadStatus } from '../../shared/lifecycle';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../infra/sandbox/hubspot';
import { partnerError, statusPush } from './support';
import { fixture as partnerFixture } from '../support/fixtures';

const outbound = hubspot.outbound!;
let sandbox: HubSpotSandbox;

beforeAll(async () => {
  sandbox = await startHubSpotSandbox();
});

afterAll(async () => {
  await sandbox.close();
});

afterEach(() => {
  sandbox.faults.length = 0;
  sandbox.down = false;
  sandbox.ignoreWrites = false;
  sandbox.rateLimit = { max: 190, intervalMs: 10_000 };
});

const fixture = (name: string): any => partnerFixture('hubspot', name);

function connection(
  overrides: {
    config?: Record<string, unknown>;
    credentials?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): PartnerConnection {
  return {
    integrationId: 'b3c1e7a2-0f4d-4a59-9f1e-7d2c6a8b5e01',
    workspaceId: 'ws_hubspot_partner_test',
    config: { portal_id: 62515, base_url: sandbox.url, ...overrides.config },
    credentials: {
      client_secret: 'hubspot-client-secret-4f1a9c',
      access_token: sandbox.accessToken,
      ...overrides.credentials,
    },
    timeoutMs: overrides.timeoutMs ?? 5_000,
  };
}

let counter = 0;
function lead(overrides: Partial<PartnerLead> = {}): PartnerLead {
  counter += 1;
  return {
    leadId: randomUUID(),
    firstName: 'Maya',
    lastName: 'Okafor',
    email: `maya.okafor.${counter}.${Date.now()}@example.com`,
    phone: '+15125550142',
    source: 'webform',
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
    fromCanonical('hubspot', status) ?? '',
    '2025-03-04T15:30:00.000Z',
    overrides,
  );
}

const requestsSince = (start: number) => sandbox.requests.items.slice(start);

describe('push and read-back', () => {
  test('a new lead: upserted by email, named, stage written with origin and causation, then read back', async () => {
    const newLead = lead();
    const before = sandbox.requests.items.length;
    const statusPush = push(newLead, 'contacted', { origin: 'partner:resman' });

    const result = await outbound.pushStatus(connection(), statusPush);

    expect(result).toMatchObject({
      outcome: 'success',
      code: 200,
      createdRecord: true,
      readBack: 'confirmed',
    });
    const contact = sandbox.contactByEmail(newLead.email!)!;
    expect(result.outcome === 'success' && result.externalId).toBe(contact.id);
    expect(contact.properties).toMatchObject({
      email: newLead.email,
      firstname: 'Maya',
      lastname: 'Okafor',
      phone: '+15125550142',
      hs_lead_status: 'ATTEMPTED_TO_CONTACT',
      leadrelay_origin: 'partner:resman',
      leadrelay_causation_id: statusPush.causationId,
      leadrelay_lead_id: newLead.leadId,
    });
    const calls = requestsSince(before).map((r) => `${r.method} ${r.url.split('?')[0]}`);
    expect(calls).toEqual([
      'POST /crm/v3/objects/contacts/batch/upsert',
      `PATCH /crm/v3/objects/contacts/${contact.id}`,
      `PATCH /crm/v3/objects/contacts/${contact.id}`,
      `GET /crm/v3/objects/contacts/${contact.id}`,
    ]);
    const upsert = JSON.parse(requestsSince(before)[0]!.body);
    expect(upsert.inputs[0]).toMatchObject({ idProperty: 'email', id: newLead.email });
    expect(requestsSince(before)[0]!.headers.authorization).toBe(`Bearer ${sandbox.accessToken}`);
  });

  test('a person HubSpot already knew by email is reused, not duplicated, and their name is left alone', async () => {
    const known = lead();
    const existing = sandbox.addContact({ email: known.email!, firstname: 'Maia', lastname: 'Okafor-Reyes' });

    const result = await outbound.pushStatus(connection(), push(known, 'qualified'));

    expect(result).toMatchObject({ outcome: 'success', externalId: existing.id, createdRecord: false });
    expect(sandbox.contact(existing.id)!.properties).toMatchObject({
      firstname: 'Maia',
      lastname: 'Okafor-Reyes',
      hs_lead_status: 'IN_PROGRESS',
      leadrelay_lead_id: known.leadId,
    });
    expect([...sandbox.contacts.values()].filter((c) => c.properties.email === known.email)).toHaveLength(1);
  });

  test('a lead without email is upserted by the unique leadrelay_lead_id property', async () => {
    const noEmail = lead({ email: undefined, firstName: 'Jonah', lastName: 'Whitfield' });
    const before = sandbox.requests.items.length;

    const result = await outbound.pushStatus(connection(), push(noEmail, 'new'));

    const contact = sandbox.contactBy('leadrelay_lead_id', noEmail.leadId)!;
    expect(result).toMatchObject({ outcome: 'success', externalId: contact.id, createdRecord: true });
    expect(contact.properties).toMatchObject({
      firstname: 'Jonah',
      lastname: 'Whitfield',
      hs_lead_status: 'NEW',
    });
    expect(contact.properties.email).toBeUndefined();
    expect(JSON.parse(requestsSince(before)[0]!.body).inputs[0]).toMatchObject({
      idProperty: 'leadrelay_lead_id',
      id: noEmail.leadId,
    });
  });

  test('repeating a push is idempotent: one contact, the same value, confirmed each time', async () => {
    const repeated = lead();
    const statusPush = push(repeated, 'lost');

    const first = await outbound.pushStatus(connection(), statusPush);
    // A retry before the first answer was stored: the external id is still unknown.
    const second = await outbound.pushStatus(connection(), statusPush);
    const third = await outbound.pushStatus(connection(), {
      ...statusPush,
      lead: { ...repeated, externalId: first.outcome === 'success' ? first.externalId : undefined },
    });

    expect(first).toMatchObject({ outcome: 'success', createdRecord: true });
    expect(second).toMatchObject({ outcome: 'success', createdRecord: false });
    expect(third).toMatchObject({ outcome: 'success', createdRecord: false });
    const ids = [first, second, third].map((r) => (r.outcome === 'success' ? r.externalId : undefined));
    expect(new Set(ids).size).toBe(1);
    const holders = [...sandbox.contacts.values()].filter(
      (c) => c.properties.leadrelay_lead_id === repeated.leadId,
    );
    expect(holders).toHaveLength(1);
    expect(holders[0]!.properties.hs_lead_status).toBe('UNQUALIFIED');
  });

  test('a known contact is written by id, without touching its contact fields when it is not ours', async () => {
    const existing = sandbox.addContact({ firstname: 'Ruth', lastname: 'Adeyemi', hs_lead_status: 'NEW' });
    const before = sandbox.requests.items.length;

    const result = await outbound.pushStatus(
      connection(),
      push(lead({ externalId: existing.id, firstName: 'Someone', lastName: 'Else' }), 'contacted'),
    );

    expect(result).toMatchObject({ outcome: 'success', externalId: existing.id, createdRecord: false });
    expect(sandbox.contact(existing.id)!.properties).toMatchObject({
      firstname: 'Ruth',
      lastname: 'Adeyemi',
      hs_lead_status: 'ATTEMPTED_TO_CONTACT',
    });
    expect(requestsSince(before).map((r) => r.method)).toEqual(['PATCH', 'GET']);
  });

  test('a known contact deleted in HubSpot is found again by email and written', async () => {
    const gone = lead();
    const first = await outbound.pushStatus(connection(), push(gone, 'new'));
    const oldId = first.outcome === 'success' ? first.externalId! : '';
    sandbox.deleteContact(oldId);

    const result = await outbound.pushStatus(connection(), push({ ...gone, externalId: oldId }, 'contacted'));

    const recreated = sandbox.contactByEmail(gone.email!)!;
    expect(recreated.id).not.toBe(oldId);
    expect(result).toMatchObject({ outcome: 'success', externalId: recreated.id, createdRecord: true });
    expect(recreated.properties.hs_lead_status).toBe('ATTEMPTED_TO_CONTACT');
  });

  test('status_map and lifecycle_stage_map from config are written and both read back', async () => {
    const mapped = lead();
    const config = {
      status_map: { qualified: 'CONNECTED' },
      lifecycle_stage_map: { qualified: 'salesqualifiedlead' },
    };

    const result = await outbound.pushStatus(connection({ config }), push(mapped, 'qualified'));

    expect(result).toMatchObject({ outcome: 'success', readBack: 'confirmed' });
    expect(sandbox.contactByEmail(mapped.email!)!.properties).toMatchObject({
      hs_lead_status: 'CONNECTED',
      lifecyclestage: 'salesqualifiedlead',
    });
  });

  test('a status HubSpot has no word for, and no mapping, is skipped without a request', async () => {
    const before = sandbox.requests.items.length;
    const result = await outbound.pushStatus(connection(), push(lead(), 'tour_scheduled', { value: '' }));
    expect(result).toEqual({ outcome: 'skipped', detail: 'no hs_lead_status value for tour_scheduled' });
    expect(sandbox.requests.items.length).toBe(before);
  });

  test('ignoreWrites: HubSpot answers 200 but the read-back shows the old value → not_applied', async () => {
    const ignored = lead();
    const first = await outbound.pushStatus(connection(), push(ignored, 'new'));
    const id = first.outcome === 'success' ? first.externalId : undefined;
    sandbox.ignoreWrites = true;

    const result = await outbound.pushStatus(connection(), push({ ...ignored, externalId: id }, 'qualified'));

    expect(result).toEqual({
      outcome: 'not_applied',
      code: 200,
      externalId: id,
      detail: 'hs_lead_status reads "NEW" after writing "IN_PROGRESS"',
    });
    expect(sandbox.contact(id!)!.properties.hs_lead_status).toBe('NEW');
  });

  test('upsertLead answers the contact id and whether it was created', async () => {
    const upserted = lead();
    const created = await outbound.upsertLead!(connection(), upserted);
    const again = await outbound.upsertLead!(connection(), upserted);
    expect(created).toEqual({
      externalId: sandbox.contactByEmail(upserted.email!)!.id,
      created: true,
      code: 200,
    });
    expect(again).toEqual({ externalId: created.externalId, created: false, code: 200 });
  });

  test('a conflict on the unique lead id property takes the contact HubSpot names', async () => {
    const moved = lead({ email: undefined });
    const first = await outbound.upsertLead!(connection(), moved);
    // The lead gains an email that belongs to nobody yet: HubSpot refuses a second holder of our lead id.
    const answer = await outbound.upsertLead!(connection(), {
      ...moved,
      email: `new.${moved.leadId}@example.com`,
    });
    expect(answer).toEqual({ externalId: first.externalId, created: false, code: 409 });
  });
});

describe('errors', () => {
  test('no access token: a final error naming credentials.access_token, and no request', async () => {
    const before = sandbox.requests.items.length;
    const error = await partnerError(
      outbound.pushStatus(connection({ credentials: { access_token: '' } }), push(lead())),
    );
    expect(error.kind).toBe('final');
    expect(error.message).toContain('credentials.access_token');
    expect(
      (await partnerError(outbound.testConnection(connection({ credentials: { access_token: '' } })))).kind,
    ).toBe('final');
    expect(sandbox.requests.items.length).toBe(before);
  });

  test("a bad token is final with HubSpot's own message and category", async () => {
    const error = await partnerError(
      outbound.pushStatus(connection({ credentials: { access_token: 'pat-na1-revoked' } }), push(lead())),
    );
    expect(error).toMatchObject({ kind: 'final', status: 401 });
    expect(error.details.partnerCode).toBe('INVALID_AUTHENTICATION');
    expect(error.message).toContain('Authentication credentials not found');
  });

  test('a stage value HubSpot does not define is a final 400 VALIDATION_ERROR, and nothing changes', async () => {
    const invalid = lead();
    const first = await outbound.pushStatus(connection(), push(invalid, 'new'));
    const id = first.outcome === 'success' ? first.externalId : undefined;

    const error = await partnerError(
      outbound.pushStatus(
        connection({ config: { status_map: { contacted: 'MAYBE_LATER' } } }),
        push({ ...invalid, externalId: id }, 'contacted'),
      ),
    );

    expect(error).toMatchObject({ kind: 'final', status: 400 });
    expect(error.details.partnerCode).toBe('VALIDATION_ERROR');
    expect(error.message).toContain('MAYBE_LATER was not one of the allowed options');
    expect(sandbox.contact(id!)!.properties.hs_lead_status).toBe('NEW');
  });

  test('a config the schema refuses is final and names the field', async () => {
    const error = await partnerError(
      outbound.pushStatus(connection({ config: { stage_property: 'Lead Status' } }), push(lead())),
    );
    expect(error.kind).toBe('final');
    expect(error.message).toContain('config.stage_property');
  });

  test('429 with Retry-After is retryable and carries the wait', async () => {
    sandbox.faults.push({ status: 429, retryAfterSeconds: 7, pathIncludes: '/crm/v3/objects/contacts' });
    const error = await partnerError(outbound.pushStatus(connection(), push(lead())));
    expect(error).toMatchObject({ kind: 'retryable', status: 429 });
    expect(error.details).toMatchObject({ retryAfterMs: 7_000, partnerCode: 'TEN_SECONDLY_ROLLING' });
    expect(error.message).toContain('ten_secondly_rolling');
  });

  test("HubSpot's own ten-secondly limit (no Retry-After) waits the Interval-Milliseconds header", async () => {
    sandbox.rateLimit = { max: 1, intervalMs: 10_000 };
    const error = await partnerError(outbound.testConnection(connection()));
    const limited = sandbox.requests.items.at(-1)!;
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeUndefined();
    expect(error).toMatchObject({ kind: 'retryable', status: 429 });
    expect(error.details).toMatchObject({ retryAfterMs: 10_000, partnerCode: 'TEN_SECONDLY_ROLLING' });
  });

  test.each([500, 502, 503])('%i is retryable', async (status) => {
    sandbox.faults.push({ status, pathIncludes: '/crm/v3/objects/contacts' });
    const error = await partnerError(outbound.pushStatus(connection(), push(lead())));
    expect(error).toMatchObject({ kind: 'retryable', status });
  });

  test('a partner slower than timeoutMs is a retryable timeout', async () => {
    sandbox.faults.push({ delayMs: 400, pathIncludes: '/batch/upsert' });
    const error = await partnerError(outbound.pushStatus(connection({ timeoutMs: 100 }), push(lead())));
    expect(error.kind).toBe('retryable');
    expect(error.status).toBeUndefined();
    expect(error.message).toBe(
      'hubspot did not answer POST /crm/v3/objects/contacts/batch/upsert within 100 ms',
    );
  });

  test('HubSpot down is retryable', async () => {
    sandbox.down = true;
    const error = await partnerError(outbound.testConnection(connection()));
    expect(error).toMatchObject({ kind: 'retryable', status: 503 });
  });
});

describe('testConnection', () => {
  test('passes when the token reads contacts and the portal has our properties and options', async () => {
    await expect(outbound.testConnection(connection())).resolves.toEqual({
      detail: 'contacts readable; hs_lead_status takes all 5 mapped values; leadrelay properties present',
    });
  });

  test('fails final naming what the portal lacks', async () => {
    const bare = await startHubSpotSandbox({
      omitProperties: ['leadrelay_causation_id', 'leadrelay_lead_id'],
    });
    try {
      const error = await partnerError(
        outbound.testConnection(
          connection({
            config: { base_url: bare.url, status_map: { toured: 'TOURED' } },
            credentials: { access_token: bare.accessToken },
          }),
        ),
      );
      expect(error.kind).toBe('final');
      expect(error.message).toContain('hs_lead_status has no option TOURED');
      expect(error.message).toContain('custom property leadrelay_causation_id does not exist');
      expect(error.message).toContain('custom property leadrelay_lead_id does not exist');
    } finally {
      await bare.close();
    }
  });

  test('fails when the lead id property does not require unique values', async () => {
    const loose = await startHubSpotSandbox();
    loose.properties.get('leadrelay_lead_id')!.hasUniqueValue = false;
    try {
      const error = await partnerError(
        outbound.testConnection(
          connection({ config: { base_url: loose.url }, credentials: { access_token: loose.accessToken } }),
        ),
      );
      expect(error.message).toContain('leadrelay_lead_id must require unique values');
    } finally {
      await loose.close();
    }
  });

  test('a bad token fails final', async () => {
    const error = await partnerError(
      outbound.testConnection(connection({ credentials: { access_token: 'nope' } })),
    );
    expect(error).toMatchObject({ kind: 'final', status: 401 });
  });
});

describe('schemas and the sandbox twin', () => {
  test('existing inbound integrations still validate; outbound fields are optional with defaults', () => {
    expect(HubSpotConfig.parse({ portal_id: 62515 })).toMatchObject({
      portal_id: 62515,
      base_url: 'https://api.hubapi.com',
      stage_property: 'hs_lead_status',
      origin_property: 'leadrelay_origin',
      causation_property: 'leadrelay_causation_id',
      lead_id_property: 'leadrelay_lead_id',
    });
    expect(HubSpotCredentials.safeParse({ client_secret: 'hubspot-client-secret-4f1a9c' }).success).toBe(
      true,
    );
    expect(HubSpotCredentials.safeParse({ access_token: 'pat-na1-x' }).success).toBe(false);
    expect(HubSpotConfig.safeParse({ status_map: { toured_twice: 'X' } }).success).toBe(false);
  });

  test('config and credentials render as JSON Schema forms with a description on every field', () => {
    for (const schema of [HubSpotConfig, HubSpotCredentials]) {
      const json = z.toJSONSchema(schema, { io: 'input' }) as {
        properties: Record<string, { description?: string }>;
      };
      for (const [name, field] of Object.entries(json.properties)) {
        expect([name, typeof field.description]).toEqual([name, 'string']);
      }
    }
  });

  test("the sandbox answers in HubSpot's documented error shapes", async () => {
    const answer = async (path: string, init: RequestInit) => {
      const response = await fetch(`${sandbox.url}${path}`, init);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const keys = (body: object) => Object.keys(body).sort();
    const auth = { authorization: `Bearer ${sandbox.accessToken}`, 'content-type': 'application/json' };

    const unauthorized = await answer('/crm/v3/objects/contacts?limit=1', {});
    expect(unauthorized.status).toBe(401);
    expect(keys(unauthorized.body)).toEqual(keys(fixture('error-authentication.json')));
    expect(unauthorized.body.message).toBe(fixture('error-authentication.json').message);

    const invalid = await answer('/crm/v3/objects/contacts', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ properties: { hs_lead_status: 'MAYBE_LATER' } }),
    });
    expect(invalid.status).toBe(400);
    expect(keys(invalid.body)).toEqual(keys(fixture('error-validation.json')));
    expect(invalid.body.message).toBe(fixture('error-validation.json').message);

    const email = `conflict.${Date.now()}@example.com`;
    const existing = sandbox.addContact({ email });
    const conflict = await answer('/crm/v3/objects/contacts', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ properties: { email } }),
    });
    expect(conflict.status).toBe(409);
    expect(keys(conflict.body)).toEqual(keys(fixture('error-conflict.json')));
    expect(conflict.body.message).toBe(`Contact already exists. Existing ID: ${existing.id}`);

    sandbox.rateLimit = { max: 0, intervalMs: 10_000 };
    const limited = await answer('/crm/v3/objects/contacts?limit=1', { headers: auth });
    expect(limited.status).toBe(429);
    expect(keys(limited.body)).toEqual(keys(fixture('error-rate-limit.json')));

    sandbox.rateLimit = { max: 190, intervalMs: 10_000 };
    const upsert = await answer('/crm/v3/objects/contacts/batch/upsert', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        inputs: [{ idProperty: 'email', id: `fresh.${Date.now()}@example.com`, properties: {} }],
      }),
    });
    const documented = fixture('batch-upsert-created.json');
    expect(keys(upsert.body)).toEqual(keys(documented));
    expect(keys((upsert.body.results as object[])[0]!)).toEqual(keys(documented.results[0]));
  });
});
