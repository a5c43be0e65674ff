// GoHighLevel (LeadConnector). Inbound: contact and opportunity webhooks, verified by public key:
// `x-ghl-signature` (Ed25519) or the legacy `x-wh-signature` (RSA-SHA256), base64 over the raw body, against the
// keys in the integration's config (GoHighLevel publishes them); the signed `timestamp` within 5 minutes.
// Outbound (API v2): contacts upserted, the lead's opportunity in the configured pipeline moved to the stage and
// status of its canonical status and read back; OAuth refresh once on a 401.
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { importRecord, wonAsWon } from '../../shared/imports';
import { emailField } from '../../shared/contact';
import { toCanonical, type LeadStatus } from '../../shared/lifecycle';
import {
  PartnerError,
  baseUrl,
  joinUrl,
  jsonOf,
  partnerRequest,
  retryAfterMs,
  type PartnerResponse,
} from './http';
import { configOf, requireFields } from './configFields';
import {
  contactConflictError,
  matchContact,
  pushToRecord,
  type ContactConflict,
  type ContactFields,
} from './recordPush';
import { TokenSession, type TokenSet } from './tokenSession';
import { compact, id, isoTime, jsonBody, requireKnownStatus, text, validate } from './parsing';
import { requireFresh, unauthorized } from './signatures';
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

export const GHL_TOLERANCE_MS = 5 * 60 * 1000;

const pem = z
  .string()
  .max(5000)
  .refine((value) => {
    try {
      createPublicKey(value);
      return true;
    } catch {
      return false;
    }
  }, 'a PEM public key');

export const GHL_BASE_URL = 'https://services.leadconnectorhq.com';
export const GHL_API_VERSION = '2021-07-28';

const stageId = (status: string) =>
  z.string().min(1).max(100).optional().describe(`pipelineStageId for leads that become ${status}`);

/** The fields, without the webhook-key rule (the outbound side needs no key). */
export const GoHighLevelFields = z
  .object({
    public_key: pem.optional().describe("GoHighLevel's webhook public key (Ed25519, PEM)"),
    rsa_public_key: pem.optional().describe("GoHighLevel's legacy webhook public key (RSA, PEM)"),
    location_id: text(100).optional().describe('The location (sub-account) id: required to push statuses'),
    base_url: z
      .url({ protocol: /^https?$/ })
      .max(500)
      .default(GHL_BASE_URL)
      .describe("GoHighLevel's API host (a sandbox in tests)"),
    pipeline_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("The pipeline holding leads' opportunities: required to push statuses"),
    stage_ids: z
      .object({
        new: stageId('new'),
        contacted: stageId('contacted'),
        qualified: stageId('qualified'),
        tour_scheduled: stageId('tour_scheduled'),
        toured: stageId('toured'),
        application: stageId('application'),
        leased: stageId('leased'),
        placed: stageId('placed'),
        lost: stageId('lost'),
      })
      .optional()
      .describe('Pipeline stage per canonical status; a status without one changes only open/won/lost'),
    lost_reason_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('Lost reason id sent with lost opportunities'),
  })
  .loose();

export const GoHighLevelConfig = GoHighLevelFields.refine(
  (config) => config.public_key || config.rsa_public_key,
  {
    message: "GoHighLevel's webhook public key (Ed25519 PEM), or rsa_public_key for the legacy signature",
    path: ['public_key'],
  },
);

/** A location token, or an OAuth app's client and refresh token (all optional: inbound needs none). */
export const GoHighLevelCredentials = z.object({
  access_token: z
    .string()
    .min(1)
    .max(4000)
    .optional()
    .describe('Location access token or private integration token'),
  client_id: z.string().min(1).max(200).optional().describe('OAuth app client id (to refresh tokens)'),
  client_secret: z.string().min(1).max(500).optional().describe('OAuth app client secret'),
  refresh_token: z.string().min(1).max(4000).optional().describe('OAuth refresh token of the location'),
});

export const GoHighLevelWebhook = z
  .object({
    type: text(100),
    locationId: text(100).optional(),
    webhookId: id,
    timestamp: isoTime,
    id: text(100).optional(),
    contactId: text(100).optional(),
    email: emailField.nullish(),
    phone: text(40).nullish(),
    firstName: text(200).nullish(),
    lastName: text(200).nullish(),
    source: text(200).nullish(),
    status: text(50).optional(),
    pipelineId: text(100).optional(),
    pipelineStageId: text(100).optional(),
    messageId: text(100).optional(),
    messageType: text(50).optional(),
  })
  .loose();

function key(config: Record<string, unknown>, name: 'public_key' | 'rsa_public_key'): KeyObject | undefined {
  const value = config[name];
  if (typeof value !== 'string' || !value) return undefined;
  try {
    return createPublicKey(value);
  } catch {
    return undefined;
  }
}

function verify(request: InboundRequest, secrets: InboundSecrets): void {
  const ed25519 = request.headers['x-ghl-signature'];
  const legacy = request.headers['x-wh-signature'];
  let valid = false;
  if (ed25519) {
    const publicKey = key(secrets.config, 'public_key');
    if (!publicKey) throw unauthorized('this integration has no GoHighLevel public key', 'no_secret');
    valid = verifySignature(null, request.rawBody, publicKey, Buffer.from(ed25519, 'base64'));
  } else if (legacy) {
    const publicKey = key(secrets.config, 'rsa_public_key');
    if (!publicKey) throw unauthorized('this integration has no GoHighLevel RSA public key', 'no_secret');
    valid = verifySignature('sha256', request.rawBody, publicKey, Buffer.from(legacy, 'base64'));
  } else {
    throw unauthorized('missing x-ghl-signature', 'missing_headers');
  }
  if (!valid) throw unauthorized('the GoHighLevel signature does not match the body', 'bad_signature');
  // The time is inside the signed body: read it only once the signature holds.
  let timestamp: unknown;
  try {
    timestamp = (JSON.parse(request.rawBody.toString('utf8')) as { timestamp?: unknown }).timestamp;
  } catch {
    return; // not JSON: parse answers 400
  }
  if (typeof timestamp === 'string')
    requireFresh(request, Date.parse(timestamp), GHL_TOLERANCE_MS, 'timestamp');
}

function parse(request: InboundRequest): InboundEvent[] {
  const body = validate(GoHighLevelWebhook, jsonBody(request));
  const base = { partnerEventId: body.webhookId, eventType: body.type, occurredAt: body.timestamp };
  const contactId = body.type === 'ContactCreate' ? body.id : body.contactId;
  const byContact = contactId
    ? { find: [{ by: 'external_id' as const, partner: 'gohighlevel' as const, externalId: contactId }] }
    : undefined;
  switch (body.type) {
    case 'ContactCreate':
      if (!body.id) break;
      return [
        {
          ...base,
          lead: {
            create: compact({
              firstName: body.firstName ?? undefined,
              lastName: body.lastName ?? undefined,
              email: body.email ?? undefined,
              phone: body.phone ?? undefined,
              externalIds: { gohighlevel: body.id },
              customData: compact({
                gohighlevel: compact({ location_id: body.locationId, source: body.source ?? undefined }),
              }),
            }),
          },
          events: [],
        },
      ];
    case 'OpportunityStatusUpdate':
    case 'OpportunityStageUpdate':
    case 'OpportunityCreate':
      if (!byContact || !body.status) break;
      requireKnownStatus('gohighlevel', body.status, 'status');
      return [
        {
          ...base,
          lead: byContact,
          events: [
            {
              kind: 'partner_status',
              partner: 'gohighlevel',
              value: body.status,
              context: compact({
                opportunity_id: body.id,
                pipeline_id: body.pipelineId,
                pipeline_stage_id: body.pipelineStageId,
              }),
            },
          ],
        },
      ];
    case 'InboundMessage':
      if (!byContact) break;
      return [
        {
          ...base,
          lead: byContact,
          events: [{ kind: 'sms_received', messageId: body.messageId ?? body.webhookId }],
        },
      ];
  }
  return [{ ...base, events: [], note: `${body.type} is not mapped` }];
}

// ---- outbound (LeadConnector API v2) ----

interface GhlErrorBody {
  statusCode?: number;
  message?: string | string[];
  error?: string;
  error_description?: string;
}

type GhlContact = ContactFields & { id: string };

interface GhlOpportunity {
  id: string;
  pipelineId?: string;
  pipelineStageId?: string;
  status?: string;
  contactId?: string;
}

interface GhlPipeline {
  id: string;
  name?: string;
  stages?: { id: string; name?: string }[];
}

type GhlConfig = z.output<typeof GoHighLevelFields>;

interface GhlSettings {
  config: GhlConfig;
  base: string;
  locationId: string;
  tokens: TokenSession;
}

/** GoHighLevel's opportunity statuses; our words for them come from the partner vocabulary. */
const GHL_STATUSES = ['open', 'won', 'lost', 'abandoned'];

/**
 * Tokens got by refreshing, for connections without a credential store (an adapter called outside a worker):
 * per integration and credentials, for this process. With a store, the rotated tokens are stored instead.
 */
const refreshedTokens = new Map<string, TokenSet>();

function ghlSettings(connection: PartnerConnection, needs: { pipeline: boolean }): GhlSettings {
  const config = configOf('gohighlevel', GoHighLevelFields, connection);
  const base = baseUrl({ ...connection, config }, GHL_BASE_URL);
  const { access_token, client_id, client_secret, refresh_token } = connection.credentials;
  const cacheKey = `${connection.integrationId}/${createHash('sha256')
    .update([access_token, client_id, refresh_token].join('\n'))
    .digest('base64url')}`;
  const remembered = connection.credentialStore ? undefined : refreshedTokens.get(cacheKey);
  const tokens = new TokenSession(
    'gohighlevel',
    {
      accessToken: remembered?.accessToken ?? access_token,
      refresh:
        client_id && client_secret && refresh_token
          ? () => renewTokens(connection, base, { client_id, client_secret }, remembered?.refreshToken)
          : undefined,
      onRefreshed: (set) => {
        if (!connection.credentialStore) refreshedTokens.set(cacheKey, set);
      },
    },
    'gohighlevel credentials missing: access_token, or client_id, client_secret and refresh_token',
  );
  requireFields('gohighlevel', 'config', [
    ...(config.location_id ? [] : ['location_id']),
    ...(needs.pipeline && !config.pipeline_id ? ['pipeline_id'] : []),
  ]);
  return { config, base, locationId: config.location_id!, tokens };
}

/**
 * New tokens. GoHighLevel rotates the refresh token at every refresh, so with a credential store the refresh runs
 * under the integration's lock and the rotated token is stored (sealed) in that transaction, before it is used:
 * a worker restart continues with it, and a concurrent attempt takes the tokens this one stored instead of
 * spending the old refresh token again.
 */
async function renewTokens(
  connection: PartnerConnection,
  base: string,
  app: { client_id: string; client_secret: string },
  rememberedRefreshToken: string | undefined,
): Promise<TokenSet> {
  const loaded = connection.credentials;
  const store = connection.credentialStore;
  if (!store) {
    return refreshAccessToken(connection, base, {
      ...app,
      refresh_token: rememberedRefreshToken ?? loaded.refresh_token!,
    });
  }
  const stored = await store.rotate(async (current) => {
    // Refreshed by another attempt since this one read the credentials: its tokens are the newest.
    if (current.access_token && current.access_token !== loaded.access_token) return current;
    const set = await refreshAccessToken(connection, base, {
      ...app,
      refresh_token: current.refresh_token ?? loaded.refresh_token!,
    });
    return {
      ...current,
      access_token: set.accessToken,
      refresh_token: set.refreshToken ?? current.refresh_token!,
    };
  });
  return { accessToken: stored.access_token!, refreshToken: stored.refresh_token };
}

/** GoHighLevel's error text: `message` (a string, or an array of field messages on 422), else OAuth's. */
function describeGhlError(response: PartnerResponse): { message: string; code?: string } {
  try {
    const body = JSON.parse(response.text) as GhlErrorBody;
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    return {
      message: message ?? body.error_description ?? body.error ?? response.text.slice(0, 200),
      code: body.error,
    };
  } catch {
    return { message: response.text.slice(0, 200) };
  }
}

/** POST /oauth/token with the newest refresh token: a new access token and the rotated refresh token. */
async function refreshAccessToken(
  connection: PartnerConnection,
  base: string,
  oauth: { client_id: string; client_secret: string; refresh_token: string },
): Promise<TokenSet> {
  const response = await partnerRequest('gohighlevel', connection, {
    method: 'POST',
    url: joinUrl(base, 'oauth/token'),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...oauth, grant_type: 'refresh_token', user_type: 'Location' }).toString(),
    describeError: describeGhlError,
  });
  const body = jsonOf<{ access_token?: string; refresh_token?: string }>('gohighlevel', response);
  if (!body.access_token) {
    throw new PartnerError(
      'gohighlevel',
      'final',
      'gohighlevel token refresh answered without access_token',
      {
        status: response.status,
      },
    );
  }
  return { accessToken: body.access_token, refreshToken: body.refresh_token ?? oauth.refresh_token };
}

/**
 * One API call with the location's token (a 401 refreshes it once, with OAuth credentials: `TokenSession`); a
 * 429 is retryable after Retry-After or the rate-limit interval.
 */
async function ghlRequest(
  settings: GhlSettings,
  connection: PartnerConnection,
  request: { method: 'GET' | 'POST' | 'PUT'; path: string; query?: Record<string, string>; body?: object },
): Promise<PartnerResponse> {
  const query = request.query ? `?${new URLSearchParams(request.query).toString()}` : '';
  return settings.tokens.call(async (token) => {
    const response = await partnerRequest('gohighlevel', connection, {
      method: request.method,
      url: joinUrl(settings.base, request.path) + query,
      headers: { authorization: `Bearer ${token}`, version: GHL_API_VERSION },
      body: request.body,
      describeError: describeGhlError,
      accept: [429],
    });
    if (response.status !== 429) return response;
    const described = describeGhlError(response);
    const interval = Number(response.headers.get('x-ratelimit-interval-milliseconds'));
    throw new PartnerError(
      'gohighlevel',
      'retryable',
      `gohighlevel answered 429 to ${request.method} /${request.path}: ${described.message}`,
      {
        status: 429,
        partnerCode: described.code,
        retryAfterMs:
          retryAfterMs(response.headers.get('retry-after')) ?? (interval > 0 ? interval : undefined),
      },
    );
  });
}

function contactFields(settings: GhlSettings, lead: PartnerLead) {
  return compact({
    locationId: settings.locationId,
    firstName: lead.firstName,
    lastName: lead.lastName,
    email: lead.email,
    phone: lead.phone,
    source: lead.source,
  });
}

/**
 * The lead's contact: by the id we know; else GoHighLevel's duplicate search (email, then phone), linked only
 * when it is the same person (`matchContact`); else created.
 */
async function resolveContact(
  settings: GhlSettings,
  connection: PartnerConnection,
  lead: PartnerLead,
): Promise<Upserted | ContactConflict> {
  if (lead.externalId) return { externalId: lead.externalId, created: false, code: 200 };
  const matched = await matchContact(
    lead,
    async (by, value) => {
      const response = await ghlRequest(settings, connection, {
        method: 'GET',
        path: 'contacts/search/duplicate',
        query: { locationId: settings.locationId, [by === 'email' ? 'email' : 'number']: value },
      });
      const found = jsonOf<{ contact?: GhlContact | null }>('gohighlevel', response).contact;
      return found?.id ? [found] : [];
    },
    (contact) => contact.id,
  );
  if (matched && 'conflict' in matched) return matched;
  if (matched) return { externalId: matched.match.id, created: false, code: 200 };
  const response = await ghlRequest(settings, connection, {
    method: 'POST',
    path: 'contacts/upsert',
    body: contactFields(settings, lead),
  });
  const body = jsonOf<{ new?: boolean; contact?: GhlContact }>('gohighlevel', response);
  if (!body.contact?.id) {
    throw new PartnerError('gohighlevel', 'retryable', 'gohighlevel upsert answered without a contact id', {
      status: response.status,
    });
  }
  return { externalId: body.contact.id, created: body.new === true, code: response.status };
}

/** The opportunity status a push sets: the partner word when it is one of GoHighLevel's, else still open. */
function opportunityStatus(push: StatusPush): string {
  return GHL_STATUSES.includes(push.value) ? push.value : 'open';
}

function stageFor(config: GhlConfig, status: LeadStatus): string | undefined {
  const stages = config.stage_ids as Partial<Record<LeadStatus, string>> | undefined;
  if (status === 'placed') return stages?.placed ?? stages?.leased;
  if (status === 'leased') return stages?.leased ?? stages?.placed;
  return stages?.[status];
}

async function findOpportunity(
  settings: GhlSettings,
  connection: PartnerConnection,
  contactId: string,
): Promise<GhlOpportunity | undefined> {
  const response = await ghlRequest(settings, connection, {
    method: 'GET',
    path: 'opportunities/search',
    query: {
      location_id: settings.locationId,
      contact_id: contactId,
      pipeline_id: settings.config.pipeline_id!,
    },
  });
  const body = jsonOf<{ opportunities?: GhlOpportunity[] }>('gohighlevel', response);
  return (body.opportunities ?? []).find(
    (o) => o.contactId === contactId && o.pipelineId === settings.config.pipeline_id,
  );
}

async function readOpportunity(
  settings: GhlSettings,
  connection: PartnerConnection,
  opportunityId: string,
): Promise<GhlOpportunity | undefined> {
  const response = await ghlRequest(settings, connection, {
    method: 'GET',
    path: `opportunities/${encodeURIComponent(opportunityId)}`,
  });
  return jsonOf<{ opportunity?: GhlOpportunity }>('gohighlevel', response).opportunity;
}

function opportunityName(lead: PartnerLead): string {
  return [lead.firstName, lead.lastName].filter(Boolean).join(' ') || `Lead ${lead.leadId.slice(0, 8)}`;
}

/**
 * The lead's record is its contact (the id webhooks report); what is written and read back is the contact's
 * opportunity in the configured pipeline, found by contact and pipeline on every push.
 */
async function ghlPushStatus(connection: PartnerConnection, push: StatusPush): Promise<PushResult> {
  const settings = ghlSettings(connection, { pipeline: true });
  const { pipeline_id: pipelineId, lost_reason_id: lostReasonId } = settings.config;
  const status = opportunityStatus(push);
  const stageId = stageFor(settings.config, push.status);
  const lostReason = status === 'lost' ? lostReasonId : undefined;
  const applied = (o: GhlOpportunity | undefined) =>
    o !== undefined && o.status === status && (stageId === undefined || o.pipelineStageId === stageId);
  return pushToRecord(push.lead, {
    partner: 'gohighlevel',
    noun: 'contact',
    async resolve(lead) {
      const contact = await resolveContact(settings, connection, lead);
      if ('conflict' in contact) return contact;
      const opportunity = await findOpportunity(settings, connection, contact.externalId);
      // Only a contact this push created is ours: `createdRecord` is left out otherwise.
      return { externalId: contact.externalId, created: contact.created || undefined, opportunity };
    },
    applied: ({ opportunity }) => applied(opportunity),
    async write({ externalId, opportunity }) {
      if (opportunity) {
        const response = await ghlRequest(settings, connection, {
          method: 'PUT',
          path: `opportunities/${encodeURIComponent(opportunity.id)}`,
          body: compact({ pipelineId, pipelineStageId: stageId, status, lostReasonId: lostReason }),
        });
        return { code: response.status, externalId, opportunityId: opportunity.id };
      }
      const response = await ghlRequest(settings, connection, {
        method: 'POST',
        path: 'opportunities/',
        body: compact({
          pipelineId,
          locationId: settings.locationId,
          name: opportunityName(push.lead),
          pipelineStageId: stageId,
          status,
          contactId: externalId,
          source: push.lead.source,
          lostReasonId: lostReason,
        }),
      });
      const body = jsonOf<{ opportunity?: GhlOpportunity }>('gohighlevel', response);
      if (!body.opportunity?.id) {
        throw new PartnerError('gohighlevel', 'retryable', 'gohighlevel answered without an opportunity id', {
          status: response.status,
        });
      }
      return { code: response.status, externalId, opportunityId: body.opportunity.id };
    },
    async readBack(_contact, { opportunityId }) {
      const read = await readOpportunity(settings, connection, opportunityId);
      if (applied(read)) return undefined;
      return (
        `gohighlevel opportunity ${opportunityId} shows status ${read?.status ?? '(none)'} and stage ` +
        `${read?.pipelineStageId ?? '(none)'}, not ${status}${stageId ? ` and ${stageId}` : ''}`
      );
    },
  });
}

async function ghlUpsertLead(connection: PartnerConnection, lead: PartnerLead): Promise<Upserted> {
  const settings = ghlSettings(connection, { pipeline: false });
  if (lead.externalId) {
    // Our contact fields go only onto a contact we created; GoHighLevel's own contacts stay as they are.
    if (!lead.createdByUs) return { externalId: lead.externalId, created: false, code: 200 };
    const { locationId: _location, ...fields } = contactFields(settings, lead);
    const response = await ghlRequest(settings, connection, {
      method: 'PUT',
      path: `contacts/${encodeURIComponent(lead.externalId)}`,
      body: fields,
    });
    return { externalId: lead.externalId, created: false, code: response.status };
  }
  const contact = await resolveContact(settings, connection, lead);
  if ('conflict' in contact) throw contactConflictError('gohighlevel', 'contact', contact);
  return contact;
}

/** GET /opportunities/pipelines: proves token and location, and that the configured pipeline and stages exist. */
async function ghlTestConnection(connection: PartnerConnection): Promise<{ detail: string }> {
  const settings = ghlSettings(connection, { pipeline: false });
  const response = await ghlRequest(settings, connection, {
    method: 'GET',
    path: 'opportunities/pipelines',
    query: { locationId: settings.locationId },
  });
  const pipelines = jsonOf<{ pipelines?: GhlPipeline[] }>('gohighlevel', response).pipelines ?? [];
  const pipelineId = settings.config.pipeline_id;
  if (!pipelineId) return { detail: `gohighlevel location reachable: ${pipelines.length} pipelines` };
  const pipeline = pipelines.find((p) => p.id === pipelineId);
  if (!pipeline) {
    throw new PartnerError('gohighlevel', 'final', `gohighlevel location has no pipeline ${pipelineId}`, {
      status: response.status,
      partnerCode: 'pipeline_not_found',
    });
  }
  const stageIds = new Set((pipeline.stages ?? []).map((stage) => stage.id));
  const configured = Object.entries(settings.config.stage_ids ?? {}).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  const unknown = configured
    .filter(([, stage]) => !stageIds.has(stage))
    .map(([status]) => `stage_ids.${status}`);
  if (unknown.length > 0) {
    throw new PartnerError(
      'gohighlevel',
      'final',
      `gohighlevel pipeline ${pipelineId} has no stage for ${unknown.join(', ')}`,
      { status: response.status, partnerCode: 'stage_not_found' },
    );
  }
  return {
    detail: `gohighlevel location reachable: pipeline "${pipeline.name ?? pipelineId}" with ${stageIds.size} stages`,
  };
}

const outbound: OutboundAdapter = {
  pushStatus: ghlPushStatus,
  upsertLead: ghlUpsertLead,
  testConnection: ghlTestConnection,
  listLeads,
};

interface ListedOpportunity extends GhlOpportunity {
  createdAt?: string;
  updatedAt?: string;
  lastStageChangeAt?: string;
  contact?: { id?: string; name?: string; email?: string; phone?: string };
}

/**
 * The pipeline's opportunities changed since `since`, 100 a page, each as its contact at the stage its pipeline
 * stage maps to (the integration's stage_ids read backwards), else at what its status says (won, lost, abandoned;
 * open is contacted).
 */
async function listLeads(
  connection: PartnerConnection,
  page: { since: string; cursor?: string },
): Promise<LeadListPage> {
  const settings = ghlSettings(connection, { pipeline: true });
  const response = await ghlRequest(settings, connection, {
    method: 'GET',
    path: 'opportunities/search',
    query: {
      location_id: settings.locationId,
      pipeline_id: settings.config.pipeline_id!,
      limit: '100',
      page: page.cursor ?? '1',
    },
  });
  const body = jsonOf<{ opportunities?: ListedOpportunity[]; meta?: { nextPage?: number | null } }>(
    'gohighlevel',
    response,
  );
  const since = Date.parse(page.since);
  const stages = Object.entries(settings.config.stage_ids ?? {}).flatMap(([status, stage]) =>
    stage ? [[stage, status as LeadStatus] as const] : [],
  );
  const records = (body.opportunities ?? [])
    .filter((o) => Date.parse(o.updatedAt ?? o.createdAt ?? '') >= since)
    .map((o) => {
      const byStatus = o.status === 'open' ? undefined : toCanonical('gohighlevel', o.status ?? '');
      const byStage = stages.find(([stage]) => stage === o.pipelineStageId)?.[1];
      const status = wonAsWon(byStatus ?? byStage ?? toCanonical('gohighlevel', o.status ?? '')) ?? o.status;
      const [first, ...rest] = (o.contact?.name ?? '').trim().split(/\s+/);
      return importRecord({
        external_id: o.contactId ?? o.contact?.id,
        external_source: 'gohighlevel',
        first_name: first,
        last_name: rest.join(' '),
        email: o.contact?.email,
        phone: o.contact?.phone,
        property_id: connection.propertyId,
        source: 'gohighlevel',
        status,
        created_at: o.createdAt,
        status_changed_at: o.lastStageChangeAt,
        last_activity_at: o.updatedAt,
      });
    });
  const next = body.meta?.nextPage;
  return { records, ...(next ? { cursor: String(next) } : {}) };
}

export const gohighlevel: PartnerAdapter = {
  partner: 'gohighlevel',
  integration: {
    webhookSecret: { kind: 'none' },
    config: GoHighLevelConfig,
    credentials: GoHighLevelCredentials,
  },
  inbound: { verify, parse },
  outbound,
};
