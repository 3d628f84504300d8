//! The framework-neutral view of an incoming callback: method, URL, headers, body.

/// What a header lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    /// The header is absent.
    Absent,
    /// The header appears once, with these raw bytes.
    One(&'a [u8]),
    /// The header appears more than once.
    Many,
}

/// Read access to a request's headers, by case-insensitive name.
///
/// Implemented for `http` 1.x `HeaderMap` (feature `http`), for slices of
/// `(&str, &str)` pairs, and by the framework adapters for their own header maps, so the
/// core never forces an `http` version on its callers.
pub trait Headers {
    /// Looks up header `name` (given in canonical case, compared case-insensitively).
    fn header(&self, name: &str) -> HeaderValue<'_>;
}

impl<H: Headers + ?Sized> Headers for &H {
    fn header(&self, name: &str) -> HeaderValue<'_> {
        (**self).header(name)
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>> Headers for [(K, V)] {
    fn header(&self, name: &str) -> HeaderValue<'_> {
        let mut found = HeaderValue::Absent;
        for (key, value) in self {
            // Names are usually sent as written: an exact match is one memory compare.
            let key = key.as_ref();
            if key == name || key.eq_ignore_ascii_case(name) {
                if found != HeaderValue::Absent {
                    return HeaderValue::Many;
                }
                found = HeaderValue::One(value.as_ref());
            }
        }
        found
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>> Headers for Vec<(K, V)> {
    fn header(&self, name: &str) -> HeaderValue<'_> {
        self.as_slice().header(name)
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>, const N: usize> Headers for [(K, V); N] {
    fn header(&self, name: &str) -> HeaderValue<'_> {
        self.as_slice().header(name)
    }
}

#[cfg(feature = "http")]
impl Headers for http::HeaderMap {
    fn header(&self, name: &str) -> HeaderValue<'_> {
        let mut values = match ready_name(name) {
            Some(ready) => self.get_all(ready).iter(),
            None => self.get_all(name).iter(),
        };
        match (values.next(), values.next()) {
            (None, _) => HeaderValue::Absent,
            (Some(value), None) => HeaderValue::One(value.as_bytes()),
            (Some(_), Some(_)) => HeaderValue::Many,
        }
    }
}

/// The `HeaderName` of `name` when it is one of [`LOOKED_UP_HEADERS`], made once: from a
/// `&str`, each lookup would parse and lowercase the name again, and copy it to the heap
/// when it is not a standard header (a `check` through a `HeaderMap` spent 10% of its
/// time on that).
#[cfg(feature = "http")]
fn ready_name(name: &str) -> Option<&'static http::HeaderName> {
    static READY: std::sync::LazyLock<[Option<http::HeaderName>; 11]> =
        std::sync::LazyLock::new(|| {
            LOOKED_UP_HEADERS.map(|name| http::HeaderName::from_bytes(name.as_bytes()).ok())
        });
    READY.get(looked_up_header(name)?)?.as_ref()
}

/// Every header name the verifier passes to [`Headers::header`], as it writes them. An
/// implementation over a map keyed by parsed names can parse these once and find the one
/// asked for with [`looked_up_header`], instead of parsing (and, for a name that is not
/// a standard header, copying) the name at each lookup: the `http` and actix maps do.
pub const LOOKED_UP_HEADERS: [&str; 11] = [
    crate::signature::V3,
    crate::signature::MA_V3,
    crate::signature::V3_NONCE,
    crate::signature::V2,
    crate::signature::MA_V2,
    crate::signature::V2_NONCE,
    "Content-Type",
    "Host",
    "Forwarded",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
];

/// Where `name` is in [`LOOKED_UP_HEADERS`] (`None` for any other name).
#[must_use]
pub fn looked_up_header(name: &str) -> Option<usize> {
    LOOKED_UP_HEADERS.iter().position(|&known| known == name)
}

/// Where the URL that Plivo signed comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// The full public URL, known to the caller: used verbatim.
    Public(&'a str),
    /// The request target as the server received it (`/path?query`, or absolute form):
    /// resolved to the public URL by the verifier's [`crate::UrlPolicy`].
    Received(&'a str),
}

/// An incoming callback as the verifier sees it.
///
/// ```
/// use plivo_webhook_core::CallbackRequest;
///
/// let headers = [("Content-Type", "application/x-www-form-urlencoded")];
/// // As received by a server: the verifier's URL policy supplies scheme and host.
/// let request = CallbackRequest::new("POST", "/api/plivo/status", &headers, b"Status=sent");
/// // With the exact public URL Plivo called, used verbatim.
/// let request = CallbackRequest::with_public_url(
///     "POST",
///     "https://example.com/api/plivo/status",
///     &headers,
///     b"Status=sent",
/// );
/// # let _ = request;
/// ```
#[derive(Clone, Copy)]
pub struct CallbackRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) target: Target<'a>,
    pub(crate) headers: &'a dyn Headers,
    pub(crate) body: &'a [u8],
}

impl<'a> CallbackRequest<'a> {
    /// A request as received: `target` is the request target (`/path?query`); the
    /// verifier's URL policy turns it into the public URL Plivo signed.
    pub fn new(method: &'a str, target: &'a str, headers: &'a dyn Headers, body: &'a [u8]) -> Self {
        CallbackRequest {
            method,
            target: Target::Received(target),
            headers,
            body,
        }
    }

    /// A request whose full public URL is known (`https://host/path?query`); the URL is
    /// used verbatim and the verifier's URL policy is not consulted.
    pub fn with_public_url(
        method: &'a str,
        url: &'a str,
        headers: &'a dyn Headers,
        body: &'a [u8],
    ) -> Self {
        CallbackRequest {
            method,
            target: Target::Public(url),
            headers,
            body,
        }
    }

    /// The HTTP method.
    #[must_use]
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The body bytes.
    #[must_use]
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Looks up a header.
    #[must_use]
    pub fn header(&self, name: &str) -> HeaderValue<'a> {
        self.headers.header(name)
    }
}

impl std::fmt::Debug for CallbackRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackRequest")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_lookups_ignore_case_and_count_repeats() {
        let headers = [
            ("x-plivo-signature-v3", "a"),
            ("Content-Type", "b"),
            ("X-PLIVO-SIGNATURE-V3-NONCE", "c"),
            ("content-type", "d"),
        ];
        let headers = &headers[..];
        assert_eq!(
            headers.header("X-Plivo-Signature-V3"),
            HeaderValue::One(b"a")
        );
        assert_eq!(
            headers.header("X-Plivo-Signature-V3-Nonce"),
            HeaderValue::One(b"c")
        );
        assert_eq!(headers.header("Content-Type"), HeaderValue::Many);
        assert_eq!(
            headers.header("X-Plivo-Signature-Ma-V3"),
            HeaderValue::Absent
        );
    }

    /// Each looked-up name is found through its ready `HeaderName`, in any case, once
    /// or more; another name is parsed as before.
    #[cfg(feature = "http")]
    #[test]
    fn looked_up_headers_are_found_through_ready_names() {
        for (i, name) in LOOKED_UP_HEADERS.into_iter().enumerate() {
            assert_eq!(looked_up_header(name), Some(i));
            // The ready name is there, and is the name (not found by the fallback).
            let parsed = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            assert_eq!(ready_name(name), Some(&parsed), "{name}");
            let mut map = http::HeaderMap::new();
            map.append(
                http::HeaderName::from_bytes(name.to_ascii_uppercase().as_bytes()).unwrap(),
                http::HeaderValue::from_static("v"),
            );
            assert_eq!(map.header(name), HeaderValue::One(b"v"), "{name}");
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_static("w"),
            );
            assert_eq!(map.header(name), HeaderValue::Many, "{name}");
        }
        assert_eq!(looked_up_header("X-Other"), None);
        assert_eq!(ready_name("X-Other"), None);
        let mut map = http::HeaderMap::new();
        map.append("x-other", http::HeaderValue::from_static("v"));
        assert_eq!(map.header("X-Other"), HeaderValue::One(b"v"));
    }
}
