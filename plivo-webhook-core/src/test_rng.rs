//! Reproducible pseudo-random numbers for unit tests (xorshift64), one stream per seed.

/// An endless stream of numbers determined by `seed`.
pub(crate) fn stream(seed: u64) -> impl Iterator<Item = u64> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    std::iter::repeat_with(move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    })
}
