//! A tiny deterministic random stream.
//!
//! Why not `rand`: its small RNGs explicitly do not promise the same values across releases,
//! and a seed printed in a CI log must reproduce the same ids and outcomes next year. SplitMix64
//! is fully specified, fast, and good enough for ids, weighted draws and jitter.

/// SplitMix64 step: mixes `x` into a well-distributed 64-bit value.
pub fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A value derived from a seed and a path of integers (for example `[validation_seq, poll]`),
/// so every decision is reproducible without shared mutable RNG state between requests.
pub fn derive(seed: u64, path: &[u64]) -> u64 {
    path.iter()
        .fold(mix64(seed), |acc, p| mix64(acc ^ mix64(*p)))
}

/// A float in `[0, 1)` from a derived value.
pub fn unit_f64(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_is_stable_and_path_sensitive() {
        assert_eq!(derive(7, &[1, 2]), derive(7, &[1, 2]));
        assert_ne!(derive(7, &[1, 2]), derive(7, &[2, 1]));
        assert_ne!(derive(7, &[1]), derive(8, &[1]));
        // Pinned value: if this changes, every published seed changes meaning.
        assert_eq!(mix64(0), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn unit_is_in_range() {
        for i in 0..1000 {
            let u = unit_f64(derive(1, &[i]));
            assert!((0.0..1.0).contains(&u));
        }
    }
}
