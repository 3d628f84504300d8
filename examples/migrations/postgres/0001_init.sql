-- Messages: the current status of each outbound message.
CREATE TABLE IF NOT EXISTS messages (
    message_uuid     TEXT PRIMARY KEY,
    status           TEXT NOT NULL,
    status_rank      INTEGER NOT NULL,
    error_code       TEXT,
    updated_at       BIGINT NOT NULL, -- unix microseconds
    failure_notified BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS messages_status_updated ON messages (status, updated_at);
CREATE INDEX IF NOT EXISTS messages_updated ON messages (updated_at);

-- Every distinct status event, in arrival order (id).
CREATE TABLE IF NOT EXISTS message_events (
    id           BIGSERIAL PRIMARY KEY,
    message_uuid TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL,
    raw_status   TEXT NOT NULL,
    error_code   TEXT,
    sequence     BIGINT,
    out_of_order BOOLEAN NOT NULL,
    received_at  BIGINT NOT NULL,
    params       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS message_events_uuid ON message_events (message_uuid, id);

CREATE TABLE IF NOT EXISTS inbound_messages (
    message_uuid TEXT PRIMARY KEY,
    from_number  TEXT NOT NULL,
    to_number    TEXT NOT NULL,
    message_type TEXT,
    content      TEXT,
    received_at  BIGINT NOT NULL,
    params       TEXT NOT NULL
);

-- Authentic callbacks that could not be typed, kept raw.
CREATE TABLE IF NOT EXISTS dead_letters (
    id          BIGSERIAL PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    endpoint    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    params      TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
