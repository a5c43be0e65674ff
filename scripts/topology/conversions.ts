// Conversions over the API for `npm run topology`: one conversion per lead, posted through the ingress to the api
// replicas with an Idempotency-Key and retried like a client retries, then counted: one row per acknowledged
// conversion, each lead's conversion count 1, and each lead's journey counting it once.
import type { Stack } from '../../bench/stack';
import { setupWorkspace, type SignedWebhook } from '../../bench/workload';
import { leadWorkflowId } from '../../shared/ids';
import { leadStateQuery } from '../../shared/journey/messages';
import { deliver } from '../chaos/driver';
import { createLeads } from '../chaos/scenarios';

export interface ConversionsResult {
  messages: number;
  acknowledged: number;
  posts: number;
  answers: Record<string, number>;
  /** Conversion rows stored for the workspace. */
  rows: number;
  /** Leads whose conversion count is exactly 1, and above 1. */
  leadsCountedOnce: number;
  leadsCountedTwice: number;
  /** Journeys whose own counter of conversions is exactly 1 (query). */
  journeysCounted: number;
  /** From the start of the load until every journey counted its conversion. */
  seconds: number;
  mismatches: string[];
  table: string;
}

export async function conversionsLoad(
  stack: Stack,
  options: {
    messages: number;
    concurrency: number;
    settleMs?: number;
    log: (line: string) => void;
    onDelivering?: () => void;
  },
): Promise<ConversionsResult> {
  const started = performance.now();
  const tag = `conv${Date.now().toString(36)}`;
  const workspace = await setupWorkspace(stack, { name: 'Topology conversions', partners: [] });
  const leadIds = await createLeads(stack, workspace, tag, options.messages);
  options.log(`${leadIds.length} leads created; posting one conversion each`);
  const messages: SignedWebhook[] = leadIds.map((leadId, i) => ({
    id: `${tag}-${i}`,
    url: `${stack.apiUrl}/api/v1/conversions`,
    method: 'POST',
    body: JSON.stringify({ contact_id: leadId, conversion_type: 'tour', conversion_value: 100 }),
    headers: () => ({
      authorization: `Bearer ${workspace.apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': `${tag}-${i}`,
    }),
  }));
  const delivery = deliver(messages, { concurrency: options.concurrency });
  options.onDelivering?.();
  const log = await delivery.done;
  options.log(`${log.acknowledged.size} conversions acknowledged (${log.posts} HTTP attempts)`);

  const countedByJourneys = async () => {
    let counted = 0;
    for (const leadId of leadIds) {
      const state = await stack.client.workflow
        .getHandle(leadWorkflowId(workspace.workspaceId, leadId))
        .query(leadStateQuery)
        .catch(() => undefined);
      if (state?.counters.conversions === 1) counted += 1;
    }
    return counted;
  };
  const deadline = Date.now() + (options.settleMs ?? 5 * 60_000);
  let journeysCounted = await countedByJourneys();
  while (journeysCounted < log.acknowledged.size && Date.now() < deadline) {
    await new Promise((resolveLater) => setTimeout(resolveLater, 1000));
    journeysCounted = await countedByJourneys();
  }
  const q = async (sql: string) =>
    (await stack.pool.query<{ n: number }>(sql, [workspace.workspaceId])).rows[0]!.n;
  const [rows, leadsCountedOnce, leadsCountedTwice] = await Promise.all([
    q('SELECT count(*)::int AS n FROM conversions WHERE workspace_id = $1'),
    q('SELECT count(*)::int AS n FROM leads WHERE workspace_id = $1 AND conversion_count = 1'),
    q('SELECT count(*)::int AS n FROM leads WHERE workspace_id = $1 AND conversion_count > 1'),
  ]);
  const n = log.acknowledged.size;
  const problems: string[] = [];
  const expect = (what: string, actual: number, expected = n) => {
    if (actual !== expected) problems.push(`${what}: ${actual}, expected ${expected}`);
  };
  expect('conversions acknowledged', n, options.messages);
  expect('conversion rows', rows);
  expect('leads with one conversion', leadsCountedOnce);
  expect('leads with a conversion counted twice', leadsCountedTwice, 0);
  expect('journeys that counted the conversion once (query)', journeysCounted);
  const table = [
    '| conversions | count |',
    '| --- | --- |',
    `| sent / acknowledged (2xx) | ${options.messages} / ${n} |`,
    `| HTTP attempts (answers) | ${log.posts} ${JSON.stringify(log.answers)} |`,
    `| conversion rows | ${rows} |`,
    `| leads counted once (twice) | ${leadsCountedOnce} (${leadsCountedTwice}) |`,
    `| journeys that counted it once | ${journeysCounted} |`,
  ].join('\n');
  return {
    messages: options.messages,
    acknowledged: n,
    posts: log.posts,
    answers: log.answers,
    rows,
    leadsCountedOnce,
    leadsCountedTwice,
    journeysCounted,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    mismatches: problems,
    table,
  };
}
