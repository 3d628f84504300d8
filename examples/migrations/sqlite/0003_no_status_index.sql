-- One B-tree fewer written per callback, as in PostgreSQL's 0004: no statement reads
-- `messages_status_updated`. The list's filter is `(? IS NULL OR status = ?)`, which an
-- index on `status` cannot serve; `EXPLAIN QUERY PLAN` of the list shows
-- `SCAN messages USING INDEX messages_updated`, with or without a status, on 20,000 rows.
DROP INDEX IF EXISTS messages_status_updated;
