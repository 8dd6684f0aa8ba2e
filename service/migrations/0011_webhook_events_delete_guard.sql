-- 0011: event ids may be deleted only once no delivery carrying them could still verify.
--
-- The app role gains DELETE on webhook_events (grants.toml) for the daily retention action,
-- which prunes ids received over a week ago (service/webhooks/retention.py). Table
-- privileges cannot say which rows; this trigger does: an id received within the last day
-- (far beyond the verifier's minutes-long replay window, far short of the week kept) is never
-- deleted, by anyone, so nothing the app role runs can reopen an event to a replay.
-- service.webhooks.retention.DELETE_GUARD states the same interval; a test checks both.
--
-- Expand only: a function and a trigger; the previous release's statements are unchanged.

CREATE FUNCTION webhook_events_keep_recent() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'webhook event % was received at %, within the last day: it is kept',
        OLD.event_id, OLD.received_at
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER webhook_events_keep_recent
    BEFORE DELETE ON webhook_events
    FOR EACH ROW WHEN (OLD.received_at > now() - interval '1 day')
    EXECUTE FUNCTION webhook_events_keep_recent();
