-- Webhooks (src/webhooks/): subscriptions made by administrators, one delivery per content
-- event and subscription (made once across nodes: the `webhooks` cursor in job_cursors is
-- claimed with a compare-and-set), each delivery claimed with a lease by any node, retried with
-- backoff for a day, every attempt logged.
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL,
    -- Space-separated event kinds (article.published ...), or '*' for all.
    events      TEXT NOT NULL,
    -- The HMAC-SHA256 key the receiver checks signatures with.
    secret      TEXT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    -- The newest content event when it was made: it hears of later events only.
    from_event  BIGINT NOT NULL DEFAULT 0,
    created_by  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      BIGINT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id        BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    subject_id      BIGINT NOT NULL,
    -- pending, delivered or failed.
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);

CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  BIGINT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    at           BIGINT NOT NULL,
    -- The receiver's HTTP status, or null when there was no answer.
    status       BIGINT,
    -- The start of the receiver's answer, or why there was none.
    response     TEXT NOT NULL,
    duration_ms  BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
