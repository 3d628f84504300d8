//! Buffering a body up to the limit, and handing a request to the core.

use axum_core::body::Body;
use bytes::Bytes;
use http::request::Parts;
use http_body_util::{BodyExt, Limited};
use plivo_webhook_core::{CallbackRequest, Error, Verified, Verifier};

use crate::rejection::PlivoRejection;

/// Reads the body, refusing early when `Content-Length` announces more than `limit` and
/// stopping as soon as more than `limit` bytes arrived (chunked or lying bodies).
pub(crate) async fn read(parts: &Parts, body: Body, limit: usize) -> Result<Bytes, PlivoRejection> {
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(PlivoRejection::from(Error::BodyTooLarge { limit }));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => {
            Err(PlivoRejection::from(Error::BodyTooLarge { limit }))
        }
        Err(_) => Err(PlivoRejection::BodyRead),
    }
}

/// The request target as the client sent it: axum's `OriginalUri` under nested routers.
fn target(parts: &Parts) -> &str {
    #[cfg(feature = "original-uri")]
    if let Some(original) = parts.extensions.get::<axum::extract::OriginalUri>() {
        return original.0.path_and_query().map_or("/", |pq| pq.as_str());
    }
    parts.uri.path_and_query().map_or("/", |pq| pq.as_str())
}

/// Verifies a buffered request with the core.
pub(crate) fn verify(
    verifier: &Verifier,
    parts: &Parts,
    body: &[u8],
) -> Result<Verified, PlivoRejection> {
    let request = CallbackRequest::new(parts.method.as_str(), target(parts), &parts.headers, body);
    verifier.verify(&request).map_err(PlivoRejection::from)
}
