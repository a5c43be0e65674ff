// A local stand-in for a Salesforce org's REST API, the part leadrelay uses: the OAuth 2.0 client credentials
// token endpoint, Bearer sessions (401 INVALID_SESSION_ID), Leads with Salesforce's own validation (required
// LastName and Company → REQUIRED_FIELD_MISSING, unknown fields → INVALID_FIELD, the restricted Status picklist,
// converted Leads), upsert by an External ID field (201 created / 200 or, before v46, 204 updated), the Lead
// describe, /limits with Sforce-Limit-Info, and the shared faults, `down` and `ignoreWrites` of partner.ts.
import { randomBytes, randomUUID } from 'node:crypto';
import { send, startPartnerSandbox, type PartnerSandbox, type SandboxHandlerContext } from './partner';

export type SandboxLeadValue = string | boolean | null;

export interface SandboxLead {
  Id: string;
  fields: Record<string, SandboxLeadValue>;
}

export interface SalesforceSandbox extends PartnerSandbox {
  clientId: string;
  clientSecret: string;
  /** Tokens the org accepts now; `revokeSessions()` empties it (every session expired). */
  sessions: Set<string>;
  /** Token requests answered, successful or not. */
  tokenRequests: number;
  leads: Map<string, SandboxLead>;
  /** The Lead Status picklist (active values). */
  statusValues: string[];
  /** Fields a new Lead must have: LastName and Company, plus any an org's validation adds. */
  requiredFields: Set<string>;
  lead(id: string): SandboxLead | undefined;
  leadBy(field: string, value: string): SandboxLead | undefined;
  /** A Lead created in Salesforce by someone else (not through the API under test). */
  addLead(fields: Record<string, SandboxLeadValue>): SandboxLead;
  deleteLead(id: string): void;
  /** Converts a Lead as Salesforce's Convert action would: it cannot be updated afterwards. */
  convertLead(id: string): void;
  revokeSessions(): void;
  /** A session token valid now, as if issued earlier (tests of a given access_token). */
  issueSession(): string;
}

export interface SalesforceSandboxOptions {
  port?: number;
  clientId?: string;
  clientSecret?: string;
  /** Lead custom fields (all Text); the first listed is the External ID (unique). */
  customFields?: string[];
  statusValues?: string[];
  /** Daily API request allowance reported in Sforce-Limit-Info and /limits. */
  dailyApiRequests?: number;
  /** Records per query batch (Salesforce: 2000 by default, 200 at least); tests set a few to page. */
  queryBatchSize?: number;
}

const STANDARD_FIELDS = [
  'Id',
  'FirstName',
  'LastName',
  'Company',
  'Email',
  'Phone',
  'Description',
  'Status',
  'LeadSource',
  'IsConverted',
  'CreatedDate',
  'LastModifiedDate',
  'LastActivityDate',
];
const READ_ONLY = new Set(['Id', 'IsConverted', 'CreatedDate', 'LastModifiedDate', 'LastActivityDate']);
const DEFAULT_STATUS_VALUES = [
  'Open - Not Contacted',
  'Working - Contacted',
  'Closed - Converted',
  'Closed - Not Converted',
];
const DEFAULT_CUSTOM_FIELDS = ['LeadRelay_Id__c', 'LeadRelay_Origin__c', 'LeadRelay_Causation_Id__c'];
const SESSION_INVALID = { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' };
const NOT_FOUND = { errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' };

interface SalesforceErrorItem {
  message: string;
  errorCode: string;
  fields?: string[];
}

class SalesforceAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`salesforce sandbox ${status}`);
  }
}

interface QueryCursor {
  records: SandboxLead[];
  fields: string[];
  at: number;
}

const fail = (status: number, ...errors: SalesforceErrorItem[]) => new SalesforceAnswer(status, errors);

/** A Lead Id: key prefix 00Q, 18 characters. */
function leadId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `00Q${[...randomBytes(15)].map((byte) => alphabet[byte % alphabet.length]).join('')}`;
}

export async function startSalesforceSandbox(
  options: SalesforceSandboxOptions = {},
): Promise<SalesforceSandbox> {
  const clientId = options.clientId ?? `3MVG9${randomBytes(20).toString('base64url')}`;
  const clientSecret = options.clientSecret ?? randomBytes(32).toString('hex').toUpperCase();
  const customFields = options.customFields ?? DEFAULT_CUSTOM_FIELDS;
  const externalIdField = customFields[0];
  const dailyMax = options.dailyApiRequests ?? 15_000;
  const orgId = `00D${randomBytes(8).toString('hex').slice(0, 15)}`;
  const leads = new Map<string, SandboxLead>();
  const sessions = new Set<string>();
  const cursors = new Map<string, QueryCursor>();
  let apiUsage = 0;

  const known = new Set([...STANDARD_FIELDS, ...customFields]);
  const leadBy = (field: string, value: string) =>
    field === 'Id' ? leads.get(value) : [...leads.values()].find((lead) => lead.fields[field] === value);

  function issueSession(): string {
    const token = `${orgId}!${randomBytes(48).toString('base64url')}`;
    sessions.add(token);
    return token;
  }

  /** Checks a write's fields like Salesforce does; answers them typed. */
  function validate(body: unknown, creating: boolean): Record<string, SandboxLeadValue> {
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw fail(400, { errorCode: 'JSON_PARSER_ERROR', message: 'The request body must be a JSON object' });
    }
    const fields: Record<string, SandboxLeadValue> = {};
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      if (name === 'attributes') continue;
      if (!known.has(name)) {
        throw fail(400, {
          errorCode: 'INVALID_FIELD',
          message: `No such column '${name}' on sobject of type Lead`,
        });
      }
      if (READ_ONLY.has(name)) {
        throw fail(400, {
          errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
          message: `Unable to create/update fields: ${name}. Please check the security settings of this field.`,
          fields: [name],
        });
      }
      fields[name] = value === null || value === undefined ? null : String(value);
    }
    const status = fields.Status;
    if (status !== undefined && (typeof status !== 'string' || !hub.statusValues.includes(status))) {
      throw fail(400, {
        errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        message: `Status: bad value for restricted picklist field: ${String(status ?? '')}`,
        fields: ['Status'],
      });
    }
    const missing = [...hub.requiredFields].filter((name) =>
      creating ? !fields[name] : name in fields && !fields[name],
    );
    if (missing.length > 0) {
      throw fail(400, {
        errorCode: 'REQUIRED_FIELD_MISSING',
        message: `Required fields are missing: [${missing.join(', ')}]`,
        fields: missing,
      });
    }
    return fields;
  }

  function requireUniqueExternalId(fields: Record<string, SandboxLeadValue>, self?: SandboxLead): void {
    const value = externalIdField ? fields[externalIdField] : undefined;
    if (!externalIdField || typeof value !== 'string') return;
    const holder = leadBy(externalIdField, value);
    if (holder && holder !== self) {
      throw fail(400, {
        errorCode: 'DUPLICATE_VALUE',
        message: `duplicate value found: ${externalIdField} duplicates value on record with id: ${holder.Id}`,
        fields: [],
      });
    }
  }

  function create(fields: Record<string, SandboxLeadValue>): SandboxLead {
    requireUniqueExternalId(fields);
    const now = new Date().toISOString().replace('Z', '+0000');
    const lead: SandboxLead = {
      Id: leadId(),
      fields: {
        Status: hub.statusValues[0] ?? null,
        ...fields,
        IsConverted: false,
        CreatedDate: now,
        LastModifiedDate: now,
      },
    };
    lead.fields.Id = lead.Id;
    leads.set(lead.Id, lead);
    return lead;
  }

  function update(lead: SandboxLead, fields: Record<string, SandboxLeadValue>): void {
    if (lead.fields.IsConverted === true) {
      throw fail(400, {
        errorCode: 'CANNOT_UPDATE_CONVERTED_LEAD',
        message: 'cannot reference converted lead',
        fields: [],
      });
    }
    requireUniqueExternalId(fields, lead);
    if (hub.ignoreWrites) return;
    Object.assign(lead.fields, fields, { LastModifiedDate: new Date().toISOString().replace('Z', '+0000') });
  }

  function leadJson(lead: SandboxLead, version: string, wanted?: string[]) {
    const names = wanted ?? [...known];
    for (const name of names) {
      if (!known.has(name)) {
        throw fail(400, {
          errorCode: 'INVALID_FIELD',
          message: `No such column '${name}' on entity 'Lead'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`,
        });
      }
    }
    return {
      attributes: { type: 'Lead', url: `/services/data/${version}/sobjects/Lead/${lead.Id}` },
      ...Object.fromEntries(names.map((name) => [name, lead.fields[name] ?? null])),
      Id: lead.Id,
    };
  }

  /**
   * SOQL as leadrelay's backfill writes it: `SELECT <fields> FROM Lead [WHERE LastModifiedDate >= <datetime>]
   * [ORDER BY ...]`; anything else is MALFORMED_QUERY. Answers the first batch and a nextRecordsUrl for the rest.
   */
  function query(version: string, soql: string) {
    const parsed =
      /^SELECT\s+(.+?)\s+FROM\s+Lead(?:\s+WHERE\s+LastModifiedDate\s*>=\s*(\S+))?(?:\s+ORDER\s+BY\s+[\w\s,]+)?$/i.exec(
        soql.trim(),
      );
    if (!parsed)
      throw fail(400, { errorCode: 'MALFORMED_QUERY', message: `unexpected token in: ${soql.slice(0, 80)}` });
    const fields = parsed[1]!.split(',').map((f) => f.trim());
    const since = parsed[2] ? Date.parse(parsed[2]) : -Infinity;
    if (Number.isNaN(since)) {
      throw fail(400, {
        errorCode: 'MALFORMED_QUERY',
        message: `line 1: value of filter criterion for field 'LastModifiedDate' must be of type dateTime`,
      });
    }
    const matching = [...leads.values()]
      .filter((lead) => Date.parse(String(lead.fields.LastModifiedDate).replace('+0000', 'Z')) >= since)
      .sort(
        (a, b) =>
          String(a.fields.CreatedDate).localeCompare(String(b.fields.CreatedDate)) ||
          a.Id.localeCompare(b.Id),
      );
    const locator = `01g${randomBytes(6).toString('hex')}`;
    return batch(version, `${locator}-0`, { records: matching, fields, at: 0 }, locator);
  }

  function batch(version: string, id: string, cursor: QueryCursor, locator = id.split('-')[0]!) {
    const size = options.queryBatchSize ?? 2000;
    const records = cursor.records
      .slice(cursor.at, cursor.at + size)
      .map((lead) => leadJson(lead, version, cursor.fields));
    const next = cursor.at + size;
    const done = next >= cursor.records.length;
    if (!done) cursors.set(`${locator}-${next}`, { ...cursor, at: next });
    cursors.delete(id);
    return {
      totalSize: cursor.records.length,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/${version}/query/${locator}-${next}` }),
      records,
    };
  }

  function describe() {
    const field = (name: string) => ({
      name,
      label: name.replace(/__c$/, '').replace(/_/g, ' '),
      type:
        name === 'Status' ? 'picklist' : name === 'IsConverted' ? 'boolean' : name === 'Id' ? 'id' : 'string',
      custom: name.endsWith('__c'),
      externalId: name === externalIdField,
      unique: name === externalIdField,
      nillable: !hub.requiredFields.has(name) && name !== 'Id',
      createable: !READ_ONLY.has(name),
      updateable: !READ_ONLY.has(name),
      picklistValues:
        name === 'Status'
          ? hub.statusValues.map((value, index) => ({
              value,
              label: value,
              active: true,
              defaultValue: index === 0,
            }))
          : [],
    });
    return {
      name: 'Lead',
      label: 'Lead',
      keyPrefix: '00Q',
      createable: true,
      updateable: true,
      fields: [...known].map(field),
    };
  }

  function token(body: string): { status: number; body: unknown } {
    hub.tokenRequests += 1;
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      return {
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' },
      };
    }
    if (form.get('client_id') !== clientId) {
      return {
        status: 400,
        body: { error: 'invalid_client_id', error_description: 'client identifier invalid' },
      };
    }
    if (form.get('client_secret') !== clientSecret) {
      return {
        status: 400,
        body: { error: 'invalid_client', error_description: 'invalid client credentials' },
      };
    }
    return {
      status: 200,
      body: {
        access_token: issueSession(),
        signature: randomBytes(32).toString('base64'),
        scope: 'api',
        instance_url: hub.url,
        id: `${hub.url}/id/${orgId}/005${randomBytes(8).toString('hex').slice(0, 15)}`,
        token_type: 'Bearer',
        issued_at: String(Date.now()),
      },
    };
  }

  function data(
    method: string,
    version: string,
    rest: string,
    url: URL,
    body: unknown,
  ): { status: number; body?: unknown } {
    const wanted = url.searchParams.get('fields')?.split(',').filter(Boolean);
    if (rest === '/limits' && method === 'GET') {
      return {
        status: 200,
        body: {
          DailyApiRequests: { Max: dailyMax, Remaining: dailyMax - apiUsage },
          DailyBulkApiRequests: { Max: 10_000, Remaining: 10_000 },
        },
      };
    }
    if (rest === '/sobjects/Lead/describe' && method === 'GET') return { status: 200, body: describe() };
    if (rest === '/query' && method === 'GET')
      return { status: 200, body: query(version, url.searchParams.get('q') ?? '') };
    const more = /^\/query\/([^/]+)$/.exec(rest);
    if (more && method === 'GET') {
      const cursor = cursors.get(more[1]!);
      if (!cursor) throw fail(400, { errorCode: 'INVALID_QUERY_LOCATOR', message: 'invalid query locator' });
      return { status: 200, body: batch(version, more[1]!, cursor) };
    }
    if (rest === '/sobjects/Lead' && method === 'POST') {
      const lead = create(validate(body, true));
      return { status: 201, body: { id: lead.Id, success: true, errors: [] } };
    }
    const byId = /^\/sobjects\/Lead\/([^/]+)$/.exec(rest);
    if (byId) {
      const lead = leads.get(decodeURIComponent(byId[1]!));
      if (!lead) throw fail(404, NOT_FOUND);
      if (method === 'GET') return { status: 200, body: leadJson(lead, version, wanted) };
      if (method === 'PATCH') {
        update(lead, validate(body, false));
        return { status: 204 };
      }
    }
    const byExternalId = /^\/sobjects\/Lead\/([^/]+)\/([^/]+)$/.exec(rest);
    if (byExternalId) {
      const field = decodeURIComponent(byExternalId[1]!);
      const value = decodeURIComponent(byExternalId[2]!);
      if (field !== externalIdField) {
        throw fail(404, {
          errorCode: 'NOT_FOUND',
          message: `Provided external ID field does not exist or is not accessible: ${field}`,
        });
      }
      const lead = leadBy(field, value);
      if (method === 'GET') {
        if (!lead) throw fail(404, NOT_FOUND);
        return { status: 200, body: leadJson(lead, version, wanted) };
      }
      if (method === 'PATCH') {
        const fields = validate(body, !lead);
        if (field in fields && fields[field] !== value) {
          throw fail(400, {
            errorCode: 'INVALID_FIELD',
            message: `The value of ${field} in the body does not match the URL`,
          });
        }
        if (lead) {
          update(lead, fields);
          // API v46.0 and later answer an update with a body; earlier versions with 204.
          if (Number(version.slice(1)) < 46) return { status: 204 };
          return { status: 200, body: { id: lead.Id, success: true, errors: [], created: false } };
        }
        const created = create({ ...fields, [field]: value });
        return { status: 201, body: { id: created.Id, success: true, errors: [], created: true } };
      }
    }
    throw fail(404, NOT_FOUND);
  }

  function handle({ req, res, body, url }: SandboxHandlerContext): void {
    const method = req.method ?? 'GET';
    if (url.pathname === '/services/oauth2/token' && method === 'POST') {
      const answer = token(body);
      return send(res, answer.status, answer.body);
    }
    const match = /^\/services\/data\/(v(\d+)\.0)(\/.*)?$/.exec(url.pathname);
    if (!match || Number(match[2]) < 31 || Number(match[2]) > 66) return send(res, 404, [NOT_FOUND]);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !sessions.has(bearer)) {
      res.setHeader('www-authenticate', 'Token');
      return send(res, 401, [SESSION_INVALID]);
    }
    apiUsage += 1;
    res.setHeader('sforce-limit-info', `api-usage=${apiUsage}/${dailyMax}`);
    let parsed: unknown;
    if (body.length > 0) {
      try {
        parsed = JSON.parse(body);
      } catch {
        return send(res, 400, [
          { errorCode: 'JSON_PARSER_ERROR', message: 'Unexpected character in the request body' },
        ]);
      }
    }
    try {
      const answer = data(method, match[1]!, match[3] ?? '/', url, parsed);
      if (answer.body === undefined) {
        res.writeHead(answer.status);
        res.end();
        return;
      }
      send(res, answer.status, answer.body);
    } catch (error) {
      if (!(error instanceof SalesforceAnswer)) throw error;
      send(res, error.status, error.body);
    }
  }

  const sandbox = await startPartnerSandbox({
    port: options.port,
    errorBody: (status, message) => ({
      contentType: 'application/json',
      body: JSON.stringify([
        status === 401
          ? SESSION_INVALID
          : status === 403 || status === 429
            ? { errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }
            : status >= 500
              ? { errorCode: 'SERVER_UNAVAILABLE', message: `${message} (${randomUUID()})` }
              : { errorCode: 'INVALID_INPUT', message },
      ]),
    }),
    handle,
  });
  const hub: SalesforceSandbox = Object.assign(sandbox, {
    clientId,
    clientSecret,
    sessions,
    tokenRequests: 0,
    leads,
    statusValues: [...(options.statusValues ?? DEFAULT_STATUS_VALUES)],
    requiredFields: new Set(['LastName', 'Company']),
    lead: (id: string) => leads.get(id),
    leadBy,
    addLead: (fields: Record<string, SandboxLeadValue>) => create(validate(fields, true)),
    deleteLead: (id: string) => {
      leads.delete(id);
    },
    convertLead: (id: string) => {
      const lead = leads.get(id);
      if (lead) Object.assign(lead.fields, { IsConverted: true, Status: 'Closed - Converted' });
    },
    revokeSessions: () => sessions.clear(),
    issueSession,
  });
  return hub;
}
