// ResMan (multifamily PMS). Inbound: seed 001's StatusUpdateWebhook (sent by systems relaying ResMan changes),
// signed with Standard Webhooks; `lead_id` is ResMan's prospect id. Outbound: the classic API (form posts with
// IntegrationPartnerID/ApiKey/AccountID/PropertyID): MITS LeadManagement 4.0 writes read back with
// SearchProspects, SearchProspects by modified window for polling, GetProspectSources as the connection test.
import { z } from 'zod';
import { importRecord, wonAsWon } from '../../shared/imports';
import { toCanonical, type LeadStatus } from '../../shared/lifecycle';
import { PartnerError, baseUrl, joinUrl, partnerRequest, type PartnerResponse } from './http';
import {
  compact,
  id,
  isoTime,
  jsonBody,
  requireKnownStatus,
  standardWebhookId,
  text,
  validate,
} from './parsing';
import {
  buildLeadManagement,
  parseResManAnswer,
  prospectIdOf,
  prospectsOf,
  type CustomerType,
  type ResManAnswer,
  type ResManContact,
  type ResManEvent,
  type ResManProspect,
} from './resmanXml';
import { verifyStandardWebhook } from './signatures';
import type {
  FetchResult,
  InboundEvent,
  LeadListPage,
  OutboundAdapter,
  PartnerAdapter,
  PartnerConnection,
  PartnerLead,
  PushResult,
  StatusPush,
  Upserted,
} from './types';
import { configOf, pollIntervalMinutes, pollLookbackHours, requireFields } from './configFields';
import { contactConflictError, matchContact, pushToRecord, type ContactConflict } from './recordPush';

export const RESMAN_BASE_URL = 'https://api.myresman.com';

export const StatusUpdateWebhook = z.object({
  lead_id: id,
  old_status: text(100).optional(),
  new_status: z.string().min(1).max(100),
  status_reason: text(2000).optional(),
  updated_by: text(100),
  updated_at: isoTime,
  context_data: z.record(z.string(), z.unknown()).optional(),
});

const eventType = (status: string) =>
  z.string().min(1).max(50).optional().describe(`MITS EventType written when a lead becomes ${status}`);

export const ResManConfig = z
  .object({
    base_url: z
      .url({ protocol: /^https?$/ })
      .max(500)
      .default(RESMAN_BASE_URL)
      .describe("ResMan's API host (a sandbox in tests)"),
    property_id: z
      .guid()
      .optional()
      .describe("ResMan's PropertyID (a GUID): required to push statuses or poll prospects"),
    default_source_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe(
        'ResMan prospect source id (Leasing/GetProspectSources) for leads whose source has no mapping; ' +
          'without one, ResMan refuses new prospects with "Transaction Source could not be found"',
      ),
    source_ids: z
      .record(z.string().max(100), z.string().min(1).max(100))
      .optional()
      .describe('Our lead source (webform, chatbot, apfm…) → ResMan prospect source id'),
    agent_id: z.string().min(1).max(100).optional().describe('ResMan employee id credited with our events'),
    lost_reason_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('ResMan lost reason id (Leasing/GetLostProspectReasons) sent with lost leads'),
    event_types: z
      .object({
        new: eventType('new'),
        contacted: eventType('contacted'),
        qualified: eventType('qualified'),
        tour_scheduled: eventType('tour_scheduled'),
        toured: eventType('toured'),
        application: eventType('application'),
        leased: eventType('leased'),
        lost: eventType('lost'),
      })
      .optional()
      .describe('Overrides of the MITS event type written per status (docs/partners/resman.md)'),
    poll_interval_minutes: pollIntervalMinutes(
      'How often ResMan is polled for prospects changed there (SearchProspects)',
    ),
    poll_lookback_hours: pollLookbackHours,
  })
  // Keys other parts read (push_status, referral_fee) stay when the config is parsed and stored.
  .loose();
export type ResManConfig = z.output<typeof ResManConfig>;

/** All optional: an integration without them only takes the relay webhook (inbound). */
export const ResManCredentials = z.object({
  integration_partner_id: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('IntegrationPartnerID ResMan assigned to leadrelay'),
  api_key: z.string().min(1).max(500).optional().describe('ApiKey ResMan assigned to leadrelay'),
  account_id: z.string().min(1).max(100).optional().describe("The property's ResMan AccountID"),
});

/** Event type per status; tour names are unverified (ResMan's docs show WalkIn, Cancel, LeaseSign, Approved). */
export const RESMAN_EVENT_TYPES: Record<LeadStatus, string> = {
  new: 'Webservice',
  contacted: 'Other',
  qualified: 'Other',
  tour_scheduled: 'Appointment',
  toured: 'Show',
  application: 'Application',
  leased: 'LeaseSign',
  placed: 'LeaseSign',
  lost: 'Cancel',
};

export function customerTypeFor(status: LeadStatus): CustomerType {
  switch (status) {
    case 'application':
      return 'applicant';
    case 'leased':
    case 'placed':
      return 'current_resident';
    case 'lost':
      return 'lost';
    default:
      return 'prospect';
  }
}

/** Prefix of the Comments of every event we write: how polling tells our own writes from ResMan's changes. */
const MARKER = 'leadrelay';
/** Longest fetch window: SearchProspects has no paging, so windows bound each answer. */
export const RESMAN_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Each window re-reads this much of the previous one: changes indexed late are not lost (dedupe drops repeats). */
export const RESMAN_OVERLAP_MS = 5 * 60 * 1000;
const TRANSIENT = /time(d)? ?out|temporar|try again|deadlock|unavailable|too many requests/i;
const UNKNOWN_SOURCE = /transaction source could not be found/i;

interface Settings {
  config: ResManConfig;
  base: string;
  auth: Record<string, string>;
}

/** The integration's config with defaults, and the four auth fields: a final error names what is missing. */
function settingsOf(connection: PartnerConnection): Settings {
  const config = configOf('resman', ResManConfig, connection);
  const credentials = connection.credentials;
  const missing = ['integration_partner_id', 'api_key', 'account_id'].filter((name) => !credentials[name]);
  requireFields('resman', 'credentials', missing);
  requireFields('resman', 'config', config.property_id ? [] : ['property_id']);
  return {
    config,
    base: baseUrl({ ...connection, config }, RESMAN_BASE_URL),
    auth: {
      IntegrationPartnerID: credentials.integration_partner_id!,
      ApiKey: credentials.api_key!,
      AccountID: credentials.account_id!,
      PropertyID: config.property_id!,
    },
  };
}

/** ErrorDescription out of a non-2xx XML answer, for partnerRequest's message. */
function describeXmlError(response: PartnerResponse): { message: string } {
  const answer = parseResManAnswer(response.text);
  return { message: answer?.errorDescription ?? response.text.slice(0, 200) };
}

/** One classic-API call: form post, XML answer; `<Status>Error` is final unless ResMan calls it transient. */
async function callXml(
  settings: Settings,
  connection: PartnerConnection,
  method: 'MITS/PostLeadManagement4_0' | 'MITS/SearchProspects',
  params: Record<string, string>,
): Promise<{ answer: ResManAnswer; code: number }> {
  const response = await partnerRequest('resman', connection, {
    method: 'POST',
    url: joinUrl(settings.base, method),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/xml, text/xml' },
    body: new URLSearchParams({ ...settings.auth, ...params }).toString(),
    describeError: describeXmlError,
  });
  const answer = parseResManAnswer(response.text);
  if (!answer) {
    throw new PartnerError('resman', 'retryable', `resman answered ${method} without a ResMan XML answer`, {
      status: response.status,
    });
  }
  if (answer.status !== 'Success') {
    const description = answer.errorDescription ?? `status ${answer.status}`;
    throw new PartnerError(
      'resman',
      TRANSIENT.test(description) ? 'retryable' : 'final',
      `resman refused ${method}: ${description}`,
      {
        status: response.status,
        partnerCode: UNKNOWN_SOURCE.test(description) ? 'transaction_source_not_found' : undefined,
      },
    );
  }
  return { answer, code: response.status };
}

async function searchProspects(
  settings: Settings,
  connection: PartnerConnection,
  criteria: Record<string, string>,
): Promise<ResManProspect[]> {
  const { answer } = await callXml(settings, connection, 'MITS/SearchProspects', criteria);
  return prospectsOf(answer);
}

async function prospectById(
  settings: Settings,
  connection: PartnerConnection,
  prospectId: string,
): Promise<ResManProspect | undefined> {
  const found = await searchProspects(settings, connection, { ProspectID: prospectId });
  return found.find((p) => p.prospectId === prospectId);
}

function contactOf(lead: PartnerLead): ResManContact {
  return compact({
    firstName: lead.firstName,
    lastName: lead.lastName,
    email: lead.email,
    phone: lead.phone,
  });
}

function eventTypeFor(config: ResManConfig, status: LeadStatus): string {
  const overrides = config.event_types as Partial<Record<LeadStatus, string>> | undefined;
  return overrides?.[status === 'placed' ? 'leased' : status] ?? RESMAN_EVENT_TYPES[status];
}

function sourceIdFor(config: ResManConfig, source: string): string | undefined {
  const mapped = config.source_ids?.[source];
  return mapped ?? config.default_source_id;
}

/** Whether the prospect carries the event of this exact push (its idempotency key in our comment). */
function hasOurWrite(prospect: ResManProspect, key: string): boolean {
  return (prospect.events ?? []).some((event) => ourComment(event.comments)?.key === key);
}

/** Our comment's fields (`leadrelay status=… origin=… causation=… key=…`), or undefined for ResMan's own. */
function ourComment(comments: string | undefined): Record<string, string> | undefined {
  if (!comments?.startsWith(`${MARKER} `)) return undefined;
  const fields: Record<string, string> = {};
  for (const match of comments.matchAll(/(\w+)=(\S+)/g)) fields[match[1]!] ??= match[2]!;
  return fields;
}

function commentFor(fields: Record<string, string | undefined>, reason?: string): string {
  const pairs = Object.entries(fields)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${String(v).replace(/\s+/g, '_')}`);
  return [MARKER, ...pairs].join(' ') + (reason ? ` reason: ${reason}` : '');
}

/**
 * Posts one prospect document. A source ResMan does not know ("Transaction Source could not be found") is
 * retried once with the configured default source, the known fix for unmapped sources.
 */
async function postProspect(
  settings: Settings,
  connection: PartnerConnection,
  document: Parameters<typeof buildLeadManagement>[0],
): Promise<{ prospectId?: string; code: number }> {
  const post = async (doc: typeof document) => {
    const { answer, code } = await callXml(settings, connection, 'MITS/PostLeadManagement4_0', {
      Xml: buildLeadManagement(doc),
    });
    return { prospectId: prospectIdOf(answer) ?? doc.prospectId, code };
  };
  try {
    return await post(document);
  } catch (error) {
    const fallback = settings.config.default_source_id;
    const used = document.event?.transactionSource;
    if (
      error instanceof PartnerError &&
      error.details.partnerCode === 'transaction_source_not_found' &&
      fallback &&
      used !== fallback
    ) {
      return post({ ...document, event: { ...document.event!, transactionSource: fallback } });
    }
    throw error;
  }
}

interface ProspectRecord {
  /** Undefined for a lead ResMan has no record of: the write creates one. */
  externalId?: string;
  created?: true;
  prospect?: ResManProspect;
}

/**
 * The lead's prospect: by the id we know (ResMan not knowing it is final), else by contact (`matchContact`, a
 * conflict when another person's); none found, the write creates it.
 */
async function resolveProspect(
  settings: Settings,
  connection: PartnerConnection,
  lead: PartnerLead,
): Promise<ProspectRecord | ContactConflict> {
  if (lead.externalId) {
    const prospect = await prospectById(settings, connection, lead.externalId);
    if (!prospect) {
      throw new PartnerError(
        'resman',
        'final',
        `resman has no prospect ${lead.externalId} at this property`,
        {
          partnerCode: 'prospect_not_found',
        },
      );
    }
    return { externalId: prospect.prospectId, prospect };
  }
  const matched = await matchContact(
    lead,
    (by, value) =>
      searchProspects(settings, connection, by === 'email' ? { Email: value } : { Phone: value }),
    (prospect) => prospect.prospectId,
  );
  if (!matched) return { created: true };
  if ('conflict' in matched) return matched;
  return { externalId: matched.match.prospectId, prospect: matched.match };
}

async function pushStatus(connection: PartnerConnection, push: StatusPush): Promise<PushResult> {
  const settings = settingsOf(connection);
  const { lead } = push;
  const customerType = customerTypeFor(push.status);
  const eventType = eventTypeFor(settings.config, push.status);
  return pushToRecord(lead, {
    partner: 'resman',
    noun: 'prospect',
    resolve: (lead) => resolveProspect(settings, connection, lead),
    // Our own earlier write of this very push (a retry after a lost answer): done, nothing written twice.
    applied: ({ prospect }) => prospect?.type === customerType && hasOurWrite(prospect, push.idempotencyKey),
    async write({ externalId, created }) {
      const written = await postProspect(settings, connection, {
        prospectId: externalId,
        customerType,
        // Contact fields only on a record we create or created: never over ResMan's own records.
        contact: created || (lead.createdByUs && lead.externalId !== undefined) ? contactOf(lead) : undefined,
        event: compact({
          type: eventType,
          date: push.occurredAt,
          agentId: settings.config.agent_id,
          firstContact: created,
          transactionSource: created ? sourceIdFor(settings.config, lead.source) : undefined,
          reasonId: push.status === 'lost' ? settings.config.lost_reason_id : undefined,
          comments: commentFor(
            {
              status: push.status,
              origin: push.origin,
              causation: push.causationId,
              key: push.idempotencyKey,
              lead: lead.leadId,
            },
            push.reason,
          ),
        }),
      });
      return { code: written.code, externalId: written.prospectId };
    },
    async readBack({ created }, written) {
      const prospectId = written.externalId;
      const readBack = prospectId ? await prospectById(settings, connection, prospectId) : undefined;
      if (!readBack) {
        // Not kept as the lead's id: the next push looks the lead up by contact again.
        return {
          outcome: 'not_applied',
          code: written.code,
          detail: created
            ? `resman answered Success but prospect ${prospectId ?? '(no id)'} cannot be found`
            : `resman answered Success but prospect ${prospectId} is gone`,
        };
      }
      if (readBack.type !== customerType) {
        return `resman still shows customer type ${readBack.type}, not ${customerType}`;
      }
      if (readBack.events !== undefined && !hasOurWrite(readBack, push.idempotencyKey)) {
        return `resman shows no ${eventType} event of this push`;
      }
      return undefined;
    },
  });
}

async function upsertLead(connection: PartnerConnection, lead: PartnerLead): Promise<Upserted> {
  const settings = settingsOf(connection);
  const record = await resolveProspect(settings, connection, lead);
  if ('conflict' in record) throw contactConflictError('resman', 'prospect', record);
  const { prospect } = record;
  if (prospect) {
    // Only a record we created gets our contact fields; ResMan's own records are left as they are.
    if (!lead.externalId || !lead.createdByUs) {
      return { externalId: prospect.prospectId, created: false, code: 200 };
    }
    const { code } = await postProspect(settings, connection, {
      prospectId: prospect.prospectId,
      customerType: prospect.type as CustomerType,
      contact: contactOf(lead),
    });
    return { externalId: prospect.prospectId, created: false, code };
  }
  const written = await postProspect(settings, connection, {
    customerType: 'prospect',
    contact: contactOf(lead),
    event: compact({
      type: eventTypeFor(settings.config, 'new'),
      date: lead.createdAt,
      agentId: settings.config.agent_id,
      firstContact: true,
      transactionSource: sourceIdFor(settings.config, lead.source),
      comments: commentFor({ status: 'new', origin: 'system', lead: lead.leadId }),
    }),
  });
  const created = written.prospectId
    ? await prospectById(settings, connection, written.prospectId)
    : undefined;
  if (!created) {
    throw new PartnerError(
      'resman',
      'final',
      'resman answered Success but the new prospect cannot be found',
      {
        status: written.code,
        partnerCode: 'not_applied',
      },
    );
  }
  return { externalId: created.prospectId, created: true, code: written.code };
}

/** The newest event (by EventDate, else document order). */
function latestEvent(prospect: ResManProspect): ResManEvent | undefined {
  const events = prospect.events ?? [];
  return events.reduce<ResManEvent | undefined>((latest, event) => {
    if (!latest) return event;
    if (!event.date || !latest.date) return event;
    return Date.parse(event.date) >= Date.parse(latest.date) ? event : latest;
  }, undefined);
}

/** When ResMan first heard of the prospect: its FirstContact event, else its earliest event. */
function firstContactAt(prospect: ResManProspect): number | undefined {
  const events = prospect.events ?? [];
  const first = events.find((e) => e.firstContact) ?? events[0];
  const dates = first?.date ? [first.date] : events.flatMap((e) => (e.date ? [e.date] : []));
  const times = dates.map(Date.parse).filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.min(...times) : undefined;
}

/**
 * ResMan's word for where a prospect stands: the customer type, refined for plain prospects by the newest
 * event (a tour booked or shown; the type alone says only "prospect").
 */
export function resmanStatusWord(config: ResManConfig, prospect: ResManProspect): string {
  if (prospect.type !== 'prospect') return prospect.type;
  const latest = latestEvent(prospect);
  if (latest?.type === eventTypeFor(config, 'toured')) return 'toured';
  if (latest?.type === eventTypeFor(config, 'tour_scheduled')) return 'tour_scheduled';
  return 'prospect';
}

/** One polled prospect as inbox events (none when the change is our own write coming back). */
function prospectEvents(
  config: ResManConfig,
  connection: PartnerConnection,
  prospect: ResManProspect,
  windowStart: number,
  now: Date,
): InboundEvent[] {
  const latest = latestEvent(prospect);
  const ours = ourComment(latest?.comments);
  // The newest change is the event we wrote and the type is still what we set: our echo, not news.
  if (ours?.status && customerTypeFor(ours.status as LeadStatus) === prospect.type) return [];
  const modified = prospect.lastModified ?? latest?.date;
  const partnerEventId = modified
    ? `prospect/${prospect.prospectId}@${modified}`
    : `prospect/${prospect.prospectId}/${prospect.type}/${prospect.events?.length ?? 0}`;
  const occurredAt = modified && !Number.isNaN(Date.parse(modified)) ? new Date(modified) : now;
  const word = resmanStatusWord(config, prospect);
  const firstContact = (prospect.events ?? []).find((e) => e.firstContact) ?? prospect.events?.[0];
  const createdAt = firstContactAt(prospect);
  // New to ResMan in this window, and not a record we created: an inquiry. Older ones are found by id only,
  // so a change in ResMan never opens a new journey for a lead that ended.
  const isNew = createdAt !== undefined && createdAt >= windowStart && !ourComment(firstContact?.comments);
  const find = [{ by: 'external_id' as const, partner: 'resman' as const, externalId: prospect.prospectId }];
  const base = {
    partnerEventId,
    occurredAt: occurredAt.toISOString(),
    actor: 'resman_user',
  };
  const context = compact({
    prospect_id: prospect.prospectId,
    customer_type: prospect.type,
    event_type: latest?.type,
    reason_id: latest?.reasonId,
  });
  if (toCanonical('resman', word) === undefined) {
    return [
      { ...base, eventType: 'prospect.modified', events: [], note: `customer type ${word} is not mapped` },
    ];
  }
  const status = { kind: 'partner_status' as const, partner: 'resman' as const, value: word, context };
  if (isNew) {
    return [
      {
        ...base,
        eventType: 'prospect.created',
        lead: {
          create: compact({
            firstName: prospect.firstName,
            lastName: prospect.lastName,
            email: prospect.email,
            phone: prospect.phone,
            propertyId: connection.propertyId,
            externalIds: { resman: prospect.prospectId },
            customData: { resman: context },
          }),
          find,
        },
        events: [status],
      },
    ];
  }
  // "prospect" alone says nothing about how far along a lead is (a note or an email was added): reporting it
  // would read as a backward move, so it is kept for operators without touching the journey.
  if (word === 'prospect') {
    return [
      { ...base, eventType: 'prospect.modified', events: [], note: 'modified without a status change' },
    ];
  }
  return [{ ...base, eventType: 'prospect.modified', lead: { find }, events: [status] }];
}

/**
 * Prospects changed in ResMan since `cursor` (an ISO time): one window of at most a day per call, re-reading
 * the last minutes of the previous one; `more` while the window ends before now.
 */
async function fetchNew(
  connection: PartnerConnection,
  cursor: string | undefined,
  now: Date,
): Promise<FetchResult> {
  const settings = settingsOf(connection);
  const parsedCursor = cursor ? Date.parse(cursor) : NaN;
  const start = Number.isNaN(parsedCursor)
    ? now.getTime() - settings.config.poll_lookback_hours * 60 * 60 * 1000
    : parsedCursor;
  if (start >= now.getTime()) return { events: [], cursor: new Date(start).toISOString(), more: false };
  const end = Math.min(start + RESMAN_WINDOW_MS, now.getTime());
  const prospects = await searchProspects(settings, connection, {
    ModifiedStartDateTime: new Date(start - RESMAN_OVERLAP_MS).toISOString(),
    ModifiedEndDateTime: new Date(end).toISOString(),
  });
  return {
    events: prospects.flatMap((p) => prospectEvents(settings.config, connection, p, start, now)),
    cursor: new Date(end).toISOString(),
    more: end < now.getTime(),
  };
}

interface ProspectSourcesAnswer {
  Status?: string;
  ErrorDescription?: string;
  ProspectSources?: { ID?: string; Name?: string }[];
}

/** Leasing/GetProspectSources: proves the credentials and property, and that configured sources exist. */
async function testConnection(connection: PartnerConnection): Promise<{ detail: string }> {
  const settings = settingsOf(connection);
  const response = await partnerRequest('resman', connection, {
    method: 'POST',
    url: joinUrl(settings.base, 'Leasing/GetProspectSources'),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(settings.auth).toString(),
    describeError: (r) => {
      try {
        const body = JSON.parse(r.text) as ProspectSourcesAnswer;
        return { message: body.ErrorDescription ?? r.text.slice(0, 200) };
      } catch {
        return describeXmlError(r);
      }
    },
  });
  let body: ProspectSourcesAnswer;
  try {
    body = JSON.parse(response.text) as ProspectSourcesAnswer;
  } catch {
    throw new PartnerError('resman', 'retryable', 'resman answered GetProspectSources without JSON', {
      status: response.status,
    });
  }
  if (body.Status !== 'Success') {
    const description = body.ErrorDescription ?? `status ${body.Status ?? '(none)'}`;
    throw new PartnerError(
      'resman',
      TRANSIENT.test(description) ? 'retryable' : 'final',
      `resman refused Leasing/GetProspectSources: ${description}`,
      { status: response.status },
    );
  }
  const sources = body.ProspectSources ?? [];
  const known = new Set(sources.map((s) => String(s.ID)));
  const configured = [
    ...(settings.config.default_source_id ? [settings.config.default_source_id] : []),
    ...Object.values(settings.config.source_ids ?? {}),
  ];
  const unknown = [...new Set(configured.filter((sourceId) => !known.has(sourceId)))];
  if (unknown.length > 0) {
    throw new PartnerError(
      'resman',
      'final',
      `resman has no prospect source ${unknown.join(', ')} (GetProspectSources lists ${sources.length})`,
      { status: response.status, partnerCode: 'transaction_source_not_found' },
    );
  }
  return { detail: `resman property reachable: ${sources.length} prospect sources` };
}

/** A backfill reads ResMan a week of changes per call (polls read a day). */
export const RESMAN_BACKFILL_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

const isoAt = (value: string | number | undefined): string | undefined => {
  const at = typeof value === 'number' ? value : value ? Date.parse(value) : NaN;
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
};

/**
 * Prospects modified since `since`, a week's window a page (the cursor is where the next window starts), each
 * at the stage its customer type and newest event say: first contact as its inquiry, its newest event as the last
 * activity (and, for a booked tour, as the tour's time: ResMan dates the appointment event).
 */
async function listLeads(
  connection: PartnerConnection,
  page: { since: string; cursor?: string },
): Promise<LeadListPage> {
  const settings = settingsOf(connection);
  const start = Date.parse(page.cursor ?? page.since);
  const now = Date.now();
  const end = Math.min(start + RESMAN_BACKFILL_WINDOW_MS, now);
  const prospects = await searchProspects(settings, connection, {
    ModifiedStartDateTime: new Date(start).toISOString(),
    ModifiedEndDateTime: new Date(end).toISOString(),
  });
  const records = prospects.map((prospect) => {
    const word = resmanStatusWord(settings.config, prospect);
    const latest = latestEvent(prospect);
    const status = wonAsWon(toCanonical('resman', word)) ?? word;
    return importRecord({
      external_id: prospect.prospectId,
      external_source: 'resman',
      first_name: prospect.firstName,
      last_name: prospect.lastName,
      email: prospect.email,
      phone: prospect.phone,
      property_id: connection.propertyId,
      source: 'resman',
      status,
      created_at: isoAt(firstContactAt(prospect)) ?? isoAt(prospect.lastModified),
      status_changed_at: isoAt(latest?.date),
      tour_at: status === 'tour_scheduled' ? isoAt(latest?.date) : undefined,
      last_activity_at: isoAt(latest?.date) ?? isoAt(prospect.lastModified),
    });
  });
  return { records, ...(end < now ? { cursor: new Date(end).toISOString() } : {}) };
}

const outbound: OutboundAdapter = { pushStatus, upsertLead, fetchNew, testConnection, listLeads };

export const resman: PartnerAdapter = {
  partner: 'resman',
  integration: { webhookSecret: { kind: 'generate' }, config: ResManConfig, credentials: ResManCredentials },
  inbound: {
    verify: (request, secrets) => verifyStandardWebhook(request, secrets.webhookSecret),
    parse(request): InboundEvent[] {
      const body = validate(StatusUpdateWebhook, jsonBody(request));
      requireKnownStatus('resman', body.new_status, 'new_status');
      return [
        {
          partnerEventId: standardWebhookId(request),
          eventType: 'status.updated',
          occurredAt: body.updated_at,
          actor: body.updated_by,
          lead: { find: [{ by: 'external_id', partner: 'resman', externalId: body.lead_id }] },
          events: [
            {
              kind: 'partner_status',
              partner: 'resman',
              value: body.new_status,
              reason: body.status_reason,
              context: {
                ...body.context_data,
                ...(body.old_status ? { partner_old_status: body.old_status } : {}),
                updated_by: body.updated_by,
              },
            },
          ],
        },
      ];
    },
  },
  outbound,
};
