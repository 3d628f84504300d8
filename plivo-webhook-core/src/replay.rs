//! Optional replay defence: remember the (nonce, signature) pairs already accepted.
//!
//! Plivo's V3 signature carries no timestamp, so a captured request (URL, headers, body)
//! verifies again if sent again. A [`NonceStore`] remembers each accepted
//! [`Verified::replay_key`](crate::Verified::replay_key) for a while, so that a handler can
//! acknowledge a replay without acting on it.
//!
//! What it does **not** protect: a replay after the key expired (TTL) or was evicted
//! (capacity), or one that reaches another instance with its own in-memory store (share a
//! database-backed store between instances); a request captured before it reached you
//! (the first arrival wins); and it is no substitute for idempotent handlers, because
//! Plivo's own retries may reuse the nonce. Record a key only **after** the callback was
//! handled successfully ([`NonceStore::remember`]), never before: otherwise a retry that
//! follows a failure (503) would be taken for a replay and the callback lost.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::Error;

/// Where accepted replay keys are remembered.
#[async_trait::async_trait]
pub trait NonceStore: Send + Sync + 'static {
    /// Whether `key` was remembered (and has not expired).
    ///
    /// # Errors
    /// [`Error::Storage`] when the store cannot answer.
    async fn seen(&self, key: &[u8; 32]) -> Result<bool, Error>;

    /// Remembers `key`, after its callback was handled.
    ///
    /// # Errors
    /// [`Error::Storage`] when the store cannot record it.
    async fn remember(&self, key: &[u8; 32]) -> Result<(), Error>;
}

/// An in-memory [`NonceStore`] with a time to live and a size bound (oldest forgotten
/// first). For one instance; restarts forget everything.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use plivo_webhook_core::{MemoryNonceStore, NonceStore};
///
/// let store = MemoryNonceStore::new(Duration::from_secs(3600), 100_000);
/// let key = [7u8; 32];
/// assert!(!store.seen(&key).await.unwrap());
/// store.remember(&key).await.unwrap();
/// assert!(store.seen(&key).await.unwrap());
/// # }
/// ```
#[derive(Debug)]
pub struct MemoryNonceStore {
    ttl: Duration,
    capacity: usize,
    inner: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    seen: HashMap<[u8; 32], Instant>,
    order: VecDeque<([u8; 32], Instant)>,
}

impl MemoryNonceStore {
    /// Remembers keys for `ttl`, at most `capacity` of them.
    #[must_use]
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        MemoryNonceStore {
            ttl,
            capacity: capacity.max(1),
            inner: Mutex::new(Ring::default()),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Ring>, Error> {
        self.inner.lock().map_err(|_| Error::Storage {
            message: "the nonce store is poisoned".to_owned(),
        })
    }

    /// The number of keys remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().map_or(0, |ring| ring.seen.len())
    }

    /// Whether no key is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemoryNonceStore {
    /// One day, one million keys (about 80 MB at most).
    fn default() -> Self {
        MemoryNonceStore::new(Duration::from_secs(24 * 3600), 1_000_000)
    }
}

impl Ring {
    fn expire(&mut self, now: Instant, ttl: Duration, capacity: usize) {
        while let Some((key, at)) = self.order.front().copied() {
            if now.duration_since(at) < ttl && self.order.len() <= capacity {
                break;
            }
            self.order.pop_front();
            if self.seen.get(&key) == Some(&at) {
                self.seen.remove(&key);
            }
        }
    }
}

#[async_trait::async_trait]
impl NonceStore for MemoryNonceStore {
    async fn seen(&self, key: &[u8; 32]) -> Result<bool, Error> {
        let now = Instant::now();
        let mut ring = self.lock()?;
        ring.expire(now, self.ttl, self.capacity);
        Ok(ring.seen.contains_key(key))
    }

    async fn remember(&self, key: &[u8; 32]) -> Result<(), Error> {
        let now = Instant::now();
        let mut ring = self.lock()?;
        ring.seen.insert(*key, now);
        ring.order.push_back((*key, now));
        ring.expire(now, self.ttl, self.capacity);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn expires_and_is_bounded() {
        let store = MemoryNonceStore::new(Duration::from_millis(50), 3);
        for i in 0..5u8 {
            store.remember(&[i; 32]).await.unwrap();
        }
        assert_eq!(store.len(), 3);
        assert!(
            !store.seen(&[0; 32]).await.unwrap(),
            "evicted by the size bound"
        );
        assert!(store.seen(&[4; 32]).await.unwrap());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(!store.seen(&[4; 32]).await.unwrap(), "expired");
        assert!(store.is_empty());
    }
}
