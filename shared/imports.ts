// The import file's contract: its documented columns (the template, the column check, docs/imports.md) and how one
// row reads as a lead to create or match plus the stage it reached. Partner backfills map their records to the same
// columns, so every imported lead goes through one reader.
import { DateTime } from 'luxon';
import { z } from 'zod';
import { normalizeEmail, toE164 } from './contact';
import { STATUSES, isStatus, type LeadStatus } from './lifecycle';
import type { ImportedLead } from './journey/types';

export interface ImportColumn {
  name: string;
  description: string;
  example: string;
}

/** Stages whose date an import may carry in `<stage>_at` (the current status's date is `status_changed_at`). */
export const STAGE_DATE_COLUMNS = [
  'contacted_at',
  'qualified_at',
  'tour_scheduled_at',
  'toured_at',
  'application_at',
] as const;

const DATE_HELP = 'ISO 8601: 2026-03-01, 2026-03-01 14:30 or 2026-03-01T14:30:00-05:00 (no offset: UTC)';

/** Every column of the documented CSV, in the template's order. */
export const IMPORT_COLUMNS: readonly ImportColumn[] = [
  {
    name: 'external_id',
    description: "the lead's id in the system it comes from",
    example: '00Q5e00000AbCdE',
  },
  {
    name: 'external_source',
    description:
      'the system external_id belongs to (hubspot, salesforce, resman, gohighlevel…); default: source',
    example: 'salesforce',
  },
  { name: 'first_name', description: 'first name', example: 'Ada' },
  { name: 'last_name', description: 'last name', example: 'Lovelace' },
  { name: 'email', description: 'email address', example: 'ada@example.com' },
  {
    name: 'phone',
    description: 'phone number (US numbers without +1 are read as US)',
    example: '(415) 555-0134',
  },
  {
    name: 'property_id',
    description: "the lead's property (an id of this workspace); default: the import's property_id",
    example: 'sunrise-oaks',
  },
  {
    name: 'source',
    description:
      'where the lead came from; a referral partner (apfm, caring) stays the attributed source for fees',
    example: 'apfm',
  },
  {
    name: 'status',
    description: `the stage the lead reached: ${STATUSES.join(', ')}, or won (the property's won status)`,
    example: 'toured',
  },
  { name: 'created_at', description: `when the lead first inquired; ${DATE_HELP}`, example: '2026-02-20' },
  {
    name: 'status_changed_at',
    description: 'when the lead reached its status; default: the latest date given',
    example: '2026-03-02T16:00:00Z',
  },
  ...STAGE_DATE_COLUMNS.map((name) => ({
    name,
    description: `when the lead reached ${name.slice(0, -3)} (optional; stages without a date are recorded as skipped)`,
    example: name === 'contacted_at' ? '2026-02-21' : '',
  })),
  {
    name: 'tour_at',
    description: 'when the tour is (or was); required with status tour_scheduled',
    example: '2026-03-02T15:00:00Z',
  },
  {
    name: 'last_activity_at',
    description:
      'the last contact with the lead; stale and auto-lost count from it (default: the latest date)',
    example: '2026-03-03',
  },
  { name: 'lost_reason', description: 'why the lead was lost (status lost)', example: '' },
  { name: 'message', description: "the lead's inquiry or notes", example: 'Looking for a 2-bedroom in May' },
];

/** A status an import may give for "won, whatever the property calls it" (partners' Closed - Converted, won). */
export const WON = 'won';

/** Columns named `custom_<key>` go to the lead's custom_data under `<key>`. */
export const CUSTOM_COLUMN_PREFIX = 'custom_';

export interface ColumnCheck {
  /** Header names as given, each with whether we read it. */
  columns: { name: string; recognized: boolean }[];
  /** Columns the file must have and lacks (`email|phone|external_id`: one of them). */
  missing: string[];
  unknown: string[];
  duplicated: string[];
}

const REQUIRED_COLUMNS = ['status', 'created_at'];
const IDENTITY_COLUMNS = ['email', 'phone', 'external_id'];

function recognized(name: string): boolean {
  return IMPORT_COLUMNS.some((column) => column.name === name) || customKey(name) !== undefined;
}

function customKey(name: string): string | undefined {
  const key = name.startsWith(CUSTOM_COLUMN_PREFIX) ? name.slice(CUSTOM_COLUMN_PREFIX.length) : '';
  return /^[a-z0-9_]{1,64}$/.test(key) ? key : undefined;
}

/** Header names as the reader compares them: trimmed, lower case, a UTF-8 byte-order mark dropped. */
export function headerName(name: string): string {
  return name
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase();
}

/** The column check of a header: what is read, what is missing, what is not ours. */
export function checkColumns(header: string[]): ColumnCheck {
  const names = header.map(headerName);
  const missing = REQUIRED_COLUMNS.filter((name) => !names.includes(name));
  if (!IDENTITY_COLUMNS.some((name) => names.includes(name))) missing.push(IDENTITY_COLUMNS.join('|'));
  return {
    columns: names.map((name) => ({ name, recognized: recognized(name) })),
    missing,
    unknown: names.filter((name) => !recognized(name)),
    duplicated: [...new Set(names.filter((name, i) => names.indexOf(name) !== i))],
  };
}

/** The template: the header and one example row. */
export function importTemplateCsv(): string {
  const quote = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  return `${IMPORT_COLUMNS.map((c) => c.name).join(',')}\r\n${IMPORT_COLUMNS.map((c) => quote(c.example)).join(',')}\r\n`;
}

/** A row as read from the file (or a partner record mapped to the columns): column → text. */
export type ImportRecord = Record<string, string>;

/** What a valid row says: the contact to create or match, and the stage its journey starts at. */
export interface ImportRowReading {
  contact: {
    propertyId?: string;
    source: string;
    firstName?: string;
    lastName?: string;
    email?: string;
    phone?: string;
    message?: string;
    externalIds?: Record<string, string>;
    customData?: Record<string, unknown>;
  };
  lead: Omit<ImportedLead, 'importId' | 'row'>;
}

export interface RowProblem {
  field: string;
  message: string;
}

/** Reads a date column: ISO 8601 or `YYYY-MM-DD HH:MM[:SS]`, without an offset taken as UTC. */
export function readDate(text: string): string | undefined {
  const value = text.trim();
  let parsed = DateTime.fromISO(value, { zone: 'utc', setZone: true });
  if (!parsed.isValid) parsed = DateTime.fromSQL(value, { zone: 'utc', setZone: true });
  return parsed.isValid ? parsed.toUTC().toISO({ suppressMilliseconds: false })! : undefined;
}

const emailCheck = z.email();

/** One row read against the documented columns: the reading, or every problem named by its column. */
export function readImportRow(
  record: ImportRecord,
  defaults: {
    propertyId?: string;
    source?: string;
    /** What `won` means for the row's property: leased (multifamily) or placed (senior living). */
    wonStatus?: LeadStatus;
  } = {},
): { reading: ImportRowReading } | { problems: RowProblem[] } {
  const problems: RowProblem[] = [];
  const text = (name: string): string | undefined => {
    const value = record[name]?.trim();
    return value ? value : undefined;
  };
  const date = (name: string): string | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const parsed = readDate(value);
    if (parsed === undefined)
      problems.push({ field: name, message: `"${value}" is not a date (${DATE_HELP})` });
    return parsed;
  };

  const statusText = text('status')?.toLowerCase();
  let status: LeadStatus | undefined;
  if (statusText === undefined) problems.push({ field: 'status', message: 'is empty' });
  else if (statusText === WON) status = defaults.wonStatus ?? 'leased';
  else if (isStatus(statusText)) status = statusText;
  else problems.push({ field: 'status', message: `"${statusText}" is not one of ${STATUSES.join(', ')}` });

  const createdAt = date('created_at');
  if (text('created_at') === undefined) problems.push({ field: 'created_at', message: 'is empty' });

  const email = text('email');
  if (email !== undefined && !emailCheck.safeParse(email).success) {
    problems.push({ field: 'email', message: `"${email}" is not an email address` });
  }
  const phone = text('phone');
  if (phone !== undefined && toE164(phone) === undefined) {
    problems.push({ field: 'phone', message: `"${phone}" is not a valid phone number` });
  }
  const externalId = text('external_id');
  if (!email && !phone && !externalId) {
    problems.push({ field: 'email|phone|external_id', message: 'a row needs one of them to be matched' });
  }

  const stageDates: Partial<Record<LeadStatus, string>> = {};
  for (const column of STAGE_DATE_COLUMNS) {
    const value = date(column);
    if (value !== undefined) stageDates[column.slice(0, -3) as LeadStatus] = value;
  }
  const statusChangedAt = date('status_changed_at');
  const tourAt = date('tour_at');
  const lastActivityAt = date('last_activity_at');
  if (problems.length > 0 || status === undefined || createdAt === undefined) return { problems };

  if (statusChangedAt !== undefined) stageDates[status] = statusChangedAt;
  const source = text('source')?.toLowerCase() ?? defaults.source ?? 'import';
  const externalSource = text('external_source')?.toLowerCase() ?? source;
  const customData = Object.fromEntries(
    Object.entries(record).flatMap(([name, value]) => {
      const key = customKey(name);
      return key !== undefined && value.trim() ? [[key, value.trim()]] : [];
    }),
  );
  const propertyId = text('property_id') ?? defaults.propertyId;
  const reading: ImportRowReading = {
    contact: {
      source,
      ...(propertyId !== undefined ? { propertyId } : {}),
      ...optional('firstName', text('first_name')),
      ...optional('lastName', text('last_name')),
      ...optional('email', email),
      ...optional('phone', phone),
      ...optional('message', text('message')),
      ...(externalId !== undefined ? { externalIds: { [externalSource]: externalId } } : {}),
      ...(Object.keys(customData).length > 0 ? { customData } : {}),
    },
    lead: {
      status,
      createdAt,
      ...(Object.keys(stageDates).length > 0 ? { stageDates } : {}),
      ...optional('lastActivityAt', lastActivityAt),
      ...optional('propertyId', propertyId),
      channel: source,
      facts: {
        hasEmail: normalizeEmail(email) !== undefined,
        hasPhone: phone !== undefined,
        ...(tourAt !== undefined ? { tourAt } : {}),
      },
      ...optional('reason', text('lost_reason')),
    },
  };
  return { reading };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The identities a row is matched by, as the matcher normalizes them: rows sharing one are the same person. */
export function rowIdentities(contact: ImportRowReading['contact']): string[] {
  const email = normalizeEmail(contact.email);
  const phone = toE164(contact.phone);
  return [
    ...Object.entries(contact.externalIds ?? {}).map(([partner, id]) => `x:${partner}:${id}`),
    ...(email ? [`e:${email}`] : []),
    ...(phone ? [`p:${phone}`] : []),
  ];
}

/**
 * Groups items by person: two items sharing any identity land in one group (in their original order), so a
 * person's rows are handled one after the other while different people's run side by side.
 */
export function groupByPerson<T>(items: T[], identities: (item: T) => string[]): T[][] {
  const parent = items.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const owner = new Map<string, number>();
  items.forEach((item, i) => {
    for (const identity of identities(item)) {
      const seen = owner.get(identity);
      if (seen === undefined) owner.set(identity, i);
      else parent[root(i)] = root(seen);
    }
  });
  const groups = new Map<number, T[]>();
  items.forEach((item, i) => {
    const key = root(i);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  });
  return [...groups.values()];
}

/** A partner's lead as an import row: the documented columns it has a value for (backfills build rows with it). */
export function importRecord(values: Partial<Record<string, string | null | undefined>>): ImportRecord {
  return Object.fromEntries(
    Object.entries(values).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '',
    ),
  );
}

/** A partner status in import terms: its "won" is the property's won status (`won`), decided per row. */
export function wonAsWon(status: LeadStatus | undefined): string | undefined {
  return status === 'leased' || status === 'placed' ? WON : status;
}
