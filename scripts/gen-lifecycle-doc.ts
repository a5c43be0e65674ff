// Renders docs/lifecycle.md from shared/lifecycle.ts, so the document can never drift from the table the
// code uses (test/unit/docs.test.ts fails when it does). Run: npx tsx scripts/gen-lifecycle-doc.ts
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_TRANSITIONS,
  PARTNERS,
  PARTNER_VOCABULARIES,
  REQUIRED_FIELDS,
  STAGE_RANK,
  STATUSES,
  STATUS_PRIORITY,
  VERTICALS,
  WON_STATUS,
  fromCanonical,
  isTerminal,
} from '../shared/lifecycle';

export const LIFECYCLE_DOC_PATH = path.join(__dirname, '..', 'docs', 'lifecycle.md');

const code = (text: string) => `\`${text}\``;
const codes = (values: readonly string[]) => (values.length > 0 ? values.map(code).join(', ') : '(none)');

/**
 * A markdown table laid out the way prettier lays it out (cells padded to the column width), so the
 * generated file passes `prettier --check` unchanged.
 */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) =>
    Math.max(3, cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${widths.map((width, column) => (cells[column] ?? '').padEnd(width)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

function statusesSection(): string {
  return [
    '## Statuses',
    'In funnel order. A terminal status ends the journey; a new inquiry afterwards opens the next journey of the same lead. Priority is what staff notifications carry; the stage rank orders the funnel (a partner report with a higher rank is a forward move).',
    table(
      ['status', 'terminal', 'priority', 'stage rank'],
      STATUSES.map((status) => [
        code(status),
        isTerminal(status) ? 'yes' : 'no',
        STATUS_PRIORITY[status],
        String(STAGE_RANK[status]),
      ]),
    ),
  ].join('\n\n');
}

function transitionsSection(): string {
  return [
    '## Default transitions',
    'A workspace may define its own pipeline; statuses outside it are refused. Staff, chatbot and API changes must follow the table (else 409 with the allowed next statuses). A partner may jump forward over stages (recorded as skipped); a partner reporting a backward move is a conflict: recorded, not applied, staff alerted.',
    table(
      ['from', 'to'],
      STATUSES.map((from) => [code(from), codes(DEFAULT_TRANSITIONS[from])]),
    ),
  ].join('\n\n');
}

function wonSection(): string {
  return [
    '## Won status per vertical',
    "The property's vertical decides which won status a lead can reach; the other one is refused. A partner's won word (`Closed - Converted`, `won`, `move_in`) means the property's own won status.",
    table(
      ['vertical', 'won status', 'refused'],
      VERTICALS.map((vertical) => {
        const refused = VERTICALS.filter((other) => other !== vertical).map((other) => WON_STATUS[other]);
        return [code(vertical), code(WON_STATUS[vertical]), codes(refused)];
      }),
    ),
  ].join('\n\n');
}

function requiredFieldsSection(): string {
  const rows = STATUSES.flatMap((status) => {
    const requirements = REQUIRED_FIELDS[status] ?? [];
    if (requirements.length === 0) return [];
    const needs = requirements
      .map((requirement) => requirement.fields.map(code).join(requirement.anyOf ? ' or ' : ' and '))
      .join('; ');
    return [[code(status), needs]];
  });
  return [
    '## Required fields',
    'Checked on staff, chatbot and API changes (422 naming the missing fields). Partners are the system of record for their stages: their changes apply and the missing fields are noted in the history context.',
    table(['status', 'needs'], rows),
  ].join('\n\n');
}

function partnerSection(partner: (typeof PARTNERS)[number]): string {
  const vocabulary = PARTNER_VOCABULARIES[partner] ?? {};
  return [
    `### ${partner}`,
    'Inbound: what the partner may send, and the status it means.',
    table(
      ['partner value', 'status'],
      Object.entries(vocabulary).map(([value, status]) => [code(value), code(status)]),
    ),
    'Outbound: what we send the partner for each status. A status it has no word for is not pushed.',
    table(
      ['status', 'we send'],
      STATUSES.map((status) => {
        const value = fromCanonical(partner, status);
        return [code(status), value === undefined ? 'not pushed' : code(value)];
      }),
    ),
  ].join('\n\n');
}

function vocabulariesSection(): string {
  const withVocabulary = PARTNERS.filter((partner) => PARTNER_VOCABULARIES[partner] !== undefined);
  const canonical = PARTNERS.filter((partner) => PARTNER_VOCABULARIES[partner] === undefined);
  return [
    '## Partner vocabularies',
    `Each partner's words map to canonical statuses by data. A value not listed is refused (422 with the values the partner may send), never defaulted. ${codes(canonical)} speak the canonical statuses (${codes(STATUSES)}).`,
    ...withVocabulary.map(partnerSection),
  ].join('\n\n');
}

export function renderLifecycleDoc(): string {
  return (
    [
      '# Lead lifecycle',
      '<!-- Generated from shared/lifecycle.ts by `npx tsx scripts/gen-lifecycle-doc.ts`. Do not edit by hand. -->',
      statusesSection(),
      transitionsSection(),
      wonSection(),
      requiredFieldsSection(),
      vocabulariesSection(),
    ].join('\n\n') + '\n'
  );
}

if (require.main === module) {
  writeFileSync(LIFECYCLE_DOC_PATH, renderLifecycleDoc());
  console.log(`wrote ${path.relative(process.cwd(), LIFECYCLE_DOC_PATH)}`);
}
