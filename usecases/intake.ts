// Intake of an inquiry from any door (API, web form, partner): resolve the person to one lead, then
// hand the inquiry to that lead's journey.
import type pg from 'pg';
import { createOrMatchLead, type LeadInput, type LeadRecord } from '../data/leads';
import { loadJourneyContext } from '../activities/db/journey';
import { PARTNERS, type PartnerName } from '../shared/lifecycle';
import type { LeadEvent, Source } from '../shared/journey/types';
import type { JourneyClient } from './journeys';
import { requireProperty } from './properties';

export interface IntakeDeps {
  pool: pg.Pool;
  journeys: JourneyClient;
}

export function sourceOf(label: string): Source {
  return (PARTNERS as readonly string[]).includes(label) ? `partner:${label as PartnerName}` : 'api';
}

export async function receiveInquiry(
  deps: IntakeDeps,
  input: LeadInput,
  event: { eventId: string; occurredAt: string; actor?: string; source?: Source },
): Promise<{ lead: LeadRecord; matched: boolean; workflowId: string }> {
  await requireProperty(deps.pool, input.workspaceId, input.propertyId);
  const { lead, matched } = await createOrMatchLead(deps.pool, input);
  const inquiry: LeadEvent = {
    kind: 'inquiry',
    eventId: event.eventId,
    occurredAt: event.occurredAt,
    source: event.source ?? sourceOf(input.source),
    actor: event.actor,
    channel: input.source,
    propertyId: lead.property_id ?? undefined,
    facts: { hasEmail: lead.email !== null, hasPhone: lead.phone_e164 !== null },
  };
  const workflowId = await deps.journeys.send(
    {
      workspaceId: lead.workspace_id,
      leadId: lead.id,
      propertyId: lead.property_id ?? undefined,
      source: lead.source,
      status: lead.status,
    },
    inquiry,
    await loadJourneyContext(deps.pool, { workspaceId: lead.workspace_id, leadId: lead.id }),
  );
  return { lead, matched, workflowId };
}
