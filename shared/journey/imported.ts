// An imported lead's past, for the reducer: the stages it went through with the dates it reached them, the
// checks a row must pass before its lead is made, and which follow-ups were already overdue when it came in.
import {
  isTerminal,
  missingFields,
  skippedStages,
  statusAvailable,
  type LeadStatus,
  type Pipeline,
  type Vertical,
} from '../lifecycle';
import { deadlineKey, planDeadlines } from './followUps';
import type { FollowUpPolicy, HistoryEntryType, ImportedLead, JourneyState } from './types';

/** One row of an imported lead's history: a stage it reached (applied) or passed without a date (skipped). */
export interface ImportedStep {
  type: Extract<HistoryEntryType, 'applied' | 'skipped'>;
  oldStatus: LeadStatus | null;
  newStatus: LeadStatus;
  at: string;
}

/** A problem with an imported lead, named by the field (CSV column) to fix. */
export interface ImportProblem {
  field: string;
  message: string;
}

/** The stages between `new` and `status` that an import may date (lost leads: any stage before the loss). */
function stagesBefore(status: LeadStatus, pipeline: Pipeline): LeadStatus[] {
  return skippedStages('new', status === 'lost' ? 'leased' : status, pipeline);
}

/**
 * The history an imported lead starts with, oldest first: its inquiry; each stage before its status, applied at
 * its date or recorded as skipped when the old system had none (a lost lead lists only the stages it dated);
 * then its status. Each row is at least as late as the one before, so the rows read in the order they happened.
 */
export function importedPath(lead: ImportedLead, pipeline: Pipeline): ImportedStep[] {
  const dates = lead.stageDates ?? {};
  const steps: ImportedStep[] = [{ type: 'applied', oldStatus: null, newStatus: 'new', at: lead.createdAt }];
  if (lead.status === 'new') return steps;
  let reached: LeadStatus = 'new';
  let at = lead.createdAt;
  for (const stage of stagesBefore(lead.status, pipeline)) {
    const date = dates[stage];
    if (date === undefined && lead.status === 'lost') continue;
    if (date === undefined) {
      steps.push({ type: 'skipped', oldStatus: reached, newStatus: stage, at });
      continue;
    }
    at = latest(at, date);
    steps.push({ type: 'applied', oldStatus: reached, newStatus: stage, at });
    reached = stage;
  }
  const final = dates[lead.status];
  steps.push({
    type: 'applied',
    oldStatus: reached,
    newStatus: lead.status,
    at: final === undefined ? at : latest(at, final),
  });
  return steps;
}

/**
 * What is wrong with an imported lead, before anything is written: a status its property's pipeline lacks, dates
 * in the future or out of order, a field its status needs (a tour time, an email or phone).
 */
export function importProblems(
  lead: ImportedLead,
  where: { vertical: Vertical; pipeline: Pipeline },
  now: string,
): ImportProblem[] {
  const problems: ImportProblem[] = [];
  const { vertical, pipeline } = where;
  if (!statusAvailable(lead.status, vertical, pipeline)) {
    const statuses = pipeline.statuses.filter((s) => statusAvailable(s, vertical, pipeline));
    problems.push({
      field: 'status',
      message: `${lead.status} is not a status of this ${vertical.replace('_', ' ')} pipeline; its statuses are ${statuses.join(', ')}`,
    });
    return problems;
  }
  if (lead.createdAt > now) problems.push({ field: 'created_at', message: 'is in the future' });
  const dates = lead.stageDates ?? {};
  let previous = { field: 'created_at', at: lead.createdAt };
  for (const stage of [...stagesBefore(lead.status, pipeline), lead.status]) {
    const date = dates[stage];
    if (date === undefined) continue;
    const field = stageDateColumn(stage, lead.status);
    if (date > now) problems.push({ field, message: 'is in the future' });
    else if (date < previous.at) problems.push({ field, message: `is before ${previous.field}` });
    previous = { field, at: date };
  }
  if (lead.lastActivityAt !== undefined && lead.lastActivityAt > now) {
    problems.push({ field: 'last_activity_at', message: 'is in the future' });
  }
  for (const missing of missingFields(lead.status, { hasEmail: false, hasPhone: false, ...lead.facts })) {
    problems.push({
      field: missing.split('|').join(' or '),
      message: `status ${lead.status} needs ${missing.split('|').join(' or ')}`,
    });
  }
  return problems;
}

/** The CSV column holding the date a stage was reached (the current status's is `status_changed_at`). */
export function stageDateColumn(stage: LeadStatus, status: LeadStatus): string {
  return stage === status ? 'status_changed_at' : `${stage}_at`;
}

/** The latest moment an imported lead was active: its own last activity, else its latest stage. */
export function lastActivityOf(lead: ImportedLead, path: ImportedStep[]): string {
  return lead.lastActivityAt ?? path.reduce((max, step) => latest(max, step.at), lead.createdAt);
}

/**
 * The follow-ups already overdue when the lead comes in, as fired: imported history is not news, so no
 * speed-to-lead escalation for a week-old lead, no reminder of a tour that took place. One exception: a lead
 * already stale gets its stale nudge once, now (planDeadlines holds one stale deadline, so never a backlog).
 */
export function overdueAtImport(
  state: JourneyState,
  policy: FollowUpPolicy | undefined,
  now: string,
): string[] {
  if (isTerminal(state.status)) return state.firedDeadlines ?? [];
  const overdue = planDeadlines(state, policy)
    .filter((deadline) => deadline.fireAt <= now && deadline.name !== 'stale')
    .map(deadlineKey);
  return [...(state.firedDeadlines ?? []), ...overdue];
}

function latest(a: string, b: string): string {
  return a > b ? a : b;
}
