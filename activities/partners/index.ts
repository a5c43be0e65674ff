// The partner registry: one adapter per partner, one line each. Adding a partner: its file here, its doc in
// docs/partners/, its sandbox twin, and one line below.
import type { PartnerName } from '../../shared/lifecycle';
import { apfm } from './apfm';
import { calendly } from './calendly';
import { callrail } from './callrail';
import { caring } from './caring';
import { chatbot } from './chatbot';
import { facebook } from './facebook';
import { ga4 } from './ga4';
import { googleCalendar } from './googleCalendar';
import { gohighlevel } from './gohighlevel';
import { hubspot } from './hubspot';
import { metaCapi } from './metaCapi';
import { resman } from './resman';
import { salesforce } from './salesforce';
import { twilio } from './twilio';
import type { CalendarAdapter, InboundAdapter, PartnerAdapter } from './types';
import { webform } from './webform';

export const partnerAdapters: Partial<Record<PartnerName, PartnerAdapter>> = {
  apfm,
  caring,
  resman,
  hubspot,
  salesforce,
  gohighlevel,
  calendly,
  callrail,
  twilio,
  webform,
  chatbot,
  facebook,
  google_calendar: googleCalendar,
  meta_capi: metaCapi,
  ga4,
};

export function partnerAdapter(partner: string): PartnerAdapter | undefined {
  return Object.prototype.hasOwnProperty.call(partnerAdapters, partner)
    ? partnerAdapters[partner as PartnerName]
    : undefined;
}

/** The inbound side of a partner's adapter, when it takes webhooks. */
export function inboundAdapter(partner: string): InboundAdapter | undefined {
  return partnerAdapter(partner)?.inbound;
}

/** How a saved or unsaved connection is tested: the outbound side's test, else the calendar's. */
export function connectionTest(partner: string): CalendarAdapter['testConnection'] | undefined {
  const adapter = partnerAdapter(partner);
  return adapter?.outbound?.testConnection ?? adapter?.calendar?.testConnection;
}

/** Whether status changes are pushed to this partner (its adapter has an outbound side). */
export function takesPushes(partner: string): partner is PartnerName {
  return partnerAdapter(partner)?.outbound !== undefined;
}
