// CSV escaping shared by the api's CSV answers and the dashboard's exports: formulas inert, quoting right, and
// no CSV built in web/src any other way.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvCell, toCsv } from '../../shared/csv';

describe('csvCell', () => {
  test.each([
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
  ])('%j → %j', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  test('numbers stay numbers (a negative is not a formula), empty stays empty', () => {
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
  });
});

test('toCsv: header then one escaped row per record, CRLF', () => {
  expect(
    toCsv({
      name: 'conversions',
      columns: ['id', 'converted_by'],
      rows: [{ id: 'c1', converted_by: '=cmd|"/c calc"!A1' }],
    }),
  ).toBe(`id,converted_by\r\nc1,"'=cmd|""/c calc""!A1"\r\n`);
});

test('the dashboard builds every CSV with the shared toCsv (no escaping of its own)', () => {
  const root = join(__dirname, '../../web/src');
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((file) => /\.tsx?$/.test(file));
  const exporting = files.filter((file) => /text\/csv/.test(readFileSync(join(root, file), 'utf8')));
  expect(exporting.length).toBeGreaterThan(0);
  for (const file of exporting) {
    const source = readFileSync(join(root, file), 'utf8');
    // A Blob of CSV built here must come from shared/csv.
    if (/new Blob\(/.test(source))
      expect({ file, shared: /shared\/csv/.test(source) }).toEqual({ file, shared: true });
    expect({ file, ownEscaping: /replace\(\/"\/g/.test(source) }).toEqual({ file, ownEscaping: false });
  }
});
