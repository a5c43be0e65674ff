-- Up Migration

-- Ingest in one round trip: a webhook's events are stored, their leads created or matched under their locks,
-- linked and answered with what the journey signal needs, by one call of leadrelay_receive_events. The api's
-- lead create calls the same leadrelay_create_or_match_lead, so the two doors cannot drift apart. Lookups
-- arrive prepared by the caller ({ by, value, partner? }: email normalized, phone in E.164), because E.164
-- parsing (libphonenumber) lives in the application.

-- Pending rows of a lead: a later event of that lead waits behind them, so one lead's events keep their order.
CREATE INDEX inbox_events_pending_lead ON inbox_events (lead_id) WHERE status = 'pending';

-- The lead this inquiry belongs to: matched by partner external id, then normalized email, then E.164 phone,
-- within the workspace; created when none matches. Concurrent calls for one person are serialized by
-- transaction-scoped advisory locks on each identity (taken in one order), so they agree on one lead.
-- p_lead: { property_id, source, first_name, last_name, email, email_normalized, phone, phone_e164, message,
-- custom_data, external_ids: { partner: id } }. outcome: created | matched | unknown_property (nothing written).
CREATE FUNCTION leadrelay_create_or_match_lead(p_workspace text, p_lead jsonb)
RETURNS TABLE (
  outcome text, id uuid, workspace_id text, property_id text, status text, source text, sources text[],
  first_name text, last_name text, email text, phone text, phone_e164 text, message text, custom_data jsonb,
  journey integer, projection_seq integer, status_changed_at timestamptz, next_follow_up_at timestamptz,
  created_at timestamptz, updated_at timestamptz, external_ids jsonb
) LANGUAGE plpgsql AS $$
DECLARE
  v_email text := NULLIF(p_lead->>'email_normalized', '');
  v_phone text := NULLIF(p_lead->>'phone_e164', '');
  v_property text := NULLIF(p_lead->>'property_id', '');
  v_external jsonb := COALESCE(p_lead->'external_ids', '{}'::jsonb);
  v_custom jsonb := COALESCE(p_lead->'custom_data', '{}'::jsonb);
  v_id uuid;
  v_outcome text;
  v_lead leads;
BEGIN
  IF v_property IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM properties p WHERE p.workspace_id = p_workspace AND p.id = v_property) THEN
    outcome := 'unknown_property';
    property_id := v_property;
    RETURN NEXT;
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(p_workspace || '|' || i.identity, 0))
     FROM (SELECT 'x:' || e.key || ':' || e.value AS identity FROM jsonb_each_text(v_external) e
           UNION ALL SELECT 'e:' || v_email WHERE v_email IS NOT NULL
           UNION ALL SELECT 'p:' || v_phone WHERE v_phone IS NOT NULL) i
    ORDER BY i.identity COLLATE "C";
  SELECT x.lead_id INTO v_id
    FROM jsonb_each_text(v_external) WITH ORDINALITY AS e(partner, external_id, n)
    JOIN lead_external_ids x
      ON x.workspace_id = p_workspace AND x.partner = e.partner AND x.external_id = e.external_id
   ORDER BY e.n LIMIT 1;
  IF v_id IS NULL AND v_email IS NOT NULL THEN
    SELECT l.id INTO v_id FROM leads l WHERE l.workspace_id = p_workspace AND l.email_normalized = v_email;
  END IF;
  IF v_id IS NULL AND v_phone IS NOT NULL THEN
    SELECT l.id INTO v_id FROM leads l WHERE l.workspace_id = p_workspace AND l.phone_e164 = v_phone
     ORDER BY l.created_at LIMIT 1;
  END IF;
  IF v_id IS NOT NULL THEN
    v_outcome := 'matched';
    -- Fill what the lead lacks; an email another lead of the workspace owns is not taken from it.
    UPDATE leads l
       SET email = CASE WHEN l.email IS NULL AND NOT v_taken THEN p_lead->>'email' ELSE l.email END,
           email_normalized = CASE WHEN l.email_normalized IS NULL AND NOT v_taken THEN v_email
                                   ELSE l.email_normalized END,
           phone = COALESCE(l.phone, p_lead->>'phone'), phone_e164 = COALESCE(l.phone_e164, v_phone),
           first_name = COALESCE(l.first_name, p_lead->>'first_name'),
           last_name = COALESCE(l.last_name, p_lead->>'last_name'),
           property_id = COALESCE(l.property_id, v_property),
           sources = CASE WHEN p_lead->>'source' = ANY(l.sources) THEN l.sources
                          ELSE array_append(l.sources, p_lead->>'source') END,
           custom_data = l.custom_data || v_custom, updated_at = now()
      FROM (SELECT v_email IS NOT NULL AND EXISTS (
              SELECT 1 FROM leads o WHERE o.workspace_id = p_workspace AND o.email_normalized = v_email
                 AND o.id <> v_id) AS v_taken) taken
     WHERE l.workspace_id = p_workspace AND l.id = v_id
     RETURNING l.* INTO v_lead;
  ELSE
    v_outcome := 'created';
    INSERT INTO leads AS l (id, workspace_id, property_id, source, sources, first_name, last_name, email, phone,
                            email_normalized, phone_e164, message, custom_data)
    VALUES (gen_random_uuid(), p_workspace, v_property, p_lead->>'source', ARRAY[p_lead->>'source'],
            p_lead->>'first_name', p_lead->>'last_name', p_lead->>'email', p_lead->>'phone', v_email, v_phone,
            p_lead->>'message', v_custom)
    RETURNING l.* INTO v_lead;
  END IF;
  INSERT INTO lead_external_ids (workspace_id, partner, external_id, lead_id)
  SELECT p_workspace, e.key, e.value, v_lead.id FROM jsonb_each_text(v_external) e
  ON CONFLICT DO NOTHING;
  RETURN QUERY SELECT v_outcome, v_lead.id, v_lead.workspace_id, v_lead.property_id, v_lead.status,
    v_lead.source, v_lead.sources, v_lead.first_name, v_lead.last_name, v_lead.email, v_lead.phone,
    v_lead.phone_e164, v_lead.message, v_lead.custom_data, v_lead.journey, v_lead.projection_seq,
    v_lead.status_changed_at,
    v_lead.next_follow_up_at, v_lead.created_at, v_lead.updated_at,
    CASE WHEN v_outcome = 'created' THEN v_external
         ELSE COALESCE((SELECT jsonb_object_agg(x.partner, x.external_id) FROM lead_external_ids x
                         WHERE x.lead_id = v_lead.id), '{}'::jsonb) END;
END;
$$;

-- The first lead a list of prepared lookups finds, in order: [{ by: lead_id | external_id | email | phone |
-- sms_message, value, partner? }].
CREATE FUNCTION leadrelay_find_lead(p_workspace text, p_lookups jsonb) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_lookup jsonb;
  v_value text;
  v_id uuid;
BEGIN
  FOR v_lookup IN SELECT value FROM jsonb_array_elements(COALESCE(p_lookups, '[]'::jsonb)) LOOP
    v_value := v_lookup->>'value';
    CONTINUE WHEN v_value IS NULL OR v_value = '';
    CASE v_lookup->>'by'
      WHEN 'lead_id' THEN
        CONTINUE WHEN v_value !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
        SELECT l.id INTO v_id FROM leads l WHERE l.workspace_id = p_workspace AND l.id = v_value::uuid;
      WHEN 'external_id' THEN
        SELECT x.lead_id INTO v_id FROM lead_external_ids x
         WHERE x.workspace_id = p_workspace AND x.external_id = v_value AND x.partner = v_lookup->>'partner';
      WHEN 'email' THEN
        SELECT l.id INTO v_id FROM leads l WHERE l.workspace_id = p_workspace AND l.email_normalized = v_value;
      WHEN 'phone' THEN
        SELECT l.id INTO v_id FROM leads l WHERE l.workspace_id = p_workspace AND l.phone_e164 = v_value
         ORDER BY l.created_at LIMIT 1;
      WHEN 'sms_message' THEN
        SELECT s.lead_id INTO v_id FROM sms_deliveries s
         WHERE s.workspace_id = p_workspace AND s.message_sid = v_value AND s.lead_id IS NOT NULL;
      ELSE
        v_id := NULL;
    END CASE;
    IF v_id IS NOT NULL THEN
      RETURN v_id;
    END IF;
  END LOOP;
  RETURN NULL;
END;
$$;

-- A stored event's own lookups (normalized->'lead'->'find'), prepared in SQL: for unmatched events waiting
-- for a lead. Phone lookups need libphonenumber and are left to the application's replay.
CREATE FUNCTION leadrelay_stored_lookups(p_find jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(jsonb_agg(prepared ORDER BY n), '[]'::jsonb)
    FROM (SELECT n, CASE f->>'by'
                      WHEN 'lead_id' THEN jsonb_build_object('by', 'lead_id', 'value', f->>'leadId')
                      WHEN 'external_id' THEN jsonb_build_object('by', 'external_id', 'value', f->>'externalId',
                                                                 'partner', f->>'partner')
                      WHEN 'email' THEN jsonb_build_object('by', 'email', 'value',
                                                           lower(regexp_replace(f->>'email', '^\s+|\s+$', '', 'g')))
                      WHEN 'sms_message' THEN jsonb_build_object('by', 'sms_message', 'value', f->>'messageSid')
                    END AS prepared
            FROM jsonb_array_elements(COALESCE(p_find, '[]'::jsonb)) WITH ORDINALITY AS l(f, n)) p
   WHERE prepared IS NOT NULL;
$$;

-- What a journey signal needs of a lead, and its projection (a sender that just created the lead, or whose
-- lead's journey ended, hands the new run its context instead of the run reading it back).
CREATE FUNCTION leadrelay_lead_target(p_lead uuid)
RETURNS TABLE (lead_id uuid, lead_property_id text, lead_source text, lead_status text, has_email boolean,
               has_phone boolean, lead_projection jsonb)
LANGUAGE sql STABLE AS $$
  SELECT l.id, l.property_id, l.source, l.status, l.email_normalized IS NOT NULL, l.phone_e164 IS NOT NULL,
         jsonb_build_object('journey', l.journey, 'seq', l.projection_seq, 'sources', to_jsonb(l.sources),
                            'created_at', l.created_at, 'status_changed_at', l.status_changed_at)
    FROM leads l WHERE l.id = p_lead;
$$;

-- Unmatched events waiting for a lead that now has one of these partner ids (a status that arrived before its
-- referral): each is resolved by its own lookups, linked and made pending (due after the grace), oldest first.
CREATE FUNCTION leadrelay_claim_waiting(p_workspace text, p_lead uuid, p_grace_seconds integer)
RETURNS TABLE (inbox_id uuid, normalized jsonb, lead_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
  v_row record;
  v_found uuid;
BEGIN
  FOR v_row IN
    SELECT e.id, e.normalized FROM inbox_events e
     WHERE e.workspace_id = p_workspace AND e.status = 'unmatched'
       AND EXISTS (SELECT 1 FROM lead_external_ids x
                    WHERE x.lead_id = p_lead
                      AND e.normalized->'lead'->'find' @> jsonb_build_array(jsonb_build_object(
                            'by', 'external_id', 'partner', x.partner, 'externalId', x.external_id)))
     ORDER BY e.received_at, e.id
     LIMIT 100
     FOR UPDATE SKIP LOCKED
  LOOP
    v_found := leadrelay_find_lead(p_workspace, leadrelay_stored_lookups(v_row.normalized->'lead'->'find'));
    CONTINUE WHEN v_found IS NULL;
    UPDATE inbox_events e
       SET status = 'pending', lead_id = v_found, last_error = NULL,
           next_attempt_at = now() + make_interval(secs => p_grace_seconds)
     WHERE e.id = v_row.id;
    inbox_id := v_row.id;
    normalized := v_row.normalized;
    lead_id := v_found;
    RETURN NEXT;
  END LOOP;
END;
$$;

-- Stores a webhook's events in one call. p_events: [{ partner_event_id, event_type, normalized, create?,
-- find?, record? }] where create is leadrelay_create_or_match_lead's p_lead and find prepared lookups. Per
-- event, in order: a duplicate (same integration and partner event id) is answered with the first row; else
-- its side record is written (calls, SMS deliveries), its lead created, matched or found, and the row
-- inserted with its final status (pending: to be signalled; unmatched; ignored) and lead. After an inquiry,
-- events that were waiting for its lead come too (role 'waiting'). A property no event may name answers one
-- row 'unknown_property' and stores nothing. Rows answer what the journey signal needs; `normalized` only
-- where the caller does not have it (a pending duplicate, a waiting event, an event folded into a call).
CREATE FUNCTION leadrelay_receive_events(
  p_workspace text, p_integration uuid, p_partner text, p_headers jsonb, p_raw_body bytea, p_events jsonb,
  p_grace_seconds integer)
RETURNS TABLE (
  ord integer, role text, outcome text, inbox_id uuid, status text, normalized jsonb, lead_id uuid,
  lead_property_id text, lead_source text, lead_status text, has_email boolean, has_phone boolean,
  lead_projection jsonb, matched boolean, property_id text
) LANGUAGE plpgsql AS $$
DECLARE
  v_event jsonb;
  v_ord integer;
  v_normalized jsonb;
  v_status text;
  v_existing record;
  v_created text;
  v_lead_id uuid;
  v_record jsonb;
  v_first boolean;
  v_error text;
  v_unknown text;
BEGIN
  SELECT e->'create'->>'property_id' INTO v_unknown
    FROM jsonb_array_elements(p_events) e
   WHERE NULLIF(e->'create'->>'property_id', '') IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM properties p
                      WHERE p.workspace_id = p_workspace AND p.id = e->'create'->>'property_id')
   LIMIT 1;
  IF v_unknown IS NOT NULL THEN
    RETURN QUERY SELECT 0, 'event'::text, 'unknown_property'::text, NULL::uuid, NULL::text, NULL::jsonb,
      NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::boolean, NULL::boolean, NULL::jsonb, NULL::boolean,
      v_unknown;
    RETURN;
  END IF;

  FOR v_event, v_ord IN SELECT a.e, a.n::integer FROM jsonb_array_elements(p_events) WITH ORDINALITY AS a(e, n) LOOP
    -- Two deliveries of one event at once: the second waits here and then finds the first.
    PERFORM pg_advisory_xact_lock(hashtextextended(
      'inbox|' || p_integration::text || '|' || (v_event->>'partner_event_id'), 0));
    SELECT e.id, e.status, e.normalized, e.lead_id INTO v_existing FROM inbox_events e
     WHERE e.integration_id = p_integration AND e.partner_event_id = v_event->>'partner_event_id';
    IF FOUND THEN
      RETURN QUERY SELECT v_ord, 'event'::text, 'duplicate'::text, v_existing.id, v_existing.status,
        CASE WHEN v_existing.status = 'pending' THEN v_existing.normalized END, t.lead_id, t.lead_property_id,
        t.lead_source, t.lead_status, t.has_email, t.has_phone, t.lead_projection, NULL::boolean, NULL::text
        FROM (SELECT 1) one LEFT JOIN leadrelay_lead_target(v_existing.lead_id) t ON true;
      CONTINUE;
    END IF;

    v_normalized := v_event->'normalized';
    v_record := v_event->'record';
    v_lead_id := NULL;
    v_created := NULL;
    v_error := NULL;
    v_first := NULL;
    IF v_record->>'kind' = 'call' THEN
      INSERT INTO calls AS c (workspace_id, partner, call_id, integration_id, direction, answered,
                              duration_seconds, started_at, data)
      VALUES (p_workspace, p_partner, v_record->>'callId', p_integration, v_record->>'direction',
              (v_record->>'answered')::boolean, (v_record->>'durationSeconds')::integer,
              (v_record->>'startedAt')::timestamptz, COALESCE(v_record->'data', '{}'::jsonb))
      ON CONFLICT ON CONSTRAINT calls_pkey DO UPDATE
        SET direction = COALESCE(EXCLUDED.direction, c.direction),
            answered = COALESCE(EXCLUDED.answered, c.answered),
            duration_seconds = COALESCE(EXCLUDED.duration_seconds, c.duration_seconds),
            started_at = COALESCE(c.started_at, EXCLUDED.started_at),
            data = c.data || EXCLUDED.data, webhooks = c.webhooks + 1, updated_at = now()
      RETURNING (c.xmax = 0) INTO v_first;
      IF NOT v_first THEN
        -- The call is known: this webhook updated its record; the journey already has (or will get) the call.
        v_normalized := (v_normalized - 'lead') || jsonb_build_object(
          'events', '[]'::jsonb, 'note', 'folded into call ' || (v_record->>'callId'));
      END IF;
    ELSIF v_record->>'kind' = 'sms_delivery' THEN
      -- Callbacks arrive out of order: a status only moves forward (queued → sent → delivered/undelivered/failed).
      UPDATE sms_deliveries s
         SET status = v_record->>'status', error_code = COALESCE(v_record->>'errorCode', s.error_code),
             updated_at = now()
       WHERE s.message_sid = v_record->>'messageSid' AND s.workspace_id = p_workspace
         AND (CASE v_record->>'status' WHEN 'queued' THEN 0 WHEN 'accepted' THEN 0 WHEN 'sending' THEN 1
                                       WHEN 'sent' THEN 2 ELSE 3 END)
             >= (CASE s.status WHEN 'queued' THEN 0 WHEN 'accepted' THEN 0 WHEN 'sending' THEN 1 WHEN 'sent' THEN 2
                               ELSE 3 END);
      -- A notification we sent by SMS learns its fate: delivered, or failed at the carrier.
      IF v_record->>'status' IN ('delivered', 'undelivered', 'failed') THEN
        UPDATE notification_deliveries d
           SET status = CASE WHEN v_record->>'status' = 'delivered' THEN 'delivered' ELSE 'failed' END,
               error = COALESCE('twilio error ' || (v_record->>'errorCode'), d.error), updated_at = now()
         WHERE d.provider_id = v_record->>'messageSid' AND d.workspace_id = p_workspace AND d.channel = 'sms'
           AND d.status IN ('sent', 'delivered');
      END IF;
    END IF;

    IF jsonb_typeof(v_normalized->'lead') IS DISTINCT FROM 'object' THEN
      v_status := 'ignored';
    ELSIF jsonb_typeof(v_normalized->'fetch') = 'object'
          AND NOT COALESCE((v_normalized->'fetch'->>'done')::boolean, false) THEN
      -- Ids only (Facebook's leadgen): no lead until its fetch workflow completes the event and delivers it.
      v_status := 'pending';
    ELSIF jsonb_typeof(v_event->'create') = 'object' THEN
      SELECT c.outcome, c.id INTO v_created, v_lead_id
        FROM leadrelay_create_or_match_lead(p_workspace, v_event->'create') c;
      IF v_lead_id IS NULL THEN
        RAISE EXCEPTION 'lead not created: %', v_created;
      END IF;
      v_status := 'pending';
    ELSE
      v_lead_id := leadrelay_find_lead(p_workspace, v_event->'find');
      IF v_lead_id IS NULL THEN
        v_status := 'unmatched';
        v_error := 'no lead matches this event yet; replay it once the lead exists';
      ELSE
        v_status := 'pending';
      END IF;
    END IF;
    IF v_first AND v_lead_id IS NOT NULL THEN
      UPDATE calls c SET lead_id = v_lead_id
       WHERE c.workspace_id = p_workspace AND c.partner = p_partner AND c.call_id = v_record->>'callId'
         AND c.lead_id IS NULL;
    END IF;

    RETURN QUERY
    WITH stored AS (
      INSERT INTO inbox_events AS e (workspace_id, integration_id, partner, partner_event_id, event_type, status,
                                     headers, raw_body, normalized, lead_id, last_error, next_attempt_at)
      VALUES (p_workspace, p_integration, p_partner, v_event->>'partner_event_id', v_event->>'event_type',
              v_status, p_headers, p_raw_body, v_normalized, v_lead_id, v_error,
              now() + make_interval(secs => p_grace_seconds))
      RETURNING e.id)
    SELECT v_ord, 'event'::text, 'stored'::text, stored.id, v_status,
      CASE WHEN v_normalized IS DISTINCT FROM v_event->'normalized' THEN v_normalized END,
      t.lead_id, t.lead_property_id, t.lead_source, t.lead_status, t.has_email, t.has_phone, t.lead_projection,
      v_created = 'matched', NULL::text
      FROM stored LEFT JOIN leadrelay_lead_target(v_lead_id) t ON true;

    IF v_created IS NOT NULL THEN
      RETURN QUERY SELECT v_ord, 'waiting'::text, 'stored'::text, w.inbox_id, 'pending'::text, w.normalized,
        t.lead_id, t.lead_property_id, t.lead_source, t.lead_status, t.has_email, t.has_phone, t.lead_projection,
        NULL::boolean, NULL::text
        FROM leadrelay_claim_waiting(p_workspace, v_lead_id, p_grace_seconds) w
        JOIN leadrelay_lead_target(w.lead_id) t ON true;
    END IF;
  END LOOP;
END;
$$;

-- A stored event's lead resolved again (relay of a row stored before this migration, replay of an unmatched or
-- failed row): linked and made pending, or kept unmatched; after an inquiry, the events waiting for its lead.
CREATE FUNCTION leadrelay_resolve_inbox_event(p_inbox uuid, p_create jsonb, p_find jsonb, p_grace_seconds integer)
RETURNS TABLE (role text, inbox_id uuid, status text, normalized jsonb, lead_id uuid, lead_property_id text,
               lead_source text, lead_status text, has_email boolean, has_phone boolean, lead_projection jsonb,
               matched boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_workspace text;
  v_lead_id uuid;
  v_created text;
BEGIN
  SELECT e.workspace_id INTO v_workspace FROM inbox_events e WHERE e.id = p_inbox FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF jsonb_typeof(p_create) = 'object' THEN
    SELECT c.outcome, c.id INTO v_created, v_lead_id FROM leadrelay_create_or_match_lead(v_workspace, p_create) c;
  ELSE
    v_lead_id := leadrelay_find_lead(v_workspace, p_find);
  END IF;
  UPDATE inbox_events e
     SET lead_id = COALESCE(v_lead_id, e.lead_id),
         status = CASE WHEN v_lead_id IS NULL THEN 'unmatched' ELSE 'pending' END,
         last_error = CASE WHEN v_lead_id IS NULL
                           THEN 'no lead matches this event yet; replay it once the lead exists' END,
         next_attempt_at = now() + make_interval(secs => p_grace_seconds)
   WHERE e.id = p_inbox;
  RETURN QUERY SELECT 'event'::text, p_inbox, CASE WHEN v_lead_id IS NULL THEN 'unmatched' ELSE 'pending' END,
    NULL::jsonb, t.lead_id, t.lead_property_id, t.lead_source, t.lead_status, t.has_email, t.has_phone,
    t.lead_projection, v_created = 'matched'
    FROM (SELECT 1) one LEFT JOIN leadrelay_lead_target(v_lead_id) t ON true;
  IF v_created IS NOT NULL THEN
    RETURN QUERY SELECT 'waiting'::text, w.inbox_id, 'pending'::text, w.normalized, t.lead_id, t.lead_property_id,
      t.lead_source, t.lead_status, t.has_email, t.has_phone, t.lead_projection, NULL::boolean
      FROM leadrelay_claim_waiting(v_workspace, v_lead_id, p_grace_seconds) w
      JOIN leadrelay_lead_target(w.lead_id) t ON true;
  END IF;
END;
$$;

-- Changes that caches in the services must see at once (integrations and their secrets in ingest, journey
-- policy in the worker): each notifies 'leadrelay_config' with "<table> <workspace> <id>" at commit.
CREATE FUNCTION leadrelay_notify_config() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_row jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
BEGIN
  PERFORM pg_notify('leadrelay_config', TG_TABLE_NAME || ' '
    || COALESCE(v_row->>'workspace_id', v_row->>'id') || ' ' || COALESCE(v_row->>'id', ''));
  RETURN NULL;
END;
$$;
CREATE TRIGGER integrations_notify_config
  AFTER INSERT OR DELETE OR UPDATE OF partner, property_id, config, credentials_encrypted, webhook_secret_encrypted,
    status, deleted_at ON integrations
  FOR EACH ROW EXECUTE FUNCTION leadrelay_notify_config();
CREATE TRIGGER workspaces_notify_config
  AFTER DELETE OR UPDATE OF pipeline, follow_up_policy, timezone ON workspaces
  FOR EACH ROW EXECUTE FUNCTION leadrelay_notify_config();
CREATE TRIGGER properties_notify_config
  AFTER DELETE OR UPDATE OF vertical, timezone ON properties
  FOR EACH ROW EXECUTE FUNCTION leadrelay_notify_config();
CREATE TRIGGER status_workflow_rules_notify_config
  AFTER INSERT OR DELETE OR UPDATE ON status_workflow_rules
  FOR EACH ROW EXECUTE FUNCTION leadrelay_notify_config();

-- The outbound webhook dispatcher is woken only by events of a workspace that has an active endpoint; the
-- others are fanned out (to nobody) by its periodic pass.
CREATE OR REPLACE FUNCTION leadrelay_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM inserted i JOIN webhook_endpoints ep
                ON ep.workspace_id = i.workspace_id AND ep.status = 'active' AND ep.deleted_at IS NULL) THEN
    PERFORM pg_notify('leadrelay_outbox', '');
  END IF;
  RETURN NULL;
END;
$$;
DROP TRIGGER outbox_events_notify ON outbox_events;
CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION leadrelay_notify_outbox();

-- Down Migration
DROP TRIGGER outbox_events_notify ON outbox_events;
CREATE OR REPLACE FUNCTION leadrelay_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('leadrelay_outbox', '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
  FOR EACH STATEMENT EXECUTE FUNCTION leadrelay_notify_outbox();
DROP TRIGGER status_workflow_rules_notify_config ON status_workflow_rules;
DROP TRIGGER properties_notify_config ON properties;
DROP TRIGGER workspaces_notify_config ON workspaces;
DROP TRIGGER integrations_notify_config ON integrations;
DROP FUNCTION leadrelay_notify_config();
DROP FUNCTION leadrelay_resolve_inbox_event(uuid, jsonb, jsonb, integer);
DROP FUNCTION leadrelay_receive_events(text, uuid, text, jsonb, bytea, jsonb, integer);
DROP FUNCTION leadrelay_claim_waiting(text, uuid, integer);
DROP FUNCTION leadrelay_lead_target(uuid);
DROP FUNCTION leadrelay_stored_lookups(jsonb);
DROP FUNCTION leadrelay_find_lead(text, jsonb);
DROP FUNCTION leadrelay_create_or_match_lead(text, jsonb);
DROP INDEX inbox_events_pending_lead;
