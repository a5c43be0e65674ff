// Intake of an inquiry from any door (API, web form, partner): resolve the person to one lead, then
// hand the inquiry to that lead's journey.
import type pg from 'pg';
import { createOrMatchLead, type LeadInput, type LeadRecord } from '../data/leads';
import { isStatus, isTerminal, PARTNERS, type PartnerName } from '../shared/lifecycle';
import { journeyContext, type PolicyCache } from '../data/policies';
import { originPartner } from '../shared/journey/decide';
import type { LeadEvent, Source } from '../shared/journey/types';
import type { JourneyClient } from './journeys';

export interface IntakeDeps {
  pool: pg.Pool;
  journeys: JourneyClient;
  /** Journey policies (cached): a lead's first journey then starts with its context, nothing read back. */
  policies?: PolicyCache;
}

export function sourceOf(label: string): Source {
  return (PARTNERS as readonly string[]).includes(label) ? `partner:${label as PartnerName}` : 'api';
}

/**
 * One round trip to Postgres (leadrelay_create_or_match_lead, which the ingest inbox runs too, and which
 * refuses a property the workspace does not have), then the signal. A run this signal starts (a new lead, or
 * a lead whose journey ended) gets its context from the cached policy and the row just written; a running
 * journey needs none.
 */
export async function receiveInquiry(
  deps: IntakeDeps,
  input: LeadInput,
  event: { eventId: string; occurredAt: string; actor?: string; source?: Source },
): Promise<{ lead: LeadRecord; matched: boolean; workflowId: string }> {
  const { lead, matched, live } = await createOrMatchLead(deps.pool, input, { live: !!deps.policies });
  const source = event.source ?? sourceOf(input.source);
  const inquiry: LeadEvent = {
    kind: 'inquiry',
    eventId: event.eventId,
    occurredAt: event.occurredAt,
    source,
    // A label naming a partner is the caller's word, not that partner's signed event: it still gets the lead.
    ...(event.source === undefined && originPartner(source) ? { sourceUnproven: true } : {}),
    actor: event.actor,
    channel: input.source,
    propertyId: lead.property_id ?? undefined,
    facts: { hasEmail: lead.email !== null, hasPhone: lead.phone_e164 !== null },
  };
  const starts = !matched || (isStatus(lead.status) && isTerminal(lead.status));
  const basis =
    starts && deps.policies ? await deps.policies.get(lead.workspace_id, lead.property_id) : undefined;
  // Partners, rules and zone read with the lead: the run decides this inquiry without reading them again.
  const context =
    basis && deps.policies
      ? journeyContext(live ? deps.policies.withLive(basis, live) : basis, {
          propertyId: lead.property_id,
          status: lead.status,
          journey: lead.journey,
          seq: lead.projection_seq,
          source: lead.source,
          sources: lead.sources,
          hasEmail: lead.email !== null,
          hasPhone: lead.phone_e164 !== null,
          createdAt: lead.created_at,
          statusChangedAt: lead.status_changed_at,
        })
      : undefined;
  const workflowId = await deps.journeys.send(
    {
      workspaceId: lead.workspace_id,
      leadId: lead.id,
      propertyId: lead.property_id ?? undefined,
      source: lead.source,
      status: lead.status,
    },
    inquiry,
    context,
    { policyReadFor: context && live ? inquiry.eventId : undefined },
  );
  return { lead, matched, workflowId };
}
