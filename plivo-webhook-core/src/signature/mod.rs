//! Plivo's signature headers and schemes.
//!
//! * V3 (`X-Plivo-Signature-V3`, `X-Plivo-Signature-Ma-V3`, nonce in
//!   `X-Plivo-Signature-V3-Nonce`) signs the URL, its query, the form parameters and the
//!   nonce. It is the default and the only scheme accepted unless V2 is enabled.
//! * V2 (`X-Plivo-Signature-V2`, `X-Plivo-Signature-Ma-V2`, nonce in
//!   `X-Plivo-Signature-V2-Nonce`) signs only `scheme://host/path` and the nonce: neither
//!   the body nor the query. Accept it only if you must.

pub(crate) mod v2;
pub(crate) mod v3;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// `X-Plivo-Signature-V3`: V3, keyed with the token of the account or subaccount.
pub const V3: &str = "X-Plivo-Signature-V3";
/// `X-Plivo-Signature-Ma-V3`: V3, keyed with the main account's token.
pub const MA_V3: &str = "X-Plivo-Signature-Ma-V3";
/// `X-Plivo-Signature-V3-Nonce`: the nonce of both V3 headers.
pub const V3_NONCE: &str = "X-Plivo-Signature-V3-Nonce";
/// `X-Plivo-Signature-V2`: legacy V2, keyed with the account's token.
pub const V2: &str = "X-Plivo-Signature-V2";
/// `X-Plivo-Signature-Ma-V2`: legacy V2, keyed with the main account's token.
pub const MA_V2: &str = "X-Plivo-Signature-Ma-V2";
/// `X-Plivo-Signature-V2-Nonce`: the nonce of both V2 headers.
pub const V2_NONCE: &str = "X-Plivo-Signature-V2-Nonce";

/// Which signature header authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureHeader {
    /// `X-Plivo-Signature-V3`.
    V3,
    /// `X-Plivo-Signature-Ma-V3`.
    MaV3,
    /// `X-Plivo-Signature-V2` (only when V2 is enabled).
    V2,
    /// `X-Plivo-Signature-Ma-V2` (only when V2 is enabled).
    MaV2,
}

impl SignatureHeader {
    /// The header's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SignatureHeader::V3 => V3,
            SignatureHeader::MaV3 => MA_V3,
            SignatureHeader::V2 => V2,
            SignatureHeader::MaV2 => MA_V2,
        }
    }

    /// The nonce header that goes with it.
    #[must_use]
    pub fn nonce_header(self) -> &'static str {
        match self {
            SignatureHeader::V3 | SignatureHeader::MaV3 => V3_NONCE,
            SignatureHeader::V2 | SignatureHeader::MaV2 => V2_NONCE,
        }
    }
}

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Length of a standard padded base64 HMAC-SHA256.
pub(crate) const ENCODED_LEN: usize = 44;

/// Encodes a MAC as standard padded base64 into a fixed buffer.
pub(crate) fn encode(mac: &[u8; 32]) -> [u8; ENCODED_LEN] {
    let mut out = [0u8; ENCODED_LEN];
    // 32 bytes always encode to exactly 44; the result is ignored only to stay panic-free.
    let _ = base64::engine::general_purpose::STANDARD.encode_slice(mac, &mut out);
    out
}

/// Feeds an HMAC through a stack buffer: the signing string arrives in many small
/// pieces, and one `update` per 512 bytes is several times cheaper than one per piece.
pub(crate) struct BufferedMac {
    mac: HmacSha256,
    buf: [u8; 512],
    len: usize,
}

impl BufferedMac {
    pub(crate) fn new(mac: HmacSha256) -> Self {
        BufferedMac {
            mac,
            buf: [0; 512],
            len: 0,
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        if self.len + bytes.len() > self.buf.len() {
            self.mac.update(&self.buf[..self.len]);
            self.len = 0;
            if bytes.len() > self.buf.len() {
                self.mac.update(bytes);
                return;
            }
        }
        let dst = &mut self.buf[self.len..self.len + bytes.len()];
        copy_short(dst, bytes);
        self.len += bytes.len();
    }

    pub(crate) fn finish(mut self) -> [u8; ENCODED_LEN] {
        self.mac.update(&self.buf[..self.len]);
        finish(self.mac)
    }
}

/// Copies `src` into `dst` (same length). Most pieces of a signing string are a few bytes
/// long, where a call to `memcpy` costs more than the copy: up to 16 bytes are moved with
/// two overlapping fixed-size loads and stores instead.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if (8..=16).contains(&n) {
        let (head, tail) = (&src[..8], &src[n - 8..]);
        dst[n - 8..].copy_from_slice(tail);
        dst[..8].copy_from_slice(head);
    } else if (4..8).contains(&n) {
        let (head, tail) = (&src[..4], &src[n - 4..]);
        dst[n - 4..].copy_from_slice(tail);
        dst[..4].copy_from_slice(head);
    } else if n < 4 {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    } else {
        dst.copy_from_slice(src);
    }
}

/// Finishes an HMAC as base64.
pub(crate) fn finish(mac: HmacSha256) -> [u8; ENCODED_LEN] {
    encode(&mac.finalize().into_bytes().into())
}

/// Constant-time comparison of one candidate header entry with the expected signature.
pub(crate) fn matches(candidate: &[u8], expected: &[u8; ENCODED_LEN]) -> bool {
    // Different lengths compare unequal; the length of a header entry is not secret.
    bool::from(candidate.ct_eq(expected.as_slice()))
}

/// Whether any comma-separated entry of a V3 header equals `expected`, without trimming.
/// Every entry is compared, so the time does not depend on which one matches.
pub(crate) fn any_entry_matches(header: &[u8], expected: &[u8; ENCODED_LEN]) -> bool {
    let mut found = subtle::Choice::from(0);
    for entry in header.split(|&b| b == b',') {
        found |= entry.ct_eq(expected.as_slice());
    }
    bool::from(found)
}
