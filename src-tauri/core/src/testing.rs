//! Helpers shared by the core's unit tests.

/// A small deterministic generator (xorshift64): each call gives a number in `0..n`.
pub(crate) fn xorshift(seed: u64) -> impl FnMut(usize) -> usize {
    let mut rng = seed;
    move |n| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    }
}
