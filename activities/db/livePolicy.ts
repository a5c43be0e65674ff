// The parts of a lead's policy that staff change while journeys run: the partners its changes are pushed to,
// the active workflow rules and the time zone rules read local time in. Journeys read them when they decide
// (the `currentPolicy` activity), not once per run, so a partner connected or a rule created mid-journey
// applies to the next event of every lead.
import type pg from 'pg';
import type { PartnerName } from '../../shared/lifecycle';
import type { WorkflowRule } from '../../shared/journey/rules';
import type { JourneyPolicy } from '../../shared/journey/types';
import { takesPushes } from '../partners';

export type LivePolicy = Required<Pick<JourneyPolicy, 'connectedPartners' | 'rules' | 'timeZone'>>;

export interface LivePolicyArgs {
  workspaceId: string;
  /** The lead's property (its integrations, rules and time zone apply besides the workspace's). */
  propertyId?: string;
}

/** One round trip: it runs before most decisions of every journey. */
export async function loadLivePolicy(pool: pg.Pool, args: LivePolicyArgs): Promise<LivePolicy> {
  // Partners this lead's changes are pushed to: active integrations of the workspace or the lead's property
  // that hold API credentials (an inbound-only integration has none) and did not turn pushes off.
  const { rows } = await pool.query<{ partners: PartnerName[]; rules: WorkflowRule[]; zone: string | null }>(
    `SELECT ARRAY(SELECT DISTINCT i.partner FROM integrations i
                   WHERE i.workspace_id = $1 AND i.status IN ('active', 'error') AND i.deleted_at IS NULL
                     AND (i.property_id IS NULL OR i.property_id = $2)
                     AND i.credentials_encrypted IS NOT NULL AND COALESCE(i.config->>'push_status', 'true') <> 'false'
                   ORDER BY i.partner) AS partners,
            (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', r.id, 'trigger_status', r.trigger_status,
                                                          'target_status', r.target_status,
                                                          'conditions', r.conditions, 'actions', r.actions)
                                       ORDER BY r.created_at, r.id), '[]'::jsonb)
               FROM status_workflow_rules r
              WHERE r.workspace_id = $1 AND r.is_active AND (r.property_id IS NULL OR r.property_id = $2)) AS rules,
            (SELECT COALESCE(p.timezone, w.timezone) FROM workspaces w
               LEFT JOIN properties p ON p.workspace_id = w.id AND p.id = $2
              WHERE w.id = $1) AS zone`,
    [args.workspaceId, args.propertyId ?? null],
  );
  const row = rows[0]!;
  return {
    connectedPartners: row.partners.filter(takesPushes),
    rules: row.rules,
    timeZone: row.zone ?? 'UTC',
  };
}
