-- Up Migration

-- Set by the signed one-click unsubscribe link in prospect email; prospect email stops for the lead.
ALTER TABLE leads ADD COLUMN email_opted_out_at timestamptz;

-- Down Migration
ALTER TABLE leads DROP COLUMN email_opted_out_at;
