//! Why the extractor refused a request, as a response.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use plivo_webhook_core::Error;

/// The error of [`crate::PlivoCallback`], converting into an `actix_web::Error`.
///
/// The response is the status of the core's [`Error::status`] and a one-line
/// `text/plain` body naming the problem; it never contains a token, the expected
/// signature or the signing string.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlivoError {
    /// The core refused the request.
    #[error(transparent)]
    Verification(#[from] Error),
    /// The body could not be read (the client went away or sent a malformed chunk).
    #[error("failed to read the request body: check the client sent a complete body")]
    BodyRead,
    /// No `Verifier` (or `web::Data<Verifier>`) was registered with `app_data`.
    #[error("no plivo_webhook_core::Verifier in app_data: register one with App::app_data")]
    MissingVerifier,
}

impl PlivoError {
    /// The core error, when the core refused the request.
    #[must_use]
    pub fn error(&self) -> Option<&Error> {
        match self {
            PlivoError::Verification(err) => Some(err),
            _ => None,
        }
    }
}

impl ResponseError for PlivoError {
    fn status_code(&self) -> StatusCode {
        match self {
            PlivoError::Verification(err) => {
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            PlivoError::BodyRead => StatusCode::BAD_REQUEST,
            PlivoError::MissingVerifier => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type("text/plain; charset=utf-8")
            .body(self.to_string())
    }
}
