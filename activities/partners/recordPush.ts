// The partner push pattern: find or create the lead's record (a record of another person is a conflict), write
// the status, find the record again once when the id we knew vanished, read back. Adapters supply the steps.
import { normalizeEmail, toE164 } from '../../shared/contact';
import type { PartnerName } from '../../shared/lifecycle';
import { PartnerError } from './http';
import type { PartnerLead, PushResult } from './types';

/** The lead's record at the partner, as a push resolved it. */
export interface PartnerRecord {
  /** Undefined while the write is still to create the record (ResMan posts new prospects). */
  externalId?: string;
  /** The push created (or is to create) it; when undefined the result carries no `createdRecord`. */
  created?: boolean;
}

/** A record holding the lead's email or phone under another person's contact fields: not linked. */
export interface ContactConflict {
  conflict: { externalId: string; fields: string[] };
}

export interface Written {
  code: number;
  /** The lead's id at the partner, as the write reports it. */
  externalId?: string;
}

export interface RecordPushSteps<R extends PartnerRecord, W extends Written> {
  partner: PartnerName;
  /** The partner's word for the record, for messages: contact, Lead, prospect. */
  noun: string;
  /** Finds or creates the lead's record; called once more without `externalId` when the known one vanished. */
  resolve(lead: PartnerLead): Promise<R | ContactConflict>;
  /** The record already shows this push (a retry after a lost answer, or the partner moved it first). */
  applied?(record: R): boolean;
  /** Writes the status: `vanished` when the record is gone, or a final result (Salesforce's converted Lead). */
  write(record: R): Promise<W | 'vanished' | PushResult>;
  /** Undefined when the record shows the write; else what it shows instead, or a final result. */
  readBack(record: R, written: W): Promise<string | PushResult | undefined>;
}

export async function pushToRecord<R extends PartnerRecord, W extends Written>(
  lead: PartnerLead,
  steps: RecordPushSteps<R, W>,
): Promise<PushResult> {
  const record = await steps.resolve(lead);
  if ('conflict' in record) {
    return {
      outcome: 'conflict',
      code: 200,
      externalId: record.conflict.externalId,
      detail: `${conflictDetail(steps.partner, steps.noun, record)}: not linked, nothing written`,
    };
  }
  const confirmed = (code: number, externalId?: string): PushResult => ({
    outcome: 'success',
    code,
    externalId,
    ...(record.created === undefined ? {} : { createdRecord: record.created }),
    readBack: 'confirmed',
  });
  if (steps.applied?.(record)) return confirmed(200, record.externalId);
  const written = await steps.write(record);
  if (written === 'vanished') {
    // Deleted or merged away at the partner: find or create the lead's record again, once.
    if (lead.externalId) return pushToRecord({ ...lead, externalId: undefined }, steps);
    throw new PartnerError(
      steps.partner,
      'retryable',
      `${steps.partner} lost ${steps.noun} ${record.externalId} while writing to it`,
      { status: 404 },
    );
  }
  if ('outcome' in written) return written;
  // Read after write: a 2xx that changed nothing (a workflow or trigger reverting it) is not success.
  const seen = await steps.readBack(record, written);
  if (typeof seen === 'object') return seen;
  if (seen === undefined) return confirmed(written.code, written.externalId);
  return { outcome: 'not_applied', code: written.code, externalId: written.externalId, detail: seen };
}

/** Contact fields as a partner or the lead hold them. */
export interface ContactFields {
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  phone?: string | null;
}

const normalize = {
  name: (value?: string | null) => value?.trim().toLowerCase().replace(/\s+/g, ' ') || undefined,
  email: normalizeEmail,
  // E.164, so "(303) 555-0147" is "+13035550147" but "+44 303 555 0147" is not. A number libphonenumber cannot
  // read is compared by its digits: it never passes for a valid one.
  phone: (value?: string | null) => toE164(value) ?? (value?.replace(/\D/g, '') || undefined),
};

/** Contact fields both hold with different values (field names only, never the values). */
export function contactMismatches(theirs: ContactFields, ours: ContactFields): string[] {
  return (['firstName', 'lastName', 'email', 'phone'] as const).filter((field) => {
    const norm = field === 'email' || field === 'phone' ? normalize[field] : normalize.name;
    const a = norm(theirs[field]);
    const b = norm(ours[field]);
    return a !== undefined && b !== undefined && a !== b;
  });
}

/**
 * The partner's record of the lead's person, for a lead whose id there we do not know: searched by email, then
 * by phone, the first search that finds any deciding. A record whose every contact field both hold agrees is
 * linked; otherwise the first found is a conflict (ResMan's lesson: merging mismatched contacts overwrote
 * residents' names). Undefined when no search finds one.
 */
export async function matchContact<T extends ContactFields>(
  lead: PartnerLead,
  search: (by: 'email' | 'phone', value: string) => Promise<T[]>,
  idOf: (record: T) => string,
): Promise<{ match: T } | ContactConflict | undefined> {
  for (const by of ['email', 'phone'] as const) {
    const value = lead[by];
    const found = value ? await search(by, value) : [];
    if (found.length === 0) continue;
    const exact = found.find((record) => contactMismatches(record, lead).length === 0);
    if (exact) return { match: exact };
    return { conflict: { externalId: idOf(found[0]!), fields: contactMismatches(found[0]!, lead) } };
  }
  return undefined;
}

/** upsertLead's answer to a conflict: final, nothing linked. */
export function contactConflictError(
  partner: PartnerName,
  noun: string,
  conflict: ContactConflict,
): PartnerError {
  return new PartnerError(partner, 'final', `${conflictDetail(partner, noun, conflict)}: not linked`, {
    partnerCode: 'contact_conflict',
  });
}

function conflictDetail(partner: PartnerName, noun: string, { conflict }: ContactConflict): string {
  return (
    `${partner} ${noun} ${conflict.externalId} has this lead's email or phone but a different ` +
    conflict.fields.join(', ')
  );
}
