-- The batch writer's first statement per batch (src/store/postgres.rs): releases the
-- session advisory locks of the writer's previous batch, takes one per message of this
-- batch in one global order (sorted hashes, so that the writers of several instances do
-- not deadlock), and only then reads what is stored of the batch. A VOLATILE PL/pgSQL
-- function takes a new snapshot for each statement, so under READ COMMITTED the read sees
-- every write committed by whoever held those locks before. One round trip instead of
-- three (BEGIN, lock, read). The read joins the arrays to the tables (an index probe per
-- item) rather than testing `= ANY(array)`, which PostgreSQL 15 ran as bitmap scans:
-- PostgreSQL's CPU per callback 32.5-35.8 µs against 35.0-36.6 µs (three alternating
-- 4 s runs, actix receiver, 32 connections).
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
        FROM UNNEST(uuids) AS u JOIN messages AS m ON m.message_uuid = u
        UNION ALL
        SELECT 0::BIGINT, e.dedupe_key, NULL::TEXT, NULL::INTEGER, NULL::TEXT, NULL::BIGINT,
               NULL::BOOLEAN
        FROM UNNEST(keys) AS k JOIN message_events AS e ON e.dedupe_key = k;
END
$$;
