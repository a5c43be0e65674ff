// Helpers for ingest tests: integrations through the API, fixtures, signed webhook posts (signed with the
// partners' own libraries or exactly per their published algorithms), and waiting on journeys and rows.
import { inspect } from 'node:util';
import type { Client } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import type { JourneyView } from '../../shared/journey/types';
import { leadStateQuery } from '../../shared/journey/messages';
import { call, type Harness } from './harness';
import { journeySummary, waitFor } from './wait';

export interface CreatedIntegration {
  id: string;
  webhook_url: string;
  webhook_secret: string | null;
  partner: string;
}

export async function createIntegration(
  harness: Harness,
  apiKey: string,
  body: Record<string, unknown>,
): Promise<CreatedIntegration> {
  const answer = await call(`${harness.apiUrl}/api/v1/integrations`, 'POST', apiKey, {
    name: `${String(body.partner)} test`,
    config: {},
    ...body,
  });
  if (answer.status !== 201)
    throw new Error(`integration not created: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as CreatedIntegration;
}

export { fixture, fixtureText } from './fixtures';

/** Standard Webhooks headers made by the `standardwebhooks` library itself. */
export function standardWebhookHeaders(
  secret: string,
  body: string,
  options: { id?: string; at?: Date } = {},
): Record<string, string> {
  const id = options.id ?? `msg_${Math.random().toString(36).slice(2)}${Date.now()}`;
  const at = options.at ?? new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

export interface Answer {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

export async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (TwiML): the text is the body.
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

/** Signs a body with Standard Webhooks and posts it to the integration's webhook URL. */
export function postStandard(
  integration: CreatedIntegration,
  payload: unknown,
  options: { id?: string; at?: Date } = {},
): Promise<Answer> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return post(
    integration.webhook_url,
    body,
    standardWebhookHeaders(integration.webhook_secret!, body, options),
  );
}

export { waitFor } from './wait';

/** The live state of the journey `workflowId` once it has no work pending and `ready` holds for it. */
export function settledJourney(
  client: Client,
  workflowId: string,
  ready: (state: JourneyView) => boolean,
  what = 'its condition',
): Promise<JourneyView> {
  const handle = client.workflow.getHandle(workflowId);
  let last: JourneyView | undefined;
  return waitFor(
    `journey ${workflowId} to settle with ${what}`,
    async () => {
      last = await handle.query(leadStateQuery);
      return (last.pendingEvents ?? 0) === 0 && last.pendingEffects === 0 && ready(last) ? last : undefined;
    },
    { show: () => inspect(journeySummary(last), { depth: 3, breakLength: 120 }) },
  );
}

/** The journey's live state once `ready` holds for it and nothing is pending. */
export function journeyWhere(
  harness: Harness,
  workspaceId: string,
  leadId: string,
  ready: (state: JourneyView) => boolean,
  what?: string,
): Promise<JourneyView> {
  return settledJourney(harness.client, `lead/${workspaceId}/${leadId}`, ready, what ?? ready.toString());
}

export async function inboxRows(harness: Harness, integrationId: string): Promise<any[]> {
  const { rows } = await harness.pool.query(
    'SELECT * FROM inbox_events WHERE integration_id = $1 ORDER BY received_at, id',
    [integrationId],
  );
  return rows;
}

export async function historyRows(harness: Harness, leadId: string): Promise<any[]> {
  const { rows } = await harness.pool.query(
    'SELECT * FROM status_history WHERE lead_id = $1 ORDER BY created_at, journey, seq NULLS LAST',
    [leadId],
  );
  return rows;
}

export const uniqueEmail = (tag = 'lead') => `${tag}.${Math.random().toString(36).slice(2)}@example.com`;
