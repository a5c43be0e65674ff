-- Up Migration

-- API keys have a lifecycle: a label people recognise, when each was last used, and an end after a rotation
-- (the old key keeps working through the grace period the rotation stated). Existing keys get a label.
ALTER TABLE api_keys
  ADD COLUMN label text NOT NULL DEFAULT 'workspace key',
  ADD COLUMN last_used_at timestamptz,
  ADD COLUMN expires_at timestamptz,
  ADD COLUMN rotated_from uuid REFERENCES api_keys (id) ON DELETE SET NULL;
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

-- Down Migration
DROP INDEX api_keys_workspace;
ALTER TABLE api_keys DROP COLUMN rotated_from, DROP COLUMN expires_at, DROP COLUMN last_used_at, DROP COLUMN label;
