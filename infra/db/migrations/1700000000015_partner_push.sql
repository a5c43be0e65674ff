-- Up Migration
-- Partner pushes: which integration a sync row went to, where the change came from, what the partner
-- answered, and which partner records leadrelay created (only those may have contact fields written over).
ALTER TABLE partner_syncs
  ADD COLUMN integration_id uuid REFERENCES integrations (id),
  ADD COLUMN origin text,
  ADD COLUMN external_id text,
  ADD COLUMN read_back text,
  ADD COLUMN finished_at timestamptz;
CREATE INDEX partner_syncs_integration ON partner_syncs (integration_id, created_at);
CREATE INDEX partner_syncs_workspace_outcome ON partner_syncs (workspace_id, outcome, created_at);

ALTER TABLE lead_external_ids ADD COLUMN created_by_us boolean NOT NULL DEFAULT false;

-- Down Migration
ALTER TABLE lead_external_ids DROP COLUMN created_by_us;
DROP INDEX partner_syncs_workspace_outcome;
DROP INDEX partner_syncs_integration;
ALTER TABLE partner_syncs
  DROP COLUMN finished_at,
  DROP COLUMN read_back,
  DROP COLUMN external_id,
  DROP COLUMN origin,
  DROP COLUMN integration_id;
