//! Request parts from the command line: `--param K=V` pairs, form encoding, the query of a
//! signed `GET`, auth tokens and the HTTP method.

use plivo_webhook_core::testing::Signer;
use plivo_webhook_core::AuthToken;

use crate::failure::Failure;

/// One `--param K=V` argument, split at the first `=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    /// The parameter name.
    pub(crate) key: String,
    /// The value (may be empty).
    pub(crate) value: String,
}

/// Parses `K=V` (clap value parser): the key must be non-empty, the value may be empty.
pub(crate) fn parse_param(arg: &str) -> Result<Param, String> {
    match arg.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok(Param {
            key: key.to_owned(),
            value: value.to_owned(),
        }),
        _ => Err(format!("expected K=V, got {arg:?}")),
    }
}

/// Encodes the pairs as `application/x-www-form-urlencoded`, in the given order (space
/// as `+`, everything but `A-Z a-z 0-9 * - . _` percent-encoded), as Plivo sends them.
pub(crate) fn encode(params: &[Param]) -> String {
    let mut out = String::new();
    for (i, param) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_component(&mut out, &param.key);
        out.push('=');
        encode_component(&mut out, &param.value);
    }
    out
}

fn encode_component(out: &mut String, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push_str(&format!("{byte:02X}"));
            }
        }
    }
}

/// Appends `query` to `url` (`?` or `&`), for a `GET` whose parameters travel in the URL.
pub(crate) fn with_query(url: &str, query: &str) -> String {
    if query.is_empty() {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&{query}")
    } else {
        format!("{url}?{query}")
    }
}

/// Validates an HTTP method: Plivo calls back with `GET` or `POST`.
pub(crate) fn parse_method(arg: &str) -> Result<String, String> {
    let method = arg.to_ascii_uppercase();
    match method.as_str() {
        "GET" | "POST" => Ok(method),
        _ => Err(format!("Plivo calls back with GET or POST, not {arg:?}")),
    }
}

/// Checks that a URL is absolute `http(s)://host/…`.
pub(crate) fn parse_url(arg: &str) -> Result<String, String> {
    let rest = arg
        .strip_prefix("https://")
        .or_else(|| arg.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(arg.to_owned()),
        _ => Err(format!(
            "expected an absolute http:// or https:// URL, got {arg:?}"
        )),
    }
}

/// A signer for one token, or a usage failure that does not repeat the token.
pub(crate) fn signer(token: &str) -> Result<Signer, Failure> {
    AuthToken::new(token)
        .map(Signer::from_token)
        .map_err(|e| token_failure("--token", &e))
}

/// A usage failure for a rejected token: what is wrong with it, never the token itself.
pub(crate) fn token_failure(what: &str, err: &plivo_webhook_core::Error) -> Failure {
    match err {
        plivo_webhook_core::Error::Config { reason } => {
            Failure::usage(format!("invalid {what}: {reason}"))
        }
        other => Failure::usage(format!("invalid {what}: {other}")),
    }
}

/// The parts of a request to sign: the URL to sign (with the query for `GET`) and the body.
pub(crate) fn request_parts(method: &str, url: &str, params: &str) -> (String, Vec<u8>) {
    if method == "GET" {
        (with_query(url, params), Vec::new())
    } else {
        (url.to_owned(), params.as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_plivo() {
        let params = [
            parse_param("Text=Hi, is my order ready?").unwrap(),
            parse_param("ErrorCode=").unwrap(),
        ];
        assert_eq!(
            encode(&params),
            "Text=Hi%2C+is+my+order+ready%3F&ErrorCode="
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse_param("novalue").is_err());
        assert!(parse_param("=x").is_err());
        assert!(parse_method("PUT").is_err());
        assert!(parse_url("example.com/x").is_err());
        assert!(parse_url("https:///x").is_err());
        assert_eq!(with_query("https://a/b?x=1", "y=2"), "https://a/b?x=1&y=2");
    }
}
