// Webhook in → status pushed to a partner sandbox (SPEC section 8: p95 ≤ 1 s, p99 ≤ 3 s): ResMan status
// webhooks, open loop, for leads of a workspace whose HubSpot integration points at the HubSpot sandbox.
// Latency = the sandbox's log time of the contact write carrying the new stage − the webhook's send time.
import { fromCanonical } from '../shared/lifecycle';
import { startHubSpotSandbox, type HubSpotSandbox } from '../infra/sandbox/hubspot';
import type { SandboxRequest } from '../infra/sandbox/partner';
import { drain } from './ingest';
import { openLoop, summarize, type LatencySummary } from './load';
import { say, type BenchSettings } from './report';
import { startStack, type Stack } from './stack';
import { post, setupWorkspace, signedWebhook, type BenchWorkspace, type Integration } from './workload';

export interface PartnerResult {
  pushes: number;
  rate: number;
  /** Pushes the sandbox never saw within the wait. */
  missing: number;
  webhookErrors: number;
  latency: LatencySummary;
  target: string;
  pass: boolean;
}

/** The status the webhooks report, and the word HubSpot receives for it. */
const STATUS = 'contacted';
const WAIT_MS = 120_000;

export interface PartnerWorkspace extends BenchWorkspace {
  leads: { leadId: string; resmanId: string; email: string }[];
}

/** A workspace with a ResMan (webhooks in) and a HubSpot integration at the sandbox (pushes out), and its leads. */
export async function partnerWorkspace(
  stack: Stack,
  hubspot: HubSpotSandbox,
  count: number,
  tag: string,
  /** Staff SMS and email on changes into these statuses. */
  notifyOn: string[] = [],
): Promise<PartnerWorkspace> {
  const workspace = await setupWorkspace(stack, {
    name: 'Bench partner push',
    partners: ['resman'],
    notifyOn,
    extra: [
      {
        partner: 'hubspot',
        config: { base_url: hubspot.url },
        credentials: { client_secret: 'bench-client-secret', access_token: hubspot.accessToken },
      },
    ],
  });
  const leads: PartnerWorkspace['leads'] = [];
  for (let i = 0; i < count; i++) {
    const resmanId = `RM-${tag}-${i}`;
    const email = `partner.${tag}.${i}@bench.example`;
    const response = await fetch(`${stack.apiUrl}/api/v1/leads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${workspace.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        source: 'website',
        property_id: workspace.propertyId,
        first_name: 'Bench',
        last_name: `Partner ${i}`,
        email,
        external_ids: { resman: resmanId },
      }),
    });
    const body = (await response.json()) as { id?: string };
    if (response.status !== 201 || !body.id)
      throw new Error(`lead ${i}: ${response.status} ${JSON.stringify(body)}`);
    leads.push({ leadId: body.id, resmanId, email });
  }
  await drain(stack.pool, workspace.workspaceId, () => count);
  return { ...workspace, leads };
}

export function resmanStatus(integration: Integration, tag: string, resmanId: string, status: string) {
  return signedWebhook(integration, `msg_${tag}_${resmanId}_${status}`, {
    lead_id: resmanId,
    new_status: status,
    status_reason: 'Leasing agent called back',
    updated_by: 'bench',
    updated_at: new Date().toISOString(),
  });
}

/** The contact write that carries `value` for the lead with this email, once the sandbox has logged it. */
export function stageWrite(hubspot: HubSpotSandbox, email: string, value: string): Promise<SandboxRequest> {
  return hubspot.requests.waitFor((request) => {
    if (request.method !== 'PATCH' || !(request.status && request.status < 300)) return false;
    if (!request.body.includes(`"${value}"`)) return false;
    const contact = hubspot.contactByEmail(email);
    return contact !== undefined && request.url.startsWith(`/crm/v3/objects/contacts/${contact.id}`);
  });
}

export async function benchPartner(settings: BenchSettings): Promise<PartnerResult> {
  const { count, rate } = settings.partner;
  // HubSpot's own ten-secondly limit would make the bench measure HubSpot's throttle: lifted here.
  const hubspot = await startHubSpotSandbox({ rateLimit: { max: 1_000_000, intervalMs: 10_000 } });
  const stack = await startStack({ workers: 1 });
  try {
    const tag = `partner${Date.now().toString(36)}`;
    const workspace = await partnerWorkspace(stack, hubspot, count, tag);
    const value = fromCanonical('hubspot', STATUS)!;
    say(`\n## Webhook → partner sandbox: ${count} ResMan status webhooks at ${rate}/s, pushed to HubSpot\n`);
    const sentAt: number[] = [];
    const latencies: number[] = [];
    let missing = 0;
    const waits: Promise<void>[] = [];
    const sent = await openLoop(rate, (count * 1000) / rate, async (i) => {
      const lead = workspace.leads[i]!;
      const webhook = resmanStatus(workspace.integrations.resman!, tag, lead.resmanId, STATUS);
      sentAt[i] = Date.now();
      waits.push(
        withTimeout(stageWrite(hubspot, lead.email, value), WAIT_MS).then(
          (request) => {
            latencies.push(request.at - sentAt[i]!);
          },
          () => {
            missing += 1;
          },
        ),
      );
      return post(webhook);
    });
    await Promise.all(waits);
    const latency = summarize(latencies);
    say(
      `  p50 ${latency.p50} ms, p95 ${latency.p95} ms, p99 ${latency.p99} ms; ${missing} missing, ${sent.errors} webhook errors`,
    );
    return {
      pushes: count,
      rate,
      missing,
      webhookErrors: sent.errors,
      latency,
      target: 'p95 ≤ 1 s, p99 ≤ 3 s',
      pass: missing === 0 && sent.errors === 0 && latency.p95 <= 1000 && latency.p99 <= 3000,
    };
  } finally {
    await stack.stop();
    await hubspot.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function partnerTable(result: PartnerResult): string {
  return [
    `**Webhook → partner sandbox** — ${result.pushes} ResMan status webhooks at ${result.rate}/s, each pushed to the HubSpot sandbox (target: ${result.target}):`,
    '',
    '| pushes | p50 | p95 | p99 | max | missing | webhook errors | |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${result.pushes} | ${result.latency.p50} ms | ${result.latency.p95} ms | ${result.latency.p99} ms | ${result.latency.max} ms | ${result.missing} | ${result.webhookErrors} | ${result.pass ? 'pass' : '**FAIL**'} |`,
  ].join('\n');
}
