// A local stand-in for HubSpot's CRM v3 contacts API, the part leadrelay uses: Bearer auth with a private app
// token (401 INVALID_AUTHENTICATION), contacts whose properties are validated like HubSpot does (unknown
// properties, enumeration options → 400 VALIDATION_ERROR), unique email and unique custom properties (409
// "Contact already exists. Existing ID: N"), batch upsert, property definitions, the ten-secondly rate limit
// with X-HubSpot-RateLimit-* headers, and the shared faults, `down` and `ignoreWrites` of partner.ts.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { send, startPartnerSandbox, type PartnerSandbox, type SandboxHandlerContext } from './partner';

export interface HubSpotPropertyDefinition {
  name: string;
  label: string;
  type: 'string' | 'enumeration' | 'datetime' | 'number';
  fieldType: 'text' | 'textarea' | 'select' | 'radio' | 'date' | 'number';
  options?: { label: string; value: string; displayOrder: number; hidden: boolean }[];
  hasUniqueValue: boolean;
  /** HubSpot sets it; a write answers READ_ONLY_VALUE. */
  readOnlyValue?: boolean;
}

export interface SandboxContact {
  id: string;
  /** Every property set, as HubSpot stores them: strings (emails lower-cased). */
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface HubSpotSandbox extends PartnerSandbox {
  /** The private app token the sandbox accepts. */
  accessToken: string;
  contacts: Map<string, SandboxContact>;
  /** The portal's contact property definitions (tests may add, change or delete some). */
  properties: Map<string, HubSpotPropertyDefinition>;
  /** The rolling window enforced on every authenticated request (HubSpot's TEN_SECONDLY_ROLLING). */
  rateLimit: { max: number; intervalMs: number };
  contact(id: string): SandboxContact | undefined;
  contactByEmail(email: string): SandboxContact | undefined;
  contactBy(property: string, value: string): SandboxContact | undefined;
  /** A contact created in HubSpot by someone else (not through the API under test). */
  addContact(properties: Record<string, string>): SandboxContact;
  /** Deletes a contact, as a HubSpot user or a merge would. */
  deleteContact(id: string): void;
}

export interface HubSpotSandboxOptions {
  port?: number;
  accessToken?: string;
  /** Property names this portal lacks (e.g. a leadrelay custom property not created yet). */
  omitProperties?: string[];
  rateLimit?: { max: number; intervalMs: number };
}

const text = (name: string, label: string, hasUniqueValue = false): HubSpotPropertyDefinition => ({
  name,
  label,
  type: 'string',
  fieldType: name === 'message' ? 'textarea' : 'text',
  hasUniqueValue,
});

const enumeration = (name: string, label: string, values: [string, string][]): HubSpotPropertyDefinition => ({
  name,
  label,
  type: 'enumeration',
  fieldType: 'radio',
  options: values.map(([value, optionLabel], displayOrder) => ({
    label: optionLabel,
    value,
    displayOrder,
    hidden: false,
  })),
  hasUniqueValue: false,
});

/** A portal's defaults (the documented hs_lead_status and lifecyclestage options) plus leadrelay's properties. */
export function defaultHubSpotProperties(): HubSpotPropertyDefinition[] {
  return [
    text('email', 'Email', true),
    text('firstname', 'First Name'),
    text('lastname', 'Last Name'),
    text('phone', 'Phone Number'),
    text('message', 'Message'),
    enumeration('hs_lead_status', 'Lead Status', [
      ['NEW', 'New'],
      ['OPEN', 'Open'],
      ['IN_PROGRESS', 'In Progress'],
      ['OPEN_DEAL', 'Open Deal'],
      ['UNQUALIFIED', 'Unqualified'],
      ['ATTEMPTED_TO_CONTACT', 'Attempted to Contact'],
      ['CONNECTED', 'Connected'],
      ['BAD_TIMING', 'Bad Timing'],
    ]),
    enumeration('lifecyclestage', 'Lifecycle Stage', [
      ['subscriber', 'Subscriber'],
      ['lead', 'Lead'],
      ['marketingqualifiedlead', 'Marketing Qualified Lead'],
      ['salesqualifiedlead', 'Sales Qualified Lead'],
      ['opportunity', 'Opportunity'],
      ['customer', 'Customer'],
      ['evangelist', 'Evangelist'],
      ['other', 'Other'],
    ]),
    { ...text('hs_object_id', 'Record ID'), type: 'number', fieldType: 'number', readOnlyValue: true },
    { ...text('createdate', 'Create Date'), type: 'datetime', fieldType: 'date', readOnlyValue: true },
    {
      ...text('lastmodifieddate', 'Last Modified Date'),
      type: 'datetime',
      fieldType: 'date',
      readOnlyValue: true,
    },
    text('leadrelay_origin', 'leadrelay origin'),
    text('leadrelay_causation_id', 'leadrelay causation id'),
    text('leadrelay_lead_id', 'leadrelay lead id', true),
  ];
}

/** HubSpot's error body: `{status: "error", message, correlationId, category}`. */
function errorJson(message: string, category: string, extra: Record<string, unknown> = {}) {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

const RATE_LIMIT_BODY = () => ({
  status: 'error',
  message: 'You have reached your ten_secondly_rolling limit.',
  errorType: 'RATE_LIMIT',
  correlationId: randomUUID(),
  policyName: 'TEN_SECONDLY_ROLLING',
  groupName: 'privateapp-api-limit',
});

const AUTH_MESSAGE =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details ' +
  'at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

/** The default properties every read returns besides the requested ones. */
const ALWAYS_READ = ['createdate', 'hs_object_id', 'lastmodifieddate'];

interface Invalid {
  isValid: false;
  message: string;
  error: 'PROPERTY_DOESNT_EXIST' | 'INVALID_OPTION' | 'READ_ONLY_VALUE';
  name: string;
}

class HubSpotAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`hubspot sandbox ${status}`);
  }
}

export async function startHubSpotSandbox(options: HubSpotSandboxOptions = {}): Promise<HubSpotSandbox> {
  const accessToken = options.accessToken ?? `pat-na1-${randomUUID()}`;
  const contacts = new Map<string, SandboxContact>();
  const omitted = new Set(options.omitProperties ?? []);
  const properties = new Map(
    defaultHubSpotProperties()
      .filter((property) => !omitted.has(property.name))
      .map((property) => [property.name, property]),
  );
  let nextId = 1001;
  /** Times of the requests inside the current rolling window. */
  let window: number[] = [];

  const isUnique = (name: string) => properties.get(name)?.hasUniqueValue === true;
  const normalize = (name: string, value: string) => (name === 'email' ? value.trim().toLowerCase() : value);
  const contactBy = (name: string, value: string) => {
    const wanted = normalize(name, value);
    if (name === 'hs_object_id') return contacts.get(wanted);
    return [...contacts.values()].find((contact) => contact.properties[name] === wanted);
  };

  function validate(input: unknown): Record<string, string> {
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      throw new HubSpotAnswer(
        400,
        errorJson('Invalid input JSON: properties must be an object', 'VALIDATION_ERROR'),
      );
    }
    const errors: Invalid[] = [];
    const values: Record<string, string> = {};
    for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
      const value = raw === null || raw === undefined ? '' : String(raw);
      const definition = properties.get(name);
      if (!definition) {
        errors.push({
          isValid: false,
          message: `Property "${name}" does not exist`,
          error: 'PROPERTY_DOESNT_EXIST',
          name,
        });
      } else if (definition.readOnlyValue) {
        errors.push({
          isValid: false,
          message: `${name} is a read only property`,
          error: 'READ_ONLY_VALUE',
          name,
        });
      } else if (definition.options && value !== '' && !definition.options.some((o) => o.value === value)) {
        const allowed = definition.options.map((option) => option.value).join(', ');
        errors.push({
          isValid: false,
          message: `${value} was not one of the allowed options: [${allowed}]`,
          error: 'INVALID_OPTION',
          name,
        });
      } else {
        values[name] = normalize(name, value);
      }
    }
    if (errors.length > 0) {
      const details = errors.map((error) => ({ ...error, localizedErrorMessage: error.message }));
      throw new HubSpotAnswer(
        400,
        errorJson(`Property values were not valid: ${JSON.stringify(details)}`, 'VALIDATION_ERROR'),
      );
    }
    return values;
  }

  /** HubSpot keeps unique values unique: a second holder is a 409 naming the first. */
  function requireUnique(values: Record<string, string>, self?: SandboxContact): void {
    for (const [name, value] of Object.entries(values)) {
      if (!isUnique(name) || value === '') continue;
      const holder = contactBy(name, value);
      if (holder && holder !== self) {
        throw new HubSpotAnswer(
          409,
          errorJson(`Contact already exists. Existing ID: ${holder.id}`, 'CONFLICT'),
        );
      }
    }
  }

  function create(values: Record<string, string>): SandboxContact {
    requireUnique(values);
    const now = new Date().toISOString();
    const id = String(nextId++);
    const contact: SandboxContact = {
      id,
      properties: { ...values, hs_object_id: id, createdate: now, lastmodifieddate: now },
      createdAt: now,
      updatedAt: now,
    };
    contacts.set(id, contact);
    return contact;
  }

  /** Writes values onto a contact, unless the sandbox is ignoring writes (2xx, nothing changes). */
  function update(contact: SandboxContact, values: Record<string, string>): void {
    requireUnique(values, contact);
    if (hub.ignoreWrites) return;
    const now = new Date().toISOString();
    for (const [name, value] of Object.entries(values)) {
      if (value === '') delete contact.properties[name];
      else contact.properties[name] = value;
    }
    contact.properties.lastmodifieddate = now;
    contact.updatedAt = now;
  }

  function contactJson(contact: SandboxContact, wanted?: string[]) {
    const names = wanted
      ? [...new Set([...wanted.filter((n) => properties.has(n)), ...ALWAYS_READ])]
      : undefined;
    return {
      id: contact.id,
      properties: names
        ? Object.fromEntries(names.map((name) => [name, contact.properties[name] ?? null]))
        : { ...contact.properties },
      createdAt: contact.createdAt,
      updatedAt: contact.updatedAt,
      archived: false,
    };
  }

  function find(id: string, idProperty: string | null): SandboxContact {
    const contact =
      idProperty && idProperty !== 'hs_object_id' ? contactBy(idProperty, id) : contacts.get(id);
    if (!contact) throw new HubSpotAnswer(404, errorJson('resource not found', 'OBJECT_NOT_FOUND'));
    return contact;
  }

  function propertiesOf(body: unknown): unknown {
    return body && typeof body === 'object' ? (body as { properties?: unknown }).properties : undefined;
  }

  function batchUpsert(body: unknown) {
    const inputs = (body as { inputs?: unknown } | undefined)?.inputs;
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 100) {
      throw new HubSpotAnswer(400, errorJson('inputs must hold 1 to 100 objects', 'VALIDATION_ERROR'));
    }
    const startedAt = new Date().toISOString();
    const results = inputs.map((input: { idProperty?: unknown; id?: unknown; properties?: unknown }) => {
      const idProperty = typeof input.idProperty === 'string' ? input.idProperty : 'hs_object_id';
      if (idProperty !== 'hs_object_id' && !isUnique(idProperty)) {
        throw new HubSpotAnswer(
          400,
          errorJson(
            `${idProperty} is not a unique property and cannot be used as idProperty`,
            'VALIDATION_ERROR',
          ),
        );
      }
      if (typeof input.id !== 'string' || input.id === '') {
        throw new HubSpotAnswer(400, errorJson('each input needs an id', 'VALIDATION_ERROR'));
      }
      const values = validate(input.properties ?? {});
      const existing = contactBy(idProperty, input.id);
      if (existing) {
        update(existing, values);
        return { ...contactJson(existing), new: false };
      }
      const identity = idProperty === 'hs_object_id' ? {} : validate({ [idProperty]: input.id });
      return { ...contactJson(create({ ...values, ...identity })), new: true };
    });
    return { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
  }

  function listContacts(url: URL) {
    const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 10) || 10, 1), 100);
    const after = Number(url.searchParams.get('after') ?? 0) || 0;
    const wanted = url.searchParams.get('properties')?.split(',').filter(Boolean);
    const all = [...contacts.values()]
      .filter((c) => Number(c.id) >= after)
      .sort((a, b) => Number(a.id) - Number(b.id));
    const page = all.slice(0, limit);
    const next = all[limit];
    return {
      results: page.map((contact) => contactJson(contact, wanted ?? ['firstname', 'lastname', 'email'])),
      ...(next
        ? {
            paging: {
              next: { after: next.id, link: `${hub.url}/crm/v3/objects/contacts?after=${next.id}` },
            },
          }
        : {}),
    };
  }

  /**
   * CRM search as HubSpot documents it: filterGroups (OR of ANDed filters: EQ, NEQ, GT, GTE, LT, LTE, HAS_PROPERTY),
   * one sort, properties, limit up to 100, `after` as a paging token, and no more than 10 000 results per query.
   */
  function searchContacts(body: unknown) {
    const request = (body ?? {}) as {
      filterGroups?: { filters?: { propertyName: string; operator: string; value?: string }[] }[];
      sorts?: { propertyName: string; direction?: string }[];
      properties?: string[];
      limit?: number;
      after?: string;
    };
    const limit = request.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
      throw new HubSpotAnswer(
        400,
        errorJson(`limit must be between 1 and 200, was ${limit}`, 'VALIDATION_ERROR'),
      );
    }
    const after = Number(request.after ?? 0);
    if (after + limit > 10_000) {
      throw new HubSpotAnswer(
        400,
        errorJson('The search API cannot return more than 10000 results for one query', 'VALIDATION_ERROR'),
      );
    }
    const value = (contact: SandboxContact, name: string) => contact.properties[name];
    const compare = (a: string | undefined, b: string) => {
      const [x, y] = [Date.parse(a ?? ''), Date.parse(b)];
      if (!Number.isNaN(x) && !Number.isNaN(y) && /^\d{4}-/.test(b)) return x - y;
      const [n, m] = [Number(a), Number(b)];
      return !Number.isNaN(n) && !Number.isNaN(m) ? n - m : String(a ?? '').localeCompare(b);
    };
    const matches = (contact: SandboxContact) =>
      (request.filterGroups ?? []).length === 0 ||
      (request.filterGroups ?? []).some((group) =>
        (group.filters ?? []).every((filter) => {
          const actual = value(contact, filter.propertyName);
          const wanted = filter.value ?? '';
          switch (filter.operator) {
            case 'EQ':
              return actual === wanted;
            case 'NEQ':
              return actual !== wanted;
            case 'GT':
              return compare(actual, wanted) > 0;
            case 'GTE':
              return compare(actual, wanted) >= 0;
            case 'LT':
              return compare(actual, wanted) < 0;
            case 'LTE':
              return compare(actual, wanted) <= 0;
            case 'HAS_PROPERTY':
              return actual !== undefined;
            default:
              throw new HubSpotAnswer(
                400,
                errorJson(`unknown operator ${filter.operator}`, 'VALIDATION_ERROR'),
              );
          }
        }),
      );
    const sort = request.sorts?.[0];
    const found = [...contacts.values()].filter(matches).sort((a, b) => {
      if (!sort) return Number(a.id) - Number(b.id);
      const order = compare(value(a, sort.propertyName), value(b, sort.propertyName) ?? '');
      return (sort.direction === 'DESCENDING' ? -order : order) || Number(a.id) - Number(b.id);
    });
    const page = found.slice(after, after + limit);
    const next = after + limit < found.length ? String(after + limit) : undefined;
    return {
      total: found.length,
      results: page.map((contact) =>
        contactJson(
          contact,
          request.properties ?? ['createdate', 'email', 'firstname', 'lastmodifieddate', 'lastname'],
        ),
      ),
      ...(next ? { paging: { next: { after: next } } } : {}),
    };
  }

  function route(method: string, url: URL, body: unknown): { status: number; body: unknown } {
    const path = url.pathname.replace(/\/+$/, '');
    const contactMatch = /^\/crm\/v3\/objects\/contacts\/([^/]+)$/.exec(path);
    const propertyMatch = /^\/crm\/v3\/properties\/contacts\/([^/]+)$/.exec(path);
    if (path === '/crm/v3/objects/contacts' && method === 'GET')
      return { status: 200, body: listContacts(url) };
    if (path === '/crm/v3/objects/contacts' && method === 'POST') {
      return { status: 201, body: contactJson(create(validate(propertiesOf(body)))) };
    }
    if (path === '/crm/v3/objects/contacts/search' && method === 'POST') {
      return { status: 200, body: searchContacts(body) };
    }
    if (path === '/crm/v3/objects/contacts/batch/upsert' && method === 'POST') {
      return { status: 200, body: batchUpsert(body) };
    }
    if (contactMatch && method === 'GET') {
      const contact = find(decodeURIComponent(contactMatch[1]!), url.searchParams.get('idProperty'));
      return {
        status: 200,
        body: contactJson(contact, url.searchParams.get('properties')?.split(',') ?? []),
      };
    }
    if (contactMatch && method === 'PATCH') {
      const contact = find(decodeURIComponent(contactMatch[1]!), url.searchParams.get('idProperty'));
      update(contact, validate(propertiesOf(body)));
      return { status: 200, body: contactJson(contact) };
    }
    if (path === '/crm/v3/properties/contacts' && method === 'GET') {
      return { status: 200, body: { results: [...properties.values()].map(propertyJson) } };
    }
    if (propertyMatch && method === 'GET') {
      const property = properties.get(decodeURIComponent(propertyMatch[1]!));
      if (!property) {
        throw new HubSpotAnswer(
          404,
          errorJson(`Unable to find property ${propertyMatch[1]}`, 'OBJECT_NOT_FOUND'),
        );
      }
      return { status: 200, body: propertyJson(property) };
    }
    throw new HubSpotAnswer(404, errorJson(`Unable to route ${method} ${path}`, 'OBJECT_NOT_FOUND'));
  }

  /** X-HubSpot-RateLimit-* on every answer; false (after answering 429) when the window is full. */
  function withinRateLimit(res: ServerResponse): boolean {
    const { max, intervalMs } = hub.rateLimit;
    const now = Date.now();
    window = window.filter((at) => at > now - intervalMs);
    const limited = window.length >= max;
    if (!limited) window.push(now);
    res.setHeader('x-hubspot-ratelimit-max', String(max));
    res.setHeader('x-hubspot-ratelimit-remaining', String(Math.max(0, max - window.length)));
    res.setHeader('x-hubspot-ratelimit-interval-milliseconds', String(intervalMs));
    res.setHeader('x-hubspot-ratelimit-daily', '1000000');
    res.setHeader('x-hubspot-ratelimit-daily-remaining', '999000');
    if (limited) send(res, 429, RATE_LIMIT_BODY());
    return !limited;
  }

  function handle({ req, res, body, url }: SandboxHandlerContext): void {
    res.setHeader('x-hubspot-correlation-id', randomUUID());
    if (req.headers.authorization !== `Bearer ${accessToken}`) {
      res.setHeader('x-hubspot-auth-failure', '401 Unauthorized');
      return send(res, 401, errorJson(AUTH_MESSAGE, 'INVALID_AUTHENTICATION'));
    }
    if (!withinRateLimit(res)) return;
    let parsed: unknown;
    if (body.length > 0) {
      try {
        parsed = JSON.parse(body);
      } catch (error) {
        return send(
          res,
          400,
          errorJson(`Invalid input JSON: ${(error as Error).message}`, 'VALIDATION_ERROR'),
        );
      }
    }
    try {
      const answer = route(req.method ?? 'GET', url, parsed);
      send(res, answer.status, answer.body);
    } catch (error) {
      if (!(error instanceof HubSpotAnswer)) throw error;
      send(res, error.status, error.body);
    }
  }

  const sandbox = await startPartnerSandbox({
    port: options.port,
    errorBody: (status, message) => ({
      contentType: 'application/json',
      body: JSON.stringify(
        status === 429
          ? RATE_LIMIT_BODY()
          : status === 401
            ? errorJson(AUTH_MESSAGE, 'INVALID_AUTHENTICATION')
            : errorJson(message, status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR'),
      ),
    }),
    handle,
  });
  const hub: HubSpotSandbox = Object.assign(sandbox, {
    accessToken,
    contacts,
    properties,
    rateLimit: options.rateLimit ?? { max: 190, intervalMs: 10_000 },
    contact: (id: string) => contacts.get(id),
    contactByEmail: (email: string) => contactBy('email', email),
    contactBy,
    addContact: (values: Record<string, string>) => create(validate(values)),
    deleteContact: (id: string) => {
      contacts.delete(id);
    },
  });
  return hub;
}

function propertyJson(property: HubSpotPropertyDefinition) {
  return {
    name: property.name,
    label: property.label,
    type: property.type,
    fieldType: property.fieldType,
    groupName: 'contactinformation',
    options: property.options ?? [],
    hasUniqueValue: property.hasUniqueValue,
    hidden: false,
    calculated: false,
    externalOptions: false,
    formField: !property.readOnlyValue,
    modificationMetadata: {
      archivable: !property.name.startsWith('hs_'),
      readOnlyDefinition: !property.name.startsWith('leadrelay_'),
      readOnlyValue: property.readOnlyValue === true,
    },
  };
}
