//! actix-web extractors and guards that verify Plivo webhook callbacks.
//!
//! A thin adapter over [`plivo_webhook_core`], mirroring `plivo-webhook-axum`: the
//! [`PlivoCallback`] extractor buffers the payload up to the verifier's limit, hands method,
//! URI, headers and body to the core, and turns the core's error into a response with the
//! right status. The [`Verifier`](plivo_webhook_core::Verifier) comes from `app_data`
//! (as a plain `Verifier` or `web::Data<Verifier>`).
//!
//! ```
//! use actix_web::{web, App};
//! use plivo_webhook_actix::PlivoCallback;
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
//! let app = App::new().app_data(verifier).route("/api/plivo/status", web::post().to(status));
//! # let _ = app;
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
//! | no `Verifier` in `app_data` | 500 |
//!
//! **Guards do not verify.** An actix guard sees only the request head, runs synchronously
//! and, when it fails, makes the router answer 404. [`guard::PlivoSigned`] therefore only
//! routes requests that carry well-formed Plivo signature headers; the body, and with it
//! the signature, is verified by the [`PlivoCallback`] extractor.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
mod error;
mod extract;
pub mod guard;

pub use error::PlivoError;
pub use extract::PlivoCallback;
