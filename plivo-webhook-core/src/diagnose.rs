//! Diagnosis of a signature mismatch: which URL variant would have matched.
//!
//! The most common reason a genuine Plivo callback fails verification is that the server
//! rebuilt a different URL from the one configured in Plivo: `http` behind a TLS-ending
//! proxy, a missing or extra trailing slash, an explicit `:443`, a query added on the
//! way. [`diagnose`] tries those variants and names the one that matches.
//!
//! This is for logs and tools only. Never put a diagnosis in an HTTP response: it would
//! tell a forger which URL to aim for.

use crate::error::Error;
use crate::request::CallbackRequest;
use crate::url::split;
use crate::verify::Verifier;

/// One difference between the URL the server checked and the URL that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlChange {
    /// The scheme differs (`to` is the scheme that matched).
    Scheme {
        /// The scheme that matched.
        to: String,
    },
    /// A trailing slash was added (`true`) or removed (`false`).
    TrailingSlash {
        /// Whether the matching URL has the slash.
        added: bool,
    },
    /// An explicit port was added or removed.
    Port {
        /// Whether the matching URL has the explicit port.
        added: bool,
        /// The port in question.
        port: String,
    },
    /// The matching URL has no query string.
    QueryRemoved,
}

/// What [`diagnose`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Diagnosis {
    /// The request verifies as it is.
    Valid,
    /// The request failed for a reason other than the signature (missing header, size...).
    NotASignatureProblem(Error),
    /// The signature matches this other URL.
    MatchesVariant {
        /// The URL the server checked.
        checked: String,
        /// The URL that matches.
        matched: String,
        /// How they differ.
        changes: Vec<UrlChange>,
    },
    /// No URL variant matches: the token, the nonce or the body is the likely cause.
    NoVariantMatches {
        /// The URL the server checked.
        checked: String,
    },
}

impl Diagnosis {
    /// Whether the request verified as it was.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        matches!(self, Diagnosis::Valid)
    }
}

impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Diagnosis::Valid => f.write_str("the signature is valid"),
            Diagnosis::NotASignatureProblem(err) => write!(f, "not a signature problem: {err}"),
            Diagnosis::NoVariantMatches { checked } => write!(
                f,
                "no variant matches {checked} (scheme, trailing slash, port, query): the auth token is the likely cause (a subaccount's token for X-Plivo-Signature-V3, the main account's for X-Plivo-Signature-Ma-V3), or the body or nonce changed on the way"
            ),
            Diagnosis::MatchesVariant {
                checked,
                matched,
                changes,
            } => {
                write!(f, "the signature matches {matched}, not {checked}")?;
                for (i, change) in changes.iter().enumerate() {
                    f.write_str(if i == 0 { " — " } else { "; " })?;
                    match change {
                        UrlChange::Scheme { to } => write!(
                            f,
                            "Plivo calls {to}://: set APP_BASE_URL to {to}://… (behind a TLS-terminating proxy, use the configured base URL or trusted-proxy mode)"
                        )?,
                        UrlChange::TrailingSlash { added: true } => f.write_str(
                            "APP_BASE_URL or the route likely lacks a trailing slash (the URL configured in Plivo ends with '/')",
                        )?,
                        UrlChange::TrailingSlash { added: false } => f.write_str(
                            "APP_BASE_URL or the route likely has an extra trailing slash (the URL configured in Plivo does not end with '/')",
                        )?,
                        UrlChange::Port { added: true, port } => write!(
                            f,
                            "the URL configured in Plivo writes the port :{port}; add it to APP_BASE_URL"
                        )?,
                        UrlChange::Port { added: false, port } => write!(
                            f,
                            "the URL configured in Plivo has no port; remove :{port} from APP_BASE_URL (or the Host header)"
                        )?,
                        UrlChange::QueryRemoved => f.write_str(
                            "the URL Plivo signed has no query string; a proxy or the route adds one",
                        )?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// Tries the usual URL variants of a request that failed verification and reports which
/// one its signature matches. Costs one HMAC per variant and token (at most 16 variants).
///
/// ```
/// use plivo_webhook_core::{diagnose, testing::Signer, CallbackRequest, Diagnosis, Verifier};
///
/// let verifier = Verifier::builder().token("TOKEN").public_base_url("https://example.com").build()?;
/// // Plivo was configured with a trailing slash; the route has none.
/// let signed = Signer::new("TOKEN").sign("POST", "https://example.com/status/", b"Status=sent");
/// let headers = signed.headers();
/// let request = CallbackRequest::new("POST", "/status", &headers, b"Status=sent");
/// let diagnosis = diagnose(&verifier, &request);
/// assert!(matches!(diagnosis, Diagnosis::MatchesVariant { .. }));
/// assert!(diagnosis.to_string().contains("trailing slash"));
///
/// // Or have the verifier attach it to every mismatch (never shown by `Display`):
/// let verifier = Verifier::builder()
///     .token("TOKEN")
///     .public_base_url("https://example.com")
///     .diagnose_mismatches()
///     .build()?;
/// let err = verifier.verify(&request).unwrap_err();
/// assert_eq!(err.diagnosis(), Some(&diagnosis));
/// assert!(!err.to_string().contains("example.com"));
/// # Ok::<(), plivo_webhook_core::Error>(())
/// ```
#[must_use]
pub fn diagnose(verifier: &Verifier, request: &CallbackRequest<'_>) -> Diagnosis {
    match verifier.check_bare(request) {
        Ok(_) => return Diagnosis::Valid,
        Err(Error::SignatureMismatch { .. }) => {}
        Err(other) => return Diagnosis::NotASignatureProblem(other),
    }
    let checked = match verifier
        .url_policy()
        .resolve(request.target, request.headers)
    {
        Ok(url) => url.to_string(),
        Err(err) => return Diagnosis::NotASignatureProblem(err),
    };
    let Ok(parts) = split(&checked) else {
        return Diagnosis::NoVariantMatches { checked };
    };
    let mut candidates: Vec<(String, Vec<UrlChange>)> = Vec::new();
    for mask in 1u8..16 {
        let mut changes = Vec::new();
        let mut scheme = parts.scheme.to_owned();
        let mut authority = parts.authority.to_owned();
        let mut path = parts.path.to_owned();
        let mut query = parts.query.map(str::to_owned);
        if mask & 1 != 0 {
            scheme = match scheme.as_str() {
                "https" => "http".to_owned(),
                "http" => "https".to_owned(),
                _ => continue,
            };
            changes.push(UrlChange::Scheme { to: scheme.clone() });
        }
        if mask & 2 != 0 {
            if path.ends_with('/') {
                path.pop();
                changes.push(UrlChange::TrailingSlash { added: false });
            } else {
                path.push('/');
                changes.push(UrlChange::TrailingSlash { added: true });
            }
        }
        if mask & 4 != 0 {
            match authority
                .rsplit_once(':')
                .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
            {
                Some((host, port)) => {
                    changes.push(UrlChange::Port {
                        added: false,
                        port: port.to_owned(),
                    });
                    authority = host.to_owned();
                }
                None => {
                    let port = if scheme == "http" { "80" } else { "443" };
                    changes.push(UrlChange::Port {
                        added: true,
                        port: port.to_owned(),
                    });
                    authority = format!("{authority}:{port}");
                }
            }
        }
        if mask & 8 != 0 {
            if query.is_none() {
                continue;
            }
            query = None;
            changes.push(UrlChange::QueryRemoved);
        }
        let mut url = format!("{scheme}://{authority}{path}");
        if let Some(query) = query {
            url.push('?');
            url.push_str(&query);
        }
        candidates.push((url, changes));
    }
    candidates.sort_by_key(|(_, changes)| changes.len());
    for (url, changes) in candidates {
        let variant =
            CallbackRequest::with_public_url(request.method, &url, request.headers, request.body);
        if verifier.check_bare(&variant).is_ok() {
            return Diagnosis::MatchesVariant {
                checked,
                matched: url,
                changes,
            };
        }
    }
    Diagnosis::NoVariantMatches { checked }
}
