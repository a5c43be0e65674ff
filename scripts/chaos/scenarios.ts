// The chaos scenarios of SPEC section 8, each a load of partner webhooks with one fault injected while it runs,
// then reconciled by counting. `npm run chaos` runs them at full size; test/integration/chaos-*.test.ts at CI size.
import { startHubSpotSandbox, type HubSpotSandbox } from '../../infra/sandbox/hubspot';
import type { LeadStatus } from '../../shared/lifecycle';
import { partnerWorkspace, resmanStatus } from '../../bench/partner';
import { drain } from '../../bench/ingest';
import type { Stack } from '../../bench/stack';
import { chatbotQualified, setupWorkspace, type SignedWebhook } from '../../bench/workload';
import { deliver, type RunningDelivery } from './driver';
import { count, mismatches, settle, type ChaosCounts } from './reconcile';

export interface Sizes {
  /** Distinct webhook messages (one lead each). */
  messages: number;
  /** Copies of each message (default 1). */
  copies?: number;
  shuffle?: boolean;
  /** Requests in flight at once (default 8; Infinity = all at once). */
  concurrency?: number;
  /** How long the fault lasts (ms). */
  downMs?: number;
  /** How long to wait for the system to settle afterwards (ms). */
  settleMs?: number;
}

export interface FaultContext {
  stack: Stack;
  hubspot?: HubSpotSandbox;
  delivery: RunningDelivery;
  sizes: Sizes;
  note(line: string): void;
  /** Distinct messages acknowledged so far reached this fraction of all messages. */
  reached(fraction: number): Promise<void>;
}

export interface Scenario {
  name: string;
  describe: string;
  /**
   * chatbot: each webhook creates a lead and qualifies it; partner: ResMan statuses pushed on to HubSpot;
   * api: staff status changes (PUT …/status with an Idempotency-Key) for leads created through the api.
   */
  workload: 'chatbot' | 'partner' | 'api';
  full: Sizes;
  quick: Sizes;
  fault?(context: FaultContext): Promise<void>;
}

const pause = (ms: number) => new Promise<void>((resolveLater) => setTimeout(resolveLater, ms));

/** kill -9 every worker, keep them down for `downMs`, start them again. */
async function killWorkers(context: FaultContext, downMs: number): Promise<void> {
  const workers = context.stack.workers();
  await Promise.all(workers.map((w) => w.kill9()));
  context.note(`kill -9 ${workers.map((w) => `${w.label} (pid ${w.pid})`).join(', ')}`);
  for (const worker of workers) context.stack.processes.splice(context.stack.processes.indexOf(worker), 1);
  if (downMs > 0) await pause(downMs);
  for (const worker of workers) await context.stack.start('worker', worker.label);
  context.note(`${workers.length} worker(s) started again after ${downMs} ms`);
}

/** The fault of a service killed with -9 a third of the way in, kept down `downMs`, then started again. */
function killAndRestart(name: 'ingest' | 'api'): Scenario['fault'] {
  return async (context) => {
    await context.reached(1 / 3);
    const service = context.stack.processes.find((p) => p.name === name)!;
    context.note(`kill -9 ${name} (pid ${service.pid})`);
    await context.stack.kill9AndRestart(service, context.sizes.downMs);
    context.note(`${name} started again`);
  };
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'duplicates',
    describe: 'every webhook sent 10 times, all copies in shuffled order',
    workload: 'chatbot',
    full: { messages: 100, copies: 10, shuffle: true, concurrency: 20 },
    quick: { messages: 20, copies: 10, shuffle: true, concurrency: 10 },
  },
  {
    name: 'concurrent',
    describe: 'every webhook sent at the same moment',
    workload: 'chatbot',
    full: { messages: 1000, concurrency: Infinity },
    quick: { messages: 100, concurrency: Infinity },
  },
  {
    name: 'worker-kill',
    describe: 'kill -9 the worker mid-load (down a few seconds), and again later (restarted at once)',
    workload: 'chatbot',
    full: { messages: 300, downMs: 5000 },
    quick: { messages: 40, concurrency: 4, downMs: 1000 },
    async fault(context) {
      await context.reached(1 / 3);
      await killWorkers(context, context.sizes.downMs ?? 0);
      await context.reached(2 / 3);
      await killWorkers(context, 0);
    },
  },
  {
    name: 'ingest-kill',
    describe: 'kill -9 the ingest service mid-load (requests in flight are cut), restart it',
    workload: 'chatbot',
    full: { messages: 300, downMs: 3000 },
    quick: { messages: 40, concurrency: 4, downMs: 1000 },
    fault: killAndRestart('ingest'),
  },
  {
    name: 'api-kill',
    describe: 'kill -9 the api mid-load while staff change statuses (retried with the same Idempotency-Key)',
    workload: 'api',
    full: { messages: 200, downMs: 3000 },
    quick: { messages: 30, concurrency: 4, downMs: 1000 },
    fault: killAndRestart('api'),
  },
  {
    name: 'temporal-restart',
    describe: 'kill -9 the Temporal dev server mid-load, start it again on the same SQLite file',
    workload: 'chatbot',
    full: { messages: 300, downMs: 10_000 },
    quick: { messages: 40, concurrency: 4, downMs: 2000 },
    async fault(context) {
      await context.reached(1 / 3);
      await context.stack.kill9Temporal();
      context.note('kill -9 the Temporal dev server');
      await pause(context.sizes.downMs ?? 0);
      await context.stack.startTemporal();
      context.note(`Temporal dev server started again after ${context.sizes.downMs} ms`);
    },
  },
  {
    name: 'postgres-stop',
    describe: 'kill -9 Postgres mid-load, keep it down 30 s, start it again',
    workload: 'chatbot',
    full: { messages: 300, downMs: 30_000 },
    // Eight requests in flight: the kill lands on open transactions, the case most likely to hurt.
    quick: { messages: 40, concurrency: 8, downMs: 5000 },
    async fault(context) {
      await context.reached(1 / 3);
      await context.stack.kill9Postgres();
      context.note('kill -9 Postgres');
      await pause(context.sizes.downMs ?? 0);
      await context.stack.startPostgres();
      context.note(`Postgres started again after ${context.sizes.downMs} ms`);
    },
  },
  {
    name: 'partner-down',
    describe: 'HubSpot down (503) for minutes while ResMan statuses are pushed on to it',
    workload: 'partner',
    full: { messages: 200, concurrency: 4, downMs: 180_000, settleMs: 15 * 60_000 },
    quick: { messages: 20, concurrency: 4, downMs: 15_000 },
    async fault(context) {
      context.hubspot!.down = true;
      context.note('HubSpot sandbox down');
      await pause(context.sizes.downMs ?? 0);
      context.hubspot!.down = false;
      context.note(`HubSpot sandbox up again after ${context.sizes.downMs} ms`);
    },
  },
];

/** Leads created through the api (each journey applied before the load starts). */
export async function createLeads(
  stack: Stack,
  workspace: { workspaceId: string; apiKey: string },
  tag: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${stack.apiUrl}/api/v1/leads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${workspace.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        source: 'website',
        property_id: 'maple',
        first_name: 'Chaos',
        last_name: `Staff ${i}`,
        email: `staff.${tag}.${i}@chaos.example`,
      }),
    });
    const body = (await response.json()) as { id?: string };
    if (response.status !== 201 || !body.id)
      throw new Error(`lead ${i}: ${response.status} ${JSON.stringify(body)}`);
    ids.push(body.id);
  }
  await drain(stack.pool, workspace.workspaceId, () => count);
  return ids;
}

/** A staff status change as a client retries it: the same Idempotency-Key on every attempt. */
function staffStatusChange(apiUrl: string, apiKey: string, leadId: string, key: string): SignedWebhook {
  return {
    id: key,
    url: `${apiUrl}/api/v1/leads/${leadId}/status`,
    method: 'PUT',
    body: JSON.stringify({ new_status: 'contacted', status_reason: 'Called back', updated_by: 'staff' }),
    headers: () => ({
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': `chaos-${key}`,
    }),
  };
}

export interface ScenarioResult {
  name: string;
  seconds: number;
  settled: boolean;
  counts: ChaosCounts;
  mismatches: string[];
  timeline: string[];
}

/** Runs one scenario on a running stack, in a workspace of its own, and reconciles it. */
export async function runScenario(
  stack: Stack,
  scenario: Scenario,
  sizes: Sizes,
  options: {
    hubspot?: HubSpotSandbox;
    log?: (line: string) => void;
    /** Called once the workspace is set up and the load starts (several loads can wait for each other). */
    onDelivering?: () => void;
  } = {},
): Promise<ScenarioResult> {
  const started = performance.now();
  const timeline: string[] = [];
  const note = (line: string) => {
    const entry = `${((performance.now() - started) / 1000).toFixed(1)} s  ${line}`;
    timeline.push(entry);
    options.log?.(`  ${entry}`);
  };
  const tag = `${scenario.name.replace(/[^a-z]/g, '')}${Date.now().toString(36)}`;
  let hubspot = options.hubspot;
  const ownHubspot = scenario.workload === 'partner' && !hubspot;
  if (ownHubspot) hubspot = await startHubSpotSandbox({ rateLimit: { max: 1_000_000, intervalMs: 10_000 } });
  try {
    let messages: SignedWebhook[];
    let integrationId: string | undefined;
    let workspaceId: string;
    let status: LeadStatus;
    if (scenario.workload === 'partner') {
      const workspace = await partnerWorkspace(stack, hubspot!, sizes.messages, tag, ['contacted']);
      const resman = workspace.integrations.resman!;
      messages = workspace.leads.map((lead) => resmanStatus(resman, tag, lead.resmanId, 'contacted'));
      integrationId = resman.id;
      workspaceId = workspace.workspaceId;
      status = 'contacted';
    } else if (scenario.workload === 'api') {
      const workspace = await setupWorkspace(stack, {
        name: `Chaos ${scenario.name}`,
        partners: [],
        notifyOn: ['contacted'],
      });
      const leadIds = await createLeads(stack, workspace, tag, sizes.messages);
      messages = leadIds.map((leadId, i) =>
        staffStatusChange(stack.apiUrl, workspace.apiKey, leadId, `${tag}-${i}`),
      );
      workspaceId = workspace.workspaceId;
      status = 'contacted';
    } else {
      const workspace = await setupWorkspace(stack, {
        name: `Chaos ${scenario.name}`,
        partners: ['chatbot'],
        notifyOn: ['qualified'],
      });
      const chatbot = workspace.integrations.chatbot!;
      messages = Array.from({ length: sizes.messages }, (_, i) => chatbotQualified(chatbot, tag, i));
      integrationId = chatbot.id;
      workspaceId = workspace.workspaceId;
      status = 'qualified';
    }
    note(`${scenario.name}: ${scenario.describe}; ${messages.length} messages × ${sizes.copies ?? 1}`);
    const delivery = deliver(messages, {
      copies: sizes.copies,
      shuffle: sizes.shuffle,
      concurrency: sizes.concurrency,
      seed: 42,
    });
    options.onDelivering?.();
    // A service that dies on its own is the finding: stop the load, report it (nobody restarts it for us).
    const crashes: string[] = [];
    const stopWatching = stack.onCrash((crashed) => {
      crashes.push(
        `${crashed.label} (pid ${crashed.pid}) exited on its own: ${crashed.output.slice(-6).join(' | ')}`,
      );
      note(`${crashed.label} CRASHED`);
      delivery.abort();
    });
    const fault = scenario.fault?.({
      stack,
      hubspot,
      delivery,
      sizes,
      note,
      reached: (fraction) => delivery.acknowledgedAtLeast(Math.ceil(messages.length * fraction)),
    });
    const [log] = await Promise.all([delivery.done, fault]);
    note(`all messages sent: ${log.acknowledged.size} acknowledged, ${log.posts} HTTP attempts`);
    stopWatching();
    const target = {
      pool: stack.pool,
      client: stack.client,
      twilio: stack.twilio,
      mailbox: stack.mailbox,
      hubspot: scenario.workload === 'partner' ? hubspot : undefined,
      workspaceId,
      integrationId,
      status,
    };
    const settled = crashes.length
      ? false
      : await settle(target, log.acknowledged.size, sizes.settleMs ?? 5 * 60_000);
    note(settled ? 'settled: nothing pending anywhere' : 'did NOT settle before the deadline');
    const counts = await count(target, log);
    const problems = mismatches(counts);
    if (!settled && !crashes.length) problems.unshift('the system did not settle (something stayed pending)');
    problems.unshift(...crashes.map((crash) => `service crashed: ${crash}`));
    return {
      name: scenario.name,
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      settled,
      counts,
      mismatches: problems,
      timeline,
    };
  } finally {
    if (ownHubspot) await hubspot!.close();
  }
}

export function scenario(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(`no chaos scenario ${name}`);
  return found;
}
