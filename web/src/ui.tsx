// Building blocks every page shares: page header, loading / empty / error states, tiles, badges.
import { useEffect, useRef, type Key, type ReactNode, type TdHTMLAttributes } from 'react';
import { ApiError } from './api';
import type { Resource } from './hooks';
import { label, statusTone } from './format';
import { hasNavigated } from './router';

/** The page's title; focused after navigation so keyboard and screen-reader users land on the new page. */
export function PageHeader({
  title,
  subtitle,
  actions,
}: {
  title: string;
  subtitle?: ReactNode;
  actions?: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · leadrelay`;
    if (hasNavigated()) heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <header className="page-header">
      <div>
        <h1 tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {subtitle ? <p className="muted">{subtitle}</p> : null}
      </div>
      {actions ? <div className="actions">{actions}</div> : null}
    </header>
  );
}

export function Loading({ label: text = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {text}
    </div>
  );
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 404 && error.code === 'not_found' && /no route/.test(error.message))
      return 'This server does not offer this yet (the API answered 404).';
    if (error.status === 429)
      return error.details.window_seconds !== undefined
        ? 'The workspace reached its hourly API limit; try again later.'
        : `The server is busy with this workspace's other requests; try again in a moment (${error.message}).`;
    if (error.status === 403) return error.message;
    return `${error.message} (${error.code})`;
  }
  if (error instanceof TypeError) return 'The server could not be reached.';
  return error instanceof Error ? error.message : String(error);
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <strong>Could not load this.</strong> <span>{errorMessage(error)}</span>
      {onRetry ? (
        <button type="button" className="button small" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children ? <div className="muted">{children}</div> : null}
    </div>
  );
}

/** Loading, error and (optionally) empty handling around a resource's data. */
export function Loaded<T>({
  resource,
  isEmpty,
  empty,
  children,
  loadingLabel,
}: {
  resource: Resource<T>;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
  loadingLabel?: string;
}) {
  if (resource.data === undefined) {
    if (resource.error) return <ErrorState error={resource.error} onRetry={resource.reload} />;
    return <Loading label={loadingLabel} />;
  }
  return (
    <>
      {resource.error ? <ErrorState error={resource.error} onRetry={resource.reload} /> : null}
      {isEmpty?.(resource.data) ? empty : children(resource.data)}
    </>
  );
}

export function StatusBadge({ status }: { status: string | null | undefined }) {
  return <span className={`badge tone-${statusTone(status)}`}>{label(status)}</span>;
}

export function Badge({
  tone,
  children,
}: {
  tone: 'good' | 'bad' | 'warn' | 'info' | 'muted';
  children: ReactNode;
}) {
  return <span className={`badge tone-${tone}`}>{children}</span>;
}

export function Tile({ label: title, value, hint }: { label: string; value: ReactNode; hint?: ReactNode }) {
  return (
    <div className="tile">
      <div className="tile-label">{title}</div>
      <div className="tile-value">{value}</div>
      {hint ? <div className="tile-hint muted">{hint}</div> : null}
    </div>
  );
}

export function Section({
  title,
  children,
  actions,
  id,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
  id?: string;
}) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-title`;
  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card-header">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div className="actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/** A horizontally scrollable table region (phones): focusable so keyboard users can scroll it. */
export function TableWrap({ label: name, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={name} tabIndex={0}>
      {children}
    </div>
  );
}

/** One column of a DataTable: its header and how a row fills its cell. */
export interface Column<T> {
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** The column that names the row: its cells are row headers, so screen readers announce them per cell. */
  rowHeader?: boolean;
  /** Right-aligned figures (header and cells). */
  numeric?: boolean;
  /** More attributes of each cell: a class, a title, a test id. */
  cellProps?: (row: T) => TdHTMLAttributes<HTMLTableCellElement> & { 'data-testid'?: string };
}

type DataAttributes = Record<`data-${string}`, string | number>;

/**
 * The dashboard's one list table: a scrollable, labelled region with column headers and a row per item, so every
 * page's table reads the same to keyboard and screen-reader users. A column given as `false` is left out (a column
 * only some permissions see).
 */
export function DataTable<T>({
  label: name,
  testId,
  rows,
  rowKey,
  columns,
  rowProps,
  children,
}: {
  label: string;
  testId: string;
  rows: readonly T[];
  rowKey: (row: T) => Key;
  columns: readonly (Column<T> | false)[];
  rowProps?: (row: T) => DataAttributes;
  /** Shown under the table inside its region (a "showing n of m" line). */
  children?: ReactNode;
}) {
  const shown = columns.filter((column): column is Column<T> => column !== false);
  return (
    <TableWrap label={name}>
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            {shown.map((column, i) => (
              <th key={i} scope="col" className={column.numeric ? 'num' : undefined}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} {...rowProps?.(row)}>
              {shown.map((column, i) => {
                const props = column.cellProps?.(row) ?? {};
                const className = [column.numeric ? 'num' : undefined, props.className]
                  .filter(Boolean)
                  .join(' ');
                const attributes = { ...props, className: className || undefined };
                return column.rowHeader ? (
                  <th key={i} scope="row" {...attributes}>
                    {column.cell(row)}
                  </th>
                ) : (
                  <td key={i} {...attributes}>
                    {column.cell(row)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {children}
    </TableWrap>
  );
}
