-- Up Migration

-- A Twilio status callback can arrive before the worker has recorded the send it is about (Twilio answered the
-- send, the callback raced the worker's write). Such a callback finds no sms_deliveries row and no lead: its inbox
-- row is stored `unmatched`. Nothing is lost: recording the send applies the callbacks that came early (the SMS
-- status) and makes their inbox rows pending for the relay, so the journey gets their events too; once the
-- notification is marked sent, it takes the final status its SMS reached. Both sides take one advisory lock per message SID, so a callback stored while the send
-- is being recorded is seen by one side or the other, never by neither.

-- Callbacks waiting for their send, found by message SID.
CREATE INDEX inbox_events_sms_waiting ON inbox_events ((normalized->'record'->>'messageSid'))
  WHERE status = 'unmatched' AND partner = 'twilio';

-- One status callback's record applied: the SMS status only moves forward (queued → sending → sent → final), and
-- a notification sent by SMS learns its fate (delivered, or failed at the carrier).
CREATE FUNCTION leadrelay_apply_sms_status(p_workspace text, p_record jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_sid text := p_record->>'messageSid';
  v_status text := p_record->>'status';
BEGIN
  UPDATE sms_deliveries s
     SET status = v_status, error_code = COALESCE(p_record->>'errorCode', s.error_code), updated_at = now()
   WHERE s.message_sid = v_sid AND s.workspace_id = p_workspace
     AND (CASE v_status WHEN 'queued' THEN 0 WHEN 'accepted' THEN 0 WHEN 'sending' THEN 1 WHEN 'sent' THEN 2
                        ELSE 3 END)
         >= (CASE s.status WHEN 'queued' THEN 0 WHEN 'accepted' THEN 0 WHEN 'sending' THEN 1 WHEN 'sent' THEN 2
                           ELSE 3 END);
  IF v_status IN ('delivered', 'undelivered', 'failed') THEN
    UPDATE notification_deliveries d
       SET status = CASE WHEN v_status = 'delivered' THEN 'delivered' ELSE 'failed' END,
           error = COALESCE('twilio error ' || (p_record->>'errorCode'), d.error), updated_at = now()
     WHERE d.provider_id = v_sid AND d.workspace_id = p_workspace AND d.channel = 'sms'
       AND d.status IN ('sent', 'delivered');
  END IF;
END;
$$;

-- The worker records a send Twilio took: the SMS row, then every callback about it that came early, applied in the
-- order received and handed to the relay (pending, due now) with the lead. Answers how many early callbacks it
-- applied. Safe to run twice. (The notification is marked sent after this, then settled: see below.)
CREATE FUNCTION leadrelay_record_sms_sent(p_sid text, p_workspace text, p_lead uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_row record;
  v_applied integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('sms|' || p_sid, 0));
  INSERT INTO sms_deliveries (message_sid, workspace_id, lead_id, status) VALUES (p_sid, p_workspace, p_lead, 'queued')
  ON CONFLICT (message_sid) DO NOTHING;
  FOR v_row IN
    SELECT e.id, e.normalized->'record' AS record FROM inbox_events e
     WHERE e.status = 'unmatched' AND e.partner = 'twilio' AND e.workspace_id = p_workspace
       AND (e.normalized->'record'->>'messageSid') = p_sid AND e.normalized->'record'->>'kind' = 'sms_delivery'
     ORDER BY e.received_at, e.id
     FOR UPDATE
  LOOP
    PERFORM leadrelay_apply_sms_status(p_workspace, v_row.record);
    UPDATE inbox_events e
       SET status = 'pending', lead_id = p_lead, last_error = NULL, next_attempt_at = now()
     WHERE e.id = v_row.id AND p_lead IS NOT NULL;
    v_applied := v_applied + 1;
  END LOOP;
  RETURN v_applied;
END;
$$;

-- Once the notification is marked sent with the SID: the final status its SMS already reached (a callback applied
-- before the notification carried the SID) becomes the notification's.
CREATE FUNCTION leadrelay_settle_sms_notification(p_sid text, p_workspace text) RETURNS void
LANGUAGE sql AS $$
  UPDATE notification_deliveries d
     SET status = CASE WHEN s.status = 'delivered' THEN 'delivered' ELSE 'failed' END,
         error = COALESCE('twilio error ' || s.error_code, d.error), updated_at = now()
    FROM sms_deliveries s
   WHERE s.message_sid = p_sid AND s.workspace_id = p_workspace AND s.status IN ('delivered', 'undelivered', 'failed')
     AND d.provider_id = p_sid AND d.workspace_id = p_workspace AND d.channel = 'sms' AND d.status = 'sent';
$$;

-- A callback stored unmatched takes the same lock first: if the send was recorded meanwhile (after this callback
-- looked for it, before it is stored), it is applied here and stored pending with its lead instead.
CREATE FUNCTION leadrelay_sms_callback_stored() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_lead uuid;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('sms|' || (NEW.normalized->'record'->>'messageSid'), 0));
  SELECT s.lead_id INTO v_lead FROM sms_deliveries s
   WHERE s.message_sid = NEW.normalized->'record'->>'messageSid' AND s.workspace_id = NEW.workspace_id
     AND s.lead_id IS NOT NULL;
  IF v_lead IS NOT NULL THEN
    PERFORM leadrelay_apply_sms_status(NEW.workspace_id, NEW.normalized->'record');
    NEW.status := 'pending';
    NEW.lead_id := v_lead;
    NEW.last_error := NULL;
    -- Ingest was told `unmatched` and will not signal it: the relay does, at once.
    NEW.next_attempt_at := now();
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER inbox_events_sms_callback_stored
  BEFORE INSERT ON inbox_events
  FOR EACH ROW
  WHEN (NEW.status = 'unmatched' AND NEW.partner = 'twilio' AND NEW.normalized->'record'->>'kind' = 'sms_delivery')
  EXECUTE FUNCTION leadrelay_sms_callback_stored();

-- Down Migration
DROP TRIGGER inbox_events_sms_callback_stored ON inbox_events;
DROP FUNCTION leadrelay_sms_callback_stored();
DROP FUNCTION leadrelay_settle_sms_notification(text, text);
DROP FUNCTION leadrelay_record_sms_sent(text, text, uuid);
DROP FUNCTION leadrelay_apply_sms_status(text, jsonb);
DROP INDEX inbox_events_sms_waiting;
