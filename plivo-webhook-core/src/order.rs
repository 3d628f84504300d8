//! The order in which a form's pairs were last sorted, remembered per number of pairs.
//!
//! Plivo sends the callbacks of one kind with the same fields in the same order, so the
//! permutation that sorted the last status callback's pairs usually sorts the next one's
//! too. Checking that it does takes one comparison per pair; sorting takes several, with
//! branches that mispredict. What is read here is only ever a guess, used once every pair
//! it puts in place is strictly less than the next (see
//! [`crate::form::Form::sort_remembering`]). Threads that race on a slot can only make
//! that guess wrong, never the order.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::form::INLINE_PAIRS;

/// Bytes of one permutation: an index (a `u8`) per pair.
const WORDS: usize = INLINE_PAIRS / 8;

/// One remembered permutation per number of pairs, from 0 to [`INLINE_PAIRS`].
pub(crate) struct Orders {
    slots: [[AtomicU64; WORDS]; INLINE_PAIRS + 1],
}

/// A permutation of `0..len`: position `i` of the sorted pairs holds the pair that
/// arrived `order[i]`-th.
pub(crate) type Order = [u8; INLINE_PAIRS];

impl Default for Orders {
    fn default() -> Self {
        Orders {
            slots: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
        }
    }
}

impl Orders {
    /// The permutation last remembered for `len` pairs (zeros if none): a guess, which
    /// a racing writer may have torn, so the caller checks what it gives.
    #[inline(always)]
    pub(crate) fn guess(&self, len: usize) -> Order {
        let mut order = [0u8; INLINE_PAIRS];
        if let Some(slot) = self.slots.get(len) {
            for (bytes, word) in order.chunks_exact_mut(8).zip(slot) {
                bytes.copy_from_slice(&word.load(Relaxed).to_le_bytes());
            }
        }
        order
    }

    /// Remembers `order` (a permutation of `0..order.len()`) for its length.
    pub(crate) fn set(&self, order: &[u8]) {
        let Some(slot) = self.slots.get(order.len()) else {
            return;
        };
        let mut padded = [0u8; INLINE_PAIRS];
        padded[..order.len()].copy_from_slice(order);
        for (bytes, word) in padded.chunks_exact(8).zip(slot) {
            let mut le = [0u8; 8];
            le.copy_from_slice(bytes);
            word.store(u64::from_le_bytes(le), Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_gives_back_what_was_remembered_for_its_length() {
        let orders = Orders::default();
        assert_eq!(orders.guess(3), [0; INLINE_PAIRS]);
        orders.set(&[2, 0, 1]);
        assert_eq!(orders.guess(3)[..4], [2, 0, 1, 0]);
        assert_eq!(orders.guess(2), [0; INLINE_PAIRS]);
        let full: Vec<u8> = (0..INLINE_PAIRS as u8).rev().collect();
        orders.set(&full);
        assert_eq!(orders.guess(INLINE_PAIRS).to_vec(), full);
        // Past the last slot: nothing kept, zeros given.
        orders.set(&[0; INLINE_PAIRS + 1]);
        assert_eq!(orders.guess(INLINE_PAIRS + 1), [0; INLINE_PAIRS]);
    }
}
