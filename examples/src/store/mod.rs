//! Storage for the receivers: in memory, SQLite (embedded default) and PostgreSQL.
//!
//! All three implement [`CallbackStore`] from the core with the same rules, decided once
//! here in [`decide`]: a status event is recorded once (its [`NewEvent::dedupe_key`]), the
//! current status never moves backwards, and the first transition to a failure is flagged
//! for notification inside the same transaction.

mod batch;
mod memory;
mod postgres;
mod replay;
mod sqlite;
mod time;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use plivo_webhook_core::{
    CallbackStore, DeadLetter, Error, EventOutcome, MessageStatus, NonceStore, Status, StoredEvent,
    StoredMessage,
};
use sha2::{Digest, Sha256};

pub use memory::{MemoryStore, MEMORY_LIMIT};
pub use postgres::{PostgresStore, WRITER_NAME};
pub use replay::PostgresNonceStore;
pub use sqlite::SqliteStore;
pub use time::{now_micros, rfc3339};

/// How long a store operation may wait for a connection or a lock before it fails (and the
/// callback is answered 503 so Plivo retries): bounded, so nothing hangs.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(3);

/// Opens the store named by a `DATABASE_URL` and applies its migrations.
///
/// `memory:` (nothing survives a restart; bounded, see [`MEMORY_LIMIT`]), `sqlite://PATH`
/// (created if missing), or `postgres://…` / `postgresql://…`.
///
/// # Errors
/// One line saying what is wrong with the URL or why the database cannot be opened.
pub async fn open(url: &str) -> Result<Arc<dyn CallbackStore>, String> {
    if url == "memory:" || url == "memory://" {
        Ok(Arc::new(MemoryStore::default()))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err("DATABASE_URL must be memory:, sqlite://PATH or postgres://…".to_owned())
    }
}

/// Opens the replay defence named by `REPLAY_PROTECTION`: `off` (default), `memory`
/// (one instance), or `postgres` (shared; needs a PostgreSQL `DATABASE_URL`).
///
/// # Errors
/// One line naming the problem.
pub async fn open_nonces(
    setting: &str,
    database_url: &str,
) -> Result<Option<Arc<dyn NonceStore>>, String> {
    const TTL: Duration = Duration::from_secs(24 * 3600);
    match setting {
        "" | "off" => Ok(None),
        "memory" => Ok(Some(Arc::new(plivo_webhook_core::MemoryNonceStore::new(
            TTL, 1_000_000,
        )))),
        "postgres" => {
            if !(database_url.starts_with("postgres://")
                || database_url.starts_with("postgresql://"))
            {
                return Err(
                    "REPLAY_PROTECTION=postgres needs a postgres:// DATABASE_URL".to_owned(),
                );
            }
            let store = PostgresStore::open(database_url).await?;
            Ok(Some(Arc::new(PostgresNonceStore::new(store.pool(), TTL))))
        }
        _ => Err("REPLAY_PROTECTION must be off, memory or postgres".to_owned()),
    }
}

/// A status event ready to be stored.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `MessageUUID`.
    pub message_uuid: String,
    /// Same message, same raw status, same `Sequence`: the same event (a retry).
    pub dedupe_key: String,
    /// The status to store: an unknown value is stored as `sent`.
    pub status: String,
    /// The status as Plivo sent it.
    pub raw_status: String,
    /// [`Status::precedence`] of the stored status.
    pub rank: i32,
    /// Whether the status is a failure (failed, undelivered, rejected).
    pub is_failure: bool,
    /// The error code, if any.
    pub error_code: Option<String>,
    /// Plivo's `Sequence`.
    pub sequence: Option<i64>,
    /// All parameters, form-encoded (filled by the stores that keep them).
    pub params: String,
    /// Arrival time, unix microseconds.
    pub received_at: i64,
}

impl NewEvent {
    /// Builds the event of a verified status callback.
    #[must_use]
    pub fn new(status: &MessageStatus) -> Self {
        let stored = match &status.status {
            Status::Unknown(_) => Status::Sent,
            known => known.clone(),
        };
        let sequence = status.sequence.map(i64::from);
        // `<uuid>|<status>|<sequence>`. Starts with the UUID and `|`: SQLite reads a
        // message's timeline through the unique index of this key.
        let raw_status = status.status.as_str();
        let mut dedupe_key =
            String::with_capacity(status.message_uuid.len() + raw_status.len() + 12);
        dedupe_key.push_str(&status.message_uuid);
        dedupe_key.push('|');
        dedupe_key.push_str(raw_status);
        dedupe_key.push('|');
        if let Some(sequence) = sequence {
            // Writing to a `String` cannot fail.
            let _ = write!(dedupe_key, "{sequence}");
        }
        NewEvent {
            message_uuid: status.message_uuid.to_string(),
            dedupe_key,
            status: stored.as_str().to_owned(),
            raw_status: status.status.as_str().to_owned(),
            rank: i32::from(stored.precedence()),
            is_failure: stored.is_failure(),
            error_code: status
                .error_code
                .as_ref()
                .map(plivo_webhook_core::ErrorCode::as_string),
            sequence,
            params: String::new(),
            received_at: now_micros(),
        }
    }
}

/// A message's stored state, as far as the rules need it.
#[derive(Debug, Clone, Copy)]
pub struct Current {
    /// Rank of the current status.
    pub rank: i32,
    /// Whether the current status is a failure.
    pub is_failure: bool,
    /// Whether the failure notification was already claimed.
    pub notified: bool,
}

/// What a new (non-duplicate) event does to its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The event becomes the current status.
    pub apply: bool,
    /// The event ranks below the current status.
    pub out_of_order: bool,
    /// Claim the failure notification now.
    pub notify_failure: bool,
}

/// The rules, in one place: apply only a strictly higher rank; notify the first time the
/// current status is a failure.
#[must_use]
pub fn decide(current: Option<Current>, event: &NewEvent) -> Decision {
    let (apply, out_of_order) = match current {
        None => (true, false),
        Some(current) => (event.rank > current.rank, event.rank < current.rank),
    };
    let failing_now = if apply {
        event.is_failure
    } else {
        current.is_some_and(|c| c.is_failure)
    };
    let notified = current.is_some_and(|c| c.notified);
    Decision {
        apply,
        out_of_order,
        notify_failure: failing_now && !notified,
    }
}

/// Rows per multi-row statement (well under SQLite's and PostgreSQL's limits on bound
/// variables).
pub(crate) const CHUNK: usize = 100;

/// A message's state while a batch of events is decided.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) current: Current,
    pub(crate) status: String,
    pub(crate) error_code: Option<String>,
    pub(crate) updated_at: i64,
    pub(crate) dirty: bool,
}

/// What a batch of events does: an outcome per event, the events to insert (with their
/// out-of-order flag), and the messages whose row changes.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    pub(crate) outcomes: Vec<EventOutcome>,
    pub(crate) new_events: Vec<(&'a NewEvent, bool)>,
    pub(crate) dirty: Vec<(String, State)>,
}

/// Applies [`decide`] to a batch in arrival order, given the stored states of its messages
/// and the dedupe keys already stored (both read inside the batch's transaction). Shared by
/// the SQL stores' group commits.
pub(crate) fn plan<'a>(
    events: &[&'a NewEvent],
    mut states: HashMap<String, State>,
    mut seen: HashSet<String>,
) -> Plan<'a> {
    let mut outcomes = Vec::with_capacity(events.len());
    let mut new_events = Vec::with_capacity(events.len());
    for event in events {
        if !seen.insert(event.dedupe_key.clone()) {
            outcomes.push(EventOutcome {
                duplicate: true,
                ..EventOutcome::default()
            });
            continue;
        }
        let decision = decide(states.get(&event.message_uuid).map(|s| s.current), event);
        let state = states
            .entry(event.message_uuid.clone())
            .or_insert_with(|| State {
                current: Current {
                    rank: event.rank,
                    is_failure: event.is_failure,
                    notified: false,
                },
                status: event.status.clone(),
                error_code: event.error_code.clone(),
                updated_at: event.received_at,
                dirty: true,
            });
        if decision.apply {
            state.current.rank = event.rank;
            state.current.is_failure = event.is_failure;
            state.status.clone_from(&event.status);
            state.error_code.clone_from(&event.error_code);
            state.updated_at = event.received_at;
            state.dirty = true;
        }
        if decision.notify_failure {
            state.current.notified = true;
            state.dirty = true;
        }
        new_events.push((*event, decision.out_of_order));
        outcomes.push(EventOutcome {
            duplicate: false,
            status_changed: decision.apply,
            out_of_order: decision.out_of_order,
            notify_failure: decision.notify_failure,
        });
    }
    let mut dirty: Vec<(String, State)> = states.into_iter().filter(|(_, s)| s.dirty).collect();
    // A fixed order, so that concurrent batches on PostgreSQL lock rows alike.
    dirty.sort_by(|a, b| a.0.cmp(&b.0));
    Plan {
        outcomes,
        new_events,
        dirty,
    }
}

/// A row of a batch's one read: a dedupe key already stored (`kind` 0, `key` the dedupe
/// key, the rest NULL), or a message's state (`kind` 1, `key` its UUID).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StoredRow {
    kind: i64,
    key: String,
    status: Option<String>,
    status_rank: Option<i32>,
    error_code: Option<String>,
    updated_at: Option<i64>,
    failure_notified: Option<bool>,
}

/// Sorts a batch's read into the dedupe keys already stored and the messages' states, as
/// [`plan`] takes them.
pub(crate) fn absorb(
    rows: Vec<StoredRow>,
    seen: &mut HashSet<String>,
    states: &mut HashMap<String, State>,
) {
    for row in rows {
        if row.kind == 0 {
            seen.insert(row.key);
            continue;
        }
        let status = row.status.unwrap_or_default();
        states.insert(
            row.key,
            State {
                current: Current {
                    rank: row.status_rank.unwrap_or_default(),
                    is_failure: Status::parse(&status).is_failure(),
                    notified: row.failure_notified.unwrap_or_default(),
                },
                status,
                error_code: row.error_code,
                updated_at: row.updated_at.unwrap_or_default(),
                dirty: false,
            },
        );
    }
}

/// A `messages` row as the read paths select it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MessageRow {
    message_uuid: String,
    status: String,
    error_code: Option<String>,
    updated_at: i64,
}

impl MessageRow {
    pub(crate) fn into_stored(self, events: Vec<StoredEvent>) -> StoredMessage {
        StoredMessage {
            message_uuid: self.message_uuid,
            status: self.status,
            error_code: self.error_code,
            updated_at: rfc3339(self.updated_at),
            events,
        }
    }
}

/// A `message_events` row as the read paths select it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    status: String,
    error_code: Option<String>,
    sequence: Option<i64>,
    received_at: i64,
    out_of_order: bool,
}

impl From<EventRow> for StoredEvent {
    fn from(row: EventRow) -> Self {
        StoredEvent {
            status: row.status,
            error_code: row.error_code,
            sequence: row.sequence,
            received_at: rfc3339(row.received_at),
            out_of_order: row.out_of_order,
        }
    }
}

/// A stable key for a dead letter, so a retried callback is kept once.
#[must_use]
pub fn fingerprint(letter: &DeadLetter) -> String {
    let mut hash = Sha256::new();
    hash.update(letter.endpoint.as_bytes());
    hash.update([0]);
    hash.update(letter.params.as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A storage failure as the core's error (HTTP 503), without database details that could
/// carry connection strings.
pub(crate) fn unavailable(context: &str, err: &sqlx::Error) -> Error {
    let kind = match err {
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection",
        sqlx::Error::Io(_) => "connection failed",
        sqlx::Error::Database(_) => "the database refused the statement",
        sqlx::Error::PoolClosed => "the pool is closed",
        _ => "database error",
    };
    tracing::warn!(context, error = %err, "store failure");
    Error::Storage {
        message: format!("{context}: {kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plivo_webhook_core::Params;

    fn event(status: &str) -> NewEvent {
        let params =
            Params::decode(format!("MessageUUID=u&From=a&To=b&Status={status}").as_bytes());
        let status =
            <MessageStatus as plivo_webhook_core::FromParams>::from_params(&params).unwrap();
        NewEvent::new(&status)
    }

    fn current(status: &str, notified: bool) -> Current {
        let e = event(status);
        Current {
            rank: e.rank,
            is_failure: e.is_failure,
            notified,
        }
    }

    #[test]
    fn rules() {
        assert_eq!(
            decide(None, &event("queued")),
            Decision {
                apply: true,
                out_of_order: false,
                notify_failure: false
            }
        );
        assert!(decide(None, &event("failed")).notify_failure);
        let late = decide(Some(current("delivered", false)), &event("sent"));
        assert_eq!(
            late,
            Decision {
                apply: false,
                out_of_order: true,
                notify_failure: false
            }
        );
        let fail = decide(Some(current("sent", false)), &event("undelivered"));
        assert!(fail.apply && fail.notify_failure);
        assert!(!decide(Some(current("failed", true)), &event("queued")).notify_failure);
        assert!(!decide(Some(current("delivered", false)), &event("failed")).notify_failure);
        let unknown = event("teleported");
        assert_eq!((unknown.status.as_str(), unknown.rank), ("sent", 1));
        assert_ne!(unknown.dedupe_key, event("sent").dedupe_key);
    }

    /// The dedupe key is stored (SQLite and PostgreSQL look retries up by it), so its
    /// layout must not change: `<uuid>|<status as sent>|<sequence or nothing>`.
    #[test]
    fn dedupe_keys_keep_their_layout() {
        assert_eq!(event("delivered").dedupe_key, "u|delivered|");
        let params = Params::decode(b"MessageUUID=7a1f&From=a&To=b&Status=teleported&Sequence=12");
        let status =
            <MessageStatus as plivo_webhook_core::FromParams>::from_params(&params).unwrap();
        assert_eq!(NewEvent::new(&status).dedupe_key, "7a1f|teleported|12");
    }
}
