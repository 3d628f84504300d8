-- Fewer B-trees for the batch writer to insert into per callback (six before: three per
-- new event, three per new or changed message), as SQLite's migration 0002 did:
-- * `message_events` is keyed by its `dedupe_key` (unique and not null already); `id`
--   stays, without an index, to order a message's events by arrival;
-- * a message's timeline is read through that key, which starts with the message UUID and
--   `|`, so `message_events_uuid` goes. The key compares bytewise (COLLATE "C") so that
--   such a prefix is one range of the index whatever the database's collation;
-- * `messages_status_updated` served no query: the list's plan (generic, its status
--   filter optional) reads `messages_updated` backwards.
ALTER TABLE message_events
    DROP CONSTRAINT message_events_pkey,
    DROP CONSTRAINT message_events_dedupe_key_key,
    ALTER COLUMN dedupe_key TYPE TEXT COLLATE "C",
    ADD CONSTRAINT message_events_pkey PRIMARY KEY (dedupe_key);
DROP INDEX message_events_uuid;
DROP INDEX messages_status_updated;
