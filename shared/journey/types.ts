// The journey's vocabulary: events in, state kept, effects out. Pure data shared by the reducer,
// the workflow shell, the activities and the services.
import type { LeadFacts, LeadStatus, PartnerName, Pipeline, Vertical } from '../lifecycle';
import type { WorkflowRule } from './rules';
import type { Enrolment, SequenceExitRules, SequenceStepDefinition, TriggerMoment } from './sequences';

/** Who caused a change: staff, the chatbot, a partner, leadrelay itself, or an API client. */
export interface FollowUpPolicy {
  /** false: the workspace's journeys keep no follow-up timers at all (absent: on). */
  enabled?: boolean;
  /** No contact this long after the inquiry: the manager is alerted. */
  speedToLeadMinutes: number;
  /** Tour reminders, hours before the tour, to the prospect and the agent. */
  tourReminderHours: number[];
  /** After the tour's start: ask the agent for the outcome. */
  postTourHours: number;
  /** Still tour_scheduled this long after the tour's start: a no-show follow-up. */
  noShowHours: number;
  /** No activity this long: staff get a nudge. */
  staleDays: number;
  /** No activity this long: the lead is lost. */
  autoLostDays: number;
  /** Referral partners' answer-within contracts, minutes from the inquiry until the first contact. */
  referralResponseMinutes: Partial<Record<PartnerName, number>>;
}

export type Source = 'staff' | 'chatbot' | 'system' | 'api' | `partner:${PartnerName}`;

export interface EventBase {
  /** Unique per event; a repeated id is ignored (webhooks arrive at least once). */
  eventId: string;
  /** ISO time the event happened at its origin. */
  occurredAt: string;
  source: Source;
  /** Who did it (a user id, an agent name); never an email or phone. */
  actor?: string;
  /**
   * The source is the requester's word (a status change's `updated_by`, an API inquiry's `source` label), not
   * an origin a partner's signature proved: recorded as given, it never spares that partner the push. Honoured
   * under the journey's patch `signed-origin`; events decided before it trusted the word and replay as they ran.
   */
  sourceUnproven?: boolean;
}

export type LeadEventBody =
  | { kind: 'inquiry'; propertyId?: string; channel?: string; facts?: Partial<LeadFacts> }
  | {
      kind: 'partner_status';
      partner: PartnerName;
      /** The partner's own word for the status (see PARTNER_VOCABULARIES). */
      value: string;
      reason?: string;
      context?: Record<string, unknown>;
    }
  | {
      kind: 'status_change';
      to: LeadStatus;
      /** Facts the change supplies, checked by required-field rules (e.g. tourAt with tour_scheduled). */
      facts?: Partial<LeadFacts>;
      reason?: string;
      context?: Record<string, unknown>;
      triggerNotifications?: boolean;
    }
  | { kind: 'tour_booked'; tourAt: string; tourEndAt?: string; rescheduled?: boolean }
  | { kind: 'tour_cancelled'; reason?: string; noShow?: boolean }
  | {
      kind: 'call';
      callId: string;
      direction: 'inbound' | 'outbound';
      answered: boolean;
      durationSeconds?: number;
    }
  | { kind: 'note'; noteId: string }
  | { kind: 'conversion'; conversionId: string; conversionType: string; value?: number }
  | { kind: 'sms_opt_out' }
  | { kind: 'sms_opt_in' }
  /** An inbound SMS from the lead (Twilio MessageSid); opt-out keywords also send sms_opt_out/sms_opt_in. */
  | { kind: 'sms_received'; messageId: string }
  /** A delivery status of an SMS we sent (Twilio status callback). */
  | { kind: 'sms_delivery'; messageId: string; status: string; errorCode?: string }
  | { kind: 'facts_changed'; facts: Partial<LeadFacts> }
  /** A follow-up deadline came due (made by the workflow from its own clock; source 'system'). */
  | { kind: 'deadline_fired'; name: string; fireAt: string }
  /** A lead brought in by an import at the stage it reached (shared/journey/imported.ts). */
  | ({ kind: 'imported' } & ImportedLead)
  /** Sequences whose trigger matched a moment of this journey (read by an activity; ids made by the workflow). */
  | {
      kind: 'sequence_enrol';
      /** The lead's status when the trigger happened: a lead that moved on since is not enrolled. */
      atStatus: LeadStatus;
      enrolments: {
        enrolmentId: string;
        sequenceId: string;
        firstWaitMinutes: number;
        exitOn: SequenceExitRules;
        trigger: string;
      }[];
    }
  /**
   * An enrolment's next step came due. `definition` is the step as the sequence says now; absent when the lead
   * must leave instead (`gone` says why: the sequence was deleted or paused, or staff stopped the enrolment).
   */
  | {
      kind: 'sequence_step';
      enrolmentId: string;
      step: number;
      fireAt: string;
      definition?: SequenceStepDefinition;
      gone?: string;
      stopped?: boolean;
    }
  /** Staff stopped an enrolment. */
  | { kind: 'sequence_stop'; enrolmentId: string; reason?: string }
  /** The lead opened a tracked email (pixel) or followed one of its links (signed redirect). */
  | {
      kind: 'email_engaged';
      action: 'open' | 'click';
      deliveryId: string;
      enrolmentId?: string;
      step?: number;
      url?: string;
    }
  /** The lead unsubscribed from email (the signed one-click link). */
  | { kind: 'email_opt_out' };

/**
 * A lead as an import found it in the system it comes from: its journey starts at `status`, the past recorded as
 * imported with its own dates, and nothing of that past is news (no pushes, notifications or webhooks).
 */
export interface ImportedLead {
  importId: string;
  /** The row of the file (1 = first data row) or the record number of a partner backfill. */
  row: number;
  status: LeadStatus;
  /** When the lead first inquired: the journey's start. */
  createdAt: string;
  /** When the lead reached each stage, where the old system knew it (its current status at least). */
  stageDates?: Partial<Record<LeadStatus, string>>;
  /** The last activity: stale and auto-lost count from it (default: the latest date known). */
  lastActivityAt?: string;
  propertyId?: string;
  /** The door it came through (a partner name, `website`...), as an inquiry's channel. */
  channel?: string;
  facts?: Partial<LeadFacts>;
  /** Why it was lost, for lost leads. */
  reason?: string;
}

export type LeadEvent = EventBase & LeadEventBody;
export type LeadEventKind = LeadEventBody['kind'];

/** Everything the reducer needs to know about where the lead lives; loaded by an activity per run. */
export interface JourneyPolicy {
  vertical: Vertical;
  pipeline: Pipeline;
  /** Partners with an active integration for this lead's workspace/property: each gets status pushes. */
  connectedPartners: PartnerName[];
  /** Follow-up timings; absent in contexts carried from before follow-ups existed (defaults apply). */
  followUps?: FollowUpPolicy;
  /** Active workflow rules of the lead's workspace and property (seed 001 status_workflow_rules). */
  rules?: WorkflowRule[];
  /** Offset of the property's (else workspace's) time zone when the run loaded: runs from before `timeZone`. */
  utcOffsetMinutes?: number;
  /** The property's (else workspace's) IANA time zone: time_of_day rules read local time in it at each decision. */
  timeZone?: string;
}

export interface JourneyState {
  workspaceId: string;
  leadId: string;
  propertyId?: string;
  /** 1 for the first journey of a lead; a new inquiry after a terminal status starts the next one. */
  journey: number;
  status: LeadStatus;
  statusChangedAt: string;
  createdAt: string;
  updatedAt: string;
  /** The attributed (first) source, and every source that touched the lead, in order. */
  source: string;
  sources: string[];
  facts: LeadFacts;
  smsOptedOut: boolean;
  /** Per partner, the last status we pushed it: the same status echoed back is an acknowledgement. */
  lastPushed: Partial<Record<PartnerName, LeadStatus>>;
  /** Recent event ids (bounded, oldest dropped), carried through continue-as-new. */
  seenEventIds: string[];
  /** Lead score, moved by update_lead_score rule actions. */
  leadScore?: number;
  /** Follow-ups scheduled by rules: each fires once, notifying staff with its template. */
  customDeadlines?: { name: string; fireAt: string; template: string }[];
  /** Deadlines that already fired (`name@fireAt`, bounded): a deadline fires once. */
  firedDeadlines?: string[];
  /** Nurture sequences this journey enrolled the lead in (active ones, and the latest finished). */
  enrolments?: Enrolment[];
  /** Next history sequence number of this journey: orders history rows. */
  seq: number;
  counters: { events: number; calls: number; notes: number; conversions: number; tours: number };
}

export type HistoryEntryType = 'applied' | 'skipped' | 'conflict' | 'refused';

export interface HistoryEntry {
  type: HistoryEntryType;
  seq: number;
  eventId: string;
  /** null on the row that opens a journey. */
  oldStatus: LeadStatus | null;
  newStatus: LeadStatus;
  reason?: string;
  source: Source;
  actor?: string;
  direction: 'inbound' | 'outbound';
  context?: Record<string, unknown>;
  at: string;
}

/** Side effects as data; each has a deterministic idempotency key so it happens at most once. */
export type Effect =
  | { kind: 'record_history'; key: string; entry: HistoryEntry }
  | {
      kind: 'push_partner';
      key: string;
      partner: PartnerName;
      status: LeadStatus;
      /** The partner's default word for the status; absent when it has none (its integration may map one). */
      value?: string;
      /** The event that caused this push. */
      causationId: string;
      /** Where the change came from (the causing event's source): written to the partner where it allows. */
      origin?: Source;
    }
  | { kind: 'emit_webhook'; key: string; eventType: string; data: Record<string, unknown> }
  | { kind: 'alert_staff'; key: string; reason: string; details: Record<string, unknown> }
  | {
      kind: 'notify';
      key: string;
      /** Who it is for: the prospect (quiet hours and opt-outs apply) or staff. */
      audience: 'prospect' | 'staff';
      /** What preferences are keyed by: a status (a change into it) or the follow-up's template name. */
      topic: string;
      /** Explicit recipients (a rule's send_notification) instead of the preferences. */
      recipients?: { channel: 'email' | 'sms' | 'slack' | 'in_app'; to: string[] };
      /** The template (seed 001 naming, e.g. tour_reminder_24h, speed_to_lead_escalation). */
      template: string;
      priority: 'low' | 'medium' | 'high' | 'urgent';
      data: Record<string, unknown>;
    }
  /** An enrolment as it now is (enrolled, advanced, finished): its row keeps the latest revision. */
  | { kind: 'sequence_enrolment'; key: string; enrolment: Enrolment };

export type RefusalCode =
  'invalid_transition' | 'missing_fields' | 'unknown_partner_value' | 'status_not_available';

export interface Refusal {
  code: RefusalCode;
  message: string;
  details: Record<string, unknown>;
}

export type Outcome =
  'applied' | 'recorded' | 'duplicate' | 'echo' | 'unchanged' | 'conflict' | 'refused' | 'new_journey';

export interface Decision {
  outcome: Outcome;
  /** Rule actions this decision ran (`<action type>` per action), for the status change response. */
  actionsFired?: string[];
  state: JourneyState;
  effects: Effect[];
  refusal?: Refusal;
  /** Moments that may enrol the lead in sequences (the shell asks an activity which ones match). */
  triggers?: TriggerMoment[];
}

/** The answer of the changeStatus update (seed 001 UpdateStatusResponse). */
export interface ChangeStatusResult {
  success: boolean;
  new_status: LeadStatus;
  updated_at: string;
  notifications_sent: number;
  workflow_actions_triggered: string[];
}

/** The journey's query answer: live state for the API and operators. */
export interface JourneyView {
  workspaceId: string;
  leadId: string;
  propertyId?: string;
  journey: number;
  status: LeadStatus;
  statusChangedAt: string;
  updatedAt: string;
  source: string;
  sources: string[];
  smsOptedOut: boolean;
  allowedNext: LeadStatus[];
  nextFollowUpAt?: string;
  counters: JourneyState['counters'];
  /** The id of the last event the journey decided (applied, recorded or ignored). */
  lastEventId?: string;
  /** Events received but not yet applied, and effects being written: 0 and 0 means settled. */
  pendingEvents?: number;
  pendingEffects?: number;
  /** Notification deliveries under way (some may wait for quiet hours to end). */
  pendingDeliveries?: number;
  /** Partner pushes queued or in flight (each partner's queue drains in order). */
  pendingPushes?: number;
  /** Every follow-up deadline still ahead, earliest first (speed-to-lead, tour reminders, stale…). */
  followUps?: { name: string; fireAt: string }[];
}

/** A staff/API status change (seed 001 UpdateStatusRequest, in our terms). */
export interface ChangeStatusRequest {
  /** Idempotency: the same request id is applied once. */
  requestId: string;
  to: LeadStatus;
  facts?: Partial<LeadFacts>;
  reason?: string;
  context?: Record<string, unknown>;
  source: Source;
  actor?: string;
  triggerNotifications?: boolean;
  occurredAt: string;
}

/** What the workflow needs from Postgres when a run starts: the lead's projection and its policy. */
export interface JourneyContext {
  policy: JourneyPolicy;
  propertyId?: string;
  status: LeadStatus;
  journey: number;
  /** Last history seq projected for that journey; 0 when the journey has no history yet. */
  seq: number;
  source: string;
  sources: string[];
  facts: LeadFacts;
  createdAt: string;
  statusChangedAt: string;
}

/** Input of one run of the journey workflow. */
export interface LeadJourneyInput {
  workspaceId: string;
  leadId: string;
  /** State carried through continue-as-new (absent: rebuilt from the projection). */
  state?: JourneyState;
  /** The lead's projection and policy as the starter read them: the run can answer queries at once. */
  context?: JourneyContext;
  /**
   * The event (the run's first) for which the starter read the context's partners, rules and zone fresh, in the
   * transaction that stored it: the run decides it with them instead of reading them again.
   */
  policyReadFor?: string;
  /** Event ids the previous journey saw: a late redelivery into the next journey stays a duplicate. */
  seenEventIds?: string[];
  /** Events received but not yet applied when the run continued as new. */
  pending?: LeadEvent[];
  /** Continue as new once history has this many events (tests set it low). */
  historyLimit?: number;
}
