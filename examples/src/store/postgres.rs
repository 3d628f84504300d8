//! PostgreSQL (sqlx, pooled): for several receiver instances sharing one database.
//!
//! Events are written in batches (group commit), one statement each: the batch writer
//! holds an advisory lock per message UUID while it reads, decides and writes, so
//! concurrent events of one message are decided one after the other across all instances,
//! and the unique `dedupe_key` keeps retries out. The batch writer runs on a thread of its
//! own with a connection of its own; everything else uses the pool.

use std::str::FromStr;

use plivo_webhook_core::{
    CallbackStore, DeadLetter, Error, EventOutcome, InboundMessage, MessageStatus, Params,
    StoredEvent, StoredMessage,
};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::Connection as _;
use std::collections::{HashMap, HashSet};

use super::batch::{close_connection, on_connection, BatchWrite, Batcher, Place};
use super::{absorb, EventRow, MessageRow, StoredRow};
use super::{fingerprint, now_micros, plan, unavailable, NewEvent, Plan, State, STORE_TIMEOUT};

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    batches: Batcher,
}

/// Transactions written at once per instance, each by a writer on a thread of its own
/// ([`Place::Threads`]). A batch was five round trips to PostgreSQL (two now); on the server's
/// runtime each of them waited for its turn behind the HTTP tasks. Measured on an AMD EPYC
/// VM with 2 cores (32 connections, alternating 5 s runs on fresh schemas, the connection
/// kept between batches in both cases): axum receiver 8,220-8,384 req/s on the server's
/// runtime, 8,547-9,082 on a thread of its own; actix receiver 9,365-11,353 and
/// 11,337-11,716.
///
/// One writer: with fewer transactions in flight, each holds more callbacks (16 rather
/// than 5 at 32 connections), and PostgreSQL spends about half the CPU per callback, which
/// matters most when several instances share the database. Measured on a slower VM (2
/// cores shared with the database and the load; axum receiver, 32 connections, three 5 s
/// runs each on fresh schemas, alternating; req/s and PostgreSQL's CPU in cores): 1 writer
/// 3,224-3,511 and 0.43-0.45; 2 writers 2,744-3,249 and 0.54-0.58; 4 writers 2,651-2,899
/// and 0.74-0.80. (An earlier machine measured 1 to 4 writers within its noise,
/// 7,800-10,400 req/s, and 8 worse.) With two round trips per batch, on a faster AMD EPYC
/// VM (4 s runs, 32 connections): actix 12,885 and 13,882 req/s with 1 writer, 12,161 and
/// 13,141 with 2; axum 10,329 and 11,833 against 12,763 and 13,635; PostgreSQL's CPU per
/// callback 44-49 µs with 1 writer, 54-64 µs with 2.
const WRITERS: usize = 1;

/// The start of the batch writer's `application_name` in `pg_stat_activity`, which is
/// followed by a space and the receiver's process id.
pub const WRITER_NAME: &str = "plivo-webhook batch writer";

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
                // Plan each prepared statement once per connection (a generic plan), not
                // at every execution: planning the batch's three statements took as long
                // as a third of their execution (`pg_stat_statements`: 1,089 ms of
                // planning for 1,805 ms of execution in 5 s). Without sequential scans,
                // so that a plan made while the tables are still small (a few analysed
                // rows, where a sequential scan is cheapest) reads them through their
                // indexes as they grow (a generic plan that chose a sequential scan there
                // made 5,400 req/s fall to 2,400 within 12 s). Measured with the
                // axum receiver, 32 connections, fresh schemas: 3,069 / 2,797 req/s in
                // 5 s and 2,620 in 20 s with a plan per execution; 3,263 / 3,277 and
                // 3,167 with these settings. (`plan_cache_mode=auto`, tried earlier,
                // kept choosing custom plans: no gain.)
                ("plan_cache_mode", "force_generic_plan"),
                ("enable_seqscan", "off"),
            ]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(STORE_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| format!("cannot migrate PostgreSQL database: {e}"))?;
        let writer_options = options
            .clone()
            .application_name(&format!("{WRITER_NAME} {}", std::process::id()));
        let batches = Batcher::start(
            || PostgresWriter {
                options: writer_options.clone(),
                conn: None,
            },
            WRITERS,
            Place::Threads,
        );
        Ok(PostgresStore { pool, batches })
    }

    /// The connection pool (shared with the replay defence).
    #[must_use]
    pub fn pool(&self) -> PgPool {
        self.pool.clone()
    }
}

/// One batch in two round trips whatever its size, on the writer's own connection (kept
/// between batches: one taken from the pool would be tested with a third round trip
/// first):
/// 1. `plivo_lock_and_read` (migration 0003) releases the session advisory locks of the
///    writer's previous batch, takes one per message UUID of this batch, in one global
///    order (sorted hashes) so that the writers of several instances serialise per message
///    without deadlocking, and then reads what is stored (with a snapshot taken after the
///    locks, so under `READ COMMITTED` it sees every write committed by whoever held them
///    before);
/// 2. the rules are applied in memory ([`plan`]), and one statement writes the new events
///    and the changed messages. Outside an explicit transaction that statement commits on
///    its own, all or nothing, and is durable when it returns.
///
/// The locks are session locks, held past that commit until the next batch or until
/// [`BatchWrite::idle`] releases them, so an instance that takes one after this batch
/// reads what it wrote. Transaction-scoped locks would need `BEGIN` and `COMMIT`, two more
/// round trips per batch.
async fn write_batch(
    conn: &mut PgConnection,
    events: &[&NewEvent],
) -> Result<Vec<EventOutcome>, sqlx::Error> {
    let mut uuids: Vec<&str> = events.iter().map(|e| e.message_uuid.as_str()).collect();
    uuids.sort_unstable();
    uuids.dedup();
    let keys: Vec<&str> = events.iter().map(|e| e.dedupe_key.as_str()).collect();
    let rows = sqlx::query_as::<_, StoredRow>("SELECT * FROM plivo_lock_and_read($1, $2)")
        .bind(&uuids)
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?;
    let mut states = HashMap::new();
    let mut seen = HashSet::new();
    absorb(rows, &mut seen, &mut states);
    let Plan {
        outcomes,
        new_events,
        dirty,
    } = plan(events, states, seen);
    if !new_events.is_empty() || !dirty.is_empty() {
        write_plan(conn, &new_events, &dirty).await?;
    }
    Ok(outcomes)
}

/// Writes the new events and the changed messages with one statement whose text does not
/// depend on the batch (columns as arrays, `UNNEST`ed): it is prepared once per connection,
/// where a `VALUES` list per batch size would be parsed and planned again and again.
async fn write_plan(
    conn: &mut PgConnection,
    new_events: &[(&NewEvent, bool)],
    dirty: &[(String, State)],
) -> Result<(), sqlx::Error> {
    let column =
        |f: fn(&NewEvent) -> &str| new_events.iter().map(|(e, _)| f(e)).collect::<Vec<_>>();
    sqlx::query(
        "WITH new_events AS (
             INSERT INTO message_events
                 (message_uuid, dedupe_key, status, raw_status, error_code, sequence, out_of_order, received_at, params)
             SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::BIGINT[],
                                  $7::BOOLEAN[], $8::BIGINT[], $9::TEXT[])
         )
         INSERT INTO messages (message_uuid, status, status_rank, error_code, updated_at, failure_notified)
         SELECT * FROM UNNEST($10::TEXT[], $11::TEXT[], $12::INT[], $13::TEXT[], $14::BIGINT[], $15::BOOLEAN[])
         ON CONFLICT (message_uuid) DO UPDATE SET status = excluded.status, status_rank = excluded.status_rank,
             error_code = excluded.error_code, updated_at = excluded.updated_at,
             failure_notified = excluded.failure_notified",
    )
    .bind(column(|e| &e.message_uuid))
    .bind(column(|e| &e.dedupe_key))
    .bind(column(|e| &e.status))
    .bind(column(|e| &e.raw_status))
    .bind(new_events.iter().map(|(e, _)| e.error_code.as_deref()).collect::<Vec<_>>())
    .bind(new_events.iter().map(|(e, _)| e.sequence).collect::<Vec<_>>())
    .bind(new_events.iter().map(|(_, late)| *late).collect::<Vec<_>>())
    .bind(new_events.iter().map(|(e, _)| e.received_at).collect::<Vec<_>>())
    .bind(column(|e| &e.params))
    .bind(dirty.iter().map(|(uuid, _)| uuid.as_str()).collect::<Vec<_>>())
    .bind(dirty.iter().map(|(_, s)| s.status.as_str()).collect::<Vec<_>>())
    .bind(dirty.iter().map(|(_, s)| s.current.rank).collect::<Vec<_>>())
    .bind(dirty.iter().map(|(_, s)| s.error_code.as_deref()).collect::<Vec<_>>())
    .bind(dirty.iter().map(|(_, s)| s.updated_at).collect::<Vec<_>>())
    .bind(dirty.iter().map(|(_, s)| s.current.notified).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The PostgreSQL side of the group commit: one per writer thread, with a connection of
/// its own, opened on that thread's runtime and kept between batches (not taken from
/// the pool, which would test it with a round trip before each batch). After an error it
/// is closed, mid-batch or broken (which also releases its locks), and the next batch
/// opens a new one.
#[derive(Debug)]
struct PostgresWriter {
    options: PgConnectOptions,
    conn: Option<PgConnection>,
}

#[async_trait::async_trait]
impl BatchWrite for PostgresWriter {
    async fn write(&mut self, events: &[&NewEvent]) -> Result<Vec<EventOutcome>, sqlx::Error> {
        let connect = PgConnection::connect_with(&self.options);
        on_connection(&mut self.conn, connect, async |conn| {
            write_batch(conn, events).await
        })
        .await
    }

    /// Releases the last batch's locks while no batch waits, so that other instances do
    /// not wait for a writer with nothing to do.
    async fn idle(&mut self) {
        let Some(conn) = &mut self.conn else { return };
        let released = sqlx::query("SELECT pg_advisory_unlock_all()")
            .execute(&mut *conn)
            .await;
        if let Err(err) = released {
            tracing::warn!(error = %err, "cannot release the batch writer's locks; reconnecting");
            close_connection(&mut self.conn).await;
        }
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
        self.batches.record(event).await
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
        .bind(message.message_uuid.as_str())
        .bind(message.from.as_str())
        .bind(message.to.as_str())
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
            let Some(row) = sqlx::query_as::<_, MessageRow>(
                "SELECT message_uuid, status, error_code, updated_at FROM messages WHERE message_uuid = $1",
            )
            .bind(message_uuid)
            .fetch_optional(&self.pool)
            .await?
            else {
                return Ok(None);
            };
            let events = sqlx::query_as::<_, EventRow>(
                // Through the primary key: each dedupe key starts with the UUID and `|`.
                "SELECT status, error_code, sequence, received_at, out_of_order FROM message_events
                 WHERE dedupe_key >= $1 || '|' AND dedupe_key < $1 || '}' AND message_uuid = $1 ORDER BY id",
            )
            .bind(message_uuid)
            .fetch_all(&self.pool)
            .await?;
            Ok::<_, sqlx::Error>(Some(
                row.into_stored(events.into_iter().map(StoredEvent::from).collect()),
            ))
        };
        read.await.map_err(|e| unavailable("read message", &e))
    }

    async fn messages(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, Error> {
        sqlx::query_as::<_, MessageRow>(
            "SELECT message_uuid, status, error_code, updated_at FROM messages
             WHERE ($1::TEXT IS NULL OR status = $1) ORDER BY updated_at DESC, message_uuid LIMIT $2",
        )
        .bind(status)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map(|rows| rows.into_iter().map(|row| row.into_stored(Vec::new())).collect())
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
