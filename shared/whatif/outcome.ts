// What a lead's journeys did, in one comparable shape whether it comes from a replay or from the record: the
// statuses it went through, follow-ups fired and ahead, notifications and to whom, partner pushes, staff tasks and
// referral fees. Items carry their cause (the deciding event's id) so two runs line up event by event.
import { leadWorkflowId } from '../ids';
import {
  planTargets,
  preferencesFor,
  type NotificationPreference,
  type PlanChannels,
  type ProspectContact,
} from '../notifications/recipients';
import { feePartnerOf, monthlyRentOf, plannedReferralFee, type FoundTerms } from '../referralFees';
import type { Effect } from '../journey/types';
import { deadlineOfEventId } from '../journey/followUps';
import { causeOf, parseEffectKey, type LeadRecords } from './records';
import type { ReplayTrace } from './replay';

export interface StatusItem {
  journey: number;
  type: string;
  from: string | null;
  to: string;
  source: string;
}

export interface FollowUpItem {
  journey: number;
  name: string;
  fire_at: string;
  /** false: still ahead at the end of the replay. */
  fired: boolean;
}

export interface NotificationItem {
  journey: number;
  cause: string;
  audience: string;
  template: string;
  /** null when nobody was there to receive it (no preference or channel reaches anyone). */
  channel: string | null;
  /** `prospect`, `default` (the staff Slack channel), or the staff recipient (Slack URLs shortened). */
  recipient: string | null;
}

export interface PushItem {
  journey: number;
  cause: string;
  partner: string;
  status: string;
}

export interface TaskItem {
  journey: number;
  cause: string;
  kind: string;
}

export interface FeeItem {
  journey: number;
  partner: string;
  won_status: string;
  amount: number | null;
  currency: string;
}

export interface LeadOutcome {
  final_status: string;
  journeys: number;
  statuses: StatusItem[];
  follow_ups: FollowUpItem[];
  notifications: NotificationItem[];
  pushes: PushItem[];
  tasks: TaskItem[];
  fees: FeeItem[];
}

/** What the outcome of a replay needs besides the trace: who notifications reach, and fee terms. */
export interface OutcomeContext {
  contact: ProspectContact;
  customData: Record<string, unknown>;
  /** The workspace's notification preferences (all; the topic and property are picked per notification). */
  preferences: readonly NotificationPreference[];
  channels: PlanChannels;
  /** The fee terms of a partner for this lead, as recordReferralFee finds them. */
  feeTerms: (partner: string) => FoundTerms | undefined;
}

/** Slack incoming-webhook URLs are secrets: shown by host and last characters only. */
export function recipientLabel(channel: string, label: string): string {
  if (channel !== 'slack' || !/^https?:\/\//.test(label)) return label;
  try {
    return `${new URL(label).host}/…${label.slice(-4)}`;
  } catch {
    return `…${label.slice(-4)}`;
  }
}

export function outcomeOfReplay(
  lead: Pick<LeadRecords, 'workspaceId' | 'leadId' | 'propertyId'>,
  trace: ReplayTrace,
  context: OutcomeContext,
): LeadOutcome {
  const outcome = emptyOutcome(trace.final?.status ?? 'new', trace.final?.journey ?? 0);
  const workflowId = leadWorkflowId(lead.workspaceId, lead.leadId);
  for (const { event, decision } of trace.steps) {
    const journey = decision.state.journey;
    if (event.kind === 'deadline_fired') {
      outcome.follow_ups.push({ journey, name: event.name, fire_at: event.fireAt, fired: true });
    }
    for (const effect of decision.effects) {
      const cause = causeOf(parseEffectKey(effect.key, workflowId)?.eventId ?? event.eventId);
      switch (effect.kind) {
        case 'record_history': {
          const { entry } = effect;
          outcome.statuses.push({
            journey,
            type: entry.type,
            from: entry.oldStatus,
            to: entry.newStatus,
            source: entry.source,
          });
          if (entry.type === 'applied' && (entry.newStatus === 'placed' || entry.newStatus === 'leased')) {
            const partner = feePartnerOf(decision.state.source);
            const fee = partner
              ? plannedReferralFee(
                  partner,
                  context.feeTerms(partner),
                  monthlyRentOf(entry.context, context.customData),
                )
              : undefined;
            // One fee per journey, as the table's (lead, journey) key keeps it.
            if (fee && !outcome.fees.some((f) => f.journey === journey)) {
              outcome.fees.push({
                journey,
                partner: fee.partner,
                won_status: entry.newStatus,
                amount: fee.amount,
                currency: fee.currency,
              });
            }
          }
          break;
        }
        case 'notify':
          outcome.notifications.push(
            ...plannedNotifications(journey, cause, effect, lead.propertyId, context),
          );
          break;
        case 'push_partner':
          outcome.pushes.push({ journey, cause, partner: effect.partner, status: effect.status });
          break;
        case 'alert_staff':
          outcome.tasks.push({ journey, cause, kind: effect.reason });
          break;
        case 'emit_webhook':
          break;
      }
    }
  }
  for (const deadline of trace.pending) {
    outcome.follow_ups.push({
      journey: outcome.journeys,
      name: deadline.name,
      fire_at: deadline.fireAt,
      fired: false,
    });
  }
  return outcome;
}

function plannedNotifications(
  journey: number,
  cause: string,
  effect: Extract<Effect, { kind: 'notify' }>,
  propertyId: string | null,
  context: OutcomeContext,
): NotificationItem[] {
  const targets = planTargets(
    effect,
    context.contact,
    effect.recipients ? [] : preferencesFor(context.preferences, effect.topic, propertyId),
    context.channels,
  );
  if (targets.length === 0) {
    return [
      {
        journey,
        cause,
        audience: effect.audience,
        template: effect.template,
        channel: null,
        recipient: null,
      },
    ];
  }
  return targets.map((target) => ({
    journey,
    cause,
    audience: target.audience,
    template: target.template,
    channel: target.channel,
    recipient: recipientLabel(target.channel, target.label),
  }));
}

/** The same shape from what Postgres recorded (the journey's own effect rows only). */
export function outcomeOfRecord(lead: LeadRecords, channels: PlanChannels): LeadOutcome {
  const outcome = emptyOutcome(lead.status, lead.journey);
  const workflowId = leadWorkflowId(lead.workspaceId, lead.leadId);
  const fired = new Map<string, { journey: number; name: string; fireAt: string }>();
  const noteFiring = (journey: number, eventId: string | null) => {
    const deadline = eventId ? deadlineOfEventId(eventId) : undefined;
    if (deadline) fired.set(`${journey}|${eventId}`, { journey, ...deadline });
  };

  const history = lead.history
    .filter((row) => row.seq !== null)
    .sort((a, b) => a.journey - b.journey || a.seq! - b.seq!);
  for (const row of history) {
    outcome.statuses.push({
      journey: row.journey,
      type: row.type,
      from: row.oldStatus,
      to: row.newStatus,
      source: row.source,
    });
    noteFiring(row.journey, row.eventId);
  }
  const deliveries = new Map<string, LeadRecords['deliveries']>();
  for (const delivery of lead.deliveries) {
    deliveries.set(delivery.notificationKey, [...(deliveries.get(delivery.notificationKey) ?? []), delivery]);
  }
  // Rows other writers keyed after a journey effect (a failed push's task: `<sync key>:task:…`) are not the
  // journey's own: only keys whose kind is the effect's count.
  const own = (key: string, kind: Effect['kind']) => {
    const parts = parseEffectKey(key, workflowId);
    return parts?.kind === kind ? parts : undefined;
  };
  for (const notification of lead.notifications) {
    const parts = own(notification.key, 'notify');
    if (!parts) continue;
    noteFiring(parts.journey, parts.eventId);
    const base = { journey: parts.journey, cause: causeOf(parts.eventId) };
    const sent = deliveries.get(notification.key) ?? [];
    if (sent.length === 0) {
      outcome.notifications.push({
        ...base,
        audience: notification.audience,
        template: notification.template,
        channel: null,
        recipient: null,
      });
    }
    for (const delivery of sent) {
      const label =
        delivery.audience === 'prospect'
          ? 'prospect'
          : delivery.channel === 'slack' && delivery.recipient === channels.defaultSlackWebhookUrl
            ? 'default'
            : delivery.recipient;
      outcome.notifications.push({
        ...base,
        audience: delivery.audience,
        template: delivery.template,
        channel: delivery.channel,
        recipient: recipientLabel(delivery.channel, label),
      });
    }
  }
  for (const sync of lead.syncs) {
    const parts = own(sync.key, 'push_partner');
    if (!parts) continue;
    noteFiring(parts.journey, parts.eventId);
    outcome.pushes.push({
      journey: parts.journey,
      cause: causeOf(parts.eventId),
      partner: sync.partner,
      status: sync.status,
    });
  }
  for (const task of lead.tasks) {
    const parts = own(task.key, 'alert_staff');
    if (!parts) continue;
    noteFiring(parts.journey, parts.eventId);
    outcome.tasks.push({ journey: parts.journey, cause: causeOf(parts.eventId), kind: task.kind });
  }
  for (const fee of lead.fees) {
    outcome.fees.push({
      journey: fee.journey,
      partner: fee.partner,
      won_status: fee.wonStatus,
      amount: fee.amount,
      currency: fee.currency,
    });
  }
  for (const firing of [...fired.values()].sort((a, b) => a.journey - b.journey || cmp(a.fireAt, b.fireAt))) {
    outcome.follow_ups.push({
      journey: firing.journey,
      name: firing.name,
      fire_at: firing.fireAt,
      fired: true,
    });
  }
  // Only the earliest follow-up ahead is recorded (the projection's next_follow_up_at).
  if (lead.nextFollowUpAt) {
    outcome.follow_ups.push({
      journey: lead.journey,
      name: 'next',
      fire_at: lead.nextFollowUpAt,
      fired: false,
    });
  }
  return outcome;
}

function emptyOutcome(finalStatus: string, journeys: number): LeadOutcome {
  return {
    final_status: finalStatus,
    journeys,
    statuses: [],
    follow_ups: [],
    notifications: [],
    pushes: [],
    tasks: [],
    fees: [],
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
