// Twilio: inbound SMS and delivery status callbacks (form posts), verified by X-Twilio-Signature with the
// account's auth token through the twilio package's own validateRequest. STOP/START keywords opt the lead
// out of / back into SMS; the answer is TwiML.
import { validateRequest } from 'twilio/lib/webhooks/webhooks';
import { z } from 'zod';
import { toE164 } from '../../shared/contact';
import { formBody, validate } from './parsing';
import { requireSecret, unauthorized } from './signatures';
import type { InboundEvent, InboundLeadEvent, InboundRequest, InboundSecrets, PartnerAdapter } from './types';

export const OPT_OUT_KEYWORDS = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
];
export const OPT_IN_KEYWORDS = ['START', 'YES', 'UNSTOP'];

const messageSid = z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/, 'a Twilio message SID (SM… or MM…)');

export const InboundSms = z.object({
  MessageSid: messageSid,
  AccountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'a Twilio account SID'),
  From: z.string().min(1).max(40),
  To: z.string().min(1).max(40),
  Body: z.string().max(10_000).default(''),
  NumMedia: z.coerce.number().int().min(0).max(10).optional(),
  OptOutType: z.string().max(20).optional(),
});

export const StatusCallback = z.object({
  MessageSid: messageSid,
  AccountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'a Twilio account SID'),
  MessageStatus: z.enum([
    'queued',
    'accepted',
    'scheduled',
    'sending',
    'sent',
    'delivered',
    'undelivered',
    'failed',
    'read',
    'canceled',
    'partially_delivered',
  ]),
  ErrorCode: z
    .string()
    .regex(/^\d{1,6}$/)
    .optional(),
});

/** 21610: the recipient replied STOP at some point; Twilio refuses to message them. */
const OPTED_OUT_ERROR = '21610';

/** The keyword a message is, if it is one: Twilio's OptOutType when it says, else the whole trimmed body. */
export function smsKeyword(body: string, optOutType?: string): 'opt_out' | 'opt_in' | undefined {
  const word = (optOutType || body)
    .trim()
    .replace(/[.!]+$/, '')
    .toUpperCase();
  if (OPT_OUT_KEYWORDS.includes(word)) return 'opt_out';
  if (OPT_IN_KEYWORDS.includes(word)) return 'opt_in';
  return undefined;
}

function verify(request: InboundRequest, secrets: InboundSecrets): void {
  const token = requireSecret(secrets.webhookSecret ?? secrets.credentials.auth_token, 'Twilio auth token');
  const signature = request.headers['x-twilio-signature'];
  if (!signature) throw unauthorized('missing X-Twilio-Signature', 'missing_headers');
  const params = formBody(request);
  if (!request.urls.some((url) => validateRequest(token, signature, url, params))) {
    throw unauthorized('X-Twilio-Signature does not match this URL and body', 'bad_signature');
  }
}

function parse(request: InboundRequest): InboundEvent[] {
  const form = formBody(request);
  const now = request.now.toISOString();
  if (form.MessageStatus !== undefined) {
    const callback = validate(StatusCallback, form);
    const events: InboundLeadEvent[] = [
      {
        kind: 'sms_delivery',
        messageId: callback.MessageSid,
        status: callback.MessageStatus,
        ...(callback.ErrorCode ? { errorCode: callback.ErrorCode } : {}),
      },
    ];
    if (callback.ErrorCode === OPTED_OUT_ERROR) events.push({ kind: 'sms_opt_out' });
    return [
      {
        partnerEventId: `${callback.MessageSid}:${callback.MessageStatus}`,
        eventType: 'sms.status',
        occurredAt: now,
        lead: { find: [{ by: 'sms_message', messageSid: callback.MessageSid }] },
        events,
        record: {
          kind: 'sms_delivery',
          messageSid: callback.MessageSid,
          status: callback.MessageStatus,
          ...(callback.ErrorCode ? { errorCode: callback.ErrorCode } : {}),
        },
      },
    ];
  }
  const sms = validate(InboundSms, form);
  const keyword = smsKeyword(sms.Body, sms.OptOutType);
  const events: InboundLeadEvent[] = [{ kind: 'sms_received', messageId: sms.MessageSid }];
  if (keyword === 'opt_out') events.push({ kind: 'sms_opt_out' });
  if (keyword === 'opt_in') events.push({ kind: 'sms_opt_in' });
  // A text from an unknown number is an inquiry; a keyword alone never creates a lead.
  const phone = toE164(sms.From);
  return [
    {
      partnerEventId: sms.MessageSid,
      eventType: keyword ? `sms.${keyword}` : 'sms.inbound',
      occurredAt: now,
      lead:
        phone && !keyword
          ? { create: { phone, message: sms.Body || undefined, customData: { sms_to: sms.To } } }
          : { find: [{ by: 'phone', phone: sms.From }] },
      events,
    },
  ];
}

export const twilio: PartnerAdapter = {
  partner: 'twilio',
  integration: {
    webhookSecret: { kind: 'credential', field: 'auth_token' },
    credentials: z.object({
      auth_token: z.string().min(16, 'the Twilio auth token'),
      account_sid: z
        .string()
        .regex(/^AC[0-9a-fA-F]{32}$/)
        .optional(),
    }),
  },
  inbound: {
    verify,
    parse,
    reply: () => ({
      contentType: 'text/xml; charset=utf-8',
      body: '<?xml version="1.0" encoding="UTF-8"?><Response/>',
    }),
  },
};
