// One import as it runs: rows read, created, matched, skipped and failed, refreshed until it is done, the rows that
// did not go in with their reasons, and errors.csv (the rows to fix, ready to upload again).
import { useEffect } from 'react';
import { count, dateTime, label } from '../format';
import { useResource } from '../hooks';
import { Link, useLocation } from '../router';
import { useSession } from '../session';
import type { ImportProgress, ImportRowOutcome } from '../types';
import { Badge, Empty, Loaded, PageHeader, Section, DataTable, Tile } from '../ui';
import { importTone } from './Imports';

const REFRESH_MS = 2000;

export function ImportDetail({ id }: { id: string }) {
  const { api } = useSession();
  const { search } = useLocation();
  const progress = useResource((signal) => api.get<ImportProgress>(`/imports/${id}`, {}, signal), [id]);
  const rows = useResource(
    (signal) =>
      api.get<{ rows: ImportRowOutcome[] }>(
        `/imports/${id}/rows`,
        { outcome: 'failed,skipped', limit: 200 },
        signal,
      ),
    [id],
  );
  const running = progress.data ? !['completed', 'failed'].includes(progress.data.status) : true;
  // Live progress: asked again every two seconds while the import runs (rows settle in batches).
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      progress.reload();
      rows.reload();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [running, progress.reload, rows.reload]);

  return (
    <>
      <PageHeader
        title="Import"
        subtitle={<Link to="/imports">All imports</Link>}
        actions={
          <button
            type="button"
            className="button"
            onClick={() => void api.download(`/imports/${id}/errors.csv`, {}, `import-${id}-errors.csv`)}
          >
            Download errors.csv
          </button>
        }
      />
      {search.get('duplicate') ? (
        <div className="form-success" role="status">
          This file was imported before: nothing new was started. Its import is shown below.
        </div>
      ) : null}
      <Loaded resource={progress}>
        {(imp) => {
          const r = imp.rows;
          const share = r.total > 0 ? Math.round((100 * r.read) / r.total) : 0;
          return (
            <Section
              title={imp.kind === 'csv' ? (imp.file_name ?? 'CSV file') : `${label(imp.partner)} backfill`}
              actions={<Badge tone={importTone(imp.status)}>{imp.status}</Badge>}
            >
              <progress
                max={Math.max(1, r.total)}
                value={r.read}
                aria-label="Rows read"
                data-testid="import-progress"
              >
                {share}%
              </progress>
              <p className="muted small" role="status" aria-live="polite">
                {count(r.read)} of {count(r.total)} rows read
                {imp.kind === 'backfill' && !imp.listing_done ? ' (still listing the partner’s leads)' : ''}
                {imp.finished_at ? `; finished ${dateTime(imp.finished_at)}` : ''}
              </p>
              {imp.error ? (
                <div className="form-error" role="alert">
                  {imp.error}
                </div>
              ) : null}
              <div className="tiles">
                <Tile label="Created" value={count(r.created)} hint="new leads, journeys at their stage" />
                <Tile label="Matched" value={count(r.matched)} hint="already here: one more touch" />
                <Tile label="Skipped" value={count(r.skipped)} hint="duplicates, imported before" />
                <Tile label="Failed" value={count(r.failed)} hint="in errors.csv, with the reason" />
              </div>
            </Section>
          );
        }}
      </Loaded>
      <Section title="Rows not imported">
        <Loaded
          resource={rows}
          isEmpty={(data) => data.rows.length === 0}
          empty={<Empty title="Every row read so far went in." />}
        >
          {(data) => (
            <DataTable
              label="Rows not imported"
              testId="import-rows"
              rows={data.rows}
              rowKey={(row) => row.row}
              columns={[
                { header: 'Row', rowHeader: true, cell: (row) => row.row },
                {
                  header: 'Outcome',
                  cell: (row) => (
                    <Badge tone={row.outcome === 'failed' ? 'bad' : 'muted'}>{row.outcome}</Badge>
                  ),
                },
                {
                  header: 'Reason',
                  cell: (row) => row.reason ?? '—',
                  cellProps: () => ({ className: 'break' }),
                },
                {
                  header: 'Lead',
                  cell: (row) => (row.lead_id ? <Link to={`/leads/${row.lead_id}`}>lead</Link> : '—'),
                },
              ]}
            />
          )}
        </Loaded>
      </Section>
    </>
  );
}
