// Seed 004 section 4.6: a lead's custom metadata as people read it: scores as bars, lists as chips, dates as dates.
import type { ReactNode } from 'react';
import { dateTime, label } from './format';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

function isPrimitive(value: unknown): value is string | number | boolean {
  return ['string', 'number', 'boolean'].includes(typeof value);
}

function Value({ name, value }: { name: string; value: unknown }): ReactNode {
  if (value === null || value === undefined || value === '') return <span className="muted">—</span>;
  if (typeof value === 'number' && /score|rating|percent/i.test(name) && value >= 0 && value <= 100) {
    return (
      <span className="score">
        <span
          className="bar small"
          role="meter"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={value}
          aria-label={`${label(name)}: ${value} of 100`}
        >
          <span style={{ width: `${value}%` }} />
        </span>
        <span>{value}/100</span>
      </span>
    );
  }
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'string' && ISO_DATE.test(value)) {
    return (
      <time dateTime={value}>
        {value.length === 10
          ? new Date(`${value}T00:00:00`).toLocaleDateString('en-US', { dateStyle: 'long' })
          : dateTime(value)}
      </time>
    );
  }
  if (Array.isArray(value) && value.every(isPrimitive)) {
    return (
      <ul className="tags" aria-label={label(name)}>
        {value.map((item, i) => (
          <li key={i} className="tag">
            {typeof item === 'string' ? label(item) : String(item)}
          </li>
        ))}
      </ul>
    );
  }
  if (typeof value === 'object') return <MetadataList data={value as Record<string, unknown>} nested />;
  return String(value);
}

export function MetadataList({ data, nested = false }: { data: Record<string, unknown>; nested?: boolean }) {
  const entries = Array.isArray(data)
    ? data.map((v, i) => [String(i + 1), v] as const)
    : Object.entries(data);
  return (
    <dl className={nested ? 'metadata nested' : 'metadata'}>
      {entries.map(([key, value]) => (
        <div key={key} className="metadata-row">
          <dt>{label(key)}</dt>
          <dd>
            <Value name={key} value={value} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
