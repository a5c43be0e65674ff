// The journey reads the policy staff change while it runs (connected partners, active rules, time zone) right
// before it decides an event that may change the lead's status: the workflow fetches, then the pure reducer
// decides. Runs recorded before this existed replay with their run-start policy (`patched('live-policy')`).
import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { JourneyPolicy, JourneyState, LeadEvent, LeadEventKind } from '../shared/journey/types';
import { failureText, POSTGRES_OUTAGE, SURVIVES_FAILURES } from './activityBounds';

type Activities = ReturnType<typeof createActivities>;

// A regular activity, not a local one: its answer (rules name staff recipients) is encrypted by the payload
// codec like every other payload, which local activity markers are not.
const { currentPolicy } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'read partners, rules and time zone',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Events whose decision may push to partners, run rules or read local time; the rest decide without a read. */
export const READS_POLICY: ReadonlySet<LeadEventKind> = new Set<LeadEventKind>([
  'inquiry',
  'partner_status',
  'status_change',
  'tour_booked',
  'tour_cancelled',
  'call',
  'deadline_fired',
]);

/** The policy to decide `event` with: today's partners, rules and zone over the run's policy. */
export async function policyForDecision(
  policy: JourneyPolicy,
  state: JourneyState,
  event: LeadEvent,
): Promise<JourneyPolicy> {
  if (!READS_POLICY.has(event.kind) || state.seenEventIds.includes(event.eventId)) return policy;
  // An inquiry may bring the lead its property: that property's partners and rules apply to it.
  const propertyId = state.propertyId ?? (event.kind === 'inquiry' ? event.propertyId : undefined);
  let live: Awaited<ReturnType<typeof currentPolicy>>;
  try {
    live = await currentPolicy({
      workspaceId: state.workspaceId,
      ...(propertyId !== undefined ? { propertyId } : {}),
    });
  } catch (error) {
    // Unreadable for good: the event is decided with the policy the run has.
    if (!patched(SURVIVES_FAILURES)) throw error;
    log.error('live policy unreadable; deciding with the run policy', {
      workspaceId: state.workspaceId,
      leadId: state.leadId,
      error: failureText(error),
    });
    return policy;
  }
  return { ...policy, ...live };
}
