//! The one error type of the core, with the HTTP status an endpoint should answer.

/// Why a callback was not accepted.
///
/// Every variant says what went wrong and what to check. None of them carries an auth
/// token, an expected signature or a signing string: `Display` is safe to log and to put
/// in a response body. For a signature mismatch, [`crate::diagnose`] (for logs and tools,
/// never for responses) tells which URL variant the signature would have matched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required header is absent.
    #[error("missing header {name}: Plivo signs every callback; check the request really comes from Plivo and that no proxy strips X-Plivo-* headers")]
    MissingHeader {
        /// The header that is absent.
        name: &'static str,
    },
    /// A header appears more than once where exactly one is expected.
    #[error(
        "header {name} appears more than once: Plivo sends it once; a proxy may be duplicating it"
    )]
    DuplicateHeader {
        /// The duplicated header.
        name: &'static str,
    },
    /// A header value cannot be used (non-ASCII bytes, control characters, too long).
    #[error("malformed header {name}: {reason}")]
    MalformedHeader {
        /// The malformed header.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Only a V2 signature is present and the verifier does not accept V2.
    #[error("the request carries only a V2 signature (X-Plivo-Signature-V2), which signs neither the body nor the query; enable V2 explicitly (VerifierBuilder::dangerous_accept_v2) or configure Plivo to send V3")]
    V2NotAccepted,
    /// No listed signature matches the request under any configured token.
    #[error("signature mismatch in {header}: check that the public URL (APP_BASE_URL) matches the URL configured in Plivo exactly (scheme, host, port, path, trailing slash, query) and that the auth token belongs to the account (V3) or main account (Ma-V3) that sent it")]
    SignatureMismatch {
        /// The signature header that was checked (`X-Plivo-Signature-V3`, ...).
        header: &'static str,
        /// Which URL variant the signature matches, when the verifier was built with
        /// [`crate::VerifierBuilder::diagnose_mismatches`]. Not part of `Display`: for logs
        /// and dashboards, never for responses.
        diagnosis: Option<Box<crate::Diagnosis>>,
    },
    /// The body is larger than the configured limit.
    #[error("body too large: more than {limit} bytes; Plivo callbacks are a few KiB, raise the limit only if you expect larger ones")]
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// A POST body with a content type other than `application/x-www-form-urlencoded`.
    #[error("unsupported content type {found:?}: Plivo sends application/x-www-form-urlencoded; JSON callbacks cannot be verified")]
    UnsupportedContentType {
        /// The content type received (truncated to 64 bytes, lossy UTF-8).
        found: String,
    },
    /// A method other than GET or POST.
    #[error("unsupported method {method}: Plivo calls back with GET or POST")]
    UnsupportedMethod {
        /// The method received (truncated to 16 bytes).
        method: String,
    },
    /// The request URL (or the configured public base URL) cannot be used.
    #[error("invalid URL: {reason}")]
    InvalidUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The verifier was asked to resolve a request path without a URL policy.
    #[error("no public URL policy configured: set a public base URL (APP_BASE_URL), trusted-proxy mode or direct mode on the verifier")]
    NoUrlPolicy,
    /// The verifier configuration is invalid.
    #[error("invalid verifier configuration: {reason}")]
    Config {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A verified callback lacks a field its type requires.
    #[error("callback lacks required field {field}: this is not a {kind} callback, or Plivo changed its shape")]
    MissingField {
        /// The callback type being parsed.
        kind: &'static str,
        /// The required parameter that is absent or empty.
        field: &'static str,
    },
    /// The callback store failed; the callback was not recorded and Plivo should retry.
    #[error("storage unavailable: {message}; the callback was not recorded, answer 503 so Plivo retries")]
    Storage {
        /// What failed (no secrets; database errors are summarised).
        message: String,
    },
}

impl Error {
    /// The diagnosis of a signature mismatch, when the verifier computes them.
    #[must_use]
    pub fn diagnosis(&self) -> Option<&crate::Diagnosis> {
        match self {
            Error::SignatureMismatch { diagnosis, .. } => diagnosis.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status an endpoint should answer with.
    ///
    /// 400 for missing or malformed input, 403 for a signature that does not match, 405
    /// for a wrong method, 413 for a body over the limit, 415 for a wrong content type,
    /// 422 for an authentic callback of the wrong shape, 500 for a configuration error,
    /// 503 when the store failed (so Plivo retries).
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Error::MissingHeader { .. }
            | Error::DuplicateHeader { .. }
            | Error::MalformedHeader { .. }
            | Error::V2NotAccepted
            | Error::InvalidUrl { .. } => 400,
            Error::SignatureMismatch { .. } => 403,
            Error::UnsupportedMethod { .. } => 405,
            Error::BodyTooLarge { .. } => 413,
            Error::UnsupportedContentType { .. } => 415,
            Error::MissingField { .. } => 422,
            Error::NoUrlPolicy | Error::Config { .. } => 500,
            Error::Storage { .. } => 503,
        }
    }

    /// A short, stable, lowercase label for metrics (`missing_header`, `mismatch`, ...).
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Error::MissingHeader { .. } => "missing_header",
            Error::DuplicateHeader { .. } => "duplicate_header",
            Error::MalformedHeader { .. } => "malformed_header",
            Error::V2NotAccepted => "v2_not_accepted",
            Error::SignatureMismatch { .. } => "mismatch",
            Error::BodyTooLarge { .. } => "body_too_large",
            Error::UnsupportedContentType { .. } => "content_type",
            Error::UnsupportedMethod { .. } => "method",
            Error::InvalidUrl { .. } => "invalid_url",
            Error::NoUrlPolicy | Error::Config { .. } => "config",
            Error::MissingField { .. } => "missing_field",
            Error::Storage { .. } => "storage",
        }
    }
}

/// Truncates untrusted text for an error message, lossy and bounded.
pub(crate) fn excerpt(bytes: &[u8], max: usize) -> String {
    let cut = &bytes[..bytes.len().min(max)];
    String::from_utf8_lossy(cut)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
