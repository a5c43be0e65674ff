// The one interface every partner adapter implements: `inbound` (webhooks → journey events) and `outbound`
// (push status, upsert lead, fetch new leads, test connection).
import type { z } from 'zod';
import type { LeadStatus, PartnerName } from '../../shared/lifecycle';
import type { InboundEvent } from '../../shared/inbound';
import type { ImportRecord } from '../../shared/imports';

/** A webhook request as the partner sent it: raw bytes first, nothing parsed yet. */
export interface InboundRequest {
  method: string;
  /** The body bytes exactly as received: every signature scheme signs these. */
  rawBody: Buffer;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  query: Record<string, string>;
  /**
   * The URLs the partner may have signed (schemes that sign the URL: Twilio, HubSpot): the public webhook
   * URL and the URL as this server saw it (behind a proxy they differ).
   */
  urls: string[];
  now: Date;
}

/** What verification may use: the integration's webhook secret, its opened credentials and its config. */
export interface InboundSecrets {
  webhookSecret?: string;
  credentials: Record<string, string>;
  config: Record<string, unknown>;
}

/** What parsing may use besides the body. */
export interface InboundContext {
  integrationId: string;
  workspaceId: string;
  /** The integration's property, where its leads belong unless the event names another. */
  propertyId?: string;
  config: Record<string, unknown>;
}

export type {
  InboundEvent,
  InboundFetch,
  InboundLeadEvent,
  InboundRecord,
  InquiryContact,
  LeadLocator,
  LeadLookup,
} from '../../shared/inbound';

/** The 2xx body for partners that expect something other than our JSON (Twilio wants TwiML). */
export interface InboundReply {
  contentType: string;
  body: string;
}

export interface InboundAdapter {
  /** Throws AppError `unauthorized` unless the request is signed by the integration's secret and fresh. */
  verify(request: InboundRequest, secrets: InboundSecrets): void;
  /**
   * Validates the verified body (AppError `validation_failed` 400 naming fields, `unknown_partner_value`
   * 422) and maps it to inbox events.
   */
  parse(request: InboundRequest, context: InboundContext): InboundEvent[];
  /**
   * Completes an event that carries ids only (`event.fetch`): fetches the rest from the partner and answers the
   * event with it. Throws a PartnerError: retryable (tried again) or final (delivered without, staff told).
   */
  complete?(event: InboundEvent, connection: PartnerConnection): Promise<InboundEvent>;
  /** A GET subscription handshake (Facebook's hub.challenge): the text to echo, or throws. */
  handshake?(request: InboundRequest, secrets: InboundSecrets): string;
  /** The success body, when not our JSON. */
  reply?(): InboundReply;
}

/** Where an integration's webhook secret comes from when it is created. */
export type WebhookSecretPolicy =
  /** We generate a Standard Webhooks secret (`whsec_…`) and show it once. */
  | { kind: 'generate' }
  /** The partner's own key, given in credentials (e.g. Twilio's auth token); generated when optional. */
  | { kind: 'credential'; field: string; generateIfMissing?: boolean }
  /** Verified by a public key in config (GoHighLevel) or not a webhook partner. */
  | { kind: 'none' };

/** Where an outbound call goes and with what: the integration's config (holding `base_url`) and credentials. */
export interface PartnerConnection {
  integrationId: string;
  workspaceId: string;
  propertyId?: string;
  /** The integration's config, already validated by the adapter's config schema. */
  config: Record<string, unknown>;
  /** Opened credentials: never logged, never returned. */
  credentials: Record<string, string>;
  /** Per-request timeout in ms (default 10 s): a slow partner is a retryable failure, not a hung activity. */
  timeoutMs?: number;
  /** The HTTP client (the egress-guarded fetch unless a test passes another). */
  fetch?: typeof fetch;
  /** The integration's stored credentials, for partners that rotate them; absent where nothing is stored yet. */
  credentialStore?: CredentialStore;
}

/**
 * Stored credentials that a partner rotates (GoHighLevel's refresh token changes at every refresh). `rotate`
 * holds the integration's row lock, hands `update` the newest stored credentials and stores (sealed) what it
 * answers in the same transaction: a rotated token is kept before it is used, and two workers never spend the
 * same refresh token.
 */
export interface CredentialStore {
  rotate(
    update: (stored: Record<string, string>) => Promise<Record<string, string>>,
  ): Promise<Record<string, string>>;
}

/** The lead as a partner may see it. */
export interface PartnerLead {
  leadId: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  message?: string;
  source: string;
  propertyId?: string;
  createdAt: string;
  /** The partner's id of this lead's record, when known. */
  externalId?: string;
  /** Every partner's id of the lead (e.g. the Facebook leadgen id a conversion names). */
  externalIds?: Record<string, string>;
  /** What the lead's forms and partners passed in (custom_data), e.g. ad-platform attribution. */
  customData?: Record<string, unknown>;
  /** The value of the lead's latest logged conversion (seed 004), for conversions that carry a value. */
  conversionValue?: number;
  /**
   * True when leadrelay created the partner's record. Contact fields are written only over such records or
   * after a match check (ResMan's field pitfall: merging mismatched contacts overwrote residents' names).
   */
  createdByUs: boolean;
}

/** One status write to a partner. */
export interface StatusPush {
  lead: PartnerLead;
  status: LeadStatus;
  /** The status in the partner's vocabulary (`fromCanonical`). */
  value: string;
  reason?: string;
  occurredAt: string;
  /** Where the change came from (`staff`, `chatbot`, `partner:resman`, `system`): written where the partner allows. */
  origin: string;
  /** The event that caused this write: written where the partner allows. */
  causationId: string;
  /** Unique per push; sent to partners that accept an idempotency key. */
  idempotencyKey: string;
}

export type PushResult =
  /** Written; `readBack` says whether we read the record back and saw the write. */
  | {
      outcome: 'success';
      code: number;
      externalId?: string;
      /** The push created the partner's record (it is ours: contact fields may be written later). */
      createdRecord?: boolean;
      readBack: 'confirmed' | 'not_supported';
      /** What was sent and what the partner answered, kept on the sync row (e.g. a conversion and its receipt). */
      response?: Record<string, unknown>;
    }
  /** The partner answered 2xx but reading back shows the write changed nothing: a staff task, not a success. */
  | { outcome: 'not_applied'; code: number; externalId?: string; detail: string }
  /** Not written because it would clobber what the partner holds (e.g. a contact mismatch). */
  | { outcome: 'conflict'; code: number; externalId?: string; detail: string }
  /** Nothing to write (e.g. the partner has no field for this stage). */
  | { outcome: 'skipped'; detail: string };

/** The partner's record of a lead as `upsertLead` found or created it. */
export interface Upserted {
  externalId: string;
  created: boolean;
  code: number;
}

/** One page of changes fetched from a partner since a cursor. */
export interface FetchResult {
  /** Each a would-be webhook: it goes through the same inbox (dedupe by `partnerEventId`) and pipeline. */
  events: InboundEvent[];
  /** Where the next fetch starts; persisted after the page's events are stored. */
  cursor: string;
  /** True when another page is waiting now. */
  more: boolean;
}

/**
 * Outbound calls. Errors are `PartnerError`s (activities/partners/http.ts): retryable (429, 5xx, timeouts,
 * with Retry-After when the partner gave one) or final (other 4xx), carrying the partner's own message.
 */
export interface OutboundAdapter {
  /** Writes the lead's status, creating or finding the partner's record first when `externalId` is unknown. */
  pushStatus(connection: PartnerConnection, push: StatusPush): Promise<PushResult>;
  /**
   * Each stage is sent once per lead (conversions to ad platforms): a stage the lead reaches again, in this journey
   * or a later one, is skipped once a push of it succeeded.
   */
  oncePerStage?: boolean;
  /** Creates or updates the partner's record of the lead; answers its id (partners that keep records). */
  upsertLead?(connection: PartnerConnection, lead: PartnerLead): Promise<Upserted>;
  /** Changes since `cursor` (undefined: the configured look-back), for partners polled by a Schedule. */
  fetchNew?(connection: PartnerConnection, cursor: string | undefined, now: Date): Promise<FetchResult>;
  /** A cheap authenticated read proving base URL and credentials work; throws a PartnerError otherwise. */
  testConnection(connection: PartnerConnection): Promise<{ detail: string }>;
  /**
   * The partner's leads created or changed since `since`, a page at a time, each mapped to the import columns with
   * the stage it reached (onboarding backfill: docs/imports.md). `cursor` is the previous page's.
   */
  listLeads?(connection: PartnerConnection, page: { since: string; cursor?: string }): Promise<LeadListPage>;
}

/** One page of a partner's leads for a backfill. */
export interface LeadListPage {
  /** Each lead as the import columns read it (status canonical, dates ISO 8601, external_id the partner's id). */
  records: ImportRecord[];
  /** Where the next page starts; absent on the last page. */
  cursor?: string;
}

/** Availability calendars (Google Calendar): the busy time that tour slots must avoid. */
export interface CalendarAdapter {
  /** Busy intervals between two ISO times; throws a PartnerError like outbound calls. */
  freeBusy(
    connection: PartnerConnection,
    range: { from: string; to: string },
  ): Promise<{ start: string; end: string }[]>;
  /** A cheap authenticated read proving base URL and credentials work. */
  testConnection(connection: PartnerConnection): Promise<{ detail: string }>;
}

export interface PartnerAdapter {
  partner: PartnerName;
  /** What creating an integration for this partner needs. */
  integration: {
    webhookSecret: WebhookSecretPolicy;
    config?: z.ZodType;
    credentials?: z.ZodType;
  };
  inbound?: InboundAdapter;
  outbound?: OutboundAdapter;
  calendar?: CalendarAdapter;
}
