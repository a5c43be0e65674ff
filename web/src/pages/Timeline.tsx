// Seed 004 section 4.5: conversions over time, filtered by workspace, type, property and dates, with drill-down
// to the conversions of a period and CSV export.
import { ExportButtons } from '../ExportButtons';
import { useMemo, useState } from 'react';
import { toCsv } from '../../../shared/csv';
import { LineChart, type Point } from '../Chart';
import { CONVERSION_TYPES, count, dateTime, daysAgo, label, money, plural, shortId } from '../format';
import { useResource } from '../hooks';
import { RangePicker } from '../RangePicker';
import { Link } from '../router';
import { useSession } from '../session';
import type { Bucket, Conversion, ConversionAnalytics, Property } from '../types';
import { Empty, ErrorState, Loaded, PageHeader, Section, DataTable } from '../ui';

type Grain = 'daily' | 'weekly' | 'monthly';

const DAY = 86_400_000;
const toUtc = (day: string) =>
  Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)));
const fromUtc = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const shortDay = (day: string) =>
  new Date(toUtc(day)).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });

interface Period {
  key: string;
  label: string;
  from: string;
  to: string;
}

/** Every period of the range, so days without conversions show as zero instead of vanishing. */
function periods(grain: Grain, from: string, to: string): Period[] {
  const out: Period[] = [];
  const end = toUtc(to);
  if (grain === 'daily') {
    for (let t = toUtc(from); t <= end && out.length < 1000; t += DAY) {
      const day = fromUtc(t);
      out.push({ key: day, label: shortDay(day), from: day, to: day });
    }
  } else if (grain === 'weekly') {
    const start = toUtc(from);
    const monday = start - ((new Date(start).getUTCDay() + 6) % 7) * DAY;
    for (let t = monday; t <= end && out.length < 1000; t += 7 * DAY) {
      const day = fromUtc(t);
      out.push({ key: day, label: shortDay(day), from: day, to: fromUtc(t + 6 * DAY) });
    }
  } else {
    let year = Number(from.slice(0, 4));
    let month = Number(from.slice(5, 7));
    while (Date.UTC(year, month - 1, 1) <= end && out.length < 1000) {
      const key = `${year}-${String(month).padStart(2, '0')}`;
      out.push({
        key,
        label: new Date(Date.UTC(year, month - 1, 1)).toLocaleDateString('en-US', {
          month: 'short',
          year: 'numeric',
          timeZone: 'UTC',
        }),
        from: `${key}-01`,
        to: fromUtc(Date.UTC(year, month, 0)),
      });
      month += 1;
      if (month > 12) {
        month = 1;
        year += 1;
      }
    }
  }
  return out;
}

function buckets(data: ConversionAnalytics, grain: Grain): Map<string, Bucket> {
  if (grain === 'daily') return new Map(data.trends.daily.map((b) => [b.date, b]));
  if (grain === 'weekly') return new Map(data.trends.weekly.map((b) => [b.week_start, b]));
  return new Map(data.trends.monthly.map((b) => [b.month.slice(0, 7), b]));
}

/** The drill-down's rows as CSV, escaped as the api's own CSV answers (formulas inert). */
const conversionsCsv = (rows: Conversion[]): string =>
  toCsv({
    name: 'conversions',
    columns: [
      'id',
      'lead_id',
      'conversion_type',
      'conversion_value',
      'currency',
      'converted_by',
      'converted_at',
      'property_id',
    ],
    rows: rows as unknown as Record<string, unknown>[],
  });

function Drilldown({
  period,
  filters,
}: {
  period: Period;
  filters: Record<string, string | string[] | undefined>;
}) {
  const { api } = useSession();
  const list = useResource(
    (signal) =>
      api.get<{ conversions: Conversion[]; total_count: number }>(
        '/conversions',
        { ...filters, from_date: period.from, to_date: period.to, limit: 200 },
        signal,
      ),
    [period.key, JSON.stringify(filters)],
  );
  const exportRows = (rows: Conversion[]) => {
    const url = URL.createObjectURL(new Blob([conversionsCsv(rows)], { type: 'text/csv' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `conversions-${period.from}-to-${period.to}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <Section
      title={`Conversions ${period.from === period.to ? `on ${period.from}` : `from ${period.from} to ${period.to}`}`}
      id="drilldown"
      actions={
        list.data && list.data.conversions.length > 0 ? (
          <button type="button" className="button small" onClick={() => exportRows(list.data!.conversions)}>
            Export these to CSV
          </button>
        ) : null
      }
    >
      <Loaded
        resource={list}
        isEmpty={(data) => data.conversions.length === 0}
        empty={<Empty title="No conversions in this period." />}
      >
        {(data) => (
          <DataTable
            label="Conversions of the selected period"
            testId="drilldown"
            rows={data.conversions}
            rowKey={(c) => c.id}
            columns={[
              { header: 'When', cell: (c) => dateTime(c.converted_at) },
              {
                header: 'Lead',
                cell: (c) => (
                  <Link to={`/leads/${c.lead_id}`} className="mono">
                    {shortId(c.lead_id)}
                  </Link>
                ),
              },
              { header: 'Type', cell: (c) => label(c.conversion_type) },
              { header: 'Value', numeric: true, cell: (c) => money(c.conversion_value, c.currency) },
              { header: 'By', cell: (c) => c.converted_by },
            ]}
          >
            {data.total_count > data.conversions.length ? (
              <p className="muted">
                Showing {count(data.conversions.length)} of {count(data.total_count)}.
              </p>
            ) : null}
          </DataTable>
        )}
      </Loaded>
    </Section>
  );
}

export function Timeline() {
  const { api, workspaceId } = useSession();
  const [range, setRange] = useState({ from: daysAgo(29), to: daysAgo(0) });
  const [types, setTypes] = useState<string[]>([]);
  const [propertyId, setPropertyId] = useState('');
  const [grain, setGrain] = useState<Grain>('daily');
  const [metric, setMetric] = useState<'conversions' | 'total_value'>('conversions');
  const [selected, setSelected] = useState<Period>();
  const [exporting, setExporting] = useState<unknown>();
  const properties = useResource(() => api.cached<{ properties: Property[] }>('/properties'), []);
  const filters = {
    workspace_id: workspaceId,
    conversion_type: types.length > 0 ? types : undefined,
    property_id: propertyId || undefined,
  };
  const analytics = useResource(
    (signal) =>
      api.get<ConversionAnalytics>(
        '/conversions/analytics',
        { ...filters, from_date: range.from, to_date: range.to },
        signal,
      ),
    [range.from, range.to, types.join(','), propertyId],
  );
  const all = useMemo(() => periods(grain, range.from, range.to), [grain, range.from, range.to]);
  const points: Point[] = useMemo(() => {
    if (!analytics.data) return [];
    const found = buckets(analytics.data, grain);
    return all.map((period) => {
      const bucket = found.get(period.key);
      const conversions = bucket?.conversions ?? 0;
      const value = bucket?.total_value ?? 0;
      return {
        key: period.key,
        label: period.label,
        value: metric === 'conversions' ? conversions : value,
        description: `${period.label}${grain === 'weekly' ? ' (week)' : ''}: ${plural(conversions, 'conversion')}, ${money(value)}`,
      };
    });
  }, [analytics.data, all, grain, metric]);

  const toggleType = (type: string) =>
    setTypes((current) => (current.includes(type) ? current.filter((t) => t !== type) : [...current, type]));

  const exportCsv = async () => {
    setExporting(undefined);
    try {
      await api.download(
        '/conversions/analytics',
        { ...filters, from_date: range.from, to_date: range.to },
        `conversion-analytics-${range.from}-to-${range.to}.csv`,
      );
    } catch (error) {
      setExporting(error);
    }
  };

  return (
    <>
      <PageHeader
        title="Conversion timeline"
        subtitle="Pick a point (click, or arrow keys and Enter) to see that period's conversions."
        actions={
          <>
            <button type="button" className="button" onClick={() => void exportCsv()}>
              Export CSV
            </button>
            <ExportButtons
              path="/conversions"
              query={{ ...filters, from_date: range.from, to_date: range.to }}
              name={`conversions-${range.from}-to-${range.to}`}
              what="conversions"
            />
          </>
        }
      />
      {exporting ? <ErrorState error={exporting} /> : null}
      <div className="filters" role="group" aria-label="Timeline filters">
        <label>
          Workspace
          <select value={workspaceId} disabled aria-describedby="workspace-note">
            <option value={workspaceId}>{workspaceId}</option>
          </select>
          <span id="workspace-note" className="visually-hidden">
            An API key reads its own workspace only.
          </span>
        </label>
        <label>
          Property
          <select
            value={propertyId}
            onChange={(event) => {
              setPropertyId(event.target.value);
              setSelected(undefined);
            }}
          >
            <option value="">All properties</option>
            {(properties.data?.properties ?? []).map((p) => (
              <option key={p.property_id} value={p.property_id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Period
          <select
            value={grain}
            onChange={(event) => {
              setGrain(event.target.value as Grain);
              setSelected(undefined);
            }}
          >
            <option value="daily">Daily</option>
            <option value="weekly">Weekly</option>
            <option value="monthly">Monthly</option>
          </select>
        </label>
        <label>
          Show
          <select value={metric} onChange={(event) => setMetric(event.target.value as typeof metric)}>
            <option value="conversions">Number of conversions</option>
            <option value="total_value">Value</option>
          </select>
        </label>
        <RangePicker
          value={range}
          onChange={(next) => {
            setRange(next);
            setSelected(undefined);
          }}
        />
      </div>
      <fieldset className="chips" aria-label="Conversion types">
        <legend>Types {types.length === 0 ? <span className="muted">(all)</span> : null}</legend>
        {CONVERSION_TYPES.map((type) => (
          <label key={type} className={`chip${types.includes(type) ? ' on' : ''}`}>
            <input type="checkbox" checked={types.includes(type)} onChange={() => toggleType(type)} />
            {label(type)}
          </label>
        ))}
      </fieldset>
      <Section title="Conversions over time">
        <Loaded
          resource={analytics}
          isEmpty={(data) => data.summary.total_conversions === 0}
          empty={
            <Empty title="No conversions match these filters.">Try a longer range or fewer filters.</Empty>
          }
        >
          {(data) => (
            <>
              <p className="muted">
                {plural(data.summary.total_conversions, 'conversion')} worth {money(data.summary.total_value)}{' '}
                (days in {data.timezone})
              </p>
              <LineChart
                title={`${metric === 'conversions' ? 'Conversions' : 'Conversion value'} per ${grain === 'daily' ? 'day' : grain === 'weekly' ? 'week' : 'month'}`}
                points={points}
                selected={selected?.key}
                integer={metric === 'conversions'}
                formatValue={(v) => (metric === 'conversions' ? count(v) : money(v, 'USD', true))}
                onSelect={(point) => setSelected(all.find((p) => p.key === point.key))}
              />
            </>
          )}
        </Loaded>
      </Section>
      {selected ? <Drilldown period={selected} filters={filters} /> : null}
    </>
  );
}
