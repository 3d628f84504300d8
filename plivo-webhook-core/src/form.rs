//! `application/x-www-form-urlencoded` decoding, shared by signing and parsing.
//!
//! The rules are those of `url::form_urlencoded::parse`, which is what Plivo's SDKs
//! compute in effect (`../reference/plivo-signatures.md`, section 5.2): segments split on
//! `&`, empty segments skipped, key and value split at the first `=`, `+` is a space,
//! `%XX` is a byte, a malformed escape stays literal, and the decoded bytes are read as
//! UTF-8 with invalid sequences replaced by U+FFFD.
//!
//! Decoding is lazy: a [`Text`] borrows the raw bytes and is decoded while it is compared
//! or hashed, so verifying an ASCII callback allocates nothing. Only text whose decoded
//! bytes are not ASCII is decoded eagerly (and then owned), because only then can the
//! lossy UTF-8 rule change the bytes.

use std::cmp::Ordering;

use smallvec::SmallVec;

/// Pairs kept inline before spilling to the heap: a Plivo callback has at most ~25.
pub(crate) const INLINE_PAIRS: usize = 32;

/// Decoded pairs, in arrival order until sorted.
pub(crate) type Pairs<'a> = SmallVec<[Pair<'a>; INLINE_PAIRS]>;

/// Pairs of a URL's own query: usually none or a few.
pub(crate) type QueryPairs<'a> = SmallVec<[Pair<'a>; 4]>;

/// One form-decoded text (a key or a value), decoded on demand.
#[derive(Debug, Clone)]
pub(crate) enum Text<'a> {
    /// ASCII with no `+` or `%`: the raw bytes are the decoded bytes.
    Plain(&'a [u8]),
    /// ASCII raw bytes with `+` or `%` whose decoded bytes are all ASCII.
    Escaped(&'a [u8]),
    /// Decoded eagerly because the result is not ASCII (lossy UTF-8 applied).
    Owned(Box<str>),
}

/// A decoded key and value.
#[derive(Debug, Clone)]
pub(crate) struct Pair<'a> {
    /// Sort key: the first bytes of a plain key (see [`prefix_of`]).
    prefix: u64,
    pub(crate) key: Text<'a>,
    pub(crate) value: Text<'a>,
}

/// Splits raw form data into decoded pairs.
pub(crate) fn parse(raw: &[u8]) -> Pairs<'_> {
    let mut pairs = Pairs::new();
    extend(&mut pairs, raw);
    pairs
}

/// Byte classes for the one-pass scan.
const PLAIN: u8 = 0;
const AMP: u8 = 1;
const EQ: u8 = 2;
const PLUS: u8 = 3;
const PERCENT: u8 = 4;
const HIGH: u8 = 5;

static CLASS: [u8; 256] = {
    let mut table = [PLAIN; 256];
    let mut b = 0x80;
    while b < 256 {
        table[b] = HIGH;
        b += 1;
    }
    table[b'&' as usize] = AMP;
    table[b'=' as usize] = EQ;
    table[b'+' as usize] = PLUS;
    table[b'%' as usize] = PERCENT;
    table
};

/// Whether any byte of `word` is `&`, `=`, `+`, `%` or not ASCII (SWAR: a byte equal
/// to `c` becomes zero in `word ^ c`, and `(x - 0x01..) & !x & 0x80..` flags zero bytes).
#[inline(always)]
fn has_special(word: u64) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(LOW) & !x & HIGH;
    let hits = zero(word ^ (LOW * u64::from(b'&')))
        | zero(word ^ (LOW * u64::from(b'=')))
        | zero(word ^ (LOW * u64::from(b'+')))
        | zero(word ^ (LOW * u64::from(b'%')))
        | (word & HIGH);
    hits != 0
}

/// What a scan learned about a key or value.
const ESCAPED: u8 = 1;
const NON_ASCII: u8 = 2;

/// Appends the pairs of `raw` to `pairs`, in one pass over the bytes.
pub(crate) fn extend<'a, A: smallvec::Array<Item = Pair<'a>>>(
    pairs: &mut SmallVec<A>,
    raw: &'a [u8],
) {
    let mut start = 0;
    let mut eq = usize::MAX;
    let mut key_flags = 0u8;
    let mut value_flags = 0u8;
    let mut i = 0;
    while i < raw.len() {
        // Skip eight ordinary bytes at a time.
        if let Some(word) = raw.get(i..i + 8) {
            let word = u64::from_le_bytes([
                word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
            ]);
            if !has_special(word) {
                i += 8;
                continue;
            }
        }
        let class = CLASS[usize::from(raw[i])];
        if class != PLAIN {
            let flags = if eq == usize::MAX {
                &mut key_flags
            } else {
                &mut value_flags
            };
            match class {
                AMP => {
                    push(pairs, raw, start, eq, i, key_flags, value_flags);
                    start = i + 1;
                    eq = usize::MAX;
                    key_flags = 0;
                    value_flags = 0;
                }
                EQ if eq == usize::MAX => eq = i,
                EQ => {}
                PLUS => *flags |= ESCAPED,
                PERCENT => {
                    *flags |= ESCAPED;
                    if hex_pair(raw, i + 1).is_some_and(|byte| byte >= 0x80) {
                        *flags |= NON_ASCII;
                    }
                }
                _ => *flags |= NON_ASCII,
            }
        }
        i += 1;
    }
    push(pairs, raw, start, eq, raw.len(), key_flags, value_flags);
}

#[inline(always)]
fn push<'a, A: smallvec::Array<Item = Pair<'a>>>(
    pairs: &mut SmallVec<A>,
    raw: &'a [u8],
    start: usize,
    eq: usize,
    end: usize,
    key_flags: u8,
    value_flags: u8,
) {
    if start >= end {
        return;
    }
    let (key, value) = if eq == usize::MAX {
        (&raw[start..end], &raw[end..end])
    } else {
        (&raw[start..eq], &raw[eq + 1..end])
    };
    let key = Text::new(key, key_flags);
    let prefix = match &key {
        Text::Plain(raw) => prefix_of(raw),
        _ => UNKNOWN_PREFIX,
    };
    pairs.push(Pair {
        prefix,
        key,
        value: Text::new(value, value_flags),
    });
}
/// Marks a key whose prefix was not computed (escaped or owned keys).
const UNKNOWN_PREFIX: u64 = u64::MAX;

/// The first 8 bytes of a plain key as a big-endian integer, zero-padded: comparing two
/// prefixes orders keys as comparing their bytes does, except when they are equal.
/// `u64::MAX` (8 bytes of 0xFF, impossible in ASCII) means "not computed".
#[inline(always)]
fn prefix_of(raw: &[u8]) -> u64 {
    // Built with shifts, not through a stack buffer, which would stall store forwarding.
    if let Some(first) = raw.first_chunk::<8>() {
        return u64::from_be_bytes(*first);
    }
    let mut prefix = 0u64;
    for (i, &b) in raw.iter().enumerate() {
        prefix |= u64::from(b) << (56 - 8 * i);
    }
    prefix
}

/// Sorts pairs by key, then value, comparing decoded bytes (`str` order).
pub(crate) fn sort(pairs: &mut [Pair<'_>]) {
    pairs.sort_unstable_by(|a, b| {
        if a.prefix != b.prefix && a.prefix != UNKNOWN_PREFIX && b.prefix != UNKNOWN_PREFIX {
            return a.prefix.cmp(&b.prefix);
        }
        a.key.cmp(&b.key).then_with(|| a.value.cmp(&b.value))
    });
}

impl<'a> Text<'a> {
    #[inline(always)]
    fn new(raw: &'a [u8], flags: u8) -> Self {
        if flags & NON_ASCII != 0 {
            return Text::decoded(raw);
        }
        if flags & ESCAPED != 0 {
            Text::Escaped(raw)
        } else {
            Text::Plain(raw)
        }
    }

    /// Decodes non-ASCII text eagerly, applying the lossy UTF-8 rule.
    #[cold]
    fn decoded(raw: &[u8]) -> Self {
        let decoded: Vec<u8> = Decoded::new(raw).collect();
        Text::Owned(match String::from_utf8(decoded) {
            Ok(text) => text.into_boxed_str(),
            Err(err) => String::from_utf8_lossy(err.as_bytes()).into(),
        })
    }

    /// Calls `sink` with the decoded bytes, in pieces, without allocating.
    pub(crate) fn feed(&self, sink: &mut impl FnMut(&[u8])) {
        match self {
            Text::Plain(text) => sink(text),
            Text::Owned(text) => sink(text.as_bytes()),
            Text::Escaped(raw) => {
                let mut rest: &[u8] = raw;
                while !rest.is_empty() {
                    // Runs without escapes go through as slices.
                    let run = rest
                        .iter()
                        .position(|&b| b == b'+' || b == b'%')
                        .unwrap_or(rest.len());
                    if run > 0 {
                        sink(&rest[..run]);
                        rest = &rest[run..];
                        continue;
                    }
                    if rest[0] == b'+' {
                        sink(b" ");
                        rest = &rest[1..];
                    } else if let Some(byte) = hex_pair(rest, 1) {
                        sink(&[byte]);
                        rest = &rest[3..];
                    } else {
                        sink(b"%");
                        rest = &rest[1..];
                    }
                }
            }
        }
    }

    /// The decoded text, borrowed when no decoding is needed.
    #[cfg(test)]
    pub(crate) fn to_cow(&self) -> std::borrow::Cow<'a, str> {
        match self {
            // ASCII (checked by the scan), hence valid UTF-8; lossy keeps it panic-free.
            Text::Plain(text) => String::from_utf8_lossy(text),
            Text::Owned(text) => std::borrow::Cow::Owned(text.to_string()),
            Text::Escaped(raw) => {
                let bytes: Vec<u8> = Decoded::new(raw).collect();
                std::borrow::Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
            }
        }
    }

    /// The decoded text as an owned `String`.
    #[cfg(test)]
    pub(crate) fn into_string(self) -> String {
        match self {
            Text::Owned(text) => text.into_string(),
            other => other.to_cow().into_owned(),
        }
    }
}

impl Ord for Text<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Text::Plain(a), Text::Plain(b)) => a.cmp(b),
            (Text::Owned(a), Text::Owned(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Text::Plain(a), Text::Owned(b)) => a.cmp(&b.as_bytes()),
            (Text::Owned(a), Text::Plain(b)) => a.as_bytes().cmp(b),
            _ => self.bytes().cmp(other.bytes()),
        }
    }
}

impl PartialOrd for Text<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Text<'_> {}

impl Text<'_> {
    fn bytes(&self) -> Decoded<'_> {
        match self {
            Text::Plain(text) => Decoded::verbatim(text),
            Text::Owned(text) => Decoded::verbatim(text.as_bytes()),
            Text::Escaped(raw) => Decoded::new(raw),
        }
    }
}

/// Iterator over the decoded bytes of raw form text.
#[derive(Debug, Clone)]
struct Decoded<'a> {
    raw: &'a [u8],
    pos: usize,
    escapes: bool,
}

impl<'a> Decoded<'a> {
    fn new(raw: &'a [u8]) -> Self {
        Decoded {
            raw,
            pos: 0,
            escapes: true,
        }
    }

    fn verbatim(raw: &'a [u8]) -> Self {
        Decoded {
            raw,
            pos: 0,
            escapes: false,
        }
    }
}

impl Iterator for Decoded<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let byte = *self.raw.get(self.pos)?;
        self.pos += 1;
        if !self.escapes {
            return Some(byte);
        }
        match byte {
            b'+' => Some(b' '),
            b'%' => match hex_pair(self.raw, self.pos) {
                Some(decoded) => {
                    self.pos += 2;
                    Some(decoded)
                }
                None => Some(b'%'),
            },
            other => Some(other),
        }
    }
}

fn hex_pair(raw: &[u8], at: usize) -> Option<u8> {
    let hi = hex_digit(*raw.get(at)?)?;
    let lo = hex_digit(*raw.get(at + 1)?)?;
    Some(hi << 4 | lo)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(raw: &str) -> Vec<(String, String)> {
        parse(raw.as_bytes())
            .into_iter()
            .map(|p| (p.key.into_string(), p.value.into_string()))
            .collect()
    }

    #[test]
    fn decodes_like_form_urlencoded() {
        // The reference's cross-check string (plivo-signatures.md, section 5.2).
        let got =
            decoded("a=1&&b=2&=x&c&d=%e2%82%ac&e=%zz&f=a=b&g=%FF%FEabc&h=a+b%2B&i=%E2%82&j=%");
        let want = [
            ("a", "1"),
            ("b", "2"),
            ("", "x"),
            ("c", ""),
            ("d", "€"),
            ("e", "%zz"),
            ("f", "a=b"),
            ("g", "\u{FFFD}\u{FFFD}abc"),
            ("h", "a b+"),
            ("i", "\u{FFFD}"),
            ("j", "%"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn raw_invalid_utf8_is_replaced() {
        let pairs = parse(b"k=\xff\xfeok");
        assert_eq!(pairs[0].value.to_cow(), "\u{FFFD}\u{FFFD}ok");
    }

    #[test]
    fn sorts_by_decoded_bytes() {
        let mut pairs = parse(b"b=2&a=%32&a=1&A=z&_x=1&a+=0");
        sort(&mut pairs);
        let keys: Vec<String> = pairs
            .iter()
            .map(|p| format!("{}={}", p.key.to_cow(), p.value.to_cow()))
            .collect();
        assert_eq!(keys, ["A=z", "_x=1", "a=1", "a=2", "a =0", "b=2"]);
    }

    proptest::proptest! {
        /// The fast paths (SWAR scan, prefix sort, lazy decoding) agree with a naive
        /// decode-everything-then-sort-strings implementation.
        #[test]
        fn fast_paths_match_a_naive_implementation(raw in "([a-zA-Z_%+=&0-9]|%[0-9a-fA-F]{2}|\\PC){0,120}") {
            let mut pairs = parse(raw.as_bytes());
            sort(&mut pairs);
            let mut fed = Vec::new();
            for pair in &pairs {
                pair.key.feed(&mut |b| fed.extend_from_slice(b));
                fed.push(b'=');
                pair.value.feed(&mut |b| fed.extend_from_slice(b));
                fed.push(b'&');
            }
            let mut naive: Vec<(String, String)> = raw
                .split('&')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let (k, v) = s.split_once('=').unwrap_or((s, ""));
                    let decode = |t: &str| String::from_utf8_lossy(&Decoded::new(t.as_bytes()).collect::<Vec<u8>>()).into_owned();
                    (decode(k), decode(v))
                })
                .collect();
            naive.sort();
            let mut expected = Vec::new();
            for (k, v) in &naive {
                expected.extend_from_slice(k.as_bytes());
                expected.push(b'=');
                expected.extend_from_slice(v.as_bytes());
                expected.push(b'&');
            }
            proptest::prop_assert_eq!(fed, expected);
        }
    }

    #[test]
    fn feed_handles_long_escaped_text() {
        let raw = "%41+".repeat(200);
        let text = parse(raw.as_bytes()).remove(0).key;
        let mut out = Vec::new();
        text.feed(&mut |b| out.extend_from_slice(b));
        assert_eq!(out, "A ".repeat(200).as_bytes());
    }
}
