// Referral fees in Postgres: the fee a won lead owes its attributed referral partner, recorded with the
// history row that won it, and its reconciliation (pending → reported → invoiced → paid, or disputed).
import type pg from 'pg';
import { AppError } from '../shared/errors';
import { idempotencyKey } from '../shared/ids';
import type { PartnerName } from '../shared/lifecycle';
import {
  feeAmount,
  feePartnerOf,
  FeeTermsSchema,
  monthlyRentOf,
  plannedReferralFee,
  RECONCILIATION_TRANSITIONS,
  type FeeTerms,
  type FoundTerms,
  type ReconciliationStatus,
} from '../shared/referralFees';
import { withTransaction } from './pool';

export interface ReferralFeeRecord {
  id: string;
  workspace_id: string;
  lead_id: string;
  journey: number;
  partner: string;
  property_id: string | null;
  won_status: 'placed' | 'leased';
  won_at: Date;
  terms_source: 'integration' | 'terms' | 'none';
  fee_type: string | null;
  rate: number | null;
  monthly_rent: number | null;
  amount: number | null;
  currency: string;
  status: ReconciliationStatus;
  invoice_number: string | null;
  notes: string | null;
  reported_at: Date | null;
  invoiced_at: Date | null;
  paid_at: Date | null;
  disputed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function referralFeeJson(fee: ReferralFeeRecord) {
  return {
    id: fee.id,
    workspace_id: fee.workspace_id,
    lead_id: fee.lead_id,
    journey: fee.journey,
    partner: fee.partner,
    property_id: fee.property_id,
    won_status: fee.won_status,
    won_at: fee.won_at.toISOString(),
    terms_source: fee.terms_source,
    fee_type: fee.fee_type,
    rate: fee.rate,
    monthly_rent: fee.monthly_rent,
    amount: fee.amount,
    currency: fee.currency,
    status: fee.status,
    allowed_next: RECONCILIATION_TRANSITIONS[fee.status],
    invoice_number: fee.invoice_number,
    notes: fee.notes,
    reported_at: iso(fee.reported_at),
    invoiced_at: iso(fee.invoiced_at),
    paid_at: iso(fee.paid_at),
    disputed_at: iso(fee.disputed_at),
    created_at: fee.created_at.toISOString(),
    updated_at: fee.updated_at.toISOString(),
  };
}

/** The partner's terms: its integration's config.referral_fee (the lead's property first), else our table. */
export async function termsFor(
  client: Pick<pg.PoolClient, 'query'>,
  workspaceId: string,
  partner: PartnerName,
  propertyId: string | null,
): Promise<FoundTerms | undefined> {
  const integrations = await client.query<{ terms: unknown }>(
    `SELECT config -> 'referral_fee' AS terms FROM integrations
      WHERE workspace_id = $1 AND partner = $2 AND deleted_at IS NULL AND config ? 'referral_fee'
      ORDER BY (property_id IS NOT DISTINCT FROM $3) DESC, (property_id IS NULL) DESC, created_at`,
    [workspaceId, partner, propertyId],
  );
  for (const row of integrations.rows) {
    const parsed = FeeTermsSchema.safeParse(row.terms);
    if (parsed.success) return { terms: parsed.data, source: 'integration' };
  }
  const table = await client.query<FeeTerms>(
    'SELECT fee_type, amount, currency FROM referral_fee_terms WHERE workspace_id = $1 AND partner = $2',
    [workspaceId, partner],
  );
  return table.rows[0] ? { terms: table.rows[0], source: 'terms' } : undefined;
}

/**
 * Called with the transaction that writes a lead's placed/leased history row: records the fee its attributed
 * (first) source is owed, once per journey, with a `referral_fee.created` outbox event. A source that is not a
 * partner owes nothing; a referral partner without terms gets a fee whose amount is still unknown.
 */
export async function recordReferralFee(
  client: pg.PoolClient,
  args: {
    workspaceId: string;
    leadId: string;
    journey: number;
    wonStatus: 'placed' | 'leased';
    wonAt: string;
    context?: Record<string, unknown>;
  },
): Promise<void> {
  const { rows } = await client.query<{
    source: string;
    property_id: string | null;
    custom_data: Record<string, unknown>;
  }>('SELECT source, property_id, custom_data FROM leads WHERE workspace_id = $1 AND id = $2', [
    args.workspaceId,
    args.leadId,
  ]);
  const lead = rows[0];
  const partner = lead ? feePartnerOf(lead.source) : undefined;
  if (!lead || !partner) return;
  const found = await termsFor(client, args.workspaceId, partner, lead.property_id);
  const planned = plannedReferralFee(partner, found, monthlyRentOf(args.context, lead.custom_data));
  if (!planned) return;
  const inserted = await client.query<ReferralFeeRecord>(
    `INSERT INTO referral_fees (workspace_id, lead_id, journey, partner, property_id, won_status, won_at, terms_source,
                                fee_type, rate, monthly_rent, amount, currency)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (lead_id, journey) DO NOTHING RETURNING *`,
    [
      args.workspaceId,
      args.leadId,
      args.journey,
      partner,
      lead.property_id,
      args.wonStatus,
      args.wonAt,
      planned.terms_source,
      planned.fee_type,
      planned.rate,
      planned.monthly_rent,
      planned.amount,
      planned.currency,
    ],
  );
  const fee = inserted.rows[0];
  // An imported win is owed like any other, but it is no news to announce (docs/imports.md).
  if (!fee || args.context?.imported === true) return;
  await client.query(
    `INSERT INTO outbox_events (idempotency_key, workspace_id, lead_id, event_type, data)
     VALUES ($1, $2, $3, 'referral_fee.created', $4) ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      idempotencyKey('referral_fee', fee.id, 'created'),
      args.workspaceId,
      args.leadId,
      JSON.stringify(referralFeeJson(fee)),
    ],
  );
}

export async function getReferralFee(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<ReferralFeeRecord | undefined> {
  const { rows } = await pool.query<ReferralFeeRecord>(
    'SELECT * FROM referral_fees WHERE workspace_id = $1 AND id = $2',
    [workspaceId, id],
  );
  return rows[0];
}

export interface ReferralFeeFilter {
  partner?: string;
  status?: ReconciliationStatus[];
  leadId?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: { wonAt: string; id: string };
  /** false: no totals and summary (an export reads every page and needs none). */
  counts?: boolean;
}

export interface PartnerSummary {
  partner: string;
  fees: number;
  total_amount: number;
  /** Not yet paid (pending, reported, invoiced), excluding disputed. */
  owed: number;
  unknown_amounts: number;
  by_status: Record<string, number>;
}

/** Newest won first, with the filter's total and a per-partner summary of what is owed. */
export async function listReferralFees(
  pool: pg.Pool,
  workspaceId: string,
  filter: ReferralFeeFilter,
): Promise<{ rows: ReferralFeeRecord[]; total: number; summary: PartnerSummary[] }> {
  const where = ['workspace_id = $1'];
  const params: unknown[] = [workspaceId];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filter.partner) add((n) => `partner = ${n}`, filter.partner);
  if (filter.status?.length) add((n) => `status = ANY(${n})`, filter.status);
  if (filter.leadId) add((n) => `lead_id = ${n}`, filter.leadId);
  if (filter.from) add((n) => `won_at >= ${n}`, filter.from);
  if (filter.to) add((n) => `won_at < ${n}`, filter.to);
  const filtered = where.join(' AND ');
  const counted = [...params];
  if (filter.cursor) {
    params.push(filter.cursor.wonAt, filter.cursor.id);
    where.push(`(won_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(filter.limit);
  const [page, summary] = await Promise.all([
    pool.query<ReferralFeeRecord>(
      `SELECT * FROM referral_fees WHERE ${where.join(' AND ')} ORDER BY won_at DESC, id DESC LIMIT $${params.length}`,
      params,
    ),
    filter.counts === false
      ? { rows: [] as { partner: string; status: string; fees: number; total: number; unknown: number }[] }
      : pool.query<{ partner: string; status: string; fees: number; total: number; unknown: number }>(
          `SELECT partner, status, count(*)::int AS fees, COALESCE(sum(amount), 0)::float8 AS total,
                  count(*) FILTER (WHERE amount IS NULL)::int AS unknown
             FROM referral_fees WHERE ${filtered} GROUP BY partner, status ORDER BY partner, status`,
          counted,
        ),
  ]);
  const byPartner = new Map<string, PartnerSummary>();
  for (const row of summary.rows) {
    const entry = byPartner.get(row.partner) ?? {
      partner: row.partner,
      fees: 0,
      total_amount: 0,
      owed: 0,
      unknown_amounts: 0,
      by_status: {},
    };
    entry.fees += row.fees;
    entry.total_amount = Math.round((entry.total_amount + row.total) * 100) / 100;
    if (['pending', 'reported', 'invoiced'].includes(row.status)) {
      entry.owed = Math.round((entry.owed + row.total) * 100) / 100;
    }
    entry.unknown_amounts += row.unknown;
    entry.by_status[row.status] = row.fees;
    byPartner.set(row.partner, entry);
  }
  const total = [...byPartner.values()].reduce((sum, p) => sum + p.fees, 0);
  return { rows: page.rows, total, summary: [...byPartner.values()] };
}

export interface ReferralFeePatch {
  status?: ReconciliationStatus;
  amount?: number;
  monthlyRent?: number;
  invoiceNumber?: string;
  notes?: string;
}

/**
 * Reconciliation: moves the status along RECONCILIATION_TRANSITIONS (409 with the allowed ones otherwise),
 * stamps when it happened, and may set the amount (or the monthly rent a percentage fee needs).
 */
export async function updateReferralFee(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  patch: ReferralFeePatch,
): Promise<ReferralFeeRecord | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<ReferralFeeRecord>(
      'SELECT * FROM referral_fees WHERE workspace_id = $1 AND id = $2 FOR UPDATE',
      [workspaceId, id],
    );
    const fee = rows[0];
    if (!fee) return undefined;
    const to = patch.status;
    if (to && to !== fee.status && !RECONCILIATION_TRANSITIONS[fee.status].includes(to)) {
      throw new AppError('conflict', `a ${fee.status} referral fee cannot become ${to}`, {
        from: fee.status,
        to,
        allowed: RECONCILIATION_TRANSITIONS[fee.status],
      });
    }
    const monthlyRent = patch.monthlyRent ?? fee.monthly_rent;
    const computed =
      patch.monthlyRent !== undefined && fee.fee_type && fee.rate !== null
        ? feeAmount(
            { fee_type: fee.fee_type as FeeTerms['fee_type'], amount: fee.rate, currency: fee.currency },
            monthlyRent,
          )
        : null;
    const stamp = to && to !== fee.status ? `${to}_at` : null;
    const { rows: updated } = await client.query<ReferralFeeRecord>(
      `UPDATE referral_fees
          SET status = COALESCE($3, status), amount = COALESCE($4, $5, amount), monthly_rent = COALESCE($6, monthly_rent),
              invoice_number = COALESCE($7, invoice_number), notes = COALESCE($8, notes),
              ${stamp ? `${stamp} = now(),` : ''} updated_at = now()
        WHERE workspace_id = $1 AND id = $2 RETURNING *`,
      [
        workspaceId,
        id,
        to ?? null,
        patch.amount ?? null,
        computed,
        patch.monthlyRent ?? null,
        patch.invoiceNumber ?? null,
        patch.notes ?? null,
      ],
    );
    const result = updated[0]!;
    if (to && to !== fee.status) {
      await client.query(
        `INSERT INTO outbox_events (idempotency_key, workspace_id, lead_id, event_type, data)
         VALUES ($1, $2, $3, 'referral_fee.status_changed', $4)`,
        [
          idempotencyKey('referral_fee', id, 'status', to, result.updated_at.toISOString()),
          workspaceId,
          fee.lead_id,
          JSON.stringify({ ...referralFeeJson(result), previous_status: fee.status }),
        ],
      );
    }
    return result;
  });
}

export async function listFeeTerms(
  pool: pg.Pool,
  workspaceId: string,
): Promise<(FeeTerms & { partner: string; updated_at: Date })[]> {
  const { rows } = await pool.query<FeeTerms & { partner: string; updated_at: Date }>(
    'SELECT partner, fee_type, amount, currency, updated_at FROM referral_fee_terms WHERE workspace_id = $1 ORDER BY partner',
    [workspaceId],
  );
  return rows;
}

export async function setFeeTerms(
  pool: pg.Pool,
  workspaceId: string,
  partner: PartnerName,
  terms: FeeTerms,
): Promise<FeeTerms & { partner: string; updated_at: Date }> {
  const { rows } = await pool.query<FeeTerms & { partner: string; updated_at: Date }>(
    `INSERT INTO referral_fee_terms (workspace_id, partner, fee_type, amount, currency) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (workspace_id, partner) DO UPDATE
       SET fee_type = EXCLUDED.fee_type, amount = EXCLUDED.amount, currency = EXCLUDED.currency, updated_at = now()
     RETURNING partner, fee_type, amount, currency, updated_at`,
    [workspaceId, partner, terms.fee_type, terms.amount, terms.currency],
  );
  return rows[0]!;
}

export async function deleteFeeTerms(pool: pg.Pool, workspaceId: string, partner: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    'DELETE FROM referral_fee_terms WHERE workspace_id = $1 AND partner = $2',
    [workspaceId, partner],
  );
  return (rowCount ?? 0) > 0;
}
