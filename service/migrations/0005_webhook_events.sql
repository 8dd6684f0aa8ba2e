-- Provider webhook deliveries already processed (event-id dedupe). Ids and times only: no
-- payload, so no provider connection id outside the envelope-encrypted store.
CREATE TABLE webhook_events (
    provider     text NOT NULL CHECK (provider IN ('truelayer')),
    event_id     text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 200),
    event_type   text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 200),
    sent_at      timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

CREATE INDEX webhook_events_received_idx ON webhook_events (received_at);
