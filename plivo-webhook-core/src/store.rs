//! The storage and notification traits a callback endpoint plugs into.
//!
//! The example receivers implement [`CallbackStore`] in memory, on SQLite and on
//! PostgreSQL; implement it for your own database the same way. The contract:
//!
//! * **Idempotent**: the same status event (message UUID, status, `Sequence`) is recorded
//!   once; a duplicate returns [`EventOutcome::duplicate`] and changes nothing.
//! * **Monotonic**: the current status changes only when the new one
//!   [supersedes](crate::Status::supersedes) it; every new event is kept in the history.
//! * **Atomic**: an event, the current status and the notification flag are written in one
//!   transaction. On failure return [`Error::Storage`] (HTTP 503) so Plivo retries.
//! * **Notify once**: [`EventOutcome::notify_failure`] is true for exactly one event per
//!   message, the first that makes it failed or undelivered, decided inside the
//!   transaction so that it holds across instances sharing a database.

use crate::callback::{InboundMessage, MessageStatus};
use crate::error::Error;
use crate::params::Params;

/// What recording a status event did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventOutcome {
    /// The event was already recorded; nothing changed.
    pub duplicate: bool,
    /// The message's current status changed.
    pub status_changed: bool,
    /// The event arrived after a status of higher rank (kept in history only).
    pub out_of_order: bool,
    /// This event is the first to make the message failed or undelivered: notify now.
    pub notify_failure: bool,
}

/// One recorded status event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StoredEvent {
    /// The status of this event.
    pub status: String,
    /// Its error code, if any.
    pub error_code: Option<String>,
    /// Plivo's `Sequence`, if sent.
    pub sequence: Option<i64>,
    /// When it arrived (RFC 3339, UTC).
    pub received_at: String,
    /// Whether it arrived after a status of higher rank.
    pub out_of_order: bool,
}

/// A message's current state and its history, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StoredMessage {
    /// `MessageUUID`.
    pub message_uuid: String,
    /// The current status.
    pub status: String,
    /// The current error code, if any.
    pub error_code: Option<String>,
    /// When the current status was set (RFC 3339, UTC).
    pub updated_at: String,
    /// Every recorded event, in arrival order (empty in listings).
    pub events: Vec<StoredEvent>,
}

/// An authentic callback that could not be typed, kept raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The endpoint it arrived on (`status`, `inbound`).
    pub endpoint: String,
    /// Why it could not be typed.
    pub reason: String,
    /// The verified parameters, form-encoded.
    pub params: String,
    /// The nonce, which with the endpoint makes a retry recognisable.
    pub nonce: String,
}

/// Where verified callbacks are kept.
#[async_trait::async_trait]
pub trait CallbackStore: Send + Sync + 'static {
    /// Records a status event (see the module docs for the contract).
    ///
    /// # Errors
    /// [`Error::Storage`] when nothing could be recorded.
    async fn record_status(
        &self,
        status: &MessageStatus,
        params: &Params,
    ) -> Result<EventOutcome, Error>;

    /// Records an inbound message once per `MessageUUID`; returns whether it was new.
    ///
    /// # Errors
    /// [`Error::Storage`] when nothing could be recorded.
    async fn record_inbound(
        &self,
        message: &InboundMessage,
        params: &Params,
    ) -> Result<bool, Error>;

    /// Keeps an authentic callback that could not be typed.
    ///
    /// # Errors
    /// [`Error::Storage`] when nothing could be recorded.
    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), Error>;

    /// A message and its history.
    ///
    /// # Errors
    /// [`Error::Storage`] when the store cannot be read.
    async fn message(&self, message_uuid: &str) -> Result<Option<StoredMessage>, Error>;

    /// The most recently updated messages, optionally with a given current status.
    ///
    /// # Errors
    /// [`Error::Storage`] when the store cannot be read.
    async fn messages(&self, status: Option<&str>, limit: u32)
        -> Result<Vec<StoredMessage>, Error>;

    /// Checks that the store answers (for readiness probes).
    ///
    /// # Errors
    /// [`Error::Storage`] when it does not.
    async fn ping(&self) -> Result<(), Error>;
}

/// Told when a message first fails (see [`EventOutcome::notify_failure`]).
#[async_trait::async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Called once per message, after the event that made it failed or undelivered was
    /// stored. Delivery is at most once: a crash between the commit and this call skips it.
    async fn message_failed(&self, status: &MessageStatus);
}
