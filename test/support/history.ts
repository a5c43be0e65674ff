// Reading a workflow's history in tests: the activities it scheduled, and payloads as the workflow saw them.
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { LeadEvent, LeadJourneyInput } from '../../shared/journey/types';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The activity types a history scheduled, in order. */
export function scheduledActivities(events: HistoryEvent[] | null | undefined): string[] {
  return (events ?? []).flatMap((e) =>
    e.activityTaskScheduledEventAttributes
      ? [e.activityTaskScheduledEventAttributes.activityType!.name!]
      : [],
  );
}

/** Payloads of a history decoded through the client's payload codecs and converter. */
export async function decodedPayloads<T>(client: Client, payloads: Payload[]): Promise<T[]> {
  const converter = client.options.loadedDataConverter;
  let plain = payloads;
  for (const codec of [...converter.payloadCodecs].reverse()) plain = await codec.decode(plain);
  return plain.map((payload) => converter.payloadConverter.fromPayload<T>(payload));
}

/**
 * How a lead's journey run began: the event it was started with, the event its context's live policy was read
 * for (`policyReadFor`), that policy, and the activities the run has scheduled so far.
 */
export async function journeyStart(client: Client, workflowId: string) {
  const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
  const started = events?.[0]?.workflowExecutionStartedEventAttributes;
  const signal = events?.find(
    (e) => e.workflowExecutionSignaledEventAttributes,
  )?.workflowExecutionSignaledEventAttributes;
  const [input] = await decodedPayloads<LeadJourneyInput>(
    client,
    (started?.input?.payloads ?? []) as Payload[],
  );
  const [event] = await decodedPayloads<LeadEvent>(client, (signal?.input?.payloads ?? []) as Payload[]);
  return {
    eventId: event?.eventId,
    readFor: input?.policyReadFor,
    policy: input?.context?.policy,
    scheduled: scheduledActivities(events),
  };
}
