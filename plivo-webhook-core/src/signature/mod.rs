//! Plivo's signature headers and schemes.
//!
//! * V3 (`X-Plivo-Signature-V3`, `X-Plivo-Signature-Ma-V3`, nonce in
//!   `X-Plivo-Signature-V3-Nonce`) signs the URL, its query, the form parameters and the
//!   nonce. It is the default and the only scheme accepted unless V2 is enabled.
//! * V2 (`X-Plivo-Signature-V2`, `X-Plivo-Signature-Ma-V2`, nonce in
//!   `X-Plivo-Signature-V2-Nonce`) signs only `scheme://host/path` and the nonce: neither
//!   the body nor the query. Accept it only if you must.

mod hmac;
pub(crate) mod v2;
pub(crate) mod v3;

pub(crate) use self::hmac::{BufferedMac, HmacKey, MacBuffer, PairEnds};

#[cfg(any(test, feature = "testing"))]
use ::hmac::{Hmac, Mac};
#[cfg(any(test, feature = "testing"))]
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

/// The `hmac` crate's HMAC-SHA256, which the test signer uses: an implementation
/// independent of the verifier's ([`HmacKey`]).
#[cfg(any(test, feature = "testing"))]
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Length of a standard padded base64 HMAC-SHA256.
pub(crate) const ENCODED_LEN: usize = 44;

/// The standard base64 alphabet (RFC 4648, section 4).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes a MAC as standard padded base64 into a fixed buffer: six bytes (eight
/// characters) at a time, then the last two bytes and the padding. For this one fixed
/// length it runs about 100 instructions fewer than the `base64` crate's general engine
/// (callgrind), which the tests compare it with.
pub(crate) fn encode(mac: &[u8; 32]) -> [u8; ENCODED_LEN] {
    let mut out = [b'='; ENCODED_LEN];
    let sextet = |bits: u64, shift: u32| ALPHABET[((bits >> shift) & 63) as usize];
    for (bytes, chars) in mac.chunks_exact(6).zip(out.chunks_exact_mut(8)) {
        let mut word = [0u8; 8];
        word[..6].copy_from_slice(bytes);
        // The six bytes in the top 48 bits.
        let bits = u64::from_be_bytes(word);
        for (i, char) in chars.iter_mut().enumerate() {
            *char = sextet(bits, 58 - 6 * i as u32);
        }
    }
    // Bytes 30 and 31: three characters, then the one `=` already there.
    let bits = u64::from(mac[30]) << 10 | u64::from(mac[31]) << 2;
    out[40] = sextet(bits, 12);
    out[41] = sextet(bits, 6);
    out[42] = sextet(bits, 0);
    out
}

/// Finishes an HMAC as base64.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn finish(mac: HmacSha256) -> [u8; ENCODED_LEN] {
    encode(&mac.finalize().into_bytes().into())
}

/// Constant-time comparison of one candidate header entry with the expected signature.
pub(crate) fn matches(candidate: &[u8], expected: &[u8; ENCODED_LEN]) -> bool {
    bool::from(same(candidate, expected))
}

/// Constant-time equality of a header entry and the expected signature: the words are
/// XORed and ORed together with no data-dependent branch, and only the result passes
/// through `subtle`'s optimisation barrier. Different lengths compare unequal at once:
/// the length of a header entry is not secret.
fn same(candidate: &[u8], expected: &[u8; ENCODED_LEN]) -> subtle::Choice {
    let Ok(candidate) = <&[u8; ENCODED_LEN]>::try_from(candidate) else {
        return subtle::Choice::from(0);
    };
    let word = |bytes: &[u8; ENCODED_LEN], at: usize| {
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default())
    };
    // Six overlapping words cover the 44 bytes.
    let diff = [0, 8, 16, 24, 32, ENCODED_LEN - 8]
        .into_iter()
        .fold(0u64, |diff, at| {
            diff | (word(candidate, at) ^ word(expected, at))
        });
    diff.ct_eq(&0)
}

/// Whether any comma-separated entry of a V3 header equals `expected`, without trimming.
/// Every entry is compared, so the time does not depend on which one matches (nor on
/// where in the header it is; whether the header holds a comma is not secret).
pub(crate) fn any_entry_matches(header: &[u8], expected: &[u8; ENCODED_LEN]) -> bool {
    // Plivo sends one signature per header. A header no longer than one signature cannot
    // hold a list with a whole signature in it, so it is compared as it is (a comma in it
    // makes it unequal: base64 has no comma). No search for a comma is needed.
    if header.len() <= ENCODED_LEN {
        return matches(header, expected);
    }
    let mut found = subtle::Choice::from(0);
    for entry in header.split(|&b| b == b',') {
        found |= same(entry, expected);
    }
    bool::from(found)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    #[test]
    fn encodes_as_the_base64_crate_does() {
        let mut mac = [0u8; 32];
        for seed in 0u64..3000 {
            for (byte, x) in mac.iter_mut().zip(crate::test_rng::stream(seed)) {
                *byte = x as u8;
            }
            if seed < 512 {
                // Every value in the last bytes, which are encoded apart.
                mac[30] = seed as u8;
                mac[31] = (seed >> 1) as u8;
            }
            let want = base64::engine::general_purpose::STANDARD.encode(mac);
            assert_eq!(std::str::from_utf8(&encode(&mac)).unwrap(), want);
        }
        for fill in [0u8, 0xff] {
            let want = base64::engine::general_purpose::STANDARD.encode([fill; 32]);
            assert_eq!(std::str::from_utf8(&encode(&[fill; 32])).unwrap(), want);
        }
    }

    #[test]
    fn one_entry_or_a_list_matches_only_an_exact_entry() {
        let expected = encode(&[7; 32]);
        let good = std::str::from_utf8(&expected).unwrap();
        let other = std::str::from_utf8(&encode(&[8; 32])).unwrap().to_owned();
        for (header, want) in [
            (good.to_owned(), true),
            (other.clone(), false),
            (format!("{other},{good}"), true),
            (format!("{good},{other}"), true),
            (format!("{other}, {good}"), false),
            (format!("{good},"), true),
            (format!(",{other}"), false),
            (good[..ENCODED_LEN - 1].to_owned(), false),
            // As long as one signature, with a comma in it: compared whole, unequal.
            (format!("{},{}", &good[..20], &good[21..]), false),
            (format!("{good}="), false),
            (String::new(), false),
            (",".to_owned(), false),
        ] {
            assert_eq!(
                any_entry_matches(header.as_bytes(), &expected),
                want,
                "{header:?}"
            );
        }
    }
}
