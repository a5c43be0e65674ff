// Facebook Lead Ads: leadgen change notifications, verified by X-Hub-Signature-256 (`sha256=<hex HMAC-SHA256
// of the raw body>` with the app secret); the subscription GET echoes hub.challenge when hub.verify_token
// matches. The notification carries ids only: `complete` fetches the lead (Graph API GET /<version>/<leadgen_id>
// with the page access token) before delivery, in an activity, and maps its field data to the contact.
import { z } from 'zod';
import { normalizeContact } from '../../shared/contact';
import { AppError } from '../../shared/errors';
import { PartnerError, baseUrl, joinUrl, jsonOf, partnerRequest, type PartnerResponse } from './http';
import { compact, jsonBody, splitName, text, validate } from './parsing';
import { hmac, requireSecret, safeEqual, unauthorized } from './signatures';
import type {
  InboundEvent,
  InboundRequest,
  InboundSecrets,
  InquiryContact,
  PartnerAdapter,
  PartnerConnection,
} from './types';

const GRAPH_URL = 'https://graph.facebook.com';
export const GRAPH_API_VERSION = 'v26.0';

export const FacebookConfig = z
  .object({
    base_url: z.url().default(GRAPH_URL).describe('Graph API base URL'),
    api_version: z
      .string()
      .regex(/^v\d{1,2}\.\d$/, 'a Graph API version, e.g. v26.0')
      .default(GRAPH_API_VERSION)
      .describe('Graph API version the lead is read with'),
  })
  .loose();

const fbId = z.union([z.string().regex(/^\d{1,30}$/), z.number().int().min(0)]).transform(String);

const LeadgenValue = z
  .object({
    leadgen_id: fbId,
    form_id: fbId.optional(),
    page_id: fbId.optional(),
    ad_id: fbId.optional(),
    adgroup_id: fbId.optional(),
    created_time: z.number().int().min(0).max(1e11).optional(),
  })
  .loose();

export const FacebookWebhook = z.object({
  object: z.literal('page'),
  entry: z
    .array(
      z
        .object({
          id: fbId.optional(),
          time: z.number().optional(),
          changes: z
            .array(z.object({ field: text(100), value: z.unknown() }))
            .max(1000)
            .default([]),
        })
        .loose(),
    )
    .min(1)
    .max(1000),
});

function verify(request: InboundRequest, secrets: InboundSecrets): void {
  const secret = requireSecret(
    secrets.webhookSecret ?? secrets.credentials.app_secret,
    'Facebook app secret',
  );
  const header = request.headers['x-hub-signature-256'];
  if (!header) throw unauthorized('missing X-Hub-Signature-256', 'missing_headers');
  if (!safeEqual(header, `sha256=${hmac('sha256', secret, request.rawBody, 'hex')}`)) {
    throw unauthorized('X-Hub-Signature-256 does not match the body', 'bad_signature');
  }
}

function handshake(request: InboundRequest, secrets: InboundSecrets): string {
  const expected = secrets.credentials.verify_token;
  const { 'hub.mode': mode, 'hub.verify_token': token, 'hub.challenge': challenge } = request.query;
  if (mode !== 'subscribe' || !challenge || !/^[A-Za-z0-9_-]{1,200}$/.test(challenge)) {
    throw new AppError('validation_failed', 'expected hub.mode=subscribe with a hub.challenge', {
      fields: [{ field: 'hub.challenge', message: 'required with hub.mode=subscribe' }],
    });
  }
  if (!expected || !token || !safeEqual(token, expected)) {
    throw new AppError('forbidden', 'hub.verify_token does not match this integration');
  }
  return challenge;
}

function parse(request: InboundRequest): InboundEvent[] {
  const body = validate(FacebookWebhook, jsonBody(request));
  const events: InboundEvent[] = [];
  body.entry.forEach((entry, e) => {
    entry.changes.forEach((change, c) => {
      if (change.field !== 'leadgen') return;
      const parsed = LeadgenValue.safeParse(change.value);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((issue) => ({
          field: ['entry', e, 'changes', c, 'value', ...issue.path].join('.'),
          message: issue.message,
        }));
        throw new AppError('validation_failed', `invalid body: ${fields.map((f) => f.field).join(', ')}`, {
          fields,
        });
      }
      const value = parsed.data;
      events.push({
        partnerEventId: value.leadgen_id,
        eventType: 'leadgen',
        fetch: { ref: value.leadgen_id },
        occurredAt: value.created_time
          ? new Date(value.created_time * 1000).toISOString()
          : request.now.toISOString(),
        lead: {
          create: {
            externalIds: { facebook: value.leadgen_id },
            customData: {
              facebook: compact({
                leadgen_id: value.leadgen_id,
                form_id: value.form_id,
                page_id: value.page_id ?? entry.id,
                ad_id: value.ad_id,
                adgroup_id: value.adgroup_id,
              }),
            },
          },
        },
        events: [],
      });
    });
  });
  return events;
}

/** A lead as GET /<leadgen_id> answers it: the form's answers as `field_data`. */
const GraphLead = z
  .object({
    id: z.string(),
    created_time: z.string().optional(),
    ad_id: z.string().optional(),
    form_id: z.string().optional(),
    platform: z.string().optional(),
    is_organic: z.boolean().optional(),
    field_data: z
      .array(z.object({ name: z.string(), values: z.array(z.unknown()).default([]) }).loose())
      .default([]),
  })
  .loose();

/** Graph error codes that are worth another try (transient, throttled); everything else is final. */
const RETRYABLE_GRAPH_CODES = new Set([1, 2, 4, 17, 32, 341, 613, 80001]);
/** The access token expired, was revoked or is otherwise invalid: someone must reconnect the page. */
const TOKEN_GRAPH_CODES = new Set([102, 190]);

function graphError(response: PartnerResponse): { message: string; code?: number; subcode?: number } {
  try {
    const body = JSON.parse(response.text) as {
      error?: { message?: string; code?: number; error_subcode?: number; type?: string };
    };
    if (body.error) {
      return {
        message: body.error.message ?? body.error.type ?? 'Graph API error',
        code: body.error.code,
        subcode: body.error.error_subcode,
      };
    }
  } catch {
    // Not Graph's JSON (a proxy's page): the status says it all.
  }
  return { message: response.text.slice(0, 200) };
}

/**
 * GET /<version>/<leadgen_id> with the page access token. Graph answers errors with 400/401/403 and a code in the
 * body: throttling and transient codes are retryable, 190 (expired or invalid token) is final `token_invalid`.
 */
async function fetchLead(
  connection: PartnerConnection,
  leadgenId: string,
): Promise<z.output<typeof GraphLead>> {
  const token = connection.credentials.page_access_token;
  if (!token) {
    throw new PartnerError('facebook', 'final', 'facebook credentials missing: page_access_token', {
      partnerCode: 'credentials_missing',
    });
  }
  const config = FacebookConfig.parse(connection.config);
  const url = new URL(
    joinUrl(baseUrl({ ...connection, config }, GRAPH_URL), `${config.api_version}/${leadgenId}`),
  );
  url.searchParams.set('fields', 'id,created_time,ad_id,form_id,platform,is_organic,field_data');
  const response = await partnerRequest('facebook', connection, {
    method: 'GET',
    url: url.toString(),
    // The token in a header, not the query string: URLs end up in logs.
    headers: { authorization: `Bearer ${token}` },
    accept: [400, 401, 403, 404],
  });
  if (response.status >= 400) {
    const error = graphError(response);
    const code = error.code;
    const kind = code !== undefined && RETRYABLE_GRAPH_CODES.has(code) ? 'retryable' : 'final';
    const partnerCode =
      code !== undefined && TOKEN_GRAPH_CODES.has(code)
        ? 'token_invalid'
        : code !== undefined
          ? String(code)
          : undefined;
    throw new PartnerError(
      'facebook',
      kind,
      `facebook answered ${response.status} to GET /${config.api_version}/${leadgenId}: ${error.message}` +
        (code !== undefined
          ? ` (code ${code}${error.subcode !== undefined ? `/${error.subcode}` : ''})`
          : ''),
      { status: response.status, ...(partnerCode ? { partnerCode } : {}) },
    );
  }
  const parsed = GraphLead.safeParse(jsonOf('facebook', response));
  if (!parsed.success) {
    throw new PartnerError('facebook', 'final', `facebook answered a lead without id or field_data`, {
      status: response.status,
      partnerCode: 'unexpected_answer',
    });
  }
  return parsed.data;
}

/** Standard questions that are contact fields; every other answer (custom questions too) is kept as is. */
const CONTACT_QUESTIONS = new Set(['email', 'phone_number', 'full_name', 'first_name', 'last_name']);

/** The lead's answers as our contact: email, phone and name fields; the rest under custom_data.facebook.answers. */
export function contactFromFieldData(fieldData: { name: string; values: unknown[] }[]): {
  contact: Pick<InquiryContact, 'firstName' | 'lastName' | 'email' | 'phone'>;
  answers: Record<string, string>;
} {
  const answers: Record<string, string> = {};
  for (const field of fieldData) {
    const value = field.values.map((v) => String(v)).join(', ');
    if (value.trim()) answers[field.name] = value;
  }
  const named = splitName(answers.full_name);
  const contact = normalizeContact({ email: answers.email, phone: answers.phone_number });
  // An answer that is no email address stays an answer: nothing the lead typed is lost.
  const used = new Set([...CONTACT_QUESTIONS].filter((name) => name !== 'email' || contact.email));
  return {
    contact: compact({
      firstName: answers.first_name?.trim() || named.firstName,
      lastName: answers.last_name?.trim() || named.lastName,
      email: contact.email,
      phone: contact.phone,
    }),
    answers: Object.fromEntries(Object.entries(answers).filter(([name]) => !used.has(name))),
  };
}

/** The notification completed with the lead's answers: contact fields to match and create by, the rest kept. */
async function complete(event: InboundEvent, connection: PartnerConnection): Promise<InboundEvent> {
  const leadgenId = event.fetch?.ref ?? event.partnerEventId;
  const lead = await fetchLead(connection, leadgenId);
  const { contact, answers } = contactFromFieldData(lead.field_data);
  const create = event.lead?.create ?? {};
  const known = (create.customData?.facebook ?? {}) as Record<string, unknown>;
  return {
    ...event,
    lead: {
      ...event.lead,
      create: {
        ...create,
        ...contact,
        customData: {
          ...create.customData,
          facebook: compact({
            ...known,
            form_id: known.form_id ?? lead.form_id,
            ad_id: known.ad_id ?? lead.ad_id,
            platform: lead.platform,
            is_organic: lead.is_organic,
            answers,
          }),
        },
      },
    },
    fetch: { ref: leadgenId, done: true },
  };
}

export const facebook: PartnerAdapter = {
  partner: 'facebook',
  integration: {
    webhookSecret: { kind: 'credential', field: 'app_secret' },
    config: FacebookConfig,
    credentials: z
      .object({
        app_secret: z.string().min(8, "the Facebook app's secret"),
        verify_token: z.string().min(8, 'the token Facebook echoes on subscription'),
        page_access_token: z
          .string()
          .optional()
          .describe('Page access token with leads_retrieval: needed to fetch each lead'),
      })
      .loose(),
  },
  inbound: { verify, parse, handshake, complete },
};
