-- Up Migration

-- Seed 001 status_workflow_rules: when a lead enters trigger_status and the conditions hold, run the
-- actions (send_notification, schedule_follow_up, update_lead_score, create_task), then optionally move
-- it on to target_status. property_id null: every property of the workspace.
CREATE TABLE status_workflow_rules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  property_id text,
  trigger_status text NOT NULL,
  target_status text,
  conditions jsonb NOT NULL DEFAULT '{}',
  actions jsonb NOT NULL DEFAULT '[]',
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_workflow_rules_lookup ON status_workflow_rules (workspace_id, property_id) WHERE is_active;

-- Down Migration
DROP TABLE status_workflow_rules;
