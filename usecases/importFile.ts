// Reading an uploaded import file: refused whole when it is not the documented CSV (400 naming what is wrong, 413
// past the size limit), else its rows a page at a time, each either readable or failed with the columns to fix.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { AppError } from '../shared/errors';
import {
  checkColumns,
  headerName,
  readImportRow,
  type ColumnCheck,
  type ImportRecord,
} from '../shared/imports';
import type { StoredRow } from '../data/imports';

/** Rows per page stored (and per INSERT). */
const PAGE = 1000;

/** Reads a request body up to `maxBytes`; past that, 413 naming the limit (the rest is not read). */
export async function readUpload(
  body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  maxBytes: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > maxBytes) {
      throw new AppError(
        'payload_too_large',
        `the file is larger than the import limit of ${maxBytes} bytes`,
        {
          limit_bytes: maxBytes,
          hint: 'split the file, or ask an operator to raise IMPORT_MAX_BYTES',
        },
      );
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

export interface ParsedFile {
  sha256: string;
  header: string[];
  check: ColumnCheck;
  /** The rows, a page at a time (parsed as they are taken: a 50 000-row file is never all objects at once). */
  pages(): AsyncGenerator<StoredRow[]>;
}

/** A file that is not a CSV at all (a workbook, a PDF, binary): refused before parsing, with what it looks like. */
function notText(file: Buffer): string | undefined {
  if (file.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    return 'it looks like an Excel workbook (xlsx) or another zip file: save it as "CSV UTF-8" and upload that';
  }
  if (file.subarray(0, 4).toString('latin1') === '%PDF') return 'it is a PDF';
  if (file.includes(0)) return 'it holds binary data (NUL bytes), not text';
  return undefined;
}

function invalid(message: string, details: Record<string, unknown>): AppError {
  return new AppError('validation_failed', message, details);
}

function records(file: Buffer): AsyncIterable<string[]> {
  return Readable.from([file]).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: false }),
  ) as AsyncIterable<string[]>;
}

/** A CSV parse error as a 400 naming the line. */
function parseFailure(error: unknown): AppError {
  const e = error as { code?: string; message?: string; lines?: number };
  return invalid(`the file is not a valid CSV: ${e.message ?? String(error)}`, {
    code: e.code ?? 'CSV_INVALID',
    ...(e.lines !== undefined ? { line: e.lines } : {}),
  });
}

/**
 * Checks the file is the documented CSV (text, a header with the required columns and no unknown or repeated
 * ones, at least one row) and hands its rows out page by page. Throws AppError 400 naming what is wrong.
 */
export async function parseImportFile(
  file: Buffer,
  defaults: { propertyId?: string } = {},
): Promise<ParsedFile> {
  if (file.length === 0)
    throw invalid('the file is empty', { fields: [{ field: 'file', message: 'empty' }] });
  const binary = notText(file);
  if (binary)
    throw invalid(`the file is not a CSV: ${binary}`, { fields: [{ field: 'file', message: binary }] });

  let header: string[] | undefined;
  let rows = 0;
  try {
    for await (const record of records(file)) {
      if (!header) header = record.map(headerName);
      else rows += 1;
    }
  } catch (error) {
    throw parseFailure(error);
  }
  if (!header) throw invalid('the file is empty', { fields: [{ field: 'file', message: 'no header' }] });
  const check = checkColumns(header);
  const wrong = [
    ...check.missing.map((name) => ({ field: name, message: 'required column missing' })),
    ...check.unknown.map((name) => ({
      field: name,
      message: 'not a column of the import template (custom fields: name them custom_<name>)',
    })),
    ...check.duplicated.map((name) => ({ field: name, message: 'column given twice' })),
  ];
  if (wrong.length > 0) {
    throw invalid(
      `the file is not the documented import CSV: ${wrong.map((w) => `${w.field}: ${w.message}`).join('; ')}`,
      {
        fields: wrong,
        columns: check,
        template: '/api/v1/imports/template.csv',
      },
    );
  }
  if (rows === 0)
    throw invalid('the file has a header but no rows', { fields: [{ field: 'file', message: 'no rows' }] });

  const columns = header;
  return {
    sha256: createHash('sha256').update(file).digest('hex'),
    header: columns,
    check,
    async *pages() {
      let page: StoredRow[] = [];
      let row = 0;
      let first = true;
      for await (const record of records(file)) {
        if (first) {
          first = false;
          continue;
        }
        row += 1;
        page.push(storedRow(row, columns, record, defaults));
        if (page.length === PAGE) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    },
  };
}

/** One row as stored: readable rows wait to be imported; unreadable ones fail now with the columns to fix. */
function storedRow(
  row: number,
  header: string[],
  fields: string[],
  defaults: { propertyId?: string },
): StoredRow {
  const record: ImportRecord = Object.fromEntries(header.map((name, i) => [name, fields[i] ?? '']));
  if (fields.length !== header.length) {
    // Extra fields are kept, so errors.csv gives the row back whole.
    fields.slice(header.length).forEach((value, i) => (record[`_extra_${i + 1}`] = value));
    const problem = { field: 'row', message: `has ${fields.length} fields, the header has ${header.length}` };
    return { row, record, failed: { reason: `row: ${problem.message}`, details: { fields: [problem] } } };
  }
  const read = readImportRow(record, defaults);
  if ('problems' in read) {
    return {
      row,
      record,
      failed: {
        reason: read.problems.map((p) => `${p.field}: ${p.message}`).join('; '),
        details: { fields: read.problems },
      },
    };
  }
  return { row, record };
}
