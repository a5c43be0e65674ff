// A local stand-in for ResMan's classic API (the subset leadrelay uses): form posts authenticated by
// IntegrationPartnerID/ApiKey/AccountID/PropertyID; MITS/PostLeadManagement4_0 (MITS LeadManagement 4.0 XML in
// the `Xml` field) and MITS/SearchProspects answering `<ResMan>` XML, Leasing/GetProspectSources answering JSON.
// Prospects live in memory; the shared faults, `down` and `ignoreWrites` come from ./partner.
import { randomUUID } from 'node:crypto';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { send, startPartnerSandbox, type PartnerSandbox, type SandboxHandlerContext } from './partner';

export interface ResManSandboxEvent {
  type: string;
  date: string;
  agentId?: string;
  firstContact?: boolean;
  transactionSource?: string;
  comments?: string;
  reasonId?: string;
}

export interface ResManSandboxProspect {
  prospectId: string;
  /** MITS customer type: prospect, applicant, lost, current_resident. */
  type: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  events: ResManSandboxEvent[];
  lastModified: string;
}

export interface ResManSandboxOptions {
  port?: number;
  integrationPartnerId?: string;
  apiKey?: string;
  accountId?: string;
  propertyId?: string;
  /** Prospect sources (GetProspectSources); a TransactionSource outside them is refused. */
  sources?: { ID: string; Name: string }[];
}

export interface ResManSandbox extends PartnerSandbox {
  /** What an integration's credentials must hold to be let in. */
  credentials: { integration_partner_id: string; api_key: string; account_id: string };
  propertyId: string;
  sources: { ID: string; Name: string }[];
  prospects: Map<string, ResManSandboxProspect>;
  /** A prospect entered in ResMan by its staff (a guest card we did not create). */
  seedProspect(input: Partial<ResManSandboxProspect> & { createdAt?: string }): ResManSandboxProspect;
  /** A change made in ResMan: new customer type and/or an event, modified at `at` (default now). */
  changeProspect(
    prospectId: string,
    change: { type?: string; event?: Omit<ResManSandboxEvent, 'date'> & { date?: string }; at?: string },
  ): ResManSandboxProspect;
  /** The PostLeadManagement4_0 documents received, parsed (ignored writes included). */
  posted: Record<string, unknown>[];
  /** Empty state, no faults, an empty request log. */
  reset(): void;
}

export const CUSTOMER_TYPES = ['prospect', 'applicant', 'lost', 'current_resident'];

const ARRAY_TAGS = new Set(['Prospect', 'Customer', 'Identification', 'Phone', 'Event', 'Email']);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (tag) => ARRAY_TAGS.has(tag),
});
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: true,
});

type Node = Record<string, unknown>;

/** A child element (the parser's objects), or an empty node. */
function child(node: unknown, key: string): Node {
  const value = node && typeof node === 'object' ? (node as Node)[key] : undefined;
  return value && typeof value === 'object' ? (value as Node) : {};
}

/** A repeated child element (ARRAY_TAGS), as an array. */
function children(node: unknown, key: string): Node[] {
  const value = node && typeof node === 'object' ? (node as Node)[key] : undefined;
  return Array.isArray(value) ? (value as Node[]) : [];
}

/** ResMan's answer envelope. */
function envelope(method: string, fields: Node): string {
  return builder.build({ ResMan: { MethodName: method, ...fields } }) as string;
}

function xmlError(method: string, description: string): string {
  return envelope(method, { Status: 'Error', ErrorDescription: description });
}

function digits(phone: string | undefined): string | undefined {
  return phone?.replace(/\D/g, '').slice(-10) || undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (value && typeof value === 'object' && '#text' in value) return text((value as Node)['#text']);
  return undefined;
}

function prospectXml(prospect: ResManSandboxProspect): Node {
  const customer: Node = {
    '@_Type': prospect.type,
    Identification: [
      { '@_IDType': 'ProspectID', '@_IDValue': prospect.prospectId, '@_OrganizationName': 'ResMan' },
    ],
  };
  if (prospect.firstName || prospect.lastName) {
    customer.Name = { FirstName: prospect.firstName, LastName: prospect.lastName };
  }
  if (prospect.phone) customer.Phone = [{ '@_PhoneType': 'cell', PhoneNumber: prospect.phone }];
  if (prospect.email) customer.Email = [prospect.email];
  return {
    Customers: { Customer: [customer] },
    Events: {
      Event: prospect.events.map((event) => ({
        '@_EventType': event.type,
        '@_EventDate': event.date,
        ...(event.agentId ? { Agent: { AgentID: event.agentId } } : {}),
        ...(event.firstContact ? { FirstContact: 'true' } : {}),
        ...(event.transactionSource ? { TransactionSource: event.transactionSource } : {}),
        ...(event.comments ? { Comments: event.comments } : {}),
        ...(event.reasonId ? { EventReasons: event.reasonId } : {}),
      })),
    },
    LastModifiedDate: prospect.lastModified,
  };
}

export async function startResManSandbox(options: ResManSandboxOptions = {}): Promise<ResManSandbox> {
  const credentials = {
    integration_partner_id: options.integrationPartnerId ?? '1000',
    api_key: options.apiKey ?? `rm-${randomUUID().replace(/-/g, '')}`,
    account_id: options.accountId ?? '400',
  };
  const propertyId = options.propertyId ?? randomUUID();
  const sources = options.sources ?? [
    { ID: 'c1e8a2f4-0b5d-4b43-9a56-7d0f2c3b9e11', Name: 'Property Website' },
    { ID: '5b3f9d20-7c41-4e8a-b2f6-1a9e0c7d4f22', Name: 'Apartments.com' },
    { ID: 'e7d4c1b9-2a63-4f05-8e1d-3c6b9a0f5d33', Name: 'Walk-In' },
  ];
  const prospects = new Map<string, ResManSandboxProspect>();
  const posted: Record<string, unknown>[] = [];

  /** The four auth fields, checked the way ResMan does: partner first, then account, then property. */
  function authError(form: URLSearchParams): string | undefined {
    if (
      form.get('IntegrationPartnerID') !== credentials.integration_partner_id ||
      form.get('ApiKey') !== credentials.api_key
    ) {
      return 'Invalid IntegrationPartnerID or ApiKey';
    }
    if (form.get('AccountID') !== credentials.account_id) return 'Invalid AccountID';
    if (form.get('PropertyID')?.toLowerCase() !== propertyId.toLowerCase())
      return 'The integration partner does not have access to this property';
    return undefined;
  }

  function postLead(context: SandboxHandlerContext, form: URLSearchParams): void {
    const method = 'PostLeadManagement4_0';
    const fail = (description: string) => send(context.res, 200, xmlError(method, description), xmlType);
    const xml = form.get('Xml');
    if (!xml) return fail('Xml is required');
    if (XMLValidator.validate(xml) !== true) return fail('The Xml could not be parsed');
    const document = parser.parse(xml) as Node;
    posted.push(document);
    const prospectNode = children(child(child(document, 'LeadManagement'), 'Prospects'), 'Prospect')[0];
    const customer = children(child(prospectNode, 'Customers'), 'Customer')[0];
    if (!prospectNode || !customer)
      return fail('LeadManagement/Prospects/Prospect/Customers/Customer is required');
    const type = String(customer['@_Type'] ?? '');
    if (!CUSTOMER_TYPES.includes(type)) return fail(`Invalid Customer Type "${type}"`);
    const ids = children(customer, 'Identification');
    const prospectId = text(ids.find((id) => id['@_IDType'] === 'ProspectID')?.['@_IDValue']);
    const existing = prospectId ? prospects.get(prospectId) : undefined;
    if (prospectId && !existing) return fail('Prospect could not be found');
    const firstName = text(child(customer, 'Name').FirstName);
    const lastName = text(child(customer, 'Name').LastName);
    const email = text((customer.Email as unknown[] | undefined)?.[0]);
    const phone = text(children(customer, 'Phone')[0]?.PhoneNumber);
    const events: ResManSandboxEvent[] = [];
    for (const event of children(child(prospectNode, 'Events'), 'Event')) {
      const eventType = text(event['@_EventType']);
      const date = text(event['@_EventDate']);
      if (!eventType) return fail('Event EventType is required');
      if (!date || Number.isNaN(Date.parse(date))) return fail('Event EventDate is not a valid date');
      const source = text(event.TransactionSource);
      if (source !== undefined && !sources.some((s) => s.ID === source))
        return fail('Transaction Source could not be found');
      events.push({
        type: eventType,
        date,
        agentId: text(child(event, 'Agent').AgentID),
        firstContact: text(event.FirstContact)?.toLowerCase() === 'true' || undefined,
        transactionSource: source,
        comments: text(event.Comments),
        reasonId: text(event.EventReasons),
      });
    }
    if (!existing) {
      if (!firstName && !lastName) return fail('Customer Name is required for a new prospect');
      if (!email && !phone) return fail('Customer Email or Phone is required for a new prospect');
      if (!events.some((e) => e.transactionSource)) return fail('Transaction Source could not be found');
    }
    const id = existing?.prospectId ?? randomUUID();
    if (!context.sandbox.ignoreWrites) {
      const record: ResManSandboxProspect = existing ?? {
        prospectId: id,
        type,
        events: [],
        lastModified: '',
      };
      // ResMan overwrites whatever contact fields a post carries: the pitfall adapters must avoid.
      record.type = type;
      if (firstName) record.firstName = firstName;
      if (lastName) record.lastName = lastName;
      if (email) record.email = email;
      if (phone) record.phone = phone;
      record.events.push(...events);
      record.lastModified = new Date().toISOString();
      prospects.set(id, record);
    }
    send(
      context.res,
      200,
      envelope(method, {
        Status: 'Success',
        AccountID: credentials.account_id,
        PropertyID: propertyId,
        Response: { ProspectID: id },
      }),
      xmlType,
    );
  }

  function search(context: SandboxHandlerContext, form: URLSearchParams): void {
    const method = 'SearchProspects';
    const fail = (description: string) => send(context.res, 200, xmlError(method, description), xmlType);
    const byId = form.get('ProspectID');
    const email = form.get('Email')?.trim().toLowerCase();
    const phone = digits(form.get('Phone') ?? undefined);
    const firstName = form.get('FirstName')?.trim().toLowerCase();
    const lastName = form.get('LastName')?.trim().toLowerCase();
    const from = form.get('ModifiedStartDateTime');
    const to = form.get('ModifiedEndDateTime');
    if (!byId && !email && !phone && !firstName && !lastName && !from && !to)
      return fail('At least one search criteria is required');
    if ((from && !to) || (!from && to))
      return fail('ModifiedStartDateTime and ModifiedEndDateTime must be given together');
    const fromMs = from ? Date.parse(from) : undefined;
    const toMs = to ? Date.parse(to) : undefined;
    if (fromMs !== undefined && (Number.isNaN(fromMs) || Number.isNaN(toMs)))
      return fail('ModifiedStartDateTime or ModifiedEndDateTime is not a valid date');
    if (fromMs !== undefined && toMs! < fromMs)
      return fail('ModifiedEndDateTime must be after ModifiedStartDateTime');
    const found = [...prospects.values()].filter((p) => {
      if (byId && p.prospectId.toLowerCase() !== byId.toLowerCase()) return false;
      if (email && p.email?.toLowerCase() !== email) return false;
      if (phone && digits(p.phone) !== phone) return false;
      if (firstName && p.firstName?.toLowerCase() !== firstName) return false;
      if (lastName && p.lastName?.toLowerCase() !== lastName) return false;
      const modified = Date.parse(p.lastModified);
      if (fromMs !== undefined && (modified < fromMs || modified > toMs!)) return false;
      return true;
    });
    send(
      context.res,
      200,
      envelope(method, {
        Status: 'Success',
        AccountID: credentials.account_id,
        PropertyID: propertyId,
        Response: { LeadManagement: { Prospects: { Prospect: found.map(prospectXml) } } },
      }),
      xmlType,
    );
  }

  const sandbox = await startPartnerSandbox({
    port: options.port,
    errorBody: (_status, message) => ({ contentType: 'application/xml', body: xmlError('', message) }),
    handle(context) {
      const { req, res, url, body } = context;
      const method = url.pathname.replace(/^\/+/, '');
      if (req.method !== 'POST') return send(res, 405, xmlError(method, 'Method Not Allowed'), xmlType);
      const form = new URLSearchParams(body);
      const refused = authError(form);
      switch (method) {
        case 'MITS/PostLeadManagement4_0':
          if (refused) return send(res, 200, xmlError('PostLeadManagement4_0', refused), xmlType);
          return postLead(context, form);
        case 'MITS/SearchProspects':
          if (refused) return send(res, 200, xmlError('SearchProspects', refused), xmlType);
          return search(context, form);
        case 'Leasing/GetProspectSources':
          if (refused)
            return send(res, 200, {
              MethodName: 'GetProspectSources',
              Status: 'Failed',
              ErrorDescription: refused,
            });
          return send(res, 200, {
            MethodName: 'GetProspectSources',
            Status: 'Success',
            AccountID: credentials.account_id,
            PropertyID: propertyId,
            ProspectSources: sources,
          });
        default:
          return send(res, 404, xmlError(method, `Unknown method ${method}`), xmlType);
      }
    },
  });

  return Object.assign(sandbox, {
    credentials,
    propertyId,
    sources,
    prospects,
    posted,
    seedProspect(input: Partial<ResManSandboxProspect> & { createdAt?: string }) {
      const createdAt = input.createdAt ?? new Date().toISOString();
      const prospect: ResManSandboxProspect = {
        prospectId: input.prospectId ?? randomUUID(),
        type: input.type ?? 'prospect',
        firstName: input.firstName,
        lastName: input.lastName,
        email: input.email,
        phone: input.phone,
        events: input.events ?? [
          { type: 'WalkIn', date: createdAt, firstContact: true, transactionSource: sources[0]?.ID },
        ],
        lastModified: input.lastModified ?? createdAt,
      };
      prospects.set(prospect.prospectId, prospect);
      return prospect;
    },
    reset() {
      prospects.clear();
      posted.length = 0;
      sandbox.requests.items.length = 0;
      sandbox.faults.length = 0;
      sandbox.down = false;
      sandbox.ignoreWrites = false;
    },
    changeProspect(
      prospectId: string,
      change: { type?: string; event?: Omit<ResManSandboxEvent, 'date'> & { date?: string }; at?: string },
    ) {
      const prospect = prospects.get(prospectId);
      if (!prospect) throw new Error(`no sandbox prospect ${prospectId}`);
      const at = change.at ?? new Date().toISOString();
      if (change.type) prospect.type = change.type;
      if (change.event) prospect.events.push({ ...change.event, date: change.event.date ?? at });
      prospect.lastModified = at;
      return prospect;
    },
  });
}

const xmlType = { 'content-type': 'application/xml; charset=utf-8' };
