-- Up Migration

-- Polling and health of integrations. The poll cursor is where the next fetch from the partner starts: it is
-- written after each page's events are in the inbox, so a restarted worker resumes where the last one stopped.
-- consecutive_failures counts polls that failed in a row (reset by a success): health reads it.
ALTER TABLE integrations
  ADD COLUMN poll_cursor text,
  ADD COLUMN last_poll_at timestamptz,
  ADD COLUMN last_success_at timestamptz,
  ADD COLUMN last_error_at timestamptz,
  ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
  ADD COLUMN last_test_at timestamptz,
  ADD COLUMN last_test_ok boolean;

-- Health reads the latest event of an integration; without this it scans all of the integration's events.
CREATE INDEX inbox_events_integration_received ON inbox_events (integration_id, received_at DESC);

-- Down Migration
DROP INDEX inbox_events_integration_received;
ALTER TABLE integrations
  DROP COLUMN last_test_ok,
  DROP COLUMN last_test_at,
  DROP COLUMN consecutive_failures,
  DROP COLUMN last_error_at,
  DROP COLUMN last_success_at,
  DROP COLUMN last_poll_at,
  DROP COLUMN poll_cursor;
