//! `application/x-www-form-urlencoded` decoding, shared by signing and parsing.
//!
//! The rules are those of `url::form_urlencoded::parse`, which is what Plivo's SDKs
//! compute in effect (`../reference/plivo-signatures.md`, section 5.2): segments split on
//! `&`, empty segments skipped, key and value split at the first `=`, `+` is a space,
//! `%XX` is a byte, a malformed escape stays literal, and the decoded bytes are read as
//! UTF-8 with invalid sequences replaced by U+FFFD.
//!
//! A [`Form`] records where each key and value lies in the raw bytes; plain text is not
//! copied. Text with `+` or `%` (or bytes that are not ASCII) is decoded once, up front,
//! into an array of the form's (256 bytes), so that sorting and hashing read decoded
//! bytes. Past that room, ASCII text is decoded again each time it is compared or hashed
//! instead, so verifying an ASCII callback allocates nothing; other text goes to the
//! heap. Decoded bytes that are not UTF-8 go to the heap too, with the lossy UTF-8 rule
//! applied.

use std::cmp::Ordering;

use smallvec::SmallVec;

use crate::order::{Order, Orders};
use crate::scan::{masks, Masks};

/// Pairs kept inline before spilling to the heap: a Plivo callback has at most ~25.
pub(crate) const INLINE_PAIRS: usize = 32;

/// Decoded bytes kept inline (see the module documentation).
const DECODED_INLINE: usize = 256;

/// Longest form data decoded: positions are kept as `u32`, and decoding can triple a
/// length (an invalid byte becomes U+FFFD, three bytes). The verifier's body limit cannot
/// be set above it.
pub(crate) const MAX_FORM_BYTES: usize = 1 << 30;

/// Decoded pairs of one piece of form data, in arrival order until [`Form::sort`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Form<'a> {
    raw: &'a [u8],
    entries: SmallVec<[Entry; INLINE_PAIRS]>,
    /// Decoded text of escaped keys and values, each valid UTF-8.
    decoded: DecodedText,
    /// The sorted order, once [`Form::sort_remembering`] found it: position `i` of the
    /// sorted pairs is `entries[order[i]]`. `None` while the entries are in the order that
    /// counts (arrival, or sorted in place by [`Form::sort`]).
    order: Option<Order>,
}

/// One pair: plain old data, so building and sorting move 32 bytes, not strings.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Sort key: the first 8 decoded bytes of the key (see [`prefix_of`]).
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
    /// ASCII raw bytes with `+` or `%` whose decoded bytes are all ASCII, decoded each
    /// time they are read (when [`Form::decoded`] had no room left inline).
    Escaped,
    /// Decoded into [`Form::decoded`].
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
    Decoded(&'a [u8]),
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
        self.order = None;
        let form = self;
        let mut scan = Scan::at(0);
        let mut chunks = raw.chunks_exact(64);
        let mut base = 0;
        for chunk in &mut chunks {
            if let Ok(chunk) = <&[u8; 64]>::try_from(chunk) {
                scan = form.chunk(scan, base, masks(chunk));
            }
            base += 64;
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // Zero bytes are in no class, so the padding changes nothing.
            let mut last = [0u8; 64];
            last[..rest.len()].copy_from_slice(rest);
            scan = form.chunk(scan, base, masks(&last));
        }
        form.close(scan, raw.len());
    }

    /// Reads one 64-byte chunk starting at `base`, a segment at a time: each `&` closes
    /// one, and the masks tell where its `=` is and which of its parts need decoding,
    /// without looking at bytes one by one.
    #[inline(always)]
    fn chunk(&mut self, mut scan: Scan, base: usize, masks: Masks) -> Scan {
        let mut amps = masks.amp;
        // The bits of this chunk from the current segment's start on.
        let mut from = u64::MAX;
        loop {
            // The part of the current segment in this chunk: up to its `&` (the lowest bit
            // of `amps`), or to the chunk's end when there is none.
            let part = from & amps.wrapping_sub(1) & !amps;
            let escaped = masks.escaped & part;
            let eq = masks.eq & part;
            if scan.eq == NO_EQ && eq != 0 {
                // The bits before the segment's first `=`.
                let before = (eq & eq.wrapping_neg()) - 1;
                scan.eq = base + eq.trailing_zeros() as usize;
                scan.key_escaped = scan.escaped | (escaped & before != 0);
                scan.escaped = escaped & !before != 0;
            } else {
                scan.escaped |= escaped != 0;
            }
            if amps == 0 {
                return scan;
            }
            let at = base + amps.trailing_zeros() as usize;
            self.close(scan, at);
            scan = Scan::at(at + 1);
            // The bits above this `&`.
            from = !(amps ^ (amps - 1));
            amps &= amps - 1;
        }
    }

    /// Records the segment that ends at `end` (an `&` or the end of the data).
    #[inline(always)]
    fn close(&mut self, scan: Scan, end: usize) {
        if scan.start >= end {
            return;
        }
        if scan.key_escaped || scan.escaped {
            return self.close_escaped(scan.start, scan.eq, end, scan.key_escaped, scan.escaped);
        }
        // The common case, built in registers: plain key, plain value.
        let (key_end, value_start) = if scan.eq == NO_EQ {
            (end, end)
        } else {
            (scan.eq, scan.eq + 1)
        };
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
    fn close_escaped(
        &mut self,
        start: usize,
        eq: usize,
        end: usize,
        key_escaped: bool,
        escaped: bool,
    ) {
        let (key, value) = if eq == NO_EQ {
            (self.span(start, end, escaped), self.span(end, end, false))
        } else {
            (
                self.span(start, eq, key_escaped),
                self.span(eq + 1, end, escaped),
            )
        };
        let prefix = match key.kind {
            Kind::Plain => prefix_within(self.raw, key.start as usize, key.end as usize),
            Kind::Decoded => prefix_of(self.decoded.get(key.start as usize, key.end as usize)),
            Kind::Escaped => prefix_of_escaped(
                self.raw
                    .get(key.start as usize..key.end as usize)
                    .unwrap_or_default(),
            ),
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
        // Positions fit: decoded text is at most three times `MAX_FORM_BYTES`.
        let (at, n) = match self.decoded.push_inline(raw) {
            Some(decoded) => decoded,
            None if decodes_to_ascii(raw) => {
                return Span {
                    start: start32,
                    end: end32,
                    kind: Kind::Escaped,
                }
            }
            None => self.decoded.push_heap(raw),
        };
        Span {
            start: at as u32,
            end: (at + n) as u32,
            kind: Kind::Decoded,
        }
    }

    /// Sorts the pairs by key, then value, comparing decoded bytes (`str` order).
    pub(crate) fn sort(&mut self) {
        let Form {
            raw,
            entries,
            decoded,
            order,
        } = self;
        entries.sort_unstable_by(|a, b| compare(raw, decoded, a, b));
        *order = None;
    }

    /// [`Form::sort`], trying first the order `orders` remembers for this many pairs, and
    /// remembering the order found. The guess is used only if every pair it puts in place
    /// is strictly less than the next: then no index repeats (an entry is equal to
    /// itself), so its `n` indices, each below `n`, are a permutation, and a sorted one.
    /// A form with two equal pairs is sorted afresh each time. The entries stay where they
    /// are: the order is kept beside them, and the pairs are read through it.
    pub(crate) fn sort_remembering(&mut self, orders: &Orders) {
        let n = self.entries.len();
        if n > INLINE_PAIRS {
            return self.sort();
        }
        let Form {
            raw,
            entries,
            decoded,
            order,
        } = self;
        let guess = orders.guess(n);
        if sorts_strictly(raw, decoded, entries, guess.get(..n).unwrap_or_default()) {
            *order = Some(guess);
            return;
        }
        let entry = |i: u8| &entries[usize::from(i)];
        // `n` is at most 32, so the indices fit.
        let mut sorted: Order = std::array::from_fn(|i| i as u8);
        let by_pair = sorted.get_mut(..n).unwrap_or_default();
        by_pair.sort_unstable_by(|&a, &b| compare(raw, decoded, entry(a), entry(b)));
        orders.set(by_pair);
        *order = Some(sorted);
    }

    /// The entries in the order that counts (see [`Form::order`]).
    #[inline(always)]
    fn in_order(&self) -> InOrder<'_> {
        let entries = &self.entries[..];
        InOrder {
            entries,
            order: self
                .order
                .as_ref()
                .map(|order| order.get(..entries.len()).unwrap_or_default().iter()),
            next: 0,
        }
    }

    /// The number of pairs.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Writes every pair as key then value into `out` from `at`, calls `each(out,
    /// key_start, value_start, value_end)` after each pair, and returns where the
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
        mut each: impl FnMut(&[u8], usize, usize, usize),
    ) -> usize {
        for entry in self.in_order() {
            let key = at;
            at += self.copy_span(entry.key, out, at);
            let value = at;
            at += self.copy_span(entry.value, out, at);
            each(out, key, value, at);
        }
        at
    }

    /// Appends every pair, decoded, to `text` ([`Form::copy_pairs`] into a vector).
    pub(crate) fn decode_pairs(
        &self,
        text: &mut Vec<u8>,
        mut each: impl FnMut(usize, usize, usize),
    ) {
        if self.entries.is_empty() {
            // No allocation for an empty form (the usual URL without a query).
            return;
        }
        let at = text.len();
        // Room for every decoded byte and the block copies' overrun.
        text.resize(at + self.decoded_len_bound() + 32, 0);
        let end = self.copy_pairs(text, at, |_, key, value, end| each(key, value, end));
        text.truncate(end);
    }

    /// Copies one key or value for [`Form::copy_pairs`]; returns its decoded length.
    #[inline(always)]
    fn copy_span(&self, span: Span, out: &mut [u8], at: usize) -> usize {
        let (start, end) = (span.start as usize, span.end as usize);
        let n = end - start;
        match span.kind {
            Kind::Plain => match (
                self.raw.get(start..).and_then(<[u8]>::first_chunk::<32>),
                out.get_mut(at..).and_then(<[u8]>::first_chunk_mut::<32>),
            ) {
                (Some(whole), Some(dst)) if n <= 32 => *dst = *whole,
                _ => out[at..at + n].copy_from_slice(&self.raw[start..end]),
            },
            Kind::Escaped => return decode_into(&self.raw[start..end], &mut out[at..]),
            Kind::Decoded => copy_short(&mut out[at..at + n], self.decoded.get(start, end)),
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
        for (i, entry) in self.in_order().enumerate() {
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

    /// The pairs, in arrival order or (after [`Form::sort`] or [`Form::sort_remembering`])
    /// sorted.
    #[cfg(test)]
    pub(crate) fn pairs(&self) -> impl ExactSizeIterator<Item = (Text<'_>, Text<'_>)> + '_ {
        self.in_order().map(|entry| {
            (
                Text::of(self.raw, &self.decoded, entry.key),
                Text::of(self.raw, &self.decoded, entry.value),
            )
        })
    }
}

/// A form's entries in the order that counts: through [`Form::order`] when it is set.
/// (An enum of the two cases, each with its own slice iterator, measured 1.5% slower for
/// `check` and `verify_as`: Intel Xeon, the two builds side by side.)
struct InOrder<'f> {
    entries: &'f [Entry],
    order: Option<std::slice::Iter<'f, u8>>,
    /// The next entry, without an order.
    next: usize,
}

impl<'f> Iterator for InOrder<'f> {
    type Item = &'f Entry;

    #[inline(always)]
    fn next(&mut self) -> Option<&'f Entry> {
        match &mut self.order {
            // A permutation of the indices (see `Form::sort_remembering`): each is in range.
            Some(order) => order.next().and_then(|&i| self.entries.get(usize::from(i))),
            None => {
                let entry = self.entries.get(self.next)?;
                self.next += 1;
                Some(entry)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = match &self.order {
            Some(order) => order.len(),
            None => self.entries.len().saturating_sub(self.next),
        };
        (left, Some(left))
    }
}

impl ExactSizeIterator for InOrder<'_> {}

/// Orders two entries by decoded key, then value.
#[inline(always)]
fn compare(raw: &[u8], decoded: &DecodedText, a: &Entry, b: &Entry) -> Ordering {
    // Most comparisons end here, on the first 8 bytes of two plain keys.
    match a.prefix.cmp(&b.prefix) {
        Ordering::Equal => compare_texts(raw, decoded, a, b),
        order => order,
    }
}

/// Whether `order` (indices into `entries`) puts every entry strictly before the next.
#[inline(always)]
fn sorts_strictly(raw: &[u8], decoded: &DecodedText, entries: &[Entry], order: &[u8]) -> bool {
    let mut previous: Option<&Entry> = None;
    for &i in order {
        let Some(next) = entries.get(usize::from(i)) else {
            return false;
        };
        if previous.is_some_and(|p| compare(raw, decoded, p, next) != Ordering::Less) {
            return false;
        }
        previous = Some(next);
    }
    true
}

/// [`compare`] on the decoded texts.
#[inline(never)]
fn compare_texts(raw: &[u8], decoded: &DecodedText, a: &Entry, b: &Entry) -> Ordering {
    let text = |span: Span| Text::of(raw, decoded, span);
    text(a.key)
        .cmp(&text(b.key))
        .then_with(|| text(a.value).cmp(&text(b.value)))
}

/// Decoded text of escaped keys and values, back to back, each valid UTF-8: in an array
/// of the form's while it fits, then on the heap. Positions from [`DECODED_INLINE`] up are
/// on the heap; a piece is never split between the two.
#[derive(Debug, Clone)]
struct DecodedText {
    inline: [u8; DECODED_INLINE],
    /// Bytes used in `inline`.
    len: usize,
    heap: Vec<u8>,
}

impl Default for DecodedText {
    fn default() -> Self {
        DecodedText {
            inline: [0; DECODED_INLINE],
            len: 0,
            heap: Vec::new(),
        }
    }
}

impl DecodedText {
    fn clear(&mut self) {
        self.len = 0;
        self.heap.clear();
    }

    /// Bytes held.
    fn len(&self) -> usize {
        self.len + self.heap.len()
    }

    /// The text at `start..end` (positions given by the `push` methods).
    #[inline(always)]
    fn get(&self, start: usize, end: usize) -> &[u8] {
        let text = match start.checked_sub(DECODED_INLINE) {
            None => self.inline.get(start..end),
            Some(at) => self.heap.get(at..end.saturating_sub(DECODED_INLINE)),
        };
        text.unwrap_or_default()
    }

    /// Decodes `raw` into the array, if it has room: where, and how long. Decoding never
    /// lengthens text, so `raw`'s length of room is enough. Text that decodes to bytes
    /// that are not UTF-8 goes to the heap instead, with the lossy rule applied.
    #[inline(always)]
    fn push_inline(&mut self, raw: &[u8]) -> Option<(usize, usize)> {
        let at = self.len;
        let room = self.inline.get_mut(at..at + raw.len())?;
        let n = decode_into(raw, room);
        let text = room.get(..n).unwrap_or_default();
        if !text.is_ascii() && std::str::from_utf8(text).is_err() {
            return Some(self.push_heap(raw));
        }
        self.len = at + n;
        Some((at, n))
    }

    /// Decodes `raw` onto the heap, applying the lossy UTF-8 rule: where, and how long.
    #[cold]
    fn push_heap(&mut self, raw: &[u8]) -> (usize, usize) {
        let at = self.heap.len();
        self.heap.extend_from_slice(raw);
        let n = decode_into(raw, self.heap.get_mut(at..).unwrap_or_default());
        self.heap.truncate(at + n);
        if let std::borrow::Cow::Owned(fixed) =
            String::from_utf8_lossy(self.heap.get(at..).unwrap_or_default())
        {
            self.heap.truncate(at);
            self.heap.extend_from_slice(fixed.as_bytes());
        }
        (DECODED_INLINE + at, self.heap.len() - at)
    }
}

/// Scanner state: the segment being read. Passed by value, so that it stays in registers.
#[derive(Debug, Clone, Copy)]
struct Scan {
    /// Where the segment starts.
    start: usize,
    /// Its first `=`, once seen ([`NO_EQ`] before).
    eq: usize,
    /// Whether the key had `+`, `%` or non-ASCII bytes (known once `eq` is).
    key_escaped: bool,
    /// Whether the part being read (key, or value after `eq`) has them.
    escaped: bool,
}

/// [`Scan::eq`] before the segment's first `=`: no position (positions fit in `u32`).
const NO_EQ: usize = usize::MAX;

impl Scan {
    /// A segment starting at `start`, nothing seen yet.
    const fn at(start: usize) -> Self {
        Scan {
            start,
            eq: NO_EQ,
            key_escaped: false,
            escaped: false,
        }
    }
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

/// [`prefix_of`] the decoding of escaped ASCII text (a key decoded lazily).
#[cold]
fn prefix_of_escaped(raw: &[u8]) -> u64 {
    let mut prefix = 0u64;
    for (i, b) in Decoded::new(raw).take(8).enumerate() {
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
    fn of(raw: &'a [u8], decoded: &'a DecodedText, span: Span) -> Self {
        let (start, end) = (span.start as usize, span.end as usize);
        match span.kind {
            Kind::Plain => Text::Plain { raw, start, end },
            Kind::Escaped => Text::Escaped(raw.get(start..end).unwrap_or_default()),
            Kind::Decoded => Text::Decoded(decoded.get(start, end)),
        }
    }

    /// Writes the decoded bytes to `sink`, in pieces, without allocating.
    #[inline(always)]
    pub(crate) fn feed(&self, sink: &mut impl Sink) {
        match *self {
            Text::Plain { raw, start, end } => sink.put_within(raw, start, end),
            Text::Decoded(text) => sink.put(text),
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
            Text::Decoded(text) => String::from_utf8_lossy(text),
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
            Text::Decoded(text) => Decoded::verbatim(text),
            Text::Escaped(raw) => Decoded::new(raw),
        }
    }

    fn verbatim(&self) -> Option<&'a [u8]> {
        match *self {
            Text::Plain { raw, start, end } => raw.get(start..end),
            Text::Decoded(text) => Some(text),
            Text::Escaped(_) => None,
        }
    }
}

/// Decodes escaped text into `out`, which must be at least `raw.len()` long; returns the
/// decoded length. Eight bytes are read at a time: the bytes before the first `+` or `%`
/// of a word are copied as one word.
pub(crate) fn decode_into(raw: &[u8], out: &mut [u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // The lowest set bit marks the first byte equal to `b` (bits above it may be wrong).
    let first = |word: u64, b: u8| {
        let x = word ^ (ONES * u64::from(b));
        x.wrapping_sub(ONES) & !x & HIGH
    };
    let (mut read, mut written) = (0, 0);
    while let Some(&chunk) = raw.get(read..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(chunk);
        let escapes = first(word, b'+') | first(word, b'%');
        let run = (escapes.trailing_zeros() / 8) as usize;
        // `written <= read`, so the eight bytes fit in `out`.
        if let Some(slot) = out.get_mut(written..written + 8) {
            slot.copy_from_slice(&chunk);
        }
        read += run;
        written += run;
        if run < 8 {
            (read, written) = decode_one(raw, read, out, written);
        }
    }
    while read < raw.len() {
        (read, written) = decode_one(raw, read, out, written);
    }
    written
}

/// Decodes the byte at `raw[read]` (`+`, an escape, or a plain byte) to `out[written]`;
/// returns where reading and writing go on.
#[inline(always)]
fn decode_one(raw: &[u8], mut read: usize, out: &mut [u8], written: usize) -> (usize, usize) {
    let byte = raw.get(read).copied().unwrap_or_default();
    read += 1;
    let decoded = match byte {
        b'+' => b' ',
        b'%' => match hex_pair(raw, read) {
            Some(decoded) => {
                read += 2;
                decoded
            }
            None => b'%',
        },
        other => other,
    };
    if let Some(slot) = out.get_mut(written) {
        *slot = decoded;
    }
    (read, written + 1)
}

/// Copies `src` into `dst` (same length). Most pieces of a signing string are a few bytes
/// long, where a call to `memcpy` costs more than the copy: up to 32 bytes are moved with
/// two overlapping fixed-size loads and stores instead.
#[inline(always)]
pub(crate) fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if (17..=32).contains(&n) {
        let (head, tail) = (&src[..16], &src[n - 16..]);
        dst[n - 16..].copy_from_slice(tail);
        dst[..16].copy_from_slice(head);
    } else if (8..=16).contains(&n) {
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
    fn decoding_a_word_at_a_time_matches_the_iterator() {
        for raw in [
            "",
            "+",
            "%",
            "%4",
            "%41",
            "a+b",
            "12345678",
            "1234567+",
            "+1234567",
            "%zz%41%4",
            "2023-12-19+14%3A02%3A11.481236",
            "%41%42%43%44%45%46%47%48%49",
            "a%2Bb+c%25d++%%",
            "abcdefgh%41bcdefgh+ijklmnop%zzq",
        ] {
            let want: Vec<u8> = Decoded::new(raw.as_bytes()).collect();
            let mut out = vec![0; raw.len()];
            let n = decode_into(raw.as_bytes(), &mut out);
            assert_eq!(&out[..n], &want[..], "{raw}");
        }
        // Every length around the words, escapes anywhere, with room for exactly the raw
        // bytes and with slack after it.
        for seed in 0u64..4000 {
            let mut rng = crate::test_rng::stream(seed);
            let len = (rng.next().unwrap_or_default() % 40) as usize;
            let raw: Vec<u8> = rng
                .take(len)
                .map(|x| b"a+%4Fz%E9+\xc3 &="[(x % 14) as usize])
                .collect();
            let want: Vec<u8> = Decoded::new(&raw).collect();
            for slack in [0, 8] {
                let mut out = vec![0xaa; raw.len() + slack];
                let n = decode_into(&raw, &mut out);
                assert_eq!(&out[..n], &want[..], "{raw:?} {slack}");
            }
        }
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

    /// Sorted with `orders`, and as [`Form::sort`] sorts, both fed as `k=v&`.
    fn remembered_and_sorted(raw: &[u8], orders: &Orders) -> (Vec<u8>, Vec<u8>) {
        let fed = |form: &Form<'_>| {
            let mut out = Vec::new();
            form.feed(&mut |b: &[u8]| out.extend_from_slice(b), b"=", b"&");
            out
        };
        let mut remembered = Form::parse(raw);
        remembered.sort_remembering(orders);
        let mut sorted = Form::parse(raw);
        sorted.sort();
        (fed(&remembered), fed(&sorted))
    }

    proptest::proptest! {
        /// Forms of few pairs from few keys: the same count recurs in other orders, so
        /// remembered orders are tried, used where they fit and replaced where they do not.
        #[test]
        fn a_remembered_order_sorts_as_sorting_does(
            forms in proptest::collection::vec(
                proptest::collection::vec(("[ab%+]{0,2}", "[xy%+]{0,2}"), 0..6), 1..12)
        ) {
            let orders = Orders::default();
            for pairs in forms {
                let raw: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let (remembered, sorted) = remembered_and_sorted(raw.join("&").as_bytes(), &orders);
                proptest::prop_assert_eq!(remembered, sorted);
            }
        }
    }

    #[test]
    fn a_remembered_order_is_used_only_where_it_sorts() {
        let orders = Orders::default();
        let plivo = b"Status=delivered&From=1415&To=1416&Units=1&Type=sms";
        let (first, sorted) = remembered_and_sorted(plivo, &orders);
        assert_eq!(first, sorted);
        assert_eq!(orders.guess(5)[..5], [1, 0, 2, 4, 3]);
        // The same order again: the remembered one fits.
        let (again, sorted) =
            remembered_and_sorted(b"Status=failed&From=9&To=8&Units=2&Type=mms", &orders);
        assert_eq!(again, sorted);
        // Five pairs in another order, equal keys whose values decide, and equal pairs.
        for raw in [
            &b"Type=sms&Units=1&To=1416&From=1415&Status=delivered"[..],
            b"a=3&a=1&a=2&a=%30&b=",
            b"a=1&b=2&a=1&c=3&b=",
            b"a=1&b=2&a=1&c=3&b=",
        ] {
            let (other, sorted) = remembered_and_sorted(raw, &orders);
            assert_eq!(other, sorted);
        }
        // What a torn write could leave: a repeated index, an index past the pairs. The
        // first is in order if equal pairs may follow each other, and drops `b=2`.
        for guess in [[0, 1, 0], [2, 1, 9]] {
            orders.set(&guess);
            let (torn, sorted) = remembered_and_sorted(b"a=1&a=1&b=2", &orders);
            assert_eq!(torn, sorted);
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

    /// The scanner reads 64 bytes at a time and carries a segment's state from one chunk
    /// to the next: every separator and escape is put at each position around the first
    /// two chunk ends, in keys and values that span one, two or three chunks.
    #[test]
    fn separators_and_escapes_at_each_position_around_the_chunk_ends() {
        let pieces = ["=", "&", "+", "%41", "%", "==", "&&", "=&", "&="];
        for at in 56..136 {
            for (first, then) in pieces
                .iter()
                .flat_map(|a| pieces.iter().map(move |b| (a, b)))
            {
                for gap in [0, 1, 63, 64, 70] {
                    let raw = format!(
                        "a%2B{}{first}{}{then}z=1",
                        "k".repeat(at - 4),
                        "v".repeat(gap)
                    );
                    let (fast, naive) = fast_and_naive(&raw);
                    assert_eq!(
                        String::from_utf8_lossy(&fast),
                        String::from_utf8_lossy(&naive),
                        "{raw}"
                    );
                }
            }
        }
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
    fn decoded_text_past_the_array_goes_to_the_heap() {
        // Text that is not ASCII and does not fit in the array (`é` a hundred times, 200
        // bytes, after 100 bytes of it), text that is not UTF-8 (lossy, on the heap even
        // when short), and ASCII that no longer fits (decoded when read).
        let raw = format!(
            "b={}&a={}&c=%FF%41&d={}&e=%C3%A9",
            "%C3%A9".repeat(50),
            "%C3%A9".repeat(100),
            "%41+".repeat(100)
        );
        let (fast, naive) = fast_and_naive(&raw);
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&naive)
        );
        let form = Form::parse(raw.as_bytes());
        assert!(form.decoded.len > 0 && !form.decoded.heap.is_empty());
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
