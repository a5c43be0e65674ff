// Tables out of the API: JSON by default, CSV (`Accept: text/csv` or `?format=csv`) or an Excel workbook
// (`?format=xlsx`) when asked. One streaming writer for both: rows are written page by page as they are read,
// waiting for the client to take each page, so a 100 000-row export holds one page in memory, not the file.
import type { Request, Response } from 'express';
import { drained, type TableStream } from './streaming';
import { XLSX_TYPE, writeXlsx } from './xlsx';

export type { TableStream } from './streaming';

export type TableFormat = 'csv' | 'xlsx';

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

function csvCell(value: unknown): string {
  const text = cellText(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(values: unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

export function toCsv(table: Table): string {
  return [table.columns, ...table.rows.map((row) => table.columns.map((c) => row[c]))].map(csvLine).join('');
}

/**
 * The format the client asked for: `?format=csv|xlsx|json` first, else the Accept header (text/csv or the
 * spreadsheet type); undefined for JSON.
 */
export function requestedFormat(req: Request): TableFormat | undefined {
  const format = typeof req.query.format === 'string' ? req.query.format.toLowerCase() : undefined;
  if (format === 'csv' || format === 'xlsx') return format;
  if (format === 'json') return undefined;
  const preferred = req.accepts(['application/json', 'text/csv', XLSX_TYPE]);
  return preferred === 'text/csv' ? 'csv' : preferred === XLSX_TYPE ? 'xlsx' : undefined;
}

async function writeCsv(res: Response, table: TableStream): Promise<void> {
  res.write(csvLine(table.columns));
  for await (const page of table.pages) {
    let chunk = '';
    for (const row of page) chunk += csvLine(table.columns.map((column) => row[column]));
    res.write(chunk);
    // Backpressure: the next page is read only once the client took this one.
    if (!(await drained(res))) return;
  }
  res.end();
}

/** Streams the table as CSV or a workbook, headers first; rows follow page by page. */
export async function streamTable(res: Response, format: TableFormat, table: TableStream): Promise<void> {
  const extension = format === 'csv' ? 'csv' : 'xlsx';
  res.status(200);
  res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : XLSX_TYPE);
  res.setHeader('Content-Disposition', `attachment; filename="${table.name}.${extension}"`);
  res.setHeader('Cache-Control', 'no-store');
  if (format === 'csv') await writeCsv(res, table);
  else await writeXlsx(res, table);
}

async function* onePage(rows: Record<string, unknown>[]): AsyncIterable<Record<string, unknown>[]> {
  yield rows;
}

/**
 * When the client asked for CSV or a workbook, streams the table and answers true; false when it wants JSON.
 * Lists pass every page their filters select (an export is the whole list, not the page asked for).
 */
export async function exportTable(req: Request, res: Response, table: () => TableStream): Promise<boolean> {
  const format = requestedFormat(req);
  if (!format) return false;
  // Headers go first: a failure past them can only cut the answer short.
  await streamTable(res, format, table()).catch((error: unknown) =>
    res.destroy(error instanceof Error ? error : new Error(String(error))),
  );
  return true;
}

/** Answers the JSON body, or the table as CSV or a workbook when the client asked for one. */
export async function sendTable(
  req: Request,
  res: Response,
  json: unknown,
  table: () => Table,
): Promise<void> {
  const exported = await exportTable(req, res, () => {
    const { name, columns, rows } = table();
    return { name, columns, pages: onePage(rows) };
  });
  if (!exported) res.json(json);
}
