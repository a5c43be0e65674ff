-- Up Migration

-- The dashboard's live feed (GET /api/v1/events/stream): applied status changes, partner conflicts and logged
-- conversions, copied here by triggers in the very transaction that writes them, so the feed holds exactly what
-- committed. Each row carries the id of the transaction that wrote it: the stream hands out rows in (xid, id)
-- order and only below the oldest transaction still in flight (pg_snapshot_xmin), so a row that commits late
-- can never land behind a cursor already given to a client, and Last-Event-ID resume misses nothing.
-- UNLOGGED: it is a short-lived copy of rows that are durable elsewhere; no WAL per status change. A Postgres
-- crash empties it (xid keeps growing, so cursors stay ordered; a client simply resumes from what is left).
CREATE UNLOGGED TABLE live_feed (
  id bigserial PRIMARY KEY,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  workspace_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('status_changed', 'conversion_logged')),
  lead_id uuid,
  -- Ids, statuses, types and amounts only: no names, emails or phones.
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX live_feed_cursor ON live_feed (workspace_id, xid, id);
CREATE INDEX live_feed_created ON live_feed USING brin (created_at);

-- Statement-level triggers with transition tables: one insert and one notification per statement, bulk loads
-- included. The notification (payload: the workspace) wakes the api's stream listeners at commit; streams also
-- poll, so a lost one only delays an event. About every thousandth feed row prunes rows older than a week, so
-- the table stays small whether or not a dashboard is open.
CREATE FUNCTION leadrelay_live_feed_appended(added bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  last bigint;
BEGIN
  IF added = 0 THEN
    RETURN;
  END IF;
  last := currval(pg_get_serial_sequence('live_feed', 'id'));
  IF last / 1000 <> (last - added) / 1000 THEN
    DELETE FROM live_feed WHERE created_at < now() - interval '7 days';
  END IF;
END;
$$;

CREATE FUNCTION leadrelay_live_feed_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  added bigint;
BEGIN
  INSERT INTO live_feed (workspace_id, kind, lead_id, data)
  SELECT workspace_id, 'status_changed', lead_id, jsonb_build_object(
           'history_id', id,
           'lead_id', lead_id,
           'entry_type', entry_type,
           'old_status', old_status,
           'new_status', new_status,
           'source', source,
           'direction', direction,
           'journey', journey,
           'at', created_at)
    FROM inserted
   WHERE entry_type IN ('applied', 'conflict')
   ORDER BY created_at, journey, seq;
  GET DIAGNOSTICS added = ROW_COUNT;
  PERFORM pg_notify('leadrelay_live_feed', workspace_id)
     FROM (SELECT DISTINCT workspace_id FROM inserted WHERE entry_type IN ('applied', 'conflict')) w;
  PERFORM leadrelay_live_feed_appended(added);
  RETURN NULL;
END;
$$;
CREATE TRIGGER status_history_live_feed AFTER INSERT ON status_history
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION leadrelay_live_feed_status();

CREATE FUNCTION leadrelay_live_feed_conversion() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  added bigint;
BEGIN
  INSERT INTO live_feed (workspace_id, kind, lead_id, data)
  SELECT workspace_id, 'conversion_logged', lead_id, jsonb_build_object(
           'conversion_id', id,
           'lead_id', lead_id,
           'property_id', property_id,
           'conversion_type', conversion_type,
           'conversion_value', conversion_value,
           'currency', currency,
           'at', converted_at)
    FROM inserted
   ORDER BY converted_at;
  GET DIAGNOSTICS added = ROW_COUNT;
  PERFORM pg_notify('leadrelay_live_feed', workspace_id) FROM (SELECT DISTINCT workspace_id FROM inserted) w;
  PERFORM leadrelay_live_feed_appended(added);
  RETURN NULL;
END;
$$;
CREATE TRIGGER conversions_live_feed AFTER INSERT ON conversions
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION leadrelay_live_feed_conversion();

-- Down Migration
DROP TRIGGER conversions_live_feed ON conversions;
DROP FUNCTION leadrelay_live_feed_conversion();
DROP TRIGGER status_history_live_feed ON status_history;
DROP FUNCTION leadrelay_live_feed_status();
DROP FUNCTION leadrelay_live_feed_appended(bigint);
DROP TABLE live_feed;
