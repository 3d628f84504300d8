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

use crate::form::{Form, Sink};
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
    query: &Form<'_>,
    params: &Form<'_>,
    nonce: &[u8],
    sink: &mut impl Sink,
) {
    url.feed_base(sink);
    let with_params = method == Method::Post && !params.is_empty();
    if !query.is_empty() || with_params {
        sink.put(b"?");
    }
    query.feed(sink, b"=", b"&");
    if with_params {
        if !query.is_empty() {
            sink.put(b".");
        }
        // Each key followed by its value, with nothing between them.
        sink.put_form(params);
    }
    sink.put(b".");
    sink.put(nonce);
}

/// The whole signing string of a request (for the signer and the vector runner).
#[cfg(feature = "testing")]
pub(crate) fn signing_string(
    url: &SignedUrl<'_>,
    method: Method,
    body: &[u8],
    nonce: &[u8],
) -> Vec<u8> {
    let mut query = Form::parse(url.query.map_or(&b""[..], str::as_bytes));
    query.sort();
    let mut params = Form::parse(body);
    params.sort();
    let mut out = Vec::new();
    feed(url, method, &query, &params, nonce, &mut |b: &[u8]| {
        out.extend_from_slice(b);
    });
    out
}
