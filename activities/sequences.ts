// The journey's two reads of nurture sequences, made when they are needed (never frozen into a run): which active
// sequences a trigger moment enrols the lead in, and an enrolment's next step as the sequence says now.
import type pg from 'pg';
import { activeSequences, sequenceForStep, type SequenceRecord } from '../data/sequences';
import {
  triggerLabel,
  triggerMatches,
  type SequenceMatch,
  type SequenceStepDefinition,
  type TriggerMoment,
} from '../shared/journey/sequences';

export interface MatchArgs {
  workspaceId: string;
  leadId: string;
  propertyId?: string;
  triggers: TriggerMoment[];
}

/** The active sequences whose trigger one of the moments matches (also read by recordJourneyChange). */
export async function matchSequences(
  pool: pg.Pool | pg.PoolClient,
  args: MatchArgs,
): Promise<SequenceMatch[]> {
  const sequences = await activeSequences(pool, args.workspaceId, args.propertyId);
  return sequences
    .filter((s) => s.steps.length > 0 && args.triggers.some((moment) => triggerMatches(s.trigger, moment)))
    .map((s) => ({
      sequenceId: s.id,
      firstWaitMinutes: s.steps[0]!.wait_minutes,
      exitOn: s.exit_on,
      trigger: triggerLabel(s.trigger),
    }));
}

export interface StepArgs {
  workspaceId: string;
  leadId: string;
  enrolmentId: string;
  sequenceId: string;
  step: number;
}

export type StepAnswer = { definition: SequenceStepDefinition } | { gone: string; stopped?: boolean };

export async function loadSequenceStep(pool: pg.Pool, args: StepArgs): Promise<StepAnswer> {
  const { sequence, enrolmentState } = await sequenceForStep(
    pool,
    args.workspaceId,
    args.sequenceId,
    args.enrolmentId,
  );
  if (enrolmentState === 'stopped') return { gone: 'stopped by staff', stopped: true };
  return stepOf(sequence, args.step);
}

function stepOf(sequence: (SequenceRecord & { deleted: boolean }) | undefined, index: number): StepAnswer {
  if (!sequence || sequence.deleted) return { gone: 'the sequence was deleted' };
  if (!sequence.is_active) return { gone: 'the sequence was paused' };
  const step = sequence.steps[index];
  if (!step) return { gone: `the sequence no longer has a step ${index + 1}` };
  return {
    definition: {
      channel: step.channel,
      templateId: step.template_id,
      nextWaitMinutes: sequence.steps[index + 1]?.wait_minutes ?? null,
      exitOn: sequence.exit_on,
    },
  };
}
