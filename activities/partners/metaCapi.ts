// Meta Conversions API: a lead reaching a stage the workspace maps (inquiry → Lead, tour → Schedule, won →
// Purchase with value) becomes one server event on the dataset (POST /{version}/{pixel_id}/events), with the
// contact hashed as Meta's customer information parameters say and an event_id that deduplicates against the
// browser pixel's own Lead event. Facts and sources: docs/partners/meta-capi.md.
import { z } from 'zod';
import {
  attributionOf,
  conversionConfig,
  conversionOf,
  hashedEmail,
  hashedName,
  hashedPhone,
  sha256Hex,
  type Conversion,
} from './adConversions';
import { PartnerError, baseUrl, joinUrl, jsonOf, partnerRequest, type PartnerResponse } from './http';
import type { PartnerAdapter, PartnerConnection, PushResult, StatusPush } from './types';

export const META_GRAPH_URL = 'https://graph.facebook.com';
export const META_API_VERSION = 'v21.0';
/** Meta refuses a whole request holding an event older than this. */
export const META_MAX_EVENT_AGE_DAYS = 7;

const ACTION_SOURCES = [
  'system_generated',
  'website',
  'phone_call',
  'chat',
  'email',
  'physical_store',
  'business_messaging',
  'other',
] as const;

export const MetaCapiConfig = z
  .object({
    pixel_id: z
      .string()
      .regex(/^\d{5,25}$/, 'the numeric dataset (pixel) id')
      .describe('Dataset (pixel) id the events go to'),
    base_url: z
      .url()
      .optional()
      .describe('Graph API host (https://graph.facebook.com unless a proxy or sandbox)'),
    api_version: z
      .string()
      .regex(/^v\d{1,3}\.\d$/, 'a Graph API version such as v21.0')
      .default(META_API_VERSION)
      .describe('Graph API version'),
    action_source: z
      .enum(ACTION_SOURCES)
      .default('system_generated')
      .describe(
        'Where conversions happen: system_generated for CRM stages; website needs the visitor details',
      ),
    test_event_code: z
      .string()
      .max(50)
      .optional()
      .describe('Sends events to Events Manager → Test events only (remove for production)'),
    ...conversionConfig(
      'Meta',
      { new: 'Lead', tour_scheduled: 'Schedule', leased: 'Purchase', placed: 'Purchase' },
      ['Purchase'],
    ),
  })
  .loose();

export const MetaCapiCredentials = z
  .object({
    access_token: z
      .string()
      .min(20)
      .describe('Conversions API access token of the dataset (Events Manager → Settings)'),
  })
  .loose();

type MetaSettings = z.output<typeof MetaCapiConfig>;

interface GraphErrorBody {
  error?: {
    message?: string;
    type?: string;
    code?: number;
    error_subcode?: number;
    error_user_msg?: string;
    is_transient?: boolean;
    fbtrace_id?: string;
  };
}

/** Graph error codes that pass with time: unknown/service errors and the throttling family. */
const TRANSIENT_CODES = new Set([1, 2, 4, 17, 32, 341, 613]);

function graphError(response: PartnerResponse): { message: string; code?: string; transient: boolean } {
  try {
    const { error } = JSON.parse(response.text) as GraphErrorBody;
    if (!error) return { message: response.text.slice(0, 200), transient: false };
    const detail = error.error_user_msg ? ` (${error.error_user_msg})` : '';
    const subcode = error.error_subcode ? `/${error.error_subcode}` : '';
    return {
      message: `${error.type ?? 'GraphError'} ${error.code ?? ''}${subcode}: ${error.message ?? ''}${detail}`,
      code: String(error.code ?? ''),
      transient: error.is_transient === true || TRANSIENT_CODES.has(Number(error.code)),
    };
  } catch {
    return { message: response.text.slice(0, 200) || '(empty answer)', transient: false };
  }
}

/** One Graph call; throttling and transient errors retry whatever HTTP status carried them. */
async function graphCall(connection: PartnerConnection, request: Parameters<typeof partnerRequest>[2]) {
  let transient = false;
  const describeError = (response: PartnerResponse) => {
    const described = graphError(response);
    transient = described.transient;
    return described;
  };
  try {
    return await partnerRequest('meta_capi', connection, { ...request, describeError });
  } catch (error) {
    if (error instanceof PartnerError && error.kind === 'final' && transient) {
      throw new PartnerError('meta_capi', 'retryable', error.message, error.details);
    }
    throw error;
  }
}

/** The server event for a conversion, its customer information normalised and hashed as Meta requires. */
export function serverEvent(
  settings: MetaSettings,
  push: StatusPush,
  conversion: Conversion,
): Record<string, unknown> {
  const { lead } = push;
  const attribution = attributionOf(lead);
  const email = hashedEmail(lead.email);
  const phone = hashedPhone(lead.phone);
  const firstName = hashedName(lead.firstName);
  const lastName = hashedName(lead.lastName);
  const leadgenId = lead.externalIds?.facebook;
  const website =
    settings.action_source === 'website' && Boolean(attribution.user_agent && attribution.page_url);
  const userData: Record<string, unknown> = {
    ...(email ? { em: [email] } : {}),
    ...(phone ? { ph: [phone] } : {}),
    ...(firstName ? { fn: [firstName] } : {}),
    ...(lastName ? { ln: [lastName] } : {}),
    // Our id of the person, hashed like the rest: it matches what the page's pixel passes as external_id.
    external_id: [sha256Hex(lead.leadId)],
    ...(leadgenId ? { lead_id: leadgenId } : {}),
    ...(attribution.fbp ? { fbp: attribution.fbp } : {}),
    ...(attribution.fbc ? { fbc: attribution.fbc } : {}),
    ...(website && attribution.user_agent ? { client_user_agent: attribution.user_agent } : {}),
    ...(website && attribution.ip_address ? { client_ip_address: attribution.ip_address } : {}),
  };
  // The page's pixel sent its own Lead with this id: the same id makes the two one conversion.
  const eventId =
    push.status === 'new' && attribution.fb_event_id ? attribution.fb_event_id : conversion.eventId;
  return {
    event_name: conversion.eventName,
    event_time: conversion.eventTime,
    event_id: eventId,
    action_source: website
      ? 'website'
      : settings.action_source === 'website'
        ? 'system_generated'
        : settings.action_source,
    ...(website ? { event_source_url: attribution.page_url } : {}),
    user_data: userData,
    custom_data: {
      ...(conversion.value !== undefined ? { value: conversion.value, currency: conversion.currency } : {}),
      lead_event_source: 'leadrelay',
      event_source: 'crm',
    },
  };
}

async function pushStatus(connection: PartnerConnection, push: StatusPush): Promise<PushResult> {
  const settings = MetaCapiConfig.parse(connection.config);
  const conversion = conversionOf(settings, push);
  if (!conversion) return { outcome: 'skipped', detail: `no Meta event is mapped to ${push.status}` };
  if (conversion.eventName === 'Purchase' && conversion.value === undefined) {
    throw new PartnerError(
      'meta_capi',
      'final',
      'Meta requires a value with Purchase: log a conversion with conversion_value for the lead, or set config.default_value',
      { partnerCode: 'value_missing' },
    );
  }
  const ageDays = (Date.now() / 1000 - conversion.eventTime) / 86_400;
  if (ageDays > META_MAX_EVENT_AGE_DAYS) {
    throw new PartnerError(
      'meta_capi',
      'final',
      `the ${conversion.eventName} happened ${Math.floor(ageDays)} days ago; Meta takes events up to ${META_MAX_EVENT_AGE_DAYS} days old`,
      { partnerCode: 'event_too_old' },
    );
  }
  const token = connection.credentials.access_token;
  if (!token) {
    throw new PartnerError('meta_capi', 'final', 'the Meta integration holds no access token', {
      partnerCode: 'credentials_missing',
    });
  }
  const event = serverEvent(settings, push, conversion);
  const response = await graphCall(connection, {
    method: 'POST',
    url: joinUrl(baseUrl(connection, META_GRAPH_URL), `/${settings.api_version}/${settings.pixel_id}/events`),
    body: {
      data: [event],
      ...(settings.test_event_code ? { test_event_code: settings.test_event_code } : {}),
      access_token: token,
    },
  });
  const answer = jsonOf<{ events_received?: number; messages?: string[]; fbtrace_id?: string }>(
    'meta_capi',
    response,
  );
  const sent = {
    event_name: conversion.eventName,
    event_id: event.event_id,
    event_time: conversion.eventTime,
    action_source: event.action_source,
    ...(conversion.value !== undefined ? { value: conversion.value, currency: conversion.currency } : {}),
    matched_on: Object.keys(event.user_data as object),
  };
  if (answer.events_received !== 1) {
    return {
      outcome: 'not_applied',
      code: response.status,
      detail: `Meta received ${answer.events_received ?? 0} events${answer.messages?.length ? `: ${answer.messages.join('; ')}` : ''}`,
    };
  }
  return {
    outcome: 'success',
    code: response.status,
    readBack: 'confirmed',
    response: { sent, events_received: answer.events_received, fbtrace_id: answer.fbtrace_id ?? null },
  };
}

/** Reads the dataset with the token: proves the id and the token's access without sending an event. */
async function testConnection(connection: PartnerConnection): Promise<{ detail: string }> {
  const settings = MetaCapiConfig.parse(connection.config);
  const token = connection.credentials.access_token;
  if (!token) {
    throw new PartnerError('meta_capi', 'final', 'the Meta integration holds no access token', {
      partnerCode: 'credentials_missing',
    });
  }
  const url = new URL(
    joinUrl(baseUrl(connection, META_GRAPH_URL), `/${settings.api_version}/${settings.pixel_id}`),
  );
  url.searchParams.set('fields', 'id,name');
  url.searchParams.set('access_token', token);
  const dataset = jsonOf<{ id?: string; name?: string }>(
    'meta_capi',
    await graphCall(connection, { method: 'GET', url: url.toString() }),
  );
  return {
    detail: `dataset ${dataset.id ?? settings.pixel_id}${dataset.name ? ` (${dataset.name})` : ''} is reachable with this token`,
  };
}

export const metaCapi: PartnerAdapter = {
  partner: 'meta_capi',
  integration: { webhookSecret: { kind: 'none' }, config: MetaCapiConfig, credentials: MetaCapiCredentials },
  outbound: { pushStatus, testConnection, oncePerStage: true },
};
