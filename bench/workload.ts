// What the bench and the chaos runs send: a workspace set up through the api (property, integrations,
// notification preferences), and partner webhooks signed with the `standardwebhooks` library the way a
// partner signs them: the same message id on every retry, a fresh timestamp and signature per attempt.
import type pg from 'pg';
import { Webhook } from 'standardwebhooks';

export interface Integration {
  id: string;
  partner: string;
  webhook_url: string;
  webhook_secret: string | null;
}

export interface BenchWorkspace {
  workspaceId: string;
  apiKey: string;
  propertyId: string;
  integrations: Record<string, Integration>;
}

/** Staff recipients of the notification preferences `setupWorkspace` creates: one SMS and one email per change. */
export const STAFF_PHONE = '+15550199001';
export const STAFF_EMAIL = 'leasing.desk@bench.example';

async function api(
  apiUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const response = await fetch(`${apiUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

async function expectCreated<T = Record<string, unknown>>(
  answer: Promise<{ status: number; body: Record<string, unknown> | undefined }>,
  what: string,
): Promise<T> {
  const { status, body } = await answer;
  if (status !== 201) throw new Error(`${what}: ${status} ${JSON.stringify(body)}`);
  return body as T;
}

export interface WorkspaceOptions {
  name: string;
  /** Webhook integrations to create (Standard Webhooks partners: webform, chatbot, resman…). */
  partners: string[];
  /** Staff SMS and email on every change into these statuses. */
  notifyOn?: string[];
  /** Extra integrations with their config (e.g. hubspot with config.base_url at its sandbox). */
  extra?: { partner: string; config?: Record<string, unknown>; credentials?: Record<string, unknown> }[];
  /**
   * false: the workspace's journeys keep no follow-up timers (set in Postgres: no API sets the policy), so
   * speed-to-lead timers of one round cannot fire into a later one.
   */
  followUpTimers?: boolean;
}

export async function setupWorkspace(
  stack: { apiUrl: string; adminToken: string; pool?: pg.Pool },
  options: WorkspaceOptions,
): Promise<BenchWorkspace> {
  const registered = await expectCreated<{ workspace_id: string; api_key: string }>(
    api(stack.apiUrl, stack.adminToken, 'POST', '/workspaces', {
      workspace_name: options.name,
      timezone: 'America/Chicago',
      rate_limit_per_hour: 10_000_000,
    }),
    'workspace',
  );
  const apiKey = registered.api_key;
  const propertyId = 'maple';
  await expectCreated(
    api(stack.apiUrl, apiKey, 'POST', '/properties', {
      property_id: propertyId,
      name: 'Maple Commons',
      timezone: 'America/Chicago',
      vertical: 'multifamily',
    }),
    'property',
  );
  const integrations: Record<string, Integration> = {};
  for (const partner of options.partners) {
    integrations[partner] = await expectCreated<Integration>(
      api(stack.apiUrl, apiKey, 'POST', '/integrations', {
        partner,
        name: `${partner} (bench)`,
        property_id: propertyId,
        config: {},
      }),
      `${partner} integration`,
    );
  }
  for (const extra of options.extra ?? []) {
    integrations[extra.partner] = await expectCreated<Integration>(
      api(stack.apiUrl, apiKey, 'POST', '/integrations', {
        partner: extra.partner,
        name: `${extra.partner} (bench)`,
        property_id: propertyId,
        config: extra.config ?? {},
        ...(extra.credentials ? { credentials: extra.credentials } : {}),
      }),
      `${extra.partner} integration`,
    );
  }
  for (const status of options.notifyOn ?? []) {
    for (const [method, recipient] of [
      ['sms', STAFF_PHONE],
      ['email', STAFF_EMAIL],
    ] as const) {
      await expectCreated(
        api(stack.apiUrl, apiKey, 'POST', '/notification-preferences', {
          property_id: null,
          status_type: status,
          notification_method: method,
          recipients: [recipient],
        }),
        `${method} preference`,
      );
    }
  }
  if (options.followUpTimers === false) {
    if (!stack.pool) throw new Error('turning follow-up timers off needs the stack pool');
    await stack.pool.query(`UPDATE workspaces SET follow_up_policy = '{"enabled": false}' WHERE id = $1`, [
      registered.workspace_id,
    ]);
  }
  return { workspaceId: registered.workspace_id, apiKey, propertyId, integrations };
}

/** One partner message: its id and body are fixed, its signature is made fresh for every attempt. */
export interface SignedWebhook {
  id: string;
  url: string;
  /** POST unless said otherwise (a staff status change is a PUT). */
  method?: string;
  body: string;
  headers(): Record<string, string>;
}

export function signedWebhook(integration: Integration, id: string, payload: unknown): SignedWebhook {
  const body = JSON.stringify(payload);
  const signer = new Webhook(integration.webhook_secret!);
  return {
    id,
    // The loopback address itself: a burst of new connections should not queue on name lookups.
    url: integration.webhook_url.replace('://localhost:', '://127.0.0.1:'),
    body,
    headers() {
      const at = new Date();
      return {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signer.sign(id, at, body),
      };
    },
  };
}

/** A web form inquiry from a new person: one lead, one journey, one signal-with-start. */
export function webformInquiry(integration: Integration, tag: string, i: number): SignedWebhook {
  return signedWebhook(integration, `msg_${tag}_${i}`, {
    form_id: 'contact-us',
    submission_id: `sub_${tag}_${i}`,
    submitted_at: new Date().toISOString(),
    first_name: 'Bench',
    last_name: `Prospect ${i}`,
    email: `prospect.${tag}.${i}@bench.example`,
    message: 'Is the two-bedroom still available?',
  });
}

/**
 * A chatbot conversation that qualified a new person: creates the lead (`new`) and moves it to `qualified`
 * in one webhook. Order-free across leads, so a shuffled, repeated stream has one right outcome.
 */
export function chatbotQualified(integration: Integration, tag: string, i: number): SignedWebhook {
  return signedWebhook(integration, `msg_${tag}_${i}`, {
    conversation_id: `conv_${tag}_${i}`,
    new_status: 'qualified',
    status_reason: 'Budget and move-in date confirmed in the chat',
    updated_at: new Date().toISOString(),
    context_data: { urgency_level: 'medium' },
    contact: { first_name: 'Chaos', last_name: `Prospect ${i}`, email: `prospect.${tag}.${i}@chaos.example` },
  });
}

/**
 * Posts a webhook once: true for a 2xx, else the status (or network error code) as a label. `only200`: a 202
 * (stored, its signal still queued) is a label too, for measurements of the path at its full length.
 */
export async function post(
  webhook: SignedWebhook,
  timeoutMs = 30_000,
  options: { only200?: boolean } = {},
): Promise<true | string> {
  const { status } = await postAnswer(webhook, timeoutMs);
  if (options.only200 && status === 202) return '202';
  return status >= 200 && status < 300 ? true : String(status);
}

/** One delivery of a webhook (signed afresh): its status, and the Retry-After it carried (seconds). */
export async function postAnswer(
  webhook: SignedWebhook,
  timeoutMs = 30_000,
): Promise<{ status: number; retryAfterSeconds: number | undefined }> {
  const response = await fetch(webhook.url, {
    method: 'POST',
    headers: webhook.headers(),
    body: webhook.body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.arrayBuffer();
  const retryAfter = Number(response.headers.get('retry-after'));
  return {
    status: response.status,
    retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  };
}
