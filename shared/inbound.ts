// A partner event normalized by its adapter, as the inbox stores it and intake delivers it: how to find or
// create the lead, and the journey events it carries.
import type { PartnerName } from './lifecycle';
import type { LeadEvent, LeadEventBody, Source } from './journey/types';

/** A person as an inquiry describes them: created, or matched by partner id, then email, then phone. */
export interface InquiryContact {
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  message?: string;
  propertyId?: string;
  externalIds?: Record<string, string>;
  customData?: Record<string, unknown>;
  /** The lead's source label; the partner's name when absent. */
  source?: string;
}

/** One way to find an existing lead, tried in order. */
export type LeadLookup =
  | { by: 'lead_id'; leadId: string }
  | { by: 'external_id'; partner: PartnerName; externalId: string }
  | { by: 'email'; email: string }
  | { by: 'phone'; phone: string }
  | { by: 'sms_message'; messageSid: string };

/**
 * How the pipeline finds the lead: `create` makes an inquiry (create-or-match, and an `inquiry` event goes
 * first); otherwise `find` is tried in order, and an event whose lead is found by none is kept `unmatched`.
 */
export interface LeadLocator {
  create?: InquiryContact;
  find?: LeadLookup[];
}

/** A journey event as an adapter describes it; the pipeline stamps id, source and time. */
export type InboundLeadEvent = LeadEventBody & {
  /** A fixed event id (e.g. one per call): the journey ignores its repeats. Default: from the inbox event. */
  eventId?: string;
};

/** Rows kept beside the inbox, written in the inbox transaction. */
export type InboundRecord =
  | {
      kind: 'call';
      callId: string;
      direction?: string;
      answered?: boolean;
      durationSeconds?: number;
      startedAt?: string;
      data: Record<string, unknown>;
    }
  | { kind: 'sms_delivery'; messageSid: string; status: string; errorCode?: string };

/** One partner event: one inbox row. A webhook may carry several (HubSpot batches, Facebook entries). */
export interface InboundEvent {
  /** The partner's id of this event, unique per integration: the inbox dedupe key. */
  partnerEventId: string;
  /** e.g. `referral.created`, `sms.inbound`, `invitee.canceled`. */
  eventType: string;
  /** ISO time the event happened at the partner (receipt time when the partner does not say). */
  occurredAt: string;
  /** Who did it at the partner (an agent, `resman_user`); never an email or phone. */
  actor?: string;
  /** Absent: nothing for a journey (kept as `ignored`, e.g. the cancel half of a Calendly reschedule). */
  lead?: LeadLocator;
  events: InboundLeadEvent[];
  record?: InboundRecord;
  /** Why an event is ignored, for operators. */
  note?: string;
  /**
   * The notification carries ids only (Facebook's leadgen): before delivery, the adapter's `inbound.complete`
   * fetches the rest from the partner (in an activity, with retries) and the inbox row is updated with it.
   */
  fetch?: InboundFetch;
}

export interface InboundFetch {
  /** The partner's id of what to fetch (a leadgen id). */
  ref: string;
  /** Fetched and merged into this event. */
  done?: boolean;
  /** The partner's final refusal of the last fetch (an expired token): delivered without, staff told. */
  refused?: string;
}

/** Who an event from this partner is attributed to in the journey: the chatbot reports as itself. */
export function partnerSource(partner: PartnerName): Source {
  return partner === 'chatbot' ? 'chatbot' : `partner:${partner}`;
}

/**
 * The journey events one inbox row delivers, with the ids every delivery and replay gives them: an inquiry first
 * when the event creates (or matches) a lead, then the adapter's events in order.
 */
export function inboxJourneyEvents(
  inboxId: string,
  partner: PartnerName,
  event: InboundEvent,
  lead: { propertyId: string | null; hasEmail: boolean; hasPhone: boolean },
): LeadEvent[] {
  const base = {
    occurredAt: event.occurredAt,
    source: partnerSource(partner),
    ...(event.actor ? { actor: event.actor } : {}),
  };
  const events: LeadEvent[] = [];
  if (event.lead?.create) {
    events.push({
      ...base,
      kind: 'inquiry',
      eventId: `inbox/${inboxId}/0`,
      channel: event.lead.create.source ?? partner,
      propertyId: lead.propertyId ?? undefined,
      facts: { hasEmail: lead.hasEmail, hasPhone: lead.hasPhone },
    });
  }
  event.events.forEach((body, index) => {
    const { eventId, ...rest } = body;
    events.push({ ...base, ...rest, eventId: eventId ?? `inbox/${inboxId}/${index + 1}` } as LeadEvent);
  });
  return events;
}
