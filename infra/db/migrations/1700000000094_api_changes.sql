-- Up Migration

-- The audit log of API changes: every write an API key makes (POST, PATCH, PUT, DELETE answered 2xx) is one row
-- naming the key and its label as the actor, the route and the resource it named. What changed lives in the
-- resource's own tables (a lead's status history names the actor too); this says who asked for it.
CREATE TABLE api_changes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id text NOT NULL,
  api_key_id text NOT NULL,
  actor text NOT NULL,
  method text NOT NULL,
  route text NOT NULL,
  params jsonb NOT NULL DEFAULT '{}',
  status integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_changes_workspace ON api_changes (workspace_id, created_at DESC);

-- Down Migration
DROP TABLE api_changes;
