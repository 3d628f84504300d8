//! The in-memory store: for tests and benchmarks; nothing survives a restart.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use plivo_webhook_core::{
    CallbackStore, DeadLetter, Error, EventOutcome, InboundMessage, MessageStatus, Params,
    StoredEvent, StoredMessage,
};

use super::{decide, fingerprint, rfc3339, Current, NewEvent};

/// Messages, events, inbound messages and dead letters behind one lock.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    messages: HashMap<String, Message>,
    seen: HashSet<String>,
    inbound: HashMap<String, InboundMessage>,
    dead: HashSet<String>,
}

#[derive(Debug)]
struct Message {
    status: String,
    current: Current,
    error_code: Option<String>,
    updated_at: i64,
    events: Vec<StoredEvent>,
}

impl MemoryStore {
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
        if !inner.seen.insert(event.dedupe_key.clone()) {
            return Ok(EventOutcome {
                duplicate: true,
                ..EventOutcome::default()
            });
        }
        let message = inner.messages.get(&event.message_uuid);
        let decision = decide(message.map(|m| m.current), &event);
        let stored = StoredEvent {
            status: event.status.clone(),
            error_code: event.error_code.clone(),
            sequence: event.sequence,
            received_at: rfc3339(event.received_at),
            out_of_order: decision.out_of_order,
        };
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
            });
        if decision.apply {
            message.status.clone_from(&event.status);
            message.error_code.clone_from(&event.error_code);
            message.updated_at = event.received_at;
            message.current.rank = event.rank;
            message.current.is_failure = event.is_failure;
        }
        message.current.notified |= decision.notify_failure;
        message.events.push(stored);
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
        if inner.inbound.contains_key(message.message_uuid.as_str()) {
            return Ok(false);
        }
        inner
            .inbound
            .insert(message.message_uuid.to_string(), message.clone());
        Ok(true)
    }

    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), Error> {
        self.lock()?.dead.insert(fingerprint(letter));
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
