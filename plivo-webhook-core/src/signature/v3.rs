//! The V3 signing string.
//!
//! For a URL `base?query`, nonce `n`, and form parameters `P` (`../reference/plivo-signatures.md`,
//! section 2):
//!
//! * GET: `base ["?" qstr] "." n`, where `qstr` is the URL's query (which holds Plivo's
//!   parameters) sorted as `k=v` joined by `&`.
//! * POST with parameters: `base "?" [qstr "."] pstr "." n`, where `pstr` is the sorted
//!   parameters as `kv` with no separators.
//! * POST without parameters: as GET.
//!
//! Keys, then values, are sorted by decoded bytes. The pieces are fed to a sink (the HMAC
//! state, or a buffer for diagnosis) instead of being concatenated.

use crate::form::Pair;
use crate::url::SignedUrl;

/// The HTTP methods Plivo calls back with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
}

/// Feeds the V3 signing string. `query` and `params` must be sorted.
pub(crate) fn feed(
    url: &SignedUrl<'_>,
    method: Method,
    query: &[Pair<'_>],
    params: &[Pair<'_>],
    nonce: &[u8],
    sink: &mut impl FnMut(&[u8]),
) {
    url.feed_base(sink);
    let params = match method {
        Method::Get => &[][..],
        Method::Post => params,
    };
    if !query.is_empty() || !params.is_empty() {
        sink(b"?");
    }
    for (i, pair) in query.iter().enumerate() {
        if i > 0 {
            sink(b"&");
        }
        pair.key.feed(sink);
        sink(b"=");
        pair.value.feed(sink);
    }
    if !query.is_empty() && !params.is_empty() {
        sink(b".");
    }
    for pair in params {
        pair.key.feed(sink);
        pair.value.feed(sink);
    }
    sink(b".");
    sink(nonce);
}

/// The whole signing string of a request (for the signer and the vector runner).
#[cfg(feature = "testing")]
pub(crate) fn signing_string(
    url: &SignedUrl<'_>,
    method: Method,
    body: &[u8],
    nonce: &[u8],
) -> Vec<u8> {
    let mut query = crate::form::Pairs::new();
    if let Some(raw) = url.query {
        crate::form::extend(&mut query, raw.as_bytes());
    }
    crate::form::sort(&mut query);
    let mut params = crate::form::parse(body);
    crate::form::sort(&mut params);
    let mut out = Vec::new();
    feed(url, method, &query, &params, nonce, &mut |b| {
        out.extend_from_slice(b);
    });
    out
}
