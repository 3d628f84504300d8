//! Public-URL policy: which URL Plivo signed, seen from behind proxies and tunnels.

use crate::error::Error;
use crate::request::{HeaderValue, Headers, Target};

/// How the verifier finds the public URL Plivo signed, behind proxies and tunnels.
///
/// Plivo signs the exact URL it called (`https://example.com/api/plivo/status`). A server
/// behind a reverse proxy, a load balancer or a tunnel receives `/api/plivo/status` on
/// `http://127.0.0.1:3000` instead. The policy rebuilds the public URL:
///
/// * [`UrlPolicy::public_base`] (the default choice, `APP_BASE_URL`): a configured base
///   joined with the request's path and query. Forwarded headers are ignored, so a client
///   cannot steer which URL is checked.
/// * [`UrlPolicy::trusted_proxy`]: scheme and host from `Forwarded` (RFC 7239) or
///   `X-Forwarded-Proto` / `X-Forwarded-Host`. Enable it only when a proxy you control
///   overwrites those headers: otherwise any client sets them.
/// * [`UrlPolicy::direct`]: a fixed scheme and the `Host` header, for servers reached
///   directly.
///
/// The URL is never normalised: host case, an explicit port, percent-escapes in the path
/// and a trailing slash are all signed as written.
#[derive(Clone, PartialEq, Eq)]
pub struct UrlPolicy {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Unset,
    Base {
        url: String,
        scheme_end: usize,
        authority: (usize, usize),
    },
    TrustedProxy {
        fallback_scheme: &'static str,
    },
    Direct {
        scheme: &'static str,
    },
}

impl UrlPolicy {
    /// A configured public base URL (`https://example.com`, or with a path prefix
    /// `https://example.com/hooks`), joined with each request's path and query.
    ///
    /// A trailing slash on the base is dropped, since the request path brings its own.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when the base is not `scheme://host[:port][/prefix]`, or has a
    /// query or fragment.
    pub fn public_base(base: &str) -> Result<Self, Error> {
        let parts = split(base)?;
        if parts.query.is_some() || base.contains('#') {
            return Err(Error::InvalidUrl {
                reason: "the public base URL must not have a query or fragment",
            });
        }
        if parts.authority.is_empty() {
            return Err(Error::InvalidUrl {
                reason: "the public base URL has no host",
            });
        }
        let trimmed = base.trim_end_matches('/');
        // Recompute offsets on the trimmed string (user-info is dropped here).
        let scheme_end = parts.scheme.len();
        let start = parts.authority.as_ptr() as usize - base.as_ptr() as usize;
        let end = start + parts.authority.len();
        if trimmed.len() < end {
            return Err(Error::InvalidUrl {
                reason: "the public base URL has no host",
            });
        }
        Ok(UrlPolicy {
            kind: Kind::Base {
                url: trimmed.to_owned(),
                scheme_end,
                authority: (start, end),
            },
        })
    }

    /// Trusted-proxy mode: scheme and host from `Forwarded`, else `X-Forwarded-Proto` and
    /// `X-Forwarded-Host`, else `https` and the `Host` header.
    ///
    /// Security: only safe when every request passes through a proxy that you control and
    /// that replaces these headers; a client can otherwise choose the URL being checked
    /// (which lets a signature captured on one of your endpoints be replayed on another).
    #[must_use]
    pub fn trusted_proxy() -> Self {
        UrlPolicy {
            kind: Kind::TrustedProxy {
                fallback_scheme: "https",
            },
        }
    }

    /// Direct mode: `scheme` (`"http"` or `"https"`) and the request's `Host` header.
    #[must_use]
    pub fn direct(https: bool) -> Self {
        UrlPolicy {
            kind: Kind::Direct {
                scheme: if https { "https" } else { "http" },
            },
        }
    }

    /// No policy: only requests built with [`crate::CallbackRequest::with_public_url`]
    /// can be verified.
    #[must_use]
    pub fn unset() -> Self {
        UrlPolicy { kind: Kind::Unset }
    }

    /// Resolves the URL that Plivo signed for this request target and headers.
    pub(crate) fn resolve<'a>(
        &'a self,
        target: Target<'a>,
        headers: &'a dyn Headers,
    ) -> Result<SignedUrl<'a>, Error> {
        let received = match target {
            Target::Public(url) => {
                let parts = split(url)?;
                return Ok(SignedUrl {
                    scheme: parts.scheme,
                    authority: parts.authority,
                    prefix: "",
                    path: parts.path,
                    query: parts.query,
                });
            }
            Target::Received(received) => received,
        };
        let (path, query) = origin(received)?;
        let (scheme, authority, prefix) = match &self.kind {
            Kind::Unset => return Err(Error::NoUrlPolicy),
            Kind::Base {
                url,
                scheme_end,
                authority,
            } => (
                &url[..*scheme_end],
                &url[authority.0..authority.1],
                &url[authority.1..],
            ),
            Kind::TrustedProxy { fallback_scheme } => {
                let (scheme, host) = forwarded(headers)?;
                let host = match host {
                    Some(host) => host,
                    None => host_header(headers)?,
                };
                (scheme.unwrap_or(fallback_scheme), host, "")
            }
            Kind::Direct { scheme } => (*scheme, host_header(headers)?, ""),
        };
        Ok(SignedUrl {
            scheme,
            authority,
            prefix,
            path,
            query,
        })
    }
}

impl Default for UrlPolicy {
    fn default() -> Self {
        UrlPolicy::unset()
    }
}

impl std::fmt::Debug for UrlPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Unset => f.write_str("UrlPolicy::Unset"),
            Kind::Base { url, .. } => f.debug_tuple("UrlPolicy::PublicBase").field(url).finish(),
            Kind::TrustedProxy { .. } => f.write_str("UrlPolicy::TrustedProxy"),
            Kind::Direct { scheme } => f.debug_tuple("UrlPolicy::Direct").field(scheme).finish(),
        }
    }
}

/// The URL Plivo signed, in borrowed pieces: `scheme://authority prefix path ?query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SignedUrl<'a> {
    pub(crate) scheme: &'a str,
    /// Host and optional port, user-info removed.
    pub(crate) authority: &'a str,
    /// Path prefix of a configured base URL (no trailing slash), else empty.
    pub(crate) prefix: &'a str,
    pub(crate) path: &'a str,
    /// The raw query without `?`, if there was a `?`.
    pub(crate) query: Option<&'a str>,
}

impl SignedUrl<'_> {
    /// Feeds `scheme://authority prefix path` (the V2 and V3 base) to `sink`.
    pub(crate) fn feed_base(&self, sink: &mut impl crate::form::Sink) {
        sink.put(self.scheme.as_bytes());
        sink.put(b"://");
        sink.put(self.authority.as_bytes());
        sink.put(self.prefix.as_bytes());
        sink.put(self.path.as_bytes());
    }
}

impl std::fmt::Display for SignedUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}{}{}",
            self.scheme, self.authority, self.prefix, self.path
        )?;
        if let Some(query) = self.query {
            write!(f, "?{query}")?;
        }
        Ok(())
    }
}

/// The pieces of an absolute URL, without user-info and fragment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UrlParts<'a> {
    pub(crate) scheme: &'a str,
    pub(crate) authority: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
}

/// Splits `scheme://[userinfo@]host[:port]path[?query][#fragment]` without normalising.
pub(crate) fn split(url: &str) -> Result<UrlParts<'_>, Error> {
    let Some(scheme_end) = url.find("://") else {
        return Err(Error::InvalidUrl {
            reason: "expected an absolute URL such as https://example.com/path",
        });
    };
    let scheme = &url[..scheme_end];
    if scheme.is_empty()
        || !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return Err(Error::InvalidUrl {
            reason: "the URL scheme must be letters, digits, '+', '-' or '.' (http or https)",
        });
    }
    let rest = &url[scheme_end + 3..];
    let rest = rest.split('#').next().unwrap_or_default();
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    // User-info ends at the last '@' of the authority (as Go, Python and WHATWG do).
    let host = authority.rsplit('@').next().unwrap_or_default();
    let rest = &rest[authority_end..];
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    Ok(UrlParts {
        scheme,
        authority: host,
        path,
        query,
    })
}

/// Splits a received request target (origin or absolute form) into path and query.
fn origin(target: &str) -> Result<(&str, Option<&str>), Error> {
    if target.starts_with('/') {
        // One pass to the end of the path; a query, if any, ends at a fragment.
        let end = target
            .bytes()
            .position(|b| b == b'?' || b == b'#')
            .unwrap_or(target.len());
        let (path, rest) = target.split_at(end);
        let query = rest
            .strip_prefix('?')
            .map(|query| query.split('#').next().unwrap_or_default());
        return Ok((path, query));
    }
    if target.contains("://") {
        let parts = split(target)?;
        return Ok((parts.path, parts.query));
    }
    Err(Error::InvalidUrl {
        reason: "the request target must start with '/'",
    })
}

fn host_header(headers: &dyn Headers) -> Result<&str, Error> {
    match headers.header("Host") {
        HeaderValue::Absent => Err(Error::MissingHeader { name: "Host" }),
        HeaderValue::Many => Err(Error::DuplicateHeader { name: "Host" }),
        HeaderValue::One(value) => authority_text("Host", value),
    }
}

/// Validates a host[:port] taken from a header.
fn authority_text<'a>(name: &'static str, value: &'a [u8]) -> Result<&'a str, Error> {
    let ok = !value.is_empty()
        && value.iter().all(|&b| {
            b.is_ascii_graphic() && !matches!(b, b'/' | b'?' | b'#' | b'@' | b',' | b'"')
        });
    if !ok {
        return Err(Error::MalformedHeader {
            name,
            reason: "expected host[:port] in visible ASCII",
        });
    }
    // Checked ASCII above.
    std::str::from_utf8(value).map_err(|_| Error::MalformedHeader {
        name,
        reason: "expected host[:port] in visible ASCII",
    })
}

fn scheme_text<'a>(name: &'static str, value: &'a str) -> Result<&'a str, Error> {
    if value.eq_ignore_ascii_case("https") {
        Ok(if value == "https" { "https" } else { value })
    } else if value.eq_ignore_ascii_case("http") {
        Ok(if value == "http" { "http" } else { value })
    } else {
        Err(Error::MalformedHeader {
            name,
            reason: "expected the scheme http or https",
        })
    }
}

/// Scheme and host from `Forwarded`, else `X-Forwarded-Proto` / `X-Forwarded-Host`.
/// The first (client-side) entry of each list is used.
fn forwarded(headers: &dyn Headers) -> Result<(Option<&str>, Option<&str>), Error> {
    const FORWARDED: &str = "Forwarded";
    match headers.header(FORWARDED) {
        HeaderValue::Many => return Err(Error::DuplicateHeader { name: FORWARDED }),
        HeaderValue::One(value) => {
            let text = std::str::from_utf8(value).map_err(|_| Error::MalformedHeader {
                name: FORWARDED,
                reason: "not ASCII",
            })?;
            let first = text.split(',').next().unwrap_or_default();
            let mut scheme = None;
            let mut host = None;
            for param in first.split(';') {
                let Some((key, value)) = param.trim().split_once('=') else {
                    continue;
                };
                let value = value.trim_matches('"');
                if key.eq_ignore_ascii_case("proto") {
                    scheme = Some(scheme_text(FORWARDED, value)?);
                } else if key.eq_ignore_ascii_case("host") {
                    host = Some(authority_text(FORWARDED, value.as_bytes())?);
                }
            }
            if scheme.is_some() || host.is_some() {
                return Ok((scheme, host));
            }
        }
        HeaderValue::Absent => {}
    }
    let first = |name: &'static str| -> Result<Option<&str>, Error> {
        match headers.header(name) {
            HeaderValue::Absent => Ok(None),
            HeaderValue::Many => Err(Error::DuplicateHeader { name }),
            HeaderValue::One(value) => {
                let text = std::str::from_utf8(value).map_err(|_| Error::MalformedHeader {
                    name,
                    reason: "not ASCII",
                })?;
                Ok(Some(text.split(',').next().unwrap_or_default().trim()))
            }
        }
    };
    let scheme = match first("X-Forwarded-Proto")? {
        Some(value) => Some(scheme_text("X-Forwarded-Proto", value)?),
        None => None,
    };
    let host = match first("X-Forwarded-Host")? {
        Some(value) => Some(authority_text("X-Forwarded-Host", value.as_bytes())?),
        None => None,
    };
    Ok((scheme, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(
        policy: &UrlPolicy,
        target: &str,
        headers: &[(&str, &str)],
    ) -> Result<String, Error> {
        policy
            .resolve(Target::Received(target), &headers)
            .map(|url| url.to_string())
    }

    #[test]
    fn origin_form_splits_path_query_and_fragment() {
        assert_eq!(origin("/a/b").unwrap(), ("/a/b", None));
        assert_eq!(origin("/a?x=1&y").unwrap(), ("/a", Some("x=1&y")));
        assert_eq!(origin("/a?x=1#f?g").unwrap(), ("/a", Some("x=1")));
        assert_eq!(origin("/a#f?x=1").unwrap(), ("/a", None));
        assert_eq!(origin("/a?").unwrap(), ("/a", Some("")));
        assert_eq!(origin("/?#").unwrap(), ("/", Some("")));
        assert_eq!(origin("https://h/p?q#f").unwrap(), ("/p", Some("q")));
        assert!(origin("p?q").is_err());
    }

    #[test]
    fn split_keeps_everything_verbatim_but_userinfo_and_fragment() {
        let p = split("HTTPS://user:p@ss@Example.COM:443/a/./b%7E/?x=1&y#frag").unwrap();
        assert_eq!(p.scheme, "HTTPS");
        assert_eq!(p.authority, "Example.COM:443");
        assert_eq!(p.path, "/a/./b%7E/");
        assert_eq!(p.query, Some("x=1&y"));
        let p = split("https://h?x=1").unwrap();
        assert_eq!((p.authority, p.path, p.query), ("h", "", Some("x=1")));
        let p = split("https://h/cb?email=a@b.com").unwrap();
        assert_eq!((p.authority, p.query), ("h", Some("email=a@b.com")));
        assert!(split("/relative").is_err());
        assert!(split("://h").is_err());
    }

    #[test]
    fn public_base_joins_path_and_query_and_ignores_forwarded() {
        let policy = UrlPolicy::public_base("https://example.com/hooks/").unwrap();
        let got = resolve(
            &policy,
            "/api/status?a=1",
            &[
                ("X-Forwarded-Host", "evil.example"),
                ("Host", "127.0.0.1:3000"),
            ],
        );
        assert_eq!(got.unwrap(), "https://example.com/hooks/api/status?a=1");
        assert!(UrlPolicy::public_base("example.com").is_err());
        assert!(UrlPolicy::public_base("https://example.com/?x").is_err());
        assert!(UrlPolicy::public_base("https:///path").is_err());
    }

    #[test]
    fn trusted_proxy_reads_forwarded_headers() {
        let policy = UrlPolicy::trusted_proxy();
        let got = resolve(
            &policy,
            "/s",
            &[
                (
                    "Forwarded",
                    "for=1.2.3.4;proto=https;host=\"a.example:8443\", for=5.6.7.8",
                ),
                ("Host", "x"),
            ],
        );
        assert_eq!(got.unwrap(), "https://a.example:8443/s");
        let got = resolve(
            &policy,
            "/s",
            &[
                ("X-Forwarded-Proto", "http, https"),
                ("X-Forwarded-Host", "b.example"),
                ("Host", "x"),
            ],
        );
        assert_eq!(got.unwrap(), "http://b.example/s");
        let got = resolve(&policy, "/s", &[("Host", "c.example")]);
        assert_eq!(got.unwrap(), "https://c.example/s");
        let bad = resolve(
            &policy,
            "/s",
            &[("X-Forwarded-Proto", "gopher"), ("Host", "x")],
        );
        assert_eq!(bad.unwrap_err().status(), 400);
    }

    #[test]
    fn direct_uses_host_header() {
        let policy = UrlPolicy::direct(false);
        assert_eq!(
            resolve(&policy, "/s", &[("Host", "h:3000")]).unwrap(),
            "http://h:3000/s"
        );
        assert_eq!(
            resolve(&policy, "/s", &[]).unwrap_err(),
            Error::MissingHeader { name: "Host" }
        );
        assert_eq!(
            resolve(&policy, "/s", &[("Host", "a/b")])
                .unwrap_err()
                .status(),
            400
        );
    }
}
