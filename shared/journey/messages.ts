// The lead journey's messages (signals, update, query) and the shapes of the workflows services start: what a
// client needs to talk to a workflow without importing workflow code.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PartnerName } from '../lifecycle';
import type {
  ChangeStatusRequest,
  ChangeStatusResult,
  JourneyView,
  LeadEvent,
  LeadJourneyInput,
} from './types';

/** An inbound event for the journey (inquiry, partner status, call, SMS, deadline...). */
export const leadEventSignal = defineSignal<[LeadEvent]>('leadEvent');
/** A staff, chatbot or API status change; the validator refuses invalid transitions before anything is written. */
export const changeStatusUpdate = defineUpdate<ChangeStatusResult, [ChangeStatusRequest]>('changeStatus');
export const leadStateQuery = defineQuery<JourneyView>('leadState');
/** Pushes a partner sync again (an operator's re-push of a failed one; the api has reset it to pending). */
export const repushSyncSignal = defineSignal<[{ syncKey: string; partner: PartnerName }]>('repushSync');
/** Sends a notification delivery again (an operator's resend of a failed one; the api has reset it to pending). */
export const resendDeliverySignal =
  defineSignal<[{ deliveryKey: string; channel: string }]>('resendDelivery');

/** The lead journey workflow's signature, for typed handles. */
export type LeadJourneyWorkflow = (input: LeadJourneyInput) => Promise<JourneyView>;

/** Input of one poll of a partner (`pollIntegration`, started by the integration's Schedule). */
export interface PollIntegrationInput {
  integrationId: string;
  workspaceId: string;
}

/** Input of the fetch that completes one ids-only inbox event before its delivery (`completeInboundEvent`). */
export interface InboundFetchInput {
  inboxId: string;
}

/** Input of one outbound webhook message's delivery (`webhookDelivery`). */
export interface WebhookDeliveryInput {
  messageId: string;
  /** Seconds before each retry; defaults to RETRY_SCHEDULE_SECONDS (tests shorten it). */
  retryScheduleSeconds?: number[];
}

export type WebhookDeliveryOutcome = 'delivered' | 'failed' | 'cancelled';

/** The webhook delivery workflow's signature, for typed starts. */
export type WebhookDeliveryWorkflow = (input: WebhookDeliveryInput) => Promise<WebhookDeliveryOutcome>;

/** Input of one run of an import of existing leads (`leadImport`); the rows wait in Postgres. */
export interface LeadImportInput {
  importId: string;
  /** Rows per activity (default 200). */
  batchSize?: number;
  /** The throttle: rows per second at most, so live webhooks keep their latency (IMPORT_ROWS_PER_SECOND). */
  rowsPerSecond: number;
  /** Batches per run before it continues as new (default 100): the history stays small whatever the file. */
  batchesPerRun?: number;
  /**
   * The closed loop (IMPORT_JOURNEY_WINDOW): leads this import created whose journey has not yet recorded its
   * imported history, at most (default twice the batch; the api passes 100).
   */
  journeyWindow?: number;
  /**
   * The closed loop (IMPORT_MAX_QUEUE_DELAY_MS): how late a live lead may be because of imports (default 500 ms) —
   * what the import's probe through the journeys' queue took, and how long the oldest task waiting there has
   * waited.
   */
  maxQueueDelayMs?: number;
  /** Totals carried through continue-as-new. */
  done?: { batches: number; rows: number };
  /** The pace the import had reached (rows per second), carried through continue-as-new. */
  pace?: number;
}

export interface LeadImportResult {
  status: 'completed' | 'failed';
  batches: number;
  rows: number;
  error?: string;
}

/** What the import's closed loop saw last, and how often it held the next batch back (the `importThrottle` query). */
export interface ImportThrottle {
  /** Times the import waited for the system to absorb what it had started, this run. */
  waits: number;
  /** The pace it has reached: rows per second it takes now (it adapts to how late live leads are). */
  pace?: number;
  /** The last look: journeys of this import not yet recorded, tasks waiting on the journeys' queue, rows allowed. */
  last?: ImportHeadroom;
}

export interface ImportHeadroom {
  /** Rows the next batch may take (0: wait). */
  rows: number;
  /** Leads this import created whose journey has not recorded its imported history yet. */
  unrecorded: number;
  /** Age of the oldest task waiting on the journeys' task queue (ms); undefined when the server reports none. */
  queueDelayMs?: number;
  /**
   * How late a live lead is (ms): what the last probe through the journeys' queue took, start to close, or how
   * long it has run so far while it still runs; undefined before the first probe.
   */
  lateMs?: number;
  /** The probe to look at next time: the one still running, or the one just started. */
  probeId?: string;
  /** Whether `lateMs` is of a probe still running (so far, and growing) rather than one that has finished. */
  probeRunning?: boolean;
  /** Created rows up to here are known recorded: the next look starts after it. */
  recordedThrough: number;
}

export const importThrottleQuery = defineQuery<ImportThrottle>('importThrottle');

/** The import workflow's signature, for typed starts. */
export type LeadImportWorkflow = (input: LeadImportInput) => Promise<LeadImportResult>;
