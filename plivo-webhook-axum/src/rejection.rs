//! Why an extractor or the layer refused a request, as a response.

use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use plivo_webhook_core::Error;

/// The rejection of [`crate::PlivoCallback`] and [`crate::PlivoLayer`].
///
/// The response is the status of the core's [`Error::status`] and a one-line
/// `text/plain` body naming the problem; it never contains a token, the expected
/// signature or the signing string.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlivoRejection {
    /// The core refused the request.
    #[error(transparent)]
    Verification(#[from] Error),
    /// The body could not be read (the client went away or sent a malformed chunk).
    #[error("failed to read the request body: check the client sent a complete body")]
    BodyRead,
}

impl PlivoRejection {
    /// The response status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            PlivoRejection::Verification(err) => {
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            PlivoRejection::BodyRead => StatusCode::BAD_REQUEST,
        }
    }

    /// The core error, when the core refused the request.
    #[must_use]
    pub fn error(&self) -> Option<&Error> {
        match self {
            PlivoRejection::Verification(err) => Some(err),
            PlivoRejection::BodyRead => None,
        }
    }
}

impl IntoResponse for PlivoRejection {
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
    }
}
