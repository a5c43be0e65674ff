// The journey's functional core: from the state, one event and the lead's policy, decide the next state,
// the side effects and the outcome. It runs inside Temporal's deterministic workflow sandbox and doubles
// as the update validator, so it imports nothing but the lifecycle table, the journey types and the ids.
import { journeyEffectKey } from '../ids';
import { statusTemplate } from '../notifications/templates';
import { localMinutes } from './localTime';
import { conditionsHold } from './rules';
import { importedPath, lastActivityOf, overdueAtImport } from './imported';
import {
  FINISHED_ENROLMENTS_KEPT,
  activeEnrolments,
  statusEnds,
  type Enrolment,
  type TriggerMoment,
} from './sequences';
import {
  STAGE_RANK,
  STATUS_PRIORITY,
  allowedNext,
  canTransition,
  fromCanonical,
  isTerminal,
  missingFields,
  partnerValues,
  skippedStages,
  statusAvailable,
  toCanonical,
  type LeadFacts,
  type LeadStatus,
  type PartnerName,
} from '../lifecycle';
import type {
  Decision,
  Effect,
  HistoryEntry,
  JourneyPolicy,
  JourneyState,
  JourneyView,
  LeadEvent,
  LeadEventKind,
  Outcome,
  Refusal,
  Source,
} from './types';

/**
 * How many recent event ids a journey remembers. Older redeliveries are the ingest inbox's to catch; the
 * bound keeps the state (and every continue-as-new payload) small.
 */
export const SEEN_EVENT_IDS_LIMIT = 1000;

type EventOf<K extends LeadEventKind> = Extract<LeadEvent, { kind: K }>;

/** What a handler concluded; the state and effects it produced live on its Step. */
interface Verdict {
  outcome: Outcome;
  refusal?: Refusal;
}

/**
 * One decision in progress: a private copy of the state that the helpers below update in place, and the
 * effects so far. Copying once up front keeps the caller's state untouched without threading copies.
 */
interface Step {
  readonly event: LeadEvent;
  readonly policy: JourneyPolicy;
  readonly now: string;
  readonly state: JourneyState;
  readonly effects: Effect[];
  /** Rule actions run so far, and how deep in rule-driven moves we are (a rule's move runs no rules). */
  readonly actionsFired: string[];
  ruleDepth: number;
  /** Moments that may enrol the lead in sequences. */
  readonly triggers: TriggerMoment[];
}

const APPLIED: Verdict = { outcome: 'applied' };
const RECORDED: Verdict = { outcome: 'recorded' };
const UNCHANGED: Verdict = { outcome: 'unchanged' };

export function initialState(args: {
  workspaceId: string;
  leadId: string;
  propertyId?: string;
  journey: number;
  source: string;
  now: string;
  facts?: Partial<LeadFacts>;
}): JourneyState {
  const state: JourneyState = {
    workspaceId: args.workspaceId,
    leadId: args.leadId,
    journey: args.journey,
    status: 'new',
    statusChangedAt: args.now,
    createdAt: args.now,
    updatedAt: args.now,
    source: args.source,
    sources: [args.source],
    facts: mergedFacts({ hasEmail: false, hasPhone: false }, args.facts),
    smsOptedOut: false,
    lastPushed: {},
    seenEventIds: [],
    seq: 1,
    counters: { events: 0, calls: 0, notes: 0, conversions: 0, tours: 0 },
  };
  if (args.propertyId !== undefined) state.propertyId = args.propertyId;
  return state;
}

export function decide(state: JourneyState, event: LeadEvent, policy: JourneyPolicy, now: string): Decision {
  if (state.seenEventIds.includes(event.eventId)) return { outcome: 'duplicate', state, effects: [] };
  // The lead came back after its journey ended: the shell starts the next journey and replays this event
  // there, so this journey must not remember the id (the replay would be taken for a duplicate).
  if (event.kind === 'inquiry' && isTerminal(state.status)) return newJourney(state, event, policy, now);

  const isFirstEvent = state.counters.events === 0;
  const step: Step = {
    event,
    policy,
    now,
    state: beginStep(state, event, now),
    effects: [],
    actionsFired: [],
    ruleDepth: 0,
    triggers: [],
  };
  const verdict = handle(step, event, isFirstEvent);
  const decision: Decision = { outcome: verdict.outcome, state: step.state, effects: step.effects };
  if (step.actionsFired.length > 0) decision.actionsFired = step.actionsFired;
  if (verdict.refusal) decision.refusal = verdict.refusal;
  if (step.triggers.length > 0) decision.triggers = step.triggers;
  return decision;
}

/**
 * The next journey opens in a fresh run, which knows nothing of this one's sequences: they end here, and this
 * journey does not remember the inquiry (the next one replays it).
 */
function newJourney(state: JourneyState, event: LeadEvent, policy: JourneyPolicy, now: string): Decision {
  if (activeEnrolments(state.enrolments).length === 0) return { outcome: 'new_journey', state, effects: [] };
  const step: Step = {
    event,
    policy,
    now,
    state: { ...state, enrolments: [...(state.enrolments ?? [])] },
    effects: [],
    actionsFired: [],
    ruleDepth: 0,
    triggers: [],
  };
  leaveSequences(step, 'exited', 'new inquiry: the next journey began', () => true);
  return { outcome: 'new_journey', state: step.state, effects: step.effects };
}

function handle(step: Step, event: LeadEvent, isFirstEvent: boolean): Verdict {
  const { state } = step;
  switch (event.kind) {
    case 'inquiry':
      return onInquiry(step, event, isFirstEvent);
    case 'partner_status':
      return onPartnerStatus(step, event);
    case 'status_change':
      return onStatusChange(step, event);
    case 'tour_booked':
      return onTourBooked(step, event);
    case 'tour_cancelled':
      return onTourCancelled(step, event);
    case 'call':
      return onCall(step, event);
    case 'sequence_enrol':
      return onSequenceEnrol(step, event);
    case 'sequence_step':
      return onSequenceStep(step, event);
    case 'sequence_stop':
      leaveSequences(step, 'stopped', event.reason ?? 'stopped by staff', (e) => e.id === event.enrolmentId);
      return RECORDED;
    case 'email_engaged':
      return RECORDED;
    case 'email_opt_out':
      leaveSequences(step, 'exited', 'unsubscribed from email', () => true);
      return RECORDED;
    case 'note':
      state.counters.notes += 1;
      return RECORDED;
    case 'conversion':
      state.counters.conversions += 1;
      return RECORDED;
    case 'sms_opt_out':
      state.smsOptedOut = true;
      leaveSequences(step, 'exited', 'replied STOP', () => true);
      return RECORDED;
    case 'sms_opt_in':
      state.smsOptedOut = false;
      return RECORDED;
    case 'sms_received':
      leadReplied(step, 'replied by SMS');
      return RECORDED;
    case 'sms_delivery':
      return RECORDED;
    case 'facts_changed':
      state.facts = mergedFacts(state.facts, event.facts);
      return RECORDED;
    case 'deadline_fired':
      return onDeadlineFired(step, event);
    case 'imported':
      return onImported(step, event, isFirstEvent);
  }
}

/**
 * Synchronous on purpose: it is the Temporal update validator for staff status changes, and the SDK does not
 * await validators.
 */
export function validateStatusChange(
  state: JourneyState,
  to: LeadStatus,
  policy: JourneyPolicy,
  /** Facts the change itself supplies (e.g. the tour time with tour_scheduled). */
  facts?: Partial<LeadFacts>,
): Refusal | undefined {
  const { vertical, pipeline } = policy;
  if (!statusAvailable(to, vertical, pipeline)) return statusNotAvailable(to, policy);
  // Setting the status a lead already has changes nothing; refusing it would make retried PUTs fail.
  if (to === state.status) return undefined;
  const from = state.status;
  if (!canTransition(from, to, vertical, pipeline)) {
    const allowed = allowedNext(from, vertical, pipeline);
    const message =
      allowed.length > 0
        ? `A lead cannot move from ${from} to ${to}; from ${from} it can move to ${listed(allowed)}.`
        : `A lead cannot move from ${from} to ${to}: ${from} ${isTerminal(from) ? 'is a final status' : 'has no next status in this pipeline'}.`;
    return { code: 'invalid_transition', message, details: { from, to, allowed } };
  }
  const missing = missingFields(to, facts ? mergedFacts(state.facts, facts) : state.facts);
  if (missing.length > 0) {
    return {
      code: 'missing_fields',
      message: `Status ${to} needs ${missing.map(fieldPhrase).join(' and ')}.`,
      details: { status: to, missing },
    };
  }
  return undefined;
}

export function view(state: JourneyState, policy: JourneyPolicy, nextFollowUpAt?: string): JourneyView {
  const result: JourneyView = {
    workspaceId: state.workspaceId,
    leadId: state.leadId,
    journey: state.journey,
    status: state.status,
    statusChangedAt: state.statusChangedAt,
    updatedAt: state.updatedAt,
    source: state.source,
    sources: [...state.sources],
    smsOptedOut: state.smsOptedOut,
    allowedNext: allowedNext(state.status, policy.vertical, policy.pipeline),
    counters: { ...state.counters },
  };
  if (state.propertyId !== undefined) result.propertyId = state.propertyId;
  if (nextFollowUpAt !== undefined) result.nextFollowUpAt = nextFollowUpAt;
  return result;
}

/** The name a touch is attributed to: the partner for partner events, else the channel it came through. */
export function leadSourceLabel(source: Source, channel?: string): string {
  const partner = partnerOf(source);
  return partner ?? channel ?? source;
}

// ---- event handlers ----

function onInquiry(step: Step, event: EventOf<'inquiry'>, isFirstEvent: boolean): Verdict {
  const { state } = step;
  if (state.propertyId === undefined && event.propertyId !== undefined) state.propertyId = event.propertyId;
  state.facts = mergedFacts(state.facts, event.facts);
  if (isFirstEvent) {
    recordHistory(step, { type: 'applied', oldStatus: null, newStatus: 'new', reason: 'inquiry' });
    // Connected CRMs and PMSs learn of the lead when it arrives, not at its first status change.
    pushToPartners(step, 'new');
    emitWebhook(step, 'lead.created', {
      lead_id: state.leadId,
      workspace_id: state.workspaceId,
      property_id: state.propertyId ?? null,
      status: state.status,
      source: state.source,
      occurred_at: step.now,
    });
    step.triggers.push({ event: 'inquiry', source: state.source });
    return APPLIED;
  }
  // Every touch is kept; the first source stays the attributed one.
  const label = leadSourceLabel(event.source, event.channel);
  if (!state.sources.includes(label)) state.sources.push(label);
  // The lead wrote to us again: for a nurture sequence, that is an answer.
  leadReplied(step, `wrote again through ${label}`);
  return RECORDED;
}

function onPartnerStatus(step: Step, event: EventOf<'partner_status'>): Verdict {
  const { state, policy } = step;
  const { partner, value } = event;
  const current = state.status;
  const reported = toCanonical(partner, value, policy.vertical);

  // Never default an unknown word: a wrong guess would push a wrong status to every other system.
  if (reported === undefined) {
    const allowed = partnerValues(partner);
    const refusal: Refusal = {
      code: 'unknown_partner_value',
      message: `${partner} sent status "${value}", which is not one of its statuses: ${allowed.join(', ')}.`,
      details: { partner, value, allowed },
    };
    return refuse(step, refusal, current, { partner, value });
  }
  // The partner confirming the status we pushed it is an acknowledgement, not news.
  if (reported === state.lastPushed[partner]) return { outcome: 'echo' };
  if (reported === current) return UNCHANGED;
  if (!statusAvailable(reported, policy.vertical, policy.pipeline)) {
    const refusal = statusNotAvailable(reported, policy);
    return refuse(step, refusal, reported, { code: refusal.code, partner, value });
  }
  if (isTerminal(current)) return recordConflict(step, event, reported);

  // Partners are the system of record for their stages: a missing field is noted, never a reason to refuse.
  const missing = missingFields(reported, state.facts);
  const context = {
    ...event.context,
    partner,
    value,
    ...(missing.length > 0 ? { missing_fields: missing } : {}),
  };
  if (canTransition(current, reported, policy.vertical, policy.pipeline)) {
    applyStatus(step, reported, event.reason, context);
    return APPLIED;
  }
  if (STAGE_RANK[reported] > STAGE_RANK[current]) {
    jumpForward(step, reported, 'skipped by partner', event.reason, context);
    return APPLIED;
  }
  return recordConflict(step, event, reported);
}

function onStatusChange(step: Step, event: EventOf<'status_change'>): Verdict {
  const { state, policy } = step;
  const refusal = validateStatusChange(state, event.to, policy, event.facts);
  if (refusal) {
    const { allowed, missing } = refusal.details;
    return refuse(step, refusal, event.to, {
      code: refusal.code,
      ...(allowed !== undefined ? { allowed } : {}),
      ...(missing !== undefined ? { missing } : {}),
    });
  }
  if (event.facts) state.facts = mergedFacts(state.facts, event.facts);
  if (event.to === state.status) return UNCHANGED;
  applyStatus(step, event.to, event.reason, event.context);
  return APPLIED;
}

function onTourBooked(step: Step, event: EventOf<'tour_booked'>): Verdict {
  const { state, policy } = step;
  state.facts.tourAt = event.tourAt;
  state.counters.tours += 1;
  const current = state.status;
  if (current === 'tour_scheduled') return RECORDED; // a reschedule: the new time is the news
  if (!statusAvailable('tour_scheduled', policy.vertical, policy.pipeline)) return RECORDED;
  const context = { tour_at: event.tourAt };
  if (canTransition(current, 'tour_scheduled', policy.vertical, policy.pipeline)) {
    applyStatus(step, 'tour_scheduled', 'tour booked', context);
    return APPLIED;
  }
  // A booked tour proves the earlier stages happened, as a partner's forward report does.
  if (STAGE_RANK.tour_scheduled > STAGE_RANK[current]) {
    jumpForward(step, 'tour_scheduled', 'skipped by tour booking', 'tour booked', context);
    return APPLIED;
  }
  return RECORDED; // the lead is already past the tour (or done): the booking is kept as a fact only
}

function onTourCancelled(step: Step, event: EventOf<'tour_cancelled'>): Verdict {
  const { state, policy } = step;
  const { tourAt: _cancelled, ...facts } = state.facts;
  state.facts = facts;
  if (state.status !== 'tour_scheduled' || !statusAvailable('qualified', policy.vertical, policy.pipeline)) {
    return RECORDED;
  }
  // Back to qualified without the email-or-phone check: a cancellation must never be refused, and the lead
  // was reachable enough to book a tour.
  const reason = event.reason ?? (event.noShow ? 'tour no-show' : 'tour cancelled');
  applyStatus(step, 'qualified', reason, event.noShow ? { no_show: true } : undefined);
  if (event.noShow) step.triggers.push({ event: 'no_show' });
  return APPLIED;
}

function onCall(step: Step, event: EventOf<'call'>): Verdict {
  const { state, policy } = step;
  state.counters.calls += 1;
  if (event.direction === 'inbound') leadReplied(step, 'inbound call', (e) => e.exitOn.call);
  else if (event.answered) leaveSequences(step, 'exited', 'answered outbound call', (e) => e.exitOn.call);
  if (
    event.answered &&
    state.status === 'new' &&
    canTransition('new', 'contacted', policy.vertical, policy.pipeline)
  ) {
    applyStatus(step, 'contacted', 'call answered', { call_id: event.callId, direction: event.direction });
    return APPLIED;
  }
  return RECORDED;
}

/**
 * A lead brought in by an import starts at the stage it reached: its past is recorded with its own dates, and
 * nothing of it is news (no partner push, notification, webhook or rule). A lead that already had a journey
 * keeps it; the import is one more touch.
 */
function onImported(step: Step, event: EventOf<'imported'>, isFirstEvent: boolean): Verdict {
  const { state, policy } = step;
  if (!isFirstEvent) {
    const label = leadSourceLabel(event.source, event.channel);
    if (!state.sources.includes(label)) state.sources.push(label);
    return RECORDED;
  }
  if (state.propertyId === undefined && event.propertyId !== undefined) state.propertyId = event.propertyId;
  state.facts = mergedFacts(state.facts, event.facts);
  const path = importedPath(event, policy.pipeline);
  const context = { imported: true, import_id: event.importId, row: event.row };
  for (const entry of path) {
    const reason = entry.newStatus === 'lost' && event.reason ? event.reason : 'imported';
    recordHistory(step, { ...entry, reason, context, at: entry.at });
  }
  const reached = path[path.length - 1]!;
  state.status = reached.newStatus;
  state.statusChangedAt = reached.at;
  state.createdAt = event.createdAt;
  state.updatedAt = lastActivityOf(event, path);
  if (state.facts.tourAt !== undefined) state.counters.tours += 1;
  state.firedDeadlines = overdueAtImport(state, policy.followUps, step.now);
  return APPLIED;
}

/** Runs the actions of every rule triggered by entering `status` whose conditions hold. */
function runRules(step: Step, status: LeadStatus, context: Record<string, unknown> | undefined): void {
  const { state, policy, now } = step;
  if (step.ruleDepth > 0) return;
  const facts = {
    leadScore: state.leadScore ?? 0,
    source: state.source,
    localMinutes: ruleClock(policy, now),
    context: { ...(step.event.kind === 'status_change' ? step.event.context : {}), ...context },
  };
  for (const rule of policy.rules ?? []) {
    if (rule.trigger_status !== status || !conditionsHold(rule.conditions, facts)) continue;
    rule.actions.forEach((action, i) => {
      const target = `rule:${rule.id}:${i}`;
      const config = action.config;
      switch (action.type) {
        case 'send_notification': {
          const channel = typeof config.channel === 'string' ? config.channel : 'slack';
          const to = Array.isArray(config.recipients) ? config.recipients.map(String) : ['default'];
          step.effects.push({
            kind: 'notify',
            key: effectKey(step, 'notify', target),
            audience: to.includes('prospect') ? 'prospect' : 'staff',
            topic: `rule:${rule.id}`,
            template:
              typeof config.template_id === 'string' ? config.template_id : statusTemplate(null, status),
            priority: STATUS_PRIORITY[status],
            recipients: { channel: channel as 'email' | 'sms' | 'slack' | 'in_app', to },
            data: { new_status: status, rule_id: rule.id },
          });
          break;
        }
        case 'schedule_follow_up': {
          const minutes =
            Number(config.after_minutes ?? 0) +
            Number(config.after_hours ?? 0) * 60 +
            Number(config.after_days ?? 0) * 1440;
          state.customDeadlines = [
            ...(state.customDeadlines ?? []),
            {
              name: `rule_${rule.id}_${i}`,
              fireAt: new Date(Date.parse(now) + Math.max(1, minutes) * 60_000).toISOString(),
              template: typeof config.template_id === 'string' ? config.template_id : 'follow_up_due',
            },
          ].slice(-50);
          break;
        }
        case 'update_lead_score':
          state.leadScore =
            typeof config.set === 'number' ? config.set : (state.leadScore ?? 0) + Number(config.delta ?? 0);
          break;
        case 'create_task':
          step.effects.push({
            kind: 'alert_staff',
            key: effectKey(step, 'alert_staff', target),
            reason: `task:${typeof config.kind === 'string' ? config.kind : 'follow_up'}`,
            details: { rule_id: rule.id, title: config.title ?? null, status },
          });
          break;
      }
      step.actionsFired.push(action.type);
    });
    const next = rule.target_status;
    if (
      next &&
      next !== state.status &&
      canTransition(state.status, next, policy.vertical, policy.pipeline)
    ) {
      step.ruleDepth += 1;
      applyStatus(step, next, `rule ${rule.id}`, { rule_id: rule.id });
      step.ruleDepth -= 1;
    }
  }
}

/** Local time for time_of_day conditions: from the zone's name; runs from before it kept a fixed UTC offset. */
function ruleClock(policy: JourneyPolicy, now: string): number {
  if (policy.timeZone !== undefined) return localMinutes(now, policy.timeZone);
  const local = new Date(Date.parse(now) + (policy.utcOffsetMinutes ?? 0) * 60_000);
  return local.getUTCHours() * 60 + local.getUTCMinutes();
}

/** What each follow-up does when its deadline comes; the deadlines themselves are planned in followUps.ts. */
function onDeadlineFired(step: Step, event: EventOf<'deadline_fired'>): Verdict {
  const { state } = step;
  state.firedDeadlines = [...(state.firedDeadlines ?? []), `${event.name}@${event.fireAt}`].slice(-100);
  const data = {
    lead_id: state.leadId,
    status: state.status,
    due_at: event.fireAt,
    tour_at: state.facts.tourAt ?? null,
  };
  const notify = (
    audience: 'prospect' | 'staff',
    template: string,
    priority: 'low' | 'medium' | 'high' | 'urgent',
  ) =>
    step.effects.push({
      kind: 'notify',
      key: effectKey(step, 'notify', `${audience}:${template}`),
      audience,
      topic: template,
      template,
      priority,
      data,
    });
  const alert = (reason: string) =>
    step.effects.push({
      kind: 'alert_staff',
      key: effectKey(step, 'alert_staff', reason),
      reason,
      details: data,
    });

  if (event.name === 'auto_lost') {
    if (
      isTerminal(state.status) ||
      !canTransition(state.status, 'lost', step.policy.vertical, step.policy.pipeline)
    ) {
      return RECORDED;
    }
    applyStatus(step, 'lost', 'no activity: lost automatically', {
      deadline: event.name,
      due_at: event.fireAt,
    });
    return APPLIED;
  }
  const custom = state.customDeadlines?.find((d) => d.name === event.name && d.fireAt === event.fireAt);
  if (custom) {
    notify('staff', custom.template, 'high');
    return RECORDED;
  }
  if (event.name === 'speed_to_lead') {
    alert('speed_to_lead_missed');
    notify('staff', 'speed_to_lead_escalation', 'urgent');
  } else if (event.name.startsWith('referral_response_')) {
    alert(`referral_deadline_missed:${event.name.slice('referral_response_'.length)}`);
  } else if (event.name.startsWith('tour_reminder_')) {
    const template = event.name; // tour_reminder_24h, tour_reminder_2h
    notify('prospect', template, 'high');
    notify('staff', template, 'high');
  } else if (event.name === 'post_tour') {
    notify('staff', 'post_tour_outcome_request', 'high');
  } else if (event.name === 'no_show') {
    notify('prospect', 'no_show_follow_up', 'medium');
    alert('tour_no_show');
    step.triggers.push({ event: 'no_show' });
  } else if (event.name === 'stale') {
    notify('staff', 'stale_lead_nudge', 'medium');
  }
  return RECORDED;
}

// ---- nurture sequences ----

function onSequenceEnrol(step: Step, event: EventOf<'sequence_enrol'>): Verdict {
  const { state, now } = step;
  if (state.status !== event.atStatus) return UNCHANGED;
  const active = new Set(activeEnrolments(state.enrolments).map((e) => e.sequenceId));
  let enrolled = 0;
  for (const match of event.enrolments) {
    // Already in that sequence: a second trigger does not restart it.
    if (active.has(match.sequenceId)) continue;
    active.add(match.sequenceId);
    const enrolment: Enrolment = {
      id: match.enrolmentId,
      sequenceId: match.sequenceId,
      state: 'active',
      step: 0,
      nextAt: new Date(Date.parse(now) + match.firstWaitMinutes * 60_000).toISOString(),
      exitOn: match.exitOn,
      enrolledStatus: state.status,
      enrolledAt: now,
      trigger: match.trigger,
      revision: 1,
    };
    state.enrolments = [...(state.enrolments ?? []), enrolment];
    recordEnrolment(step, enrolment);
    enrolled += 1;
  }
  trimEnrolments(state);
  return enrolled > 0 ? RECORDED : UNCHANGED;
}

/** A step came due: send it through the one notification path, then wait for the next or finish. */
function onSequenceStep(step: Step, event: EventOf<'sequence_step'>): Verdict {
  const { state } = step;
  const current = activeEnrolments(state.enrolments).find((e) => e.id === event.enrolmentId);
  // Moved on, stopped, or a step already taken (a replayed timer): nothing to do.
  if (!current || current.step !== event.step || current.nextAt !== event.fireAt) return UNCHANGED;
  const definition = event.definition;
  if (!definition) {
    const gone = event.gone ?? 'the sequence no longer exists';
    leaveSequences(step, event.stopped ? 'stopped' : 'exited', gone, (e) => e.id === current.id);
    return RECORDED;
  }
  step.effects.push({
    kind: 'notify',
    key: effectKey(step, 'notify', `sequence:${current.id}:${current.step}`),
    audience: 'prospect',
    topic: `sequence:${current.sequenceId}`,
    recipients: { channel: definition.channel, to: ['prospect'] },
    template: definition.templateId,
    priority: 'low',
    data: {
      sequence_id: current.sequenceId,
      enrolment_id: current.id,
      sequence_step: current.step,
      status: state.status,
      tour_at: state.facts.tourAt ?? null,
    },
  });
  const next: Enrolment = {
    ...current,
    step: current.step + 1,
    exitOn: definition.exitOn,
    revision: current.revision + 1,
  };
  if (definition.nextWaitMinutes === null) {
    next.state = 'completed';
    delete next.nextAt;
  } else {
    next.nextAt = new Date(Date.parse(event.fireAt) + definition.nextWaitMinutes * 60_000).toISOString();
  }
  replaceEnrolment(step, next);
  return RECORDED;
}

/**
 * The lead answered (an SMS, a new inquiry, an inbound call): each enrolment that has sent something remembers
 * the first answer and the step it followed (reply rates), and those whose rules say so end.
 */
function leadReplied(
  step: Step,
  why: string,
  ends: (enrolment: Enrolment) => boolean = (e) => e.exitOn.reply,
): void {
  // A completed sequence's last message can still be answered: it counts, and ends nothing.
  const answerable = (step.state.enrolments ?? []).filter(
    (e) => e.state === 'active' || e.state === 'completed',
  );
  for (const enrolment of answerable) {
    if (enrolment.step === 0 || enrolment.repliedAt !== undefined) continue;
    const replied: Enrolment = {
      ...enrolment,
      repliedAt: step.now,
      replyStep: enrolment.step - 1,
      revision: enrolment.revision + 1,
    };
    if (enrolment.state === 'active' && ends(enrolment)) {
      replied.state = 'exited';
      replied.exitReason = why;
      delete replied.nextAt;
    }
    replaceEnrolment(step, replied);
  }
  // Enrolments that sent nothing yet (or were answered before) still end when their rules say so.
  leaveSequences(step, 'exited', why, ends);
}

/** Ends the active enrolments that `which` picks, as exited or stopped, with the reason. */
function leaveSequences(
  step: Step,
  state: 'exited' | 'stopped',
  reason: string,
  which: (enrolment: Enrolment) => boolean,
): void {
  for (const enrolment of activeEnrolments(step.state.enrolments)) {
    if (!which(enrolment)) continue;
    const left: Enrolment = { ...enrolment, state, exitReason: reason, revision: enrolment.revision + 1 };
    delete left.nextAt;
    replaceEnrolment(step, left);
  }
  trimEnrolments(step.state);
}

function replaceEnrolment(step: Step, enrolment: Enrolment): void {
  step.state.enrolments = (step.state.enrolments ?? []).map((e) => (e.id === enrolment.id ? enrolment : e));
  recordEnrolment(step, enrolment);
}

function recordEnrolment(step: Step, enrolment: Enrolment): void {
  step.effects.push({
    kind: 'sequence_enrolment',
    key: effectKey(step, 'sequence_enrolment', `${enrolment.id}:${enrolment.revision}`),
    enrolment,
  });
}

/** Keeps every active enrolment and the latest finished ones: the state (and continue-as-new) stays small. */
function trimEnrolments(state: JourneyState): void {
  const all = state.enrolments ?? [];
  const finished = all.filter((e) => e.state !== 'active');
  if (finished.length <= FINISHED_ENROLMENTS_KEPT) return;
  const dropped = new Set(finished.slice(0, finished.length - FINISHED_ENROLMENTS_KEPT).map((e) => e.id));
  state.enrolments = all.filter((e) => !dropped.has(e.id));
}

// ---- the shared moves ----

/**
 * A push of `to` to every connected partner that does not have it yet. The origin already has it: pushing it
 * back would start an echo loop, and remembering it makes the origin's own confirmation an acknowledgement.
 */
function pushToPartners(step: Step, to: LeadStatus): void {
  const { state, event, policy } = step;
  const origin = provenOrigin(event);
  if (origin) state.lastPushed[origin] = to;
  for (const partner of policy.connectedPartners) {
    if (partner === origin || state.lastPushed[partner] === to) continue;
    // No default word (HubSpot has none for tour_scheduled): the integration's own mapping may have one, else
    // the push is recorded as skipped.
    const value = fromCanonical(partner, to);
    step.effects.push({
      kind: 'push_partner',
      key: effectKey(step, 'push_partner', partner),
      partner,
      status: to,
      ...(value === undefined ? {} : { value }),
      causationId: event.eventId,
      origin: event.source,
    });
    state.lastPushed[partner] = to;
  }
}

/**
 * The one way a status changes, whatever asked for it: the history row, a push to every connected partner
 * that does not have the status yet, and the outbound webhook.
 */
function applyStatus(
  step: Step,
  to: LeadStatus,
  reason: string | undefined,
  context: Record<string, unknown> | undefined,
): void {
  const { state, event, now } = step;
  const from = state.status;
  recordHistory(step, { type: 'applied', oldStatus: from, newStatus: to, reason, context });
  state.status = to;
  state.statusChangedAt = now;
  // A lead that moves on leaves its sequences at once; the change may enrol it in others.
  leaveSequences(step, 'exited', `status ${to}`, (e) => statusEnds(e, to));
  step.triggers.push({ event: 'status', status: to, ...(reason !== undefined ? { reason } : {}) });

  pushToPartners(step, to);

  emitWebhook(step, 'lead.status_changed', {
    lead_id: state.leadId,
    workspace_id: state.workspaceId,
    property_id: state.propertyId ?? null,
    old_status: from,
    new_status: to,
    source: event.source,
    reason: reason ?? null,
    occurred_at: now,
  });
  // Staff hear about every change unless the caller asked for silence; preferences pick who and how.
  if (!(event.kind === 'status_change' && event.triggerNotifications === false)) {
    step.effects.push({
      kind: 'notify',
      key: effectKey(step, 'notify', `staff:${to}`),
      audience: 'staff',
      topic: to,
      template: statusTemplate(from, to),
      priority: STATUS_PRIORITY[to],
      data: { old_status: from, new_status: to, reason: reason ?? null, tour_at: state.facts.tourAt ?? null },
    });
  }
  runRules(step, to, context);
}

/** A forward move past stages the lead never visited: each is recorded as skipped, then the move applies. */
function jumpForward(
  step: Step,
  to: LeadStatus,
  skippedReason: string,
  reason: string | undefined,
  context: Record<string, unknown>,
): void {
  const from = step.state.status;
  const skipped = skippedStages(from, to, step.policy.pipeline);
  for (const stage of skipped) {
    recordHistory(step, { type: 'skipped', oldStatus: from, newStatus: stage, reason: skippedReason });
  }
  applyStatus(step, to, reason, { ...context, skipped });
}

/** A partner contradicting our status: kept for the audit, never applied, and a person decides. */
function recordConflict(step: Step, event: EventOf<'partner_status'>, reported: LeadStatus): Verdict {
  const current = step.state.status;
  const { partner, value } = event;
  recordHistory(step, {
    type: 'conflict',
    oldStatus: current,
    newStatus: reported,
    reason: event.reason,
    context: { partner, value },
  });
  step.effects.push({
    kind: 'alert_staff',
    key: effectKey(step, 'alert_staff', 'partner_conflict'),
    reason: 'partner_conflict',
    details: { partner, value, current_status: current, reported_status: reported },
  });
  return { outcome: 'conflict' };
}

function refuse(
  step: Step,
  refusal: Refusal,
  attempted: LeadStatus,
  context: Record<string, unknown>,
): Verdict {
  recordHistory(step, {
    type: 'refused',
    oldStatus: step.state.status,
    newStatus: attempted,
    reason: refusal.message,
    context,
  });
  return { outcome: 'refused', refusal };
}

function statusNotAvailable(status: LeadStatus, policy: JourneyPolicy): Refusal {
  const allowed = policy.pipeline.statuses.filter((s) =>
    statusAvailable(s, policy.vertical, policy.pipeline),
  );
  return {
    code: 'status_not_available',
    message: `Status ${status} is not used by this ${policy.vertical.replace('_', ' ')} pipeline; its statuses are ${listed(allowed)}.`,
    details: { status, allowed },
  };
}

// ---- effects ----

function recordHistory(
  step: Step,
  row: Pick<HistoryEntry, 'type' | 'oldStatus' | 'newStatus'> & {
    reason?: string | undefined;
    context?: Record<string, unknown> | undefined;
    /** When it happened, when not now (an imported lead's past). */
    at?: string;
  },
): void {
  const { state, event, now } = step;
  const seq = state.seq;
  state.seq += 1;
  const entry: HistoryEntry = {
    type: row.type,
    seq,
    eventId: event.eventId,
    oldStatus: row.oldStatus,
    newStatus: row.newStatus,
    source: event.source,
    direction: 'inbound',
    at: row.at ?? now,
  };
  if (row.reason !== undefined) entry.reason = row.reason;
  if (event.actor !== undefined) entry.actor = event.actor;
  if (row.context !== undefined) entry.context = row.context;
  step.effects.push({ kind: 'record_history', key: effectKey(step, 'record_history', seq), entry });
}

function emitWebhook(step: Step, eventType: string, data: Record<string, unknown>): void {
  step.effects.push({
    kind: 'emit_webhook',
    key: effectKey(step, 'emit_webhook', eventType),
    eventType,
    data,
  });
}

/** Same event, same effect, same key: a retried activity or a replayed workflow finds its earlier write. */
function effectKey(step: Step, kind: Effect['kind'], target: string | number): string {
  const { state, event } = step;
  return journeyEffectKey(state.workspaceId, state.leadId, state.journey, event.eventId, kind, target);
}

// ---- small helpers ----

function beginStep(state: JourneyState, event: LeadEvent, now: string): JourneyState {
  return {
    ...state,
    // The journey's own clock, its sequences, an email client fetching a pixel and an import (old news) are not
    // the lead's activity: they must not re-arm stale and auto-lost.
    updatedAt: isLeadActivity(event) ? now : state.updatedAt,
    sources: [...state.sources],
    facts: { ...state.facts },
    lastPushed: { ...state.lastPushed },
    seenEventIds: [...state.seenEventIds, event.eventId].slice(-SEEN_EVENT_IDS_LIMIT),
    ...(state.enrolments ? { enrolments: [...state.enrolments] } : {}),
    counters: { ...state.counters, events: state.counters.events + 1 },
  };
}

function isLeadActivity(event: LeadEvent): boolean {
  switch (event.kind) {
    case 'deadline_fired':
    case 'imported':
    case 'sequence_enrol':
    case 'sequence_step':
    case 'sequence_stop':
      return false;
    case 'email_engaged':
      return event.action === 'click';
    default:
      return true;
  }
}

/** Facts merged key by key; an absent (undefined) value in the update keeps what we knew. */
function mergedFacts(facts: LeadFacts, update: Partial<LeadFacts> | undefined): LeadFacts {
  if (!update) return { ...facts };
  const known = Object.fromEntries(Object.entries(update).filter(([, value]) => value !== undefined));
  return { ...facts, ...(known as Partial<LeadFacts>) };
}

function partnerOf(source: Source): PartnerName | undefined {
  return source.startsWith('partner:') ? (source.slice('partner:'.length) as PartnerName) : undefined;
}

/** The partner an event came from. The on-site chatbot reports as `chatbot` and is a partner too. */
export function originPartner(source: Source): PartnerName | undefined {
  return source === 'chatbot' ? 'chatbot' : partnerOf(source);
}

/**
 * The partner an event is proven to come from: ingest delivers a partner's events only after its signature (or
 * our own poll of its API) proved them. A request naming a partner (`updated_by`, a `source` label) proves nothing.
 */
function provenOrigin(event: LeadEvent): PartnerName | undefined {
  if (event.sourceUnproven) return undefined;
  return originPartner(event.source);
}

function listed(statuses: readonly string[]): string {
  return statuses.length > 0 ? statuses.join(', ') : 'none';
}

/** `email|phone` reads as "email or phone" in a message. */
function fieldPhrase(field: string): string {
  return field.split('|').join(' or ').split(',').join(' and ');
}
