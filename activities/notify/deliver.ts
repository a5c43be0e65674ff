// Notification delivery: plan a notification into one delivery per recipient and channel (preferences,
// templates, quiet hours), then send each delivery exactly once by its idempotency key.
import { ApplicationFailure } from '@temporalio/activity';
import type pg from 'pg';
import { idempotencyKey } from '../../shared/ids';
import { nextAllowed, windowFor } from '../../shared/notifications/quietHours';
import { planTargets, type NotificationPreference } from '../../shared/notifications/recipients';
import { render, TEMPLATES, type Template } from '../../shared/notifications/templates';
import { isTimeZone } from '../../shared/timeZone';
import type { KeyRing } from '../../shared/crypto';
import { smsStatusIntegration } from '../../data/integrations';
import { recordSmsSent, settleSmsNotification } from '../../data/notifications';
import { enrolmentState, listMessageTemplates } from '../../data/sequences';
import { DeliveryError, type Channel, type ChannelName, type Priority } from './channel';
import { trackedMessage } from './tracking';
import { unsubscribeToken } from './unsubscribe';

export interface NotificationChannels {
  email?: Channel;
  sms?: Channel;
  slack?: Channel;
}

export interface DeliveryDeps {
  pool: pg.Pool;
  channels: NotificationChannels;
  /** The staff channel `"default"` recipients mean (SLACK_WEBHOOK_URL). */
  defaultSlackWebhookUrl?: string;
  /** Base URL of the api, for links to the lead and unsubscribe links. */
  apiUrl: string;
  /** Public base URL of ingest: an SMS's delivery status comes back to the workspace's Twilio webhook there. */
  ingestUrl?: string;
  /** Signs unsubscribe links; without it prospect email goes without one. */
  keyRing?: KeyRing;
  /** Called once per finished delivery (metrics). */
  onOutcome?: (channel: string, outcome: string) => void;
}

export interface NotificationRequest {
  workspaceId: string;
  leadId: string;
  /** The notify effect's idempotency key. */
  key: string;
  audience: 'prospect' | 'staff';
  /** A status (a change into it) or a follow-up template name: what preferences are keyed by. */
  topic: string;
  template: string;
  priority: Priority;
  data: Record<string, unknown>;
  /** Explicit recipients (a rule's send_notification) instead of the preferences. */
  recipients?: { channel: ChannelName | 'in_app'; to: string[] };
  /** When the journey decided it (its clock): quiet hours count from then, or from now if later. */
  decidedAt?: string;
}

export interface DeliveryPlan {
  deliveryKey: string;
  channel: ChannelName | 'in_app';
  audience: 'prospect' | 'staff';
  /** Prospect messages outside quiet hours wait until then. */
  notBefore?: string;
  status: string;
}

interface LeadRow {
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone_e164: string | null;
  status: string;
  created_at: Date;
  custom_data: Record<string, unknown>;
  property_id: string | null;
  property_name: string | null;
  property_timezone: string | null;
  us_state: string | null;
  workspace_timezone: string;
  email_opted_out_at: Date | null;
}

function formatTime(iso: unknown, zone: string): string {
  if (typeof iso !== 'string') return '';
  return new Date(iso).toLocaleString('en-US', { timeZone: zone, dateStyle: 'medium', timeStyle: 'short' });
}

export async function prepareNotification(
  deps: DeliveryDeps,
  request: NotificationRequest,
): Promise<DeliveryPlan[]> {
  const { rows } = await deps.pool.query<LeadRow>(
    `SELECT l.first_name, l.last_name, l.email, l.phone_e164, l.status, l.created_at, l.custom_data, l.property_id,
            l.email_opted_out_at,
            p.name AS property_name, p.timezone AS property_timezone, p.us_state, w.timezone AS workspace_timezone
       FROM leads l JOIN workspaces w ON w.id = l.workspace_id
       LEFT JOIN properties p ON p.workspace_id = l.workspace_id AND p.id = l.property_id
      WHERE l.workspace_id = $1 AND l.id = $2`,
    [request.workspaceId, request.leadId],
  );
  const lead = rows[0];
  if (!lead) return [];
  // Explicit recipients (a rule's) need no preferences; otherwise the active ones for this topic and property.
  const preferences = request.recipients
    ? []
    : (
        await deps.pool.query<
          Pick<NotificationPreference, 'notification_method' | 'recipients' | 'template_id'>
        >(
          `SELECT notification_method, recipients, template_id FROM notification_preferences
            WHERE workspace_id = $1 AND status_type = $2 AND is_active AND (property_id IS NULL OR property_id = $3)`,
          [request.workspaceId, request.topic, lead.property_id],
        )
      ).rows;
  // The lead's own time zone when known, else the property's, else the workspace's.
  // A zone stored before input was checked is skipped, not retried on: it can never format.
  const given = lead.custom_data.timezone;
  const leadZone = typeof given === 'string' && isTimeZone(given) ? given : undefined;
  const zone = leadZone ?? lead.property_timezone ?? lead.workspace_timezone;
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(' ') || 'the lead';
  const values = {
    lead_name: name,
    first_name: lead.first_name ?? 'there',
    property_name: lead.property_name ?? 'our community',
    status: lead.status,
    old_status: String(request.data.old_status ?? ''),
    new_status: String(request.data.new_status ?? lead.status),
    status_reason: typeof request.data.reason === 'string' ? request.data.reason : '',
    tour_datetime: formatTime(request.data.tour_at, zone),
    created_at: formatTime(lead.created_at.toISOString(), zone),
    lead_score: typeof lead.custom_data.lead_score === 'number' ? lead.custom_data.lead_score : null,
  };
  const link = `${deps.apiUrl}/api/v1/leads/${request.leadId}`;
  const decided = request.decidedAt ? Date.parse(request.decidedAt) : Number.NaN;
  const now = new Date(Number.isNaN(decided) ? Date.now() : Math.max(Date.now(), decided));
  const plans: DeliveryPlan[] = [];
  const templates = await templatesFor(deps, request, preferences);
  // A sequence's message remembers its step: opens, clicks and replies are counted per step.
  const sequence = {
    enrolment: typeof request.data.enrolment_id === 'string' ? request.data.enrolment_id : null,
    id: typeof request.data.sequence_id === 'string' ? request.data.sequence_id : null,
    step: typeof request.data.sequence_step === 'number' ? request.data.sequence_step : null,
  };
  const targets = planTargets(
    request,
    { email: lead.email, phone: lead.phone_e164, emailOptedOut: lead.email_opted_out_at !== null },
    preferences,
    {
      configured: new Set(
        (['email', 'sms', 'slack'] as const).filter((channel) => deps.channels[channel] !== undefined),
      ),
      defaultSlackWebhookUrl: deps.defaultSlackWebhookUrl,
    },
    templates,
  );
  for (const target of targets) {
    const template = templates[target.template] ?? TEMPLATES.status_changed!;
    const notBefore =
      target.audience === 'prospect' && (target.channel === 'sms' || target.channel === 'email')
        ? nextAllowed(now, zone, windowFor(lead.us_state))
        : now;
    const deliveryKey = idempotencyKey(request.key, target.channel, target.recipient);
    const rendered = render(template.body, values);
    const body =
      target.audience === 'staff'
        ? `${rendered}\n${link}`
        : // Marketing texts say how to stop them, unless the template already does.
          target.channel === 'sms' && sequence.id && !/\bSTOP\b/.test(rendered)
          ? `${rendered} Reply STOP to opt out.`
          : rendered;
    await deps.pool.query(
      `INSERT INTO notification_deliveries (idempotency_key, notification_key, workspace_id, lead_id, channel, audience,
                                            recipient, template, subject, body, priority, not_before, status,
                                            enrolment_id, sequence_id, sequence_step)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [
        deliveryKey,
        request.key,
        request.workspaceId,
        request.leadId,
        target.channel,
        target.audience,
        target.recipient,
        target.template,
        render(template.subject, values),
        body,
        request.priority,
        notBefore > now ? notBefore : null,
        // In-app notifications are delivered by being stored: the API lists them.
        target.channel === 'in_app' ? 'sent' : 'pending',
        sequence.enrolment,
        sequence.id,
        sequence.step,
      ],
    );
    const stored = await deps.pool.query<{ status: string; not_before: Date | null }>(
      'SELECT status, not_before FROM notification_deliveries WHERE idempotency_key = $1',
      [deliveryKey],
    );
    const row = stored.rows[0]!;
    plans.push({
      deliveryKey,
      channel: target.channel,
      audience: target.audience,
      status: row.status,
      ...(row.not_before ? { notBefore: row.not_before.toISOString() } : {}),
    });
  }
  return plans;
}

/**
 * The templates a notification may use: the workspace's own (which may also replace a built-in one of the same
 * id), then the built-in ones.
 */
async function templatesFor(
  deps: DeliveryDeps,
  request: NotificationRequest,
  preferences: readonly Pick<NotificationPreference, 'template_id'>[],
): Promise<Record<string, Template>> {
  const ids = [request.template, ...preferences.flatMap((p) => (p.template_id ? [p.template_id] : []))];
  const own = await listMessageTemplates(deps.pool, request.workspaceId, [...new Set(ids)]);
  return {
    ...TEMPLATES,
    ...Object.fromEntries(own.map((t) => [t.id, { subject: t.subject, body: t.body }])),
  };
}

export interface SendArgs {
  deliveryKey: string;
  smsOptedOut: boolean;
  /** Why the message must not go any more (the lead left its sequence): recorded as skipped. */
  withdrawn?: string;
}

/**
 * How long an attempt holds a delivery while it sends: longer than the activity's 1-minute start-to-close and
 * every channel's own timeouts, so an attempt Temporal timed out but that is still sending ends (sent or not)
 * before a retry may send. A worker killed mid-send leaves the claim to expire, and the retry then sends.
 */
const SEND_CLAIM_SECONDS = 300;

/**
 * Sends one planned delivery unless it already went (or ended): the row's status is checked and the row claimed
 * first, so a retried activity, a timed-out attempt still running beside its retry, or a restarted worker sends
 * nothing twice.
 */
export async function sendDelivery(
  deps: DeliveryDeps,
  args: SendArgs,
): Promise<{ status: string; providerId?: string }> {
  const { rows } = await deps.pool.query<{
    id: string;
    enrolment_id: string | null;
    email_tracking: boolean;
    channel: ChannelName | 'in_app';
    recipient: string;
    subject: string;
    body: string;
    priority: Priority;
    status: string;
    audience: string;
    lead_id: string;
    workspace_id: string;
    template: string;
    provider_id: string | null;
  }>(
    `SELECT d.id, d.enrolment_id, w.email_tracking, d.channel, d.recipient, d.subject, d.body, d.priority, d.status,
            d.audience, d.lead_id, d.workspace_id, d.template, d.provider_id
       FROM notification_deliveries d JOIN workspaces w ON w.id = d.workspace_id WHERE d.idempotency_key = $1`,
    [args.deliveryKey],
  );
  const delivery = rows[0];
  if (!delivery) return { status: 'missing' };
  if (delivery.status !== 'pending') {
    // An earlier attempt sent the SMS and gave up recording or settling it (Postgres away too long): done now
    // (both safe to repeat), so a status callback that came early still reaches the notification.
    if (delivery.status === 'sent' && delivery.channel === 'sms' && delivery.provider_id) {
      const sms = {
        messageSid: delivery.provider_id,
        workspaceId: delivery.workspace_id,
        leadId: delivery.lead_id,
      };
      await recordSmsSent(deps.pool, sms);
      await settleSmsNotification(deps.pool, sms);
    }
    return { status: delivery.status };
  }
  const finish = async (status: string, fields: { providerId?: string; error?: string } = {}) => {
    await deps.pool.query(
      `UPDATE notification_deliveries
          SET status = $2, provider_id = COALESCE($3, provider_id), error = $4, attempts = attempts + 1,
              claimed_until = NULL, updated_at = now()
        WHERE idempotency_key = $1 AND status = 'pending'`,
      [args.deliveryKey, status, fields.providerId ?? null, fields.error ?? null],
    );
    deps.onOutcome?.(delivery.channel, status);
    return { status, ...(fields.providerId ? { providerId: fields.providerId } : {}) };
  };
  if (delivery.channel === 'sms' && delivery.audience === 'prospect' && args.smsOptedOut) {
    return finish('skipped', { error: 'recipient opted out of SMS' });
  }
  if (args.withdrawn) return finish('skipped', { error: args.withdrawn });
  // Staff may have stopped the enrolment a moment ago, before its journey heard of it.
  if (delivery.enrolment_id) {
    const state = await enrolmentState(deps.pool, delivery.enrolment_id);
    if (state === 'stopped' || state === 'exited') {
      return finish('skipped', { error: `the enrolment was ${state} before the message went` });
    }
  }
  const channel = delivery.channel === 'in_app' ? undefined : deps.channels[delivery.channel];
  if (!channel) return finish('skipped', { error: `channel ${delivery.channel} is not configured` });
  const claimed = await deps.pool.query<{ status: string; wait_ms: number | null }>(
    `WITH claim AS (
       UPDATE notification_deliveries SET claimed_until = now() + make_interval(secs => $2)
        WHERE idempotency_key = $1 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < now())
        RETURNING status)
     SELECT status, NULL::float8 AS wait_ms FROM claim
     UNION ALL
     SELECT status, GREATEST(0, EXTRACT(EPOCH FROM claimed_until - now()) * 1000)::float8
       FROM notification_deliveries WHERE idempotency_key = $1 AND NOT EXISTS (SELECT 1 FROM claim)`,
    [args.deliveryKey, SEND_CLAIM_SECONDS],
  );
  const claim = claimed.rows[0];
  if (!claim) return { status: 'missing' };
  if (claim.wait_ms !== null) {
    // Another attempt holds it (sending now), or it ended meanwhile: never a second send.
    if (claim.status !== 'pending') return { status: claim.status };
    throw ApplicationFailure.create({
      type: 'delivery_in_progress',
      message: 'another attempt is sending this delivery; its outcome decides',
      nextRetryDelay: Math.max(1000, Math.ceil(claim.wait_ms)),
    });
  }
  let result: { providerId?: string };
  try {
    const unsubscribeUrl =
      delivery.channel === 'email' && delivery.audience === 'prospect' && deps.keyRing
        ? `${deps.apiUrl}/unsubscribe/${unsubscribeToken(deps.keyRing, delivery.workspace_id, delivery.lead_id)}`
        : undefined;
    const statusCallbackUrl =
      delivery.channel === 'sms' ? await smsStatusCallback(deps, delivery) : undefined;
    // Sequence email is tracked (links through signed redirects, an open pixel) unless the workspace turned it off.
    const tracked =
      delivery.channel === 'email' && delivery.enrolment_id && delivery.email_tracking && deps.keyRing
        ? trackedMessage(delivery.body, {
            apiUrl: deps.apiUrl,
            keyRing: deps.keyRing,
            deliveryId: delivery.id,
            unsubscribeUrl,
          })
        : undefined;
    const text = tracked?.text ?? delivery.body;
    result = await channel.send({
      key: args.deliveryKey,
      to: delivery.recipient,
      subject: delivery.subject,
      text: unsubscribeUrl ? `${text}\n\nUnsubscribe: ${unsubscribeUrl}` : text,
      ...(tracked ? { html: tracked.html } : {}),
      priority: delivery.priority,
      ...(unsubscribeUrl ? { unsubscribeUrl } : {}),
      ...(statusCallbackUrl ? { statusCallbackUrl } : {}),
    });
  } catch (error) {
    if (error instanceof DeliveryError && !error.retryable) {
      await announceFailure(deps.pool, args.deliveryKey, delivery, error.code);
      return finish('failed', { error: error.message });
    }
    // Not sent: the next attempt may send at once.
    await deps.pool.query(
      `UPDATE notification_deliveries SET attempts = attempts + 1, error = $2, claimed_until = NULL, updated_at = now()
        WHERE idempotency_key = $1`,
      [args.deliveryKey, error instanceof Error ? error.message : String(error)],
    );
    throw ApplicationFailure.create({
      type: 'delivery_retryable',
      message: error instanceof Error ? error.message : String(error),
      ...(error instanceof DeliveryError && error.retryAfterMs !== undefined
        ? { nextRetryDelay: error.retryAfterMs }
        : {}),
    });
  }
  // The provider took the message. A retry of this activity from here on would send it a second time, so its
  // record is written with patience: a Postgres restart costs a wait, not a duplicate.
  const sent = result;
  const sms =
    delivery.channel === 'sms' && sent.providerId
      ? { messageSid: sent.providerId, workspaceId: delivery.workspace_id, leadId: delivery.lead_id }
      : undefined;
  // Twilio's status callbacks (ingest) find the lead and this delivery by the message SID. One may come before
  // any of this is written: recording the SMS applies the callbacks that came early, and once the delivery carries
  // the SID it takes the final status its SMS reached meanwhile. No callback is lost, whenever it comes.
  if (sms) await withPatience(PERSIST_PATIENCE_MS, () => recordSmsSent(deps.pool, sms));
  const outcome = await withPatience(PERSIST_PATIENCE_MS, () =>
    finish('sent', { providerId: sent.providerId }),
  );
  if (sms) await withPatience(PERSIST_PATIENCE_MS, () => settleSmsNotification(deps.pool, sms));
  return outcome;
}

/** The webhook URL of the Twilio integration the lead's delivery statuses go to, when there is one. */
async function smsStatusCallback(
  deps: DeliveryDeps,
  delivery: { workspace_id: string; lead_id: string },
): Promise<string | undefined> {
  if (!deps.ingestUrl) return undefined;
  const integrationId = await smsStatusIntegration(deps.pool, delivery.workspace_id, delivery.lead_id);
  return integrationId ? `${deps.ingestUrl.replace(/\/+$/, '')}/webhooks/twilio/${integrationId}` : undefined;
}

/** How long a sent message's record is retried before the activity gives up (under its 1 minute timeout). */
const PERSIST_PATIENCE_MS = 45_000;

/** Runs `work` until it succeeds or `patienceMs` has passed, a second apart; then throws its last error. */
async function withPatience<T>(patienceMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (Date.now() + 1000 > deadline) throw error;
      await new Promise((resolveLater) => setTimeout(resolveLater, 1000));
    }
  }
}

/** Outbound webhook endpoints subscribed to notification.failed hear about a delivery that failed for good. */
async function announceFailure(
  pool: DeliveryDeps['pool'],
  deliveryKey: string,
  delivery: { workspace_id: string; lead_id: string; channel: string; template: string; audience: string },
  code: string,
): Promise<void> {
  await pool.query(
    `INSERT INTO outbox_events (idempotency_key, workspace_id, lead_id, event_type, data)
     VALUES ($1, $2, $3, 'notification.failed', $4) ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      `${deliveryKey}:failed`,
      delivery.workspace_id,
      delivery.lead_id,
      JSON.stringify({
        lead_id: delivery.lead_id,
        channel: delivery.channel,
        template: delivery.template,
        audience: delivery.audience,
        error: code,
        occurred_at: new Date().toISOString(),
      }),
    ],
  );
}

/**
 * A delivery whose retries ran out (the provider kept answering 429/5xx, or was unreachable) is `failed` with
 * its last error, like a refused one, so the inbox shows it and an operator can resend it.
 */
export async function abandonDelivery(
  deps: DeliveryDeps,
  args: { deliveryKey: string; error: string },
): Promise<{ status: string }> {
  const { rows } = await deps.pool.query<{
    workspace_id: string;
    lead_id: string;
    channel: string;
    template: string;
    audience: string;
  }>(
    `UPDATE notification_deliveries SET status = 'failed', error = COALESCE(error, $2), claimed_until = NULL, updated_at = now()
      WHERE idempotency_key = $1 AND status = 'pending'
      RETURNING workspace_id, lead_id, channel, template, audience`,
    [args.deliveryKey, args.error],
  );
  const delivery = rows[0];
  if (!delivery) return { status: 'unchanged' };
  deps.onOutcome?.(delivery.channel, 'failed');
  await announceFailure(deps.pool, args.deliveryKey, delivery, 'retries_exhausted');
  return { status: 'failed' };
}
