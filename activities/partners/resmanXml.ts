// ResMan's XML on the wire: the MITS LeadManagement 4.0 document we post, and the `<ResMan>` answers of
// PostLeadManagement4_0 and SearchProspects read into plain prospects. Pure functions, no I/O.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/** MITS customer types ResMan keeps on a prospect record. */
export type CustomerType = 'prospect' | 'applicant' | 'lost' | 'current_resident';

export interface ResManContact {
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
}

export interface ResManEvent {
  type: string;
  date?: string;
  /** `Agent/AgentID`: the leasing agent the event is credited to. */
  agentId?: string;
  firstContact?: boolean;
  /** ResMan's source id (GetProspectSources). */
  transactionSource?: string;
  comments?: string;
  /** A reason id (GetLostProspectReasons) for a Cancel event. */
  reasonId?: string;
}

export interface ResManProspect extends ResManContact {
  prospectId: string;
  type: string;
  /** Undefined when the answer had no `Events` element (we then compare the customer type only). */
  events?: ResManEvent[];
  /** `LastModifiedDate` of the record, ISO. */
  lastModified?: string;
}

/** A parsed `<ResMan>` answer. */
export interface ResManAnswer {
  status: string;
  errorDescription?: string;
  response: unknown;
}

export interface LeadManagementInput {
  prospectId?: string;
  customerType: CustomerType;
  /** Written only over records we created, or when creating (ResMan's contact-merge pitfall). */
  contact?: ResManContact;
  /** Absent for a contact-only update. */
  event?: ResManEvent;
}

const ARRAY_TAGS = new Set(['Prospect', 'Customer', 'Identification', 'Phone', 'Event', 'Email']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Ids like AccountID "400" or a phone "3035550190" must stay strings.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (tagName) => ARRAY_TAGS.has(tagName),
});

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: true,
  format: false,
});

type Node = Record<string, unknown>;

function compactNode(node: Node): Node {
  return Object.fromEntries(
    Object.entries(node).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  );
}

/** The LeadManagement document of one prospect: customer type, optional contact, one event. */
export function buildLeadManagement(input: LeadManagementInput): string {
  const { contact, event } = input;
  const name =
    contact?.firstName || contact?.lastName
      ? compactNode({ FirstName: contact.firstName, LastName: contact.lastName })
      : undefined;
  const customer = compactNode({
    '@_Type': input.customerType,
    Identification: input.prospectId
      ? { '@_IDType': 'ProspectID', '@_IDValue': input.prospectId, '@_OrganizationName': 'ResMan' }
      : undefined,
    Name: name,
    Phone: contact?.phone ? { '@_PhoneType': 'cell', PhoneNumber: contact.phone } : undefined,
    Email: contact?.email,
  });
  const eventNode = event
    ? compactNode({
        '@_EventType': event.type,
        '@_EventDate': event.date,
        Agent: event.agentId ? { AgentID: event.agentId } : undefined,
        FirstContact: event.firstContact ? 'true' : undefined,
        TransactionSource: event.transactionSource,
        Comments: event.comments,
        EventReasons: event.reasonId,
      })
    : undefined;
  const prospect = compactNode({
    Customers: { Customer: customer },
    Events: eventNode ? { Event: eventNode } : undefined,
  });
  return builder.build({ LeadManagement: { Prospects: { Prospect: prospect } } }) as string;
}

/** Reads a `<ResMan>` answer; undefined when the text is not one (a proxy's HTML page, a cut-off body). */
export function parseResManAnswer(text: string): ResManAnswer | undefined {
  let parsed: Node;
  try {
    parsed = parser.parse(text) as Node;
  } catch {
    return undefined;
  }
  const root = parsed.ResMan as Node | undefined;
  if (!root || typeof root !== 'object' || typeof root.Status !== 'string') return undefined;
  const description = textOf(root.ErrorDescription);
  return {
    status: root.Status,
    ...(description ? { errorDescription: description } : {}),
    response: root.Response,
  };
}

/** The new prospect's id in a PostLeadManagement4_0 answer: `Response/ProspectID` (our documented shape). */
export function prospectIdOf(answer: ResManAnswer): string | undefined {
  const response = answer.response as Node | undefined;
  return textOf(response?.ProspectID);
}

/** The prospects of a SearchProspects answer (`Response/LeadManagement/Prospects/Prospect`). */
export function prospectsOf(answer: ResManAnswer): ResManProspect[] {
  const response = answer.response as Node | undefined;
  const leadManagement = response?.LeadManagement as Node | undefined;
  const prospects = (leadManagement?.Prospects as Node | undefined)?.Prospect as Node[] | undefined;
  return (prospects ?? []).flatMap((prospect) => {
    const read = readProspect(prospect);
    return read ? [read] : [];
  });
}

function readProspect(prospect: Node): ResManProspect | undefined {
  const customers = ((prospect.Customers as Node | undefined)?.Customer as Node[] | undefined) ?? [];
  // The record's primary person carries the ProspectID; roommates and guarantors may follow.
  const primary =
    customers.find((c) => identification(c, 'ProspectID') !== undefined) ??
    (customers[0] as Node | undefined);
  const prospectId = primary ? identification(primary, 'ProspectID') : undefined;
  if (!primary || !prospectId) return undefined;
  const name = primary.Name as Node | undefined;
  const phones = (primary.Phone as Node[] | undefined) ?? [];
  const emails = (primary.Email as unknown[] | undefined) ?? [];
  const eventsNode = prospect.Events as Node | string | undefined;
  const events =
    eventsNode === undefined
      ? undefined
      : ((typeof eventsNode === 'object' ? (eventsNode.Event as Node[] | undefined) : undefined) ?? []).map(
          readEvent,
        );
  return compactProspect({
    prospectId,
    type: String(primary['@_Type'] ?? ''),
    firstName: textOf(name?.FirstName),
    lastName: textOf(name?.LastName),
    phone: textOf(phones[0]?.PhoneNumber),
    email: textOf(emails[0]),
    events,
    lastModified: textOf(prospect.LastModifiedDate),
  });
}

function readEvent(event: Node): ResManEvent {
  const agent = event.Agent as Node | undefined;
  return compactEvent({
    type: String(event['@_EventType'] ?? ''),
    date: textOf(event['@_EventDate']),
    agentId: textOf(agent?.AgentID),
    firstContact: textOf(event.FirstContact)?.toLowerCase() === 'true' || undefined,
    transactionSource: textOf(event.TransactionSource),
    comments: textOf(event.Comments),
    reasonId: textOf(event.EventReasons),
  });
}

function identification(customer: Node, idType: string): string | undefined {
  const ids = (customer.Identification as Node[] | undefined) ?? [];
  return textOf(ids.find((id) => id['@_IDType'] === idType)?.['@_IDValue']);
}

/** The text of an element that may come back as a string or as `{ '#text': … }` (when it has attributes). */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object' && '#text' in value) return textOf((value as Node)['#text']);
  return undefined;
}

function compactProspect(prospect: ResManProspect): ResManProspect {
  return Object.fromEntries(
    Object.entries(prospect).filter(([, v]) => v !== undefined),
  ) as unknown as ResManProspect;
}

function compactEvent(event: ResManEvent): ResManEvent {
  return Object.fromEntries(
    Object.entries(event).filter(([, v]) => v !== undefined),
  ) as unknown as ResManEvent;
}
