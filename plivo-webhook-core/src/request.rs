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
        // The names the verifier asks for are turned into `HeaderName`s once: from a
        // `&str`, each lookup would parse and lowercase the name again, and copy it to the
        // heap when it is not a standard header (a third of a `check` with four lookups).
        let mut values = match known_header_name(name) {
            Some(known) => self.get_all(known).iter(),
            None => self.get_all(name).iter(),
        };
        match (values.next(), values.next()) {
            (None, _) => HeaderValue::Absent,
            (Some(value), None) => HeaderValue::One(value.as_bytes()),
            (Some(_), Some(_)) => HeaderValue::Many,
        }
    }
}

/// The `HeaderName` of a header the verifier looks up, by its name as the verifier writes
/// it (another name is parsed at each lookup). The actix adapter keeps the same table for
/// its `http` 0.2 map.
#[cfg(feature = "http")]
fn known_header_name(name: &str) -> Option<&'static http::HeaderName> {
    use crate::signature::{MA_V2, MA_V3, V2, V2_NONCE, V3, V3_NONCE};
    use http::HeaderName;
    static NAMES: [HeaderName; 11] = [
        HeaderName::from_static("x-plivo-signature-v3"),
        HeaderName::from_static("x-plivo-signature-ma-v3"),
        HeaderName::from_static("x-plivo-signature-v3-nonce"),
        HeaderName::from_static("x-plivo-signature-v2"),
        HeaderName::from_static("x-plivo-signature-ma-v2"),
        HeaderName::from_static("x-plivo-signature-v2-nonce"),
        HeaderName::from_static("content-type"),
        HeaderName::from_static("host"),
        HeaderName::from_static("forwarded"),
        HeaderName::from_static("x-forwarded-proto"),
        HeaderName::from_static("x-forwarded-host"),
    ];
    let index = match name {
        V3 => 0,
        MA_V3 => 1,
        V3_NONCE => 2,
        V2 => 3,
        MA_V2 => 4,
        V2_NONCE => 5,
        "Content-Type" => 6,
        "Host" => 7,
        "Forwarded" => 8,
        "X-Forwarded-Proto" => 9,
        "X-Forwarded-Host" => 10,
        _ => return None,
    };
    NAMES.get(index)
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

    /// Each name given a ready `HeaderName` is that name, and a map finds its header (in
    /// any case) through it as through the name.
    #[cfg(feature = "http")]
    #[test]
    fn known_header_names_are_the_names_looked_up() {
        use crate::signature::{MA_V2, MA_V3, V2, V2_NONCE, V3, V3_NONCE};
        let names = [
            V3,
            MA_V3,
            V3_NONCE,
            V2,
            MA_V2,
            V2_NONCE,
            "Content-Type",
            "Host",
            "Forwarded",
            "X-Forwarded-Proto",
            "X-Forwarded-Host",
        ];
        for name in names {
            let known = known_header_name(name).unwrap();
            assert_eq!(
                known,
                &http::HeaderName::from_bytes(name.as_bytes()).unwrap()
            );
            let mut map = http::HeaderMap::new();
            map.append(
                http::HeaderName::from_bytes(name.to_ascii_uppercase().as_bytes()).unwrap(),
                http::HeaderValue::from_static("v"),
            );
            assert_eq!(map.header(name), HeaderValue::One(b"v"), "{name}");
            map.append(known.clone(), http::HeaderValue::from_static("w"));
            assert_eq!(map.header(name), HeaderValue::Many, "{name}");
        }
        assert!(known_header_name("X-Other").is_none());
        let mut map = http::HeaderMap::new();
        map.append("x-other", http::HeaderValue::from_static("v"));
        assert_eq!(map.header("X-Other"), HeaderValue::One(b"v"));
    }
}
