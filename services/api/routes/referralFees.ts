// /api/v1/referral-fees (what each partner is owed for attributed move-ins and leases, and its reconciliation)
// and /api/v1/referral-fee-terms (a workspace's terms per partner, when its integration config has none).
import { Router } from 'express';
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
import { getWorkspace } from '../../../data/workspaces';
import { resolveRange } from '../../../shared/dateRange';
import { AppError } from '../../../shared/errors';
import { PARTNERS } from '../../../shared/lifecycle';
import { FeeTermsSchema, RECONCILIATION_STATUSES } from '../../../shared/referralFees';
import { parse, route } from '../../common/http';
import { principal, requirePermission } from '../auth';
import { sendTable } from '../csv';
import { csvList, decodeCursor, encodeCursor, invalidCursor, isoDate, uuid } from '../schemas';

export const ListReferralFeesQuery = z.object({
  partner: z.enum(PARTNERS).optional(),
  status: csvList(RECONCILIATION_STATUSES).optional(),
  lead_id: uuid.optional(),
  from_date: isoDate.optional(),
  to_date: isoDate.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(500).optional(),
});

export const UpdateReferralFeeBody = z
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

export const FeeTermsBody = FeeTermsSchema;

const partnerParam = z.enum(PARTNERS);

function termsJson(terms: Awaited<ReturnType<typeof listFeeTerms>>[number]) {
  return { ...terms, updated_at: terms.updated_at.toISOString() };
}

export function referralFeesRouter(pool: pg.Pool): Router {
  const router = Router();

  router.get(
    '/',
    requirePermission('read'),
    route(async (req, res) => {
      const query = parse(ListReferralFeesQuery, req.query, 'query');
      const { workspaceId } = principal(req);
      const range =
        query.from_date || query.to_date
          ? resolveRange({
              from: query.from_date,
              to: query.to_date,
              zone: (await getWorkspace(pool, workspaceId))?.timezone ?? 'UTC',
            })
          : undefined;
      const cursor = query.cursor ? decodeCursor(query.cursor, ['wonAt', 'id']) : undefined;
      if (cursor && (Number.isNaN(Date.parse(cursor.wonAt)) || !uuid.safeParse(cursor.id).success)) {
        throw invalidCursor();
      }
      const { rows, total, summary } = await listReferralFees(pool, workspaceId, {
        partner: query.partner,
        status: query.status,
        leadId: query.lead_id,
        from: range?.from,
        to: range?.to,
        limit: query.limit + 1,
        cursor,
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      sendTable(
        req,
        res,
        {
          referral_fees: page.map(referralFeeJson),
          total_count: total,
          summary,
          next_cursor:
            rows.length > query.limit && last
              ? encodeCursor({ wonAt: last.won_at.toISOString(), id: last.id })
              : null,
        },
        () => ({
          name: 'referral-fees',
          columns: [
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
          ],
          rows: page.map(referralFeeJson),
        }),
      );
    }),
  );

  router.get(
    '/:id',
    requirePermission('read'),
    route(async (req, res) => {
      const id = String(req.params.id);
      const fee = uuid.safeParse(id).success
        ? await getReferralFee(pool, principal(req).workspaceId, id)
        : undefined;
      if (!fee) throw new AppError('not_found', `referral fee ${id} not found`);
      res.json(referralFeeJson(fee));
    }),
  );

  router.patch(
    '/:id',
    requirePermission('update'),
    route(async (req, res) => {
      const body = parse(UpdateReferralFeeBody, req.body);
      const id = String(req.params.id);
      const fee = uuid.safeParse(id).success
        ? await updateReferralFee(pool, principal(req).workspaceId, id, {
            status: body.status,
            amount: body.amount,
            monthlyRent: body.monthly_rent,
            invoiceNumber: body.invoice_number,
            notes: body.notes,
          })
        : undefined;
      if (!fee) throw new AppError('not_found', `referral fee ${id} not found`);
      res.json(referralFeeJson(fee));
    }),
  );

  return router;
}

export function feeTermsRouter(pool: pg.Pool): Router {
  const router = Router();

  router.get(
    '/',
    requirePermission('read'),
    route(async (req, res) => {
      const terms = await listFeeTerms(pool, principal(req).workspaceId);
      res.json({ terms: terms.map(termsJson) });
    }),
  );

  router.put(
    '/:partner',
    requirePermission('admin'),
    route(async (req, res) => {
      const partner = parse(partnerParam, req.params.partner, 'params');
      const body = parse(FeeTermsBody, req.body);
      res.json(termsJson(await setFeeTerms(pool, principal(req).workspaceId, partner, body)));
    }),
  );

  router.delete(
    '/:partner',
    requirePermission('admin'),
    route(async (req, res) => {
      const partner = String(req.params.partner);
      if (!(await deleteFeeTerms(pool, principal(req).workspaceId, partner))) {
        throw new AppError('not_found', `no referral fee terms for ${partner}`);
      }
      res.status(204).end();
    }),
  );

  return router;
}
