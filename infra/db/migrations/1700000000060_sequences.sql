-- Up Migration

-- A workspace's own message templates (email subject and body, or SMS body) with {placeholders}; sequences and
-- notification preferences name them by id, beside the built-in ones.
CREATE TABLE message_templates (
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  id text NOT NULL,
  name text NOT NULL,
  -- null: usable on either channel.
  channel text CHECK (channel IN ('email', 'sms')),
  subject text NOT NULL DEFAULT '',
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);

-- Nurture sequences: a trigger (a journey moment), steps (wait, then an email or SMS template) and exit rules.
-- Read by the journey when a trigger happens and when each step comes due, so edits reach running enrolments.
CREATE TABLE sequences (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  property_id text,
  name text NOT NULL,
  trigger jsonb NOT NULL,
  steps jsonb NOT NULL,
  exit_on jsonb NOT NULL,
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  FOREIGN KEY (workspace_id, property_id) REFERENCES properties (workspace_id, id)
);
CREATE INDEX sequences_workspace ON sequences (workspace_id, created_at) WHERE deleted_at IS NULL;

-- One lead's run through one sequence. The journey owns it (its id is made by the workflow); each change is a
-- new revision and a row keeps only the latest, so late or repeated writes never move it back.
CREATE TABLE sequence_enrolments (
  id uuid PRIMARY KEY,
  workspace_id text NOT NULL,
  lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  sequence_id uuid NOT NULL REFERENCES sequences (id) ON DELETE CASCADE,
  journey integer NOT NULL,
  trigger text NOT NULL,
  state text NOT NULL CHECK (state IN ('active', 'completed', 'exited', 'stopped')),
  -- Steps sent so far: the index of the next step.
  step integer NOT NULL DEFAULT 0,
  next_step_at timestamptz,
  exit_reason text,
  replied_at timestamptz,
  reply_step integer,
  revision integer NOT NULL,
  enrolled_at timestamptz NOT NULL,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sequence_enrolments_lead ON sequence_enrolments (lead_id, enrolled_at);
CREATE INDEX sequence_enrolments_sequence ON sequence_enrolments (sequence_id, state);

-- Which sequence step a message belongs to, and whether it was opened and clicked (first time of each).
ALTER TABLE notification_deliveries
  ADD COLUMN enrolment_id uuid,
  ADD COLUMN sequence_id uuid,
  ADD COLUMN sequence_step integer,
  ADD COLUMN opened_at timestamptz,
  ADD COLUMN clicked_at timestamptz;
CREATE INDEX notification_deliveries_sequence ON notification_deliveries (sequence_id, sequence_step)
  WHERE sequence_id IS NOT NULL;

-- Every open (tracking pixel) and click (signed redirect) of a tracked message.
CREATE TABLE message_engagements (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id text NOT NULL,
  lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  delivery_id uuid NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('open', 'click')),
  url text,
  user_agent text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_engagements_lead ON message_engagements (lead_id, created_at);
CREATE INDEX message_engagements_delivery ON message_engagements (delivery_id);

-- Open and click tracking of sequence email; a workspace may turn it off.
ALTER TABLE workspaces ADD COLUMN email_tracking boolean NOT NULL DEFAULT true;

-- Down Migration
ALTER TABLE workspaces DROP COLUMN email_tracking;
DROP TABLE message_engagements;
DROP INDEX notification_deliveries_sequence;
ALTER TABLE notification_deliveries
  DROP COLUMN clicked_at,
  DROP COLUMN opened_at,
  DROP COLUMN sequence_step,
  DROP COLUMN sequence_id,
  DROP COLUMN enrolment_id;
DROP TABLE sequence_enrolments;
DROP TABLE sequences;
DROP TABLE message_templates;
