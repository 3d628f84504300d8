//! `application/x-www-form-urlencoded` decoding, shared by signing and parsing.
//!
//! The rules are those of `url::form_urlencoded::parse`, which is what Plivo's SDKs
//! compute in effect (`../reference/plivo-signatures.md`, section 5.2): segments split on
//! `&`, empty segments skipped, key and value split at the first `=`, `+` is a space,
//! `%XX` is a byte, a malformed escape stays literal, and the decoded bytes are read as
//! UTF-8 with invalid sequences replaced by U+FFFD.
//!
//! A [`Form`] records where each key and value lies in the raw bytes; nothing is copied.
//! Text is decoded while it is compared or hashed, so verifying an ASCII callback
//! allocates nothing. Only text whose decoded bytes are not ASCII is decoded up front
//! (into one string per form), because only then can the lossy UTF-8 rule change bytes.

use std::cmp::Ordering;

use smallvec::SmallVec;

/// Pairs kept inline before spilling to the heap: a Plivo callback has at most ~25.
pub(crate) const INLINE_PAIRS: usize = 32;

/// Longest form data decoded: positions are kept as `u32`, and decoding can triple a
/// length (an invalid byte becomes U+FFFD, three bytes). The verifier's body limit cannot
/// be set above it.
pub(crate) const MAX_FORM_BYTES: usize = 1 << 30;

/// Decoded pairs of one piece of form data, in arrival order until [`Form::sort`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Form<'a> {
    raw: &'a [u8],
    entries: SmallVec<[Entry; INLINE_PAIRS]>,
    /// Decoded text of non-ASCII keys and values, back to back.
    decoded: String,
}

/// One pair: plain old data, so building and sorting move 32 bytes, not strings.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Sort key: the first bytes of a plain key (see [`prefix_of`]).
    prefix: u64,
    key: Span,
    value: Span,
}

/// Where a key or value lies: in the raw bytes, or (decoded) in [`Form::decoded`].
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// ASCII with no `+` or `%`: the raw bytes are the decoded bytes.
    Plain,
    /// ASCII raw bytes with `+` or `%` whose decoded bytes are all ASCII.
    Escaped,
    /// Not ASCII once decoded: decoded eagerly into [`Form::decoded`].
    Decoded,
}

/// A decoded key or value, borrowed from a [`Form`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Text<'a> {
    /// `raw[start..end]` are the decoded bytes. The whole `raw` is kept so that a sink
    /// may copy in fixed-size blocks that overrun the text (see [`Sink::put_within`]).
    Plain {
        raw: &'a [u8],
        start: usize,
        end: usize,
    },
    /// Raw bytes with `+` or `%`, decoded on the fly; the result is ASCII.
    Escaped(&'a [u8]),
    /// Decoded text (lossy UTF-8 applied).
    Decoded(&'a str),
}

/// Where decoded bytes go: an HMAC state, a buffer.
pub(crate) trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);

    /// Appends `src[start..end]`. A sink may read past `end` within `src` (never past its
    /// end) if that is cheaper than copying exactly.
    #[inline(always)]
    fn put_within(&mut self, src: &[u8], start: usize, end: usize) {
        self.put(src.get(start..end).unwrap_or_default());
    }

    /// Appends every pair of `form` as key then value, with nothing between them (the
    /// signing string's parameters).
    #[inline(always)]
    fn put_form(&mut self, form: &Form<'_>)
    where
        Self: Sized,
    {
        form.feed(self, b"", b"");
    }

    /// Appends the decoding of escaped ASCII text (`+` and `%XX`, see [`Text::Escaped`]).
    #[inline(always)]
    fn put_escaped(&mut self, raw: &[u8]) {
        feed_escaped(raw, self);
    }
}

impl<F: FnMut(&[u8])> Sink for F {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self(bytes);
    }
}

/// Marks a key whose prefix was not computed (escaped or decoded keys).
const UNKNOWN_PREFIX: u64 = u64::MAX;

impl<'a> Form<'a> {
    /// Splits `raw` into pairs, in one pass over the bytes.
    pub(crate) fn parse(raw: &'a [u8]) -> Self {
        let mut form = Form::default();
        form.fill(raw);
        form
    }

    /// Replaces the pairs with those of `raw` (in place: a `Form` is a kilobyte).
    pub(crate) fn fill(&mut self, raw: &'a [u8]) {
        let raw = raw.get(..MAX_FORM_BYTES).unwrap_or(raw);
        self.raw = raw;
        self.entries.clear();
        self.decoded.clear();
        let form = self;
        let mut scan = Scan::default();
        let mut chunks = raw.chunks_exact(64);
        let mut base = 0;
        for chunk in &mut chunks {
            if let Ok(chunk) = <&[u8; 64]>::try_from(chunk) {
                form.events(&mut scan, base, special_bits(chunk));
            }
            base += 64;
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // Zero bytes are not special, so padding cannot add events.
            let mut last = [0u8; 64];
            last[..rest.len()].copy_from_slice(rest);
            form.events(&mut scan, base, special_bits(&last));
        }
        form.close(&scan, raw.len());
    }

    /// Handles the special bytes of one 64-byte chunk starting at `base`.
    #[inline(always)]
    fn events(&mut self, scan: &mut Scan, base: usize, mut bits: u64) {
        while bits != 0 {
            let at = base + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            match self.raw.get(at).copied().unwrap_or_default() {
                b'&' => {
                    self.close(scan, at);
                    *scan = Scan {
                        start: at + 1,
                        ..Scan::default()
                    };
                }
                b'=' if scan.eq.is_none() => {
                    scan.eq = Some(at);
                    scan.key_escaped = scan.escaped;
                    scan.escaped = false;
                }
                b'=' => {}
                // `+`, `%` or a byte that is not ASCII.
                _ => scan.escaped = true,
            }
        }
    }

    /// Records the segment that ends at `end` (an `&` or the end of the data).
    #[inline(always)]
    fn close(&mut self, scan: &Scan, end: usize) {
        if scan.start >= end {
            return;
        }
        if scan.key_escaped || scan.escaped {
            return self.close_escaped(*scan, end);
        }
        // The common case, built in registers: plain key, plain value.
        let key_end = scan.eq.unwrap_or(end);
        let value_start = scan.eq.map_or(end, |eq| eq + 1);
        // Positions fit: `raw` is at most `MAX_FORM_BYTES` long.
        self.entries.push(Entry {
            prefix: prefix_within(self.raw, scan.start, key_end),
            key: Span {
                start: scan.start as u32,
                end: key_end as u32,
                kind: Kind::Plain,
            },
            value: Span {
                start: value_start as u32,
                end: end as u32,
                kind: Kind::Plain,
            },
        });
    }

    /// [`Form::close`] for a segment with `+`, `%` or bytes that are not ASCII.
    #[inline(never)]
    fn close_escaped(&mut self, scan: Scan, end: usize) {
        let (key, value) = match scan.eq {
            None => (
                self.span(scan.start, end, scan.escaped),
                self.span(end, end, false),
            ),
            Some(eq) => (
                self.span(scan.start, eq, scan.key_escaped),
                self.span(eq + 1, end, scan.escaped),
            ),
        };
        let prefix = match key.kind {
            Kind::Plain => prefix_within(self.raw, key.start as usize, key.end as usize),
            _ => UNKNOWN_PREFIX,
        };
        self.entries.push(Entry { prefix, key, value });
    }

    fn span(&mut self, start: usize, end: usize, escaped: bool) -> Span {
        // Positions fit: `raw` is at most `MAX_FORM_BYTES` long.
        let (start32, end32) = (start as u32, end as u32);
        if !escaped {
            return Span {
                start: start32,
                end: end32,
                kind: Kind::Plain,
            };
        }
        let raw = self.raw.get(start..end).unwrap_or_default();
        if decodes_to_ascii(raw) {
            Span {
                start: start32,
                end: end32,
                kind: Kind::Escaped,
            }
        } else {
            self.decode(raw)
        }
    }

    /// Decodes non-ASCII text eagerly, applying the lossy UTF-8 rule.
    #[cold]
    fn decode(&mut self, raw: &[u8]) -> Span {
        let bytes: Vec<u8> = Decoded::new(raw).collect();
        let start = self.decoded.len();
        self.decoded.push_str(&String::from_utf8_lossy(&bytes));
        Span {
            start: start as u32,
            end: self.decoded.len() as u32,
            kind: Kind::Decoded,
        }
    }

    /// Sorts the pairs by key, then value, comparing decoded bytes (`str` order).
    pub(crate) fn sort(&mut self) {
        let Form {
            raw,
            entries,
            decoded,
        } = self;
        entries.sort_unstable_by(|a, b| compare(raw, decoded, a, b));
    }

    /// The number of pairs.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Writes every pair as key then value into `out` from `at`, calls `each(key_start,
    /// value_start, value_end)` with the positions of each pair, and returns where the
    /// written bytes end. `out` must have room for [`Form::decoded_len_bound`] bytes from
    /// `at`, plus 32 bytes of slack: plain text is copied in whole 16-byte blocks that
    /// may overrun it (the next piece overwrites the overrun).
    ///
    /// # Panics
    /// Never with the room above (checked by the callers); indexing is bounds-checked.
    #[inline(always)]
    pub(crate) fn copy_pairs(
        &self,
        out: &mut [u8],
        mut at: usize,
        mut each: impl FnMut(usize, usize, usize),
    ) -> usize {
        for entry in &self.entries {
            let key = at;
            at += self.copy_span(entry.key, out, at);
            let value = at;
            at += self.copy_span(entry.value, out, at);
            each(key, value, at);
        }
        at
    }

    /// Appends every pair, decoded, to `text` ([`Form::copy_pairs`] into a vector).
    pub(crate) fn decode_pairs(&self, text: &mut Vec<u8>, each: impl FnMut(usize, usize, usize)) {
        if self.entries.is_empty() {
            // No allocation for an empty form (the usual URL without a query).
            return;
        }
        let at = text.len();
        // Room for every decoded byte and the block copies' overrun.
        text.resize(at + self.decoded_len_bound() + 32, 0);
        let end = self.copy_pairs(text, at, each);
        text.truncate(end);
    }

    /// Copies one key or value for [`Form::copy_pairs`]; returns its decoded length.
    #[inline(always)]
    fn copy_span(&self, span: Span, out: &mut [u8], at: usize) -> usize {
        let (start, end) = (span.start as usize, span.end as usize);
        let n = end - start;
        match span.kind {
            Kind::Plain => match self.raw.get(start..start + 32) {
                Some(whole) if n <= 32 => {
                    out[at..at + 16].copy_from_slice(&whole[..16]);
                    out[at + 16..at + 32].copy_from_slice(&whole[16..]);
                }
                _ => out[at..at + n].copy_from_slice(&self.raw[start..end]),
            },
            Kind::Escaped => return decode_into(&self.raw[start..end], &mut out[at..]),
            Kind::Decoded => {
                out[at..at + n].copy_from_slice(&self.decoded.as_bytes()[start..end]);
            }
        }
        n
    }

    /// An upper bound of the decoded length of all keys and values together.
    pub(crate) fn decoded_len_bound(&self) -> usize {
        self.raw.len() + self.decoded.len()
    }

    /// Whether there are no pairs.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes every pair to `sink` as key, `between`, value, with `separator` between
    /// pairs: the signing string's pieces, without building [`Text`]s for plain text.
    #[inline(always)]
    pub(crate) fn feed(&self, sink: &mut impl Sink, between: &[u8], separator: &[u8]) {
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 && !separator.is_empty() {
                sink.put(separator);
            }
            self.feed_span(entry.key, sink);
            if !between.is_empty() {
                sink.put(between);
            }
            self.feed_span(entry.value, sink);
        }
    }

    #[inline(always)]
    fn feed_span(&self, span: Span, sink: &mut impl Sink) {
        if span.kind == Kind::Plain {
            sink.put_within(self.raw, span.start as usize, span.end as usize);
        } else {
            Text::of(self.raw, &self.decoded, span).feed(sink);
        }
    }

    /// The pairs, in arrival order or (after [`Form::sort`]) sorted.
    #[cfg(test)]
    pub(crate) fn pairs(&self) -> impl ExactSizeIterator<Item = (Text<'_>, Text<'_>)> + '_ {
        self.entries.iter().map(|entry| {
            (
                Text::of(self.raw, &self.decoded, entry.key),
                Text::of(self.raw, &self.decoded, entry.value),
            )
        })
    }
}

/// Orders two entries by decoded key, then value.
#[inline(always)]
fn compare(raw: &[u8], decoded: &str, a: &Entry, b: &Entry) -> Ordering {
    // Most comparisons end here, on the first 8 bytes of two plain keys.
    if a.prefix != b.prefix && a.prefix != UNKNOWN_PREFIX && b.prefix != UNKNOWN_PREFIX {
        return a.prefix.cmp(&b.prefix);
    }
    compare_texts(raw, decoded, a, b)
}

/// [`compare`] on the decoded texts.
#[inline(never)]
fn compare_texts(raw: &[u8], decoded: &str, a: &Entry, b: &Entry) -> Ordering {
    let text = |span: Span| Text::of(raw, decoded, span);
    text(a.key)
        .cmp(&text(b.key))
        .then_with(|| text(a.value).cmp(&text(b.value)))
}

/// Scanner state: the segment being read.
#[derive(Debug, Clone, Copy, Default)]
struct Scan {
    /// Where the segment starts.
    start: usize,
    /// Its first `=`, once seen.
    eq: Option<usize>,
    /// Whether the key had `+`, `%` or non-ASCII bytes (known once `eq` is).
    key_escaped: bool,
    /// Whether the part being read (key, or value after `eq`) has them.
    escaped: bool,
}

/// Bit `i` is set when byte `i` of the chunk is `&`, `=`, `+`, `%` or not ASCII.
///
/// Written so that the compiler vectorises the first loop with the baseline x86-64 SIMD
/// (SSE2: byte compares on 16 bytes at once, no `unsafe`): one flag byte (0 or 1) per
/// byte. The second gathers eight flag bytes into eight bits with one multiply each
/// (byte k of the word lands on bit 56 + k).
#[inline(always)]
fn special_bits(chunk: &[u8; 64]) -> u64 {
    let mut flags = [0u8; 64];
    for (flag, &b) in flags.iter_mut().zip(chunk) {
        *flag = u8::from(b == b'&')
            | u8::from(b == b'=')
            | u8::from(b == b'+')
            | u8::from(b == b'%')
            | (b >> 7);
    }
    let mut bits = 0u64;
    for (i, word) in flags.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        bits |= (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * i);
    }
    bits
}

/// Whether escaped ASCII text decodes to ASCII (no `%XX` of 0x80 or more).
fn decodes_to_ascii(raw: &[u8]) -> bool {
    // The ASCII test runs a word at a time; then only each `%` needs a look.
    raw.is_ascii()
        && raw
            .iter()
            .enumerate()
            .all(|(i, &b)| b != b'%' || hex_pair(raw, i + 1).is_none_or(|byte| byte.is_ascii()))
}

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

/// [`prefix_of`] `raw[start..end]`, reading 8 bytes at once and masking what lies past
/// `end` when `raw` has 8 bytes from `start`: no loop whose length varies with the key.
#[inline(always)]
fn prefix_within(raw: &[u8], start: usize, end: usize) -> u64 {
    let len = end.saturating_sub(start);
    match raw.get(start..start + 8).and_then(|b| b.first_chunk::<8>()) {
        Some(word) if len < 8 => u64::from_be_bytes(*word) & !(u64::MAX >> (8 * len)),
        Some(word) => u64::from_be_bytes(*word),
        None => prefix_of(raw.get(start..end).unwrap_or_default()),
    }
}

impl<'a> Text<'a> {
    #[inline(always)]
    fn of(raw: &'a [u8], decoded: &'a str, span: Span) -> Self {
        let (start, end) = (span.start as usize, span.end as usize);
        match span.kind {
            Kind::Plain => Text::Plain { raw, start, end },
            Kind::Escaped => Text::Escaped(raw.get(start..end).unwrap_or_default()),
            Kind::Decoded => Text::Decoded(decoded.get(start..end).unwrap_or_default()),
        }
    }

    /// Writes the decoded bytes to `sink`, in pieces, without allocating.
    #[inline(always)]
    pub(crate) fn feed(&self, sink: &mut impl Sink) {
        match *self {
            Text::Plain { raw, start, end } => sink.put_within(raw, start, end),
            Text::Decoded(text) => sink.put(text.as_bytes()),
            Text::Escaped(raw) => sink.put_escaped(raw),
        }
    }

    /// The decoded text, borrowed when no decoding is needed.
    #[cfg(test)]
    pub(crate) fn to_cow(self) -> std::borrow::Cow<'a, str> {
        match self {
            // ASCII (checked by the scan), hence valid UTF-8; lossy keeps it panic-free.
            Text::Plain { raw, start, end } => {
                String::from_utf8_lossy(raw.get(start..end).unwrap_or_default())
            }
            Text::Decoded(text) => std::borrow::Cow::Borrowed(text),
            Text::Escaped(raw) => {
                let bytes: Vec<u8> = Decoded::new(raw).collect();
                std::borrow::Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
            }
        }
    }

    fn bytes(&self) -> Decoded<'a> {
        match *self {
            Text::Plain { raw, start, end } => {
                Decoded::verbatim(raw.get(start..end).unwrap_or_default())
            }
            Text::Decoded(text) => Decoded::verbatim(text.as_bytes()),
            Text::Escaped(raw) => Decoded::new(raw),
        }
    }

    fn verbatim(&self) -> Option<&'a [u8]> {
        match *self {
            Text::Plain { raw, start, end } => raw.get(start..end),
            Text::Decoded(text) => Some(text.as_bytes()),
            Text::Escaped(_) => None,
        }
    }
}

/// Decodes escaped text into `out` (at least `raw.len()` long); returns the decoded length.
pub(crate) fn decode_into(raw: &[u8], out: &mut [u8]) -> usize {
    let mut written = 0;
    for (slot, byte) in out.iter_mut().zip(Decoded::new(raw)) {
        *slot = byte;
        written += 1;
    }
    written
}

/// Writes the decoding of escaped text to `sink`, in pieces.
pub(crate) fn feed_escaped(raw: &[u8], sink: &mut (impl Sink + ?Sized)) {
    let mut rest: &[u8] = raw;
    while !rest.is_empty() {
        // Runs without escapes go through as slices.
        let run = rest
            .iter()
            .position(|&b| b == b'+' || b == b'%')
            .unwrap_or(rest.len());
        if run > 0 {
            sink.put(&rest[..run]);
            rest = &rest[run..];
            continue;
        }
        if rest[0] == b'+' {
            sink.put(b" ");
            rest = &rest[1..];
        } else if let Some(byte) = hex_pair(rest, 1) {
            sink.put(&[byte]);
            rest = &rest[3..];
        } else {
            sink.put(b"%");
            rest = &rest[1..];
        }
    }
}

impl Ord for Text<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.verbatim(), other.verbatim()) {
            (Some(a), Some(b)) => a.cmp(b),
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
        Form::parse(raw.as_bytes())
            .pairs()
            .map(|(k, v)| (k.to_cow().into_owned(), v.to_cow().into_owned()))
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
        let form = Form::parse(b"k=\xff\xfeok");
        let (_, value) = form.pairs().next().unwrap();
        assert_eq!(value.to_cow(), "\u{FFFD}\u{FFFD}ok");
    }

    #[test]
    fn sorts_by_decoded_bytes() {
        let mut form = Form::parse(b"b=2&a=%32&a=1&A=z&_x=1&a+=0");
        form.sort();
        let keys: Vec<String> = form
            .pairs()
            .map(|(k, v)| format!("{}={}", k.to_cow(), v.to_cow()))
            .collect();
        assert_eq!(keys, ["A=z", "_x=1", "a=1", "a=2", "a =0", "b=2"]);
    }

    #[test]
    fn special_bits_match_a_byte_loop() {
        let mut chunk = [0u8; 64];
        for seed in 0u64..2000 {
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for byte in &mut chunk {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *byte = b"a&=+%Z\x80\xff\x00\x01'<*$"[(x % 14) as usize];
            }
            let want = chunk.iter().enumerate().fold(0u64, |bits, (i, &b)| {
                let special = matches!(b, b'&' | b'=' | b'+' | b'%') || b >= 0x80;
                bits | (u64::from(special) << i)
            });
            assert_eq!(special_bits(&chunk), want, "{chunk:?}");
        }
    }

    proptest::proptest! {
        /// The fast paths (SWAR scan, prefix sort, lazy decoding) agree with a naive
        /// decode-everything-then-sort-strings implementation.
        #[test]
        fn fast_paths_match_a_naive_implementation(raw in "([a-zA-Z_%+=&0-9]|%[0-9a-fA-F]{2}|\\PC){0,200}") {
            let mut form = Form::parse(raw.as_bytes());
            form.sort();
            let mut fed = Vec::new();
            for (key, value) in form.pairs() {
                key.feed(&mut |b: &[u8]| fed.extend_from_slice(b));
                fed.push(b'=');
                value.feed(&mut |b: &[u8]| fed.extend_from_slice(b));
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

    /// Sorted and fed as `k=v&`, against decoding everything and sorting strings.
    fn fast_and_naive(raw: &str) -> (Vec<u8>, Vec<u8>) {
        let mut form = Form::parse(raw.as_bytes());
        form.sort();
        let mut fed = Vec::new();
        form.feed(&mut |b: &[u8]| fed.extend_from_slice(b), b"=", b"&");
        let mut naive: Vec<(String, String)> = raw
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|s| {
                let (k, v) = s.split_once('=').unwrap_or((s, ""));
                let decode = |t: &str| {
                    String::from_utf8_lossy(&Decoded::new(t.as_bytes()).collect::<Vec<u8>>())
                        .into_owned()
                };
                (decode(k), decode(v))
            })
            .collect();
        naive.sort();
        let naive: Vec<String> = naive.iter().map(|(k, v)| format!("{k}={v}")).collect();
        (fed, naive.join("&").into_bytes())
    }

    #[test]
    fn keys_sharing_seven_bytes_sort_fully() {
        let raw = "MessageUUID=1&MessageTime=2&Message=3&MessageT=4&Messag=5&MessageUUID=0&\
                   Message%54ime=6&MessageT%C3%A9=7&Messagf=8&Message\0=9";
        let (fast, naive) = fast_and_naive(raw);
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&naive)
        );
    }

    #[test]
    fn more_than_256_pairs_sort_fully() {
        let raw: Vec<String> = (0..700)
            .map(|i| format!("k{}=v{}&K%{:02X}={i}", (i * 7919) % 1000, i % 3, i % 128))
            .collect();
        let (fast, naive) = fast_and_naive(&raw.join("&"));
        assert_eq!(fast, naive);
    }

    #[test]
    fn feed_handles_long_escaped_text() {
        let raw = "%41+".repeat(200);
        let form = Form::parse(raw.as_bytes());
        let (key, _) = form.pairs().next().unwrap();
        let mut out = Vec::new();
        key.feed(&mut |b: &[u8]| out.extend_from_slice(b));
        assert_eq!(out, "A ".repeat(200).as_bytes());
    }
}
