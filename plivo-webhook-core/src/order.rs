//! The order in which a form's pairs were last sorted, remembered per number of pairs.
//!
//! Plivo sends the callbacks of one kind with the same fields in the same order, so the
//! permutation that sorted the last status callback's pairs usually sorts the next one's
//! too. Checking that it does takes one comparison per pair; sorting takes several, with
//! branches that mispredict. A permutation read here is only ever a guess: it is checked
//! to be a permutation, and its result to be sorted, before it is used (see
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
    /// The permutation last remembered for `len` pairs, if it is one.
    #[inline(always)]
    pub(crate) fn get(&self, len: usize) -> Option<Order> {
        let slot = self.slots.get(len)?;
        let mut order = [0u8; INLINE_PAIRS];
        for (bytes, word) in order.chunks_exact_mut(8).zip(slot) {
            bytes.copy_from_slice(&word.load(Relaxed).to_le_bytes());
        }
        is_permutation(order.get(..len)?).then_some(order)
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

/// Whether `order` holds each of `0..order.len()` once (at most 32 of them).
#[inline(always)]
fn is_permutation(order: &[u8]) -> bool {
    if order.is_empty() || order.len() > INLINE_PAIRS {
        return order.is_empty();
    }
    let mut seen = 0u64;
    for &i in order {
        // An index past 63 sets bit 63, which no permutation of 32 pairs has.
        seen |= 1u64 << i.min(63);
    }
    seen == u64::MAX >> (64 - order.len())
}

/// Rearranges `items` so that position `i` holds what was at `order[i]`, following each
/// cycle of the permutation (one move per item). `order` must be a permutation of
/// `0..items.len()`, at most 64 long.
#[inline(always)]
pub(crate) fn permute<T: Copy>(items: &mut [T], order: &[u8]) {
    let mut done = 0u64;
    for start in 0..items.len().min(64) {
        if done & (1 << start) != 0 {
            continue;
        }
        let first = items[start];
        let mut at = start;
        loop {
            done |= 1 << at;
            let from = usize::from(order[at]);
            if from == start {
                items[at] = first;
                break;
            }
            items[at] = items[from];
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_gives_back_only_a_permutation_of_its_length() {
        let orders = Orders::default();
        // Nothing remembered yet: zeros are a permutation of one pair only.
        assert_eq!(orders.get(0).map(|o| o[0]), Some(0));
        assert!(orders.get(1).is_some());
        assert!(orders.get(2).is_none());
        orders.set(&[2, 0, 1]);
        assert_eq!(orders.get(3).map(|o| o[..3].to_vec()), Some(vec![2, 0, 1]));
        // What a racing writer could leave: not a permutation, so not used.
        orders.set(&[2, 2, 1]);
        assert!(orders.get(3).is_none());
        orders.set(&[0, 1, 2, 67]);
        assert!(orders.get(4).is_none());
        let full: Vec<u8> = (0..INLINE_PAIRS as u8).rev().collect();
        orders.set(&full);
        assert_eq!(orders.get(INLINE_PAIRS).map(|o| o.to_vec()), Some(full));
        assert!(orders.get(INLINE_PAIRS + 1).is_none());
    }

    #[test]
    fn permuting_follows_every_cycle() {
        let mut items = [10, 11, 12, 13, 14, 15];
        // Two cycles (0 4 1) (2 5) and a fixed point 3.
        permute(&mut items, &[4, 0, 5, 3, 1, 2]);
        assert_eq!(items, [14, 10, 15, 13, 11, 12]);
    }
}
