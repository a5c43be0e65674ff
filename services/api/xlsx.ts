// Excel workbooks streamed with exceljs' streaming WorkbookWriter: one sheet, a header row, then each row
// committed as it comes (no shared strings or styles to hold in memory), zipped straight into the response.
import type { Response } from 'express';
import ExcelJS from 'exceljs';
import { drained, type TableStream } from './streaming';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Numbers and booleans stay typed; dates become ISO text; objects JSON; text is text (never a formula). */
function xlsxCell(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export async function writeXlsx(res: Response, table: TableStream): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: res,
    useStyles: false,
    useSharedStrings: false,
  });
  const sheet = workbook.addWorksheet(table.name.slice(0, 31));
  sheet.addRow(table.columns).commit();
  for await (const page of table.pages) {
    for (const row of page) sheet.addRow(table.columns.map((column) => xlsxCell(row[column]))).commit();
    if (!(await drained(res))) return;
  }
  sheet.commit();
  await workbook.commit();
}
