// /api/v1/referral-fees (what each partner is owed for attributed move-ins and leases, and its reconciliation)
// and /api/v1/referral-fee-terms (a workspace's terms per partner, when its integration config has none).
import type pg from 'pg';
import { z } from 'zod';
import {
  deleteFeeTerms,
  getReferralFee,
  listFeeTerms,
  listReferralFees,
  referralFeeJson,
  setFeeTerms,
  updateReferralFee,
} from '../../../data/referralFees';
import { resolveRange } from '../../../shared/dateRange';
import { AppError } from '../../../shared/errors';
import { PARTNERS } from '../../../shared/lifecycle';
import { FEE_TYPES, FeeTermsSchema, RECONCILIATION_STATUSES } from '../../../shared/referralFees';
import { mapPages, referralFeePages } from '../../../usecases/exports';
import { endpoint } from '../../common/endpoints';
import { principal } from '../auth';
import { exportTable } from '../csv';
import { byId, csvList, exportFormat, isoDate, paged, readCursor, time, uuid } from '../schemas';

const ListReferralFeesQuery = z.object({
  partner: z.enum(PARTNERS).optional(),
  status: csvList(RECONCILIATION_STATUSES).optional(),
  lead_id: uuid.optional(),
  from_date: isoDate.optional(),
  to_date: isoDate.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(500).optional(),
  format: exportFormat,
});

const UpdateReferralFeeBody = z
  .object({
    status: z.enum(RECONCILIATION_STATUSES).optional(),
    amount: z.number().min(0).max(1_000_000_000).optional(),
    monthly_rent: z.number().min(0).max(1_000_000_000).optional(),
    invoice_number: z.string().min(1).max(200).optional(),
    notes: z.string().max(5000).optional(),
  })
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: 'nothing to update',
    path: ['body'],
  });

const ReferralFee = z
  .object({
    id: z.uuid(),
    workspace_id: z.string(),
    lead_id: z.uuid(),
    journey: z.number().int(),
    partner: z.string().meta({ description: 'the attributed (first) referral source' }),
    property_id: z.string().nullable(),
    won_status: z.enum(['placed', 'leased']),
    won_at: time,
    terms_source: z.enum(['integration', 'terms', 'none']),
    fee_type: z.enum(FEE_TYPES).nullable(),
    rate: z.number().nullable(),
    monthly_rent: z.number().nullable(),
    amount: z.number().nullable().meta({ description: 'null until known (terms missing, or rent unknown)' }),
    currency: z.string(),
    status: z.enum(RECONCILIATION_STATUSES),
    allowed_next: z.array(z.enum(RECONCILIATION_STATUSES)),
    invoice_number: z.string().nullable(),
    notes: z.string().nullable(),
    reported_at: time.nullable(),
    invoiced_at: time.nullable(),
    paid_at: time.nullable(),
    disputed_at: time.nullable(),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'ReferralFee' });

const ReferralFeeList = z.object({
  referral_fees: z.array(ReferralFee),
  total_count: z.number().int(),
  summary: z.array(
    z.object({
      partner: z.string(),
      fees: z.number().int(),
      total_amount: z.number(),
      owed: z.number().meta({ description: 'pending, reported or invoiced (not paid, not disputed)' }),
      unknown_amounts: z.number().int(),
      by_status: z.record(z.string(), z.number().int()),
    }),
  ),
  next_cursor: z.string().nullable(),
});

const FeeTerms = z.object({
  partner: z.string(),
  fee_type: z.enum(FEE_TYPES),
  amount: z.number(),
  currency: z.string(),
  updated_at: time,
});

const CSV_COLUMNS = [
  'id',
  'partner',
  'lead_id',
  'property_id',
  'won_status',
  'won_at',
  'fee_type',
  'rate',
  'monthly_rent',
  'amount',
  'currency',
  'status',
  'invoice_number',
];

const termsJson = (terms: Awaited<ReturnType<typeof listFeeTerms>>[number]) => ({
  ...terms,
  updated_at: terms.updated_at.toISOString(),
});

export function referralFeeEndpoints(pool: pg.Pool) {
  return [
    endpoint({
      method: 'get',
      path: '/api/v1/referral-fees',
      tag: 'referral fees',
      summary: 'Referral fees owed per partner, with reconciliation status',
      description:
        'A fee is recorded when a lead whose attributed (first) source is a partner is placed or leased, from the terms in that partner’s integration config (`referral_fee`), else the workspace’s referral fee terms. Send `Accept: text/csv` for CSV or `?format=xlsx` for an Excel workbook: either holds every fee the filters select (paging is ignored), streamed.',
      permission: 'read',
      query: ListReferralFeesQuery,
      responses: {
        200: {
          description: 'fees and a per-partner summary',
          schema: ReferralFeeList,
          csv: true,
          xlsx: true,
        },
      },
      async handler({ query, req, res }) {
        const { workspaceId, timezone } = principal(req);
        const range =
          query.from_date || query.to_date
            ? resolveRange({ from: query.from_date, to: query.to_date, zone: timezone })
            : undefined;
        const filter = {
          partner: query.partner,
          status: query.status,
          leadId: query.lead_id,
          from: range?.from,
          to: range?.to,
        };
        const exported = await exportTable(req, res, () => ({
          name: 'referral-fees',
          columns: CSV_COLUMNS,
          pages: mapPages(referralFeePages(pool, workspaceId, filter), referralFeeJson),
        }));
        if (exported) return;
        const { rows, total, summary } = await listReferralFees(pool, workspaceId, {
          ...filter,
          limit: query.limit + 1,
          cursor: readCursor(query.cursor, 'wonAt'),
        });
        const { page, next_cursor } = paged(rows, query.limit, (last) => ({
          wonAt: last.won_at.toISOString(),
          id: last.id,
        }));
        return { referral_fees: page.map(referralFeeJson), total_count: total, summary, next_cursor };
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/referral-fees/:id',
      tag: 'referral fees',
      summary: 'Get a referral fee',
      permission: 'read',
      responses: { 200: { description: 'the fee', schema: ReferralFee } },
      async handler({ params, req }) {
        const fee = await byId(params.id, 'referral fee', (id) =>
          getReferralFee(pool, principal(req).workspaceId, id),
        );
        return referralFeeJson(fee);
      },
    }),
    endpoint({
      method: 'patch',
      path: '/api/v1/referral-fees/:id',
      tag: 'referral fees',
      summary: 'Reconcile a referral fee (status, amount, invoice number)',
      description:
        'Status moves: pending → reported → invoiced → paid; any of them → disputed; disputed → back. Setting `monthly_rent` computes a percentage fee.',
      permission: 'update',
      body: UpdateReferralFeeBody,
      responses: {
        200: { description: 'updated', schema: ReferralFee },
        409: { description: 'status move not allowed (details: from, to, allowed)' },
      },
      async handler({ params, body, req }) {
        const fee = await byId(params.id, 'referral fee', (id) =>
          updateReferralFee(pool, principal(req).workspaceId, id, {
            status: body.status,
            amount: body.amount,
            monthlyRent: body.monthly_rent,
            invoiceNumber: body.invoice_number,
            notes: body.notes,
          }),
        );
        return referralFeeJson(fee);
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/referral-fee-terms',
      tag: 'referral fees',
      summary: 'The workspace’s referral fee terms per partner',
      permission: 'read',
      responses: { 200: { description: 'terms', schema: z.object({ terms: z.array(FeeTerms) }) } },
      async handler({ req }) {
        const terms = await listFeeTerms(pool, principal(req).workspaceId);
        return { terms: terms.map(termsJson) };
      },
    }),
    endpoint({
      method: 'put',
      path: '/api/v1/referral-fee-terms/:partner',
      tag: 'referral fees',
      summary: 'Set a partner’s referral fee terms',
      description:
        'flat: `amount` in `currency`; percent_of_monthly_rent: `amount` percent of the monthly rent.',
      permission: 'admin',
      params: z.object({ partner: z.enum(PARTNERS) }),
      body: FeeTermsSchema,
      responses: { 200: { description: 'the terms', schema: FeeTerms } },
      async handler({ params, body, req }) {
        return termsJson(await setFeeTerms(pool, principal(req).workspaceId, params.partner, body));
      },
    }),
    endpoint({
      method: 'delete',
      path: '/api/v1/referral-fee-terms/:partner',
      tag: 'referral fees',
      summary: 'Remove a partner’s referral fee terms',
      permission: 'admin',
      responses: { 204: { description: 'removed' } },
      async handler({ params, req }) {
        if (!(await deleteFeeTerms(pool, principal(req).workspaceId, params.partner))) {
          throw new AppError('not_found', `no referral fee terms for ${params.partner}`);
        }
      },
    }),
  ];
}
