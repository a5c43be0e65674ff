// Calendly (tours): invitee.created / invitee.canceled (webhooks API v2), verified by
// Calendly-Webhook-Signature (`t=<unix s>,v1=<hex HMAC-SHA256 of "t.body">` with the subscription's signing
// key). A reschedule (canceled with rescheduled=true, then created with old_invitee) is one tour change.
import { z } from 'zod';
import { emailField } from '../../shared/contact';
import { compact, isoTime, jsonBody, splitName, text, validate } from './parsing';
import { hmac, requireFresh, requireSecret, safeEqual, unauthorized } from './signatures';
import type { InboundEvent, InboundRequest, InboundSecrets, PartnerAdapter } from './types';

/** Calendly's own examples reject signatures older than 3 minutes (assumed; see docs/partners/calendly.md). */
export const CALENDLY_TOLERANCE_MS = 3 * 60 * 1000;

const Invitee = z.object({
  uri: z.url().max(500),
  email: emailField,
  name: text(400).optional(),
  first_name: text(200).nullish(),
  last_name: text(200).nullish(),
  text_reminder_number: text(40).nullish(),
  timezone: text(100).nullish(),
  status: z.enum(['active', 'canceled']).optional(),
  rescheduled: z.boolean().default(false),
  old_invitee: z.url().max(500).nullish(),
  new_invitee: z.url().max(500).nullish(),
  questions_and_answers: z
    .array(z.object({ question: text(1000), answer: text(10_000), position: z.number().optional() }))
    .max(50)
    .default([]),
  tracking: z.record(z.string().max(50), z.string().max(500).nullable()).nullish(),
  cancellation: z
    .object({
      canceled_by: text(400).optional(),
      reason: text(2000).nullish(),
      canceler_type: text(50).optional(),
    })
    .nullish(),
  scheduled_event: z.object({
    uri: z.url().max(500),
    name: text(400).optional(),
    start_time: isoTime,
    end_time: isoTime.optional(),
  }),
});

export const CalendlyWebhook = z.object({
  event: z.enum(['invitee.created', 'invitee.canceled']),
  created_at: isoTime,
  created_by: text(500).optional(),
  payload: Invitee,
});

function verify(request: InboundRequest, secrets: InboundSecrets): void {
  const key = requireSecret(secrets.webhookSecret ?? secrets.credentials.signing_key, 'Calendly signing key');
  const header = request.headers['calendly-webhook-signature'];
  if (!header) throw unauthorized('missing Calendly-Webhook-Signature', 'missing_headers');
  const parts = new Map(
    header.split(',').map((part) => {
      const [name, ...value] = part.trim().split('=');
      return [name ?? '', value.join('=')] as const;
    }),
  );
  const t = parts.get('t');
  const signature = parts.get('v1');
  if (!t || !signature || !/^\d{1,12}$/.test(t)) {
    throw unauthorized('Calendly-Webhook-Signature must be t=<unix seconds>,v1=<hex>', 'bad_signature');
  }
  const expected = hmac('sha256', key, Buffer.concat([Buffer.from(`${t}.`), request.rawBody]), 'hex');
  if (!safeEqual(signature, expected)) {
    throw unauthorized('Calendly-Webhook-Signature does not match the body', 'bad_signature');
  }
  requireFresh(request, Number(t) * 1000, CALENDLY_TOLERANCE_MS, 'Calendly-Webhook-Signature t');
}

function parse(request: InboundRequest): InboundEvent[] {
  const body = validate(CalendlyWebhook, jsonBody(request));
  const invitee = body.payload;
  const partnerEventId = `${body.event}:${invitee.uri}`;
  const tour = invitee.scheduled_event;
  if (body.event === 'invitee.canceled') {
    if (invitee.rescheduled) {
      // The first half of a reschedule: the invitee.created that follows carries the new time.
      return [
        {
          partnerEventId,
          eventType: body.event,
          occurredAt: body.created_at,
          events: [],
          note: `rescheduled: folded into the booking of ${invitee.new_invitee ?? 'the new invitee'}`,
        },
      ];
    }
    return [
      {
        partnerEventId,
        eventType: body.event,
        occurredAt: body.created_at,
        actor: invitee.cancellation?.canceler_type,
        lead: { find: [{ by: 'email', email: invitee.email }] },
        events: [
          {
            kind: 'tour_cancelled',
            ...(invitee.cancellation?.reason ? { reason: invitee.cancellation.reason } : {}),
          },
        ],
      },
    ];
  }
  const name =
    invitee.first_name || invitee.last_name
      ? compact({ firstName: invitee.first_name ?? undefined, lastName: invitee.last_name ?? undefined })
      : splitName(invitee.name);
  const answers = invitee.questions_and_answers.map((qa) => `${qa.question}: ${qa.answer}`).join('\n');
  return [
    {
      partnerEventId,
      eventType: body.event,
      occurredAt: body.created_at,
      lead: {
        create: compact({
          ...name,
          email: invitee.email,
          phone: invitee.text_reminder_number ?? undefined,
          message: answers || undefined,
          customData: compact({
            calendly: compact({
              event_type: tour.name,
              invitee_timezone: invitee.timezone ?? undefined,
              tracking: invitee.tracking ?? undefined,
            }),
          }),
        }),
      },
      events: [
        {
          kind: 'tour_booked',
          tourAt: tour.start_time,
          ...(tour.end_time ? { tourEndAt: tour.end_time } : {}),
          ...(invitee.old_invitee || invitee.rescheduled ? { rescheduled: true } : {}),
        },
      ],
    },
  ];
}

export const calendly: PartnerAdapter = {
  partner: 'calendly',
  integration: {
    // The key is ours to choose when creating the subscription: generated (and shown once) unless given.
    webhookSecret: { kind: 'credential', field: 'signing_key', generateIfMissing: true },
    credentials: z
      .object({ signing_key: z.string().min(16).optional(), api_token: z.string().optional() })
      .loose(),
  },
  inbound: { verify, parse },
};
