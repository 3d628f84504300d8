//! PostgreSQL (sqlx, pooled): for several receiver instances sharing one database.
//!
//! Each status event is one transaction: the message row is created if missing, then
//! locked (`SELECT … FOR UPDATE`), so concurrent events of one message are decided one
//! after the other across all instances, and the unique `dedupe_key` keeps retries out.

use std::str::FromStr;

use plivo_webhook_core::{
    CallbackStore, DeadLetter, Error, EventOutcome, InboundMessage, MessageStatus, Params, Status,
    StoredEvent, StoredMessage,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Row;

use super::{
    decide, fingerprint, now_micros, rfc3339, unavailable, Current, NewEvent, STORE_TIMEOUT,
};

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects and applies the migrations (under PostgreSQL's advisory lock, so several
    /// instances may start at once).
    ///
    /// # Errors
    /// One line naming the problem.
    pub async fn open(url: &str) -> Result<Self, String> {
        let timeout_ms = STORE_TIMEOUT.as_millis().to_string();
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| format!("invalid PostgreSQL DATABASE_URL: {e}"))?
            .options([
                ("statement_timeout", timeout_ms.as_str()),
                ("lock_timeout", timeout_ms.as_str()),
            ]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(STORE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| format!("cannot migrate PostgreSQL database: {e}"))?;
        Ok(PostgresStore { pool })
    }

    /// The connection pool (shared with the replay defence).
    #[must_use]
    pub fn pool(&self) -> PgPool {
        self.pool.clone()
    }

    async fn record(&self, event: &NewEvent) -> Result<EventOutcome, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let created = sqlx::query(
            "INSERT INTO messages (message_uuid, status, status_rank, error_code, updated_at, failure_notified)
             VALUES ($1, $2, $3, $4, $5, FALSE) ON CONFLICT (message_uuid) DO NOTHING RETURNING message_uuid",
        )
        .bind(&event.message_uuid)
        .bind(&event.status)
        .bind(event.rank)
        .bind(&event.error_code)
        .bind(event.received_at)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        let current = if created {
            None
        } else {
            let row = sqlx::query(
                "SELECT status, status_rank, failure_notified FROM messages WHERE message_uuid = $1 FOR UPDATE",
            )
            .bind(&event.message_uuid)
            .fetch_one(&mut *tx)
            .await?;
            Some(Current {
                rank: row.try_get("status_rank")?,
                is_failure: Status::parse(row.try_get("status")?).is_failure(),
                notified: row.try_get("failure_notified")?,
            })
        };
        let decision = decide(current, event);
        let inserted = sqlx::query(
            "INSERT INTO message_events (message_uuid, dedupe_key, status, raw_status, error_code, sequence, out_of_order, received_at, params)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(&event.message_uuid)
        .bind(&event.dedupe_key)
        .bind(&event.status)
        .bind(&event.raw_status)
        .bind(&event.error_code)
        .bind(event.sequence)
        .bind(decision.out_of_order)
        .bind(event.received_at)
        .bind(&event.params)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(EventOutcome {
                duplicate: true,
                ..EventOutcome::default()
            });
        }
        let apply = decision.apply && !created;
        if apply || decision.notify_failure {
            sqlx::query(
                "UPDATE messages SET
                   status = CASE WHEN $1 THEN $2 ELSE status END,
                   status_rank = CASE WHEN $1 THEN $3 ELSE status_rank END,
                   error_code = CASE WHEN $1 THEN $4 ELSE error_code END,
                   updated_at = CASE WHEN $1 THEN $5 ELSE updated_at END,
                   failure_notified = failure_notified OR $6
                 WHERE message_uuid = $7",
            )
            .bind(apply)
            .bind(&event.status)
            .bind(event.rank)
            .bind(&event.error_code)
            .bind(event.received_at)
            .bind(decision.notify_failure)
            .bind(&event.message_uuid)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(EventOutcome {
            duplicate: false,
            status_changed: decision.apply,
            out_of_order: decision.out_of_order,
            notify_failure: decision.notify_failure,
        })
    }
}

#[async_trait::async_trait]
impl CallbackStore for PostgresStore {
    async fn record_status(
        &self,
        status: &MessageStatus,
        params: &Params,
    ) -> Result<EventOutcome, Error> {
        let event = NewEvent {
            params: params.to_form(),
            ..NewEvent::new(status)
        };
        self.record(&event)
            .await
            .map_err(|e| unavailable("record status", &e))
    }

    async fn record_inbound(
        &self,
        message: &InboundMessage,
        params: &Params,
    ) -> Result<bool, Error> {
        sqlx::query(
            "INSERT INTO inbound_messages (message_uuid, from_number, to_number, message_type, content, received_at, params)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_uuid) DO NOTHING",
        )
        .bind(&message.message_uuid)
        .bind(&message.from)
        .bind(&message.to)
        .bind(message.message_type.as_ref().map(|t| t.as_str().to_owned()))
        .bind(message.content())
        .bind(now_micros())
        .bind(params.to_form())
        .execute(&self.pool)
        .await
        .map(|done| done.rows_affected() == 1)
        .map_err(|e| unavailable("record inbound", &e))
    }

    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO dead_letters (fingerprint, endpoint, reason, params, nonce, received_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(fingerprint(letter))
        .bind(&letter.endpoint)
        .bind(&letter.reason)
        .bind(&letter.params)
        .bind(&letter.nonce)
        .bind(now_micros())
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(|e| unavailable("dead letter", &e))
    }

    async fn message(&self, message_uuid: &str) -> Result<Option<StoredMessage>, Error> {
        let read = async {
            let Some(row) = sqlx::query(
                "SELECT status, error_code, updated_at FROM messages WHERE message_uuid = $1",
            )
            .bind(message_uuid)
            .fetch_optional(&self.pool)
            .await?
            else {
                return Ok(None);
            };
            let events = sqlx::query(
                "SELECT status, error_code, sequence, received_at, out_of_order FROM message_events WHERE message_uuid = $1 ORDER BY id",
            )
            .bind(message_uuid)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|e| {
                Ok(StoredEvent {
                    status: e.try_get("status")?,
                    error_code: e.try_get("error_code")?,
                    sequence: e.try_get("sequence")?,
                    received_at: rfc3339(e.try_get("received_at")?),
                    out_of_order: e.try_get("out_of_order")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
            Ok::<_, sqlx::Error>(Some(StoredMessage {
                message_uuid: message_uuid.to_owned(),
                status: row.try_get("status")?,
                error_code: row.try_get("error_code")?,
                updated_at: rfc3339(row.try_get("updated_at")?),
                events,
            }))
        };
        read.await.map_err(|e| unavailable("read message", &e))
    }

    async fn messages(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, Error> {
        sqlx::query(
            "SELECT message_uuid, status, error_code, updated_at FROM messages
             WHERE ($1::TEXT IS NULL OR status = $1) ORDER BY updated_at DESC, message_uuid LIMIT $2",
        )
        .bind(status)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .and_then(|rows| {
            rows.into_iter()
                .map(|row| {
                    Ok(StoredMessage {
                        message_uuid: row.try_get("message_uuid")?,
                        status: row.try_get("status")?,
                        error_code: row.try_get("error_code")?,
                        updated_at: rfc3339(row.try_get("updated_at")?),
                        events: Vec::new(),
                    })
                })
                .collect()
        })
        .map_err(|e| unavailable("list messages", &e))
    }

    async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| unavailable("ping", &e))
    }
}
