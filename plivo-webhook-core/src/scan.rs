//! The bytes that structure form data, found 64 at a time.
//!
//! [`masks`] gives, for one 64-byte chunk, a bit per byte for each class the form scanner
//! needs: `&` (ends a pair), `=` (splits it) and the bytes that need decoding (`+`, `%`,
//! or not ASCII). On x86-64 it uses SSE2 byte compares and `pmovmskb`, through
//! `safe_arch`'s safe wrappers (SSE2 is part of the x86-64 baseline); elsewhere a
//! portable loop computes the same bits.

/// Bit `i` of each mask describes byte `i` of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Masks {
    /// `&`.
    pub(crate) amp: u64,
    /// `=`.
    pub(crate) eq: u64,
    /// `+`, `%` or a byte that is not ASCII.
    pub(crate) escaped: u64,
}

/// The masks of one chunk.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn masks(chunk: &[u8; 64]) -> Masks {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };
    let splat = |b: u8| set_splat_i8_m128i(i8::from_ne_bytes([b]));
    let (amp, eq, plus, percent) = (splat(b'&'), splat(b'='), splat(b'+'), splat(b'%'));
    // `pmovmskb` gives the top bit of each byte: the compare results, or for the bytes
    // themselves, whether they are not ASCII.
    // The mask has 16 bits, so the `i32` is never negative.
    let bits = |v: m128i| u64::from(move_mask_i8_m128i(v) as u32);
    let mut out = Masks {
        amp: 0,
        eq: 0,
        escaped: 0,
    };
    for (i, part) in chunk.chunks_exact(16).enumerate() {
        let v = m128i::from(<[u8; 16]>::try_from(part).unwrap_or_default());
        let shift = 16 * i;
        out.amp |= bits(cmp_eq_mask_i8_m128i(v, amp)) << shift;
        out.eq |= bits(cmp_eq_mask_i8_m128i(v, eq)) << shift;
        let escapes = bitor_m128i(
            cmp_eq_mask_i8_m128i(v, plus),
            cmp_eq_mask_i8_m128i(v, percent),
        );
        out.escaped |= bits(bitor_m128i(escapes, v)) << shift;
    }
    out
}

/// The masks of one chunk (portable).
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
pub(crate) fn masks(chunk: &[u8; 64]) -> Masks {
    portable(chunk)
}

/// The masks of one chunk, a byte at a time.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn portable(chunk: &[u8; 64]) -> Masks {
    let mut out = Masks {
        amp: 0,
        eq: 0,
        escaped: 0,
    };
    for (i, &b) in chunk.iter().enumerate() {
        out.amp |= u64::from(b == b'&') << i;
        out.eq |= u64::from(b == b'=') << i;
        out.escaped |= u64::from(b == b'+' || b == b'%' || !b.is_ascii()) << i;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_a_byte_loop() {
        let mut chunk = [0u8; 64];
        for seed in 0u64..2000 {
            for (byte, x) in chunk.iter_mut().zip(crate::test_rng::stream(seed)) {
                *byte = b"a&=+%Z\x80\xff\x00\x01'<*$\x7f"[(x % 15) as usize];
            }
            assert_eq!(masks(&chunk), portable(&chunk), "{chunk:?}");
        }
        let want = Masks {
            amp: 1,
            eq: 2,
            escaped: 0b11100,
        };
        let mut chunk = [b'a'; 64];
        chunk[..5].copy_from_slice(b"&=+%\xc3");
        assert_eq!(portable(&chunk), want);
        assert_eq!(masks(&chunk), want);
    }
}
