//! Decoded form parameters of a verified callback.

use crate::form::Form;
use crate::signature::PairEnds;

/// Form-decoded parameters, sorted by key then value (the order in which they were
/// signed). Repeated keys keep every value.
///
/// ```
/// use plivo_webhook_core::Params;
///
/// let params: Params = [("To", "14155550123"), ("From", "PLIVO")].into_iter().collect();
/// assert_eq!(params.get("From"), Some("PLIVO"));
/// assert_eq!(params.get("Status"), None);
/// ```
#[derive(Clone, Default)]
pub struct Params {
    /// Every key and value, decoded, back to back: one allocation for all of them.
    text: String,
    /// Byte ranges of each key and value in `text`, sorted by key then value.
    spans: Vec<Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    key: (u32, u32),
    value: (u32, u32),
}

impl Params {
    pub(crate) fn from_sorted(form: &Form<'_>) -> Self {
        if form.is_empty() {
            // The usual URL without a query: nothing to allocate or validate.
            return Params::default();
        }
        let mut text = Vec::new();
        let mut spans = Vec::with_capacity(form.len());
        form.decode_pairs(&mut text, |key, value, end| {
            spans.push(Span {
                key: (offset(key), offset(value)),
                value: (offset(value), offset(end)),
            });
        });
        // Every piece is ASCII or was decoded into a `str`, so this never needs the fallback.
        let text = String::from_utf8(text)
            .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned());
        Params { text, spans }
    }

    /// Takes `form`'s pairs from `text`, which holds them decoded, back to back, in
    /// sorted order (where the signature's HMAC gathered them), each ending where `ends`
    /// says (noted as they were copied there).
    pub(crate) fn from_joined(text: &[u8], ends: &PairEnds, form: &Form<'_>) -> Self {
        if ends.len() != form.len() {
            // More pairs than were noted.
            return Params::from_sorted(form);
        }
        let mut at = 0;
        let spans: Vec<Span> = ends
            .iter()
            .map(|&[middle, end]| {
                let span = Span {
                    key: (at, middle),
                    value: (middle, end),
                };
                at = end;
                span
            })
            .collect();
        let at = at as usize;
        // Both hold by construction (the ends are where the pairs were copied, and every
        // piece is ASCII or was decoded into a `str`); if either ever did not, the pairs
        // are decoded again rather than given with wrong spans.
        if at != text.len() {
            return Params::from_sorted(form);
        }
        match simdutf8::basic::from_utf8(text) {
            Ok(text) => Params {
                text: text.to_owned(),
                spans,
            },
            Err(_) => Params::from_sorted(form),
        }
    }

    fn key(&self, span: &Span) -> &str {
        self.text
            .get(span.key.0 as usize..span.key.1 as usize)
            .unwrap_or_default()
    }

    fn value(&self, span: &Span) -> &str {
        self.text
            .get(span.value.0 as usize..span.value.1 as usize)
            .unwrap_or_default()
    }

    /// Decodes raw `application/x-www-form-urlencoded` data (a body or a query string)
    /// with the same rules the signature uses. Only the first 1 GiB is read (the verifier's
    /// body limit cannot be set higher).
    #[must_use]
    pub fn decode(raw: &[u8]) -> Self {
        let mut form = Form::parse(raw);
        form.sort();
        Params::from_sorted(&form)
    }

    /// The first value of `key`, if present (empty values are returned as `""`).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        let start = self.spans.partition_point(|span| self.key(span) < key);
        match self.spans.get(start) {
            Some(span) if self.key(span) == key => Some(self.value(span)),
            _ => None,
        }
    }

    /// Every value of `key`, in sorted order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let start = self.spans.partition_point(|span| self.key(span) < key);
        self.spans[start..]
            .iter()
            .take_while(move |span| self.key(span) == key)
            .map(|span| self.value(span))
    }

    /// All pairs, sorted by key then value.
    pub fn iter(&self) -> ParamsIter<'_> {
        ParamsIter {
            rest: &self.text,
            spans: self.spans.iter(),
        }
    }

    /// The number of pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are no pairs.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Encodes the pairs back to `application/x-www-form-urlencoded` (space as `+`).
    #[must_use]
    pub fn to_form(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            encode_component(&mut out, k);
            out.push('=');
            encode_component(&mut out, v);
        }
        out
    }

    /// The pairs, sorted by key then value.
    #[must_use]
    pub fn into_vec(self) -> Vec<(String, String)> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

fn encode_component(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut rest = text;
    while !rest.is_empty() {
        // Copy runs of unreserved characters at once.
        let run = rest
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*')))
            .unwrap_or(rest.len());
        out.push_str(&rest[..run]);
        let Some(&b) = rest.as_bytes().get(run) else {
            break;
        };
        if b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        // Multi-byte characters are encoded byte by byte; slicing stays on a boundary
        // because the bytes after the first are all escaped in turn.
        rest = match rest.get(run + 1..) {
            Some(next) => next,
            None => {
                // `b` started a multi-byte character: escape its continuation bytes.
                let char_len = rest[run..].chars().next().map_or(1, char::len_utf8);
                for &c in &rest.as_bytes()[run + 1..run + char_len] {
                    out.push('%');
                    out.push(char::from(HEX[usize::from(c >> 4)]));
                    out.push(char::from(HEX[usize::from(c & 15)]));
                }
                &rest[run + char_len..]
            }
        };
    }
}

/// Splits the piece `range` spans off the front of `text` (which starts where it does).
fn split(text: &str, (start, end): (u32, u32)) -> (&str, &str) {
    // Always on a boundary (every piece is a `str`); the fallback keeps it panic-free.
    text.split_at_checked(end.saturating_sub(start) as usize)
        .unwrap_or((text, ""))
}

fn offset(n: usize) -> u32 {
    // Bodies are bounded far below 4 GiB; saturate rather than wrap.
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut pairs: Vec<(String, String)> = iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        pairs.sort_unstable();
        let mut text = String::new();
        let mut spans = Vec::with_capacity(pairs.len());
        for (k, v) in &pairs {
            let start = text.len();
            text.push_str(k);
            let middle = text.len();
            text.push_str(v);
            spans.push(Span {
                key: (offset(start), offset(middle)),
                value: (offset(middle), offset(text.len())),
            });
        }
        Params { text, spans }
    }
}

/// The pairs of a [`Params`], sorted by key then value.
#[derive(Debug, Clone)]
pub struct ParamsIter<'a> {
    /// The text of the pairs not yet returned: keys and values lie back to back, in the
    /// order of `spans`, so each step splits two pieces off its front.
    rest: &'a str,
    spans: std::slice::Iter<'a, Span>,
}

impl<'a> Iterator for ParamsIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let span = self.spans.next()?;
        let (key, rest) = split(self.rest, span.key);
        let (value, rest) = split(rest, span.value);
        self.rest = rest;
        Some((key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl ExactSizeIterator for ParamsIter<'_> {}

impl<'a> IntoIterator for &'a Params {
    type Item = (&'a str, &'a str);
    type IntoIter = ParamsIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Params {}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Params {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_text_that_does_not_fit_the_form_is_decoded_again() {
        let raw = b"b=2&a=x+y&c=%E2%82%AC";
        let mut form = Form::parse(raw);
        form.sort();
        let right = "ax yb2c\u{20ac}".as_bytes();
        let ends = PairEnds::from_iter([[1, 4], [5, 6], [7, 10]]);
        let want = Params::decode(raw);
        assert_eq!(Params::from_joined(right, &ends, &form), want);
        assert_eq!(want.get("a"), Some("x y"));
        for wrong in [&b"ax yb2"[..], b"ax yb2c\xe2\x82\xff", b""] {
            assert_eq!(Params::from_joined(wrong, &ends, &form), want);
        }
        // Fewer ends than pairs (a form of more pairs than are noted): decoded again.
        let fewer = PairEnds::from_iter([[1, 4], [5, 6]]);
        assert_eq!(Params::from_joined(right, &fewer, &form), want);
    }

    #[test]
    fn lookup_and_roundtrip() {
        let params = Params::decode(b"b=2&a=x+y&a=%26&Media1=u&c=");
        assert_eq!(params.get("a"), Some("&"));
        assert_eq!(params.get_all("a").collect::<Vec<_>>(), ["&", "x y"]);
        assert_eq!(params.get("c"), Some(""));
        assert_eq!(params.get("zz"), None);
        assert_eq!(Params::decode(params.to_form().as_bytes()), params);
        let unicode = Params::decode(
            "a=%E2%82%AC+x-y.z*&%F0%9F%98%80=%C3%A9t%C3%A9&k=a%26b%3Dc%25".as_bytes(),
        );
        assert_eq!(unicode.get("a"), Some("€ x-y.z*"));
        assert_eq!(
            unicode.to_form(),
            "a=%E2%82%AC+x-y.z*&k=a%26b%3Dc%25&%F0%9F%98%80=%C3%A9t%C3%A9"
        );
        assert_eq!(Params::decode(unicode.to_form().as_bytes()), unicode);
    }
}
