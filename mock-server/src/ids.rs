//! Validation and account ids: `VLD` / `ACC` followed by 32 lowercase hex digits, as Truora
//! writes them. Stored as a `u128` so lookups hash 16 bytes, not a string.

use std::fmt;
use std::str::FromStr;

use truidentidad_scenarios::rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValidationId(pub u128);

impl ValidationId {
    /// The id of the `seq`-th validation under `seed`: reproducible for a given seed.
    pub fn derive(seed: u64, seq: u64) -> Self {
        ValidationId(derive128(seed, 0x0056_4C44, seq))
    }

    /// A shard index in `0..shards` (a power of two).
    pub fn shard(self, shards: usize) -> usize {
        (self.0 as usize) & (shards - 1)
    }
}

fn derive128(seed: u64, tag: u64, seq: u64) -> u128 {
    let hi = rng::derive(seed, &[tag, seq, 1]);
    let lo = rng::derive(seed, &[tag, seq, 2]);
    (u128::from(hi) << 64) | u128::from(lo)
}

/// A generated `account_id` (`ACC` + 32 hex) for creates that send none.
pub fn derive_account_id(seed: u64, seq: u64) -> String {
    format!("ACC{:032x}", derive128(seed, 0x0041_4343, seq))
}

impl ValidationId {
    /// The id's text, `VLD` and 32 lowercase hex digits, without going through `fmt`: it is
    /// written into every API response and journal line.
    pub fn encode(self) -> [u8; 35] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 35];
        out[..3].copy_from_slice(b"VLD");
        // Two digits per byte: shifting the whole `u128` once per digit cost about 700
        // instructions per id, on every create and poll (BENCHMARKS.md §1).
        for (i, byte) in self.0.to_be_bytes().into_iter().enumerate() {
            out[3 + 2 * i] = HEX[usize::from(byte >> 4)];
            out[4 + 2 * i] = HEX[usize::from(byte & 0xf)];
        }
        out
    }
}

impl fmt::Display for ValidationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.encode();
        // Only ASCII digits, letters and `VLD` are written above.
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

/// Hashes validation ids for the store's maps. Ids are already uniformly random 128-bit
/// values drawn by the mock itself, so folding them with one multiply spreads them as well as
/// SipHash would, at a fraction of the cost on every create and poll. (Clients cannot choose
/// the ids that get stored, so hash flooding is not a concern here.)
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not reached for `ValidationId` (it hashes through `write_u128`); kept correct for
        // any other key.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64 ^ (n >> 64) as u64);
    }
}

/// `BuildHasher` for maps keyed by [`ValidationId`].
pub type IdHashBuilder = std::hash::BuildHasherDefault<IdHasher>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a validation_id is `VLD` followed by 32 lowercase hex digits")]
pub struct InvalidValidationId;

impl ValidationId {
    /// Parses an id as it appears in a request path, percent-decoded first: `%56LD…` is
    /// `VLD…` (RFC 3986 makes the two the same path), so a client whose HTTP library encodes
    /// more than it must still reaches its validation.
    pub fn from_path(raw: &str) -> Result<Self, InvalidValidationId> {
        if !raw.contains('%') {
            return raw.parse();
        }
        percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| InvalidValidationId)?
            .parse()
    }
}

impl FromStr for ValidationId {
    type Err = InvalidValidationId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s.strip_prefix("VLD").ok_or(InvalidValidationId)?.as_bytes();
        if hex.len() != 32 {
            return Err(InvalidValidationId);
        }
        // Two 64-bit halves, digit by digit: `u128::from_str_radix` (overflow checks on
        // 128-bit arithmetic) cost about 1,000 instructions per poll.
        let (hi, lo) = hex.split_at(16);
        let hi = u128::from(hex_u64(hi).ok_or(InvalidValidationId)?);
        let lo = u128::from(hex_u64(lo).ok_or(InvalidValidationId)?);
        Ok(ValidationId(hi << 64 | lo))
    }
}

/// Sixteen lowercase hex digits as a number (at most 16, so it cannot overflow); `None` on
/// any other byte.
fn hex_u64(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |n, &b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        Some(n << 4 | u64::from(d))
    })
}

impl serde::Serialize for ValidationId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.encode();
        match std::str::from_utf8(&text) {
            Ok(t) => s.serialize_str(t),
            Err(_) => s.collect_str(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn format_matches_truora() {
        let id = ValidationId::derive(1, 0).to_string();
        assert_eq!(id.len(), 35);
        assert!(id.starts_with("VLD"));
        assert_eq!(id.parse::<ValidationId>().unwrap().to_string(), id);
        let acc = derive_account_id(1, 0);
        assert_eq!(acc.len(), 35);
        assert!(acc.starts_with("ACC"));
    }

    #[test]
    fn rejects_near_misses() {
        for bad in [
            "",
            "VLD",
            "vld00000000000000000000000000000000",
            "VLD0000000000000000000000000000000",
            "VLD000000000000000000000000000000000",
            "VLD0000000000000000000000000000000G",
            "VLD0000000000000000000000000000000A",
            "VLD+000000000000000000000000000000",
        ] {
            assert!(bad.parse::<ValidationId>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn round_trips(x in any::<u128>()) {
            let id = ValidationId(x);
            prop_assert_eq!(id.to_string().parse::<ValidationId>(), Ok(id));
        }

        #[test]
        fn encoding_matches_the_hex_format(x in any::<u128>()) {
            prop_assert_eq!(ValidationId(x).to_string(), format!("VLD{x:032x}"));
        }

        #[test]
        fn id_hashes_use_every_bit_of_the_id(x in any::<u128>(), bit in 0u32..128) {
            use std::hash::BuildHasher;
            let h = IdHashBuilder::default();
            let flipped = ValidationId(x ^ (1u128 << bit));
            prop_assert_ne!(h.hash_one(ValidationId(x)), h.hash_one(flipped));
        }

        /// The hand-written parser accepts exactly what the old `from_str_radix` one did:
        /// `VLD` and 32 lowercase hex digits, nothing else.
        #[test]
        fn parse_agrees_with_from_str_radix(s in "VLD[0-9a-f]{30,34}|VLD[0-9a-fA-F+ g]{32}") {
            let reference = s
                .strip_prefix("VLD")
                .filter(|h| {
                    h.len() == 32 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                })
                .and_then(|h| u128::from_str_radix(h, 16).ok())
                .map(ValidationId);
            prop_assert_eq!(s.parse::<ValidationId>().ok(), reference);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,64}") {
            let _ = s.parse::<ValidationId>();
        }
    }
}
