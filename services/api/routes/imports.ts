// /api/v1/imports: onboarding a property's existing leads from a CSV file or a connected partner's listing, each
// lead at the stage it reached; progress, per-row outcomes and the rows to fix (docs/imports.md).
import type { Response } from 'express';
import { z } from 'zod';
import { ROW_OUTCOMES } from '../../../data/imports';
import { AppError } from '../../../shared/errors';
import { importTemplateCsv } from '../../../shared/imports';
import {
  checkCsvImport,
  importErrorsCsv,
  importReport,
  importRows,
  recentImports,
  startBackfillImport,
  startCsvImport,
  type ImportDeps,
} from '../../../usecases/imports';
import { endpoint, reply } from '../../common/endpoints';
import { principal } from '../auth';
import { isoDate, slug, time, uuid } from '../schemas';

const CSV = 'text/csv';

const BackfillBody = z
  .object({
    integration_id: uuid.meta({ description: 'a connected HubSpot, Salesforce, ResMan or GoHighLevel' }),
    since: isoDate.meta({ description: 'leads created or changed from this date on' }),
    property_id: slug.optional().meta({ description: "default: the integration's property" }),
  })
  .strict();

const UploadQuery = z.object({
  property_id: slug.optional().meta({ description: 'the property of rows without a property_id' }),
  file_name: z.string().max(300).optional().meta({ description: 'shown with the import' }),
  dry_run: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: 'true: only the column check of the file; nothing stored or started' }),
});

const Started = z.object({
  id: z.uuid(),
  duplicate: z
    .boolean()
    .meta({ description: 'the same file was imported before: its import, and nothing new started' }),
});

const ColumnCheck = z.object({
  columns: z.array(z.object({ name: z.string(), recognized: z.boolean() })),
  rows: z.number().int(),
  readable: z.number().int(),
  problems: z
    .array(z.object({ row: z.number().int(), reason: z.string() }))
    .meta({ description: 'the first 50 rows that cannot be read, with the columns to fix' }),
});

const count = z.number().int();
const ImportProgress = z
  .object({
    id: z.uuid(),
    kind: z.enum(['csv', 'backfill']),
    status: z.enum(['queued', 'running', 'completed', 'failed']),
    file_name: z.string().nullable(),
    integration_id: z.string().nullable(),
    partner: z.string().nullable(),
    since: time.nullable(),
    property_id: z.string().nullable(),
    error: z.string().nullable().meta({ description: 'why a failed import stopped (a partner refusing)' }),
    rows: z.object({
      total: count.meta({ description: 'rows stored so far (a backfill’s grow while it lists)' }),
      read: count,
      pending: count,
      created: count,
      matched: count,
      skipped: count,
      failed: count,
    }),
    listing_done: z.boolean(),
    created_at: time,
    started_at: time.nullable(),
    finished_at: time.nullable(),
    errors_csv: z.string().meta({ description: 'path of the rows to fix' }),
  })
  .meta({ id: 'ImportProgress' });

const RowOutcome = z.object({
  row: count,
  outcome: z.enum(ROW_OUTCOMES),
  reason: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  lead_id: z.string().nullable(),
});

const ImportId = z.object({ id: uuid });

/** Answers CSV as a download named `name`. */
function csvAttachment(res: Response, name: string): void {
  res.type('text/csv; charset=utf-8').setHeader('Content-Disposition', `attachment; filename="${name}"`);
}

export function importEndpoints(deps: ImportDeps & { maxBytes: number }) {
  return [
    endpoint({
      method: 'get',
      path: '/api/v1/imports/template.csv',
      tag: 'imports',
      summary: 'The import file template: every documented column and one example row',
      permission: 'read',
      responses: { 200: { description: 'the template', csv: true } },
      handler({ res }) {
        csvAttachment(res, 'leadrelay-import-template.csv');
        res.send(importTemplateCsv());
      },
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/imports',
      tag: 'imports',
      summary:
        'Import existing leads, each at the stage it reached: a CSV file, or a backfill from a partner',
      description:
        'The CSV file as the body (`Content-Type: text/csv`; columns in docs/imports.md and the template), or JSON `{ integration_id, since }` to list a connected partner’s leads. A file that is not the documented CSV is refused whole (400 naming the columns or line), past IMPORT_MAX_BYTES with 413. The same file again answers the first import with `duplicate: true` and starts nothing. `dry_run=true` answers the column check only.',
      permission: 'update',
      query: UploadQuery,
      body: BackfillBody.optional(),
      upload: { contentType: CSV, description: 'the import file, UTF-8 CSV with a header row' },
      responses: {
        200: { description: '`dry_run=true`: the column check; nothing stored', schema: ColumnCheck },
        202: {
          description: 'the import started (or, `duplicate`, the one this file started)',
          schema: Started,
        },
        413: { description: 'the file is larger than IMPORT_MAX_BYTES' },
      },
      async handler({ query, body, req }) {
        const { workspaceId, label: createdBy } = principal(req);
        if (req.is(CSV)) {
          const file = { body: req, maxBytes: deps.maxBytes, propertyId: query.property_id };
          if (query.dry_run === 'true') return checkCsvImport(file);
          return reply(
            202,
            await startCsvImport(deps, { ...file, workspaceId, createdBy, fileName: query.file_name }),
          );
        }
        if (!body) {
          throw new AppError('validation_failed', 'invalid body: send the CSV file or a backfill', {
            fields: [
              {
                field: 'body',
                message: 'the CSV file with Content-Type: text/csv, or JSON { integration_id, since }',
              },
            ],
          });
        }
        if (query.dry_run === 'true') {
          throw new AppError('validation_failed', 'invalid query: dry_run', {
            fields: [{ field: 'dry_run', message: 'checks a CSV file; a backfill has no file to check' }],
          });
        }
        const started = await startBackfillImport(deps, {
          workspaceId,
          createdBy,
          integrationId: body.integration_id,
          since: body.since,
          propertyId: body.property_id ?? query.property_id,
        });
        return reply(202, started);
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/imports',
      tag: 'imports',
      summary: "The workspace's imports, newest first, each with its progress",
      permission: 'read',
      query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      responses: {
        200: { description: 'imports', schema: z.object({ imports: z.array(ImportProgress) }) },
      },
      handler: async ({ query, req }) => ({
        imports: await recentImports(deps.pool, principal(req).workspaceId, query.limit),
      }),
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/imports/:id',
      tag: 'imports',
      summary: "An import's progress: rows read, created, matched, skipped and failed, with each reason",
      description:
        '`rows_not_imported` holds the first 100 skipped and failed rows with their reasons; `next_after` pages on through `GET /api/v1/imports/{id}/rows?outcome=skipped,failed&after=`.',
      permission: 'read',
      params: ImportId,
      responses: {
        200: {
          description: 'progress',
          schema: ImportProgress.extend({
            rows_not_imported: z.object({ rows: z.array(RowOutcome), next_after: count.nullable() }),
          }),
        },
      },
      handler: ({ params, req }) => importReport(deps.pool, principal(req).workspaceId, params.id),
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/imports/:id/rows',
      tag: 'imports',
      summary: 'Per-row outcomes in row order, with the reason of each skipped or failed row',
      permission: 'read',
      params: ImportId,
      query: z.object({
        outcome: z
          .string()
          .transform((value) => value.split(',').filter(Boolean))
          .pipe(z.array(z.enum(ROW_OUTCOMES)).min(1))
          .optional()
          .meta({ description: `comma-separated: ${ROW_OUTCOMES.join(', ')}` }),
        after: z.coerce
          .number()
          .int()
          .min(0)
          .max(2_147_483_647) // a row number is a Postgres integer: larger would fail the cast, a 500
          .optional()
          .meta({ description: 'rows after this row number' }),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      responses: {
        200: {
          description: 'a page of rows; `next_after` asks for the next',
          schema: z.object({ rows: z.array(RowOutcome), next_after: count.nullable() }),
        },
      },
      handler: ({ params, query, req }) =>
        importRows(deps.pool, principal(req).workspaceId, params.id, {
          outcomes: query.outcome,
          afterRow: query.after,
          limit: query.limit,
        }),
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/imports/:id/errors.csv',
      tag: 'imports',
      summary:
        'The rows to fix: `row`, `error`, then the file’s own columns, so the fixed file uploads as it is',
      permission: 'read',
      params: ImportId,
      responses: { 200: { description: 'the failed rows', csv: true } },
      async handler({ params, req, res }) {
        const lines = importErrorsCsv(deps.pool, principal(req).workspaceId, params.id);
        // The first page is read before answering: an unknown import is still a 404.
        const first = await lines.next();
        csvAttachment(res, `import-${params.id}-errors.csv`);
        if (!first.done) res.write(first.value);
        try {
          for await (const page of lines) res.write(page);
          res.end();
        } catch (error) {
          // The answer has begun: a cut-off download, not a JSON error after CSV lines.
          res.destroy(error as Error);
        }
      },
    }),
  ];
}
