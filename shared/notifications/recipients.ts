// Who a notification goes to, by which channel and with which template: the pure part of planning a delivery,
// shared by the worker (which then stores and sends each one) and the what-if replay (which only reports them).
import { TEMPLATES } from './templates';

export type NotificationMethod = 'email' | 'sms' | 'slack' | 'in_app';

/** Seed 001 status_notification_preferences, as the planner reads them. */
export interface NotificationPreference {
  /** null: every property of the workspace. */
  property_id: string | null;
  /** A status (a change into it) or a follow-up template name. */
  status_type: string;
  notification_method: NotificationMethod;
  recipients: string[];
  template_id: string | null;
  is_active: boolean;
}

export interface NotificationTarget {
  channel: NotificationMethod;
  /** The address the delivery goes to (the prospect's email or phone, a Slack URL, a user id). */
  recipient: string;
  /** What the preference named: `prospect`, `default` (the staff Slack channel) or the recipient itself. */
  label: string;
  audience: 'prospect' | 'staff';
  template: string;
}

export interface PlanRequest {
  audience: 'prospect' | 'staff';
  template: string;
  /** Explicit recipients (a rule's send_notification) instead of the preferences. */
  recipients?: { channel: NotificationMethod; to: string[] };
}

/** What the planner needs of the lead: where the prospect can be reached. */
export interface ProspectContact {
  email: string | null;
  phone: string | null;
  /** Unsubscribed from email with the signed link: no prospect email. */
  emailOptedOut: boolean;
}

export interface PlanChannels {
  /** The channels the worker has configured (in_app needs none: it is delivered by being stored). */
  configured: ReadonlySet<Exclude<NotificationMethod, 'in_app'>>;
  /** The staff channel `"default"` recipients mean (SLACK_WEBHOOK_URL). */
  defaultSlackWebhookUrl?: string;
}

/** The active preferences for one topic and lead property, as the worker's query selects them. */
export function preferencesFor(
  preferences: readonly NotificationPreference[],
  topic: string,
  propertyId: string | null,
): NotificationPreference[] {
  return preferences.filter(
    (p) => p.is_active && p.status_type === topic && (p.property_id === null || p.property_id === propertyId),
  );
}

/** Recipients by preference; without one, the prospect by email and SMS, staff on the default Slack channel. */
export function planTargets(
  request: PlanRequest,
  contact: ProspectContact,
  /** The preferences that apply (preferencesFor); ignored when the request names its recipients. */
  preferences: readonly Pick<NotificationPreference, 'notification_method' | 'recipients' | 'template_id'>[],
  channels: PlanChannels,
  /** The templates a preference may name: the built-in ones, and the workspace's own when the worker plans. */
  templates: Readonly<Record<string, unknown>> = TEMPLATES,
): NotificationTarget[] {
  // A prospect who unsubscribed from email gets none; SMS opt-outs are the journey's to apply at send time.
  const prospectAddress = (channel: NotificationMethod) =>
    channel === 'email'
      ? contact.emailOptedOut
        ? null
        : contact.email
      : channel === 'sms'
        ? contact.phone
        : null;
  const rules = request.recipients
    ? [
        {
          notification_method: request.recipients.channel,
          recipients: request.recipients.to,
          template_id: null,
        },
      ]
    : preferences.length
      ? preferences
      : request.audience === 'prospect'
        ? [
            { notification_method: 'email' as const, recipients: ['prospect'], template_id: null },
            { notification_method: 'sms' as const, recipients: ['prospect'], template_id: null },
          ]
        : [{ notification_method: 'slack' as const, recipients: ['default'], template_id: null }];
  const chosen: NotificationTarget[] = [];
  for (const rule of rules) {
    for (const recipient of rule.recipients) {
      const template = rule.template_id && templates[rule.template_id] ? rule.template_id : request.template;
      const channel = rule.notification_method;
      if (recipient === 'prospect') {
        const address = prospectAddress(channel);
        if (address)
          chosen.push({ channel, recipient: address, label: 'prospect', audience: 'prospect', template });
      } else if (recipient === 'default' && channel === 'slack') {
        if (channels.defaultSlackWebhookUrl) {
          chosen.push({
            channel: 'slack',
            recipient: channels.defaultSlackWebhookUrl,
            label: 'default',
            audience: 'staff',
            template,
          });
        }
      } else {
        chosen.push({ channel, recipient, label: recipient, audience: 'staff', template });
      }
    }
  }
  return chosen.filter((target) => target.channel === 'in_app' || channels.configured.has(target.channel));
}
