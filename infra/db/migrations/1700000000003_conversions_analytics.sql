-- Up Migration

-- Per-workspace API rate limit in requests per hour (SPEC section 6); operators change it with the admin token.
ALTER TABLE workspaces ADD COLUMN rate_limit_per_hour integer NOT NULL DEFAULT 1000 CHECK (rate_limit_per_hour > 0);

-- Fixed-window request counters, shared by every api process (one upsert per request). UNLOGGED: no WAL
-- write per request; a Postgres crash empties it, which only forgives the requests of the current hour.
CREATE UNLOGGED TABLE api_rate_windows (
  workspace_id text NOT NULL,
  window_start timestamptz NOT NULL,
  requests integer NOT NULL,
  PRIMARY KEY (workspace_id, window_start)
);

-- Seed 004's contact conversion columns, on the lead (contact_id = lead id).
ALTER TABLE leads
  ADD COLUMN conversion_status text NOT NULL DEFAULT 'pending'
    CHECK (conversion_status IN ('pending', 'qualified', 'converted', 'lost')),
  ADD COLUMN converted_at timestamptz,
  ADD COLUMN converted_by text,
  ADD COLUMN sent_from_workspace text,
  ADD COLUMN converted_from_workspace text,
  ADD COLUMN custom_metadata jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN lifetime_value numeric(14, 2) NOT NULL DEFAULT 0,
  ADD COLUMN conversion_count integer NOT NULL DEFAULT 0;

-- Logged conversions (seed 004). Idempotent by the client's conversion_id or the Idempotency-Key header:
-- the partial unique indexes make a repeated post find the first row instead of writing a second.
CREATE TABLE conversions (
  id uuid PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  conversion_id text,
  idempotency_key text,
  -- SHA-256 of the request body: the same key with another body is a conflict, not a replay.
  request_hash text NOT NULL,
  conversion_type text NOT NULL CHECK (conversion_type IN
    ('sale', 'appointment', 'qualified', 'tour', 'application', 'deposit', 'lease', 'move_in', 'referral', 'other')),
  conversion_value numeric(14, 2),
  currency text NOT NULL DEFAULT 'USD',
  converted_by text NOT NULL,
  converted_at timestamptz NOT NULL,
  custom_data jsonb NOT NULL DEFAULT '{}',
  -- The lead's property when the conversion was logged, for analytics by property.
  property_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX conversions_client_id ON conversions (workspace_id, conversion_id) WHERE conversion_id IS NOT NULL;
CREATE UNIQUE INDEX conversions_idempotency_key ON conversions (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX conversions_workspace_converted ON conversions (workspace_id, converted_at DESC, id DESC);
CREATE INDEX conversions_lead ON conversions (lead_id, converted_at);

-- Seed 004 workspace_tracking: what a workspace did with its contacts (received is read from leads).
CREATE TABLE workspace_activity (
  id bigserial PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  lead_id uuid REFERENCES leads (id) ON DELETE CASCADE,
  action text NOT NULL CHECK (action IN ('sent', 'converted', 'updated')),
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspace_activity_recent ON workspace_activity (workspace_id, created_at DESC);

-- Analytics read status history per lead in (journey, seq) order, applied and skipped rows only: this
-- covering index serves the funnel, speed-to-lead and transitions by index-only scans and feeds the
-- time-in-status window (lead() over each lead's rows) without a sort. Plans in docs/analytics.md.
CREATE INDEX status_history_analytics ON status_history (workspace_id, lead_id, journey, seq)
  INCLUDE (entry_type, old_status, new_status, created_at)
  WHERE entry_type IN ('applied', 'skipped');

-- Lead search (`GET /api/v1/leads?q=`) is ILIKE '%…%' over five columns: trigram indexes turn its
-- sequential scan (~70 ms at 100 000 leads) into a bitmap OR of index scans (~2 ms).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX leads_search_first_name ON leads USING gin (first_name gin_trgm_ops);
CREATE INDEX leads_search_last_name ON leads USING gin (last_name gin_trgm_ops);
CREATE INDEX leads_search_email ON leads USING gin (email gin_trgm_ops);
CREATE INDEX leads_search_phone ON leads USING gin (phone gin_trgm_ops);
CREATE INDEX leads_search_message ON leads USING gin (message gin_trgm_ops);

-- Down Migration
DROP INDEX leads_search_message;
DROP INDEX leads_search_phone;
DROP INDEX leads_search_email;
DROP INDEX leads_search_last_name;
DROP INDEX leads_search_first_name;
DROP INDEX status_history_analytics;
DROP TABLE workspace_activity;
DROP TABLE conversions;
ALTER TABLE leads
  DROP COLUMN conversion_status,
  DROP COLUMN converted_at,
  DROP COLUMN converted_by,
  DROP COLUMN sent_from_workspace,
  DROP COLUMN converted_from_workspace,
  DROP COLUMN custom_metadata,
  DROP COLUMN lifetime_value,
  DROP COLUMN conversion_count;
DROP TABLE api_rate_windows;
ALTER TABLE workspaces DROP COLUMN rate_limit_per_hour;
