-- Up Migration

-- Workspaces are tenants: every other row belongs to exactly one.
CREATE TABLE workspaces (
  id text PRIMARY KEY,
  name text NOT NULL,
  timezone text NOT NULL DEFAULT 'America/New_York',
  -- A custom pipeline ({ statuses, transitions }); null means the default lifecycle.
  pipeline jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored as SHA-256 hashes; the key itself is shown once.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  key_hash text NOT NULL UNIQUE,
  key_prefix text NOT NULL,
  permissions text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

CREATE TABLE properties (
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  id text NOT NULL,
  name text NOT NULL,
  timezone text NOT NULL,
  vertical text NOT NULL CHECK (vertical IN ('senior_living', 'multifamily')),
  us_state text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);

-- The read-side projection of each lead; the journey workflow is the source of truth for status.
CREATE TABLE leads (
  id uuid PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  property_id text,
  status text NOT NULL DEFAULT 'new',
  source text NOT NULL,
  sources text[] NOT NULL DEFAULT '{}',
  first_name text,
  last_name text,
  email text,
  phone text,
  email_normalized text,
  phone_e164 text,
  message text,
  custom_data jsonb NOT NULL DEFAULT '{}',
  journey integer NOT NULL DEFAULT 1,
  -- (journey, projection_seq) of the last history row applied here: late writers never go backwards.
  projection_seq integer NOT NULL DEFAULT 0,
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  next_follow_up_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leads_workspace_created ON leads (workspace_id, created_at DESC, id DESC);
CREATE INDEX leads_workspace_status ON leads (workspace_id, status);
CREATE UNIQUE INDEX leads_workspace_email ON leads (workspace_id, email_normalized) WHERE email_normalized IS NOT NULL;
CREATE INDEX leads_workspace_phone ON leads (workspace_id, phone_e164) WHERE phone_e164 IS NOT NULL;

-- Partner ids of a lead (one lead, many sources).
CREATE TABLE lead_external_ids (
  workspace_id text NOT NULL,
  partner text NOT NULL,
  external_id text NOT NULL,
  lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, partner, external_id)
);
CREATE INDEX lead_external_ids_lead ON lead_external_ids (lead_id);

-- The audit trail: applied changes, skipped stages, partner conflicts and refused attempts.
CREATE TABLE status_history (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL UNIQUE,
  workspace_id text NOT NULL,
  lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  journey integer NOT NULL,
  seq integer,
  entry_type text NOT NULL CHECK (entry_type IN ('applied', 'skipped', 'conflict', 'refused')),
  old_status text,
  new_status text NOT NULL,
  reason text,
  source text NOT NULL,
  actor text,
  direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  context jsonb NOT NULL DEFAULT '{}',
  event_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_history_lead ON status_history (lead_id, created_at, journey, seq);
CREATE INDEX status_history_workspace_created ON status_history (workspace_id, created_at);

-- Work for staff opened by the journey (partner conflicts, silent partner writes, rule actions).
CREATE TABLE staff_tasks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL UNIQUE,
  workspace_id text NOT NULL,
  lead_id uuid REFERENCES leads (id) ON DELETE CASCADE,
  kind text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'dismissed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz
);
CREATE INDEX staff_tasks_workspace_status ON staff_tasks (workspace_id, status, created_at);

-- Events for outbound webhook endpoints, written with the change that caused them.
CREATE TABLE outbox_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL UNIQUE,
  workspace_id text NOT NULL,
  lead_id uuid,
  event_type text NOT NULL,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_events_workspace_created ON outbox_events (workspace_id, created_at);

-- One row per status push to a partner, with its outcome.
CREATE TABLE partner_syncs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL UNIQUE,
  workspace_id text NOT NULL,
  lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  partner text NOT NULL,
  status text NOT NULL,
  partner_value text,
  causation_id text NOT NULL,
  outcome text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'success', 'failed', 'conflict', 'skipped')),
  response_code integer,
  error text,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX partner_syncs_lead ON partner_syncs (lead_id, created_at);

-- Down Migration
DROP TABLE partner_syncs;
DROP TABLE outbox_events;
DROP TABLE staff_tasks;
DROP TABLE status_history;
DROP TABLE lead_external_ids;
DROP TABLE leads;
DROP TABLE properties;
DROP TABLE api_keys;
DROP TABLE workspaces;
