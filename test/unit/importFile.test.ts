// The import file's contract without a database: the column check, reading a row, dates, and grouping by person.
import {
  IMPORT_COLUMNS,
  checkColumns,
  groupByPerson,
  importTemplateCsv,
  readDate,
  readImportRow,
  rowIdentities,
} from '../../shared/imports';

test('the column check names missing, unknown and repeated columns; custom_ columns are ours', () => {
  expect(
    checkColumns(['\uFEFFEmail', ' STATUS ', 'created_at', 'custom_unit_type', 'colour', 'email']),
  ).toEqual({
    columns: [
      { name: 'email', recognized: true },
      { name: 'status', recognized: true },
      { name: 'created_at', recognized: true },
      { name: 'custom_unit_type', recognized: true },
      { name: 'colour', recognized: false },
      { name: 'email', recognized: true },
    ],
    missing: [],
    unknown: ['colour'],
    duplicated: ['email'],
  });
  expect(checkColumns(['first_name']).missing).toEqual(['status', 'created_at', 'email|phone|external_id']);
});

test('the template has every documented column and one example row', () => {
  const [header, example, rest] = importTemplateCsv().split('\r\n');
  expect(header?.split(',')).toEqual(IMPORT_COLUMNS.map((c) => c.name));
  expect(example).toContain('ada@example.com');
  expect(rest).toBe('');
});

test('dates read as ISO 8601 or SQL-like, without an offset as UTC; anything else is not a date', () => {
  expect(readDate('2026-03-01')).toBe('2026-03-01T00:00:00.000Z');
  expect(readDate('2026-03-01 14:30')).toBe('2026-03-01T14:30:00.000Z');
  expect(readDate('2026-03-01T14:30:00-05:00')).toBe('2026-03-01T19:30:00.000Z');
  expect(readDate('03/01/2026')).toBeUndefined();
  expect(readDate('last tuesday')).toBeUndefined();
});

test('a row reads as a contact to match and the stage its journey starts at', () => {
  const read = readImportRow(
    {
      external_id: 'SF-1',
      external_source: 'Salesforce',
      email: 'Ada@Example.com',
      status: 'WON',
      created_at: '2026-01-02',
      contacted_at: '2026-01-03',
      status_changed_at: '2026-02-01',
      custom_unit: ' 2BR ',
      source: '',
    },
    { propertyId: 'maple', source: 'import', wonStatus: 'placed' },
  );
  expect(read).toEqual({
    reading: {
      contact: {
        source: 'import',
        propertyId: 'maple',
        email: 'Ada@Example.com',
        externalIds: { salesforce: 'SF-1' },
        customData: { unit: '2BR' },
      },
      lead: {
        status: 'placed',
        createdAt: '2026-01-02T00:00:00.000Z',
        stageDates: { contacted: '2026-01-03T00:00:00.000Z', placed: '2026-02-01T00:00:00.000Z' },
        propertyId: 'maple',
        channel: 'import',
        facts: { hasEmail: true, hasPhone: false },
      },
    },
  });
  expect(readImportRow({ status: 'signed', created_at: 'soon', phone: '12' })).toEqual({
    problems: [
      { field: 'status', message: expect.stringContaining('"signed" is not one of new, contacted') },
      { field: 'created_at', message: expect.stringContaining('"soon" is not a date') },
      { field: 'phone', message: '"12" is not a valid phone number' },
    ],
  });
});

test('rows sharing any identity are one person, in file order; others stand alone', () => {
  const rows = [
    { n: 1, email: 'a@example.com' },
    { n: 2, phone: '(303) 555-0101' },
    { n: 3, email: 'A@example.com', phone: '303-555-0101' },
    { n: 4, email: 'b@example.com' },
    { n: 5, externalIds: { hubspot: '7' } },
    { n: 6, email: 'c@example.com', externalIds: { hubspot: '7' } },
  ];
  const groups = groupByPerson(rows, (row) => rowIdentities({ source: 'x', ...row }));
  expect(groups.map((g) => g.map((row) => row.n))).toEqual([[1, 2, 3], [4], [5, 6]]);
});
