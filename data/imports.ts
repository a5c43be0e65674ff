// Imports in Postgres: the import, its stored rows and each row's outcome; the counts progress reports.
import type pg from 'pg';
import type { ImportRecord } from '../shared/imports';
import type { Pipeline, Vertical } from '../shared/lifecycle';
import { withTransaction } from './pool';

export type ImportKind = 'csv' | 'backfill';
export type ImportStatus = 'queued' | 'running' | 'completed' | 'failed';
export type RowOutcome = 'pending' | 'created' | 'matched' | 'skipped' | 'failed';
export const ROW_OUTCOMES: readonly RowOutcome[] = ['pending', 'created', 'matched', 'skipped', 'failed'];

export interface ImportRecordRow {
  id: string;
  workspace_id: string;
  kind: ImportKind;
  property_id: string | null;
  file_name: string | null;
  file_sha256: string | null;
  columns: string[];
  integration_id: string | null;
  partner: string | null;
  since: Date | null;
  backfill_cursor: string | null;
  listing_done: boolean;
  rows_total: number;
  status: ImportStatus;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface ImportRowRecord {
  row_number: number;
  record: ImportRecord;
  outcome: RowOutcome;
  reason: string | null;
  details: Record<string, unknown> | null;
  lead_id: string | null;
  lead_created: boolean | null;
  claimed_at: Date | null;
}

/** A row as the upload stores it: pending, or already failed when it cannot be read. */
export interface StoredRow {
  row: number;
  record: ImportRecord;
  failed?: { reason: string; details: Record<string, unknown> };
}

const IMPORT_COLUMNS = `id, workspace_id, kind, property_id, file_name, file_sha256, columns, integration_id, partner, since,
  backfill_cursor, listing_done, rows_total, status, error, created_at, started_at, finished_at`;

/**
 * A CSV import with all its rows, in one transaction (a half-stored file never starts). The same file (by
 * content) again answers the first import's id: nothing is stored twice.
 */
export async function createCsvImport(
  pool: pg.Pool,
  args: {
    id: string;
    workspaceId: string;
    propertyId?: string;
    fileName?: string;
    sha256: string;
    columns: string[];
    createdBy?: string;
    /** The rows in file order; a page of them at a time, so a large file is never whole in memory twice. */
    rows: AsyncIterable<StoredRow[]>;
  },
): Promise<{ id: string; duplicateOf?: undefined } | { id: string; duplicateOf: string }> {
  return withTransaction(pool, async (client) => {
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO imports (id, workspace_id, kind, property_id, file_name, file_sha256, columns, created_by)
       VALUES ($1, $2, 'csv', $3, $4, $5, $6, $7)
       ON CONFLICT (workspace_id, file_sha256) WHERE file_sha256 IS NOT NULL DO NOTHING RETURNING id`,
      [
        args.id,
        args.workspaceId,
        args.propertyId ?? null,
        args.fileName ?? null,
        args.sha256,
        args.columns,
        args.createdBy ?? null,
      ],
    );
    if (!inserted.rows[0]) {
      const { rows } = await client.query<{ id: string }>(
        'SELECT id FROM imports WHERE workspace_id = $1 AND file_sha256 = $2',
        [args.workspaceId, args.sha256],
      );
      return { id: rows[0]!.id, duplicateOf: rows[0]!.id };
    }
    let total = 0;
    for await (const page of args.rows) {
      await insertRows(client, args.id, page);
      total += page.length;
    }
    await client.query('UPDATE imports SET rows_total = $2 WHERE id = $1', [args.id, total]);
    return { id: args.id };
  });
}

async function insertRows(client: pg.PoolClient, importId: string, rows: StoredRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO import_rows (import_id, row_number, record, outcome, reason, details, settled_at)
     SELECT $1, r.row_number, r.record, CASE WHEN r.reason IS NULL THEN 'pending' ELSE 'failed' END, r.reason,
            r.details, CASE WHEN r.reason IS NULL THEN NULL ELSE now() END
       FROM unnest($2::int[], $3::jsonb[], $4::text[], $5::jsonb[]) AS r (row_number, record, reason, details)
     ON CONFLICT (import_id, row_number) DO NOTHING`,
    [
      importId,
      rows.map((r) => r.row),
      rows.map((r) => JSON.stringify(r.record)),
      rows.map((r) => r.failed?.reason ?? null),
      rows.map((r) => (r.failed ? JSON.stringify(r.failed.details) : null)),
    ],
  );
}

export async function createBackfillImport(
  pool: pg.Pool,
  args: {
    id: string;
    workspaceId: string;
    integrationId: string;
    partner: string;
    since: string;
    propertyId?: string;
    createdBy?: string;
  },
): Promise<void> {
  await pool.query(
    `INSERT INTO imports (id, workspace_id, kind, property_id, integration_id, partner, since, created_by)
     VALUES ($1, $2, 'backfill', $3, $4, $5, $6, $7)`,
    [
      args.id,
      args.workspaceId,
      args.propertyId ?? null,
      args.integrationId,
      args.partner,
      args.since,
      args.createdBy ?? null,
    ],
  );
}

/**
 * Stores one page of a partner's listing and where the listing goes on, in one transaction. A page stored already
 * (an activity retried after its commit) finds the cursor moved and stores nothing.
 */
export async function storeBackfillPage(
  pool: pg.Pool,
  args: {
    importId: string;
    from: string | null;
    records: ImportRecord[];
    next: string | null;
    done: boolean;
  },
): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{
      backfill_cursor: string | null;
      rows_total: number;
      listing_done: boolean;
    }>('SELECT backfill_cursor, rows_total, listing_done FROM imports WHERE id = $1 FOR UPDATE', [
      args.importId,
    ]);
    const current = rows[0];
    if (!current || current.listing_done || current.backfill_cursor !== args.from) return false;
    await insertRows(
      client,
      args.importId,
      args.records.map((record, i) => ({ row: current.rows_total + i + 1, record })),
    );
    await client.query(
      `UPDATE imports SET backfill_cursor = $2, rows_total = rows_total + $3, listing_done = $4 WHERE id = $1`,
      [args.importId, args.next, args.records.length, args.done],
    );
    return true;
  });
}

export async function getImport(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<ImportRecordRow | undefined> {
  const { rows } = await pool.query<ImportRecordRow>(
    `SELECT ${IMPORT_COLUMNS} FROM imports WHERE workspace_id = $1 AND id = $2`,
    [workspaceId, id],
  );
  return rows[0];
}

/** The import by id alone: for the workflow's activities, which carry no workspace. */
export async function loadImport(pool: pg.Pool, id: string): Promise<ImportRecordRow | undefined> {
  const { rows } = await pool.query<ImportRecordRow>(`SELECT ${IMPORT_COLUMNS} FROM imports WHERE id = $1`, [
    id,
  ]);
  return rows[0];
}

export async function listImports(
  pool: pg.Pool,
  workspaceId: string,
  limit: number,
): Promise<ImportRecordRow[]> {
  const { rows } = await pool.query<ImportRecordRow>(
    `SELECT ${IMPORT_COLUMNS} FROM imports WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
    [workspaceId, limit],
  );
  return rows;
}

/** Rows by outcome: what progress reports. */
export async function countRows(
  pool: pg.Pool,
  importIds: string[],
): Promise<Map<string, Record<RowOutcome, number>>> {
  const { rows } = await pool.query<{ import_id: string; outcome: RowOutcome; count: number }>(
    `SELECT import_id, outcome, count(*)::int AS count FROM import_rows WHERE import_id = ANY($1)
      GROUP BY import_id, outcome`,
    [importIds],
  );
  const counts = new Map<string, Record<RowOutcome, number>>();
  for (const id of importIds) counts.set(id, { pending: 0, created: 0, matched: 0, skipped: 0, failed: 0 });
  for (const row of rows) counts.get(row.import_id)![row.outcome] = row.count;
  return counts;
}

/** Rows of an import in row order, optionally of some outcomes, after a row number (keyset paging). */
export async function listRows(
  pool: pg.Pool,
  importId: string,
  filter: { outcomes?: RowOutcome[]; afterRow?: number; limit: number },
): Promise<ImportRowRecord[]> {
  const { rows } = await pool.query<ImportRowRecord>(
    `SELECT row_number, record, outcome, reason, details, lead_id, lead_created, claimed_at FROM import_rows
      WHERE import_id = $1 AND row_number > $2 AND ($3::text[] IS NULL OR outcome = ANY($3))
      ORDER BY row_number LIMIT $4`,
    [importId, filter.afterRow ?? 0, filter.outcomes ?? null, filter.limit],
  );
  return rows;
}

/** The next pending rows, marked as taken (the first time only: a retried batch keeps its first claim time). */
export async function claimPendingRows(
  pool: pg.Pool,
  importId: string,
  limit: number,
): Promise<ImportRowRecord[]> {
  const { rows } = await pool.query<ImportRowRecord>(
    `UPDATE import_rows r SET claimed_at = COALESCE(r.claimed_at, now())
       FROM (SELECT row_number FROM import_rows WHERE import_id = $1 AND outcome = 'pending'
              ORDER BY row_number LIMIT $2) p
      WHERE r.import_id = $1 AND r.row_number = p.row_number
      RETURNING r.row_number, r.record, r.outcome, r.reason, r.details, r.lead_id, r.lead_created, r.claimed_at`,
    [importId, limit],
  );
  return rows.sort((a, b) => a.row_number - b.row_number);
}

/**
 * Leads this import created (rows after `afterRow`) whose journey has not recorded anything yet: its imported
 * history (or a live event that came first) is the journey's first write. A lead deleted since is not waited for.
 * Also the highest row up to which every created row is recorded, so the next look skips them.
 */
export async function unrecordedJourneys(
  pool: pg.Pool,
  importId: string,
  afterRow: number,
): Promise<{ unrecorded: number; recordedThrough: number }> {
  const { rows } = await pool.query<{ unrecorded: number; first: number | null; last: number | null }>(
    `SELECT count(*) FILTER (WHERE NOT recorded)::int AS unrecorded,
            min(row_number) FILTER (WHERE NOT recorded) AS first,
            max(row_number) AS last
       FROM (SELECT r.row_number,
                    EXISTS (SELECT 1 FROM status_history h WHERE h.lead_id = r.lead_id) AS recorded
               FROM import_rows r JOIN leads l ON l.id = r.lead_id
              WHERE r.import_id = $1 AND r.row_number > $2 AND r.outcome = 'created') created`,
    [importId, afterRow],
  );
  const { unrecorded, first, last } = rows[0]!;
  return { unrecorded, recordedThrough: first !== null ? first - 1 : (last ?? afterRow) };
}

/** A row's outcome, written once: a row settled already keeps its first outcome. */
export async function settleRow(
  pool: pg.Pool,
  importId: string,
  row: number,
  outcome: {
    outcome: Exclude<RowOutcome, 'pending'>;
    reason?: string;
    details?: Record<string, unknown>;
    leadId?: string;
  },
): Promise<void> {
  await pool.query(
    `UPDATE import_rows SET outcome = $3, reason = $4, details = $5, lead_id = $6, settled_at = now()
      WHERE import_id = $1 AND row_number = $2 AND outcome = 'pending'`,
    [
      importId,
      row,
      outcome.outcome,
      outcome.reason ?? null,
      outcome.details ? JSON.stringify(outcome.details) : null,
      outcome.leadId ?? null,
    ],
  );
}

/** Where a lead was imported before: an earlier row of this import, or a row of another import of the workspace. */
export async function earlierImportOf(
  pool: pg.Pool,
  args: { workspaceId: string; importId: string; row: number; leadId: string },
): Promise<{ importId: string; row: number } | undefined> {
  const { rows } = await pool.query<{ import_id: string; row_number: number }>(
    `SELECT r.import_id, r.row_number FROM import_rows r JOIN imports i ON i.id = r.import_id
      WHERE r.lead_id = $3 AND i.workspace_id = $1 AND r.outcome IN ('created', 'matched')
        AND NOT (r.import_id = $2 AND r.row_number >= $4)
      ORDER BY (r.import_id = $2) DESC, r.row_number LIMIT 1`,
    [args.workspaceId, args.importId, args.leadId, args.row],
  );
  return rows[0] ? { importId: rows[0].import_id, row: rows[0].row_number } : undefined;
}

export async function markImport(
  pool: pg.Pool,
  id: string,
  status: Exclude<ImportStatus, 'queued'>,
  error?: string,
): Promise<void> {
  await pool.query(
    `UPDATE imports SET status = $2, error = COALESCE($3, error),
            started_at = COALESCE(started_at, now()),
            finished_at = CASE WHEN $2 IN ('completed', 'failed') THEN COALESCE(finished_at, now()) END
      WHERE id = $1`,
    [id, status, error ?? null],
  );
}

/** An imported lead's first inquiry is its original date, not the day it was imported (funnels and analytics). */
export async function backdateLead(
  pool: pg.Pool,
  args: { workspaceId: string; leadId: string; createdAt: string },
): Promise<void> {
  await pool.query(
    'UPDATE leads SET created_at = LEAST(created_at, $3) WHERE workspace_id = $1 AND id = $2',
    [args.workspaceId, args.leadId, args.createdAt],
  );
}

/** Notes the lead a row resolved to before its journey starts: a retried row knows whether it made the lead. */
export async function noteRowLead(
  pool: pg.Pool,
  args: { importId: string; row: number; leadId: string; created: boolean },
): Promise<void> {
  await pool.query(
    `UPDATE import_rows SET lead_id = $3, lead_created = $4
      WHERE import_id = $1 AND row_number = $2 AND outcome = 'pending' AND lead_id IS NULL`,
    [args.importId, args.row, args.leadId, args.created],
  );
}

/** What rows are checked against: the workspace's pipeline and each property's vertical. */
export async function importPlaces(
  pool: pg.Pool,
  workspaceId: string,
): Promise<{ pipeline: Pipeline | null; verticals: Map<string, Vertical> }> {
  const workspace = await pool.query<{ pipeline: Pipeline | null }>(
    'SELECT pipeline FROM workspaces WHERE id = $1',
    [workspaceId],
  );
  const properties = await pool.query<{ id: string; vertical: Vertical }>(
    'SELECT id, vertical FROM properties WHERE workspace_id = $1',
    [workspaceId],
  );
  return {
    pipeline: workspace.rows[0]?.pipeline ?? null,
    verticals: new Map(properties.rows.map((p) => [p.id, p.vertical])),
  };
}
