// Hands an ids-only inbox event (Facebook's leadgen) to its fetch workflow, which completes it from the partner
// and delivers it. Starting is idempotent (one workflow per inbox row while it runs), so the webhook, the relay
// and an operator's replay may all ask; the row stays pending, leased, until the workflow delivers it.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { leaseInboxForFetch } from '../data/inboxFetch';
import type { DeliverableRow } from '../data/inbox';
import { inboundFetchWorkflowId } from '../shared/ids';
import type { InboundFetchInput } from '../shared/journey/messages';

export async function startInboundFetch(
  deps: { pool: pg.Pool; temporal: Client; taskQueue: string },
  row: DeliverableRow & { partner_event_id?: string },
): Promise<void> {
  const input: InboundFetchInput = { inboxId: row.id };
  await deps.temporal.workflow.start('completeInboundEvent', {
    workflowId: inboundFetchWorkflowId(row.id),
    taskQueue: deps.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Fetch ${row.partner} event ${row.partner_event_id ?? row.id} before delivery`,
  });
  await leaseInboxForFetch(deps.pool, row.id);
}
