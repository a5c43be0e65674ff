// HubSpot CRM: webhook batches in (contact.creation, contact.propertyChange of hs_lead_status), verified by
// signature v3: base64 HMAC-SHA256 of method + URI + body + timestamp with the app's client secret, the
// timestamp (ms) within 5 minutes; contacts upserted and their stage pushed out over CRM v3, read back after.
import { z } from 'zod';
import { importRecord, wonAsWon } from '../../shared/imports';
import { STATUSES, fromCanonical, toCanonical, type LeadStatus } from '../../shared/lifecycle';
import { PartnerError, joinUrl, jsonOf, partnerRequest, retryAfterMs, type PartnerResponse } from './http';
import { epochMillis, jsonBody, requireKnownStatus, text, validate } from './parsing';
import { hmac, requireFresh, requireSecret, safeEqual, unauthorized } from './signatures';
import type {
  InboundEvent,
  InboundRequest,
  InboundSecrets,
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

export const HUBSPOT_TOLERANCE_MS = 300_000;

/** HubSpot signs the URI with these escapes decoded (its v3 documentation's list). */
const DECODED: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function hubspotUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (escape) => DECODED[escape.toUpperCase()]!);
}

const objectId = z.union([z.number().int().min(0), z.string().regex(/^\d{1,20}$/)]).transform(String);

const HubSpotEvent = z
  .object({
    eventId: objectId,
    subscriptionId: objectId.optional(),
    portalId: objectId.optional(),
    appId: objectId.optional(),
    occurredAt: epochMillis,
    subscriptionType: text(100),
    attemptNumber: z.number().int().min(0).optional(),
    objectId,
    changeSource: text(100).optional(),
    propertyName: text(200).optional(),
    propertyValue: text(10_000).optional(),
  })
  .loose();

export const HubSpotWebhook = z.array(HubSpotEvent).min(1).max(1000);

function verify(request: InboundRequest, secrets: InboundSecrets): void {
  const secret = requireSecret(
    secrets.webhookSecret ?? secrets.credentials.client_secret,
    'HubSpot client secret',
  );
  const signature = request.headers['x-hubspot-signature-v3'];
  const timestamp = request.headers['x-hubspot-request-timestamp'];
  if (!signature || !timestamp) {
    throw unauthorized('missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp', 'missing_headers');
  }
  if (!/^\d{1,16}$/.test(timestamp))
    throw unauthorized('X-HubSpot-Request-Timestamp is not a timestamp', 'bad_timestamp');
  const body = request.rawBody.toString('utf8');
  const matches = request.urls.some((url) =>
    safeEqual(
      signature,
      hmac('sha256', secret, `${request.method}${hubspotUri(url)}${body}${timestamp}`, 'base64'),
    ),
  );
  if (!matches)
    throw unauthorized('X-HubSpot-Signature-v3 does not match this URL and body', 'bad_signature');
  requireFresh(request, Number(timestamp), HUBSPOT_TOLERANCE_MS, 'X-HubSpot-Request-Timestamp');
}

function parse(request: InboundRequest): InboundEvent[] {
  const batch = validate(HubSpotWebhook, jsonBody(request));
  return batch.map((event, index) => {
    const base = {
      partnerEventId: event.eventId,
      eventType: event.subscriptionType,
      occurredAt: event.occurredAt,
    };
    const contact = { by: 'external_id' as const, partner: 'hubspot' as const, externalId: event.objectId };
    if (event.subscriptionType === 'contact.creation') {
      return { ...base, lead: { create: { externalIds: { hubspot: event.objectId } } }, events: [] };
    }
    if (event.subscriptionType === 'contact.propertyChange' && event.propertyName === 'hs_lead_status') {
      const value = event.propertyValue ?? '';
      requireKnownStatus('hubspot', value, `${index}.propertyValue`);
      return {
        ...base,
        actor: event.changeSource,
        lead: { find: [contact] },
        events: [
          {
            kind: 'partner_status' as const,
            partner: 'hubspot' as const,
            value,
            context: { hubspot_object_id: event.objectId, property: 'hs_lead_status' },
          },
        ],
      };
    }
    return {
      ...base,
      events: [],
      note: `${event.subscriptionType} ${event.propertyName ?? ''} is not mapped`.trim(),
    };
  });
}

// ---- outbound: CRM v3 contacts ----

export const HUBSPOT_API_URL = 'https://api.hubapi.com';

const propertyName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,99}$/, 'a HubSpot internal property name: lower-case letters, digits and _');

export const HubSpotConfig = z
  .object({
    portal_id: z
      .union([z.string(), z.number()])
      .optional()
      .describe('The HubSpot account (portal) id; informational'),
    base_url: z.url().default(HUBSPOT_API_URL).describe('HubSpot API base URL'),
    stage_property: propertyName
      .default('hs_lead_status')
      .describe('The contact property that carries the lead stage'),
    status_map: perStatus(100, (status) => `Stage property value for ${status}`)
      .optional()
      .describe(
        "Per canonical status, the stage property value to write instead of leadrelay's hs_lead_status word",
      ),
    lifecycle_stage_map: perStatus(100, (status) => `lifecyclestage for ${status}`)
      .optional()
      .describe('Per canonical status, a lifecyclestage to set as well (none by default)'),
    origin_property: propertyName
      .default('leadrelay_origin')
      .describe('Custom contact property (single-line text) for where a change came from'),
    causation_property: propertyName
      .default('leadrelay_causation_id')
      .describe('Custom contact property (single-line text) for the id of the event that caused a write'),
    lead_id_property: propertyName
      .default('leadrelay_lead_id')
      .describe('Custom contact property with unique values holding the leadrelay lead id'),
  })
  .loose();

export const HubSpotCredentials = z
  .object({
    client_secret: z
      .string()
      .min(8, "the HubSpot app's client secret")
      .describe("The app's client secret: verifies webhook signatures (v3)"),
    access_token: z
      .string()
      .min(1)
      .optional()
      .describe('Private app access token (pat-…) or OAuth access token; needed to push statuses'),
  })
  .loose();

interface HubSpotContext {
  connection: PartnerConnection;
  config: z.output<typeof HubSpotConfig>;
  token: string;
}

interface HubSpotErrorBody {
  message?: unknown;
  category?: string;
  errorType?: string;
  policyName?: string;
  correlationId?: string;
}

interface HubSpotContact {
  id: string;
  properties?: Record<string, string | null>;
}

interface HubSpotProperty {
  name: string;
  hasUniqueValue?: boolean;
  options?: { value: string }[];
}

interface BatchUpsertAnswer {
  results?: (HubSpotContact & { new?: boolean })[];
  errors?: { message?: string; category?: string }[];
}

function hubspotContext(connection: PartnerConnection): HubSpotContext {
  const parsed = HubSpotConfig.safeParse(connection.config);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => ['config', ...issue.path].join('.')))];
    throw new PartnerError(
      'hubspot',
      'final',
      `the HubSpot integration's config is invalid: ${fields.join(', ')}`,
    );
  }
  const token = connection.credentials.access_token;
  if (!token) {
    throw new PartnerError(
      'hubspot',
      'final',
      'the HubSpot integration has no access token (credentials.access_token): add a private app token with the ' +
        'crm.objects.contacts.read and .write scopes to push statuses',
      { partnerCode: 'credentials_missing' },
    );
  }
  return { connection, config: parsed.data, token };
}

function errorBodyOf(response: PartnerResponse): HubSpotErrorBody | undefined {
  try {
    const body = JSON.parse(response.text) as unknown;
    return body && typeof body === 'object' ? (body as HubSpotErrorBody) : undefined;
  } catch {
    return undefined;
  }
}

/** HubSpot's `{status: "error", message, category, correlationId}`: its message, and the category as the code. */
function hubspotError(response: PartnerResponse): { message: string; code?: string } {
  const body = errorBodyOf(response);
  if (typeof body?.message !== 'string') return { message: response.text.slice(0, 200) || '(empty answer)' };
  // The correlation id is what HubSpot support asks for.
  const correlation = body.correlationId ? ` (correlationId ${body.correlationId})` : '';
  return { message: `${body.message.slice(0, 500)}${correlation}`, code: body.category ?? body.errorType };
}

/**
 * A 429, retryable. HubSpot rarely sends Retry-After; its rolling window's length
 * (X-HubSpot-RateLimit-Interval-Milliseconds) is then how long to wait. The daily limit resets at the portal's
 * midnight, which we cannot see: the activity's backoff decides.
 */
function rateLimited(response: PartnerResponse, method: string, path: string): PartnerError {
  const policy = errorBodyOf(response)?.policyName;
  const interval = Number(response.headers.get('x-hubspot-ratelimit-interval-milliseconds'));
  const wait =
    retryAfterMs(response.headers.get('retry-after')) ??
    (policy !== 'DAILY' && interval > 0 ? interval : undefined);
  return new PartnerError(
    'hubspot',
    'retryable',
    `hubspot answered 429 to ${method} ${path.split('?')[0]}: ${hubspotError(response).message}`,
    { status: 429, partnerCode: policy ?? hubspotError(response).code, retryAfterMs: wait },
  );
}

async function hubspotCall(
  context: HubSpotContext,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  body?: object,
  accept: number[] = [],
): Promise<PartnerResponse> {
  const response = await partnerRequest('hubspot', context.connection, {
    method,
    url: joinUrl(context.config.base_url, path),
    headers: { authorization: `Bearer ${context.token}` },
    body,
    describeError: hubspotError,
    accept: [429, ...accept],
  });
  if (response.status === 429) throw rateLimited(response, method, path);
  return response;
}

const contactPath = (id: string) => `/crm/v3/objects/contacts/${encodeURIComponent(id)}`;

/** Contact fields we may write: only over a contact we created (see `PartnerLead.createdByUs`). */
function contactFields(lead: PartnerLead, withEmail: boolean): Record<string, string> {
  const fields: Record<string, string | undefined> = {
    email: withEmail ? lead.email : undefined,
    firstname: lead.firstName,
    lastname: lead.lastName,
    phone: lead.phone,
    message: lead.message,
  };
  return Object.fromEntries(
    Object.entries(fields).filter((entry): entry is [string, string] => Boolean(entry[1])),
  );
}

/** PATCHes a contact's properties; undefined when HubSpot no longer has it (deleted, or merged away). */
async function writeContact(
  context: HubSpotContext,
  id: string,
  properties: Record<string, string>,
): Promise<{ externalId: string; code: number } | undefined> {
  const response = await hubspotCall(context, 'PATCH', contactPath(id), { properties }, [404]);
  if (response.status === 404) return undefined;
  return { externalId: jsonOf<HubSpotContact>('hubspot', response).id ?? id, code: response.status };
}

/** The id in HubSpot's "Contact already exists. Existing ID: N" conflict. */
function existingIdOf(response: PartnerResponse): string {
  const { message } = hubspotError(response);
  const id = /Existing ID:\s*(\d+)/i.exec(message)?.[1];
  if (!id) {
    throw new PartnerError('hubspot', 'final', `hubspot answered 409 to the contact upsert: ${message}`, {
      status: 409,
      partnerCode: 'CONFLICT',
    });
  }
  return id;
}

/**
 * Finds or creates the lead's contact. By email when the lead has one (the batch upsert matches on the unique
 * email at once, where search would lag recent writes), else by our unique lead id property.
 */
async function upsertContact(context: HubSpotContext, lead: PartnerLead): Promise<Upserted> {
  const leadIdProperty = context.config.lead_id_property;
  if (lead.externalId) {
    const linked = await writeContact(context, lead.externalId, {
      [leadIdProperty]: lead.leadId,
      ...(lead.createdByUs ? contactFields(lead, true) : {}),
    });
    if (linked) return { ...linked, created: false };
  }
  const byEmail = Boolean(lead.email);
  const response = await hubspotCall(
    context,
    'POST',
    '/crm/v3/objects/contacts/batch/upsert',
    {
      inputs: [
        {
          idProperty: byEmail ? 'email' : leadIdProperty,
          id: byEmail ? lead.email : lead.leadId,
          // A contact found by our own lead id is ours. One found by email may be a person HubSpot already
          // knew: its name and phone are not overwritten (written below only when the upsert created it).
          properties: { [leadIdProperty]: lead.leadId, ...(byEmail ? {} : contactFields(lead, false)) },
        },
      ],
    },
    [409],
  );
  // Another contact already holds this email or our lead id: that contact is the lead's.
  if (response.status === 409) return { externalId: existingIdOf(response), created: false, code: 409 };
  const answer = jsonOf<BatchUpsertAnswer>('hubspot', response);
  const refused = answer.errors?.[0];
  if (refused) {
    throw new PartnerError(
      'hubspot',
      'final',
      `hubspot refused the contact upsert: ${refused.message ?? ''}`,
      {
        status: response.status,
        partnerCode: refused.category,
      },
    );
  }
  const result = answer.results?.[0];
  if (!result?.id) {
    throw new PartnerError(
      'hubspot',
      'retryable',
      'hubspot answered the contact upsert without a contact id',
      {
        status: response.status,
      },
    );
  }
  const created = result.new === true;
  const fields = contactFields(lead, false);
  if (created && byEmail && Object.keys(fields).length > 0) await writeContact(context, result.id, fields);
  return { externalId: result.id, created, code: response.status };
}

async function readContact(
  context: HubSpotContext,
  id: string,
  properties: string[],
): Promise<HubSpotContact> {
  const query = new URLSearchParams({ properties: properties.join(',') });
  return jsonOf<HubSpotContact>('hubspot', await hubspotCall(context, 'GET', `${contactPath(id)}?${query}`));
}

async function pushStatus(connection: PartnerConnection, push: StatusPush): Promise<PushResult> {
  const context = hubspotContext(connection);
  const { config } = context;
  const value = config.status_map?.[push.status] ?? push.value;
  if (!value) return { outcome: 'skipped', detail: `no ${config.stage_property} value for ${push.status}` };
  const lifecycle = config.lifecycle_stage_map?.[push.status];
  const properties: Record<string, string> = {
    [config.stage_property]: value,
    ...(lifecycle ? { lifecyclestage: lifecycle } : {}),
    [config.origin_property]: push.origin,
    [config.causation_property]: push.causationId,
  };

  return pushToRecord(push.lead, {
    partner: 'hubspot',
    noun: 'contact',
    resolve: async (lead) =>
      lead.externalId ? { externalId: lead.externalId, created: false } : upsertContact(context, lead),
    write: async (contact) => (await writeContact(context, contact.externalId, properties)) ?? 'vanished',
    async readBack(_contact, written) {
      const read = await readContact(context, written.externalId, [
        config.stage_property,
        'lifecyclestage',
        config.causation_property,
      ]);
      const seen = read.properties?.[config.stage_property] ?? '';
      const seenLifecycle = read.properties?.lifecyclestage ?? '';
      if (seen !== value) return `${config.stage_property} reads "${seen}" after writing "${value}"`;
      if (lifecycle !== undefined && seenLifecycle !== lifecycle) {
        return `lifecyclestage reads "${seenLifecycle}" after writing "${lifecycle}"`;
      }
      return undefined;
    },
  });
}

async function upsertLead(connection: PartnerConnection, lead: PartnerLead): Promise<Upserted> {
  return upsertContact(hubspotContext(connection), lead);
}

/** The values a push may write to a property: the configured ones, else leadrelay's vocabulary. */
function mappedValues(map: Record<string, string | undefined> | undefined, fallback: boolean): string[] {
  const values = STATUSES.map(
    (status) => map?.[status] ?? (fallback ? fromCanonical('hubspot', status) : undefined),
  );
  return [...new Set(values.filter((value): value is string => Boolean(value)))];
}

/**
 * Reads one contact (proves the token and its contacts scope), then checks the portal is set up for us: the
 * stage property and its options, our custom properties, the lead id property's unique values.
 */
async function testConnection(connection: PartnerConnection): Promise<{ detail: string }> {
  const context = hubspotContext(connection);
  const { config } = context;
  await hubspotCall(context, 'GET', `/crm/v3/objects/contacts?limit=1&properties=${config.stage_property}`);
  const response = await hubspotCall(context, 'GET', '/crm/v3/properties/contacts', undefined, [403]);
  if (response.status === 403) {
    return { detail: `contacts readable; property setup not checked: ${hubspotError(response).message}` };
  }
  const properties = new Map(
    (jsonOf<{ results?: HubSpotProperty[] }>('hubspot', response).results ?? []).map((p) => [p.name, p]),
  );
  const problems: string[] = [];
  const checkOptions = (name: string, values: string[]) => {
    const property = properties.get(name);
    if (!property) {
      problems.push(`property ${name} does not exist`);
      return;
    }
    const options = new Set((property.options ?? []).map((option) => option.value));
    const missing = values.filter((value) => !options.has(value));
    if (options.size > 0 && missing.length > 0) problems.push(`${name} has no option ${missing.join(', ')}`);
  };
  const stageValues = mappedValues(config.status_map, true);
  checkOptions(config.stage_property, stageValues);
  const lifecycleValues = mappedValues(config.lifecycle_stage_map, false);
  if (lifecycleValues.length > 0) checkOptions('lifecyclestage', lifecycleValues);
  for (const name of [config.origin_property, config.causation_property]) {
    if (!properties.has(name)) problems.push(`custom property ${name} does not exist (single-line text)`);
  }
  const leadId = properties.get(config.lead_id_property);
  if (!leadId) {
    problems.push(
      `custom property ${config.lead_id_property} does not exist (single-line text, unique values)`,
    );
  } else if (!leadId.hasUniqueValue) {
    problems.push(
      `${config.lead_id_property} must require unique values: it is the upsert key of leads without email`,
    );
  }
  if (problems.length > 0) {
    throw new PartnerError(
      'hubspot',
      'final',
      `HubSpot is reachable but not set up for leadrelay: ${problems.join('; ')}`,
    );
  }
  return {
    detail: `contacts readable; ${config.stage_property} takes all ${stageValues.length} mapped values; leadrelay properties present`,
  };
}

/** HubSpot's search answers at most 10 000 results per query: a backfill moves its window on before that. */
const SEARCH_WINDOW = 10_000;
const SEARCH_PAGE = 100;

interface SearchCursor {
  /** The lower bound of lastmodifieddate for this query window (ISO). */
  since: string;
  after?: string;
}

/**
 * Contacts modified since `since`, oldest change first, 100 a page by CRM search. Past 10 000 results the query
 * starts again from the last change seen (a contact on the seam may come twice: its second row is skipped as a
 * duplicate). Each contact's stage property is read back through the integration's status_map, else HubSpot's
 * lead status words; a stage neither knows is passed on as it is, so its row fails naming it.
 */
async function listLeads(
  connection: PartnerConnection,
  page: { since: string; cursor?: string },
): Promise<LeadListPage> {
  const context = hubspotContext(connection);
  const { config } = context;
  const cursor: SearchCursor = page.cursor
    ? (JSON.parse(page.cursor) as SearchCursor)
    : { since: new Date(page.since).toISOString() };
  const response = await hubspotCall(context, 'POST', '/crm/v3/objects/contacts/search', {
    filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: cursor.since }] }],
    sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
    properties: [
      'email',
      'firstname',
      'lastname',
      'phone',
      'message',
      'createdate',
      'lastmodifieddate',
      'notes_last_contacted',
      config.stage_property,
      config.lead_id_property,
    ],
    limit: SEARCH_PAGE,
    ...(cursor.after ? { after: cursor.after } : {}),
  });
  const answer = jsonOf<{ results?: HubSpotContact[]; paging?: { next?: { after?: string } } }>(
    'hubspot',
    response,
  );
  const results = answer.results ?? [];
  const mapped = Object.fromEntries(
    Object.entries(config.status_map ?? {}).map(([status, value]) => [value, status as LeadStatus]),
  );
  const records = results.map((contact) => {
    const p = contact.properties ?? {};
    const stage = p[config.stage_property] ?? '';
    return importRecord({
      external_id: contact.id,
      external_source: 'hubspot',
      first_name: p.firstname,
      last_name: p.lastname,
      email: p.email,
      phone: p.phone,
      message: p.message,
      source: 'hubspot',
      // A contact without a lead status has not been worked yet.
      status: stage === '' ? 'new' : (wonAsWon(mapped[stage] ?? toCanonical('hubspot', stage)) ?? stage),
      created_at: p.createdate,
      last_activity_at: p.notes_last_contacted ?? p.lastmodifieddate,
    });
  });
  const after = answer.paging?.next?.after;
  let next: SearchCursor | undefined;
  if (after && Number(after) + SEARCH_PAGE <= SEARCH_WINDOW) next = { since: cursor.since, after };
  else if (after) next = { since: results.at(-1)?.properties?.lastmodifieddate ?? cursor.since };
  return { records, ...(next ? { cursor: JSON.stringify(next) } : {}) };
}

const outbound: OutboundAdapter = { pushStatus, upsertLead, testConnection, listLeads };

export const hubspot: PartnerAdapter = {
  partner: 'hubspot',
  integration: {
    webhookSecret: { kind: 'credential', field: 'client_secret' },
    credentials: HubSpotCredentials,
    config: HubSpotConfig,
  },
  inbound: { verify, parse },
  outbound,
};
