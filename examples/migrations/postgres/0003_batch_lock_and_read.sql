-- The batch writer's first statement per batch (src/store/postgres.rs): releases the
-- session advisory locks of the writer's previous batch, takes one per message of this
-- batch in one global order (sorted hashes, so that the writers of several instances do
-- not deadlock), and only then reads what is stored of the batch. A VOLATILE PL/pgSQL
-- function takes a new snapshot for each statement, so under READ COMMITTED the read sees
-- every write committed by whoever held those locks before. One round trip instead of
-- three (BEGIN, lock, read).
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
        SELECT 1::BIGINT, m.message_uuid, m.status, m.status_rank, m.error_code, m.updated_at,
               m.failure_notified
        FROM messages AS m WHERE m.message_uuid = ANY(uuids)
        UNION ALL
        SELECT 0::BIGINT, e.dedupe_key, NULL::TEXT, NULL::INTEGER, NULL::TEXT, NULL::BIGINT,
               NULL::BOOLEAN
        FROM message_events AS e WHERE e.dedupe_key = ANY(keys);
END
$$;
