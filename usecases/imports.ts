// Onboarding imports: a CSV file or a partner backfill brings a property's existing leads in, each matched like any
// other inquiry (the same create-or-match as the API) and its journey started at the stage it reached. The rows wait in
// Postgres; the `leadImport` workflow takes them a batch at a time, throttled, and each row settles exactly once.
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type pg from 'pg';
import { loadJourneyContext, recordJourneyChange } from '../activities/db/journey';
import { partnerAdapter } from '../activities/partners';
import { createOrMatchLead, getLead, type LeadRecord } from '../data/leads';
import {
  backdateLead,
  claimPendingRows,
  countRows,
  createBackfillImport,
  createCsvImport,
  earlierImportOf,
  getImport,
  importPlaces,
  listImports,
  listRows,
  loadImport,
  markImport,
  noteRowLead,
  settleRow,
  unrecordedJourneys,
  type ImportRecordRow,
  type ImportRowRecord,
  type RowOutcome,
} from '../data/imports';
import { getIntegration } from '../data/integrations';
import { getProperty } from '../data/workspaces';
import { AppError, isUnavailable } from '../shared/errors';
import { importTaskQueue, importWorkflowId } from '../shared/ids';
import { groupByPerson, readImportRow, rowIdentities, type ImportRowReading } from '../shared/imports';
import { decide, initialState } from '../shared/journey/decide';
import { importProblems } from '../shared/journey/imported';
import type { ImportHeadroom, LeadImportWorkflow } from '../shared/journey/messages';
import type { LeadEvent } from '../shared/journey/types';
import { DEFAULT_PIPELINE, WON_STATUS, isTerminal, type Pipeline, type Vertical } from '../shared/lifecycle';
import { WorkspaceIdAttribute } from '../shared/searchAttributes';
import { parseImportFile, readUpload } from './importFile';
import { sourceOf } from './intake';
import type { JourneyClient } from './journeys';

export interface ImportDeps {
  pool: pg.Pool;
  temporal: Client;
  /** The journeys' queue (TEMPORAL_TASK_QUEUE): the import workflow runs beside it, on importTaskQueue(taskQueue). */
  taskQueue: string;
  /** IMPORT_ROWS_PER_SECOND. */
  rowsPerSecond: number;
  /** Rows per batch and batches per run of the import workflow (defaults in workflows/leadImport.ts). */
  batchSize?: number;
  batchesPerRun?: number;
  /** The closed loop: IMPORT_JOURNEY_WINDOW and IMPORT_MAX_QUEUE_DELAY_MS (defaults in workflows/leadImport.ts). */
  journeyWindow?: number;
  maxQueueDelayMs?: number;
}

/** The import the request asked for; `duplicate` when the same file was imported before (nothing new starts). */
export interface StartedImport {
  id: string;
  duplicate: boolean;
}

/** Reads and checks an uploaded CSV, stores its rows, and starts its import; the same file again starts nothing. */
export async function startCsvImport(
  deps: ImportDeps,
  args: {
    workspaceId: string;
    body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>;
    maxBytes: number;
    propertyId?: string;
    fileName?: string;
    createdBy?: string;
  },
): Promise<StartedImport> {
  await checkProperty(deps.pool, args.workspaceId, args.propertyId);
  const file = await parseImportFile(await readUpload(args.body, args.maxBytes), {
    propertyId: args.propertyId,
  });
  const stored = await createCsvImport(deps.pool, {
    id: randomUUID(),
    workspaceId: args.workspaceId,
    propertyId: args.propertyId,
    fileName: args.fileName,
    sha256: file.sha256,
    columns: file.header,
    createdBy: args.createdBy,
    rows: file.pages(),
  });
  // Started again on a duplicate too: a no-op when its workflow runs or ran, a resume if it never started.
  await startImportWorkflow(deps, args.workspaceId, stored.id);
  return { id: stored.id, duplicate: stored.duplicateOf !== undefined };
}

/** The column check of a file, without storing or starting anything (the dashboard's step before "start"). */
export async function checkCsvImport(args: {
  body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>;
  maxBytes: number;
  propertyId?: string;
}): Promise<{
  columns: { name: string; recognized: boolean }[];
  rows: number;
  readable: number;
  problems: { row: number; reason: string }[];
}> {
  const file = await parseImportFile(await readUpload(args.body, args.maxBytes), {
    propertyId: args.propertyId,
  });
  let rows = 0;
  const problems: { row: number; reason: string }[] = [];
  let failed = 0;
  for await (const page of file.pages()) {
    for (const row of page) {
      rows += 1;
      if (!row.failed) continue;
      failed += 1;
      if (problems.length < 50) problems.push({ row: row.row, reason: row.failed.reason });
    }
  }
  return { columns: file.check.columns, rows, readable: rows - failed, problems };
}

/** A backfill from a connected partner that can list its leads, from `since` on. */
export async function startBackfillImport(
  deps: ImportDeps,
  args: {
    workspaceId: string;
    integrationId: string;
    since: string;
    propertyId?: string;
    createdBy?: string;
  },
): Promise<StartedImport> {
  const integration = await getIntegration(deps.pool, args.workspaceId, args.integrationId);
  if (!integration) {
    throw new AppError(
      'validation_failed',
      `integration ${args.integrationId} does not exist in this workspace`,
      {
        fields: [{ field: 'integration_id', message: 'unknown integration' }],
      },
    );
  }
  if (!partnerAdapter(integration.partner)?.outbound?.listLeads) {
    const able = backfillPartners();
    throw new AppError(
      'validation_failed',
      `${integration.partner} cannot list its leads; backfills come from ${able.join(', ')}`,
      {
        fields: [{ field: 'integration_id', message: `${integration.partner} has no lead listing` }],
        partners: able,
      },
    );
  }
  if (!integration.has_credentials) {
    throw new AppError(
      'validation_failed',
      `integration ${integration.id} has no API credentials to list leads with`,
      {
        fields: [{ field: 'integration_id', message: 'no credentials' }],
      },
    );
  }
  const propertyId = args.propertyId ?? integration.property_id ?? undefined;
  await checkProperty(deps.pool, args.workspaceId, propertyId);
  const id = randomUUID();
  await createBackfillImport(deps.pool, {
    id,
    workspaceId: args.workspaceId,
    integrationId: integration.id,
    partner: integration.partner,
    since: args.since,
    propertyId,
    createdBy: args.createdBy,
  });
  await startImportWorkflow(deps, args.workspaceId, id);
  return { id, duplicate: false };
}

/** Partners whose adapter lists leads for a backfill. */
export function backfillPartners(): string[] {
  return ['hubspot', 'salesforce', 'resman', 'gohighlevel'].filter(
    (partner) => partnerAdapter(partner)?.outbound?.listLeads !== undefined,
  );
}

async function checkProperty(
  pool: pg.Pool,
  workspaceId: string,
  propertyId: string | undefined,
): Promise<void> {
  if (propertyId !== undefined && !(await getProperty(pool, workspaceId, propertyId))) {
    throw new AppError('validation_failed', `property ${propertyId} does not exist in this workspace`, {
      fields: [{ field: 'property_id', message: 'unknown property' }],
    });
  }
}

async function startImportWorkflow(deps: ImportDeps, workspaceId: string, importId: string): Promise<void> {
  try {
    await deps.temporal.workflow.start<LeadImportWorkflow>('leadImport', {
      workflowId: importWorkflowId(importId),
      taskQueue: importTaskQueue(deps.taskQueue),
      args: [
        {
          importId,
          rowsPerSecond: deps.rowsPerSecond,
          ...(deps.batchSize ? { batchSize: deps.batchSize } : {}),
          ...(deps.batchesPerRun ? { batchesPerRun: deps.batchesPerRun } : {}),
          ...(deps.journeyWindow !== undefined ? { journeyWindow: deps.journeyWindow } : {}),
          ...(deps.maxQueueDelayMs !== undefined ? { maxQueueDelayMs: deps.maxQueueDelayMs } : {}),
        },
      ],
      // One run per import, ever: a finished import is not run again by a re-upload.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: WorkspaceIdAttribute, value: workspaceId }],
      staticSummary: `Import ${importId}`,
    });
  } catch (error) {
    if ((error as { name?: string }).name !== 'WorkflowExecutionAlreadyStartedError') throw error;
  }
}

// ---- progress ----

export interface ImportProgress {
  id: string;
  kind: 'csv' | 'backfill';
  status: ImportRecordRow['status'];
  file_name: string | null;
  integration_id: string | null;
  partner: string | null;
  since: string | null;
  property_id: string | null;
  error: string | null;
  /** Rows stored so far (a backfill's grow while it lists) and how each settled. */
  rows: { total: number; read: number; pending: number } & Omit<Record<RowOutcome, number>, 'pending'>;
  listing_done: boolean;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  errors_csv: string;
}

function progressOf(row: ImportRecordRow, counts: Record<RowOutcome, number>): ImportProgress {
  const settled = counts.created + counts.matched + counts.skipped + counts.failed;
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    file_name: row.file_name,
    integration_id: row.integration_id,
    partner: row.partner,
    since: row.since?.toISOString() ?? null,
    property_id: row.property_id,
    error: row.error,
    rows: {
      total: row.rows_total,
      read: settled,
      pending: counts.pending,
      created: counts.created,
      matched: counts.matched,
      skipped: counts.skipped,
      failed: counts.failed,
    },
    listing_done: row.kind === 'csv' || row.listing_done,
    created_at: row.created_at.toISOString(),
    started_at: row.started_at?.toISOString() ?? null,
    finished_at: row.finished_at?.toISOString() ?? null,
    errors_csv: `/api/v1/imports/${row.id}/errors.csv`,
  };
}

/** The workspace's import, or 404: another workspace's import is not found either. */
async function ownImport(pool: pg.Pool, workspaceId: string, id: string): Promise<ImportRecordRow> {
  const row = await getImport(pool, workspaceId, id);
  if (!row) throw new AppError('not_found', `import ${id} not found`);
  return row;
}

export async function importProgress(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<ImportProgress> {
  const row = await ownImport(pool, workspaceId, id);
  const counts = await countRows(pool, [row.id]);
  return progressOf(row, counts.get(row.id)!);
}

/** Progress with the rows not imported (skipped or failed, each with its reason), the first of them. */
export type ImportReport = ImportProgress & {
  rows_not_imported: { rows: RowView[]; next_after: number | null };
};

export async function importReport(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  limit = 100,
): Promise<ImportReport> {
  const progress = await importProgress(pool, workspaceId, id);
  const notImported = await importRows(pool, workspaceId, id, { outcomes: ['skipped', 'failed'], limit });
  return { ...progress, rows_not_imported: notImported };
}

export async function recentImports(
  pool: pg.Pool,
  workspaceId: string,
  limit: number,
): Promise<ImportProgress[]> {
  const rows = await listImports(pool, workspaceId, limit);
  const counts = await countRows(
    pool,
    rows.map((r) => r.id),
  );
  return rows.map((row) => progressOf(row, counts.get(row.id)!));
}

export interface RowView {
  row: number;
  outcome: RowOutcome;
  reason: string | null;
  details: Record<string, unknown> | null;
  lead_id: string | null;
}

/** Per-row outcomes in row order, keyset-paged by row number. */
export async function importRows(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  filter: { outcomes?: RowOutcome[]; afterRow?: number; limit: number },
): Promise<{ rows: RowView[]; next_after: number | null }> {
  await ownImport(pool, workspaceId, id);
  const rows = await listRows(pool, id, filter);
  return {
    rows: rows.map((r) => ({
      row: r.row_number,
      outcome: r.outcome,
      reason: r.reason,
      details: r.details,
      lead_id: r.lead_id,
    })),
    next_after: rows.length === filter.limit ? rows[rows.length - 1]!.row_number : null,
  };
}

/**
 * The rows to fix, as CSV: the import's own columns (so the fixed file uploads as it is) with `row` and `error`
 * first. Yields a page of lines at a time.
 */
export async function* importErrorsCsv(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): AsyncGenerator<string> {
  const row = await ownImport(pool, workspaceId, id);
  let columns = row.columns;
  let after = 0;
  let first = true;
  for (;;) {
    const page = await listRows(pool, id, { outcomes: ['failed'], afterRow: after, limit: 1000 });
    if (first) {
      // A backfill has no header of its own: the columns its records carry.
      if (columns.length === 0) columns = [...new Set(page.flatMap((r) => Object.keys(r.record)))];
      yield `${['row', 'error', ...columns].map(csvCell).join(',')}\r\n`;
      first = false;
    }
    if (page.length === 0) return;
    yield page
      .map(
        (r) =>
          `${[String(r.row_number), r.reason ?? '', ...columns.map((c) => r.record[c] ?? '')].map(csvCell).join(',')}\r\n`,
      )
      .join('');
    after = page[page.length - 1]!.row_number;
  }
}

function csvCell(value: string): string {
  // A spreadsheet would run a cell starting with = + - @ as a formula; a date or phone starting with + stays as is.
  const text = /^[=@\t\r]/.test(value) || /^[-+][^\d]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// ---- the work: one batch of rows ----

export interface BatchDeps {
  pool: pg.Pool;
  journeys: JourneyClient;
  /** Rows of different people processed side by side (default 8). */
  concurrency?: number;
  /** Called after each row (activity heartbeats). */
  onRow?: () => void;
}

export interface BatchResult {
  /** Rows taken and settled by this batch. */
  processed: number;
  elapsedMs: number;
  outcomes: Omit<Record<RowOutcome, number>, 'pending'>;
}

/** The workspace's places and the import, read once per batch. */
interface BatchContext {
  deps: BatchDeps;
  imp: ImportRecordRow;
  pipeline: Pipeline;
  verticals: Map<string, Vertical>;
  now: string;
}

/**
 * Takes the next pending rows of an import and settles each: read, checked, matched or created, its journey started
 * at its stage (or, for a new lead already leased, placed or lost, its history recorded without a run). A row's
 * people are handled in file order; different people side by side. Retried after a crash, it takes the same rows
 * again: a row settles once, a lead is created once (matching finds it), a journey takes its import event once.
 */
export async function importBatch(
  deps: BatchDeps,
  args: { importId: string; limit: number },
): Promise<BatchResult> {
  const started = Date.now();
  const imp = await loadImport(deps.pool, args.importId);
  const outcomes = { created: 0, matched: 0, skipped: 0, failed: 0 };
  if (!imp) return { processed: 0, elapsedMs: 0, outcomes };
  const rows = await claimPendingRows(deps.pool, imp.id, args.limit);
  const places = await importPlaces(deps.pool, imp.workspace_id);
  const context: BatchContext = {
    deps,
    imp,
    pipeline: places.pipeline ?? DEFAULT_PIPELINE,
    verticals: places.verticals,
    now: new Date().toISOString(),
  };
  const readings = rows.map((row) => {
    const propertyId = row.record.property_id?.trim() || imp.property_id || undefined;
    const vertical = propertyId === undefined ? 'multifamily' : places.verticals.get(propertyId);
    const read = readImportRow(row.record, {
      propertyId: imp.property_id ?? undefined,
      source: imp.partner ?? undefined,
      wonStatus: vertical === undefined ? undefined : WON_STATUS[vertical],
    });
    return { row, read };
  });
  const groups = groupByPerson(readings, ({ read }) =>
    'reading' in read ? rowIdentities(read.reading.contact) : [],
  );
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      const group = groups[next++]!;
      for (const { row, read } of group) {
        const outcome = await settle(context, row, read).catch((error: unknown) =>
          failAlone(context, row, error),
        );
        outcomes[outcome] += 1;
        deps.onRow?.();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 8, groups.length) }, worker));
  return { processed: rows.length, elapsedMs: Date.now() - started, outcomes };
}

type Settled = Exclude<RowOutcome, 'pending'>;

/** Postgres conflicts that pass on their own (serialization, deadlock, lock timeout, too many connections). */
const TRANSIENT_SQLSTATE = /^(40001|40P01|55P03|53300)$/;

/**
 * A row that breaks something unexpected fails alone, saying what broke, so the rows after it still go in. Postgres
 * or Temporal out of reach (or a passing conflict) is thrown instead: the batch is retried and its rows settle once.
 */
async function failAlone(context: BatchContext, row: ImportRowRecord, error: unknown): Promise<Settled> {
  const code = (error as { code?: unknown }).code;
  if (isUnavailable(error) || (typeof code === 'string' && TRANSIENT_SQLSTATE.test(code))) throw error;
  const message = error instanceof Error ? error.message : String(error);
  await settleRow(context.deps.pool, context.imp.id, row.row_number, {
    outcome: 'failed',
    reason: `row: could not be imported (${message.slice(0, 300)}); fix or import it again`,
    details: { error: message.slice(0, 1000) },
  });
  return 'failed';
}

async function settle(
  context: BatchContext,
  row: ImportRowRecord,
  read: ReturnType<typeof readImportRow>,
): Promise<Settled> {
  const { pool } = context.deps;
  const { imp } = context;
  const fail = async (problems: { field: string; message: string }[]): Promise<Settled> => {
    await settleRow(pool, imp.id, row.row_number, {
      outcome: 'failed',
      reason: problems.map((p) => `${p.field}: ${p.message}`).join('; '),
      details: { fields: problems },
    });
    return 'failed';
  };
  if ('problems' in read) return fail(read.problems);
  const { contact, lead } = read.reading;
  const vertical =
    contact.propertyId === undefined ? 'multifamily' : context.verticals.get(contact.propertyId);
  if (vertical === undefined) {
    return fail([
      { field: 'property_id', message: `"${contact.propertyId}" is not a property of this workspace` },
    ]);
  }
  const imported = { ...lead, importId: imp.id, row: row.row_number };
  const problems = importProblems(imported, { vertical, pipeline: context.pipeline }, context.now);
  if (problems.length > 0) return fail(problems);

  const { record: leadRecord, created } = await resolveLead(context, row, contact);
  // Asked even of a lead this row seems to have made: a person's earlier row in this batch made it first.
  const earlier = await earlierImportOf(pool, {
    workspaceId: imp.workspace_id,
    importId: imp.id,
    row: row.row_number,
    leadId: leadRecord.id,
  });
  if (earlier) {
    const reason =
      earlier.importId === imp.id
        ? `duplicate: the same lead as row ${earlier.row} of this file`
        : `already imported: import ${earlier.importId}, row ${earlier.row}`;
    await settleRow(pool, imp.id, row.row_number, {
      outcome: 'skipped',
      reason,
      details: { duplicate_of: { import_id: earlier.importId, row: earlier.row } },
      leadId: leadRecord.id,
    });
    return 'skipped';
  }
  const event: LeadEvent = {
    kind: 'imported',
    ...imported,
    eventId: `import:${imp.id}:${row.row_number}`,
    occurredAt: context.now,
    source: sourceOf(contact.source),
  };
  if (created)
    await backdateLead(pool, {
      workspaceId: imp.workspace_id,
      leadId: leadRecord.id,
      createdAt: lead.createdAt,
    });
  await startJourney(context, leadRecord, event, created && isTerminal(lead.status));
  const outcome = created ? 'created' : 'matched';
  await settleRow(pool, imp.id, row.row_number, { outcome, leadId: leadRecord.id });
  return outcome;
}

/**
 * The row's lead by the same create-or-match as every other inquiry. Whether this row made it is noted at once; a
 * row retried before that note counts the lead as its own when the lead is younger than the row's first claim.
 */
async function resolveLead(
  context: BatchContext,
  row: ImportRowRecord,
  contact: ImportRowReading['contact'],
): Promise<{ record: LeadRecord; created: boolean }> {
  const { pool } = context.deps;
  const workspaceId = context.imp.workspace_id;
  if (row.lead_id !== null) {
    const noted = await getLead(pool, workspaceId, row.lead_id);
    if (noted) return { record: noted, created: row.lead_created === true };
  }
  const { lead, matched } = await createOrMatchLead(pool, { workspaceId, ...contact });
  const created = !matched || (row.claimed_at !== null && lead.created_at >= row.claimed_at);
  await noteRowLead(pool, { importId: context.imp.id, row: row.row_number, leadId: lead.id, created });
  return { record: lead, created };
}

/**
 * A new lead's journey starts at its stage through the reducer's `imported` event; a lead already won or lost is
 * recorded, not run (the same decision, its history and projection written without a workflow). A matched lead's
 * journey takes the event as one more touch.
 */
async function startJourney(
  context: BatchContext,
  lead: LeadRecord,
  event: LeadEvent,
  recordOnly: boolean,
): Promise<void> {
  const { pool, journeys } = context.deps;
  const journeyContext = await loadJourneyContext(pool, { workspaceId: lead.workspace_id, leadId: lead.id });
  if (!recordOnly || journeyContext.seq > 0) {
    await journeys.send(
      {
        workspaceId: lead.workspace_id,
        leadId: lead.id,
        propertyId: lead.property_id ?? undefined,
        source: lead.source,
        status: lead.status,
      },
      event,
      journeyContext,
      // An imported journey yields to live leads' on the shared queue; a matched lead's running journey keeps its own.
      { background: true },
    );
    return;
  }
  const state = initialState({
    workspaceId: lead.workspace_id,
    leadId: lead.id,
    propertyId: journeyContext.propertyId,
    journey: journeyContext.journey,
    source: journeyContext.source,
    now: context.now,
    facts: journeyContext.facts,
  });
  const decision = decide(state, event, journeyContext.policy, context.now);
  const ended = decision.state;
  await recordJourneyChange(pool, {
    workspaceId: lead.workspace_id,
    leadId: lead.id,
    journey: ended.journey,
    effects: decision.effects,
    projection: {
      status: ended.status,
      statusChangedAt: ended.statusChangedAt,
      updatedAt: ended.updatedAt,
      propertyId: ended.propertyId,
      source: ended.source,
      sources: ended.sources,
      seq: ended.seq - 1,
      nextFollowUpAt: null,
    },
  });
}

// ---- the closed loop ----

/**
 * How many rows the import's next batch may take: what is left of the window of this import's journeys not yet
 * recorded, or none while a live lead would be more than `maxQueueDelayMs` late. How late, two ways: the import's
 * probe (`probe`: a tiny workflow on the journeys' queue at a live lead's priority; this look reads what the last
 * one took, or how long it has run so far, and starts the next once it is done), and the oldest task waiting on the
 * journeys' task queue (workflow or activity task: a live lead's first workflow task and its alert both wait
 * there). A delay, not a count: how many tasks a machine dispatches a second varies, how late a live lead is is the
 * promise.
 */
export async function importHeadroom(
  deps: { pool: pg.Pool; temporal: Client; journeyTaskQueue: string },
  args: {
    importId: string;
    window: number;
    maxQueueDelayMs: number;
    recordedThrough: number;
    probe?: { last?: string; next: string };
  },
): Promise<ImportHeadroom> {
  const [journeys, queueDelayMs, probe] = await Promise.all([
    unrecordedJourneys(deps.pool, args.importId, args.recordedThrough),
    taskQueueDelay(deps.temporal, deps.journeyTaskQueue),
    args.probe ? probeLateness(deps.temporal, deps.journeyTaskQueue, args.probe) : undefined,
  ]);
  const crowded =
    (queueDelayMs !== undefined && queueDelayMs > args.maxQueueDelayMs) ||
    (probe?.running === true && (probe.lateMs ?? 0) > args.maxQueueDelayMs);
  return {
    rows: crowded ? 0 : Math.max(0, args.window - journeys.unrecorded),
    unrecorded: journeys.unrecorded,
    ...(queueDelayMs !== undefined ? { queueDelayMs } : {}),
    ...(probe
      ? {
          probeId: probe.probeId,
          probeRunning: probe.running,
          ...(probe.lateMs !== undefined ? { lateMs: probe.lateMs } : {}),
        }
      : {}),
    recordedThrough: journeys.recordedThrough,
  };
}

/** A probe runs at most this long; one that never ran (no worker on the journeys' queue) is not left behind. */
const PROBE_TIMEOUT = '1 hour';

/**
 * How late the last probe says live leads are, and the probe to look at next: the last one while it still runs (its
 * lateness so far), else a new one started now (its id is the import's turn, so a retried look finds it).
 */
export async function probeLateness(
  client: Client,
  taskQueue: string,
  probe: { last?: string; next: string },
): Promise<{ lateMs?: number; running: boolean; probeId: string }> {
  let lateMs: number | undefined;
  if (probe.last) {
    const last = await client.workflow
      .getHandle(probe.last)
      .describe()
      .catch((error: unknown) => {
        // Gone (retention) is no measure; anything else is retried like any activity.
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      });
    if (last) {
      const running = last.status.name === 'RUNNING';
      lateMs = (running ? Date.now() : (last.closeTime ?? new Date()).getTime()) - last.startTime.getTime();
      if (running) return { lateMs, running, probeId: probe.last };
    }
  }
  await client.workflow.start('importProbe', {
    taskQueue,
    workflowId: probe.next,
    workflowExecutionTimeout: PROBE_TIMEOUT,
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return { ...(lateMs !== undefined ? { lateMs } : {}), running: false, probeId: probe.next };
}

const { TaskQueueType, TaskQueueKind } = temporal.api.enums.v1;

/**
 * How long the oldest task waiting on a task queue has waited (ms, the older of its workflow and activity tasks),
 * from the server's DescribeTaskQueue stats (Temporal Server 1.25 and later); undefined when the server reports
 * none, and the window alone holds the import. The server caches these stats for a few seconds (about 5 on the dev
 * server): the bound reacts that late, which is why the window, exact and immediate, holds the import between two
 * of its refreshes.
 */
export async function taskQueueDelay(client: Client, name: string): Promise<number | undefined> {
  try {
    const ages = await Promise.all(
      [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY].map(
        async (taskQueueType) => {
          const answer = await client.workflowService.describeTaskQueue({
            namespace: client.options.namespace,
            taskQueue: { name, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
            taskQueueType,
            reportStats: true,
          });
          const age = answer.stats?.approximateBacklogAge;
          if (!answer.stats) return undefined;
          return Number(age?.seconds ?? 0) * 1000 + Math.round((age?.nanos ?? 0) / 1e6);
        },
      ),
    );
    if (ages.some((age) => age === undefined)) return undefined;
    return Math.max(...(ages as number[]));
  } catch (error) {
    // Temporal out of reach is retried like any activity; a server without stats leaves the window alone.
    if (isUnavailable(error)) throw error;
    return undefined;
  }
}

// ---- the workflow's bookends ----

export async function beginImport(
  pool: pg.Pool,
  importId: string,
): Promise<{ kind: 'csv' | 'backfill'; listingDone: boolean } | undefined> {
  const imp = await loadImport(pool, importId);
  if (!imp) return undefined;
  if (imp.status === 'queued') await markImport(pool, importId, 'running');
  return { kind: imp.kind, listingDone: imp.kind === 'csv' || imp.listing_done };
}

/** Completed, or failed when something stopped it early (a partner refusing its listing), with why. */
export async function finishImport(
  pool: pg.Pool,
  args: { importId: string },
): Promise<{ status: 'completed' | 'failed'; error?: string }> {
  const imp = await loadImport(pool, args.importId);
  const error = imp?.error ?? undefined;
  await markImport(pool, args.importId, error ? 'failed' : 'completed');
  return { status: error ? 'failed' : 'completed', ...(error ? { error } : {}) };
}
