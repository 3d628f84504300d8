//! The live feed behind the dashboard: the latest callbacks, accepted or rejected, kept in
//! a bounded ring and broadcast to subscribers (server-sent events).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::broadcast;

/// How many entries the ring keeps.
pub const CAPACITY: usize = 200;

/// One callback as the dashboard shows it. Holds no secret: no token, no signature, no
/// signing string.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FeedEntry {
    /// Increasing id.
    pub id: u64,
    /// Arrival time, RFC 3339.
    pub at: String,
    /// `status` or `inbound`.
    pub endpoint: &'static str,
    /// `MessageUUID`, when known.
    pub message_uuid: Option<String>,
    /// The status (or message type for inbound), when known.
    pub status: Option<String>,
    /// The error code, when any.
    pub error_code: Option<String>,
    /// What the error code means.
    pub error_meaning: Option<String>,
    /// `stored`, `duplicate`, `dead_letter`, `store_error` or `rejected`.
    pub outcome: &'static str,
    /// Whether the signature was verified.
    pub verified: bool,
    /// Why it was rejected (the core's error message).
    pub reason: Option<String>,
    /// Which URL variant the signature matches (for rejected signatures).
    pub diagnosis: Option<String>,
    /// The event ranked below the message's current status when it arrived.
    pub out_of_order: bool,
}

impl FeedEntry {
    /// An entry with the given endpoint and outcome; the rest empty.
    #[must_use]
    pub fn new(endpoint: &'static str, outcome: &'static str, verified: bool) -> Self {
        FeedEntry {
            id: 0,
            at: crate::store::rfc3339(crate::store::now_micros()),
            endpoint,
            message_uuid: None,
            status: None,
            error_code: None,
            error_meaning: None,
            outcome,
            verified,
            reason: None,
            diagnosis: None,
            out_of_order: false,
        }
    }
}

/// The ring and its broadcast channel.
#[derive(Debug)]
pub struct Feed {
    entries: Mutex<VecDeque<FeedEntry>>,
    next_id: AtomicU64,
    sender: broadcast::Sender<FeedEntry>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            entries: Mutex::new(VecDeque::with_capacity(CAPACITY)),
            next_id: AtomicU64::new(1),
            sender: broadcast::channel(256).0,
        }
    }
}

impl Feed {
    /// Adds an entry (numbering it) and tells subscribers.
    pub fn push(&self, mut entry: FeedEntry) {
        entry.id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() == CAPACITY {
                entries.pop_front();
            }
            entries.push_back(entry.clone());
        }
        // No subscriber is fine.
        let _ = self.sender.send(entry);
    }

    /// The kept entries, oldest first.
    #[must_use]
    pub fn recent(&self) -> Vec<FeedEntry> {
        self.entries
            .lock()
            .map(|e| e.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// A receiver of new entries.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<FeedEntry> {
        self.sender.subscribe()
    }
}
