-- Fewer B-trees written at random places per callback (each new message and event used
-- to touch five): `messages` is clustered by its UUID (WITHOUT ROWID: no separate
-- primary-key index), and an event timeline is read through the `dedupe_key` index,
-- whose keys start with the message UUID, instead of an index of its own.
CREATE TABLE messages_by_uuid (
    message_uuid     TEXT PRIMARY KEY,
    status           TEXT NOT NULL,
    status_rank      INTEGER NOT NULL,
    error_code       TEXT,
    updated_at       INTEGER NOT NULL, -- unix microseconds
    failure_notified INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO messages_by_uuid SELECT message_uuid, status, status_rank, error_code, updated_at, failure_notified FROM messages;
DROP TABLE messages;
ALTER TABLE messages_by_uuid RENAME TO messages;
CREATE INDEX messages_status_updated ON messages (status, updated_at);
CREATE INDEX messages_updated ON messages (updated_at);

DROP INDEX IF EXISTS message_events_uuid;
