-- Up Migration

-- Operator routes (admin token: workspace registration, key rotation, inbox replays, the codec and its sign-in)
-- belong to no workspace: their requests are counted per client address, in fixed windows like the workspaces'
-- (api_rate_windows), so a guessed token or a runaway script costs its caller an hourly budget. UNLOGGED: no
-- WAL per request; a crash only forgives the current hour.
CREATE UNLOGGED TABLE operator_rate_windows (
  subject text NOT NULL,
  window_start timestamptz NOT NULL,
  requests integer NOT NULL,
  PRIMARY KEY (subject, window_start)
);

-- Down Migration
DROP TABLE operator_rate_windows;
