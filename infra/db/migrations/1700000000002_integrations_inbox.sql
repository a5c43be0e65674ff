-- Up Migration

-- A workspace's connection to one partner system. Secrets are AES-256-GCM ciphertexts (shared/crypto.ts)
-- carrying the id of the key that sealed them, so keys can rotate; they never leave the server in clear
-- after the one-time display at creation.
CREATE TABLE integrations (
  id uuid PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  partner text NOT NULL,
  name text NOT NULL,
  property_id text,
  -- Non-secret settings (partner base_url, account ids, public keys, community → property map).
  config jsonb NOT NULL DEFAULT '{}',
  credentials_encrypted text,
  webhook_secret_encrypted text,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'error', 'deleted')),
  last_sync_at timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  FOREIGN KEY (workspace_id, property_id) REFERENCES properties (workspace_id, id)
);
CREATE INDEX integrations_workspace ON integrations (workspace_id, partner) WHERE deleted_at IS NULL;

-- Every verified partner event, stored before anything else happens to it: the ingest inbox. A 2xx to the
-- partner means a row here; the relay delivers rows left pending; operators list and replay them.
CREATE TABLE inbox_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  integration_id uuid NOT NULL REFERENCES integrations (id),
  partner text NOT NULL,
  -- The partner's own id of the event (webhook-id, MessageSid, HubSpot eventId, …): the dedupe key.
  partner_event_id text NOT NULL,
  event_type text NOT NULL,
  -- pending: stored, not yet in the journey (the relay retries); delivered: signalled; unmatched: no lead
  -- found for a status-like event (replayable); ignored: nothing for a journey (e.g. a folded reschedule);
  -- failed: a permanent error an operator must look at (replayable).
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'delivered', 'unmatched', 'ignored', 'failed')),
  headers jsonb NOT NULL DEFAULT '{}',
  raw_body bytea NOT NULL,
  -- What the adapter made of it (how to find the lead, the journey events): what delivery and replay use.
  normalized jsonb NOT NULL,
  lead_id uuid REFERENCES leads (id) ON DELETE SET NULL,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  received_at timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  replayed_at timestamptz,
  replay_count integer NOT NULL DEFAULT 0,
  UNIQUE (integration_id, partner_event_id)
);
CREATE INDEX inbox_events_due ON inbox_events (next_attempt_at) WHERE status = 'pending';
CREATE INDEX inbox_events_workspace_received ON inbox_events (workspace_id, received_at DESC, id DESC);
CREATE INDEX inbox_events_received ON inbox_events (received_at DESC, id DESC);
CREATE INDEX inbox_events_unmatched ON inbox_events (workspace_id, received_at) WHERE status = 'unmatched';

-- One row per phone call, however many webhooks describe it (CallRail post-call, then call-modified).
CREATE TABLE calls (
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  partner text NOT NULL,
  call_id text NOT NULL,
  integration_id uuid REFERENCES integrations (id),
  lead_id uuid REFERENCES leads (id) ON DELETE SET NULL,
  direction text,
  answered boolean,
  duration_seconds integer,
  started_at timestamptz,
  -- The latest payload the partner sent for this call.
  data jsonb NOT NULL DEFAULT '{}',
  webhooks integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, partner, call_id)
);
CREATE INDEX calls_lead ON calls (lead_id);

-- SMS we sent, with the delivery status Twilio reports back. The sender writes the row; status callbacks
-- only move it forward.
CREATE TABLE sms_deliveries (
  message_sid text PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  lead_id uuid REFERENCES leads (id) ON DELETE SET NULL,
  status text NOT NULL DEFAULT 'queued',
  error_code text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_deliveries_lead ON sms_deliveries (lead_id);

-- Down Migration
DROP TABLE sms_deliveries;
DROP TABLE calls;
DROP TABLE inbox_events;
DROP TABLE integrations;
