-- Up Migration

-- The parts of a lead's policy staff change while journeys run (the partners pushed to, the active rules, the time
-- zone), read in one place: by the journey before it decides (the currentPolicy activity), by the policy caches,
-- and by whoever stores the event that starts a run, in the same statement, so that the run decides its first
-- event without a read of its own. Partners are every active integration with API credentials that did not turn
-- pushes off; the readers keep those whose adapter pushes (livePolicyOf).
CREATE FUNCTION leadrelay_live_policy(p_workspace text, p_property text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'partners', to_jsonb(ARRAY(
      SELECT DISTINCT i.partner FROM integrations i
       WHERE i.workspace_id = p_workspace AND i.status IN ('active', 'error') AND i.deleted_at IS NULL
         AND (i.property_id IS NULL OR i.property_id = p_property)
         AND i.credentials_encrypted IS NOT NULL AND COALESCE(i.config->>'push_status', 'true') <> 'false'
       ORDER BY i.partner)),
    'rules', (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', r.id, 'trigger_status', r.trigger_status,
                                                           'target_status', r.target_status,
                                                           'conditions', r.conditions, 'actions', r.actions)
                                        ORDER BY r.created_at, r.id), '[]'::jsonb)
                FROM status_workflow_rules r
               WHERE r.workspace_id = p_workspace AND r.is_active
                 AND (r.property_id IS NULL OR r.property_id = p_property)),
    'zone', (SELECT COALESCE(p.timezone, w.timezone) FROM workspaces w
               LEFT JOIN properties p ON p.workspace_id = w.id AND p.id = p_property
              WHERE w.id = p_workspace));
$$;

-- leadrelay_lead_target as before, and for a lead whose signal starts a run (its journey never recorded a
-- decision, or ended) the live policy of its property, read with it: `lead_projection.live`.
CREATE OR REPLACE FUNCTION leadrelay_lead_target(p_lead uuid)
RETURNS TABLE (lead_id uuid, lead_property_id text, lead_source text, lead_status text, has_email boolean,
               has_phone boolean, lead_projection jsonb)
LANGUAGE sql STABLE AS $$
  SELECT l.id, l.property_id, l.source, l.status, l.email_normalized IS NOT NULL, l.phone_e164 IS NOT NULL,
         jsonb_build_object('journey', l.journey, 'seq', l.projection_seq, 'sources', to_jsonb(l.sources),
                            'created_at', l.created_at, 'status_changed_at', l.status_changed_at)
         || CASE WHEN l.projection_seq = 0 OR l.status IN ('leased', 'placed', 'lost')
                 THEN jsonb_build_object('live', leadrelay_live_policy(l.workspace_id, l.property_id))
                 ELSE '{}'::jsonb END
    FROM leads l WHERE l.id = p_lead;
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION leadrelay_lead_target(p_lead uuid)
RETURNS TABLE (lead_id uuid, lead_property_id text, lead_source text, lead_status text, has_email boolean,
               has_phone boolean, lead_projection jsonb)
LANGUAGE sql STABLE AS $$
  SELECT l.id, l.property_id, l.source, l.status, l.email_normalized IS NOT NULL, l.phone_e164 IS NOT NULL,
         jsonb_build_object('journey', l.journey, 'seq', l.projection_seq, 'sources', to_jsonb(l.sources),
                            'created_at', l.created_at, 'status_changed_at', l.status_changed_at)
    FROM leads l WHERE l.id = p_lead;
$$;
DROP FUNCTION leadrelay_live_policy(text, text);
