//! HMAC-SHA256 (RFC 2104) streamed from a stack buffer through SHA-256's compression
//! function (`sha2::compress256`, SHA-NI where the CPU has it).
//!
//! The `hmac` crate's `Hmac<Sha256>` copies every input a second time into its block
//! buffer and is cloned whole (about 230 bytes) for each request. Here each token's two
//! keyed states, after the inner and the outer pad block, are computed once
//! ([`HmacKey`]); a request copies only the 32-byte inner state, and [`BufferedMac`]
//! compresses the signing string's blocks where the pieces were gathered, several per
//! call (SHA-NI's state is loaded and stored once per call), adding the padding itself.
//! The result is compared with the `hmac` crate's in the tests below, and every
//! verification test compares it with the test signer's, which uses the crate.

use std::ops::Range;

use arrayvec::ArrayVec;
use sha2::digest::generic_array::GenericArray;
use sha2::digest::typenum::U64;
use sha2::{compress256, Digest, Sha256};

use super::{encode, ENCODED_LEN};
use crate::form::{copy_short, Form, Sink, INLINE_PAIRS};

/// SHA-256's initial hash value (FIPS 180-4, section 5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// A block of SHA-256.
const BLOCK: usize = 64;

/// One token's HMAC-SHA256 key: the states after the inner and the outer pad block.
#[derive(Clone)]
pub(crate) struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacKey(***)")
    }
}

impl HmacKey {
    /// Keys HMAC-SHA256 with `key` (hashed first when longer than a block, as RFC 2104
    /// says).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let keyed = |pad: u8| {
            let mut state = IV;
            compress(&mut state, &block.map(|b| b ^ pad));
            state
        };
        HmacKey {
            inner: keyed(0x36),
            outer: keyed(0x5c),
        }
    }
}

fn compress(state: &mut [u32; 8], block: &[u8; BLOCK]) {
    compress256(
        state,
        std::slice::from_ref(<&GenericArray<u8, _>>::from(block)),
    );
}

/// Compresses the whole blocks of `data` with one call: SHA-256's state is loaded and
/// stored once for all of them, not once per block.
fn compress_blocks(state: &mut [u32; 8], data: &[u8]) {
    // An empty block buffer hands whole blocks straight to the closure, as a slice.
    let mut blocks = block_buffer::EagerBuffer::<U64>::default();
    blocks.digest_blocks(data, |blocks| compress256(state, blocks));
}

/// Bytes gathered before they must be compressed. A status callback's signing string is
/// 400 to 700 bytes (the fixtures): it fits whole, so that `verify` takes a POST's
/// parameters from where they were hashed instead of decoding them again. With 512, the
/// fixture of a delivered SMS (476 bytes of parameters) did not fit: 1,024 made its `check`
/// 7% faster, `verify` 17% and `verify_as::<MessageStatus>` 14%, and the benchmark's
/// smaller callback's `check` 1% slower (zeroing the larger buffer); AMD EPYC (Zen 4),
/// the two builds run side by side.
const BUFFERED: usize = 1024;
/// Room past [`BUFFERED`] for copies that overrun a piece by up to 32 bytes (see
/// [`Sink::put_within`]). The bytes kept never exceed `BUFFERED`.
const SLACK: usize = 32;

/// The buffer of a [`BufferedMac`].
pub(crate) type MacBuffer = [u8; BUFFERED + SLACK];

/// An HMAC-SHA256 being computed over pieces gathered in the caller's buffer: the
/// signing string arrives in many small pieces, and copying them into a buffer costs
/// less than hashing them one by one. Whole blocks are compressed where they lie.
pub(crate) struct BufferedMac<'b> {
    state: [u32; 8],
    key: &'b HmacKey,
    /// The caller's: moving a `BufferedMac` does not copy the buffer.
    buf: &'b mut MacBuffer,
    /// Bytes in `buf`.
    len: usize,
    /// Bytes of `buf` already compressed (whole blocks).
    hashed: usize,
    /// Bytes compressed before those in `buf`.
    earlier: u64,
    /// Where in `buf` the pairs of a form were written by [`Sink::put_form`], while they
    /// are still there.
    form_at: Option<Range<usize>>,
    /// Where each pair's key and value end, from the start of `form_at`, when asked for.
    ends: Option<&'b mut PairEnds>,
}

/// Where each pair's key and value end in the text of a form's pairs, back to back: for
/// the parameters of a verified request, taken from the buffer they were hashed in. More
/// than [`INLINE_PAIRS`] are not noted (see [`BufferedMac::note_pairs`]).
pub(crate) type PairEnds = ArrayVec<[u32; 2], INLINE_PAIRS>;

impl<'b> BufferedMac<'b> {
    pub(crate) fn new(key: &'b HmacKey, buf: &'b mut MacBuffer) -> Self {
        BufferedMac {
            state: key.inner,
            key,
            buf,
            len: 0,
            hashed: 0,
            earlier: 0,
            form_at: None,
            ends: None,
        }
    }

    /// Notes in `ends` where the pairs fed with [`Sink::put_form`] end, as it copies them
    /// (cleared first). Past [`INLINE_PAIRS`] pairs, `ends` holds fewer than the form.
    pub(crate) fn note_pairs(&mut self, ends: &'b mut PairEnds) {
        ends.clear();
        self.ends = Some(ends);
    }

    /// Where the pairs of the form fed with [`Sink::put_form`] lie in the buffer, decoded
    /// and back to back, if they were written there whole and not moved since.
    pub(crate) fn form_at(&self) -> Option<Range<usize>> {
        self.form_at.clone()
    }

    /// Compresses the whole blocks gathered.
    fn absorb(&mut self) {
        let whole = (self.len - self.hashed) / BLOCK * BLOCK;
        if whole > 0 {
            compress_blocks(
                &mut self.state,
                self.buf
                    .get(self.hashed..self.hashed + whole)
                    .unwrap_or_default(),
            );
            self.hashed += whole;
        }
    }

    /// Makes room for `n` more bytes when it can: compresses the whole blocks and moves
    /// the rest (less than a block) to the front. Returns whether `n` bytes fit.
    fn room_for(&mut self, n: usize) -> bool {
        if self.len + n > BUFFERED {
            self.form_at = None;
            self.absorb();
            self.buf.copy_within(self.hashed..self.len, 0);
            self.earlier += self.hashed as u64;
            self.len -= self.hashed;
            self.hashed = 0;
        }
        self.len + n <= BUFFERED
    }

    /// The MAC, as standard base64.
    pub(crate) fn finish(mut self) -> [u8; ENCODED_LEN] {
        // The inner hash covers the pad block, then the message.
        let bits = (BLOCK as u64 + self.earlier + self.len as u64) * 8;
        // The padding (0x80, zeros, the length in bits) ends the last block: at most 72
        // bytes past the message. Written after it in the buffer when they fit there, so
        // that the blocks left are compressed with one call.
        let end = self.hashed + (self.len - self.hashed + 9).div_ceil(BLOCK) * BLOCK;
        let (len, hashed) = (self.len, self.hashed);
        match self
            .buf
            .get_mut(len..)
            .and_then(<[u8]>::first_chunk_mut::<{ BLOCK + 8 }>)
        {
            Some(padding) => {
                *padding = [0; BLOCK + 8];
                padding[0] = 0x80;
                if let Some(length) = self.buf.get_mut(end - 8..end) {
                    length.copy_from_slice(&bits.to_be_bytes());
                }
                compress_blocks(
                    &mut self.state,
                    self.buf.get(hashed..end).unwrap_or_default(),
                );
            }
            None => {
                self.absorb();
                let tail = self.buf.get(self.hashed..self.len).unwrap_or_default();
                let mut last = [0u8; 2 * BLOCK];
                last[..tail.len()].copy_from_slice(tail);
                last[tail.len()] = 0x80;
                let end = (tail.len() + 9).div_ceil(BLOCK) * BLOCK;
                last[end - 8..end].copy_from_slice(&bits.to_be_bytes());
                compress_blocks(&mut self.state, &last[..end]);
            }
        }
        let mut outer = [0u8; BLOCK];
        for (bytes, word) in outer.chunks_exact_mut(4).zip(self.state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        outer[32] = 0x80;
        outer[BLOCK - 8..].copy_from_slice(&((BLOCK as u64 + 32) * 8).to_be_bytes());
        let mut state = self.key.outer;
        compress(&mut state, &outer);
        let mut mac = [0u8; 32];
        for (bytes, word) in mac.chunks_exact_mut(4).zip(state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        encode(&mac)
    }
}

impl BufferedMac<'_> {
    /// [`Sink::put`] when the bytes do not fit in the buffer's room: the whole blocks are
    /// compressed and the rest moved to the front first, a buffer's worth at a time (one
    /// piece, unless the bytes are longer than the buffer).
    #[inline(never)]
    fn put_cold(&mut self, bytes: &[u8]) {
        for piece in bytes.chunks(BUFFERED - BLOCK) {
            self.room_for(piece.len());
            self.buf[self.len..self.len + piece.len()].copy_from_slice(piece);
            self.len += piece.len();
        }
    }
}

impl Sink for BufferedMac<'_> {
    /// Inlined: most pieces are short and fit (the URL's parts, the separators, the nonce).
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        match self
            .buf
            .get_mut(self.len..BUFFERED)
            .and_then(|room| room.get_mut(..bytes.len()))
        {
            Some(dst) => {
                copy_short(dst, bytes);
                self.len += bytes.len();
            }
            None => self.put_cold(bytes),
        }
    }

    /// Pieces of up to 32 bytes that are followed by enough of `src` are copied as two
    /// whole 16-byte blocks: the bytes past the piece land in the slack and are overwritten
    /// by the next piece, which costs less than copying exactly. Longer pieces are copied
    /// exactly.
    #[inline(always)]
    fn put_within(&mut self, src: &[u8], start: usize, end: usize) {
        let n = end.saturating_sub(start);
        match src.get(start..).and_then(<[u8]>::first_chunk::<32>) {
            Some(whole) if n <= 32 => {
                self.room_for(n);
                // len + n <= BUFFERED and 32 <= SLACK: always in bounds.
                if let Some(dst) = self
                    .buf
                    .get_mut(self.len..)
                    .and_then(<[u8]>::first_chunk_mut::<32>)
                {
                    *dst = *whole;
                }
                self.len += n;
            }
            _ => self.put(src.get(start..end).unwrap_or_default()),
        }
    }

    /// The parameters straight into the buffer, with the write position in a register.
    #[inline(always)]
    fn put_form(&mut self, form: &Form<'_>) {
        if self.room_for(form.decoded_len_bound()) {
            // The block copies' overrun (at most 32 bytes) lands in the slack. Blocks are
            // compressed two at a time as they are completed, so that the CPU hashes while
            // it copies, and SHA-256's state is loaded and stored once per two blocks. (One
            // block per call measured 3.5% slower for `check`, three 3.8% slower, and all
            // of them at the end 4.4% slower: Intel Xeon, the two builds run side by side.)
            let BufferedMac {
                state,
                buf,
                len,
                hashed,
                form_at,
                ends,
                ..
            } = self;
            let start = *len;
            *len = form.copy_pairs(&mut buf[..], *len, |out, _, value, end| {
                if let Some(blocks) = out
                    .get(*hashed..end)
                    .and_then(<[u8]>::first_chunk::<{ 2 * BLOCK }>)
                {
                    compress_blocks(state, blocks);
                    *hashed += 2 * BLOCK;
                }
                if let Some(ends) = ends {
                    // Positions in the buffer: they fit.
                    let _ = ends.try_push([(value - start) as u32, (end - start) as u32]);
                }
            });
            *form_at = Some(start..*len);
        } else {
            form.feed(self, b"", b"");
        }
    }

    /// Decodes escaped text straight into the buffer.
    fn put_escaped(&mut self, raw: &[u8]) {
        // Decoding never lengthens text.
        if self.room_for(raw.len()) {
            self.len += crate::form::decode_into(raw, &mut self.buf[self.len..]);
        } else {
            crate::form::feed_escaped(raw, &mut |b: &[u8]| self.put(b));
        }
    }
}

#[cfg(test)]
mod tests {
    use ::hmac::Mac;

    use super::*;
    use crate::signature::HmacSha256;

    fn expected(key: &[u8], pieces: &[&[u8]]) -> [u8; ENCODED_LEN] {
        let mut mac = HmacSha256::new_from_slice(key).unwrap();
        for piece in pieces {
            mac.update(piece);
        }
        encode(&mac.finalize().into_bytes().into())
    }

    fn streamed(key: &[u8], pieces: &[&[u8]]) -> [u8; ENCODED_LEN] {
        let key = HmacKey::new(key);
        let mut buf = [0; BUFFERED + SLACK];
        let mut mac = BufferedMac::new(&key, &mut buf);
        for piece in pieces {
            mac.put(piece);
        }
        mac.finish()
    }

    #[test]
    fn matches_the_hmac_crate_at_every_length_around_the_blocks() {
        let data: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 251) as u8).collect();
        for key_len in [0, 1, 32, 63, 64, 65, 200] {
            let key = &data[..key_len];
            for len in (0..200).chain([447, 448, 456, 511, 512, 513, 1023, 1024, 1025, 1100, 2000])
            {
                let message = &data[..len];
                assert_eq!(
                    streamed(key, &[message]),
                    expected(key, &[message]),
                    "key {key_len}, message {len}"
                );
                // In pieces that cross the buffer's end.
                let (a, b) = message.split_at(len / 3);
                let (b, c) = b.split_at(b.len() / 2);
                assert_eq!(streamed(key, &[a, b, c, a]), expected(key, &[a, b, c, a]));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn pieces_of_any_length_match_the_hmac_crate(
            key in proptest::collection::vec(proptest::num::u8::ANY, 0..100),
            pieces in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..700), 0..12),
        ) {
            let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            proptest::prop_assert_eq!(streamed(&key, &pieces), expected(&key, &pieces));
        }
    }
}
