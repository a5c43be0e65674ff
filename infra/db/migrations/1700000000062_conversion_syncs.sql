-- Up Migration

-- What a push sent and what the partner answered, where the outcome alone does not say it: for conversions to ad
-- platforms, the event (name, id, value) and its receipt, so marketers see what was attributed.
ALTER TABLE partner_syncs ADD COLUMN response jsonb;

-- Down Migration
ALTER TABLE partner_syncs DROP COLUMN response;
