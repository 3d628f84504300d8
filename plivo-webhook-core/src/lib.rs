//! Exact, fast and hard-to-misuse verification of Plivo webhook callbacks.
//!
//! Plivo signs each callback with `X-Plivo-Signature-V3` (and `-Ma-V3` for the main
//! account): an HMAC-SHA256 over the URL it called, the sorted form parameters and a
//! nonce. This crate computes it byte for byte as Plivo's official SDKs do (checked
//! against vectors they produced), compares in constant time, rebuilds the public URL
//! behind proxies, and parses the callback into typed structs.
//!
//! # Quick start
//!
//! ```
//! use plivo_webhook_core::{CallbackRequest, MessageStatus, Status, Verifier};
//! # use plivo_webhook_core::testing::Signer;
//!
//! let verifier = Verifier::builder()
//!     .token("MY_AUTH_TOKEN") // add more for rotation, or the main account's
//!     .public_base_url("https://example.com") // the base of the URL configured in Plivo
//!     .build()?;
//!
//! // In your handler: method, request target, headers and body as received.
//! let body = b"MessageUUID=7a1f&From=PLIVO&To=14155550123&Status=delivered&ErrorCode=";
//! # let signed = Signer::new("MY_AUTH_TOKEN").sign("POST", "https://example.com/api/plivo/status", body);
//! # let headers = signed.headers();
//! let request = CallbackRequest::new("POST", "/api/plivo/status", &headers, body);
//! match verifier.verify_as::<MessageStatus>(&request) {
//!     Ok(callback) => assert_eq!(callback.status, Status::Delivered),
//!     Err(err) => panic!("answer {}: {err}", err.status()),
//! }
//! # Ok::<(), plivo_webhook_core::Error>(())
//! ```
//!
//! # Features
//!
//! | feature   | default | what it adds |
//! |-----------|---------|--------------|
//! | `http`    | no      | [`Headers`] for `http` 1.x `HeaderMap` |
//! | `serde`   | no      | `Serialize` for the typed callbacks and [`Params`] |
//! | `testing` | no      | `testing::Signer` and the conformance-vector runner |
//!
//! # Security
//!
//! * Signatures are compared in constant time; tokens are redacted in `Debug`, and no
//!   error carries a token, an expected signature or a signing string.
//! * V2 (which signs neither body nor query) is refused unless enabled with
//!   [`VerifierBuilder::dangerous_accept_v2`], and never used when a V3 header is present.
//! * The public URL comes from configuration by default; forwarded headers are read only
//!   in the explicit [`UrlPolicy::trusted_proxy`] mode.
//! * V3 carries no timestamp: a captured request can be replayed as is. Make handlers
//!   idempotent (the example receivers record each status event once), and see
//!   [`NonceStore`] for the optional replay defence.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod callback;
mod diagnose;
mod error;
mod form;
mod inline;
mod order;
mod params;
mod replay;
mod request;
mod scan;
pub mod signature;
mod store;
#[cfg(test)]
mod test_rng;
mod token;
mod url;
mod verify;

#[cfg(feature = "testing")]
pub mod testing;

pub use callback::{
    Amount, ErrorCode, Extra, FromParams, InboundMessage, Media, MessageIntent, MessageStatus,
    MessageType, Status, Text, Timestamp, VoiceCallback,
};
pub use diagnose::{diagnose, Diagnosis, UrlChange};
pub use error::Error;
pub use params::{Params, ParamsIter};
pub use replay::{MemoryNonceStore, NonceStore};
pub use request::{looked_up_header, CallbackRequest, HeaderValue, Headers, LOOKED_UP_HEADERS};
pub use signature::SignatureHeader;
pub use store::{CallbackStore, DeadLetter, EventOutcome, Notifier, StoredEvent, StoredMessage};
pub use token::AuthToken;
pub use url::UrlPolicy;
pub use verify::{SignatureMatch, Verified, Verifier, VerifierBuilder, DEFAULT_MAX_BODY_BYTES};
