-- Up Migration

-- Seed 001 status_notification_preferences: who hears about what, by which channel. `status_type` is a
-- status (a change into it) or a follow-up template name (tour_reminder_24h, speed_to_lead_escalation, ...).
CREATE TABLE notification_preferences (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  property_id text,
  status_type text NOT NULL,
  notification_method text NOT NULL CHECK (notification_method IN ('email', 'sms', 'slack', 'in_app')),
  recipients jsonb NOT NULL,
  template_id text,
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_preferences_lookup ON notification_preferences (workspace_id, status_type) WHERE is_active;

-- One row per message to one recipient on one channel; the idempotency key makes every send happen once.
CREATE TABLE notification_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL UNIQUE,
  notification_key text NOT NULL,
  workspace_id text NOT NULL,
  lead_id uuid REFERENCES leads (id) ON DELETE CASCADE,
  channel text NOT NULL CHECK (channel IN ('email', 'sms', 'slack', 'in_app')),
  audience text NOT NULL CHECK (audience IN ('prospect', 'staff')),
  recipient text NOT NULL,
  template text NOT NULL,
  subject text NOT NULL,
  body text NOT NULL,
  priority text NOT NULL,
  not_before timestamptz,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'delivered', 'failed', 'skipped')),
  provider_id text,
  attempts integer NOT NULL DEFAULT 0,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_deliveries_lead ON notification_deliveries (lead_id, created_at);
CREATE INDEX notification_deliveries_workspace_status ON notification_deliveries (workspace_id, status, created_at);
CREATE INDEX notification_deliveries_provider ON notification_deliveries (provider_id) WHERE provider_id IS NOT NULL;

-- Down Migration
DROP TABLE notification_deliveries;
DROP TABLE notification_preferences;
