//! The PostgreSQL [`NonceStore`]: replay keys shared by every instance.

use std::time::Duration;

use plivo_webhook_core::{Error, NonceStore};
use sqlx::postgres::PgPool;

use super::{now_micros, unavailable};

/// Replay keys in the `replay_keys` table, kept for `ttl`; older rows are swept now and
/// then by the instances themselves.
#[derive(Debug, Clone)]
pub struct PostgresNonceStore {
    pool: PgPool,
    ttl: Duration,
}

impl PostgresNonceStore {
    /// A store on `pool` (migrated by [`super::PostgresStore::open`]).
    #[must_use]
    pub fn new(pool: PgPool, ttl: Duration) -> Self {
        PostgresNonceStore { pool, ttl }
    }

    fn cutoff(&self) -> i64 {
        now_micros() - i64::try_from(self.ttl.as_micros()).unwrap_or(i64::MAX)
    }
}

#[async_trait::async_trait]
impl NonceStore for PostgresNonceStore {
    async fn seen(&self, key: &[u8; 32]) -> Result<bool, Error> {
        sqlx::query("SELECT 1 FROM replay_keys WHERE key = $1 AND seen_at > $2")
            .bind(key.as_slice())
            .bind(self.cutoff())
            .fetch_optional(&self.pool)
            .await
            .map(|row| row.is_some())
            .map_err(|e| unavailable("replay check", &e))
    }

    async fn remember(&self, key: &[u8; 32]) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO replay_keys (key, seen_at) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET seen_at = EXCLUDED.seen_at",
        )
        .bind(key.as_slice())
        .bind(now_micros())
        .execute(&self.pool)
        .await
        .map_err(|e| unavailable("replay remember", &e))?;
        if fastrand::u16(..1000) == 0 {
            let _ = sqlx::query("DELETE FROM replay_keys WHERE seen_at <= $1")
                .bind(self.cutoff())
                .execute(&self.pool)
                .await;
        }
        Ok(())
    }
}
