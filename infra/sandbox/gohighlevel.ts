// A local stand-in for GoHighLevel's LeadConnector API v2 (the subset leadrelay uses): Bearer tokens with the
// `Version` header, OAuth refresh with rotating refresh tokens, contacts (upsert, duplicate search, update),
// opportunities (search, create, update, status, read) and pipelines, GoHighLevel's error bodies
// (`{ statusCode, message, error }`, 422 with a message array) and rate-limit headers. State is in memory;
// the shared faults, `down` and `ignoreWrites` come from ./partner.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { send, startPartnerSandbox, type PartnerSandbox, type SandboxHandlerContext } from './partner';

export interface GhlSandboxContact {
  id: string;
  locationId: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  source?: string;
  dateAdded: string;
  dateUpdated: string;
}

export interface GhlSandboxOpportunity {
  id: string;
  name: string;
  pipelineId: string;
  pipelineStageId: string;
  status: string;
  contactId: string;
  locationId: string;
  source?: string;
  lostReasonId?: string;
  createdAt: string;
  updatedAt: string;
  lastStatusChangeAt: string;
  lastStageChangeAt: string;
}

export interface GhlSandboxPipeline {
  id: string;
  name: string;
  stages: { id: string; name: string; position: number }[];
}

export interface GhlSandboxOptions {
  port?: number;
  locationId?: string;
  /** A location access token accepted as is (private integration / location token). */
  accessToken?: string;
  oauth?: { clientId?: string; clientSecret?: string; refreshToken?: string };
  pipelines?: GhlSandboxPipeline[];
  /** Requests per 10-second window before 429 (GoHighLevel's burst limit is 100). */
  rateLimitMax?: number;
}

export interface GhlSandbox extends PartnerSandbox {
  locationId: string;
  /** The static token, and the OAuth app the refresh flow accepts. */
  accessToken: string;
  oauth: { clientId: string; clientSecret: string; refreshToken: string };
  pipelines: GhlSandboxPipeline[];
  contacts: Map<string, GhlSandboxContact>;
  opportunities: Map<string, GhlSandboxOpportunity>;
  /** Every token issued or accepted so far stops working (an expired access token). */
  expireTokens(): void;
  /** Back to a fresh location: no contacts or opportunities, the static token valid, no faults or log. */
  reset(): void;
  seedContact(input: Partial<GhlSandboxContact>): GhlSandboxContact;
  seedOpportunity(input: Partial<GhlSandboxOpportunity> & { contactId: string }): GhlSandboxOpportunity;
  /** How many refreshes the OAuth endpoint granted. */
  refreshes: number;
  /** The one refresh token the OAuth endpoint takes now (each refresh rotates it). */
  currentRefreshToken: string;
}

const STATUSES = ['open', 'won', 'lost', 'abandoned'];
const WINDOW_MS = 10_000;
const DAILY_LIMIT = 200_000;

const ghlId = () => randomBytes(15).toString('base64url').slice(0, 20);

function error(res: ServerResponse, statusCode: number, message: string | string[], headers = {}): void {
  const names: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    422: 'Unprocessable Entity',
    429: 'Too Many Requests',
  };
  send(res, statusCode, { statusCode, message, error: names[statusCode] ?? 'Error' }, headers);
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body || '{}') as unknown;
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const str = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
const digits = (phone?: string) => phone?.replace(/\D/g, '').slice(-10) || undefined;

export const DEFAULT_GHL_PIPELINE: GhlSandboxPipeline = {
  id: 'pl7Rk2mWq9XaLs4TnB1c',
  name: 'Leasing',
  stages: [
    { id: 'st01NewLeadX8k2Pq3Lm', name: 'New Lead', position: 0 },
    { id: 'st02ContactedR7w1Zb4', name: 'Contacted', position: 1 },
    { id: 'st03TourBookedK5n8Yv', name: 'Tour Scheduled', position: 2 },
    { id: 'st04TouredQ2m6Hc9Tj1', name: 'Toured', position: 3 },
    { id: 'st05ApplicationW3x7', name: 'Application', position: 4 },
    { id: 'st06LeasedP9d4Fg2Ks8', name: 'Leased', position: 5 },
    { id: 'st07LostN1b5Vt6Ry3Ee', name: 'Lost', position: 6 },
  ],
};

export async function startGoHighLevelSandbox(options: GhlSandboxOptions = {}): Promise<GhlSandbox> {
  const locationId = options.locationId ?? 've9EPM428h8vShlRW1KT';
  const accessToken = options.accessToken ?? `pit-${randomBytes(16).toString('hex')}`;
  const oauth = {
    clientId: options.oauth?.clientId ?? `${randomBytes(12).toString('hex')}-lx1`,
    clientSecret: options.oauth?.clientSecret ?? randomBytes(16).toString('hex'),
    refreshToken: options.oauth?.refreshToken ?? `rt-${randomBytes(16).toString('hex')}`,
  };
  const pipelines = options.pipelines ?? [DEFAULT_GHL_PIPELINE];
  const rateLimitMax = options.rateLimitMax ?? 100;
  const tokens = new Set([accessToken]);
  let refreshToken = oauth.refreshToken;
  const contacts = new Map<string, GhlSandboxContact>();
  const opportunities = new Map<string, GhlSandboxOpportunity>();
  const recent: number[] = [];
  let today = 0;
  let refreshes = 0;

  /** X-RateLimit-* on every API answer, from the requests of the last 10 s. */
  function rateHeaders(): Record<string, string> {
    const now = Date.now();
    while (recent.length > 0 && recent[0]! <= now - WINDOW_MS) recent.shift();
    return {
      'x-ratelimit-limit-daily': String(DAILY_LIMIT),
      'x-ratelimit-daily-remaining': String(Math.max(0, DAILY_LIMIT - today)),
      'x-ratelimit-interval-milliseconds': String(WINDOW_MS),
      'x-ratelimit-max': String(rateLimitMax),
      'x-ratelimit-remaining': String(Math.max(0, rateLimitMax - recent.length)),
    };
  }

  function token(context: SandboxHandlerContext): void {
    const { res, body } = context;
    const form = new URLSearchParams(body);
    if (form.get('client_id') !== oauth.clientId || form.get('client_secret') !== oauth.clientSecret) {
      return error(res, 401, 'Invalid client credentials');
    }
    if (form.get('grant_type') !== 'refresh_token')
      return error(res, 422, ['grant_type must be refresh_token']);
    if (form.get('refresh_token') !== refreshToken)
      return error(res, 401, 'Invalid grant: refresh token is invalid');
    // Refresh tokens are single use: the answer carries the next one.
    refreshToken = `rt-${randomBytes(16).toString('hex')}`;
    const issued = `at-${randomBytes(16).toString('hex')}`;
    tokens.add(issued);
    refreshes += 1;
    send(res, 200, {
      access_token: issued,
      token_type: 'Bearer',
      expires_in: 86399,
      refresh_token: refreshToken,
      scope: 'contacts.readonly contacts.write opportunities.readonly opportunities.write',
      userType: 'Location',
      locationId,
    });
  }

  function contactJson(contact: GhlSandboxContact) {
    return { ...contact, contactName: [contact.firstName, contact.lastName].filter(Boolean).join(' ') };
  }

  function opportunityJson(o: GhlSandboxOpportunity) {
    const contact = contacts.get(o.contactId);
    return {
      ...o,
      monetaryValue: 0,
      assignedTo: null,
      contact: contact
        ? {
            id: contact.id,
            name: contactJson(contact).contactName,
            email: contact.email,
            phone: contact.phone,
          }
        : undefined,
    };
  }

  function api(context: SandboxHandlerContext, headers: Record<string, string>): void {
    const { req, res, url, body, sandbox } = context;
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    const q = url.searchParams;
    const reply = (status: number, value: unknown) => send(res, status, value, headers);
    const fail = (status: number, message: string | string[]) => error(res, status, message, headers);
    const json = method === 'GET' ? {} : parseJson(body);
    if (!json) return fail(400, 'Unexpected token in JSON');
    const location = (value: unknown) => value === undefined || value === locationId;

    if (method === 'GET' && path === '/contacts/search/duplicate') {
      if (!q.get('locationId')) return fail(422, ['locationId should not be empty']);
      if (!location(q.get('locationId')))
        return fail(403, 'The token does not have access to this location.');
      const email = q.get('email')?.toLowerCase();
      const phone = digits(q.get('number') ?? undefined);
      const found = [...contacts.values()].find(
        (c) => (email && c.email?.toLowerCase() === email) || (phone && digits(c.phone) === phone),
      );
      return reply(200, { contact: found ? contactJson(found) : null });
    }
    if (method === 'POST' && path === '/contacts/upsert') {
      const messages: string[] = [];
      if (!str(json.locationId)) messages.push('locationId should not be empty');
      const email = str(json.email);
      if (email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
        messages.push('email must be an email');
      if (!email && !str(json.phone)) messages.push('email or phone should not be empty');
      if (messages.length > 0) return fail(422, messages);
      if (!location(json.locationId)) return fail(403, 'The token does not have access to this location.');
      const phone = digits(str(json.phone));
      const match = [...contacts.values()].find(
        (c) =>
          (email && c.email?.toLowerCase() === email.toLowerCase()) || (phone && digits(c.phone) === phone),
      );
      const now = new Date().toISOString();
      const contact: GhlSandboxContact = {
        ...(match ?? { id: ghlId(), locationId, dateAdded: now }),
        dateUpdated: now,
      };
      // Upsert overwrites the fields it is given, as GoHighLevel does.
      for (const field of ['firstName', 'lastName', 'email', 'phone', 'source'] as const) {
        const value = str(json[field]);
        if (value !== undefined) contact[field] = value;
      }
      if (!sandbox.ignoreWrites) contacts.set(contact.id, contact);
      return reply(match ? 200 : 201, { new: !match, contact: contactJson(contact), traceId: ghlId() });
    }
    const contactPath = /^\/contacts\/([^/]+)$/.exec(path);
    if (contactPath && contactPath[1] !== 'search') {
      const contact = contacts.get(contactPath[1]!);
      if (!contact) return fail(400, 'Contact not found');
      if (method === 'GET') return reply(200, { contact: contactJson(contact) });
      if (method === 'PUT') {
        const updated = { ...contact, dateUpdated: new Date().toISOString() };
        for (const field of ['firstName', 'lastName', 'email', 'phone', 'source'] as const) {
          const value = str(json[field]);
          if (value !== undefined) updated[field] = value;
        }
        if (!sandbox.ignoreWrites) contacts.set(updated.id, updated);
        return reply(200, { succeded: true, contact: contactJson(updated) });
      }
    }
    if (method === 'GET' && path === '/opportunities/pipelines') {
      if (!q.get('locationId')) return fail(422, ['locationId should not be empty']);
      if (!location(q.get('locationId')))
        return fail(403, 'The token does not have access to this location.');
      return reply(200, {
        pipelines: pipelines.map((p) => ({ ...p, locationId, showInFunnel: true, showInPieChart: true })),
      });
    }
    if (method === 'GET' && path === '/opportunities/search') {
      if (!q.get('location_id')) return fail(422, ['location_id should not be empty']);
      if (!location(q.get('location_id')))
        return fail(403, 'The token does not have access to this location.');
      const found = [...opportunities.values()].filter(
        (o) =>
          (!q.get('contact_id') || o.contactId === q.get('contact_id')) &&
          (!q.get('pipeline_id') || o.pipelineId === q.get('pipeline_id')) &&
          (!q.get('status') || o.status === q.get('status')),
      );
      // Pages of `limit` (default 20, at most 100), numbered from 1, oldest first.
      const limit = Number(q.get('limit') ?? 20);
      const page = Number(q.get('page') ?? 1);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        return fail(422, ['limit must not be greater than 100']);
      if (!Number.isInteger(page) || page < 1) return fail(422, ['page must be a positive number']);
      found.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
      const last = Math.max(1, Math.ceil(found.length / limit));
      return reply(200, {
        opportunities: found.slice((page - 1) * limit, page * limit).map(opportunityJson),
        meta: {
          total: found.length,
          currentPage: page,
          nextPage: page < last ? page + 1 : null,
          prevPage: page > 1 ? page - 1 : null,
        },
        aggregations: {},
      });
    }
    if (method === 'POST' && path === '/opportunities') {
      const messages: string[] = [];
      for (const field of ['pipelineId', 'locationId', 'name', 'status', 'contactId']) {
        if (!str(json[field])) messages.push(`${field} should not be empty`);
      }
      if (json.status !== undefined && !STATUSES.includes(String(json.status)))
        messages.push(`status must be one of the following values: ${STATUSES.join(', ')}`);
      if (messages.length > 0) return fail(422, messages);
      if (!location(json.locationId)) return fail(403, 'The token does not have access to this location.');
      const pipeline = pipelines.find((p) => p.id === json.pipelineId);
      if (!pipeline) return fail(400, 'Pipeline not found');
      const stageId = str(json.pipelineStageId) ?? pipeline.stages[0]!.id;
      if (!pipeline.stages.some((s) => s.id === stageId)) return fail(422, ['pipelineStageId is invalid']);
      if (!contacts.has(String(json.contactId))) return fail(400, 'Contact not found');
      const duplicate = [...opportunities.values()].some(
        (o) => o.contactId === json.contactId && o.pipelineId === pipeline.id,
      );
      if (duplicate) return fail(400, 'Can not create duplicate opportunity for the contact.');
      const now = new Date().toISOString();
      const opportunity: GhlSandboxOpportunity = {
        id: ghlId(),
        name: String(json.name),
        pipelineId: pipeline.id,
        pipelineStageId: stageId,
        status: String(json.status),
        contactId: String(json.contactId),
        locationId,
        source: str(json.source),
        lostReasonId: str(json.lostReasonId),
        createdAt: now,
        updatedAt: now,
        lastStatusChangeAt: now,
        lastStageChangeAt: now,
      };
      if (!sandbox.ignoreWrites) opportunities.set(opportunity.id, opportunity);
      return reply(201, { opportunity: opportunityJson(opportunity) });
    }
    const opportunityPath = /^\/opportunities\/([^/]+)(\/status)?$/.exec(path);
    if (opportunityPath) {
      const existing = opportunities.get(opportunityPath[1]!);
      if (!existing) return fail(404, 'Opportunity not found');
      if (method === 'GET' && !opportunityPath[2])
        return reply(200, { opportunity: opportunityJson(existing) });
      if (method === 'PUT') {
        const status = json.status === undefined ? undefined : String(json.status);
        if (opportunityPath[2] && status === undefined) return fail(422, ['status should not be empty']);
        if (status !== undefined && !STATUSES.includes(status))
          return fail(422, [`status must be one of the following values: ${STATUSES.join(', ')}`]);
        const pipeline = pipelines.find((p) => p.id === (str(json.pipelineId) ?? existing.pipelineId));
        if (!pipeline) return fail(400, 'Pipeline not found');
        const stageId = str(json.pipelineStageId);
        if (stageId !== undefined && !pipeline.stages.some((s) => s.id === stageId))
          return fail(422, ['pipelineStageId is invalid']);
        const now = new Date().toISOString();
        const updated: GhlSandboxOpportunity = {
          ...existing,
          pipelineId: pipeline.id,
          pipelineStageId: stageId ?? existing.pipelineStageId,
          status: status ?? existing.status,
          lostReasonId: str(json.lostReasonId) ?? existing.lostReasonId,
          updatedAt: now,
          lastStatusChangeAt: status && status !== existing.status ? now : existing.lastStatusChangeAt,
          lastStageChangeAt:
            stageId && stageId !== existing.pipelineStageId ? now : existing.lastStageChangeAt,
        };
        if (!sandbox.ignoreWrites) opportunities.set(updated.id, updated);
        if (opportunityPath[2]) return reply(200, { succeded: true });
        return reply(200, { opportunity: opportunityJson(updated) });
      }
    }
    return fail(404, `Cannot ${method} ${url.pathname}`);
  }

  const sandbox = await startPartnerSandbox({
    port: options.port,
    errorBody: (status, message) => ({
      contentType: 'application/json',
      body: JSON.stringify({
        statusCode: status,
        message,
        error: status >= 500 ? 'Internal Server Error' : 'Error',
      }),
    }),
    handle(context) {
      const { req, res, url } = context;
      if (req.method === 'POST' && url.pathname === '/oauth/token') return token(context);
      recent.push(Date.now());
      today += 1;
      const headers = rateHeaders();
      if (recent.length > rateLimitMax) {
        return error(res, 429, 'Too many requests, please retry after some time', headers);
      }
      const authorization = req.headers.authorization ?? '';
      const bearer = /^Bearer (.+)$/.exec(authorization)?.[1];
      if (!bearer || !tokens.has(bearer)) {
        return error(res, 401, 'Invalid token: access token is invalid', headers);
      }
      if (!req.headers.version) return error(res, 400, 'version header was not found', headers);
      return api(context, headers);
    },
  });

  const ghl = Object.assign(sandbox, {
    locationId,
    accessToken,
    oauth,
    pipelines,
    contacts,
    opportunities,
    refreshes: 0,
    currentRefreshToken: refreshToken,
    expireTokens() {
      tokens.clear();
    },
    reset() {
      contacts.clear();
      opportunities.clear();
      tokens.add(accessToken);
      recent.length = 0;
      sandbox.requests.items.length = 0;
      sandbox.faults.length = 0;
      sandbox.down = false;
      sandbox.ignoreWrites = false;
    },
    seedContact(input: Partial<GhlSandboxContact>) {
      const now = new Date().toISOString();
      const contact: GhlSandboxContact = {
        id: ghlId(),
        locationId,
        dateAdded: now,
        dateUpdated: now,
        ...input,
      };
      contacts.set(contact.id, contact);
      return contact;
    },
    seedOpportunity(input: Partial<GhlSandboxOpportunity> & { contactId: string }) {
      const now = new Date().toISOString();
      const pipeline = pipelines[0]!;
      const opportunity: GhlSandboxOpportunity = {
        id: ghlId(),
        name: 'Seeded opportunity',
        pipelineId: pipeline.id,
        pipelineStageId: pipeline.stages[0]!.id,
        status: 'open',
        locationId,
        createdAt: now,
        updatedAt: now,
        lastStatusChangeAt: now,
        lastStageChangeAt: now,
        ...input,
      };
      opportunities.set(opportunity.id, opportunity);
      return opportunity;
    },
  });
  // A live count (Object.assign would have copied a getter's value once).
  Object.defineProperty(ghl, 'refreshes', { get: () => refreshes, enumerable: true });
  Object.defineProperty(ghl, 'currentRefreshToken', { get: () => refreshToken, enumerable: true });
  return ghl;
}
