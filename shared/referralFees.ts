// Referral fees as data: fee terms, reconciliation statuses and the moves between them, and the fee itself.
import { z } from 'zod';
import type { PartnerName } from './lifecycle';

export const FEE_TYPES = ['flat', 'percent_of_monthly_rent'] as const;
export type FeeType = (typeof FEE_TYPES)[number];

export interface FeeTerms {
  fee_type: FeeType;
  /** flat: the fee in `currency`; percent_of_monthly_rent: the percentage (100 = one month's rent). */
  amount: number;
  currency: string;
}

/** Partners whose referrals owe a fee even before terms are set: the fee is recorded with an unknown amount. */
export const REFERRAL_PARTNERS: readonly PartnerName[] = ['apfm', 'caring'];

export const RECONCILIATION_STATUSES = ['pending', 'reported', 'invoiced', 'paid', 'disputed'] as const;
export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number];

/** Reconciliation: report the move-in or lease to the partner, get invoiced, pay; any step may be disputed. */
export const RECONCILIATION_TRANSITIONS: Record<ReconciliationStatus, readonly ReconciliationStatus[]> = {
  pending: ['reported', 'disputed'],
  reported: ['invoiced', 'disputed'],
  invoiced: ['paid', 'disputed'],
  paid: ['disputed'],
  disputed: ['pending', 'reported', 'invoiced', 'paid'],
};

/** The fee the terms give, or null when it needs a monthly rent that is not known. */
export function feeAmount(terms: FeeTerms, monthlyRent: number | null | undefined): number | null {
  if (terms.fee_type === 'flat') return round2(terms.amount);
  if (monthlyRent === null || monthlyRent === undefined) return null;
  return round2((terms.amount / 100) * monthlyRent);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Fee terms as given to the API or in an integration's `config.referral_fee`. */
export const FeeTermsSchema = z
  .object({
    fee_type: z.enum(FEE_TYPES),
    amount: z.number().min(0).max(1_000_000_000),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 code, e.g. USD')
      .default('USD'),
  })
  .strict();
