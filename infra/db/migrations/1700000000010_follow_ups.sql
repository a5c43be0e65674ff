-- Up Migration

-- A workspace's follow-up timings (speed-to-lead, reminders, stale, auto-lost); null means the defaults.
ALTER TABLE workspaces ADD COLUMN follow_up_policy jsonb;

-- Notifications decided by journeys (follow-ups, rules), each once by its idempotency key; channels deliver them.
CREATE TABLE notifications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL UNIQUE,
  workspace_id text NOT NULL,
  lead_id uuid REFERENCES leads (id) ON DELETE CASCADE,
  audience text NOT NULL CHECK (audience IN ('prospect', 'staff')),
  template text NOT NULL,
  priority text NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
  data jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'pending',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_workspace_created ON notifications (workspace_id, created_at);
CREATE INDEX notifications_lead ON notifications (lead_id, created_at);
CREATE INDEX leads_workspace_next_follow_up ON leads (workspace_id, next_follow_up_at) WHERE next_follow_up_at IS NOT NULL;

-- Down Migration
DROP INDEX leads_workspace_next_follow_up;
DROP TABLE notifications;
ALTER TABLE workspaces DROP COLUMN follow_up_policy;
