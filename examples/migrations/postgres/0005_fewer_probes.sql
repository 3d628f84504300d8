-- Fewer index probes per callback for the batch writer (src/store/postgres.rs):
-- * `plivo_lock_and_read` looks a dedupe key up only when its message has a row. An event
--   is stored only in the statement that inserts or updates its message's row, and no
--   row is ever deleted, so a message without a row has no events: the first callback of
--   a message (a third of a message's usual callbacks: queued, sent, delivered) costs one
--   probe instead of two. A key is looked up when any found message's UUID and `|` start
--   it: never skipped wrongly, at worst looked up needlessly (a UUID containing `|`).
-- * (In the code, not here: the writer's statement inserts the messages it found no row
--   for with a plain INSERT and updates the ones it read, where `ON CONFLICT` probed the
--   primary key once more before each insert.)
-- Same signature, so instances of the previous version keep working during a rollout.
CREATE OR REPLACE FUNCTION plivo_lock_and_read(uuids TEXT[], keys TEXT[])
RETURNS TABLE (kind BIGINT, key TEXT, status TEXT, status_rank INTEGER, error_code TEXT,
               updated_at BIGINT, failure_notified BOOLEAN)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_unlock_all();
    PERFORM pg_advisory_lock(h) FROM
        (SELECT DISTINCT hashtextextended(u, 0) AS h FROM UNNEST(uuids) AS u ORDER BY h) AS locks;
    RETURN QUERY
        WITH found AS MATERIALIZED (
            SELECT m.message_uuid, m.status, m.status_rank, m.error_code, m.updated_at,
                   m.failure_notified
            FROM UNNEST(uuids) AS u JOIN messages AS m ON m.message_uuid = u
        ), known_keys AS MATERIALIZED (
            SELECT k FROM UNNEST(keys) AS k
            WHERE EXISTS (SELECT 1 FROM found AS f WHERE starts_with(k, f.message_uuid || '|'))
        )
        SELECT 1::BIGINT, f.message_uuid, f.status, f.status_rank, f.error_code, f.updated_at,
               f.failure_notified
        FROM found AS f
        UNION ALL
        SELECT 0::BIGINT, e.dedupe_key, NULL::TEXT, NULL::INTEGER, NULL::TEXT, NULL::BIGINT,
               NULL::BOOLEAN
        FROM known_keys AS k JOIN message_events AS e ON e.dedupe_key = k.k;
END
$$;

