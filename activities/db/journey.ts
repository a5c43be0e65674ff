// Journey persistence: the context a run starts from, and each decision's effects written in one
// transaction (history, projection, staff tasks, outbox, sync rows), idempotent by effect key.
import { ApplicationFailure } from '@temporalio/activity';
import type pg from 'pg';
import type { LeadStatus } from '../../shared/lifecycle';
import type { Effect, JourneyContext } from '../../shared/journey/types';
import { takesPushes } from '../partners';
import { loadLivePolicy, type LivePolicy } from './livePolicy';
import { journeyContext, loadPolicyBasis, type PolicyCache } from '../../data/policies';
import { withTransaction } from '../../data/pool';
import { recordReferralFee } from '../../data/referralFees';
import { recordEnrolment } from '../../data/sequences';
import { cancelLeadTour } from '../../data/tours';
import type { SequenceMatch, TriggerMoment } from '../../shared/journey/sequences';
import { matchSequences } from '../sequences';

export interface ProjectionUpdate {
  status: LeadStatus;
  statusChangedAt: string;
  updatedAt: string;
  propertyId?: string;
  source: string;
  sources: string[];
  /** Last history seq this decision wrote (or the previous one when it wrote none). */
  seq: number;
  /** The earliest pending follow-up, or null when none is due. */
  nextFollowUpAt?: string | null;
}

export interface RecordJourneyChangeInput {
  workspaceId: string;
  leadId: string;
  journey: number;
  effects: Effect[];
  projection: ProjectionUpdate;
  /**
   * The decision's trigger moments: the active sequences they enrol the lead in are read in the same transaction
   * and answered, so the journey needs no matchSequences activity of its own (patch 'fewer-tasks').
   */
  match?: { triggers: TriggerMoment[] };
}

/** What recording answers: the sequences the decision's trigger moments match, when asked. */
export interface RecordedJourneyChange {
  matches?: SequenceMatch[];
}

interface LeadRow {
  property_id: string | null;
  status: string;
  journey: number;
  projection_seq: number;
  source: string;
  sources: string[];
  has_email: boolean;
  has_phone: boolean;
  created_at: Date;
  status_changed_at: Date;
}

export interface LoadJourneyContextArgs {
  workspaceId: string;
  leadId: string;
  /**
   * Read the live policy too (partners, rules, zone: never from a cache), for the first event the journey decides;
   * an inquiry may bring the property when the lead has none.
   */
  livePolicyFor?: { propertyId?: string };
}

/** The projection and policy, and the live policy when asked for. */
export type LoadedJourneyContext = JourneyContext & { live?: LivePolicy };

/**
 * The context a journey run starts from: the lead's projection (one read) and its workspace's policy (from the
 * cache when one is given). Loaded by the journey itself, once per run: nothing else loads it. Asked for,
 * the live policy too, read fresh after the projection (one more read).
 */
export async function loadJourneyContext(
  pool: pg.Pool,
  args: LoadJourneyContextArgs,
  policies?: PolicyCache,
): Promise<LoadedJourneyContext> {
  const { rows } = await pool.query<LeadRow>(
    `SELECT property_id, status, journey, projection_seq, source, sources, email_normalized IS NOT NULL AS has_email,
            phone_e164 IS NOT NULL AS has_phone, created_at, status_changed_at
       FROM leads WHERE workspace_id = $1 AND id = $2`,
    [args.workspaceId, args.leadId],
  );
  const row = rows[0];
  if (!row) {
    throw ApplicationFailure.create({
      type: 'lead_not_found',
      message: `lead ${args.leadId} does not exist in workspace ${args.workspaceId}`,
      nonRetryable: true,
    });
  }
  const basis = policies
    ? await policies.get(args.workspaceId, row.property_id)
    : await loadPolicyBasis(pool, args.workspaceId, row.property_id, takesPushes);
  const propertyId = row.property_id ?? args.livePolicyFor?.propertyId;
  const live = args.livePolicyFor
    ? await loadLivePolicy(pool, { workspaceId: args.workspaceId, ...(propertyId ? { propertyId } : {}) })
    : undefined;
  const context = journeyContext(basis, {
    propertyId: row.property_id,
    status: row.status,
    journey: row.journey,
    seq: row.projection_seq,
    source: row.source,
    sources: row.sources,
    hasEmail: row.has_email,
    hasPhone: row.has_phone,
    createdAt: row.created_at,
    statusChangedAt: row.status_changed_at,
  });
  return live ? { ...context, live } : context;
}

export async function recordJourneyChange(
  pool: pg.Pool,
  input: RecordJourneyChangeInput,
): Promise<RecordedJourneyChange> {
  const { workspaceId, leadId, journey } = input;
  return withTransaction(pool, async (client): Promise<RecordedJourneyChange> => {
    for (const effect of input.effects) {
      switch (effect.kind) {
        case 'record_history': {
          const e = effect.entry;
          await client.query(
            `INSERT INTO status_history (idempotency_key, workspace_id, lead_id, journey, seq, entry_type, old_status,
                                         new_status, reason, source, actor, direction, context, event_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (idempotency_key) DO NOTHING`,
            [
              effect.key,
              workspaceId,
              leadId,
              journey,
              e.seq,
              e.type,
              e.oldStatus,
              e.newStatus,
              e.reason ?? null,
              e.source,
              e.actor ?? null,
              e.direction,
              JSON.stringify(e.context ?? {}),
              e.eventId,
              e.at,
            ],
          );
          // A tour called off (cancelled, a no-show, the lead lost) frees its self-scheduled seat.
          const calledOff = e.newStatus === 'qualified' || e.newStatus === 'lost';
          if (e.type === 'applied' && e.oldStatus === 'tour_scheduled' && calledOff) {
            await cancelLeadTour(client, workspaceId, leadId, e.reason ?? `status ${e.newStatus}`);
          }
          // A won lead owes its referral partner a fee, recorded with the row that won it.
          if (e.type === 'applied' && (e.newStatus === 'placed' || e.newStatus === 'leased')) {
            await recordReferralFee(client, {
              workspaceId,
              leadId,
              journey,
              wonStatus: e.newStatus,
              wonAt: e.at,
              context: e.context,
            });
          }
          break;
        }
        case 'alert_staff':
          await client.query(
            `INSERT INTO staff_tasks (idempotency_key, workspace_id, lead_id, kind, details)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
            [effect.key, workspaceId, leadId, effect.reason, JSON.stringify(effect.details)],
          );
          break;
        case 'emit_webhook':
          await client.query(
            `INSERT INTO outbox_events (idempotency_key, workspace_id, lead_id, event_type, data)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
            [effect.key, workspaceId, leadId, effect.eventType, JSON.stringify(effect.data)],
          );
          break;
        case 'notify':
          await client.query(
            `INSERT INTO notifications (idempotency_key, workspace_id, lead_id, audience, template, priority, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING`,
            [
              effect.key,
              workspaceId,
              leadId,
              effect.audience,
              effect.template,
              effect.priority,
              JSON.stringify(effect.data),
            ],
          );
          break;
        case 'sequence_enrolment':
          await recordEnrolment(client, { workspaceId, leadId, journey, enrolment: effect.enrolment });
          break;
        case 'push_partner':
          await client.query(
            `INSERT INTO partner_syncs (idempotency_key, workspace_id, lead_id, partner, status, partner_value, causation_id,
                                        origin)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING`,
            [
              effect.key,
              workspaceId,
              leadId,
              effect.partner,
              effect.status,
              effect.value ?? null,
              effect.causationId,
              effect.origin ?? null,
            ],
          );
          break;
      }
    }
    const p = input.projection;
    // Decisions of one lead may commit out of order; (journey, seq) keeps the projection moving forward only.
    await client.query(
      `UPDATE leads
          SET status = $3, status_changed_at = $4, updated_at = GREATEST(updated_at, $5::timestamptz),
              property_id = COALESCE($6, property_id), source = $7, sources = $8, journey = $9, projection_seq = $10,
              next_follow_up_at = CASE WHEN $11 THEN $12::timestamptz ELSE next_follow_up_at END
        WHERE workspace_id = $1 AND id = $2 AND (journey, projection_seq) <= ($9, $10)`,
      [
        workspaceId,
        leadId,
        p.status,
        p.statusChangedAt,
        p.updatedAt,
        p.propertyId ?? null,
        p.source,
        p.sources,
        journey,
        p.seq,
        p.nextFollowUpAt !== undefined,
        p.nextFollowUpAt ?? null,
      ],
    );
    if (!input.match) return {};
    const matches = await matchSequences(client, {
      workspaceId,
      leadId,
      ...(p.propertyId !== undefined ? { propertyId: p.propertyId } : {}),
      triggers: input.match.triggers,
    });
    return { matches };
  });
}

export interface AbandonJourneyChangeInput {
  workspaceId: string;
  leadId: string;
  /** The decision's sequence number: one task per decision, however often the journey asks. */
  seq: number;
  /** Statuses and effect kinds only (no personal data), as the Temporal UI shows them. */
  summary: string;
  error: string;
}

/** A decision whose effects could not be recorded for good: a staff task says which and why. */
export async function abandonJourneyChange(pool: pg.Pool, input: AbandonJourneyChangeInput): Promise<void> {
  await pool.query(
    `INSERT INTO staff_tasks (idempotency_key, workspace_id, lead_id, kind, details)
     VALUES ($1, $2, $3, 'journey_change_failed', $4) ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      `journey-change-failed:${input.leadId}:${input.seq}`,
      input.workspaceId,
      input.leadId,
      JSON.stringify({ change: input.summary, error: input.error }),
    ],
  );
}
