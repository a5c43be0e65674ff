// A lead's journey inputs rebuilt from what Postgres recorded, in the order the journey decided them: inbox events
// (as delivery signalled them), staff and API changes (their history rows), conversions. Deadline firings are
// consequences, not inputs: the replay makes them again from the policy. What cannot be rebuilt is named a gap.
import { journeyEffectKey } from '../ids';
import { inboxJourneyEvents } from '../inbound';
import { isStatus, PARTNERS, type LeadStatus, type PartnerName } from '../lifecycle';
import { originPartner } from '../journey/decide';
import { deadlineOfEventId } from '../journey/followUps';
import type { LeadEvent, Source } from '../journey/types';
import type { LeadRecords, RecordedHistoryRow } from './records';

/** One input and the moment the journey decided it. */
export interface TimedEvent {
  at: string;
  event: LeadEvent;
}

export interface Reconstruction {
  inputs: TimedEvent[];
  /** Why the replay may not see everything the journey saw (empty: every input is recorded). */
  gaps: string[];
  /** The first journey's attributed source (the lead row keeps only the latest journey's). */
  source: string;
}

interface Ordered extends TimedEvent {
  /** (journey, seq) of the first history row the input wrote, when it wrote one: the journey's own order. */
  rank?: [number, number];
  index: number;
}

function isSource(value: string): value is Source {
  if (['staff', 'chatbot', 'system', 'api'].includes(value)) return true;
  return value.startsWith('partner:') && (PARTNERS as readonly string[]).includes(value.slice(8));
}

/** The inputs up to `until`, in decision order. */
export function reconstructInputs(lead: LeadRecords, until: string): Reconstruction {
  const gaps: string[] = [];
  // The first history row of each event (rows of one event share its id; the first is the event's own).
  const firstRow = new Map<string, RecordedHistoryRow>();
  for (const row of lead.history) {
    if (row.seq === null || row.eventId === null) continue;
    const known = firstRow.get(row.eventId);
    if (!known || before(row, known)) {
      firstRow.set(row.eventId, row);
    }
  }
  const explained = new Set<string>();
  const collected: Ordered[] = [];
  const add = (event: LeadEvent, fallbackAt: string) => {
    explained.add(event.eventId);
    const row = firstRow.get(event.eventId);
    collected.push({
      at: row?.at ?? fallbackAt,
      event,
      ...(row ? { rank: [row.journey, row.seq!] as [number, number] } : {}),
      index: collected.length,
    });
  };

  for (const inbox of lead.inbox) {
    if (inbox.status !== 'delivered') continue;
    const events = inboxJourneyEvents(inbox.id, inbox.partner as PartnerName, inbox.normalized, {
      propertyId: lead.propertyId,
      hasEmail: lead.email !== null,
      hasPhone: lead.phone !== null,
    });
    for (const event of events) add(event, inbox.deliveredAt ?? inbox.receivedAt);
  }
  for (const conversion of lead.conversions) {
    add(
      {
        kind: 'conversion',
        eventId: `conversion:${conversion.id}`,
        occurredAt: conversion.convertedAt,
        source: 'api',
        actor: conversion.convertedBy,
        conversionId: conversion.id,
        conversionType: conversion.type,
        ...(conversion.value !== null ? { value: conversion.value } : {}),
      },
      conversion.createdAt,
    );
  }
  // What is left in the history came through the API: the lead's first inquiry and staff status changes.
  for (const [eventId, row] of firstRow) {
    if (explained.has(eventId) || deadlineOfEventId(eventId)) continue;
    const event = apiInput(lead, row, gaps);
    if (typeof event === 'string') gaps.push(event);
    else {
      add(event, row.at);
      if (event.kind === 'status_change' && event.to === 'tour_scheduled' && !event.facts?.tourAt) {
        gaps.push(`status change ${eventId} booked a tour whose time is not recorded (it notified nobody)`);
      }
    }
  }
  const inputs = collected
    .filter((input) => input.at <= until)
    .sort((a, b) => compareTimes(a, b))
    .map(({ at, event }) => ({ at, event }));
  return { inputs, gaps, source: firstJourneySource(lead, firstRow) };
}

/**
 * The lead row's source is the latest journey's; the first journey's is the one its `lead.created` event
 * announced, else the one its opening inbox event names.
 */
function firstJourneySource(lead: LeadRecords, firstRow: Map<string, RecordedHistoryRow>): string {
  if (lead.journeySources[1] !== undefined) return lead.journeySources[1];
  if (lead.journey <= 1) return lead.source;
  const opening = [...firstRow.values()].find((row) => row.journey === 1 && row.oldStatus === null);
  const inboxId = /^inbox\/(.+)\/0$/.exec(opening?.eventId ?? '')?.[1];
  const inbox = lead.inbox.find((row) => row.id === inboxId);
  return inbox ? (inbox.normalized.lead?.create?.source ?? inbox.partner) : lead.source;
}

function before(a: RecordedHistoryRow, b: RecordedHistoryRow): boolean {
  return a.journey < b.journey || (a.journey === b.journey && a.seq! < b.seq!);
}

/** Decision order: the journey's own (journey, seq) where both wrote history, else time, else arrival. */
function compareTimes(a: Ordered, b: Ordered): number {
  if (a.rank && b.rank) return a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1];
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.index - b.index;
}

/** The API input that wrote `row` first: an inquiry (the row opening a journey) or a staff status change. */
function apiInput(lead: LeadRecords, row: RecordedHistoryRow, gaps: string[]): LeadEvent | string {
  const eventId = row.eventId!;
  const source = isSource(row.source) ? row.source : undefined;
  if (!source || !isStatus(row.newStatus)) {
    return `history row ${row.key} names an unknown source or status`;
  }
  const base = {
    eventId,
    occurredAt: row.at,
    source,
    ...(row.actor ? { actor: row.actor } : {}),
    // An API request naming a partner is that partner's word only (the journey's patch signed-origin).
    ...(originPartner(source) ? { sourceUnproven: true } : {}),
  };
  if (row.oldStatus === null && row.type === 'applied') {
    const label = lead.journeySources[row.journey];
    if (label === undefined && row.journey < lead.journey && source === 'api') {
      gaps.push(`journey ${row.journey} began with an API inquiry whose source label is not recorded`);
    }
    return {
      ...base,
      kind: 'inquiry',
      // The API names the journey's attributed source as the lead's source label.
      channel: label ?? lead.source,
      ...(lead.propertyId ? { propertyId: lead.propertyId } : {}),
      facts: { hasEmail: lead.email !== null, hasPhone: lead.phone !== null },
    };
  }
  if (row.type !== 'applied' && row.type !== 'refused') {
    return `event ${eventId} wrote a ${row.type} row but is not recorded as an input`;
  }
  const to: LeadStatus = row.newStatus;
  const staffNotice = staffNotification(lead, row.journey, eventId, to);
  const tourAt = typeof staffNotice?.data.tour_at === 'string' ? staffNotice.data.tour_at : undefined;
  return {
    ...base,
    kind: 'status_change',
    to,
    ...(row.reason !== null && row.type === 'applied' ? { reason: row.reason } : {}),
    ...(row.type === 'applied' && Object.keys(row.context).length > 0 ? { context: row.context } : {}),
    // A change that notified nobody asked for silence (the staff notice is written with the history row).
    ...(row.type === 'applied' && !staffNotice ? { triggerNotifications: false } : {}),
    ...(tourAt ? { facts: { tourAt } } : {}),
  };
}

/** The staff notification an applied change wrote (its key is the change's own), if it wrote one. */
function staffNotification(lead: LeadRecords, journey: number, eventId: string, to: LeadStatus) {
  const key = journeyEffectKey(lead.workspaceId, lead.leadId, journey, eventId, 'notify', `staff:${to}`);
  return lead.notifications.find((n) => n.key === key);
}
