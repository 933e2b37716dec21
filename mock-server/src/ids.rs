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

impl fmt::Display for ValidationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VLD{:032x}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a validation_id is `VLD` followed by 32 lowercase hex digits")]
pub struct InvalidValidationId;

impl FromStr for ValidationId {
    type Err = InvalidValidationId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s.strip_prefix("VLD").ok_or(InvalidValidationId)?;
        if hex.len() != 32
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(InvalidValidationId);
        }
        u128::from_str_radix(hex, 16)
            .map(ValidationId)
            .map_err(|_| InvalidValidationId)
    }
}

impl serde::Serialize for ValidationId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
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
        fn parse_never_panics(s in "\\PC{0,64}") {
            let _ = s.parse::<ValidationId>();
        }
    }
}
