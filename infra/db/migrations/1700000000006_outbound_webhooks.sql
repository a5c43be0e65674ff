-- Up Migration

-- A workspace's outbound webhook endpoints. Signing secrets are sealed with LEADRELAY_ENCRYPTION_KEYS
-- (shared/crypto.ts); after a rotation the previous secret keeps signing beside the new one for a while.
CREATE TABLE webhook_endpoints (
  id uuid PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  name text NOT NULL,
  url text NOT NULL,
  events text[] NOT NULL,
  secret_sealed text NOT NULL,
  previous_secret_sealed text,
  previous_secret_expires_at timestamptz,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason text,
  -- First failed attempt since the last success: an endpoint failing for days is disabled.
  failing_since timestamptz,
  last_success_at timestamptz,
  last_failure_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints (workspace_id) WHERE deleted_at IS NULL;

-- The outbox is read in the order it was written; dispatched_at marks events already fanned out.
ALTER TABLE outbox_events
  ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY,
  ADD COLUMN dispatched_at timestamptz;
CREATE INDEX outbox_events_undispatched ON outbox_events (seq) WHERE dispatched_at IS NULL;

-- Wakes the webhook dispatcher (LISTEN leadrelay_outbox) as soon as an event is committed.
CREATE FUNCTION leadrelay_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('leadrelay_outbox', '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
  FOR EACH STATEMENT EXECUTE FUNCTION leadrelay_notify_outbox();

-- One event for one endpoint. Messages with the same order key (the lead, else the message itself) on one
-- endpoint are delivered one at a time in seq order: a lead's events arrive in the order they happened.
CREATE TABLE webhook_messages (
  id uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  workspace_id text NOT NULL,
  endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  outbox_event_id uuid REFERENCES outbox_events (id) ON DELETE SET NULL,
  lead_id uuid,
  order_key text NOT NULL,
  event_type text NOT NULL,
  -- The exact body sent on every attempt (Standard Webhooks: the same webhook-id, the same payload).
  payload text NOT NULL,
  -- queued → sending (its delivery workflow runs) → delivered | failed | cancelled (endpoint disabled or deleted).
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'delivered', 'failed', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0,
  workflow_started_at timestamptz,
  next_attempt_at timestamptz,
  last_status_code integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (endpoint_id, outbox_event_id)
);
CREATE INDEX webhook_messages_open ON webhook_messages (endpoint_id, order_key, seq) WHERE status IN ('queued', 'sending');
CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, seq DESC);

-- The delivery log: one row per attempt.
CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL UNIQUE,
  workspace_id text NOT NULL,
  endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  message_id uuid NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  success boolean NOT NULL,
  status_code integer,
  error text,
  response_body text,
  duration_ms integer NOT NULL,
  next_attempt_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

-- Down Migration
DROP TABLE webhook_deliveries;
DROP TABLE webhook_messages;
DROP TRIGGER outbox_events_notify ON outbox_events;
DROP FUNCTION leadrelay_notify_outbox();
DROP INDEX outbox_events_undispatched;
ALTER TABLE outbox_events DROP COLUMN seq, DROP COLUMN dispatched_at;
DROP TABLE webhook_endpoints;
