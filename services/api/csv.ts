// Content negotiation for analytics: JSON by default, CSV when the client asks for `Accept: text/csv`.
import type { Request, Response } from 'express';

export interface Table {
  /** File name offered to the browser, without extension. */
  name: string;
  columns: string[];
  rows: Record<string, unknown>[];
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // A spreadsheet would run a text cell starting with = + - @ as a formula.
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(table: Table): string {
  const lines = [table.columns.join(',')];
  for (const row of table.rows) lines.push(table.columns.map((column) => cell(row[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Answers the JSON body, or the table as CSV when the Accept header prefers text/csv. */
export function sendTable(req: Request, res: Response, json: unknown, table: () => Table): void {
  if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
    const csv = table();
    res
      .type('text/csv; charset=utf-8')
      .setHeader('Content-Disposition', `attachment; filename="${csv.name}.csv"`);
    res.send(toCsv(csv));
    return;
  }
  res.json(json);
}
