//! What both receivers do, framework-free: verify (done by the adapters), parse, store,
//! answer. The axum and actix-web wiring only translate requests and [`Reply`]s.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use plivo_webhook_core::{
    CallbackStore, DeadLetter, Error, FromParams, Headers, InboundMessage, MessageStatus,
    NonceStore, Notifier, Verified, Verifier,
};

use crate::feed::{Feed, FeedEntry};
use crate::metrics::Metrics;

/// The longest a request waits on the store before it is answered 503 (the pools time out
/// sooner; this is the backstop that guarantees no request hangs).
pub const REQUEST_STORE_DEADLINE: Duration = Duration::from_secs(5);

/// An HTTP answer: status, content type, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body (static answers are not copied).
    pub body: Cow<'static, str>,
}

impl Reply {
    fn json(status: u16, body: &serde_json::Value) -> Self {
        Reply {
            status,
            content_type: "application/json",
            body: body.to_string().into(),
        }
    }

    fn ok_static(body: &'static str) -> Self {
        Reply {
            status: 200,
            content_type: "application/json",
            body: Cow::Borrowed(body),
        }
    }

    fn unavailable(err: &Error) -> Self {
        Reply::json(503, &serde_json::json!({ "error": err.to_string() }))
    }
}

/// The receiver: verifier, store, notifier and metrics.
pub struct Receiver {
    /// Verifies callbacks (also reached by the adapters through the app state).
    pub verifier: Verifier,
    /// Where callbacks are kept.
    pub store: Arc<dyn CallbackStore>,
    /// Told when a message first fails.
    pub notifier: Arc<dyn Notifier>,
    /// Prometheus counters.
    pub metrics: Metrics,
    /// The dashboard's live feed (`None` when the dashboard is off).
    pub feed: Option<Feed>,
    /// How long a client may take to send a body (slow clients get 408).
    pub body_timeout: Duration,
    /// The optional replay defence.
    pub nonces: Option<Arc<dyn NonceStore>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A receiver over `store`, notifying `notifier`.
    pub fn new(
        verifier: Verifier,
        store: Arc<dyn CallbackStore>,
        notifier: Arc<dyn Notifier>,
    ) -> Self {
        Receiver {
            verifier,
            store,
            notifier,
            metrics: Metrics::default(),
            feed: None,
            body_timeout: Duration::from_secs(10),
            nonces: None,
        }
    }

    /// Acknowledges replayed (nonce, signature) pairs without acting on them.
    #[must_use]
    pub fn with_replay_protection(mut self, nonces: Option<Arc<dyn NonceStore>>) -> Self {
        self.nonces = nonces;
        self
    }

    /// Whether this exact signed request was already handled. A failing replay store does
    /// not block callbacks: the stores are idempotent, so handling a replay is harmless.
    async fn is_replay(&self, verified: &Verified) -> bool {
        let Some(nonces) = &self.nonces else {
            return false;
        };
        match nonces.seen(&verified.replay_key()).await {
            Ok(seen) => seen,
            Err(err) => {
                tracing::warn!(error = %err, "replay check failed; handling the callback");
                false
            }
        }
    }

    /// Remembers a handled request (only after it was stored: a retry after a 503 must not
    /// look like a replay).
    async fn handled(&self, verified: &Verified, reply: Reply) -> Reply {
        if reply.status == 200 {
            if let Some(nonces) = &self.nonces {
                if let Err(err) = nonces.remember(&verified.replay_key()).await {
                    tracing::warn!(error = %err, "could not remember the replay key");
                }
            }
        }
        reply
    }

    fn replayed(&self, endpoint: &'static str) -> Reply {
        self.metrics.callback(endpoint, "-", "replay");
        Reply::ok_static(r#"{"ok":true,"replay":true}"#)
    }

    /// Sets how long a client may take to send a body.
    #[must_use]
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The answer to a client too slow to send its body.
    #[must_use]
    pub fn body_timed_out(&self, endpoint: &'static str) -> Reply {
        self.metrics.verification_failure("body_timeout");
        tracing::info!(endpoint, "request body timed out");
        Reply::json(
            408,
            &serde_json::json!({ "error": "request body timed out" }),
        )
    }

    /// Keeps a live feed of callbacks for the dashboard.
    #[must_use]
    pub fn with_feed(mut self) -> Self {
        self.feed = Some(Feed::default());
        self
    }

    fn publish(&self, entry: impl FnOnce() -> FeedEntry) {
        if let Some(feed) = &self.feed {
            feed.push(entry());
        }
    }

    /// Whether a request carries Plivo signature headers (so a GET is a callback, not a
    /// health check).
    pub fn is_signed(&self, headers: &dyn Headers) -> bool {
        !matches!(
            self.verifier.check_headers(headers),
            Err(Error::MissingHeader { .. })
        )
    }

    /// Counts and logs a rejected request. The log names the reason only: never a header
    /// value, a token or a signature.
    pub fn rejected(&self, endpoint: &'static str, err: Option<&Error>) {
        let reason = err.map_or("body_read", Error::reason);
        self.metrics.verification_failure(reason);
        let diagnosis = err.and_then(Error::diagnosis).map(ToString::to_string);
        tracing::info!(
            endpoint,
            reason,
            diagnosis = diagnosis.as_deref(),
            "callback rejected"
        );
        self.publish(|| FeedEntry {
            reason: Some(err.map_or_else(
                || "the body could not be read".to_owned(),
                ToString::to_string,
            )),
            diagnosis,
            ..FeedEntry::new(endpoint, "rejected", false)
        });
    }

    /// A verified message status callback: parse, store (once), notify, answer.
    pub async fn status(&self, verified: Verified) -> Reply {
        if self.is_replay(&verified).await {
            return self.replayed("status");
        }
        let reply = self.status_inner(&verified).await;
        self.handled(&verified, reply).await
    }

    async fn status_inner(&self, verified: &Verified) -> Reply {
        let status = match MessageStatus::from_params(verified.params()) {
            Ok(status) => status,
            Err(err) => return self.dead_letter("status", verified, &err).await,
        };
        let started = Instant::now();
        let outcome = tokio::time::timeout(
            REQUEST_STORE_DEADLINE,
            self.store.record_status(&status, verified.params()),
        )
        .await
        .unwrap_or_else(|_| Err(deadline()));
        self.metrics.store_latency(started.elapsed());
        match outcome {
            Ok(outcome) => {
                if outcome.notify_failure {
                    self.notifier.message_failed(&status).await;
                }
                let label = if outcome.duplicate {
                    "duplicate"
                } else {
                    "stored"
                };
                self.metrics
                    .callback("status", status.status.as_str(), label);
                self.publish(|| FeedEntry {
                    out_of_order: outcome.out_of_order,
                    ..status_entry(&status, label)
                });
                tracing::debug!(message_uuid = %status.message_uuid, status = %status.status, outcome = label, "status callback");
                Reply::ok_static(if outcome.duplicate {
                    r#"{"ok":true,"duplicate":true}"#
                } else {
                    r#"{"ok":true,"duplicate":false}"#
                })
            }
            Err(err) => {
                self.metrics
                    .callback("status", status.status.as_str(), "store_error");
                self.publish(|| FeedEntry {
                    reason: Some(err.to_string()),
                    ..status_entry(&status, "store_error")
                });
                Reply::unavailable(&err)
            }
        }
    }

    /// A verified inbound message: parse, store (once), answer.
    pub async fn inbound(&self, verified: Verified) -> Reply {
        if self.is_replay(&verified).await {
            return self.replayed("inbound");
        }
        let reply = self.inbound_inner(&verified).await;
        self.handled(&verified, reply).await
    }

    async fn inbound_inner(&self, verified: &Verified) -> Reply {
        let message = match InboundMessage::from_params(verified.params()) {
            Ok(message) => message,
            Err(err) => return self.dead_letter("inbound", verified, &err).await,
        };
        let started = Instant::now();
        let outcome = tokio::time::timeout(
            REQUEST_STORE_DEADLINE,
            self.store.record_inbound(&message, verified.params()),
        )
        .await
        .unwrap_or_else(|_| Err(deadline()));
        self.metrics.store_latency(started.elapsed());
        let kind = message.message_type.as_ref().map_or("sms", |t| t.as_str());
        match outcome {
            Ok(new) => {
                let label = if new { "stored" } else { "duplicate" };
                self.metrics.callback("inbound", kind, label);
                self.publish(|| FeedEntry {
                    message_uuid: Some(message.message_uuid.to_string()),
                    status: Some(format!("inbound {kind}")),
                    ..FeedEntry::new("inbound", label, true)
                });
                Reply::json(200, &serde_json::json!({ "ok": true, "duplicate": !new }))
            }
            Err(err) => {
                self.metrics.callback("inbound", kind, "store_error");
                Reply::unavailable(&err)
            }
        }
    }

    /// Keeps an authentic callback that has no usable shape, and acknowledges it.
    async fn dead_letter(&self, endpoint: &'static str, verified: &Verified, err: &Error) -> Reply {
        let letter = DeadLetter {
            endpoint: endpoint.to_owned(),
            reason: err.to_string(),
            params: verified.params().to_form(),
            nonce: verified.nonce().to_owned(),
        };
        let stored = tokio::time::timeout(REQUEST_STORE_DEADLINE, self.store.dead_letter(&letter))
            .await
            .unwrap_or_else(|_| Err(deadline()));
        match stored {
            Ok(()) => {
                self.metrics.callback(endpoint, "-", "dead_letter");
                self.publish(|| FeedEntry {
                    message_uuid: verified.params().get("MessageUUID").map(str::to_owned),
                    reason: Some(err.to_string()),
                    ..FeedEntry::new(endpoint, "dead_letter", true)
                });
                tracing::warn!(endpoint, reason = %err, "authentic callback kept as dead letter");
                Reply::json(200, &serde_json::json!({ "ok": true, "dead_letter": true }))
            }
            Err(store_err) => {
                self.metrics.callback(endpoint, "-", "store_error");
                Reply::unavailable(&store_err)
            }
        }
    }

    /// `GET /healthz` and an unsigned `GET /api/plivo/status`.
    #[must_use]
    pub fn health() -> Reply {
        Reply::ok_static(r#"{"status":"ok"}"#)
    }

    /// `GET /readyz`: 200 when the store answers, else 503.
    pub async fn ready(&self) -> Reply {
        match tokio::time::timeout(REQUEST_STORE_DEADLINE, self.store.ping()).await {
            Ok(Ok(())) => Reply::ok_static(r#"{"status":"ready"}"#),
            Ok(Err(err)) => Reply::unavailable(&err),
            Err(_) => Reply::unavailable(&deadline()),
        }
    }

    /// `GET /api/messages/{uuid}`.
    pub async fn message(&self, message_uuid: &str) -> Reply {
        match self.store.message(message_uuid).await {
            Ok(Some(message)) => {
                Reply::json(200, &serde_json::to_value(message).unwrap_or_default())
            }
            Ok(None) => Reply::json(404, &serde_json::json!({ "error": "unknown message_uuid" })),
            Err(err) => Reply::unavailable(&err),
        }
    }

    /// `GET /api/messages?status=failed&limit=N` (limit 1 to 1000, default 50).
    pub async fn messages(&self, query: Option<&str>) -> Reply {
        let params = plivo_webhook_core::Params::decode(query.unwrap_or_default().as_bytes());
        let status = params.get("status").filter(|s| !s.is_empty());
        let limit = match params.get("limit").map(str::parse::<u32>) {
            None => 50,
            Some(Ok(n)) if (1..=1000).contains(&n) => n,
            Some(_) => {
                return Reply::json(
                    400,
                    &serde_json::json!({ "error": "limit must be 1 to 1000" }),
                )
            }
        };
        match self.store.messages(status, limit).await {
            Ok(messages) => Reply::json(200, &serde_json::json!({ "messages": messages })),
            Err(err) => Reply::unavailable(&err),
        }
    }

    /// `GET /metrics`.
    #[must_use]
    pub fn metrics_text(&self) -> Reply {
        Reply {
            status: 200,
            content_type: "text/plain; version=0.0.4",
            body: self.metrics.render().into(),
        }
    }
}

fn status_entry(status: &MessageStatus, outcome: &'static str) -> FeedEntry {
    FeedEntry {
        message_uuid: Some(status.message_uuid.to_string()),
        status: Some(status.status.as_str().to_owned()),
        error_code: status
            .error_code
            .as_ref()
            .map(plivo_webhook_core::ErrorCode::as_string),
        error_meaning: status
            .error_code
            .as_ref()
            .map(|e| e.description().to_owned()),
        ..FeedEntry::new("status", outcome, true)
    }
}

fn deadline() -> Error {
    Error::Storage {
        message: "the store did not answer in time".to_owned(),
    }
}
