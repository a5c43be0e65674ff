// Referral fees as data: fee terms, reconciliation statuses and the moves between them, and the fee itself.
import { z } from 'zod';
import { PARTNERS, type PartnerName } from './lifecycle';

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

/** Terms as found for a partner: from its integration's config, or from the workspace's terms table. */
export interface FoundTerms {
  terms: FeeTerms;
  source: 'integration' | 'terms';
}

/** The fee a won lead owes, before it is stored (the what-if reports the same without storing it). */
export interface PlannedFee {
  partner: PartnerName;
  terms_source: 'integration' | 'terms' | 'none';
  fee_type: FeeType | null;
  rate: number | null;
  monthly_rent: number | null;
  amount: number | null;
  currency: string;
}

/** The partner a lead's attributed source owes a fee to, if that source is a partner. */
export function feePartnerOf(source: string): PartnerName | undefined {
  return (PARTNERS as readonly string[]).includes(source) ? (source as PartnerName) : undefined;
}

/** The monthly rent a percent-of-rent fee is taken from: the winning change's context, else the lead's data. */
export function monthlyRentOf(
  context: Record<string, unknown> | undefined,
  customData: Record<string, unknown> | undefined,
): number | null {
  return nonNegative(context?.monthly_rent) ?? nonNegative(customData?.monthly_rent) ?? null;
}

/**
 * The fee a partner is owed for a won lead: by its terms when it has some; a referral partner without terms is
 * still owed one of unknown amount; any other partner without terms, nothing.
 */
export function plannedReferralFee(
  partner: PartnerName,
  found: FoundTerms | undefined,
  monthlyRent: number | null,
): PlannedFee | undefined {
  if (!found && !REFERRAL_PARTNERS.includes(partner)) return undefined;
  return {
    partner,
    terms_source: found?.source ?? 'none',
    fee_type: found?.terms.fee_type ?? null,
    rate: found?.terms.amount ?? null,
    monthly_rent: monthlyRent,
    amount: found ? feeAmount(found.terms, monthlyRent) : null,
    currency: found?.terms.currency ?? 'USD',
  };
}

function nonNegative(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
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
