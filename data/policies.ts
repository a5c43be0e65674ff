// Journey policy (a workspace's pipeline, follow-ups, rules and connected partners, its property's vertical and
// zone), read in one round trip and kept by PolicyCache until Postgres notifies a change; and the context a
// journey run starts from, built from a policy and a lead's projection.
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { DEFAULT_FOLLOW_UP_POLICY } from '../shared/journey/followUps';
import type { WorkflowRule } from '../shared/journey/rules';
import type { FollowUpPolicy, JourneyContext, JourneyPolicy } from '../shared/journey/types';
import {
  DEFAULT_PIPELINE,
  isStatus,
  type PartnerName,
  type Pipeline,
  type Vertical,
} from '../shared/lifecycle';
import { NotifiedCache, type ConfigListener } from './configCache';

/** What a workspace (and the lead's property) decides for every journey in it: the policy less the clock. */
export interface PolicyBasis {
  vertical: Vertical;
  pipeline: Pipeline;
  connectedPartners: PartnerName[];
  followUps: FollowUpPolicy;
  rules: WorkflowRule[];
  zone: string;
}

/**
 * Journey policies by workspace and property, kept until Postgres notifies a change in the workspace (its
 * pipeline or follow-ups, a property, an integration, a rule) or `ttlMs` passes.
 */
export class PolicyCache {
  private readonly cache: NotifiedCache<string, PolicyBasis>;

  constructor(
    private readonly pool: pg.Pool,
    listener: ConfigListener,
    /** Partners whose adapters push statuses (activities/partners takesPushes). */
    private readonly pushesTo: (partner: string) => partner is PartnerName,
    ttlMs = 30_000,
  ) {
    this.cache = new NotifiedCache(listener, {
      ttlMs,
      affects: (key, change) => key.startsWith(`${change.workspaceId}|`),
    });
  }

  /** The basis with the live part read fresh beside the lead (its signal then starts a run that reads nothing). */
  withLive(basis: PolicyBasis, live: LivePolicyRow): PolicyBasis {
    const fresh = livePolicyOf(live, this.pushesTo);
    return { ...basis, connectedPartners: fresh.connectedPartners, rules: fresh.rules, zone: fresh.timeZone };
  }

  get(workspaceId: string, propertyId: string | null): Promise<PolicyBasis> {
    return this.cache.get(`${workspaceId}|${propertyId ?? ''}`, () =>
      loadPolicyBasis(this.pool, workspaceId, propertyId, this.pushesTo),
    );
  }
}

/** The policy of a workspace and property, in one round trip. */
export async function loadPolicyBasis(
  pool: pg.Pool,
  workspaceId: string,
  propertyId: string | null,
  pushesTo: (partner: string) => partner is PartnerName,
): Promise<PolicyBasis> {
  // The live part (partners pushed to, active rules, zone) as the journeys' own reads get it: one function.
  const { rows } = await pool.query<{
    vertical: Vertical | null;
    pipeline: Pipeline | null;
    follow_up_policy: Partial<FollowUpPolicy> | null;
    live: LivePolicyRow;
  }>(
    `SELECT p.vertical, w.pipeline, w.follow_up_policy, leadrelay_live_policy(w.id, $2) AS live
       FROM workspaces w
       LEFT JOIN properties p ON p.workspace_id = w.id AND p.id = $2
      WHERE w.id = $1`,
    [workspaceId, propertyId],
  );
  const row = rows[0];
  if (!row) {
    throw ApplicationFailure.create({
      type: 'lead_not_found',
      message: `workspace ${workspaceId} does not exist`,
      nonRetryable: true,
    });
  }
  const live = livePolicyOf(row.live, pushesTo);
  return {
    // A lead without a property follows the multifamily lifecycle (won = leased) until it gets one.
    vertical: row.vertical ?? 'multifamily',
    pipeline: row.pipeline ?? DEFAULT_PIPELINE,
    connectedPartners: live.connectedPartners,
    followUps: { ...DEFAULT_FOLLOW_UP_POLICY, ...(row.follow_up_policy ?? {}) },
    rules: live.rules,
    zone: live.timeZone,
  };
}

/** The parts of a policy staff change while journeys run: the partners pushed to, active rules, the time zone. */
export type LivePolicy = Required<Pick<JourneyPolicy, 'connectedPartners' | 'rules' | 'timeZone'>>;

/** The live policy as Postgres reads it (leadrelay_live_policy): every partner with credentials, pushing or not. */
export interface LivePolicyRow {
  partners: string[];
  rules: WorkflowRule[];
  zone: string | null;
}

/** The live policy of a row, keeping the partners whose adapters push. */
export function livePolicyOf(
  row: LivePolicyRow,
  pushesTo: (partner: string) => partner is PartnerName,
): LivePolicy {
  return { connectedPartners: row.partners.filter(pushesTo), rules: row.rules, timeZone: row.zone ?? 'UTC' };
}

/** A lead's projection as a run starts from it. */
export interface LeadProjection {
  propertyId: string | null;
  status: string;
  journey: number;
  seq: number;
  source: string;
  sources: string[];
  hasEmail: boolean;
  hasPhone: boolean;
  createdAt: Date;
  statusChangedAt: Date;
}

/** The context a journey run starts from: the policy (with the zone's offset now) and the lead's projection. */
export function journeyContext(basis: PolicyBasis, lead: LeadProjection): JourneyContext {
  const { zone, ...policy } = basis;
  return {
    // `timeZone` is what this release reads; the offset is for workers of the previous release in a rolling deploy.
    policy: { ...policy, timeZone: zone, utcOffsetMinutes: utcOffsetMinutes(zone, new Date()) },
    propertyId: lead.propertyId ?? undefined,
    status: isStatus(lead.status) ? lead.status : 'new',
    journey: lead.journey,
    seq: lead.seq,
    source: lead.source,
    sources: lead.sources,
    facts: { hasEmail: lead.hasEmail, hasPhone: lead.hasPhone },
    createdAt: lead.createdAt.toISOString(),
    statusChangedAt: lead.statusChangedAt.toISOString(),
  };
}

/** One formatter per zone: building an Intl.DateTimeFormat costs more than the rest of a context load. */
const offsetFormats = new Map<string, Intl.DateTimeFormat>();
/** The offset last worked out per zone, with the minute it holds for: formatting it per lead shows in profiles. */
const offsets = new Map<string, { minute: number; minutes: number }>();

/** The zone's offset from UTC at `at`, in minutes (0 for an unknown zone). */
function utcOffsetMinutes(zone: string, at: Date): number {
  const minute = Math.floor(at.getTime() / 60_000);
  const known = offsets.get(zone);
  if (known?.minute === minute) return known.minutes;
  let minutes = 0;
  try {
    let format = offsetFormats.get(zone);
    if (!format) {
      format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
      offsetFormats.set(zone, format);
    }
    const parts = format.formatToParts(at);
    const match = /GMT([+-])(\d{2}):(\d{2})/.exec(parts.find((p) => p.type === 'timeZoneName')?.value ?? '');
    minutes = match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
  } catch {
    minutes = 0;
  }
  offsets.set(zone, { minute, minutes });
  return minutes;
}
