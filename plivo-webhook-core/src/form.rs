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

/// One form-decoded text (a key or a value), decoded on demand.
#[derive(Debug, Clone)]
pub(crate) enum Text<'a> {
    /// ASCII with no `+` or `%`: the raw bytes are the decoded bytes.
    Plain(&'a str),
    /// ASCII raw bytes with `+` or `%` whose decoded bytes are all ASCII.
    Escaped(&'a str),
    /// Decoded eagerly because the result is not ASCII (lossy UTF-8 applied).
    Owned(String),
}

/// A decoded key and value.
#[derive(Debug, Clone)]
pub(crate) struct Pair<'a> {
    pub(crate) key: Text<'a>,
    pub(crate) value: Text<'a>,
}

/// Splits raw form data into decoded pairs.
pub(crate) fn parse(raw: &[u8]) -> Pairs<'_> {
    let mut pairs = Pairs::new();
    extend(&mut pairs, raw);
    pairs
}

/// Appends the pairs of `raw` to `pairs`.
pub(crate) fn extend<'a>(pairs: &mut Pairs<'a>, raw: &'a [u8]) {
    for segment in raw.split(|&b| b == b'&') {
        if segment.is_empty() {
            continue;
        }
        let (key, value) = match segment.iter().position(|&b| b == b'=') {
            Some(i) => (&segment[..i], &segment[i + 1..]),
            None => (segment, &segment[segment.len()..]),
        };
        pairs.push(Pair {
            key: Text::new(key),
            value: Text::new(value),
        });
    }
}

/// Sorts pairs by key, then value, comparing decoded bytes (`str` order).
pub(crate) fn sort(pairs: &mut [Pair<'_>]) {
    pairs.sort_unstable_by(|a, b| a.key.cmp(&b.key).then_with(|| a.value.cmp(&b.value)));
}

impl<'a> Text<'a> {
    fn new(raw: &'a [u8]) -> Self {
        let mut escaped = false;
        let mut ascii = true;
        let mut i = 0;
        while i < raw.len() {
            match raw[i] {
                b'+' => escaped = true,
                b'%' => {
                    escaped = true;
                    if let Some(byte) = hex_pair(raw, i + 1) {
                        if byte >= 0x80 {
                            ascii = false;
                        }
                        i += 2;
                    }
                }
                b if b >= 0x80 => ascii = false,
                _ => {}
            }
            i += 1;
        }
        if !ascii {
            let decoded: Vec<u8> = Decoded::new(raw).collect();
            return Text::Owned(match String::from_utf8(decoded) {
                Ok(text) => text,
                Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
            });
        }
        // All bytes are ASCII here, so this never fails; the fallback keeps it panic-free.
        let text = std::str::from_utf8(raw).unwrap_or_default();
        if escaped {
            Text::Escaped(text)
        } else {
            Text::Plain(text)
        }
    }

    /// Calls `sink` with the decoded bytes, in pieces, without allocating.
    pub(crate) fn feed(&self, sink: &mut impl FnMut(&[u8])) {
        match self {
            Text::Plain(text) => sink(text.as_bytes()),
            Text::Owned(text) => sink(text.as_bytes()),
            Text::Escaped(raw) => {
                let mut buf = [0u8; 128];
                let mut len = 0;
                for byte in Decoded::new(raw.as_bytes()) {
                    buf[len] = byte;
                    len += 1;
                    if len == buf.len() {
                        sink(&buf);
                        len = 0;
                    }
                }
                if len > 0 {
                    sink(&buf[..len]);
                }
            }
        }
    }

    /// The decoded text, borrowed when no decoding is needed.
    pub(crate) fn to_cow(&self) -> std::borrow::Cow<'a, str> {
        match self {
            Text::Plain(text) => std::borrow::Cow::Borrowed(text),
            Text::Owned(text) => std::borrow::Cow::Owned(text.clone()),
            Text::Escaped(raw) => {
                // Decoded bytes are ASCII (checked in `new`), hence valid UTF-8.
                let bytes: Vec<u8> = Decoded::new(raw.as_bytes()).collect();
                std::borrow::Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
            }
        }
    }

    /// The decoded text as an owned `String`.
    pub(crate) fn into_string(self) -> String {
        match self {
            Text::Owned(text) => text,
            other => other.to_cow().into_owned(),
        }
    }
}

impl Ord for Text<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Text::Plain(a), Text::Plain(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Text::Owned(a), Text::Owned(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Text::Plain(a), Text::Owned(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Text::Owned(a), Text::Plain(b)) => a.as_bytes().cmp(b.as_bytes()),
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
            Text::Plain(text) => Decoded::verbatim(text.as_bytes()),
            Text::Owned(text) => Decoded::verbatim(text.as_bytes()),
            Text::Escaped(raw) => Decoded::new(raw.as_bytes()),
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

    #[test]
    fn feed_handles_long_escaped_text() {
        let raw = "%41+".repeat(200);
        let text = Text::new(raw.as_bytes());
        let mut out = Vec::new();
        text.feed(&mut |b| out.extend_from_slice(b));
        assert_eq!(out, "A ".repeat(200).as_bytes());
    }
}
