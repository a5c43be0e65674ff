-- Up Migration

-- A delivery being sent is claimed until this time: an activity attempt Temporal gave up on (timed out) may still
-- be talking to the provider, and a retry must not send the message a second time meanwhile.
ALTER TABLE notification_deliveries ADD COLUMN claimed_until timestamptz;

-- Down Migration
ALTER TABLE notification_deliveries DROP COLUMN claimed_until;
