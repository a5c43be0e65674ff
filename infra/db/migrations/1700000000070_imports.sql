-- Up Migration

-- Imports of a property's existing leads: a CSV file or a backfill from a connected partner. The rows live here,
-- stored by the upload (or by the backfill page by page), so the import workflow pages through them in batches and
-- never carries a file in its history. Each row settles once: pending → created, matched, skipped or failed.
CREATE TABLE imports (
  id uuid PRIMARY KEY,
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('csv', 'backfill')),
  -- The property rows without a property_id belong to.
  property_id text,
  file_name text,
  -- The same file again is the same import: a re-run is a no-op that says so.
  file_sha256 text,
  -- The header as given (csv), in order: errors.csv repeats it.
  columns text[] NOT NULL DEFAULT '{}',
  integration_id uuid REFERENCES integrations (id) ON DELETE SET NULL,
  partner text,
  since timestamptz,
  -- Where the partner listing goes on from; null once the listing is done (or for a csv).
  backfill_cursor text,
  listing_done boolean NOT NULL DEFAULT false,
  -- Rows stored so far (the file's rows; a backfill's grows page by page).
  rows_total integer NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  error text,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE UNIQUE INDEX imports_same_file ON imports (workspace_id, file_sha256) WHERE file_sha256 IS NOT NULL;
CREATE INDEX imports_workspace_created ON imports (workspace_id, created_at DESC);

CREATE TABLE import_rows (
  import_id uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
  row_number integer NOT NULL,
  -- The row as read: column → text (a partner record mapped to the same columns).
  record jsonb NOT NULL,
  outcome text NOT NULL DEFAULT 'pending'
    CHECK (outcome IN ('pending', 'created', 'matched', 'skipped', 'failed')),
  reason text,
  details jsonb,
  lead_id uuid,
  -- Whether this row made the lead (noted as soon as it is known, so a retried row is counted right).
  lead_created boolean,
  -- First taken by a batch: a lead created after it by this row's own earlier attempt counts as created.
  claimed_at timestamptz,
  settled_at timestamptz,
  PRIMARY KEY (import_id, row_number)
);
CREATE INDEX import_rows_pending ON import_rows (import_id, row_number) WHERE outcome = 'pending';
CREATE INDEX import_rows_lead ON import_rows (lead_id) WHERE lead_id IS NOT NULL;
