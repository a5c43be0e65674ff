-- Up Migration

-- The dashboard's requests are counted apart from the rest of a workspace's API traffic: staff looking at the
-- app must not spend the hourly budget that integrations rely on. One window per workspace and bucket
-- (`api`, `dashboard`); each bucket has its own limit.
ALTER TABLE api_rate_windows ADD COLUMN bucket text NOT NULL DEFAULT 'api';
ALTER TABLE api_rate_windows DROP CONSTRAINT api_rate_windows_pkey;
ALTER TABLE api_rate_windows ADD PRIMARY KEY (workspace_id, bucket, window_start);
ALTER TABLE workspaces ADD COLUMN dashboard_rate_limit_per_hour integer NOT NULL DEFAULT 1000
  CHECK (dashboard_rate_limit_per_hour > 0);

-- Down Migration
ALTER TABLE workspaces DROP COLUMN dashboard_rate_limit_per_hour;
DELETE FROM api_rate_windows WHERE bucket <> 'api';
ALTER TABLE api_rate_windows DROP CONSTRAINT api_rate_windows_pkey;
ALTER TABLE api_rate_windows ADD PRIMARY KEY (workspace_id, window_start);
ALTER TABLE api_rate_windows DROP COLUMN bucket;
