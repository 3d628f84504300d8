//! Value types: exact money amounts and leniently parsed timestamps.

use super::Text;

/// A money amount kept as exact decimal text (`0.00550`), never a float.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Amount(Text);

impl Amount {
    /// Accepts `digits[.digits]` with an optional leading `-`; anything else is `None`.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Amount::is_amount(value).then(|| Amount(Text::new(value)))
    }

    /// Parses `value` into `slot`, in place; `false` (and `slot` unchanged) when it is not
    /// an amount.
    pub(crate) fn parse_into(slot: &mut Option<Amount>, value: &str) -> bool {
        if !Amount::is_amount(value) {
            return false;
        }
        slot.get_or_insert_with(|| Amount(Text::default()))
            .0
            .set(value);
        true
    }

    fn is_amount(value: &str) -> bool {
        let bytes = value.as_bytes();
        let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
        let (int, frac) = match digits.iter().position(|&b| b == b'.') {
            Some(dot) => (&digits[..dot], &digits[dot + 1..]),
            None => (digits, &b"0"[..]),
        };
        !int.is_empty()
            && !frac.is_empty()
            && int.iter().all(u8::is_ascii_digit)
            && frac.iter().all(u8::is_ascii_digit)
    }

    /// The decimal text as Plivo sent it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The amount in millionths (micro-units), exact for up to 6 decimals; `None` when
    /// it has more decimals than that or does not fit in an `i64`.
    #[must_use]
    pub fn micros(&self) -> Option<i64> {
        let (negative, digits) = match self.0.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, self.0.as_str()),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let frac = frac.trim_end_matches('0');
        if frac.len() > 6 {
            return None;
        }
        let int: i64 = int.parse().ok()?;
        let mut frac_value: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().ok()?
        };
        for _ in frac.len()..6 {
            frac_value *= 10;
        }
        let value = int.checked_mul(1_000_000)?.checked_add(frac_value)?;
        Some(if negative { -value } else { value })
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A timestamp as Plivo sent it, with its instant when it can be read.
///
/// Accepted: `YYYY-MM-DD HH:MM:SS` (or `T`), 0 to 9 fractional digits, an optional `Z` or
/// `±HH:MM` offset (a naive time is read as UTC, which is what Plivo's callbacks use), or
/// Unix seconds. The raw text is always kept; the instant is read from it when
/// [`Timestamp::unix_micros`] is called, so a callback whose timestamps are never read
/// does not pay for them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    raw: Text,
}

impl Timestamp {
    /// Keeps a timestamp's text; an unreadable value has no instant.
    #[must_use]
    pub fn parse(raw: &str) -> Self {
        Timestamp {
            raw: Text::new(raw),
        }
    }

    /// Keeps `raw` in `slot`, in place.
    pub(crate) fn parse_into(slot: &mut Option<Timestamp>, raw: &str) {
        slot.get_or_insert_with(|| Timestamp {
            raw: Text::default(),
        })
        .raw
        .set(raw);
    }

    /// The text as Plivo sent it.
    #[must_use]
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Microseconds since the Unix epoch (UTC), if the text can be read (read on each
    /// call: a few tens of nanoseconds).
    #[must_use]
    pub fn unix_micros(&self) -> Option<i64> {
        parse_micros(self.raw.trim())
    }
}

/// Serialised as `{"raw": ..., "unix_micros": ...}`.
#[cfg(feature = "serde")]
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut timestamp = serializer.serialize_struct("Timestamp", 2)?;
        timestamp.serialize_field("raw", self.raw())?;
        timestamp.serialize_field("unix_micros", &self.unix_micros())?;
        timestamp.end()
    }
}

fn parse_micros(s: &str) -> Option<i64> {
    if !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok()?.checked_mul(1_000_000);
    }
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b' ' | b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| digits(b.get(range)?);
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut micros = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let len = frac.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 || len > 9 {
            return None;
        }
        let kept = &frac.as_bytes()[..len.min(6)];
        micros = digits(kept)?;
        for _ in kept.len()..6 {
            micros *= 10;
        }
        rest = &frac[len..];
    }
    let offset_seconds = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let body = &rest[1..];
            let (h, m) = match body.split_once(':') {
                Some((h, m)) => (h, m),
                // `is_ascii`: splitting non-ASCII text at byte 2 could cut a character.
                None if body.len() == 4 && body.is_ascii() => body.split_at(2),
                None if body.len() == 2 => (body, "00"),
                None => return None,
            };
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m) = (digits(h.as_bytes())?, digits(m.as_bytes())?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    seconds.checked_mul(1_000_000)?.checked_add(micros)
}

/// The value of a run of ASCII digits (at most 18, so it cannot overflow); `None` if any
/// byte is not a digit.
fn digits(bytes: &[u8]) -> Option<i64> {
    if bytes.len() > 18 {
        return None;
    }
    bytes.iter().try_fold(0i64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact() {
        assert_eq!(Amount::parse("0.00550").unwrap().micros(), Some(5500));
        assert_eq!(Amount::parse("0").unwrap().micros(), Some(0));
        assert_eq!(Amount::parse("12.5").unwrap().as_str(), "12.5");
        assert_eq!(Amount::parse("0.0000001").unwrap().micros(), None);
        for bad in ["", ".5", "5.", "1e3", "abc", "1.2.3", "-"] {
            assert!(Amount::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn timestamps_are_lenient() {
        let t = |s: &str| Timestamp::parse(s).unix_micros();
        assert_eq!(t("1970-01-01 00:00:00"), Some(0));
        assert_eq!(t("2023-12-19 14:02:15.92671"), Some(1_702_994_535_926_710));
        assert_eq!(
            t("2023-12-19 14:02:15.926710"),
            t("2023-12-19 14:02:15.92671")
        );
        assert_eq!(
            t("2023-12-19 19:32:15.92671+05:30"),
            t("2023-12-19 14:02:15.92671")
        );
        assert_eq!(t("2023-12-19T14:02:15Z"), Some(1_702_994_535_000_000));
        assert_eq!(t("1702994535"), Some(1_702_994_535_000_000));
        assert_eq!(t("yesterday"), None);
        assert_eq!(t("2023-13-19 14:02:15"), None);
        assert_eq!(Timestamp::parse("junk").raw(), "junk");
        let utc = t("2023-12-19 14:02:15");
        for same in [
            "2023-12-19 19:32:15+0530",
            "2023-12-19 16:02:15+02",
            "2023-12-19 06:02:15-08:00",
        ] {
            assert_eq!(t(same), utc, "{same}");
        }
        // Every field is digits only (no sign inside a field).
        for bad in [
            "2023-12-19 14:02:15+05:+3",
            "2023-12-19 14:02:15++5:30",
            "+023-12-19 14:02:15",
            "2023-12-19 14:02:15.+5",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
        // Found by fuzzing: a 4-byte offset that is not ASCII used to panic.
        assert_eq!(t("2024-07-26 03:53:10+0\u{fffd}"), None);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn timestamps_serialise_their_text_and_instant() {
        let json = |s: &str| serde_json::to_string(&Timestamp::parse(s)).unwrap();
        assert_eq!(
            json(" 1970-01-01 00:00:01"),
            r#"{"raw":" 1970-01-01 00:00:01","unix_micros":1000000}"#
        );
        assert_eq!(json("junk"), r#"{"raw":"junk","unix_micros":null}"#);
    }
}
