// Onboarding imports: upload a CSV of existing leads (its columns checked before anything starts) or backfill from
// a connected CRM or PMS, and the imports so far with their progress.
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api';
import { count, dateTime, label } from '../format';
import { useResource } from '../hooks';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import type { ImportCheck, ImportProgress, Integration, Property } from '../types';
import { Badge, Empty, Loaded, PageHeader, Section, DataTable, errorMessage } from '../ui';

/** Partners whose adapter can list leads for a backfill. */
const BACKFILL_PARTNERS = ['hubspot', 'salesforce', 'resman', 'gohighlevel'];

export function importTone(status: ImportProgress['status']): 'good' | 'bad' | 'info' | 'muted' {
  return status === 'completed'
    ? 'good'
    : status === 'failed'
      ? 'bad'
      : status === 'running'
        ? 'info'
        : 'muted';
}

function ColumnCheck({ check }: { check: ImportCheck }) {
  return (
    <div className="import-check" data-testid="column-check">
      <p>
        {count(check.rows)} rows; {count(check.readable)} readable
        {check.rows > check.readable
          ? `, ${count(check.rows - check.readable)} to fix (listed in errors.csv)`
          : ''}
        .
      </p>
      <ul className="tags" aria-label="Columns">
        {check.columns.map((column) => (
          <li key={column.name} className={`tag ${column.recognized ? '' : 'tone-bad'}`}>
            {column.name}
            {column.recognized ? '' : ' (unknown)'}
          </li>
        ))}
      </ul>
      {check.problems.length > 0 ? (
        <details>
          <summary>First rows to fix</summary>
          <ul className="small">
            {check.problems.map((p) => (
              <li key={p.row}>
                Row {p.row}: {p.reason}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}

function FileImport({ properties }: { properties: Property[] }) {
  const { api } = useSession();
  const [file, setFile] = useState<File | undefined>();
  const [propertyId, setPropertyId] = useState('');
  const [check, setCheck] = useState<ImportCheck | undefined>();
  const [error, setError] = useState<ApiError | Error | undefined>();
  const [busy, setBusy] = useState(false);
  const query = { property_id: propertyId || undefined, file_name: file?.name };

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  const checkColumns = () =>
    run(async () => {
      if (!file) return;
      setCheck(await api.upload<ImportCheck>('/imports', file, { ...query, dry_run: 'true' }));
    });
  const start = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      if (!file) return;
      const started = await api.upload<{ id: string; duplicate?: boolean }>('/imports', file, query);
      navigate(`/imports/${started.id}${started.duplicate ? '?duplicate=1' : ''}`);
    });
  };
  const fields = error instanceof ApiError ? error.fields : [];

  return (
    <form onSubmit={start} aria-describedby="file-help">
      <p id="file-help" className="muted">
        One row per lead with its stage and dates.{' '}
        <button
          type="button"
          className="link-button"
          onClick={() => void api.download('/imports/template.csv', {}, 'leadrelay-import-template.csv')}
        >
          Download the template
        </button>{' '}
        for the columns. Nothing is sent to partners or prospects for the past.
      </p>
      <div className="field">
        <label htmlFor="import-file">CSV file</label>
        <input
          id="import-file"
          type="file"
          accept=".csv,text/csv"
          onChange={(e) => {
            setFile(e.target.files?.[0]);
            setCheck(undefined);
            setError(undefined);
          }}
        />
      </div>
      <div className="field">
        <label htmlFor="import-property">Property of rows without property_id</label>
        <select id="import-property" value={propertyId} onChange={(e) => setPropertyId(e.target.value)}>
          <option value="">None</option>
          {properties.map((p) => (
            <option key={p.property_id} value={p.property_id}>
              {p.name}
            </option>
          ))}
        </select>
      </div>
      {check ? <ColumnCheck check={check} /> : null}
      {error ? (
        <div className="form-error" role="alert">
          {errorMessage(error)}
          {fields.length > 0 ? (
            <ul>
              {fields.map((f) => (
                <li key={f.field}>
                  <code>{f.field}</code>: {f.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <div className="form-actions">
        <button type="button" className="button" disabled={!file || busy} onClick={() => void checkColumns()}>
          Check columns
        </button>
        <button type="submit" className="button primary" disabled={!file || !check || busy}>
          Start import
        </button>
      </div>
    </form>
  );
}

function Backfill({ integrations }: { integrations: Integration[] }) {
  const { api } = useSession();
  const able = integrations.filter((i) => BACKFILL_PARTNERS.includes(i.partner));
  const [integrationId, setIntegrationId] = useState(able[0]?.id ?? '');
  const [since, setSince] = useState(() => new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10));
  const [error, setError] = useState<unknown>();
  if (able.length === 0) {
    return (
      <Empty title="No connected CRM or PMS that can list its leads.">
        Connect HubSpot, Salesforce, ResMan or GoHighLevel under <Link to="/integrations">Integrations</Link>.
      </Empty>
    );
  }
  const start = (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    api
      .request<{ id: string }>('/imports', {
        method: 'POST',
        body: { integration_id: integrationId, since: new Date(since).toISOString() },
      })
      .then((started) => navigate(`/imports/${started.id}`), setError);
  };
  return (
    <form onSubmit={start}>
      <div className="field">
        <label htmlFor="backfill-integration">Integration</label>
        <select
          id="backfill-integration"
          value={integrationId}
          onChange={(e) => setIntegrationId(e.target.value)}
        >
          {able.map((i) => (
            <option key={i.id} value={i.id}>
              {i.name} ({label(i.partner)})
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="backfill-since">Leads changed since</label>
        <input
          id="backfill-since"
          type="date"
          value={since}
          onChange={(e) => setSince(e.target.value)}
          required
        />
      </div>
      {error ? (
        <div className="form-error" role="alert">
          {errorMessage(error)}
        </div>
      ) : null}
      <div className="form-actions">
        <button type="submit" className="button primary">
          Start backfill
        </button>
      </div>
    </form>
  );
}

export function Imports() {
  const { api, can } = useSession();
  const imports = useResource((signal) => api.get<{ imports: ImportProgress[] }>('/imports', {}, signal), []);
  const properties = useResource(
    (signal) => api.get<{ properties: Property[] }>('/properties', {}, signal),
    [],
  );
  const integrations = useResource(
    (signal) =>
      can('admin')
        ? api.get<{ integrations: Integration[] }>('/integrations', {}, signal)
        : Promise.resolve({ integrations: [] }),
    [],
  );
  return (
    <>
      <PageHeader
        title="Imports"
        subtitle="Bring a property's existing leads in, each at the stage it has reached."
        actions={
          can('update') ? null : <Badge tone="muted">Read only: importing needs the update permission</Badge>
        }
      />
      {can('update') ? (
        <Section title="Import a file">
          <FileImport properties={properties.data?.properties ?? []} />
        </Section>
      ) : null}
      {can('admin') ? (
        <Section title="Backfill from a partner">
          <Loaded resource={integrations}>{(data) => <Backfill integrations={data.integrations} />}</Loaded>
        </Section>
      ) : null}
      <Section title="Imports so far">
        <Loaded
          resource={imports}
          isEmpty={(data) => data.imports.length === 0}
          empty={<Empty title="No imports yet." />}
        >
          {(data) => (
            <DataTable
              label="Imports"
              testId="imports-table"
              rows={data.imports}
              rowKey={(imp) => imp.id}
              columns={[
                {
                  header: 'Started',
                  rowHeader: true,
                  cell: (imp) => <Link to={`/imports/${imp.id}`}>{dateTime(imp.created_at)}</Link>,
                },
                {
                  header: 'From',
                  cell: (imp) =>
                    imp.kind === 'csv' ? (imp.file_name ?? 'CSV file') : `${label(imp.partner)} backfill`,
                },
                {
                  header: 'Status',
                  cell: (imp) => <Badge tone={importTone(imp.status)}>{imp.status}</Badge>,
                },
                { header: 'Rows', cell: (imp) => count(imp.rows.total) },
                { header: 'Created', cell: (imp) => count(imp.rows.created) },
                { header: 'Matched', cell: (imp) => count(imp.rows.matched) },
                { header: 'Skipped', cell: (imp) => count(imp.rows.skipped) },
                { header: 'Failed', cell: (imp) => count(imp.rows.failed) },
              ]}
            />
          )}
        </Loaded>
      </Section>
    </>
  );
}
