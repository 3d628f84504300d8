-- Replay defence (REPLAY_PROTECTION=postgres): accepted (nonce, signature) digests.
CREATE TABLE IF NOT EXISTS replay_keys (
    key     BYTEA PRIMARY KEY,
    seen_at BIGINT NOT NULL -- unix microseconds
);
CREATE INDEX IF NOT EXISTS replay_keys_seen_at ON replay_keys (seen_at);
