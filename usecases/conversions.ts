// Logging a conversion (seed 004): stored exactly once, then an event in the lead's journey.
import { loadJourneyContext } from '../activities/db/journey';
import { getLead } from '../data/leads';
import { logConversion, type ConversionInput, type ConversionRecord } from '../data/conversions';
import { AppError } from '../shared/errors';
import type { IntakeDeps } from './intake';

/**
 * The journey hears of the conversion on every answer, repeats included: a first attempt that stored it but
 * could not reach Temporal is completed by the client's retry; the journey ignores the repeated event id.
 */
export async function recordConversion(
  deps: IntakeDeps,
  { contactId, ...input }: Omit<ConversionInput, 'leadId'> & { contactId: string },
): Promise<{ conversion: ConversionRecord; created: boolean }> {
  const lead = await getLead(deps.pool, input.workspaceId, contactId);
  if (!lead) throw new AppError('not_found', `contact ${contactId} not found`);
  const logged = await logConversion(deps.pool, { ...input, leadId: lead.id });
  const { conversion } = logged;
  await deps.journeys.send(
    {
      workspaceId: lead.workspace_id,
      leadId: lead.id,
      propertyId: lead.property_id ?? undefined,
      source: lead.source,
      status: lead.status,
    },
    {
      kind: 'conversion',
      eventId: `conversion:${conversion.id}`,
      occurredAt: conversion.converted_at.toISOString(),
      source: 'api',
      actor: conversion.converted_by,
      conversionId: conversion.id,
      conversionType: conversion.conversion_type,
      ...(conversion.conversion_value !== null ? { value: conversion.conversion_value } : {}),
    },
    await loadJourneyContext(deps.pool, { workspaceId: lead.workspace_id, leadId: lead.id }),
  );
  return logged;
}
