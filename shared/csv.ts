// CSV as the api answers it and the dashboard exports it: one escaping, formulas made inert for spreadsheets.

/** A table held in memory (analytics answers: a few hundred rows at most). */
export interface Table {
  /** File name offered to the browser, without extension. */
  name: string;
  columns: string[];
  rows: Record<string, unknown>[];
}

/** A cell as text: objects as JSON; text a spreadsheet would run as a formula (= + - @, tab, CR) quoted with '. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return typeof value === 'string' && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** One CSV cell: cellText, quoted when it holds a quote, comma or line break. */
export function csvCell(value: unknown): string {
  const text = cellText(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

export function toCsv(table: Table): string {
  return [table.columns, ...table.rows.map((row) => table.columns.map((c) => row[c]))].map(csvLine).join('');
}
