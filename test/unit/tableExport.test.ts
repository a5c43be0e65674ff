// The table writers behind every export: CSV with formula escaping and an Excel workbook, both streamed page by
// page over real HTTP, and the format a request asks for (Accept or ?format=).
import type { AddressInfo } from 'node:net';
import ExcelJS from 'exceljs';
import express from 'express';
import { requestedFormat, streamTable, toCsv, type TableFormat } from '../../services/api/csv';

const COLUMNS = ['id', 'name', 'note', 'value', 'custom'];
const ROWS = [
  {
    id: 'a1',
    name: 'Dana Okafor',
    note: '=HYPERLINK("http://evil.example","click")',
    value: 12.5,
    custom: { a: 1 },
  },
  { id: 'a2', name: 'Sam, Reyes', note: 'line one\nline "two"', value: -3, custom: null },
  { id: 'a3', name: '+1 303 555 0190', note: '@SUM(A1)', value: 0, custom: [1, 2] },
];

/** Serves the rows in pages of `pageSize` through streamTable, answering how many pages were read. */
async function serve(pageSize: number, copies = 1) {
  const app = express();
  let pagesRead = 0;
  app.get('/export', (req, res) => {
    const format = requestedFormat(req) as TableFormat;
    async function* pages() {
      const all = Array.from({ length: copies }, () => ROWS).flat();
      for (let i = 0; i < all.length; i += pageSize) {
        pagesRead += 1;
        yield all.slice(i, i + pageSize);
      }
    }
    void streamTable(res, format, { name: 'leads', columns: COLUMNS, pages: pages() });
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/export`,
    pagesRead: () => pagesRead,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('CSV: the same rows, quoted where needed, and text a spreadsheet would run as a formula escaped', async () => {
  const server = await serve(2);
  try {
    const response = await fetch(server.url, { headers: { accept: 'text/csv' } });
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="leads.csv"');
    const text = await response.text();
    expect(text).toBe(
      [
        'id,name,note,value,custom',
        `a1,Dana Okafor,"'=HYPERLINK(""http://evil.example"",""click"")",12.5,"{""a"":1}"`,
        `a2,"Sam, Reyes","line one\nline ""two""",-3,`,
        `a3,'+1 303 555 0190,'@SUM(A1),0,"[1,2]"`,
        '',
      ].join('\r\n'),
    );
    expect(server.pagesRead()).toBe(2);
    // The in-memory form (analytics) writes the same text.
    expect(toCsv({ name: 'leads', columns: COLUMNS, rows: ROWS })).toBe(text);
  } finally {
    await server.close();
  }
});

test('Excel: a workbook with the header and every row, numbers as numbers and text never a formula', async () => {
  const server = await serve(2, 400);
  try {
    const response = await fetch(`${server.url}?format=xlsx`);
    expect(response.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(await response.arrayBuffer()) as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('leads')!;
    expect(sheet.rowCount).toBe(1 + ROWS.length * 400);
    expect(sheet.getRow(1).values).toEqual([undefined, ...COLUMNS]);
    const first = sheet.getRow(2);
    expect(first.getCell(3).type).toBe(ExcelJS.ValueType.String);
    expect(first.getCell(3).value).toBe(ROWS[0]!.note);
    expect(first.getCell(4).value).toBe(12.5);
    expect(first.getCell(5).value).toBe('{"a":1}');
    expect(server.pagesRead()).toBe(600);
  } finally {
    await server.close();
  }
});

test('the format: ?format= first, then Accept; JSON otherwise', () => {
  const req = (query: Record<string, string>, accept?: string) =>
    ({
      query,
      accepts: (types: string[]) =>
        accept === undefined ? types[0] : (types.find((type) => accept.includes(type)) ?? false),
    }) as unknown as Parameters<typeof requestedFormat>[0];
  expect(requestedFormat(req({ format: 'xlsx' }, 'text/csv'))).toBe('xlsx');
  expect(requestedFormat(req({ format: 'CSV' }))).toBe('csv');
  expect(requestedFormat(req({ format: 'json' }, 'text/csv'))).toBeUndefined();
  expect(requestedFormat(req({}, 'text/csv'))).toBe('csv');
  expect(requestedFormat(req({}))).toBeUndefined();
});
