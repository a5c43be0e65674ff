// How services, the relay and activities talk to lead journeys: signal-with-start an event, run a status update, query state.
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { AppError, isErrorCode } from '../shared/errors';
import { leadWorkflowId } from '../shared/ids';
import type {
  ChangeStatusRequest,
  ChangeStatusResult,
  JourneyContext,
  JourneyView,
  LeadEvent,
} from '../shared/journey/types';
import {
  LeadSourceAttribute,
  LeadStatusAttribute,
  PropertyIdAttribute,
  WorkspaceIdAttribute,
} from '../shared/searchAttributes';
import {
  changeStatusUpdate,
  leadEventSignal,
  leadStateQuery,
  repushSyncSignal,
  resendDeliverySignal,
  type LeadJourneyWorkflow,
} from '../shared/journey/messages';
import type { PartnerName } from '../shared/lifecycle';

/**
 * Temporal's task priority for journeys started by an import (1 is first, 3 the default, 5 last): their workflow
 * tasks and activities inherit it, so while an import floods the journeys' queue, live leads' tasks are dispatched
 * ahead of it. A journey already running keeps its own priority; an idle queue dispatches every priority at once.
 */
export const BACKGROUND_PRIORITY = { priorityKey: 5 } as const;

export interface JourneyClientOptions {
  client: Client;
  taskQueue: string;
}

export class JourneyClient {
  constructor(private readonly options: JourneyClientOptions) {}

  /** Where journeys (and the workflows that feed them) run. */
  get taskQueue(): string {
    return this.options.taskQueue;
  }

  handle(workspaceId: string, leadId: string): WorkflowHandle<LeadJourneyWorkflow> {
    return this.options.client.workflow.getHandle<LeadJourneyWorkflow>(leadWorkflowId(workspaceId, leadId));
  }

  /** Delivers an event, starting the journey (or its next run) when none is running. */
  async send(
    lead: { workspaceId: string; leadId: string; propertyId?: string; source: string; status?: string },
    event: LeadEvent,
    context?: JourneyContext,
    options: {
      background?: boolean;
      /** The context's partners, rules and zone were read fresh when this event was stored (LeadJourneyInput). */
      policyReadFor?: string;
    } = {},
  ): Promise<string> {
    const workflowId = leadWorkflowId(lead.workspaceId, lead.leadId);
    await this.options.client.workflow.signalWithStart<LeadJourneyWorkflow, [LeadEvent]>('leadJourney', {
      workflowId,
      taskQueue: this.options.taskQueue,
      ...(options.background ? { priority: BACKGROUND_PRIORITY } : {}),
      args: [
        {
          workspaceId: lead.workspaceId,
          leadId: lead.leadId,
          context,
          ...(context && options.policyReadFor === event.eventId ? { policyReadFor: event.eventId } : {}),
        },
      ],
      signal: leadEventSignal,
      signalArgs: [event],
      // Visible in the UI's list before the first workflow task runs; no personal data.
      typedSearchAttributes: [
        { key: LeadStatusAttribute, value: lead.status ?? 'new' },
        { key: LeadSourceAttribute, value: lead.source },
        { key: WorkspaceIdAttribute, value: lead.workspaceId },
        ...(lead.propertyId ? [{ key: PropertyIdAttribute, value: lead.propertyId }] : []),
      ],
      staticSummary: `Lead journey ${lead.leadId}`,
      staticDetails: `workspace ${lead.workspaceId}${lead.propertyId ? `, property ${lead.propertyId}` : ''}`,
    });
    return workflowId;
  }

  /**
   * Delivers an event to the journey's running run only (an email open, staff stopping an enrolment): a journey
   * that ended has nothing to do with it. Answers whether a run took it.
   */
  async signalRunning(workspaceId: string, leadId: string, event: LeadEvent): Promise<boolean> {
    try {
      await this.handle(workspaceId, leadId).signal(leadEventSignal, event);
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  /** Hands a reopened partner sync to the lead's journey (its next run when it had ended). */
  async repush(
    workspaceId: string,
    leadId: string,
    sync: { syncKey: string; partner: PartnerName },
  ): Promise<void> {
    await this.options.client.workflow.signalWithStart<LeadJourneyWorkflow, [typeof sync]>('leadJourney', {
      workflowId: leadWorkflowId(workspaceId, leadId),
      taskQueue: this.options.taskQueue,
      args: [{ workspaceId, leadId }],
      signal: repushSyncSignal,
      signalArgs: [sync],
      typedSearchAttributes: [{ key: WorkspaceIdAttribute, value: workspaceId }],
      staticSummary: `Lead journey ${leadId}`,
    });
  }

  /** Hands a reopened notification delivery to the lead's journey (its next run when it had ended). */
  async resend(workspaceId: string, leadId: string, delivery: { deliveryKey: string; channel: string }) {
    await this.options.client.workflow.signalWithStart<LeadJourneyWorkflow, [typeof delivery]>(
      'leadJourney',
      {
        workflowId: leadWorkflowId(workspaceId, leadId),
        taskQueue: this.options.taskQueue,
        args: [{ workspaceId, leadId }],
        signal: resendDeliverySignal,
        signalArgs: [delivery],
        typedSearchAttributes: [{ key: WorkspaceIdAttribute, value: workspaceId }],
        staticSummary: `Lead journey ${leadId}`,
      },
    );
  }

  /** Runs the changeStatus update; a refusal becomes the AppError its failure type names. */
  async changeStatus(
    workspaceId: string,
    leadId: string,
    request: ChangeStatusRequest,
  ): Promise<ChangeStatusResult> {
    try {
      return await this.handle(workspaceId, leadId).executeUpdate(changeStatusUpdate, {
        args: [request],
        updateId: request.requestId,
      });
    } catch (error) {
      throw asAppError(error);
    }
  }

  async state(workspaceId: string, leadId: string): Promise<JourneyView> {
    return this.handle(workspaceId, leadId).query(leadStateQuery);
  }
}

/** Maps a refused update to our error family; anything else is passed on. */
export function asAppError(error: unknown): unknown {
  const cause = error instanceof WorkflowUpdateFailedError ? error.cause : error;
  if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) {
    const details = (cause.details?.[0] ?? {}) as Record<string, unknown>;
    return new AppError(cause.type, cause.message, details);
  }
  return error;
}
