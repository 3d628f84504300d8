//! The conformance runner for files in the `plivo-webhook-vectors/1` format (vectors
//! computed by Plivo's official SDKs).

use serde::Deserialize;

use crate::request::CallbackRequest;
use crate::signature::v3::{self, Method};
use crate::url::{split, SignedUrl};
use crate::verify::Verifier;

/// A file of conformance vectors.
#[derive(Debug, Clone, Deserialize)]
pub struct VectorFile {
    /// `plivo-webhook-vectors/1`.
    pub format: String,
    /// The vectors.
    pub vectors: Vec<Vector>,
}

/// One conformance vector (see the format's README).
#[derive(Debug, Clone, Deserialize)]
pub struct Vector {
    /// Unique id.
    pub id: String,
    /// `v3` or `v2`.
    pub scheme: String,
    /// `GET` or `POST`.
    pub method: String,
    /// The full URL Plivo requested.
    pub url: String,
    /// The nonce.
    pub nonce: String,
    /// The token the verifier is configured with.
    pub auth_token: String,
    /// The raw body.
    pub body: String,
    /// The request headers.
    pub headers: std::collections::BTreeMap<String, String>,
    /// The expected verdict.
    pub valid: bool,
    /// What the case exercises.
    #[serde(default)]
    pub note: String,
    /// The string the SDK signed, nonce included.
    #[serde(default)]
    pub signing_string: Option<String>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Ids that passed.
    pub passed: Vec<String>,
    /// Ids that failed, with the reason.
    pub failed: Vec<(String, String)>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (id, reason) in &self.failed {
            writeln!(f, "FAIL {id}: {reason}")?;
        }
        write!(
            f,
            "{} passed, {} failed",
            self.passed.len(),
            self.failed.len()
        )
    }
}

/// Parses a vector file.
///
/// # Errors
/// A message naming the JSON problem or an unknown format.
pub fn parse(json: &str) -> Result<VectorFile, String> {
    let file: VectorFile =
        serde_json::from_str(json).map_err(|e| format!("not a vector file: {e}"))?;
    if file.format != "plivo-webhook-vectors/1" {
        return Err(format!("unknown vector format {:?}", file.format));
    }
    Ok(file)
}

/// Runs every vector: the verdict must equal `valid` and, for V3, the canonical signing
/// string must equal `signing_string`.
#[must_use]
pub fn run(file: &VectorFile) -> Report {
    let mut report = Report::default();
    for vector in &file.vectors {
        match check(vector) {
            Ok(()) => report.passed.push(vector.id.clone()),
            Err(reason) => report.failed.push((vector.id.clone(), reason)),
        }
    }
    report
}

/// Checks one vector.
///
/// # Errors
/// Why the vector failed.
pub fn check(vector: &Vector) -> Result<(), String> {
    let mut builder = Verifier::builder().token(&vector.auth_token);
    if vector.scheme == "v2" {
        builder = builder.dangerous_accept_v2();
    }
    let verifier = builder.build().map_err(|e| format!("verifier: {e}"))?;
    let headers: Vec<(&str, &str)> = vector
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let request = CallbackRequest::with_public_url(
        &vector.method,
        &vector.url,
        &headers,
        vector.body.as_bytes(),
    );
    let verdict = verifier.check(&request);
    if verdict.is_ok() != vector.valid {
        return Err(format!(
            "expected {}, got {}",
            if vector.valid { "valid" } else { "invalid" },
            match verdict {
                Ok(_) => "valid".to_owned(),
                Err(e) => format!("invalid ({})", e.reason()),
            }
        ));
    }
    if vector.scheme == "v3" {
        if let Some(expected) = &vector.signing_string {
            let parts = split(&vector.url).map_err(|e| e.to_string())?;
            let url = SignedUrl {
                scheme: parts.scheme,
                authority: parts.authority,
                prefix: "",
                path: parts.path,
                query: parts.query,
            };
            let method = if vector.method == "GET" {
                Method::Get
            } else {
                Method::Post
            };
            let ours = v3::signing_string(
                &url,
                method,
                vector.body.as_bytes(),
                vector.nonce.as_bytes(),
            );
            if ours != expected.as_bytes() {
                return Err(format!(
                    "signing string differs:\n  ours:   {}\n  theirs: {expected}",
                    String::from_utf8_lossy(&ours)
                ));
            }
        }
    }
    Ok(())
}
