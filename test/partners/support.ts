// What the partner adapter tests share: the PartnerError a call ends with, status pushes to send, and the
// conflict a push answers over another person's record.
import { PartnerError } from '../../activities/partners/http';
import type { PartnerLead, StatusPush } from '../../activities/partners/types';
import type { LeadStatus } from '../../shared/lifecycle';

/** The PartnerError a call ends with; fails the test when it succeeds or throws something else. */
export async function partnerError(promise: Promise<unknown>): Promise<PartnerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PartnerError) return error;
    throw error;
  }
  throw new Error('expected a PartnerError');
}

let sequence = 0;

/** A staff status push of `lead`, with causation and idempotency ids of its own. */
export function statusPush(
  lead: PartnerLead,
  status: LeadStatus,
  value: string,
  occurredAt: string,
  overrides: Partial<StatusPush> = {},
): StatusPush {
  sequence += 1;
  return {
    lead,
    status,
    value,
    occurredAt,
    origin: 'staff',
    causationId: `evt_${sequence}`,
    idempotencyKey: `sync_${sequence}`,
    ...overrides,
  };
}

/** A push's answer when the partner's record holds the lead's email or phone but a different `field`. */
export function contactConflict(externalId: string, field: string) {
  return {
    outcome: 'conflict',
    code: 200,
    externalId,
    detail: expect.stringContaining(`different ${field}`),
  };
}
