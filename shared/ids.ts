// The one place workflow ids and idempotency keys are built. Imported by workflow code: no Node modules.

/** Workflow id of a lead's journey: business meaning, no personal data. */
export function leadWorkflowId(workspaceId: string, leadId: string): string {
  return `lead/${workspaceId}/${leadId}`;
}

/** The inverse of leadWorkflowId, or undefined for any other id. */
export function parseLeadWorkflowId(workflowId: string): { workspaceId: string; leadId: string } | undefined {
  const match = /^lead\/([^/]+)\/([^/]+)$/.exec(workflowId);
  return match ? { workspaceId: match[1]!, leadId: match[2]! } : undefined;
}

/**
 * Idempotency key of one side effect: the same parts always give the same key, so a retried activity
 * or a replayed workflow finds its earlier write. Parts are joined with ':'.
 */
export function idempotencyKey(...parts: (string | number)[]): string {
  return parts.map(String).join(':');
}

/**
 * Idempotency key of a journey effect, `lead/<ws>/<lead>:j<journey>:<eventId>:<kind>:<target>`: the same event of
 * the same journey makes the same key, however often it is decided (retries, replays, the what-if).
 */
export function journeyEffectKey(
  workspaceId: string,
  leadId: string,
  journey: number,
  eventId: string,
  kind: string,
  target: string | number,
): string {
  return idempotencyKey(leadWorkflowId(workspaceId, leadId), `j${journey}`, eventId, kind, target);
}

/**
 * The task queue import workflows run on, beside the journeys' queue: an import's own workflow tasks never wait
 * behind the backlog of the journeys it starts (polled by the same worker process, with few slots).
 */
export function importTaskQueue(taskQueue: string): string {
  return `${taskQueue}-imports`;
}

/** Workflow id of one outbound webhook message's delivery. */
export function webhookDeliveryWorkflowId(messageId: string): string {
  return `webhook/${messageId}`;
}

/** Whether a path segment can be one of our row ids (a UUID): anything else is simply not found. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** Workflow id of an import of existing leads. */
export function importWorkflowId(importId: string): string {
  return `import/${importId}`;
}

/**
 * Workflow id of one of an import's probes (workflow type `importProbe`, on the journeys' queue): the import it
 * measures for, the import run and its turn, so a retried look finds the probe it started.
 */
export function importProbeId(importId: string, runId: string, turn: number): string {
  return `import-probe/${importId}/${runId}/${turn}`;
}

/** Workflow id of the fetch that completes one ids-only inbox event (Facebook's leadgen) before delivery. */
export function inboundFetchWorkflowId(inboxId: string): string {
  return `inbox-fetch/${inboxId}`;
}
