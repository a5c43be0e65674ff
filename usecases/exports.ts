// Exports of the lists (leads, conversions, referral fees): every row the list's filters select, read a page at a
// time in the list's own order (keyset, newest first), so the writer streams them with one page in memory.
import type pg from 'pg';
import { listConversions, type ConversionFilter, type ConversionRecord } from '../data/conversions';
import { listLeads, type LeadFilter, type LeadRecord } from '../data/leads';
import { listReferralFees, type ReferralFeeFilter, type ReferralFeeRecord } from '../data/referralFees';

/** Rows per database read while exporting: big enough to amortise the round trip, small enough to hold. */
export const EXPORT_PAGE_SIZE = 1000;

/** Pages of `readPage` until one comes back short; each read starts after the last row of the one before. */
export async function* keysetPages<Row, Cursor>(
  readPage: (cursor: Cursor | undefined, limit: number) => Promise<Row[]>,
  cursorAfter: (row: Row) => Cursor,
  pageSize = EXPORT_PAGE_SIZE,
): AsyncGenerator<Row[]> {
  let cursor: Cursor | undefined;
  for (;;) {
    const page = await readPage(cursor, pageSize);
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    cursor = cursorAfter(page[page.length - 1]!);
  }
}

export function leadPages(
  pool: pg.Pool,
  workspaceId: string,
  filter: Omit<LeadFilter, 'limit' | 'cursor'>,
): AsyncGenerator<LeadRecord[]> {
  return keysetPages<LeadRecord, LeadFilter['cursor']>(
    (cursor, limit) => listLeads(pool, workspaceId, { ...filter, limit, cursor }),
    (lead) => ({ createdAt: lead.created_at.toISOString(), id: lead.id }),
  );
}

export function conversionPages(
  pool: pg.Pool,
  workspaceId: string,
  filter: Omit<ConversionFilter, 'limit' | 'cursor' | 'counts'>,
): AsyncGenerator<ConversionRecord[]> {
  return keysetPages<ConversionRecord, ConversionFilter['cursor']>(
    async (cursor, limit) =>
      (await listConversions(pool, workspaceId, { ...filter, limit, cursor, counts: false })).rows,
    (conversion) => ({ convertedAt: conversion.converted_at.toISOString(), id: conversion.id }),
  );
}

export function referralFeePages(
  pool: pg.Pool,
  workspaceId: string,
  filter: Omit<ReferralFeeFilter, 'limit' | 'cursor' | 'counts'>,
): AsyncGenerator<ReferralFeeRecord[]> {
  return keysetPages<ReferralFeeRecord, ReferralFeeFilter['cursor']>(
    async (cursor, limit) =>
      (await listReferralFees(pool, workspaceId, { ...filter, limit, cursor, counts: false })).rows,
    (fee) => ({ wonAt: fee.won_at.toISOString(), id: fee.id }),
  );
}

/** Maps each page (a row's JSON as the list answers it), keeping the paging. */
export async function* mapPages<Row, Out>(
  pages: AsyncIterable<Row[]>,
  map: (row: Row) => Out,
): AsyncGenerator<Out[]> {
  for await (const page of pages) yield page.map(map);
}
