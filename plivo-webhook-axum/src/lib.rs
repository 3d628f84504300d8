//! axum extractors and a tower layer that verify Plivo webhook callbacks.
//!
//! A thin adapter over [`plivo_webhook_core`]: it buffers the body up to the verifier's
//! limit, hands method, original URI, headers and body to the core, and turns the core's
//! error into a response with the right status. All rules live in the core.
//!
//! ```
//! use axum::{routing::post, Router};
//! use plivo_webhook_axum::PlivoCallback;
//! use plivo_webhook_core::{MessageStatus, Verifier};
//!
//! async fn status(PlivoCallback(callback): PlivoCallback<MessageStatus>) -> &'static str {
//!     println!("{} is now {}", callback.message_uuid, callback.status);
//!     "ok"
//! }
//!
//! let verifier = Verifier::builder()
//!     .token("MY_AUTH_TOKEN")
//!     .public_base_url("https://example.com")
//!     .build()?;
//! let app: Router = Router::new().route("/api/plivo/status", post(status)).with_state(verifier);
//! # Ok::<(), plivo_webhook_core::Error>(())
//! ```
//!
//! | rejection | status |
//! |---|---|
//! | missing or malformed signature, nonce or body | 400 |
//! | signature does not match | 403 |
//! | body over the limit (default 64 KiB) | 413 |
//! | POST content type other than `application/x-www-form-urlencoded` | 415 |
//! | authentic callback that is not a `T` | 422 |
//!
//! # Features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `original-uri` | yes | reads axum's `OriginalUri`, so nested routers verify the full path |

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
mod extract;
mod layer;
mod rejection;

pub use extract::PlivoCallback;
pub use layer::{PlivoLayer, PlivoService};
pub use rejection::PlivoRejection;
