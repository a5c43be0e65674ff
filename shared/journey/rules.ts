// Workflow rules (seed 001 status_workflow_rules) as data, and the pure check of their conditions. The
// reducer runs the actions of every rule whose trigger status the lead just entered.
import type { LeadStatus } from '../lifecycle';

export const RULE_ACTION_TYPES = [
  'send_notification',
  'schedule_follow_up',
  'update_lead_score',
  'create_task',
] as const;
export type RuleActionType = (typeof RULE_ACTION_TYPES)[number];

export interface RuleConditions {
  /** Minutes of conversation at least (from the change's context_data). */
  conversation_duration?: number;
  /** Messages exchanged at least (from the change's context_data). */
  message_count?: number;
  /** Lead score at least. */
  lead_score?: number;
  /** Local time window `HH:MM-HH:MM` (may wrap past midnight). */
  time_of_day?: string;
  /** The lead's attributed source. */
  source?: string;
}

export interface RuleAction {
  type: RuleActionType;
  config: Record<string, unknown>;
}

export interface WorkflowRule {
  id: string;
  trigger_status: LeadStatus;
  /** When set, the lead moves on to this status once the actions ran (if the lifecycle allows it). */
  target_status?: LeadStatus | null;
  conditions: RuleConditions;
  actions: RuleAction[];
}

export interface RuleFacts {
  leadScore: number;
  source: string;
  /** Minutes since local midnight of the moment the change applies. */
  localMinutes: number;
  context: Record<string, unknown> | undefined;
}

function minutesOf(clock: string): number | undefined {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(clock.trim());
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** Whether `HH:MM-HH:MM` is a valid window (the API checks rules with it). */
export function isTimeWindow(value: string): boolean {
  const [from, to] = value.split('-');
  return (
    from !== undefined && to !== undefined && minutesOf(from) !== undefined && minutesOf(to) !== undefined
  );
}

function inWindow(window: string, minutes: number): boolean {
  const [fromText, toText] = window.split('-');
  const from = fromText === undefined ? undefined : minutesOf(fromText);
  const to = toText === undefined ? undefined : minutesOf(toText);
  if (from === undefined || to === undefined) return false;
  return from <= to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
}

function numberIn(context: Record<string, unknown> | undefined, key: string): number {
  const value = context?.[key];
  return typeof value === 'number' ? value : 0;
}

/** Every condition present must hold; a rule without conditions always fires. */
export function conditionsHold(conditions: RuleConditions, facts: RuleFacts): boolean {
  if (conditions.lead_score !== undefined && facts.leadScore < conditions.lead_score) return false;
  if (
    conditions.message_count !== undefined &&
    numberIn(facts.context, 'message_count') < conditions.message_count
  ) {
    return false;
  }
  if (
    conditions.conversation_duration !== undefined &&
    numberIn(facts.context, 'conversation_duration') < conditions.conversation_duration
  ) {
    return false;
  }
  if (conditions.source !== undefined && conditions.source !== facts.source) return false;
  if (conditions.time_of_day !== undefined && !inWindow(conditions.time_of_day, facts.localMinutes))
    return false;
  return true;
}
