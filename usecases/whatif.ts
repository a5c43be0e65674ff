// What-if replay: what a candidate change (a workflow rule or notification preference not yet saved, other
// follow-up timings, or this checkout's reducer) would have done to real leads, from their recorded events.
// Reads only: nothing is sent, written or signalled. Used by the api (POST /api/v1/admin/whatif) and the CLI.
import type pg from 'pg';
import { loadJourneyContext } from '../activities/db/journey';
import { termsFor } from '../data/referralFees';
import { listPreferences } from '../data/notifications';
import { loadLeadRecords, selectWhatIfLeads, type LeadSelection } from '../data/whatif';
import { getWorkspace } from '../data/workspaces';
import { smsConfigured, type Config } from '../shared/config';
import { resolveRange } from '../shared/dateRange';
import { decodeCursor, encodeCursor } from '../shared/cursor';
import { AppError } from '../shared/errors';
import type { JourneyPolicy } from '../shared/journey/types';
import type { NotificationPreference, PlanChannels } from '../shared/notifications/recipients';
import { feePartnerOf, type FoundTerms } from '../shared/referralFees';
import { emptyTotals, mergeTotals, totalsOf, type WhatIfTotals } from '../shared/whatif/diff';
import { evaluateLead, type Candidate, type LeadWhatIf } from '../shared/whatif/evaluate';
import type { LeadRecords } from '../shared/whatif/records';

/** Leads one request may examine; past it the request is refused (page with `cursor` instead). */
export const WHATIF_MAX_LEADS = 1000;
export const WHATIF_DEFAULT_LIMIT = 200;
/** Leads loaded and replayed together: one snapshot and one query per table for each chunk. */
const CHUNK = 100;

export interface WhatIfDeps {
  pool: pg.Pool;
  /** The notification channels the worker has (the what-if plans deliveries as the worker would). */
  channels: PlanChannels;
  now?: () => Date;
}

export interface WhatIfQuery {
  /** The caller's workspace (a workspace key sees only its own); undefined for the admin token. */
  workspaceId?: string;
  leadIds?: string[];
  filter?: { workspaceId?: string; propertyId?: string; statuses?: string[]; source?: string };
  /** Leads active in [from, to): created then, or with recorded events then; `to` also ends the replay. */
  fromDate?: string;
  toDate?: string;
  candidate: Candidate;
  limit?: number;
  cursor?: string;
}

export interface WhatIfReport {
  as_of: string;
  window: { from: string; to: string } | null;
  candidate: string[];
  leads: LeadWhatIf[];
  totals: WhatIfTotals;
  /** More leads match: ask again with this cursor. */
  next_cursor: string | null;
}

/**
 * The channels the worker has under this configuration, as the worker builds them (services/worker/channels.ts):
 * email with SMTP_URL (unset on the local stack means its mailbox), SMS with Twilio, Slack always.
 */
export function planChannelsOf(config: Config): PlanChannels {
  const email = Boolean(config.SMTP_URL) || config.DATABASE_URL === undefined;
  return {
    configured: new Set([
      ...(email ? (['email'] as const) : []),
      ...(smsConfigured(config) ? (['sms'] as const) : []),
      'slack' as const,
    ]),
    defaultSlackWebhookUrl: config.SLACK_WEBHOOK_URL,
  };
}

/** The candidate's parts by name, as the answer lists them. */
export function candidateKinds(candidate: Candidate): string[] {
  return [
    ...(candidate.rule ? ['workflow_rule'] : []),
    ...(candidate.preference ? ['notification_preference'] : []),
    ...(candidate.followUps ? ['follow_up_policy'] : []),
    ...(candidate.reducer ? ['reducer'] : []),
  ];
}

function encodeLeadCursor(lead: { createdAt: string; id: string }): string {
  return encodeCursor({ c: lead.createdAt, id: lead.id });
}

function decodeLeadCursor(cursor: string): { createdAt: string; id: string } {
  const value = decodeCursor(cursor, 'c');
  if (value) return { createdAt: value.c, id: value.id };
  throw new AppError('validation_failed', 'invalid body: cursor', {
    fields: [{ field: 'cursor', message: 'not a cursor returned by the what-if' }],
  });
}

function tooMany(field: string, count: number): AppError {
  return new AppError(
    'validation_failed',
    `a what-if examines at most ${WHATIF_MAX_LEADS} leads per request (${field}: ${count}); page through more with cursor`,
    { fields: [{ field, message: `at most ${WHATIF_MAX_LEADS}` }], max: WHATIF_MAX_LEADS },
  );
}

export async function runWhatIf(deps: WhatIfDeps, query: WhatIfQuery): Promise<WhatIfReport> {
  const now = (deps.now ?? (() => new Date()))();
  const workspaceId = scopeOf(query);
  const limit = query.limit ?? (query.leadIds ? query.leadIds.length : WHATIF_DEFAULT_LIMIT);
  if (query.leadIds && query.leadIds.length > WHATIF_MAX_LEADS)
    throw tooMany('lead_ids', query.leadIds.length);
  if (limit > WHATIF_MAX_LEADS) throw tooMany('limit', limit);

  const zone = (workspaceId && (await getWorkspace(deps.pool, workspaceId))?.timezone) || 'UTC';
  const window =
    query.fromDate || query.toDate
      ? resolveRange({ from: query.fromDate, to: query.toDate, zone }, now)
      : null;
  // The replay ends at the window's end, never in the future: what has not happened cannot be compared.
  const until = window && window.to < now.toISOString() ? window.to : now.toISOString();
  const selection: LeadSelection = {
    workspaceId,
    ...(query.leadIds ? { leadIds: [...new Set(query.leadIds)] } : {}),
    ...(query.filter?.propertyId ? { propertyId: query.filter.propertyId } : {}),
    ...(query.filter?.statuses?.length ? { statuses: query.filter.statuses } : {}),
    ...(query.filter?.source ? { source: query.filter.source } : {}),
    ...(window ? { activeFrom: window.from, activeTo: window.to } : {}),
    ...(query.cursor ? { after: decodeLeadCursor(query.cursor) } : {}),
    limit: limit + 1,
  };
  const selected = await selectWhatIfLeads(deps.pool, selection);
  if (query.leadIds) {
    const found = new Set(selected.map((lead) => lead.id));
    const missing = [...new Set(query.leadIds)].filter((id) => !found.has(id));
    // Another workspace's lead is simply not found: a workspace key learns nothing of it.
    if (missing.length > 0 && !window && !query.filter) {
      throw new AppError('not_found', `${missing.length} of the lead_ids were not found`, { missing });
    }
  }
  const page = selected.slice(0, limit);
  const settings = new Settings(deps);
  const leads: LeadWhatIf[] = [];
  let totals = emptyTotals();
  for (let start = 0; start < page.length; start += CHUNK) {
    const records = await loadLeadRecords(
      deps.pool,
      page.slice(start, start + CHUNK).map((lead) => lead.id),
      until,
    );
    for (const lead of records) {
      const setting = await settings.of(lead);
      const { result, baseline, candidate } = evaluateLead(
        lead,
        setting,
        query.candidate,
        until,
        until === now.toISOString(),
      );
      leads.push(result);
      totals = mergeTotals(
        totals,
        totalsOf({
          baseline,
          candidate,
          differences: result.differences,
          matchesRecorded: result.baseline_matches_recorded,
          inputsComplete: result.inputs.complete,
        }),
      );
    }
  }
  const last = page[page.length - 1];
  return {
    as_of: until,
    window,
    candidate: candidateKinds(query.candidate),
    leads,
    totals,
    next_cursor: selected.length > limit && last ? encodeLeadCursor(last) : null,
  };
}

/** A workspace key sees its own workspace; the admin token sees all, or the one its filter names. */
function scopeOf(query: WhatIfQuery): string | undefined {
  const asked = query.filter?.workspaceId;
  if (query.workspaceId !== undefined && asked !== undefined && asked !== query.workspaceId) {
    throw new AppError('forbidden', 'a workspace key sees only its own workspace');
  }
  return query.workspaceId ?? asked;
}

/**
 * Today's setting of each lead, loaded once per workspace and property: the policy a run starting now would load
 * (the same loader the journey uses), the workspace's preferences, and partners' fee terms.
 */
class Settings {
  private readonly policies = new Map<string, Promise<JourneyPolicy>>();
  private readonly preferences = new Map<string, Promise<NotificationPreference[]>>();
  private readonly terms = new Map<string, FoundTerms | undefined>();

  constructor(private readonly deps: WhatIfDeps) {}

  async of(lead: LeadRecords) {
    const group = `${lead.workspaceId}|${lead.propertyId ?? ''}`;
    if (!this.policies.has(group)) {
      this.policies.set(
        group,
        loadJourneyContext(this.deps.pool, { workspaceId: lead.workspaceId, leadId: lead.leadId }).then(
          (context) => context.policy,
        ),
      );
    }
    if (!this.preferences.has(lead.workspaceId)) {
      this.preferences.set(lead.workspaceId, listPreferences(this.deps.pool, lead.workspaceId));
    }
    // Fees are owed to the partner a journey is attributed to: its terms are all the replay can ask for.
    for (const partner of feePartners(lead)) {
      const key = `${group}|${partner}`;
      if (!this.terms.has(key)) {
        this.terms.set(key, await termsFor(this.deps.pool, lead.workspaceId, partner, lead.propertyId));
      }
    }
    return {
      policy: await this.policies.get(group)!,
      preferences: await this.preferences.get(lead.workspaceId)!,
      channels: this.deps.channels,
      feeTerms: (partner: string) => this.terms.get(`${group}|${partner}`),
    };
  }
}

/** Partners a lead's journeys may be attributed to: its source, its inbox partners, its history's partners. */
function feePartners(lead: LeadRecords) {
  const labels = new Set([
    lead.source,
    ...lead.inbox.flatMap((row) => [row.partner, row.normalized.lead?.create?.source ?? row.partner]),
    ...lead.history.map((row) => (row.source.startsWith('partner:') ? row.source.slice(8) : row.source)),
  ]);
  return [...labels].flatMap((label) => {
    const partner = feePartnerOf(label);
    return partner ? [partner] : [];
  });
}
