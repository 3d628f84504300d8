//! The in-memory store: for tests and benchmarks; nothing survives a restart.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;

use plivo_webhook_core::{
    CallbackStore, DeadLetter, Error, EventOutcome, InboundMessage, MessageStatus, Params,
    StoredEvent, StoredMessage,
};

use super::{decide, fingerprint, rfc3339, Current, NewEvent};

/// How many messages (and, separately, inbound messages and dead letters) a
/// [`MemoryStore`] keeps by default: about 10 MiB. Under a sustained load the store would
/// otherwise grow without bound (~0.8 KiB per message).
pub const MEMORY_LIMIT: usize = 10_000;

/// Messages, events, inbound messages and dead letters behind one lock, at most
/// [`MEMORY_LIMIT`] of each (or the limit given to [`MemoryStore::with_limit`]). Past it,
/// the message updated least recently is forgotten with its events (a retry of one of
/// them then counts as new, and a failure may be notified again), as are the oldest
/// inbound message and dead letter.
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    limit: usize,
}

#[derive(Debug, Default)]
struct Inner {
    messages: HashMap<String, Message>,
    /// Each update of a message (its UUID and update count), oldest first. An entry is
    /// stale once the message has been updated again; stale entries are skipped.
    updates: VecDeque<(String, u64)>,
    /// Updates so far.
    clock: u64,
    inbound: HashMap<String, InboundMessage>,
    inbound_order: VecDeque<String>,
    dead: HashSet<String>,
    dead_order: VecDeque<String>,
}

#[derive(Debug)]
struct Message {
    status: String,
    current: Current,
    error_code: Option<String>,
    updated_at: i64,
    events: Vec<StoredEvent>,
    /// The dedupe keys of `events`.
    keys: Vec<String>,
    /// The update count of its last update.
    updated: u64,
}

impl Inner {
    /// Forgets the messages updated least recently until at most `limit` are left, and
    /// drops stale update entries once they outnumber the messages two to one.
    fn forget_least_recent(&mut self, limit: usize) {
        while self.messages.len() > limit {
            let Some((uuid, updated)) = self.updates.pop_front() else {
                break;
            };
            if self
                .messages
                .get(&uuid)
                .is_some_and(|m| m.updated == updated)
            {
                self.messages.remove(&uuid);
            }
        }
        if self.updates.len() > 2 * self.messages.len().max(limit) {
            let messages = &self.messages;
            self.updates.retain(|(uuid, updated)| {
                messages.get(uuid).is_some_and(|m| m.updated == *updated)
            });
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::with_limit(MEMORY_LIMIT)
    }
}

/// Records `key` as the newest in `order`; returns the oldest key when there are more
/// than `limit`.
fn admit<K: Clone + Eq + Hash>(order: &mut VecDeque<K>, key: &K, limit: usize) -> Option<K> {
    order.push_back(key.clone());
    if order.len() > limit {
        order.pop_front()
    } else {
        None
    }
}

impl MemoryStore {
    /// A store that keeps at most `limit` messages, inbound messages and dead letters each
    /// (at least one).
    #[must_use]
    pub fn with_limit(limit: usize) -> Self {
        MemoryStore {
            inner: Mutex::default(),
            limit: limit.max(1),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, Error> {
        self.inner.lock().map_err(|_| Error::Storage {
            message: "the in-memory store is poisoned".to_owned(),
        })
    }

    /// The number of dead letters kept.
    pub fn dead_letters(&self) -> usize {
        self.lock().map_or(0, |inner| inner.dead.len())
    }
}

#[async_trait::async_trait]
impl CallbackStore for MemoryStore {
    async fn record_status(
        &self,
        status: &MessageStatus,
        _params: &Params,
    ) -> Result<EventOutcome, Error> {
        let event = NewEvent::new(status);
        let mut inner = self.lock()?;
        let inner = &mut *inner;
        let message = inner.messages.get(&event.message_uuid);
        if message.is_some_and(|m| m.keys.contains(&event.dedupe_key)) {
            return Ok(EventOutcome {
                duplicate: true,
                ..EventOutcome::default()
            });
        }
        let decision = decide(message.map(|m| m.current), &event);
        let stored = StoredEvent {
            status: event.status.clone(),
            error_code: event.error_code.clone(),
            sequence: event.sequence,
            received_at: rfc3339(event.received_at),
            out_of_order: decision.out_of_order,
        };
        inner.clock += 1;
        let updated = inner.clock;
        inner
            .updates
            .push_back((event.message_uuid.clone(), updated));
        let message = inner
            .messages
            .entry(event.message_uuid.clone())
            .or_insert_with(|| Message {
                status: event.status.clone(),
                current: Current {
                    rank: event.rank,
                    is_failure: event.is_failure,
                    notified: false,
                },
                error_code: event.error_code.clone(),
                updated_at: event.received_at,
                events: Vec::new(),
                keys: Vec::new(),
                updated,
            });
        message.updated = updated;
        if decision.apply {
            message.status.clone_from(&event.status);
            message.error_code.clone_from(&event.error_code);
            message.updated_at = event.received_at;
            message.current.rank = event.rank;
            message.current.is_failure = event.is_failure;
        }
        message.current.notified |= decision.notify_failure;
        message.events.push(stored);
        message.keys.push(event.dedupe_key);
        inner.forget_least_recent(self.limit);
        Ok(EventOutcome {
            duplicate: false,
            status_changed: decision.apply,
            out_of_order: decision.out_of_order,
            notify_failure: decision.notify_failure,
        })
    }

    async fn record_inbound(
        &self,
        message: &InboundMessage,
        _params: &Params,
    ) -> Result<bool, Error> {
        let mut inner = self.lock()?;
        let inner = &mut *inner;
        if inner.inbound.contains_key(message.message_uuid.as_str()) {
            return Ok(false);
        }
        let uuid = message.message_uuid.to_string();
        if let Some(oldest) = admit(&mut inner.inbound_order, &uuid, self.limit) {
            inner.inbound.remove(&oldest);
        }
        inner.inbound.insert(uuid, message.clone());
        Ok(true)
    }

    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), Error> {
        let mut inner = self.lock()?;
        let inner = &mut *inner;
        let key = fingerprint(letter);
        if inner.dead.insert(key.clone()) {
            if let Some(oldest) = admit(&mut inner.dead_order, &key, self.limit) {
                inner.dead.remove(&oldest);
            }
        }
        Ok(())
    }

    async fn message(&self, message_uuid: &str) -> Result<Option<StoredMessage>, Error> {
        Ok(self
            .lock()?
            .messages
            .get(message_uuid)
            .map(|m| StoredMessage {
                message_uuid: message_uuid.to_owned(),
                status: m.status.clone(),
                error_code: m.error_code.clone(),
                updated_at: rfc3339(m.updated_at),
                events: m.events.clone(),
            }))
    }

    async fn messages(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, Error> {
        let inner = self.lock()?;
        let mut found: Vec<(&String, &Message)> = inner
            .messages
            .iter()
            .filter(|(_, m)| status.is_none_or(|s| m.status == s))
            .collect();
        found.sort_by(|a, b| {
            b.1.updated_at
                .cmp(&a.1.updated_at)
                .then_with(|| a.0.cmp(b.0))
        });
        Ok(found
            .into_iter()
            .take(limit as usize)
            .map(|(uuid, m)| StoredMessage {
                message_uuid: uuid.clone(),
                status: m.status.clone(),
                error_code: m.error_code.clone(),
                updated_at: rfc3339(m.updated_at),
                events: Vec::new(),
            })
            .collect())
    }

    async fn ping(&self) -> Result<(), Error> {
        self.lock().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plivo_webhook_core::FromParams;

    fn status(uuid: &str, status: &str) -> (MessageStatus, Params) {
        let params = Params::decode(
            format!("MessageUUID={uuid}&From=PLIVO&To=14155550123&Status={status}").as_bytes(),
        );
        (MessageStatus::from_params(&params).unwrap(), params)
    }

    async fn record(store: &MemoryStore, uuid: &str, state: &str) -> bool {
        let (s, p) = status(uuid, state);
        store.record_status(&s, &p).await.unwrap().duplicate
    }

    #[tokio::test]
    async fn forgets_the_least_recently_updated_message_past_its_limit() {
        let store = MemoryStore::with_limit(2);
        assert!(!record(&store, "a", "sent").await);
        assert!(!record(&store, "b", "sent").await);
        // `a` is updated again, so `b` is now the least recent and goes when `c` comes.
        assert!(!record(&store, "a", "delivered").await);
        assert!(!record(&store, "c", "sent").await);
        assert!(store.message("b").await.unwrap().is_none());
        assert_eq!(store.message("a").await.unwrap().unwrap().events.len(), 2);
        assert_eq!(store.messages(None, 10).await.unwrap().len(), 2);
        // The kept messages still deduplicate; the forgotten one's events count as new.
        assert!(record(&store, "a", "sent").await);
        assert!(record(&store, "c", "sent").await);
        assert!(!record(&store, "b", "sent").await);
        assert!(store.message("a").await.unwrap().is_none());
        // Stale update entries do not pile up.
        for i in 0..100 {
            record(&store, &format!("m{i}"), "sent").await;
            record(&store, &format!("m{i}"), "delivered").await;
        }
        let inner = store.lock().unwrap();
        assert_eq!(inner.messages.len(), 2);
        assert!(inner.updates.len() <= 8, "{}", inner.updates.len());
    }

    #[tokio::test]
    async fn inbound_messages_and_dead_letters_are_bounded_too() {
        let store = MemoryStore::with_limit(2);
        for uuid in ["a", "b", "c"] {
            let params = Params::decode(
                format!("MessageUUID={uuid}&From=14155550100&To=PLIVO&Text=hi").as_bytes(),
            );
            let message = InboundMessage::from_params(&params).unwrap();
            assert!(store.record_inbound(&message, &params).await.unwrap());
        }
        assert_eq!(store.lock().unwrap().inbound.len(), 2);
        assert!(!store.lock().unwrap().inbound.contains_key("a"));
        for params in ["one", "two", "three", "three"] {
            let letter = DeadLetter {
                endpoint: "status".to_owned(),
                reason: "missing MessageUUID".to_owned(),
                params: params.to_owned(),
                nonce: "1".to_owned(),
            };
            store.dead_letter(&letter).await.unwrap();
        }
        assert_eq!(store.dead_letters(), 2);
    }
}
