// Each partner that can list its leads, against its sandbox twin over real HTTP: every lead changed since the
// date comes back a page at a time as an import row at the stage it reached, with its own dates, and reads as one.
import { gohighlevel } from '../../activities/partners/gohighlevel';
import { hubspot } from '../../activities/partners/hubspot';
import { resman } from '../../activities/partners/resman';
import { salesforce } from '../../activities/partners/salesforce';
import type { LeadListPage, PartnerConnection } from '../../activities/partners/types';
import { startGoHighLevelSandbox, type GhlSandbox } from '../../infra/sandbox/gohighlevel';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../infra/sandbox/hubspot';
import { startResManSandbox, type ResManSandbox } from '../../infra/sandbox/resman';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../infra/sandbox/salesforce';
import { readImportRow, type ImportRecord } from '../../shared/imports';
import { fixture } from '../support/fixtures';
import { partnerError } from './support';

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
/** Within a minute of `days` ago (the sandbox and the test read the clock at different moments). */
const about = (days: number) => ({
  asymmetricMatch: (value: string) => Math.abs(Date.parse(value) - (Date.now() - days * DAY)) < 60_000,
  toString: () => `about ${days} days ago`,
});

/** Every page of a listing, following its cursor, and how many pages it took. */
async function listAll(
  list: (connection: PartnerConnection, page: { since: string; cursor?: string }) => Promise<LeadListPage>,
  connection: PartnerConnection,
  since: string,
): Promise<{ records: ImportRecord[]; pages: number }> {
  const records: ImportRecord[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list(connection, { since, ...(cursor ? { cursor } : {}) });
    records.push(...page.records);
    cursor = page.cursor;
    pages += 1;
  } while (cursor && pages < 100);
  return { records, pages };
}

/** The row as the import reads it (won as leased): stage, first inquiry and its identity. */
function reading(record: ImportRecord) {
  const read = readImportRow(record, { wonStatus: 'leased' });
  if ('problems' in read) throw new Error(`row does not read: ${JSON.stringify(read.problems)}`);
  return read.reading;
}

describe('hubspot', () => {
  let hub: HubSpotSandbox;
  beforeAll(async () => {
    hub = await startHubSpotSandbox();
  });
  afterAll(() => hub?.close());

  test('lists contacts modified since the date through CRM search, 100 a page, at their lead status', async () => {
    const old = hub.addContact({ email: 'before@example.com' });
    old.properties.lastmodifieddate = ago(400);
    for (let i = 0; i < 105; i++) {
      const contact = hub.addContact({
        email: `lead${i}@example.com`,
        firstname: `Lead${i}`,
        ...(i % 3 === 0
          ? { hs_lead_status: 'IN_PROGRESS' }
          : i % 3 === 1
            ? { hs_lead_status: 'UNQUALIFIED' }
            : {}),
      });
      contact.properties.createdate = ago(30);
    }
    const connection: PartnerConnection = {
      integrationId: 'int_hubspot_backfill',
      workspaceId: 'ws_1',
      config: { base_url: hub.url },
      credentials: { client_secret: 'secret-123456', access_token: hub.accessToken },
    };
    const { records, pages } = await listAll(hubspot.outbound!.listLeads!, connection, ago(90));
    expect(pages).toBe(2);
    expect(records).toHaveLength(105);
    expect(records.some((r) => r.email === 'before@example.com')).toBe(false);
    const first = reading(records[0]!);
    expect(first.contact).toMatchObject({
      email: 'lead0@example.com',
      externalIds: { hubspot: expect.any(String) },
    });
    expect(first.lead).toMatchObject({ status: 'qualified', createdAt: about(30) });
    expect(records.map((r) => reading(r).lead.status).slice(0, 3)).toEqual(['qualified', 'lost', 'new']);
    // The search request HubSpot documents: one filter on lastmodifieddate, sorted oldest first.
    const search = hub.requests.items.find((r) => r.url === '/crm/v3/objects/contacts/search');
    expect(JSON.parse(search?.body ?? '{}')).toMatchObject({
      filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE' }] }],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
      limit: 100,
    });
  });

  test('a token HubSpot refuses ends the listing with a final error', async () => {
    const error = await partnerError(
      hubspot.outbound!.listLeads!(
        {
          integrationId: 'i',
          workspaceId: 'w',
          config: { base_url: hub.url },
          credentials: { access_token: 'nope' },
        },
        { since: ago(1) },
      ),
    );
    expect([error.kind, error.status]).toEqual(['final', 401]);
  });
});

describe('salesforce', () => {
  let sf: SalesforceSandbox;
  beforeAll(async () => {
    sf = await startSalesforceSandbox({ queryBatchSize: 2 });
  });
  afterAll(() => sf?.close());

  test('lists Leads modified since the date by SOQL, batch after batch, won and lost in their own words', async () => {
    const statuses = [
      'Open - Not Contacted',
      'Working - Contacted',
      'Closed - Converted',
      'Closed - Not Converted',
      'Tour Booked',
    ];
    sf.statusValues.push('Tour Booked');
    for (const [i, status] of statuses.entries()) {
      const lead = sf.addLead({
        LastName: `Lead${i}`,
        Company: 'x',
        Email: `sf${i}@example.com`,
        Status: status,
      });
      lead.fields.CreatedDate = ago(20 - i).replace('Z', '+0000');
    }
    const stale = sf.addLead({ LastName: 'Old', Company: 'x', Email: 'old@example.com' });
    stale.fields.LastModifiedDate = ago(500).replace('Z', '+0000');
    const connection: PartnerConnection = {
      integrationId: 'int_sf_backfill',
      workspaceId: 'ws_1',
      config: { base_url: sf.url, status_map: { tour_scheduled: 'Tour Booked' } },
      credentials: { client_id: sf.clientId, client_secret: sf.clientSecret },
    };
    const { records, pages } = await listAll(salesforce.outbound!.listLeads!, connection, ago(90));
    expect(pages).toBe(3);
    expect(records.map((r) => r.status)).toEqual(['new', 'contacted', 'won', 'lost', 'tour_scheduled']);
    expect(records.map((r) => r.email)).not.toContain('old@example.com');
    expect(reading(records[2]!).lead).toMatchObject({ status: 'leased', createdAt: about(18) });
    expect(reading(records[0]!).contact.externalIds).toEqual({ salesforce: expect.stringMatching(/^00Q/) });
    const query = sf.requests.items.find((r) => r.url.includes('/query?q='));
    expect(decodeURIComponent(query?.url ?? '')).toMatch(/FROM Lead WHERE LastModifiedDate >= \d{4}-/);
  });
});

describe('resman', () => {
  let rm: ResManSandbox;
  beforeAll(async () => {
    rm = await startResManSandbox();
  });
  afterAll(() => rm?.close());

  test('lists prospects a week of changes a page, at the stage their type and newest event say', async () => {
    rm.seedProspect({ email: 'walkin@example.com', createdAt: ago(19) });
    const toured = rm.seedProspect({ email: 'toured@example.com', createdAt: ago(12) });
    rm.changeProspect(toured.prospectId, { event: { type: 'Show' }, at: ago(10) });
    rm.seedProspect({ email: 'applicant@example.com', type: 'applicant', createdAt: ago(3) });
    rm.seedProspect({ email: 'resident@example.com', type: 'current_resident', createdAt: ago(2) });
    rm.seedProspect({ email: 'ancient@example.com', createdAt: ago(200) });
    const connection: PartnerConnection = {
      integrationId: 'int_resman_backfill',
      workspaceId: 'ws_1',
      propertyId: 'maple',
      config: { base_url: rm.url, property_id: rm.propertyId },
      credentials: { ...rm.credentials },
    };
    const { records, pages } = await listAll(resman.outbound!.listLeads!, connection, ago(20));
    expect(pages).toBe(3);
    const byEmail = Object.fromEntries(records.map((r) => [r.email, r]));
    expect(Object.keys(byEmail).sort()).toEqual([
      'applicant@example.com',
      'resident@example.com',
      'toured@example.com',
      'walkin@example.com',
    ]);
    expect(reading(byEmail['toured@example.com']!).lead).toMatchObject({
      status: 'toured',
      createdAt: about(12),
      stageDates: { toured: about(10) },
    });
    expect(byEmail['walkin@example.com']).toMatchObject({ status: 'contacted', property_id: 'maple' });
    expect(byEmail['applicant@example.com']?.status).toBe('application');
    expect(byEmail['resident@example.com']?.status).toBe('won');
    expect(reading(byEmail['toured@example.com']!).contact.externalIds).toEqual({
      resman: toured.prospectId,
    });
  });
});

describe('gohighlevel', () => {
  let ghl: GhlSandbox;
  const pipeline = fixture<{ pipelines: GhlSandbox['pipelines'] }>('gohighlevel', 'pipelines.json')
    .pipelines[0]!;
  const stage = (name: string) => pipeline.stages.find((s) => s.name === name)!.id;
  beforeAll(async () => {
    ghl = await startGoHighLevelSandbox({ pipelines: [pipeline] });
  });
  afterAll(() => ghl?.close());

  test("lists the pipeline's opportunities 100 a page, at the stage each pipeline stage maps to", async () => {
    const stages = ['Contacted', 'Tour Booked', 'Application In', 'Lost'];
    for (let i = 0; i < 103; i++) {
      const contact = ghl.seedContact({
        firstName: 'Lead',
        lastName: `Number ${i}`,
        email: `ghl${i}@example.com`,
      });
      const name = stages[i % stages.length]!;
      ghl.seedOpportunity({
        contactId: contact.id,
        pipelineId: pipeline.id,
        pipelineStageId: stage(name),
        status: i === 0 ? 'won' : name === 'Lost' ? 'lost' : 'open',
        // Created in order, a second apart: the listing's order is the test's.
        createdAt: new Date(Date.now() - 40 * DAY + i * 1000).toISOString(),
        updatedAt: ago(5),
        lastStageChangeAt: ago(6),
      });
    }
    const connection: PartnerConnection = {
      integrationId: 'int_ghl_backfill',
      workspaceId: 'ws_1',
      config: {
        base_url: ghl.url,
        location_id: ghl.locationId,
        pipeline_id: pipeline.id,
        stage_ids: { contacted: stage('Contacted'), application: stage('Application In') },
      },
      credentials: { access_token: ghl.accessToken },
    };
    const { records, pages } = await listAll(gohighlevel.outbound!.listLeads!, connection, ago(30));
    expect(pages).toBe(2);
    expect(records).toHaveLength(103);
    // Won by status; a stage without a mapping (Tour Booked) is what an open opportunity says: contacted.
    expect(records.slice(0, 4).map((r) => r.status)).toEqual(['won', 'contacted', 'application', 'lost']);
    expect(records[1]).toMatchObject({
      first_name: 'Lead',
      last_name: 'Number 1',
      email: 'ghl1@example.com',
    });
    expect(reading(records[2]!).lead.stageDates).toEqual({ application: about(6) });
    const none = await listAll(
      gohighlevel.outbound!.listLeads!,
      connection,
      new Date(Date.now() + DAY).toISOString(),
    );
    expect(none.records).toEqual([]);
  });
});
