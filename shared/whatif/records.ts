// What Postgres recorded of one lead, as plain data: the inputs its journey received (inbox events, history rows of
// staff and API changes, conversions) and the consequences it wrote (history, notifications, pushes, tasks, fees).
// The what-if rebuilds the inputs from this, replays them, and compares the replay with the consequences.
import type { InboundEvent } from '../inbound';
import { deadlineOfEventId } from '../journey/followUps';
import type { HistoryEntryType } from '../journey/types';

export interface RecordedHistoryRow {
  key: string;
  journey: number;
  /** null on an attempt the API refused before it reached the journey. */
  seq: number | null;
  type: HistoryEntryType;
  oldStatus: string | null;
  newStatus: string;
  reason: string | null;
  source: string;
  actor: string | null;
  context: Record<string, unknown>;
  eventId: string | null;
  at: string;
}

export interface RecordedInboxEvent {
  id: string;
  partner: string;
  status: string;
  normalized: InboundEvent;
  receivedAt: string;
  deliveredAt: string | null;
}

export interface RecordedConversion {
  id: string;
  type: string;
  value: number | null;
  convertedBy: string;
  convertedAt: string;
  /** When it was logged: the journey heard of it then. */
  createdAt: string;
}

export interface RecordedNotification {
  key: string;
  audience: 'prospect' | 'staff';
  template: string;
  data: Record<string, unknown>;
}

export interface RecordedDelivery {
  notificationKey: string;
  channel: string;
  audience: string;
  recipient: string;
  template: string;
}

export interface RecordedSync {
  key: string;
  partner: string;
  status: string;
}

export interface RecordedTask {
  key: string;
  kind: string;
}

export interface RecordedFee {
  journey: number;
  partner: string;
  wonStatus: string;
  amount: number | null;
  currency: string;
}

/** One lead as the what-if reads it. */
export interface LeadRecords {
  workspaceId: string;
  leadId: string;
  propertyId: string | null;
  /** The projection's attributed source (that of the latest journey) and its journey number. */
  source: string;
  journey: number;
  status: string;
  nextFollowUpAt: string | null;
  email: string | null;
  phone: string | null;
  emailOptedOut: boolean;
  customData: Record<string, unknown>;
  /** The lead's property's time zone, else the workspace's: where time-of-day rules are read. */
  zone: string;
  /** Each journey's attributed source, as its `lead.created` outbox event announced it. */
  journeySources: Record<number, string>;
  history: RecordedHistoryRow[];
  inbox: RecordedInboxEvent[];
  conversions: RecordedConversion[];
  notifications: RecordedNotification[];
  deliveries: RecordedDelivery[];
  syncs: RecordedSync[];
  tasks: RecordedTask[];
  fees: RecordedFee[];
}

const EFFECT_KEY_REST = /^j(\d+):(.+):(record_history|push_partner|emit_webhook|alert_staff|notify):(.*)$/;

export interface EffectKeyParts {
  journey: number;
  eventId: string;
  kind: string;
  target: string;
}

/**
 * The parts of a journey effect's idempotency key (`lead/<ws>/<lead>:j<journey>:<eventId>:<kind>:<target>`, see
 * decide.ts), or undefined for a key some other writer made. Event ids may hold colons; kinds never do.
 */
export function parseEffectKey(key: string, workflowId: string): EffectKeyParts | undefined {
  if (!key.startsWith(`${workflowId}:j`)) return undefined;
  const match = EFFECT_KEY_REST.exec(key.slice(workflowId.length + 1));
  if (!match) return undefined;
  return { journey: Number(match[1]), eventId: match[2]!, kind: match[3]!, target: match[4]! };
}

/**
 * What caused an effect, stable across replays: the event id, except that a deadline is named without its time
 * (a changed follow-up policy moves the time; the follow-up itself is the same one).
 */
export function causeOf(eventId: string): string {
  const deadline = deadlineOfEventId(eventId);
  return deadline ? `deadline:${deadline.name}` : eventId;
}
