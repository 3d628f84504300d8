//! SQLite (sqlx, WAL): the embedded default.
//!
//! One writer connection (SQLite allows one writer at a time; a single connection avoids
//! lock-upgrade deadlocks and is the fastest way to write) and a small reader pool. The
//! journal is WAL with `synchronous=NORMAL` by default: a committed callback survives a
//! crash or `kill -9` of the process; the last transactions may be lost on power loss.
//! Set `SQLITE_SYNCHRONOUS=FULL` to fsync every commit.

use std::str::FromStr;

use plivo_webhook_core::{
    CallbackStore, DeadLetter, Error, EventOutcome, InboundMessage, MessageStatus, Params, Status,
    StoredEvent, StoredMessage,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::collections::{HashMap, HashSet};

use sqlx::{QueryBuilder, Row, Sqlite};
use tokio::sync::{mpsc, oneshot};

use super::{
    fingerprint, now_micros, plan, rfc3339, unavailable, Current, NewEvent, Plan, State, CHUNK,
    STORE_TIMEOUT,
};

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    batches: mpsc::Sender<Job>,
}

/// A status event waiting for the writer, and where to send its outcome.
#[derive(Debug)]
struct Job {
    event: NewEvent,
    reply: oneshot::Sender<Result<EventOutcome, Error>>,
}

/// Most status events written in one transaction.
const MAX_BATCH: usize = 128;

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
            .busy_timeout(STORE_TIMEOUT);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(STORE_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(|e| format!("cannot open SQLite database: {e}"))?;
        sqlx::migrate!("migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| format!("cannot migrate SQLite database: {e}"))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(STORE_TIMEOUT)
            .connect_with(options.read_only(true))
            .await
            .map_err(|e| format!("cannot open SQLite database: {e}"))?;
        let (batches, jobs) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(writer.clone(), jobs));
        Ok(SqliteStore {
            writer,
            reader,
            batches,
        })
    }
}

/// Group commit: the status events that arrive while a transaction is being written go
/// into the next one, so that one commit serves many callbacks. Each caller still gets
/// its own outcome, and only after the commit; if the transaction fails, every caller in
/// it gets the error (503) and nothing of it is kept.
async fn write_batches(writer: SqlitePool, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let events: Vec<&NewEvent> = batch.iter().map(|job| &job.event).collect();
        match write_batch(&writer, &events).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(err) => {
                let err = unavailable("record status", &err);
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(err.clone()));
                }
            }
        }
    }
}

async fn write_batch(
    writer: &SqlitePool,
    events: &[&NewEvent],
) -> Result<Vec<EventOutcome>, sqlx::Error> {
    // A handful of statements per batch, not per event: what is already stored is read
    // once, the rules are applied in arrival order in memory, and the new events and the
    // changed messages are written with one multi-row statement each.
    let mut tx = writer.begin().await?;
    let mut seen: HashSet<String> = HashSet::new();
    for chunk in events.chunks(CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT dedupe_key FROM message_events WHERE dedupe_key IN (",
        );
        let mut list = query.separated(", ");
        for event in chunk {
            list.push_bind(&event.dedupe_key);
        }
        query.push(")");
        for row in query.build().fetch_all(&mut *tx).await? {
            seen.insert(row.try_get(0)?);
        }
    }
    let mut states: HashMap<String, State> = HashMap::new();
    for chunk in events.chunks(CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT message_uuid, status, status_rank, error_code, updated_at, failure_notified FROM messages WHERE message_uuid IN (",
        );
        let mut list = query.separated(", ");
        for event in chunk {
            list.push_bind(&event.message_uuid);
        }
        query.push(")");
        for row in query.build().fetch_all(&mut *tx).await? {
            let status: String = row.try_get("status")?;
            states.insert(
                row.try_get("message_uuid")?,
                State {
                    current: Current {
                        rank: row.try_get("status_rank")?,
                        is_failure: Status::parse(&status).is_failure(),
                        notified: row.try_get("failure_notified")?,
                    },
                    status,
                    error_code: row.try_get("error_code")?,
                    updated_at: row.try_get("updated_at")?,
                    dirty: false,
                },
            );
        }
    }
    let Plan {
        outcomes,
        new_events,
        dirty,
    } = plan(events, states, seen);
    for chunk in new_events.chunks(CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new(
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
        query.build().execute(&mut *tx).await?;
    }
    for chunk in dirty.chunks(CHUNK) {
        let mut query = QueryBuilder::<Sqlite>::new(
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
        query.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
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
        let (reply, outcome) = oneshot::channel();
        let closed = || Error::Storage {
            message: "record status: the SQLite writer stopped".to_owned(),
        };
        self.batches
            .send(Job { event, reply })
            .await
            .map_err(|_| closed())?;
        outcome.await.map_err(|_| closed())?
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
        .bind(&message.message_uuid)
        .bind(&message.from)
        .bind(&message.to)
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
            let Some(row) = sqlx::query(
                "SELECT status, error_code, updated_at FROM messages WHERE message_uuid = ?",
            )
            .bind(message_uuid)
            .fetch_optional(&self.reader)
            .await?
            else {
                return Ok(None);
            };
            let events = sqlx::query(
                "SELECT status, error_code, sequence, received_at, out_of_order FROM message_events WHERE message_uuid = ? ORDER BY id",
            )
            .bind(message_uuid)
            .fetch_all(&self.reader)
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
             WHERE (? IS NULL OR status = ?) ORDER BY updated_at DESC, message_uuid LIMIT ?",
        )
        .bind(status)
        .bind(status)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
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
            .execute(&self.reader)
            .await
            .map(|_| ())
            .map_err(|e| unavailable("ping", &e))
    }
}
