// Export buttons for a list: the same rows as the list's filters select, every page of them, as CSV or an Excel
// workbook (the API streams both; docs/dashboard.md).
import { useState } from 'react';
import type { RequestOptions } from './api';
import { useSession } from './session';

export function ExportButtons({
  path,
  query,
  name,
  what,
}: {
  /** The list's API path, e.g. `/leads`. */
  path: string;
  /** The list's filters (paging is left out: an export has every row). */
  query?: RequestOptions['query'];
  /** File name without extension. */
  name: string;
  /** What is exported, for screen readers ("leads"). */
  what: string;
}) {
  const { api } = useSession();
  const [busy, setBusy] = useState<'csv' | 'xlsx'>();
  const [error, setError] = useState<string>();
  const run = async (format: 'csv' | 'xlsx') => {
    setBusy(format);
    setError(undefined);
    try {
      await api.download(path, query, `${name}.${format}`, format);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <div className="export-buttons" role="group" aria-label={`Export ${what}`}>
      <span className="muted">Export</span>
      <button
        type="button"
        className="button small"
        disabled={busy !== undefined}
        data-testid="export-csv"
        aria-label={`Export ${what} as CSV`}
        onClick={() => void run('csv')}
      >
        {busy === 'csv' ? 'Exporting…' : 'CSV'}
      </button>
      <button
        type="button"
        className="button small"
        disabled={busy !== undefined}
        data-testid="export-xlsx"
        aria-label={`Export ${what} as Excel`}
        onClick={() => void run('xlsx')}
      >
        {busy === 'xlsx' ? 'Exporting…' : 'Excel'}
      </button>
      {error ? (
        <span role="alert" className="error-text">
          {error}
        </span>
      ) : null}
    </div>
  );
}
