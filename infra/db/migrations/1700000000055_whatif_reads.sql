-- Up Migration

-- The what-if replay reads a page of leads' recorded inputs and consequences by lead id. The other tables it
-- reads (status_history, conversions, notifications, notification_deliveries, partner_syncs, referral_fees)
-- are already indexed by lead; these were not, and would be scanned whole for every page.
CREATE INDEX inbox_events_lead ON inbox_events (lead_id, received_at) WHERE lead_id IS NOT NULL;
CREATE INDEX staff_tasks_lead ON staff_tasks (lead_id) WHERE lead_id IS NOT NULL;
-- Each journey's attributed source is announced once, by its lead.created event (one row per journey).
CREATE INDEX outbox_events_lead_created ON outbox_events (lead_id) WHERE event_type = 'lead.created';

-- Down Migration
DROP INDEX outbox_events_lead_created;
DROP INDEX staff_tasks_lead;
DROP INDEX inbox_events_lead;
