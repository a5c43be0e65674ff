// The ResMan adapter's outbound side against its sandbox twin over real HTTP: MITS prospect writes read back
// with SearchProspects, contact protection, ResMan's errors and faults, polling by modified windows, and the
// connection test.
import {
  RESMAN_WINDOW_MS,
  customerTypeFor,
  resman,
  resmanStatusWord,
  ResManConfig,
} from '../../activities/partners/resman';
import { parseResManAnswer, prospectsOf } from '../../activities/partners/resmanXml';
import type { PartnerConnection, PartnerLead, StatusPush } from '../../activities/partners/types';
import { startResManSandbox, type ResManSandbox } from '../../infra/sandbox/resman';
import type { LeadStatus } from '../../shared/lifecycle';
import { fixture as partnerFixture, fixtureText as partnerFixtureText } from '../support/fixtures';
import { contactConflict, partnerError, statusPush } from './support';

const fixtureText = (name: string) => partnerFixtureText('resman', name);
const fixture = <T>(name: string): T => partnerFixture<T>('resman', name);

const SOURCES = fixture<{ ProspectSources: { ID: string; Name: string }[] }>(
  'get-prospect-sources.json',
).ProspectSources;
const WEBSITE = SOURCES[0]!.ID;
const WALK_IN = SOURCES[2]!.ID;

const outbound = resman.outbound!;
let sandbox: ResManSandbox;

beforeAll(async () => {
  sandbox = await startResManSandbox({ sources: SOURCES });
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
): PartnerConnection {
  return {
    integrationId: 'int_resman_1',
    workspaceId: 'ws_1',
    propertyId: 'maple',
    config: {
      base_url: sandbox.url,
      property_id: sandbox.propertyId,
      default_source_id: WEBSITE,
      source_ids: { walk_in: WALK_IN },
      lost_reason_id: 'LR-PRICE',
      ...overrides.config,
    },
    credentials: overrides.credentials ?? { ...sandbox.credentials },
    timeoutMs: overrides.timeoutMs ?? 2000,
  };
}

function lead(overrides: Partial<PartnerLead> = {}): PartnerLead {
  return { ...fixture<PartnerLead>('outbound-lead.json'), ...overrides };
}

function push(status: LeadStatus, overrides: Partial<StatusPush> = {}): StatusPush {
  return statusPush(lead(), status, status, '2025-03-06T16:30:00Z', overrides);
}

const writes = () => sandbox.requests.items.filter((r) => r.url.includes('PostLeadManagement4_0'));
/** The MITS document of a recorded write, as ResMan would read the form's Xml field. */
const postedXml = (index: number) => new URLSearchParams(writes()[index]!.body).get('Xml') ?? '';

describe('pushStatus', () => {
  test('creates a prospect for a new lead with contact, first contact event and source, read back', async () => {
    const result = await outbound.pushStatus(connection(), push('new'));
    expect(result).toMatchObject({
      outcome: 'success',
      createdRecord: true,
      readBack: 'confirmed',
      code: 200,
    });
    const externalId = (result as { externalId: string }).externalId;
    const stored = sandbox.prospects.get(externalId)!;
    expect(stored).toMatchObject({
      type: 'prospect',
      firstName: 'Maya',
      lastName: 'Okafor',
      email: 'maya.okafor@example.com',
      phone: '+13035550147',
    });
    // webform has no mapping: the default source goes on the first-contact event.
    expect(stored.events).toEqual([
      expect.objectContaining({ type: 'Webservice', firstContact: true, transactionSource: WEBSITE }),
    ]);
    const form = new URLSearchParams(writes()[0]!.body);
    expect(Object.fromEntries([...form.keys()].map((k) => [k, true]))).toEqual({
      IntegrationPartnerID: true,
      ApiKey: true,
      AccountID: true,
      PropertyID: true,
      Xml: true,
    });
    expect(postedXml(0)).toMatch(
      /^<LeadManagement><Prospects><Prospect><Customers><Customer Type="prospect">/,
    );
  });

  test('moves a prospect we created to applicant with an event carrying origin and causation id', async () => {
    const created = await outbound.pushStatus(connection(), push('new'));
    const prospectId = (created as { externalId: string }).externalId;
    const result = await outbound.pushStatus(
      connection(),
      push('application', {
        lead: lead({ externalId: prospectId, createdByUs: true }),
        causationId: 'evt_app_77',
        idempotencyKey: 'sync_app_77',
        origin: 'chatbot',
      }),
    );
    expect(result).toEqual({ outcome: 'success', code: 200, externalId: prospectId, readBack: 'confirmed' });
    const stored = sandbox.prospects.get(prospectId)!;
    expect(stored.type).toBe('applicant');
    expect(stored.events.at(-1)).toMatchObject({
      type: 'Application',
      comments: expect.stringContaining('origin=chatbot causation=evt_app_77 key=sync_app_77'),
    });
    expect(postedXml(1)).toContain('<Identification IDType="ProspectID"');
    expect(postedXml(1)).toContain('<Email>maya.okafor@example.com</Email>');
  });

  test('marks a lost lead lost with a Cancel event and the configured lost reason', async () => {
    const seeded = sandbox.seedProspect({ ...lead(), createdAt: '2025-03-01T10:00:00Z' });
    const result = await outbound.pushStatus(
      connection(),
      push('lost', { lead: lead({ externalId: seeded.prospectId }), reason: 'signed elsewhere' }),
    );
    expect(result).toMatchObject({ outcome: 'success', readBack: 'confirmed' });
    expect(seeded.type).toBe('lost');
    expect(seeded.events.at(-1)).toMatchObject({
      type: 'Cancel',
      reasonId: 'LR-PRICE',
      comments: expect.stringMatching(/status=lost .* reason: signed elsewhere$/),
    });
  });

  test('a repeated push is recognised by its key and writes nothing twice', async () => {
    const seeded = sandbox.seedProspect({ ...lead() });
    const repeated = push('tour_scheduled', { lead: lead({ externalId: seeded.prospectId }) });
    const first = await outbound.pushStatus(connection(), repeated);
    const second = await outbound.pushStatus(connection(), repeated);
    expect(first).toMatchObject({ outcome: 'success', readBack: 'confirmed' });
    expect(second).toMatchObject({
      outcome: 'success',
      readBack: 'confirmed',
      externalId: seeded.prospectId,
    });
    expect(writes()).toHaveLength(1);
    expect(seeded.events.filter((e) => e.type === 'Appointment')).toHaveLength(1);
  });

  test('never writes contact fields over a ResMan record it did not create', async () => {
    const seeded = sandbox.seedProspect({ ...lead(), firstName: 'MAYA', phone: '303-555-0147' });
    const result = await outbound.pushStatus(
      connection(),
      push('toured', { lead: lead({ lastName: 'Okafor ' }) }),
    );
    // Matched by email, same person: linked, but not ours, so only the status goes over.
    expect(result).toMatchObject({ outcome: 'success', externalId: seeded.prospectId });
    expect(result).not.toHaveProperty('createdRecord');
    expect(postedXml(0)).not.toMatch(/<Name>|<Email>|<Phone/);
    expect(seeded.firstName).toBe('MAYA');
    expect(seeded.events.at(-1)?.type).toBe('Show');

    // Known by id but not created by us: still no contact fields.
    await outbound.pushStatus(
      connection(),
      push('application', { lead: lead({ externalId: seeded.prospectId, firstName: 'Mia' }) }),
    );
    expect(postedXml(1)).not.toMatch(/<Name>|<Email>|<Phone/);
    expect(seeded.firstName).toBe('MAYA');
  });

  test('a ResMan record with this email but another name is a conflict: nothing linked, nothing written', async () => {
    const resident = sandbox.seedProspect({
      firstName: 'Robert',
      lastName: 'Okafor',
      email: 'maya.okafor@example.com',
      type: 'current_resident',
    });
    const result = await outbound.pushStatus(connection(), push('contacted'));
    expect(result).toEqual(contactConflict(resident.prospectId, 'firstName'));
    expect(writes()).toHaveLength(0);
    expect(resident).toMatchObject({ firstName: 'Robert', type: 'current_resident' });
  });

  test('phones match as E.164: another format of the number links, the same ten digits abroad do not', async () => {
    // No email on ResMan's records: the phone search finds them (ResMan matches its last ten digits).
    const same = sandbox.seedProspect({ ...lead(), email: undefined, phone: '1 (303) 555-0147' });
    const linked = await outbound.pushStatus(connection(), push('contacted'));
    expect(linked).toMatchObject({ outcome: 'success', externalId: same.prospectId });
    expect(linked).not.toHaveProperty('createdRecord');

    sandbox.reset();
    const abroad = sandbox.seedProspect({ ...lead(), email: undefined, phone: '+44 303 555 0147' });
    const result = await outbound.pushStatus(connection(), push('contacted'));
    expect(result).toEqual(contactConflict(abroad.prospectId, 'phone'));
    expect(writes()).toHaveLength(0);
  });

  test('a source ResMan does not know is retried once with the default source', async () => {
    const result = await outbound.pushStatus(
      connection({ config: { source_ids: { webform: '00000000-0000-4000-8000-000000000000' } } }),
      push('new'),
    );
    expect(result).toMatchObject({ outcome: 'success', createdRecord: true });
    expect(writes().map((w) => w.status)).toEqual([200, 200]);
    const stored = sandbox.prospects.get((result as { externalId: string }).externalId)!;
    expect(stored.events[0]?.transactionSource).toBe(WEBSITE);
  });

  test("an unknown source with no default is final with ResMan's message", async () => {
    const error = await partnerError(
      outbound.pushStatus(connection({ config: { default_source_id: undefined } }), push('new')),
    );
    expect(error).toMatchObject({ kind: 'final', details: { partnerCode: 'transaction_source_not_found' } });
    expect(error.message).toContain('Transaction Source could not be found');
  });

  test("wrong credentials are a final error with ResMan's description", async () => {
    const error = await partnerError(
      outbound.pushStatus(
        connection({ credentials: { ...sandbox.credentials, api_key: 'wrong' } }),
        push('new'),
      ),
    );
    expect(error.kind).toBe('final');
    expect(error.message).toContain('Invalid IntegrationPartnerID or ApiKey');
  });

  test('a document ResMan refuses (no name for a new prospect) is final', async () => {
    const error = await partnerError(
      outbound.pushStatus(
        connection(),
        push('new', { lead: lead({ firstName: undefined, lastName: undefined }) }),
      ),
    );
    expect(error.kind).toBe('final');
    expect(error.message).toContain('Customer Name is required for a new prospect');
  });

  test('missing credentials or property fail clearly before any request', async () => {
    const before = sandbox.requests.items.length;
    const noCredentials = await partnerError(
      outbound.pushStatus(connection({ credentials: { integration_partner_id: '1000' } }), push('new')),
    );
    expect(noCredentials).toMatchObject({
      kind: 'final',
      message: 'resman credentials missing: api_key, account_id',
    });
    const noProperty = await partnerError(
      outbound.pushStatus(connection({ config: { property_id: undefined } }), push('new')),
    );
    expect(noProperty.message).toBe('resman config missing: property_id');
    expect(sandbox.requests.items.length).toBe(before);
  });

  test('a prospect id ResMan does not know is final', async () => {
    const error = await partnerError(
      outbound.pushStatus(
        connection(),
        push('toured', { lead: lead({ externalId: '9d5c1f0e-3b2a-4c8d-9e7f-6a5b4c3d2e1f' }) }),
      ),
    );
    expect(error).toMatchObject({ kind: 'final', details: { partnerCode: 'prospect_not_found' } });
  });

  test('429 with Retry-After is retryable after the time ResMan asked for', async () => {
    sandbox.faults.push({ status: 429, retryAfterSeconds: 7 });
    const error = await partnerError(outbound.pushStatus(connection(), push('new')));
    expect(error).toMatchObject({ kind: 'retryable', details: { status: 429, retryAfterMs: 7000 } });
  });

  test('5xx is retryable with the status kept', async () => {
    sandbox.faults.push({ status: 503, pathIncludes: 'PostLeadManagement' });
    const error = await partnerError(outbound.pushStatus(connection(), push('new')));
    expect(error).toMatchObject({ kind: 'retryable', details: { status: 503 } });
    expect(error.message).toContain('scripted 503');
  });

  test('an answer slower than the timeout is a retryable timeout', async () => {
    sandbox.faults.push({ delayMs: 1500 });
    const error = await partnerError(outbound.pushStatus(connection({ timeoutMs: 200 }), push('new')));
    expect(error.kind).toBe('retryable');
    expect(error.message).toContain('did not answer POST /MITS/SearchProspects within 200 ms');
  });

  test('a write ResMan answers Success to but does not apply is not_applied', async () => {
    const seeded = sandbox.seedProspect({ ...lead() });
    sandbox.ignoreWrites = true;
    const result = await outbound.pushStatus(
      connection(),
      push('application', { lead: lead({ externalId: seeded.prospectId }) }),
    );
    expect(result).toEqual({
      outcome: 'not_applied',
      code: 200,
      externalId: seeded.prospectId,
      detail: 'resman still shows customer type prospect, not applicant',
    });
    const created = await outbound.pushStatus(
      connection(),
      push('new', { lead: lead({ email: 'new@example.com', phone: '+13035550999' }) }),
    );
    expect(created).toMatchObject({
      outcome: 'not_applied',
      detail: expect.stringContaining('cannot be found'),
    });
  });
});

describe('upsertLead', () => {
  test('creates once, then finds the same record by its id', async () => {
    const first = await outbound.upsertLead!(connection(), lead());
    expect(first).toMatchObject({ created: true, code: 200 });
    const again = await outbound.upsertLead!(
      connection(),
      lead({ externalId: first.externalId, createdByUs: true }),
    );
    expect(again).toEqual({ externalId: first.externalId, created: false, code: 200 });
    const byEmail = await outbound.upsertLead!(connection(), lead());
    expect(byEmail).toEqual({ externalId: first.externalId, created: false, code: 200 });
    expect(sandbox.prospects.size).toBe(1);
  });

  test('refuses to link a record whose contact does not match', async () => {
    sandbox.seedProspect({ firstName: 'Robert', lastName: 'Okafor', email: 'maya.okafor@example.com' });
    const error = await partnerError(outbound.upsertLead!(connection(), lead()));
    expect(error).toMatchObject({ kind: 'final', details: { partnerCode: 'contact_conflict' } });
    expect(writes()).toHaveLength(0);
  });
});

describe('fetchNew', () => {
  const NOW = new Date('2025-03-04T12:00:00Z');
  const seeds = fixture<{ firstName: string; createdAt: string }[]>('prospects.json');

  async function pollAll(cursor: string | undefined, now: Date) {
    const pages = [];
    let next = cursor;
    for (;;) {
      const page = await outbound.fetchNew!(connection({ config: { poll_lookback_hours: 72 } }), next, now);
      pages.push(page);
      next = page.cursor;
      if (!page.more) break;
    }
    return { pages, cursor: next!, events: pages.flatMap((p) => p.events) };
  }

  test('walks day-sized windows from the look-back to now; new prospects become inquiries', async () => {
    for (const seed of seeds) sandbox.seedProspect(seed);
    const { pages, cursor, events } = await pollAll(undefined, NOW);
    expect(pages.length).toBe(3);
    expect(pages.slice(0, -1).every((p) => p.more)).toBe(true);
    expect(cursor).toBe(NOW.toISOString());
    const searches = sandbox.requests.items.map((r) => new URLSearchParams(r.body));
    for (const form of searches) {
      const span =
        Date.parse(form.get('ModifiedEndDateTime')!) - Date.parse(form.get('ModifiedStartDateTime')!);
      expect(span).toBeLessThanOrEqual(RESMAN_WINDOW_MS + 5 * 60_000);
    }
    expect(events).toHaveLength(3);
    const jordan = events.find((e) => e.lead?.create?.firstName === 'Jordan')!;
    const prospectId = [...sandbox.prospects.values()].find((p) => p.firstName === 'Jordan')!.prospectId;
    expect(jordan).toEqual({
      partnerEventId: `prospect/${prospectId}@2025-03-01T14:05:00Z`,
      eventType: 'prospect.created',
      occurredAt: '2025-03-01T14:05:00.000Z',
      actor: 'resman_user',
      lead: {
        create: {
          firstName: 'Jordan',
          lastName: 'Whitfield',
          email: 'jordan.whitfield@example.com',
          phone: '(720) 555-0134',
          propertyId: 'maple',
          externalIds: { resman: prospectId },
          customData: {
            resman: { prospect_id: prospectId, customer_type: 'prospect', event_type: 'WalkIn' },
          },
        },
        find: [{ by: 'external_id', partner: 'resman', externalId: prospectId }],
      },
      events: [
        {
          kind: 'partner_status',
          partner: 'resman',
          value: 'prospect',
          context: { prospect_id: prospectId, customer_type: 'prospect', event_type: 'WalkIn' },
        },
      ],
    });
  });

  test('a re-poll answers the same event ids; a change in ResMan is one new status event for the known lead', async () => {
    for (const seed of seeds) sandbox.seedProspect(seed);
    const first = await pollAll(undefined, NOW);
    const again = await pollAll(undefined, NOW);
    expect(again.events.map((e) => e.partnerEventId)).toEqual(first.events.map((e) => e.partnerEventId));
    // The next poll starts where the last ended and re-reads only its overlap.
    const quiet = await pollAll(first.cursor, new Date('2025-03-04T12:10:00Z'));
    expect(quiet.events).toEqual([]);

    const priya = [...sandbox.prospects.values()].find((p) => p.firstName === 'Priya')!;
    sandbox.changeProspect(priya.prospectId, {
      type: 'applicant',
      event: { type: 'Approved', agentId: 'EMP-1042' },
      at: '2025-03-04T12:20:00Z',
    });
    const later = await pollAll(first.cursor, new Date('2025-03-04T12:30:00Z'));
    expect(later.events).toEqual([
      {
        partnerEventId: `prospect/${priya.prospectId}@2025-03-04T12:20:00Z`,
        eventType: 'prospect.modified',
        occurredAt: '2025-03-04T12:20:00.000Z',
        actor: 'resman_user',
        lead: { find: [{ by: 'external_id', partner: 'resman', externalId: priya.prospectId }] },
        events: [
          {
            kind: 'partner_status',
            partner: 'resman',
            value: 'applicant',
            context: { prospect_id: priya.prospectId, customer_type: 'applicant', event_type: 'Approved' },
          },
        ],
      },
    ]);
  });

  test('our own writes do not come back as changes; a tour booked in ResMan does', async () => {
    const pushed = await outbound.pushStatus(
      connection(),
      push('new', { occurredAt: '2025-03-04T11:00:00Z' }),
    );
    const prospectId = (pushed as { externalId: string }).externalId;
    sandbox.prospects.get(prospectId)!.lastModified = '2025-03-04T11:00:00Z';
    const echo = await pollAll('2025-03-04T10:00:00Z', NOW);
    expect(echo.events).toEqual([]);

    sandbox.changeProspect(prospectId, { event: { type: 'Appointment' }, at: '2025-03-04T12:40:00Z' });
    const tour = await pollAll(NOW.toISOString(), new Date('2025-03-04T13:00:00Z'));
    expect(tour.events).toHaveLength(1);
    expect(tour.events[0]).toMatchObject({
      lead: { find: [{ by: 'external_id', partner: 'resman', externalId: prospectId }] },
      events: [{ kind: 'partner_status', value: 'tour_scheduled' }],
    });
    expect(tour.events[0]!.lead?.create).toBeUndefined();
  });

  test('an old prospect touched without a status change is kept for operators, not sent to a journey', async () => {
    const old = sandbox.seedProspect({ ...seeds[0], createdAt: '2024-12-01T10:00:00Z' });
    sandbox.changeProspect(old.prospectId, { event: { type: 'Email' }, at: '2025-03-04T11:30:00Z' });
    const { events } = await pollAll('2025-03-04T11:00:00Z', NOW);
    expect(events).toEqual([
      expect.objectContaining({ events: [], note: 'modified without a status change' }),
    ]);
    expect(events[0]!.lead).toBeUndefined();
  });

  test('a cursor at now fetches nothing and stays put', async () => {
    const page = await outbound.fetchNew!(connection(), NOW.toISOString(), NOW);
    expect(page).toEqual({ events: [], cursor: NOW.toISOString(), more: false });
    expect(sandbox.requests.items).toHaveLength(0);
  });
});

describe('testConnection', () => {
  test('lists the property’s prospect sources', async () => {
    await expect(outbound.testConnection(connection())).resolves.toEqual({
      detail: 'resman property reachable: 3 prospect sources',
    });
  });

  test("fails with ResMan's description on a wrong key, and names an unknown configured source", async () => {
    const wrongKey = await partnerError(
      outbound.testConnection(connection({ credentials: { ...sandbox.credentials, api_key: 'nope' } })),
    );
    expect(wrongKey).toMatchObject({ kind: 'final' });
    expect(wrongKey.message).toContain('Invalid IntegrationPartnerID or ApiKey');
    const badSource = await partnerError(
      outbound.testConnection(connection({ config: { default_source_id: 'not-a-source' } })),
    );
    expect(badSource.message).toContain('resman has no prospect source not-a-source');
  });

  test('a partner that is down is retryable', async () => {
    sandbox.down = true;
    const error = await partnerError(outbound.testConnection(connection()));
    expect(error).toMatchObject({ kind: 'retryable', details: { status: 503 } });
  });
});

describe('XML and mapping', () => {
  test("reads ResMan's SearchProspects answer: the primary person, events and modified time", () => {
    const answer = parseResManAnswer(fixtureText('search-prospects.xml'))!;
    expect(answer.status).toBe('Success');
    const [prospect] = prospectsOf(answer);
    expect(prospect).toMatchObject({
      prospectId: '2b8e4f61-93a7-4c0d-8f12-6a5d3e9b7c40',
      type: 'applicant',
      firstName: 'Daniel',
      phone: '3035550112',
      email: 'daniel.reyes@example.com',
      lastModified: '2025-03-05T19:12:03Z',
    });
    expect(prospect!.events!.map((e) => e.type)).toEqual(['WalkIn', 'Appointment', 'Application']);
    expect(prospect!.events![0]).toMatchObject({ firstContact: true, agentId: 'EMP-1042' });
    expect(resmanStatusWord(ResManConfig.parse({}), prospect!)).toBe('applicant');
  });

  test('maps every canonical status to a MITS customer type', () => {
    expect(customerTypeFor('tour_scheduled')).toBe('prospect');
    expect(customerTypeFor('application')).toBe('applicant');
    expect(customerTypeFor('leased')).toBe('current_resident');
    expect(customerTypeFor('lost')).toBe('lost');
  });

  test('config and credentials stay optional for relay-only integrations and are JSON-schema forms', () => {
    expect(resman.integration.config!.safeParse({}).success).toBe(true);
    expect(resman.integration.credentials!.safeParse({}).success).toBe(true);
    expect(resman.integration.config!.safeParse({ property_id: 'not-a-guid' }).success).toBe(false);
  });
});
