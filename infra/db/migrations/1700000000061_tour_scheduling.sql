-- Up Migration

-- Tour self-scheduling per property: weekly tour hours in the property's zone ({ "mon": [{ "start": "09:00",
-- "end": "17:00" }], ... }; null: no self-scheduling), slot length, tours per slot and booking notice.
ALTER TABLE properties
  ADD COLUMN tour_hours jsonb,
  ADD COLUMN tour_slot_minutes integer NOT NULL DEFAULT 60 CHECK (tour_slot_minutes BETWEEN 10 AND 480),
  ADD COLUMN tour_capacity integer NOT NULL DEFAULT 1 CHECK (tour_capacity BETWEEN 1 AND 100),
  ADD COLUMN tour_notice_minutes integer NOT NULL DEFAULT 60 CHECK (tour_notice_minutes >= 0);

-- Booked tours. A slot of capacity N has seats 1..N and a booked seat is unique: two leads racing for the last
-- seat cannot both commit, whatever the timing. A lead holds at most one booked tour (a new one reschedules).
CREATE TABLE tour_bookings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id text NOT NULL,
  property_id text NOT NULL,
  lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  seat integer NOT NULL CHECK (seat >= 1),
  status text NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'rescheduled', 'cancelled', 'held')),
  cancel_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (workspace_id, property_id) REFERENCES properties (workspace_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX tour_bookings_seat ON tour_bookings (workspace_id, property_id, starts_at, seat)
  WHERE status = 'booked';
CREATE UNIQUE INDEX tour_bookings_lead ON tour_bookings (lead_id) WHERE status = 'booked';
CREATE INDEX tour_bookings_property_time ON tour_bookings (workspace_id, property_id, starts_at);

-- Down Migration
DROP TABLE tour_bookings;
ALTER TABLE properties
  DROP COLUMN tour_notice_minutes,
  DROP COLUMN tour_capacity,
  DROP COLUMN tour_slot_minutes,
  DROP COLUMN tour_hours;
