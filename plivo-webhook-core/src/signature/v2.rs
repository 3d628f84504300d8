//! The V2 signing string: `scheme://host[:port]path` immediately followed by the nonce.
//! No separator, no query, no body.

use crate::url::SignedUrl;

/// Feeds the V2 signing string.
pub(crate) fn feed(url: &SignedUrl<'_>, nonce: &[u8], sink: &mut impl crate::form::Sink) {
    url.feed_base(sink);
    sink.put(nonce);
}
