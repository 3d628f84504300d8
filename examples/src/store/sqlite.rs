//! SQLite (sqlx, WAL): the embedded default.
//!
//! The batch writer owns a connection (status callbacks, the bulk of the writes); inbound
//! messages and dead letters are written through a pool of one more. SQLite lets one of
//! them write at a time: each write is one statement or a `BEGIN IMMEDIATE` transaction,
//! which takes the write lock before reading, so a writer that finds it taken waits
//! (`busy_timeout`) and never has to upgrade a read lock. A small reader pool, and one
//! connection that checkpoints the WAL in the background, off the writer's path. The
//! journal is WAL with `synchronous=NORMAL` by default: a committed callback survives a
//! crash or `kill -9` of the process; the last transactions may be lost on power loss.
//! Set `SQLITE_SYNCHRONOUS=FULL` to fsync every commit.

use std::str::FromStr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use plivo_webhook_core::{
    CallbackStore, DeadLetter, Error, EventOutcome, InboundMessage, MessageStatus, Params,
    StoredEvent, StoredMessage,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use std::collections::{HashMap, HashSet};

use sqlx::{Connection, QueryBuilder, Sqlite};

use super::batch::{on_connection, BatchWrite, Batcher, Place};
use super::{absorb, EventRow, MessageRow, StoredRow};
use super::{
    fingerprint, now_micros, plan, unavailable, NewEvent, Plan, State, CHUNK, STORE_TIMEOUT,
};

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    batches: Batcher,
    /// Keeps the background checkpoints going while any clone of the store lives.
    _checkpoints: Arc<()>,
}

/// How often a separate connection copies committed WAL frames into the database file
/// (a `PASSIVE` checkpoint, which never blocks the writer).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

impl SqliteStore {
    /// Opens (creating if missing) the database and applies the migrations.
    ///
    /// # Errors
    /// One line naming the problem.
    pub async fn open(url: &str) -> Result<Self, String> {
        let synchronous = match std::env::var("SQLITE_SYNCHRONOUS").as_deref() {
            Ok("FULL" | "full") => SqliteSynchronous::Full,
            _ => SqliteSynchronous::Normal,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| format!("invalid SQLite DATABASE_URL: {e}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(STORE_TIMEOUT)
            // 8 MiB of page cache (the default is 2 MiB): the UUID-keyed indexes take
            // random pages, and a miss is a read system call on the writer's thread.
            .pragma("cache_size", "-8192")
            // Statement journals (each multi-row `INSERT` of a batch keeps one, to undo
            // just that statement if it fails) in memory, not in temporary files.
            .pragma("temp_store", "MEMORY");
        // Checkpoints: most of the copying (and its fsyncs) is done by the background
        // connection (see `checkpoint_in_background`), off the writer's path. The
        // writer still checkpoints itself once the WAL reaches 16,000 pages (64 MiB):
        // by then the background has copied nearly every frame, so this checkpoint is
        // short, and as no frame is appended while it runs it reaches the end of the
        // WAL, which then starts again from its beginning. (A checkpoint from another
        // connection alone never catches up under constant writes: the WAL grew to
        // 3 GB in 20 s.) Each of the writer's checkpoints still waits for two `fsync`s,
        // which every callback of the moment waits for too: the larger the WAL, the
        // rarer they are. See BENCHMARKS.md for the measurements.
        let writing = options.clone().pragma("wal_autocheckpoint", "16000");
        let writer = connect(writing.clone(), 1).await?;
        sqlx::migrate!("migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| format!("cannot migrate SQLite database: {e}"))?;
        let reader = connect(options.clone().read_only(true), 4).await?;
        // One batch writer: SQLite writes one transaction at a time anyway. On the
        // server's runtime: `sqlx-sqlite` already serves the connection from a thread of
        // its own, and a writer thread too measured no faster (BENCHMARKS.md).
        let batches = Batcher::start(
            || SqliteWriter {
                options: writing.clone(),
                conn: None,
            },
            1,
            Place::Runtime,
        );
        let checkpoints = Arc::new(());
        checkpoint_in_background(options, Arc::downgrade(&checkpoints)).await?;
        Ok(SqliteStore {
            writer,
            reader,
            batches,
            _checkpoints: checkpoints,
        })
    }
}

/// A pool of at most `connections` to the database of `options`.
async fn connect(options: SqliteConnectOptions, connections: u32) -> Result<SqlitePool, String> {
    SqlitePoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(STORE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| format!("cannot open SQLite database: {e}"))
}

/// Runs a `PASSIVE` checkpoint every [`CHECKPOINT_EVERY`] on a connection of its own until
/// the store is dropped. A checkpoint copies WAL frames into the database file and fsyncs
/// both; run by the writer, as SQLite does by default, it stalls every callback waiting for
/// a commit (measured: 14 ms per fsync here). A `PASSIVE` checkpoint takes no lock that the
/// writer or the readers wait for, and it changes nothing about durability: what it copies
/// was already committed to the WAL.
async fn checkpoint_in_background(
    options: SqliteConnectOptions,
    alive: Weak<()>,
) -> Result<(), String> {
    let connection = connect(options, 1).await?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while alive.strong_count() > 0 {
            tick.tick().await;
            if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&connection)
                .await
            {
                // Not fatal: the writer's own checkpoints keep the WAL bounded.
                tracing::debug!(error = %err, "background checkpoint failed");
            }
        }
        connection.close().await;
    });
    Ok(())
}

async fn write_batch(
    conn: &mut SqliteConnection,
    events: &[&NewEvent],
) -> Result<Vec<EventOutcome>, sqlx::Error> {
    // Two round trips to SQLite's worker thread per batch, not per event: one read of what
    // is already stored, then the rules are applied in arrival order in memory, then one
    // script (`BEGIN; INSERT …; INSERT … ON CONFLICT …; COMMIT`) writes the new events and
    // the changed messages. Reading before `BEGIN` is safe: this batch writer is the only
    // writer of these two tables (one connection, one writer task; one process per file).
    let mut seen: HashSet<String> = HashSet::new();
    let mut states: HashMap<String, State> = HashMap::new();
    for chunk in events.chunks(CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT 0 AS kind, dedupe_key AS key, NULL AS status, NULL AS status_rank, NULL AS error_code, NULL AS updated_at, NULL AS failure_notified FROM message_events WHERE dedupe_key IN (",
        );
        let mut list = query.separated(", ");
        for event in chunk {
            list.push_bind(&event.dedupe_key);
        }
        query.push(
            ") UNION ALL SELECT 1, message_uuid, status, status_rank, error_code, updated_at, failure_notified FROM messages WHERE message_uuid IN (",
        );
        let mut list = query.separated(", ");
        for event in chunk {
            list.push_bind(&event.message_uuid);
        }
        query.push(")");
        let rows = query
            .build_query_as::<StoredRow>()
            .fetch_all(&mut *conn)
            .await?;
        absorb(rows, &mut seen, &mut states);
    }
    let Plan {
        outcomes,
        new_events,
        dirty,
    } = plan(events, states, seen);
    if new_events.is_empty() && dirty.is_empty() {
        return Ok(outcomes);
    }
    let mut script = QueryBuilder::<Sqlite>::new("BEGIN IMMEDIATE; ");
    for chunk in new_events.chunks(CHUNK) {
        insert_events(&mut script, chunk);
        script.push("; ");
    }
    for chunk in dirty.chunks(CHUNK) {
        upsert_messages(&mut script, chunk);
        script.push("; ");
    }
    script.push("COMMIT");
    if let Err(err) = script.build().execute(&mut *conn).await {
        // Nothing of the batch stays: every caller gets the error (and answers 503).
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        return Err(err);
    }
    Ok(outcomes)
}

/// Appends `INSERT INTO message_events … VALUES (…), (…)` for a chunk of new events.
fn insert_events<'a>(query: &mut QueryBuilder<'a, Sqlite>, chunk: &'a [(&'a NewEvent, bool)]) {
    query.push(
        "INSERT INTO message_events (message_uuid, dedupe_key, status, raw_status, error_code, sequence, out_of_order, received_at, params) ",
    );
    query.push_values(chunk, |mut row, (event, out_of_order)| {
        row.push_bind(&event.message_uuid)
            .push_bind(&event.dedupe_key)
            .push_bind(&event.status)
            .push_bind(&event.raw_status)
            .push_bind(&event.error_code)
            .push_bind(event.sequence)
            .push_bind(*out_of_order)
            .push_bind(event.received_at)
            .push_bind(&event.params);
    });
}

/// Appends `INSERT INTO messages … ON CONFLICT DO UPDATE` with the final state of changed
/// messages.
fn upsert_messages<'a>(query: &mut QueryBuilder<'a, Sqlite>, chunk: &'a [(String, State)]) {
    query.push(
        "INSERT INTO messages (message_uuid, status, status_rank, error_code, updated_at, failure_notified) ",
    );
    query.push_values(chunk, |mut row, (uuid, state)| {
        row.push_bind(uuid)
            .push_bind(&state.status)
            .push_bind(state.current.rank)
            .push_bind(&state.error_code)
            .push_bind(state.updated_at)
            .push_bind(state.current.notified);
    });
    query.push(
        " ON CONFLICT (message_uuid) DO UPDATE SET status = excluded.status, status_rank = excluded.status_rank,
          error_code = excluded.error_code, updated_at = excluded.updated_at, failure_notified = excluded.failure_notified",
    );
}

/// The SQLite side of the group commit. It owns its connection, opened on first use and
/// again after an error: taken from a pool for each batch, a connection costs two more
/// round trips to its worker thread (the pool pings it when it is returned and when it is
/// taken), which measured a third of the batch's time.
#[derive(Debug)]
struct SqliteWriter {
    options: SqliteConnectOptions,
    conn: Option<SqliteConnection>,
}

#[async_trait::async_trait]
impl BatchWrite for SqliteWriter {
    async fn write(&mut self, events: &[&NewEvent]) -> Result<Vec<EventOutcome>, sqlx::Error> {
        let connect = SqliteConnection::connect_with(&self.options);
        on_connection(&mut self.conn, connect, async |conn| {
            write_batch(conn, events).await
        })
        .await
    }
}

#[async_trait::async_trait]
impl CallbackStore for SqliteStore {
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
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_uuid) DO NOTHING",
        )
        .bind(message.message_uuid.as_str())
        .bind(message.from.as_str())
        .bind(message.to.as_str())
        .bind(message.message_type.as_ref().map(|t| t.as_str().to_owned()))
        .bind(message.content())
        .bind(now_micros())
        .bind(params.to_form())
        .execute(&self.writer)
        .await
        .map(|done| done.rows_affected() == 1)
        .map_err(|e| unavailable("record inbound", &e))
    }

    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO dead_letters (fingerprint, endpoint, reason, params, nonce, received_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(fingerprint(letter))
        .bind(&letter.endpoint)
        .bind(&letter.reason)
        .bind(&letter.params)
        .bind(&letter.nonce)
        .bind(now_micros())
        .execute(&self.writer)
        .await
        .map(|_| ())
        .map_err(|e| unavailable("dead letter", &e))
    }

    async fn message(&self, message_uuid: &str) -> Result<Option<StoredMessage>, Error> {
        let read = async {
            let Some(row) = sqlx::query_as::<_, MessageRow>(
                "SELECT message_uuid, status, error_code, updated_at FROM messages WHERE message_uuid = ?",
            )
            .bind(message_uuid)
            .fetch_optional(&self.reader)
            .await?
            else {
                return Ok(None);
            };
            let events = sqlx::query_as::<_, EventRow>(
                // Through the `dedupe_key` index: its keys are `<message_uuid>|<status>|…`.
                "SELECT status, error_code, sequence, received_at, out_of_order FROM message_events
                 WHERE dedupe_key >= ?1 || '|' AND dedupe_key < ?1 || '}' AND message_uuid = ?1 ORDER BY id",
            )
            .bind(message_uuid)
            .fetch_all(&self.reader)
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
             WHERE (? IS NULL OR status = ?) ORDER BY updated_at DESC, message_uuid LIMIT ?",
        )
        .bind(status)
        .bind(status)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map(|rows| {
            rows.into_iter()
                .map(|row| row.into_stored(Vec::new()))
                .collect()
        })
        .map_err(|e| unavailable("list messages", &e))
    }

    async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map(|_| ())
            .map_err(|e| unavailable("ping", &e))
    }
}
