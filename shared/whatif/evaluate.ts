// One lead's what-if: rebuild its inputs from the record, replay them with today's policy (the baseline) and with
// the candidate, and say what would differ; check the baseline against what was recorded. Pure.
import type { FollowUpPolicy, JourneyPolicy } from '../journey/types';
import type { WorkflowRule } from '../journey/rules';
import type { NotificationPreference, PlanChannels } from '../notifications/recipients';
import type { FoundTerms } from '../referralFees';
import { asRecordShows, diffOutcomes, type LeadDifferences } from './diff';
import { reconstructInputs } from './inputs';
import { outcomeOfRecord, outcomeOfReplay, type LeadOutcome, type OutcomeContext } from './outcome';
import type { LeadRecords } from './records';
import { replayLead } from './replay';

/** A change not yet saved, tried on recorded leads. */
export interface Candidate {
  /** A workflow rule as it would be created (property_id null: every property). */
  rule?: Omit<WorkflowRule, 'id'> & { property_id: string | null; is_active: boolean };
  preference?: NotificationPreference;
  /** Follow-up timings laid over the workspace's. */
  followUps?: Partial<FollowUpPolicy>;
  /** The reducer of this checkout against the record: the baseline is what was recorded. */
  reducer?: boolean;
}

/** The id a candidate rule takes in the replay (its follow-ups are named `rule_candidate_<n>`). */
export const CANDIDATE_RULE_ID = 'candidate';

/** Follow-up times of a replay and of the record this close are the same (times not recorded are approximate). */
export const RECORD_TOLERANCE_MS = 60_000;

/** Where a lead lives today: its policy, the workspace's preferences and channels, its partners' fee terms. */
export interface LeadSetting {
  policy: JourneyPolicy;
  preferences: readonly NotificationPreference[];
  channels: PlanChannels;
  feeTerms: (partner: string) => FoundTerms | undefined;
}

export interface LeadWhatIf {
  lead_id: string;
  workspace_id: string;
  property_id: string | null;
  changed: boolean;
  final_status: { baseline: string; candidate: string };
  inputs: { events: number; complete: boolean; gaps: string[] };
  /** Whether replaying the record with today's reducer and policy gives what was recorded (null: the baseline is the record). */
  baseline_matches_recorded: boolean | null;
  /** Where the record and the baseline part (record → baseline), when they do. */
  recorded_mismatches?: LeadDifferences;
  differences: LeadDifferences;
}

export interface LeadEvaluation {
  result: LeadWhatIf;
  baseline: LeadOutcome;
  candidate: LeadOutcome;
}

/** The policy with the candidate's rule (when it applies to the lead's property) and follow-up timings. */
export function candidatePolicy(
  policy: JourneyPolicy,
  candidate: Candidate,
  propertyId: string | null,
): JourneyPolicy {
  const rule = candidate.rule;
  const applies = rule && rule.is_active && (rule.property_id === null || rule.property_id === propertyId);
  return {
    ...policy,
    ...(applies
      ? {
          rules: [
            ...(policy.rules ?? []),
            {
              id: CANDIDATE_RULE_ID,
              trigger_status: rule.trigger_status,
              target_status: rule.target_status ?? null,
              conditions: rule.conditions,
              actions: rule.actions,
            },
          ],
        }
      : {}),
    ...(candidate.followUps && policy.followUps
      ? { followUps: { ...policy.followUps, ...candidate.followUps } }
      : {}),
  };
}

export function evaluateLead(
  lead: LeadRecords,
  setting: LeadSetting,
  candidate: Candidate,
  /** Inputs up to here are replayed and follow-ups fired until here. */
  until: string,
  /** Whether `until` is now: only then does the record's next follow-up compare with the replay's. */
  untilIsNow: boolean,
): LeadEvaluation {
  const { inputs, gaps, source } = reconstructInputs(lead, until);
  const replayOf = (policy: JourneyPolicy, preferences: readonly NotificationPreference[]) => {
    const trace = replayLead(
      {
        workspaceId: lead.workspaceId,
        leadId: lead.leadId,
        propertyId: lead.propertyId,
        source,
        facts: { hasEmail: lead.email !== null, hasPhone: lead.phone !== null },
        zone: lead.zone,
      },
      inputs,
      policy,
      until,
    );
    const context: OutcomeContext = {
      contact: { email: lead.email, phone: lead.phone, emailOptedOut: lead.emailOptedOut },
      customData: lead.customData,
      preferences,
      channels: setting.channels,
      feeTerms: setting.feeTerms,
    };
    return outcomeOfReplay(lead, trace, context);
  };
  const cut = (outcome: LeadOutcome) => {
    const shown = asRecordShows(outcome);
    return untilIsNow ? shown : { ...shown, follow_ups: shown.follow_ups.filter((f) => f.fired) };
  };
  const recorded = cut(outcomeOfRecord(lead, setting.channels));
  const candidatePreferences = candidate.preference
    ? [...setting.preferences, candidate.preference]
    : setting.preferences;
  const candidateOutcome = replayOf(
    candidatePolicy(setting.policy, candidate, lead.propertyId),
    candidatePreferences,
  );

  let baseline: LeadOutcome;
  let differences: LeadDifferences;
  let matches: boolean | null;
  let mismatches: LeadDifferences | undefined;
  if (candidate.reducer) {
    baseline = recorded;
    differences = diffOutcomes(recorded, cut(candidateOutcome), RECORD_TOLERANCE_MS);
    matches = null;
  } else {
    baseline = replayOf(setting.policy, setting.preferences);
    differences = diffOutcomes(baseline, candidateOutcome);
    mismatches = diffOutcomes(recorded, cut(baseline), RECORD_TOLERANCE_MS);
    matches = Object.keys(mismatches).length === 0;
  }
  const result: LeadWhatIf = {
    lead_id: lead.leadId,
    workspace_id: lead.workspaceId,
    property_id: lead.propertyId,
    changed: Object.keys(differences).length > 0,
    final_status: { baseline: baseline.final_status, candidate: candidateOutcome.final_status },
    inputs: { events: inputs.length, complete: gaps.length === 0, gaps },
    baseline_matches_recorded: matches,
    ...(mismatches && !matches ? { recorded_mismatches: mismatches } : {}),
    differences,
  };
  return { result, baseline, candidate: candidateOutcome };
}
