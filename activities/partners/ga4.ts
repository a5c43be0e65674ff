// Google Analytics 4 Measurement Protocol: a lead reaching a stage the workspace maps becomes one event sent with
// the GA client_id the web form passed in (POST /mp/collect?measurement_id&api_secret). GA answers 2xx even for
// events it drops, so events are checked against GA's documented rules before sending, and the connection test uses
// the validation server (/debug/mp/collect). Facts and sources: docs/partners/ga4.md.
import { z } from 'zod';
import { attributionOf, conversionConfig, conversionOf } from './adConversions';
import { PartnerError, baseUrl, joinUrl, jsonOf, partnerRequest } from './http';
import type { PartnerAdapter, PartnerConnection, PushResult, StatusPush } from './types';

export const GA4_COLLECT_URL = 'https://www.google-analytics.com';
/** GA takes an event's timestamp_micros up to 72 hours back; older ones are sent as of now. */
export const GA4_MAX_BACKDATE_HOURS = 72;

export const Ga4Config = z
  .object({
    measurement_id: z
      .string()
      .regex(/^G-[A-Z0-9]{4,20}$/, 'the web data stream measurement id, G-XXXXXXX')
      .describe('Measurement id of the web data stream (Admin → Data streams)'),
    base_url: z
      .url()
      .optional()
      .describe('Collection host (https://www.google-analytics.com; region1.google-analytics.com for EU)'),
    ...conversionConfig(
      'GA4',
      {
        new: 'generate_lead',
        tour_scheduled: 'schedule_tour',
        leased: 'close_convert_lead',
        placed: 'close_convert_lead',
      },
      ['generate_lead', 'close_convert_lead', 'purchase'],
    ),
  })
  .loose();

export const Ga4Credentials = z
  .object({
    api_secret: z
      .string()
      .min(8)
      .describe('Measurement Protocol API secret of the stream (Data streams → MP secrets)'),
  })
  .loose();

// GA's documented limits and reserved names (Measurement Protocol reference).
const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
const RESERVED_PREFIXES = ['_', 'firebase_', 'ga_', 'google_', 'gtag.'];
const RESERVED_EVENTS = new Set([
  'ad_activeview',
  'ad_click',
  'ad_exposure',
  'ad_impression',
  'ad_query',
  'ad_reward',
  'adunit_exposure',
  'app_background',
  'app_clear_data',
  'app_exception',
  'app_remove',
  'app_store_refund',
  'app_store_subscription_cancel',
  'app_store_subscription_convert',
  'app_store_subscription_renew',
  'app_update',
  'app_upgrade',
  'dynamic_link_app_open',
  'dynamic_link_app_update',
  'dynamic_link_first_open',
  'error',
  'first_open',
  'first_visit',
  'in_app_purchase',
  'notification_dismiss',
  'notification_foreground',
  'notification_open',
  'notification_receive',
  'os_update',
  'session_start',
  'session_start_with_rollout',
  'user_engagement',
]);
const MAX_PARAMS = 25;
const MAX_PARAM_NAME = 40;
const MAX_PARAM_VALUE = 100;

/** What GA would drop silently, named: an invalid or reserved event name, too many or too long parameters. */
export function ga4Problems(event: { name: string; params: Record<string, unknown> }): string[] {
  const problems: string[] = [];
  if (!EVENT_NAME.test(event.name))
    problems.push(`event name ${event.name} must be a letter then up to 39 letters, digits or _`);
  if (RESERVED_EVENTS.has(event.name) || RESERVED_PREFIXES.some((p) => event.name.startsWith(p))) {
    problems.push(`event name ${event.name} is reserved by Google Analytics`);
  }
  const params = Object.entries(event.params);
  if (params.length > MAX_PARAMS) problems.push(`${params.length} parameters (at most ${MAX_PARAMS})`);
  for (const [name, value] of params) {
    if (name.length > MAX_PARAM_NAME || RESERVED_PREFIXES.some((p) => name.startsWith(p))) {
      problems.push(`parameter name ${name} is too long or reserved`);
    }
    if (typeof value === 'string' && value.length > MAX_PARAM_VALUE) {
      problems.push(`parameter ${name} is longer than ${MAX_PARAM_VALUE} characters`);
    }
  }
  return problems;
}

function collectUrl(connection: PartnerConnection, path: string, measurementId: string): string {
  const secret = connection.credentials.api_secret;
  if (!secret) {
    throw new PartnerError('ga4', 'final', 'the GA4 integration holds no api_secret', {
      partnerCode: 'credentials_missing',
    });
  }
  const url = new URL(joinUrl(baseUrl(connection, GA4_COLLECT_URL), path));
  url.searchParams.set('measurement_id', measurementId);
  url.searchParams.set('api_secret', secret);
  return url.toString();
}

async function pushStatus(connection: PartnerConnection, push: StatusPush): Promise<PushResult> {
  const settings = Ga4Config.parse(connection.config);
  const conversion = conversionOf(settings, push);
  if (!conversion) return { outcome: 'skipped', detail: `no GA4 event is mapped to ${push.status}` };
  const attribution = attributionOf(push.lead);
  // GA attributes an event to the visitor whose client_id it carries; without one it would invent a visitor.
  if (!attribution.ga_client_id) {
    return {
      outcome: 'skipped',
      detail:
        'no GA client_id for this lead: it did not come through a web form that passed attribution.ga_client_id',
    };
  }
  const params: Record<string, unknown> = {
    ...(conversion.value !== undefined ? { value: conversion.value, currency: conversion.currency } : {}),
    ...(conversion.eventName === 'purchase' ? { transaction_id: conversion.eventId } : {}),
    lead_source: push.lead.source.slice(0, MAX_PARAM_VALUE),
    ...(attribution.ga_session_id ? { session_id: attribution.ga_session_id } : {}),
    engagement_time_msec: 1,
  };
  const event = { name: conversion.eventName, params };
  const problems = ga4Problems(event);
  if (problems.length > 0) {
    throw new PartnerError('ga4', 'final', `GA4 would drop this event: ${problems.join('; ')}`, {
      partnerCode: 'invalid_event',
    });
  }
  const backdated = Date.now() / 1000 - conversion.eventTime < GA4_MAX_BACKDATE_HOURS * 3600;
  const body = {
    client_id: attribution.ga_client_id,
    ...(backdated ? { timestamp_micros: conversion.eventTime * 1_000_000 } : {}),
    events: [event],
  };
  const response = await partnerRequest('ga4', connection, {
    method: 'POST',
    url: collectUrl(connection, '/mp/collect', settings.measurement_id),
    body,
  });
  return {
    outcome: 'success',
    code: response.status,
    // GA gives nothing back to read: the 2xx is all there is.
    readBack: 'not_supported',
    response: {
      sent: {
        event_name: conversion.eventName,
        event_id: conversion.eventId,
        client_id: attribution.ga_client_id,
        ...(conversion.value !== undefined ? { value: conversion.value, currency: conversion.currency } : {}),
        ...(backdated ? { timestamp_micros: body.timestamp_micros } : {}),
      },
    },
  };
}

/**
 * A sample event to the validation server: proves the host is reachable and the measurement id takes events. The
 * validation server does not check the api_secret (GA's documentation says so), so a wrong secret shows only in
 * GA's reports.
 */
async function testConnection(connection: PartnerConnection): Promise<{ detail: string }> {
  const settings = Ga4Config.parse(connection.config);
  const response = await partnerRequest('ga4', connection, {
    method: 'POST',
    url: collectUrl(connection, '/debug/mp/collect', settings.measurement_id),
    body: {
      client_id: 'leadrelay.connection-test',
      events: [{ name: 'leadrelay_connection_test', params: {} }],
    },
  });
  const answer = jsonOf<{
    validationMessages?: { fieldPath?: string; description?: string; validationCode?: string }[];
  }>('ga4', response);
  const messages = answer.validationMessages ?? [];
  if (messages.length > 0) {
    throw new PartnerError(
      'ga4',
      'final',
      `GA4 validation: ${messages.map((m) => `${m.validationCode ?? ''} ${m.fieldPath ?? ''}: ${m.description ?? ''}`.trim()).join('; ')}`,
      { partnerCode: messages[0]!.validationCode, status: response.status },
    );
  }
  return {
    detail: `stream ${settings.measurement_id} takes events (the validation server does not check the api_secret: check GA's realtime report)`,
  };
}

export const ga4: PartnerAdapter = {
  partner: 'ga4',
  integration: { webhookSecret: { kind: 'none' }, config: Ga4Config, credentials: Ga4Credentials },
  outbound: { pushStatus, testConnection, oncePerStage: true },
};
