//! Decoded form parameters of a verified callback.

use smallvec::SmallVec;

use crate::form::Pair;

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub(crate) fn from_sorted<'a, A: smallvec::Array<Item = Pair<'a>>>(pairs: SmallVec<A>) -> Self {
        Params {
            pairs: pairs
                .into_iter()
                .map(|pair| (pair.key.into_string(), pair.value.into_string()))
                .collect(),
        }
    }

    /// Decodes raw `application/x-www-form-urlencoded` data (a body or a query string)
    /// with the same rules the signature uses.
    #[must_use]
    pub fn decode(raw: &[u8]) -> Self {
        let mut pairs = crate::form::parse(raw);
        crate::form::sort(&mut pairs);
        Params::from_sorted(pairs)
    }

    /// The first value of `key`, if present (empty values are returned as `""`).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        let start = self.pairs.partition_point(|(k, _)| k.as_str() < key);
        match self.pairs.get(start) {
            Some((k, v)) if k == key => Some(v),
            _ => None,
        }
    }

    /// Every value of `key`, in sorted order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let start = self.pairs.partition_point(|(k, _)| k.as_str() < key);
        self.pairs[start..]
            .iter()
            .take_while(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All pairs, sorted by key then value.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The number of pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no pairs.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Encodes the pairs back to `application/x-www-form-urlencoded` (space as `+`).
    #[must_use]
    pub fn to_form(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.pairs.iter().enumerate() {
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
        self.pairs
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

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut pairs: Vec<(String, String)> = iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        pairs.sort_unstable();
        Params { pairs }
    }
}

impl<'a> IntoIterator for &'a Params {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
