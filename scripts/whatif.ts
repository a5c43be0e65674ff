// `npm run whatif -- …`: what a candidate change would do to recorded leads, straight on Postgres (read only:
// nothing is sent, written or signalled). The same engine and request checks as POST /api/v1/admin/whatif.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createPool } from '../data/pool';
import { AppError } from '../shared/errors';
import { loadConfigOrExit } from '../shared/config';
import { emptyTotals, mergeTotals, type LeadDifferences, type WhatIfTotals } from '../shared/whatif/diff';
import type { LeadWhatIf } from '../shared/whatif/evaluate';
import { parse } from '../services/common/endpoints';
import { WhatIfBody, whatIfQuery } from '../services/api/routes/whatif';
import { planChannelsOf, runWhatIf, type WhatIfDeps } from '../usecases/whatif';

export const USAGE = `usage: npm run whatif -- [leads] <candidate> [--limit n] [--all] [--json]
  leads      --lead id[,id…]   or   [--workspace ws] [--property p] [--status s1,s2] [--source s] [--from date] [--to date]
  candidate  --rule <json|@file>           a workflow rule as POST /api/v1/workflow-rules takes it
             --preference <json|@file>     a notification preference as POST /api/v1/notification-preferences takes it
             --follow-up-policy <json|@file>  e.g. '{"stale_days":3}'
             --reducer                     this checkout's reducer, compared with what was recorded
  --all      every matching lead, a page (--limit, default 200) at a time
  --json     one JSON line per lead, then one with the totals`;

export class UsageError extends Error {}

function json(value: string | undefined, name: string): unknown {
  if (value === undefined) return undefined;
  const text = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`--${name}: not JSON${value.startsWith('@') ? ` (file ${value.slice(1)})` : ''}`);
  }
}

const list = (value: string | undefined) => value?.split(',').filter(Boolean);

/** Runs the what-if; writes lines through `out`. Throws UsageError for a bad command line. */
export async function runWhatIfCli(
  argv: string[],
  deps: WhatIfDeps,
  out: (line: string) => void,
): Promise<{ totals: WhatIfTotals; leads: number }> {
  const { values } = parseArgs({
    args: argv,
    options: {
      lead: { type: 'string' },
      workspace: { type: 'string' },
      property: { type: 'string' },
      status: { type: 'string' },
      source: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      rule: { type: 'string' },
      preference: { type: 'string' },
      'follow-up-policy': { type: 'string' },
      reducer: { type: 'boolean' },
      limit: { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const filter = {
    ...(values.workspace ? { workspace_id: values.workspace } : {}),
    ...(values.property ? { property_id: values.property } : {}),
    ...(values.status ? { status: list(values.status) } : {}),
    ...(values.source ? { source: values.source } : {}),
  };
  const body = {
    ...(values.lead ? { lead_ids: list(values.lead) } : {}),
    ...(Object.keys(filter).length > 0 ? { filter } : {}),
    ...(values.from ? { from_date: values.from } : {}),
    ...(values.to ? { to_date: values.to } : {}),
    candidate: {
      ...(values.rule ? { workflow_rule: json(values.rule, 'rule') } : {}),
      ...(values.preference ? { notification_preference: json(values.preference, 'preference') } : {}),
      ...(values['follow-up-policy']
        ? { follow_up_policy: json(values['follow-up-policy'], 'follow-up-policy') }
        : {}),
      ...(values.reducer ? { reducer: 'current' } : {}),
    },
    ...(values.limit ? { limit: Number(values.limit) } : {}),
  };
  let query;
  try {
    // The operator's CLI sees every workspace, as the admin token does.
    query = whatIfQuery(parse(WhatIfBody, body), undefined);
  } catch (error) {
    if (error instanceof AppError) throw new UsageError(describeError(error));
    throw error;
  }
  let totals = emptyTotals();
  let cursor: string | undefined;
  do {
    const report = await runWhatIf(deps, { ...query, ...(cursor ? { cursor } : {}) });
    if (totals.leads === 0 && !values.json) {
      out(`what-if of ${report.candidate.join(' + ')} as of ${report.as_of}`);
    }
    for (const lead of report.leads) {
      if (values.json) out(JSON.stringify(lead));
      else for (const line of describeLead(lead)) out(line);
    }
    totals = mergeTotals(totals, report.totals);
    cursor = values.all ? (report.next_cursor ?? undefined) : undefined;
    if (!values.all && report.next_cursor && !values.json) {
      out(`more leads match: add --all to page through them`);
    }
  } while (cursor);
  if (values.json) out(JSON.stringify({ totals }));
  else for (const line of describeTotals(totals)) out(line);
  return { totals, leads: totals.leads };
}

function describeError(error: AppError): string {
  const fields = (error.details.fields as { field: string; message: string }[] | undefined) ?? [];
  return fields.length > 0
    ? fields.map((f) => `${f.field.replace(/^candidate\./, '')}: ${f.message}`).join('; ')
    : error.message;
}

/** A lead in a few lines: only what differs, and where the record and the baseline part. */
export function describeLead(lead: LeadWhatIf): string[] {
  const lines: string[] = [];
  const record =
    lead.baseline_matches_recorded === false
      ? '; the baseline differs from the record'
      : lead.inputs.complete
        ? ''
        : '; inputs not all recorded';
  if (!lead.changed && !record) return lines;
  lines.push(
    `lead ${lead.lead_id} (${lead.workspace_id}${lead.property_id ? `/${lead.property_id}` : ''})${record}`,
  );
  lines.push(...differenceLines(lead.differences, '  '));
  for (const gap of lead.inputs.gaps) lines.push(`  gap: ${gap}`);
  if (lead.recorded_mismatches) {
    lines.push('  record → baseline:', ...differenceLines(lead.recorded_mismatches, '    '));
  }
  return lines;
}

function differenceLines(d: LeadDifferences, indent: string): string[] {
  const lines: string[] = [];
  if (d.final_status)
    lines.push(`${indent}final status ${d.final_status.baseline} → ${d.final_status.candidate}`);
  if (d.statuses) {
    lines.push(`${indent}statuses were: ${d.statuses.baseline.join(', ')}`);
    lines.push(`${indent}statuses would be: ${d.statuses.candidate.join(', ')}`);
  }
  for (const f of d.follow_ups?.added ?? [])
    lines.push(`${indent}+ follow-up ${f.name} at ${f.fire_at}${f.fired ? '' : ' (ahead)'}`);
  for (const f of d.follow_ups?.removed ?? []) lines.push(`${indent}- follow-up ${f.name} at ${f.fire_at}`);
  for (const f of d.follow_ups?.moved ?? []) {
    lines.push(`${indent}~ follow-up ${f.name} ${f.baseline.fire_at} → ${f.candidate.fire_at}`);
  }
  const notice = (n: { template: string; channel: string | null; recipient: string | null; cause: string }) =>
    `${n.template} to ${n.channel ? `${n.recipient} by ${n.channel}` : 'nobody'} (after ${n.cause})`;
  for (const n of d.notifications?.added ?? []) lines.push(`${indent}+ notification ${notice(n)}`);
  for (const n of d.notifications?.removed ?? []) lines.push(`${indent}- notification ${notice(n)}`);
  for (const p of d.pushes?.added ?? []) lines.push(`${indent}+ push ${p.status} to ${p.partner}`);
  for (const p of d.pushes?.removed ?? []) lines.push(`${indent}- push ${p.status} to ${p.partner}`);
  for (const t of d.tasks?.added ?? []) lines.push(`${indent}+ task ${t.kind}`);
  for (const t of d.tasks?.removed ?? []) lines.push(`${indent}- task ${t.kind}`);
  for (const f of d.fees?.added ?? [])
    lines.push(`${indent}+ fee to ${f.partner}: ${f.amount ?? '?'} ${f.currency}`);
  for (const f of d.fees?.removed ?? [])
    lines.push(`${indent}- fee to ${f.partner}: ${f.amount ?? '?'} ${f.currency}`);
  for (const f of d.fees?.changed ?? []) {
    lines.push(`${indent}~ fee to ${f.partner}: ${f.baseline ?? '?'} → ${f.candidate ?? '?'} ${f.currency}`);
  }
  return lines;
}

function describeTotals(t: WhatIfTotals): string[] {
  const delta = Object.entries(t.fees.amount_delta)
    .map(([currency, amount]) => `${amount >= 0 ? '+' : ''}${amount} ${currency}`)
    .join(', ');
  return [
    `${t.leads} lead(s): ${t.leads_changed} would change; the baseline matches the record for ${t.baseline_matches_recorded}` +
      `, differs for ${t.baseline_differs_from_recorded}; ${t.inputs_incomplete} with inputs not all recorded`,
    `final status changed: ${t.final_status.changed}; follow-ups +${t.follow_ups.added} -${t.follow_ups.removed} ~${t.follow_ups.moved}; ` +
      `notifications +${t.notifications.added} -${t.notifications.removed}; pushes +${t.pushes.added} -${t.pushes.removed}; ` +
      `tasks +${t.tasks.added} -${t.tasks.removed}; fees +${t.fees.added} -${t.fees.removed} ~${t.fees.changed}${delta ? ` (${delta})` : ''}`,
  ];
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // Unset: the embedded Postgres `npm start` runs.
  const databaseUrl =
    config.DATABASE_URL ?? `postgres://postgres:postgres@127.0.0.1:${config.POSTGRES_PORT}/leadrelay`;
  const pool = createPool(databaseUrl, 2);
  try {
    await runWhatIfCli(process.argv.slice(2), { pool, channels: planChannelsOf(config) }, (line) =>
      process.stdout.write(`${line}\n`),
    );
  } finally {
    await pool.end();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`leadrelay whatif: ${(error as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`leadrelay whatif: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
