// Salesforce REST (outbound only: no webhooks, no polling): Leads upserted by our external id field, their Status
// pushed with origin and causation custom fields and read back; OAuth 2.0 client credentials against the org's
// My Domain (or a given access token), one token per activity call, refreshed once on 401.
import { z } from 'zod';
import { importRecord, wonAsWon } from '../../shared/imports';
import { STATUSES, fromCanonical, toCanonical, type LeadStatus } from '../../shared/lifecycle';
import { PartnerError, joinUrl, jsonOf, partnerRequest, type PartnerResponse } from './http';
import { TokenSession, type TokenSet } from './tokenSession';
import type {
  LeadListPage,
  OutboundAdapter,
  PartnerAdapter,
  PartnerConnection,
  PartnerLead,
  PushResult,
  StatusPush,
  Upserted,
} from './types';
import { perStatus } from './configFields';
import { pushToRecord } from './recordPush';

export const SALESFORCE_API_VERSION = 'v60.0';

/** Written when a new Lead lacks a required field we have no value for (Salesforce's web-to-lead does the same). */
export const NOT_PROVIDED = '[not provided]';

const apiName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, 'a Salesforce field API name, e.g. LeadRelay_Id__c');

export const SalesforceConfig = z
  .object({
    base_url: z
      .url()
      .describe("The org's My Domain URL (https://<domain>.my.salesforce.com): token endpoint and REST API"),
    api_version: z
      .string()
      .regex(/^v\d{2,3}\.0$/, 'a REST API version such as v60.0')
      .default(SALESFORCE_API_VERSION)
      .describe('REST API version'),
    status_map: perStatus(255, (status) => `Lead Status picklist value for ${status}`)
      .optional()
      .describe(
        "Per canonical status, the Lead Status value to write instead of Salesforce's default picklist",
      ),
    external_id_field: apiName
      .default('LeadRelay_Id__c')
      .describe(
        'Lead custom field (Text, External ID, Unique) holding the leadrelay lead id: the upsert key',
      ),
    origin_field: apiName
      .default('LeadRelay_Origin__c')
      .describe('Lead custom field (Text) for where a change came from'),
    causation_field: apiName
      .default('LeadRelay_Causation_Id__c')
      .describe('Lead custom field (Text) for the id of the event that caused a write'),
    default_company: z
      .string()
      .min(1)
      .max(255)
      .default(NOT_PROVIDED)
      .describe('Company of a new Lead (Salesforce requires one; leads carry none)'),
  })
  .loose();

export const SalesforceCredentials = z
  .object({
    client_id: z
      .string()
      .min(1)
      .optional()
      .describe("The connected app's consumer key (OAuth 2.0 client credentials flow)"),
    client_secret: z.string().min(1).optional().describe("The connected app's consumer secret"),
    access_token: z
      .string()
      .min(1)
      .optional()
      .describe('An access token used as is; with client credentials too, a rejected token is replaced'),
  })
  .loose()
  .superRefine((value, ctx) => {
    if (value.access_token || (value.client_id && value.client_secret)) return;
    ctx.addIssue({
      code: 'custom',
      path: [value.client_id ? 'client_secret' : 'client_id'],
      message: 'client_id and client_secret (client credentials flow), or an access_token',
    });
  });

type SalesforceSettings = z.output<typeof SalesforceConfig>;

interface SalesforceErrorItem {
  message?: string;
  errorCode?: string;
  fields?: string[];
}

/** Salesforce's `[{message, errorCode, fields}]`: every error, the first code. A 300 lists the matching records. */
function salesforceError(response: PartnerResponse): { message: string; code?: string } {
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return { message: response.text.slice(0, 200) || '(empty answer)' };
  }
  if (Array.isArray(body) && body.every((item) => typeof item === 'string')) {
    return { message: `several Leads match: ${body.slice(0, 5).join(', ')}`, code: 'MULTIPLE_CHOICES' };
  }
  const items = (Array.isArray(body) ? body : [body]) as SalesforceErrorItem[];
  const described = items.filter(
    (item) => item && typeof item === 'object' && typeof item.message === 'string',
  );
  if (described.length === 0) return { message: response.text.slice(0, 200) };
  const message = described
    .map((item) => {
      const fields = item.fields?.length ? ` (fields: ${item.fields.join(', ')})` : '';
      return `${item.errorCode ?? 'ERROR'}: ${item.message}${fields}`;
    })
    .join('; ');
  return { message: message.slice(0, 500), code: described[0]!.errorCode };
}

/** The token endpoint's `{error, error_description}`. */
function oauthError(response: PartnerResponse): { message: string; code?: string } {
  try {
    const body = JSON.parse(response.text) as { error?: string; error_description?: string };
    if (body.error)
      return { message: `${body.error}: ${body.error_description ?? ''}`.trim(), code: body.error };
  } catch {
    // Not JSON: the text below.
  }
  return { message: response.text.slice(0, 200) || '(empty answer)' };
}

/** A PartnerError for an answer we took in (`accept`) to look at first, worded like partnerRequest's. */
function failure(response: PartnerResponse, method: string, path: string): PartnerError {
  const described = salesforceError(response);
  const retryable = response.status === 429 || response.status >= 500;
  return new PartnerError(
    'salesforce',
    retryable ? 'retryable' : 'final',
    `salesforce answered ${response.status} to ${method} ${path}: ${described.message}`,
    { status: response.status, partnerCode: described.code },
  );
}

function settingsOf(connection: PartnerConnection): SalesforceSettings {
  const parsed = SalesforceConfig.safeParse(connection.config);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((issue) => ['config', ...issue.path].join('.')))];
  throw new PartnerError(
    'salesforce',
    'final',
    `the Salesforce integration's config is invalid: ${fields.join(', ')}`,
  );
}

/**
 * One activity call's conversation with an org: the token is fetched at most once up front and replaced at most
 * once after a 401 (INVALID_SESSION_ID); a second 401 is final.
 */
class SalesforceSession {
  readonly config: SalesforceSettings;
  private instanceUrl: string;
  private readonly tokens: TokenSession;

  constructor(private readonly connection: PartnerConnection) {
    this.config = settingsOf(connection);
    this.instanceUrl = this.config.base_url;
    const { access_token, client_id, client_secret } = connection.credentials;
    this.tokens = new TokenSession(
      'salesforce',
      {
        accessToken: access_token || undefined,
        refresh: client_id && client_secret ? () => this.fetchToken(client_id, client_secret) : undefined,
      },
      'the Salesforce integration has no access token and no client credentials ' +
        '(credentials.client_id and credentials.client_secret)',
    );
  }

  /** Client credentials flow at the My Domain token endpoint; its instance_url is where the API lives. */
  private async fetchToken(id: string, secret: string): Promise<TokenSet> {
    const response = await partnerRequest('salesforce', this.connection, {
      method: 'POST',
      url: joinUrl(this.config.base_url, '/services/oauth2/token'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: id,
        client_secret: secret,
      }).toString(),
      describeError: oauthError,
    });
    const body = jsonOf<{ access_token?: string; instance_url?: string }>('salesforce', response);
    if (!body.access_token) {
      throw new PartnerError(
        'salesforce',
        'retryable',
        'salesforce answered the token request without a token',
        {
          status: response.status,
        },
      );
    }
    if (body.instance_url) this.instanceUrl = body.instance_url;
    return { accessToken: body.access_token };
  }

  /** A REST call under /services/data/<version>. */
  async request(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: object,
    accept: number[] = [],
  ): Promise<PartnerResponse> {
    return this.tokens.call((token) => this.send(token, method, path, body, accept));
  }

  dataPath(path: string): string {
    return `/services/data/${this.config.api_version}${path}`;
  }

  private async send(
    token: string,
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body: object | undefined,
    accept: number[],
  ): Promise<PartnerResponse> {
    try {
      return await partnerRequest('salesforce', this.connection, {
        method,
        url: joinUrl(this.instanceUrl, this.dataPath(path)),
        headers: { authorization: `Bearer ${token}` },
        body,
        describeError: salesforceError,
        accept,
      });
    } catch (error) {
      // The org's rolling 24-hour API limit (or its concurrent long-request limit) passes: retry later.
      if (
        error instanceof PartnerError &&
        error.status === 403 &&
        error.details.partnerCode === 'REQUEST_LIMIT_EXCEEDED'
      ) {
        throw new PartnerError('salesforce', 'retryable', error.message, error.details);
      }
      throw error;
    }
  }
}

const leadPath = (id: string) => `/sobjects/Lead/${encodeURIComponent(id)}`;

/** Contact fields we may write: over a Lead found by our own external id, or one we created. */
function contactFields(lead: PartnerLead): Record<string, string> {
  const fields: Record<string, string | undefined> = {
    FirstName: lead.firstName,
    LastName: lead.lastName,
    Email: lead.email,
    Phone: lead.phone,
    Description: lead.message,
  };
  return Object.fromEntries(
    Object.entries(fields).filter((entry): entry is [string, string] => Boolean(entry[1])),
  );
}

/** REQUIRED_FIELD_MISSING's fields, when that is the whole complaint. */
function missingRequired(response: PartnerResponse): string[] | undefined {
  try {
    const items = JSON.parse(response.text) as SalesforceErrorItem[];
    if (!Array.isArray(items) || items.length === 0) return undefined;
    if (!items.every((item) => item.errorCode === 'REQUIRED_FIELD_MISSING')) return undefined;
    return items.flatMap((item) => item.fields ?? []);
  } catch {
    return undefined;
  }
}

/**
 * Finds or creates the lead's Lead: by its Salesforce Id when known (linking our external id to it), else an
 * upsert by our external id, where a matched Lead is ours by construction.
 */
async function upsertRecord(session: SalesforceSession, lead: PartnerLead): Promise<Upserted> {
  const { external_id_field: externalIdField, default_company: company } = session.config;
  if (lead.externalId) {
    const linked = await session.request(
      'PATCH',
      leadPath(lead.externalId),
      { [externalIdField]: lead.leadId, ...(lead.createdByUs ? contactFields(lead) : {}) },
      [404],
    );
    if (linked.status !== 404) return { externalId: lead.externalId, created: false, code: linked.status };
    // Deleted in Salesforce (or merged away): find or create it again by our external id.
  }
  const path = `/sobjects/Lead/${externalIdField}/${encodeURIComponent(lead.leadId)}`;
  const fields = contactFields(lead);
  let response = await session.request('PATCH', path, fields, [400]);
  if (response.status === 400) {
    // Only a new Lead must have LastName and Company. Sending placeholders every time would overwrite what staff
    // entered on an existing one, so they are filled only when Salesforce names them missing.
    const missing = missingRequired(response);
    const fillable: Record<string, string> = { LastName: NOT_PROVIDED, Company: company };
    if (!missing || missing.length === 0 || missing.some((field) => !(field in fillable))) {
      throw failure(response, 'PATCH', session.dataPath(path));
    }
    response = await session.request('PATCH', path, {
      ...fields,
      ...Object.fromEntries(missing.map((field) => [field, fillable[field]!])),
    });
  }
  if (response.status === 204) {
    // Before API v46 an update answers 204 without a body: ask for the Id.
    const found = await session.request('GET', `${path}?fields=Id`);
    return { externalId: jsonOf<{ Id: string }>('salesforce', found).Id, created: false, code: 204 };
  }
  const answer = jsonOf<{ id?: string; created?: boolean }>('salesforce', response);
  if (!answer.id) {
    throw new PartnerError('salesforce', 'retryable', 'salesforce answered the Lead upsert without an id', {
      status: response.status,
    });
  }
  return {
    externalId: answer.id,
    created: response.status === 201 || answer.created === true,
    code: response.status,
  };
}

async function pushStatus(connection: PartnerConnection, push: StatusPush): Promise<PushResult> {
  const session = new SalesforceSession(connection);
  const { config } = session;
  const value = config.status_map?.[push.status] ?? push.value;
  if (!value) return { outcome: 'skipped', detail: `no Lead Status value for ${push.status}` };
  const fields = {
    Status: value,
    [config.origin_field]: push.origin,
    [config.causation_field]: push.causationId,
  };

  return pushToRecord(push.lead, {
    partner: 'salesforce',
    noun: 'Lead',
    resolve: async (lead) =>
      lead.externalId ? { externalId: lead.externalId, created: false } : upsertRecord(session, lead),
    async write(record) {
      const path = leadPath(record.externalId);
      const response = await session.request('PATCH', path, fields, [400, 404]);
      if (response.status === 404) return 'vanished';
      if (response.status === 400 && salesforceError(response).code === 'CANNOT_UPDATE_CONVERTED_LEAD') {
        return {
          outcome: 'conflict',
          code: 400,
          externalId: record.externalId,
          detail: 'the Lead was converted in Salesforce; a converted Lead cannot be updated',
        };
      }
      if (response.status === 400) throw failure(response, 'PATCH', session.dataPath(path));
      return { code: response.status, externalId: record.externalId };
    },
    async readBack(record) {
      const read = jsonOf<{ Status?: string | null }>(
        'salesforce',
        await session.request('GET', `${leadPath(record.externalId)}?fields=Status`),
      );
      return read.Status === value
        ? undefined
        : `Status reads "${read.Status ?? ''}" after writing "${value}"`;
    },
  });
}

async function upsertLead(connection: PartnerConnection, lead: PartnerLead): Promise<Upserted> {
  return upsertRecord(new SalesforceSession(connection), lead);
}

interface DescribedField {
  name: string;
  externalId?: boolean;
  picklistValues?: { value: string; active: boolean }[];
}

/**
 * A token, then the Lead describe: proves the credentials and Lead access, and checks the org is set up for us
 * (our custom fields, the external id field, every Status value we would write).
 */
async function testConnection(connection: PartnerConnection): Promise<{ detail: string }> {
  const session = new SalesforceSession(connection);
  const { config } = session;
  const response = await session.request('GET', '/sobjects/Lead/describe');
  const fields = new Map(
    (jsonOf<{ fields?: DescribedField[] }>('salesforce', response).fields ?? []).map((f) => [f.name, f]),
  );
  const problems: string[] = [];
  const external = fields.get(config.external_id_field);
  if (!external) problems.push(`Lead has no field ${config.external_id_field} (Text, External ID, Unique)`);
  else if (!external.externalId) problems.push(`${config.external_id_field} is not marked External ID`);
  for (const name of [config.origin_field, config.causation_field]) {
    if (!fields.has(name)) problems.push(`Lead has no field ${name} (Text)`);
  }
  const values = [
    ...new Set(
      STATUSES.map((status) => config.status_map?.[status] ?? fromCanonical('salesforce', status)).filter(
        (value): value is string => Boolean(value),
      ),
    ),
  ];
  const active = new Set(
    (fields.get('Status')?.picklistValues ?? []).filter((p) => p.active).map((p) => p.value),
  );
  const missing = values.filter((value) => !active.has(value));
  if (missing.length > 0)
    problems.push(`Lead Status has no active value ${missing.map((v) => `"${v}"`).join(', ')}`);
  if (problems.length > 0) {
    throw new PartnerError(
      'salesforce',
      'final',
      `Salesforce is reachable but not set up for leadrelay: ${problems.join('; ')}`,
    );
  }
  const usage = /api-usage=(\d+\/\d+)/.exec(response.headers.get('sforce-limit-info') ?? '')?.[1];
  return {
    detail:
      `Lead describe readable; Status takes all ${values.length} mapped values; leadrelay fields present` +
      (usage ? `; API usage ${usage}` : ''),
  };
}

/** Salesforce datetimes (`2026-03-01T14:30:00.000+0000`) and dates as ISO 8601. */
function isoOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  const at = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

interface QueriedLead {
  Id: string;
  FirstName?: string | null;
  LastName?: string | null;
  Email?: string | null;
  Phone?: string | null;
  Description?: string | null;
  Status?: string | null;
  LeadSource?: string | null;
  CreatedDate?: string | null;
  LastModifiedDate?: string | null;
  LastActivityDate?: string | null;
}

/**
 * Leads changed since `since`, by SOQL (oldest first), a query batch a page: each with its Status in canonical terms
 * (the integration's status_map first); a Status neither maps is passed on as it is, so its row fails naming it.
 */
async function listLeads(
  connection: PartnerConnection,
  page: { since: string; cursor?: string },
): Promise<LeadListPage> {
  const session = new SalesforceSession(connection);
  const { config } = session;
  const soql =
    'SELECT Id, FirstName, LastName, Email, Phone, Description, Status, LeadSource, CreatedDate, LastModifiedDate, ' +
    `LastActivityDate FROM Lead WHERE LastModifiedDate >= ${new Date(page.since).toISOString()} ORDER BY CreatedDate, Id`;
  const response = await session.request('GET', page.cursor ?? `/query?q=${encodeURIComponent(soql)}`);
  const answer = jsonOf<{ records?: QueriedLead[]; nextRecordsUrl?: string }>('salesforce', response);
  const mapped = Object.fromEntries(
    Object.entries(config.status_map ?? {}).map(([status, value]) => [value, status as LeadStatus]),
  );
  const records = (answer.records ?? []).map((lead) => {
    const value = lead.Status ?? '';
    return importRecord({
      external_id: lead.Id,
      external_source: 'salesforce',
      first_name: lead.FirstName,
      last_name: lead.LastName === NOT_PROVIDED ? undefined : lead.LastName,
      email: lead.Email,
      phone: lead.Phone,
      message: lead.Description,
      source: 'salesforce',
      status: wonAsWon(mapped[value] ?? toCanonical('salesforce', value)) ?? value,
      created_at: isoOf(lead.CreatedDate),
      last_activity_at: isoOf(lead.LastActivityDate) ?? isoOf(lead.LastModifiedDate),
      custom_lead_source: lead.LeadSource,
    });
  });
  // The next batch's path under /services/data/<version>.
  const next = answer.nextRecordsUrl?.replace(/^\/services\/data\/v[\d.]+/, '');
  return { records, ...(next ? { cursor: next } : {}) };
}

const outbound: OutboundAdapter = { pushStatus, upsertLead, testConnection, listLeads };

export const salesforce: PartnerAdapter = {
  partner: 'salesforce',
  integration: {
    webhookSecret: { kind: 'none' },
    config: SalesforceConfig,
    credentials: SalesforceCredentials,
  },
  outbound,
};
