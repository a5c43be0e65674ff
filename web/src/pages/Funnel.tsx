// Seed 004 sections 4.2 and 4.3: the funnel with stage rates, and performance per property.
import { useMemo, useState } from 'react';
import { count, daysAgo, label, money, percent, plural } from '../format';
import { useDebounced, useResource } from '../hooks';
import { RangePicker } from '../RangePicker';
import { useSession } from '../session';
import type { ConversionAnalytics, FunnelAnswer, Property } from '../types';
import { Empty, Loaded, PageHeader, Section, TableWrap } from '../ui';

const STAGE_LABEL: Record<string, string> = { new: 'Leads received', won: 'Won (leased or placed)' };

function FunnelBars({ funnel }: { funnel: FunnelAnswer }) {
  const top = Math.max(1, funnel.stages[0]?.count ?? 0);
  return (
    <ol className="funnel" aria-label="Funnel stages">
      {funnel.stages.map((stage, index) => (
        <li key={stage.stage} className="funnel-stage" data-stage={stage.stage}>
          <div className="funnel-label">
            <span>{STAGE_LABEL[stage.stage] ?? label(stage.stage)}</span>
            <span className="funnel-numbers">
              <strong>{count(stage.count)}</strong>
              {index > 0 ? (
                <span className="muted">
                  {' '}
                  {percent(stage.rate_from_start)} of leads · {percent(stage.conversion_rate)} of previous
                </span>
              ) : null}
            </span>
          </div>
          <div
            className="bar"
            role="meter"
            aria-valuemin={0}
            aria-valuemax={top}
            aria-valuenow={stage.count}
            aria-label={`${STAGE_LABEL[stage.stage] ?? label(stage.stage)}: ${stage.count}`}
          >
            <span style={{ width: `${(stage.count / top) * 100}%` }} />
          </div>
        </li>
      ))}
    </ol>
  );
}

interface Row {
  key: string;
  name: string;
  leads: number;
  won: number;
  conversions: number;
  rate: number | null;
  revenue: number;
}

type SortKey = 'name' | 'leads' | 'won' | 'conversions' | 'rate' | 'revenue';

const COLUMNS: { key: SortKey; label: string; numeric?: boolean }[] = [
  { key: 'name', label: 'Property' },
  { key: 'leads', label: 'Leads', numeric: true },
  { key: 'won', label: 'Won', numeric: true },
  { key: 'conversions', label: 'Conversions', numeric: true },
  { key: 'rate', label: 'Conv. rate', numeric: true },
  { key: 'revenue', label: 'Revenue', numeric: true },
];

function PerformanceGrid({ rows, total }: { rows: Row[]; total: Row }) {
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({
    key: 'revenue',
    descending: true,
  });
  const sorted = useMemo(() => {
    const copy = [...rows];
    copy.sort((a, b) => {
      const x = a[sort.key] ?? -1;
      const y = b[sort.key] ?? -1;
      const order = typeof x === 'string' ? x.localeCompare(String(y)) : (x as number) - (y as number);
      return sort.descending ? -order : order;
    });
    return copy;
  }, [rows, sort]);
  const cells = (row: Row) => [
    row.name,
    count(row.leads),
    count(row.won),
    count(row.conversions),
    percent(row.rate),
    money(row.revenue, 'USD', true),
  ];
  return (
    <TableWrap label="Performance by property">
      <table className="table" data-testid="performance-grid">
        <thead>
          <tr>
            {COLUMNS.map((column) => (
              <th
                key={column.key}
                scope="col"
                className={column.numeric ? 'num' : undefined}
                aria-sort={
                  sort.key === column.key ? (sort.descending ? 'descending' : 'ascending') : undefined
                }
              >
                <button
                  type="button"
                  className="sort"
                  onClick={() =>
                    setSort((current) => ({
                      key: column.key,
                      descending: current.key === column.key ? !current.descending : column.key !== 'name',
                    }))
                  }
                >
                  {column.label}
                  <span aria-hidden="true">
                    {sort.key === column.key ? (sort.descending ? ' ▼' : ' ▲') : ''}
                  </span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => (
            <tr key={row.key}>
              {cells(row).map((cell, i) =>
                i === 0 ? (
                  <th scope="row" key={i}>
                    {cell}
                  </th>
                ) : (
                  <td key={i} className="num">
                    {cell}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            {cells(total).map((cell, i) =>
              i === 0 ? (
                <th scope="row" key={i}>
                  {cell}
                </th>
              ) : (
                <td key={i} className="num">
                  {cell}
                </td>
              ),
            )}
          </tr>
        </tfoot>
      </table>
    </TableWrap>
  );
}

export function Funnel() {
  const { api, workspaceId } = useSession();
  const [range, setRange] = useState({ from: daysAgo(89), to: daysAgo(0) });
  const [propertyId, setPropertyId] = useState('');
  const [sourceInput, setSourceInput] = useState('');
  const source = useDebounced(sourceInput.trim(), 600);
  const properties = useResource(() => api.cached<{ properties: Property[] }>('/properties'), []);
  const filters = { from_date: range.from, to_date: range.to, property_id: propertyId, source };
  const funnel = useResource(
    (signal) => api.get<FunnelAnswer>('/analytics/funnel', filters, signal),
    [range.from, range.to, propertyId, source],
  );
  const byProperty = useResource(
    (signal) =>
      Promise.all([
        api.get<FunnelAnswer>(
          '/analytics/funnel',
          { ...filters, property_id: undefined, group_by: 'property' },
          signal,
        ),
        api.get<ConversionAnalytics>(
          '/conversions/analytics',
          { from_date: range.from, to_date: range.to },
          signal,
        ),
      ]),
    [range.from, range.to, source],
  );
  const names = new Map((properties.data?.properties ?? []).map((p) => [p.property_id, p.name]));

  return (
    <>
      <PageHeader
        title="Funnel"
        subtitle="How far the leads received in the range got."
        actions={<RangePicker value={range} onChange={setRange} />}
      />
      <div className="filters" role="group" aria-label="Funnel filters">
        <label>
          Property
          <select value={propertyId} onChange={(event) => setPropertyId(event.target.value)}>
            <option value="">All properties</option>
            {(properties.data?.properties ?? []).map((p) => (
              <option key={p.property_id} value={p.property_id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Source
          <input
            type="search"
            value={sourceInput}
            placeholder="e.g. website, apfm"
            onChange={(event) => setSourceInput(event.target.value)}
          />
        </label>
      </div>
      <Section title="Conversion funnel">
        <Loaded
          resource={funnel}
          isEmpty={(data) => data.total_leads === 0}
          empty={<Empty title="No leads in this range.">Widen the range or clear the filters.</Empty>}
        >
          {(data) => (
            <>
              <FunnelBars funnel={data} />
              <p className="muted">
                {plural(data.total_leads, 'lead')} · won {count(data.won.leased + data.won.placed)} · lost{' '}
                {count(data.lost)}
              </p>
            </>
          )}
        </Loaded>
      </Section>
      <Section title="Performance by property">
        <Loaded
          resource={byProperty}
          isEmpty={([f, c]) => f.total_leads === 0 && c.summary.total_conversions === 0}
          empty={<Empty title="Nothing to compare in this range." />}
        >
          {([grouped, conversions]) => {
            const keys = new Set([
              ...grouped.groups.map((g) => g.key),
              ...conversions.by_property.map((p) => p.property_id),
            ]);
            const rows: Row[] = [...keys].map((key) => {
              const group = grouped.groups.find((g) => g.key === key);
              const conv = conversions.by_property.find((p) => p.property_id === key);
              const leads = group?.total_leads ?? 0;
              const converted = conv?.conversions ?? 0;
              return {
                key,
                name: ['', '(none)', 'none', 'null'].includes(key) ? 'No property' : (names.get(key) ?? key),
                leads,
                won: (group?.won.leased ?? 0) + (group?.won.placed ?? 0),
                conversions: converted,
                rate: leads > 0 ? (converted / leads) * 100 : null,
                revenue: conv?.total_value ?? 0,
              };
            });
            const own = conversions.by_workspace.find((w) => w.workspace_id === workspaceId);
            const total: Row = {
              key: 'total',
              name: `Workspace ${workspaceId}`,
              leads: grouped.total_leads,
              won: grouped.won.leased + grouped.won.placed,
              conversions: own?.conversions ?? conversions.summary.total_conversions,
              rate: own?.conversion_rate ?? conversions.summary.conversion_rate,
              revenue: own?.total_value ?? conversions.summary.total_value,
            };
            return <PerformanceGrid rows={rows} total={total} />;
          }}
        </Loaded>
      </Section>
    </>
  );
}
