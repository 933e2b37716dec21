//! The set of scenarios a server knows, and how a request picks one.
//!
//! Lookup by index ([`ScenarioId`]) keeps the per-validation record small: the store keeps a
//! `u16`, not a name or a clone.

use std::time::Duration;

use crate::format::{FormatErrors, parse_scenarios};
use crate::model::Scenario;
use crate::rng;

/// Index of a scenario in its [`Catalogue`].
pub type ScenarioId = u16;

/// The built-in scenario files, embedded so `serve` works with no files on disk.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "scenarios/catalogue/outcomes.toml",
        include_str!("../catalogue/outcomes.toml"),
    ),
    (
        "scenarios/catalogue/faults.toml",
        include_str!("../catalogue/faults.toml"),
    ),
];

/// The name of the scenario used when nothing selects another.
pub const DEFAULT_SCENARIO: &str = "success";

#[derive(Debug, Clone)]
pub struct Catalogue {
    scenarios: Vec<Scenario>,
}

impl Catalogue {
    /// The built-in catalogue. Panics only if the embedded files are invalid, which the test
    /// suite rules out (`builtin_catalogue_parses`).
    pub fn builtin() -> Self {
        let mut scenarios = Vec::new();
        for (file, src) in BUILTIN_FILES {
            match parse_scenarios(file, src) {
                Ok(s) => scenarios.extend(s),
                Err(e) => panic!("built-in scenario file is invalid: {e}"),
            }
        }
        Catalogue { scenarios }
    }

    /// Sets how long the `success` scenario stays pending (the `--pending-for` option).
    pub fn with_pending_for(mut self, pending_for: Duration) -> Self {
        if let Some(s) = self
            .scenarios
            .iter_mut()
            .find(|s| s.name == DEFAULT_SCENARIO)
        {
            *s = Scenario {
                description: s.description.clone(),
                ..Scenario::success_after(DEFAULT_SCENARIO, pending_for)
            };
        }
        self
    }

    /// Adds scenarios from a user file. A scenario with a built-in's name replaces it.
    pub fn load_file(&mut self, file: &str, src: &str) -> Result<usize, FormatErrors> {
        let parsed = parse_scenarios(file, src)?;
        let n = parsed.len();
        for s in parsed {
            match self.scenarios.iter_mut().find(|e| e.name == s.name) {
                Some(existing) => *existing = s,
                None => self.scenarios.push(s),
            }
        }
        Ok(n)
    }

    pub fn len(&self) -> usize {
        self.scenarios.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scenarios.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (ScenarioId, &Scenario)> {
        self.scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| (i as ScenarioId, s))
    }

    pub fn get(&self, id: ScenarioId) -> &Scenario {
        &self.scenarios[usize::from(id).min(self.scenarios.len() - 1)]
    }

    pub fn id_of(&self, name: &str) -> Option<ScenarioId> {
        self.scenarios
            .iter()
            .position(|s| s.name == name)
            .map(|i| i as ScenarioId)
    }

    /// The scenario chosen by a magic `account_id`: the whole value is a scenario name, or it
    /// starts with `<name>.` (so `declined-deceased.user-42` picks `declined-deceased`).
    /// Anything else is an ordinary account id and selects nothing.
    pub fn from_account_id(&self, account_id: &str) -> Option<ScenarioId> {
        let prefix = account_id.split_once('.').map_or(account_id, |(p, _)| p);
        self.id_of(prefix)
    }

    /// The scenario a magic `account_id` probably meant when its prefix names none: a prefix
    /// a typo or two from a name (`declined-decesed.user-1` → `declined-deceased`). It
    /// selects nothing (the create gets what it would have got); the server warns with it.
    pub fn near_miss_account_id(&self, account_id: &str) -> Option<ScenarioId> {
        let prefix = account_id.split_once('.').map_or(account_id, |(p, _)| p);
        crate::near_miss::closest(prefix, self.scenarios.iter().map(|s| s.name.as_str()))
            .map(|i| i as ScenarioId)
    }

    /// The scenario a test identity's document number selects (digits only, as the document
    /// rule leaves them); an ordinary number selects nothing. See [`crate::identities`].
    pub fn from_document_number(&self, digits: &str) -> Option<ScenarioId> {
        crate::identities::lookup(digits).and_then(|row| self.id_of(row.scenario))
    }

    /// Names, comma-separated, for error messages.
    pub fn names(&self) -> String {
        self.scenarios
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A weighted mix of scenarios (`success=70,declined-face-mismatch=20,expired-not-finished=10`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    entries: Vec<(ScenarioId, u32)>,
    total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MixError {
    #[error("mix entry `{0}` is not NAME=WEIGHT (e.g. success=70)")]
    Syntax(String),
    #[error("mix weight `{0}` is not a whole number")]
    Weight(String),
    #[error("unknown scenario `{name}` in mix; known scenarios: {known}")]
    Unknown { name: String, known: String },
    #[error("mix weights add up to 0; give at least one positive weight")]
    Empty,
}

/// A mix as written (`NAME=WEIGHT,…`), checked for syntax but not yet against a catalogue:
/// what a configuration holds before it knows which scenarios exist (a test may swap the
/// catalogue after naming the mix). [`MixSpec::resolve`] turns it into a [`Mix`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixSpec {
    entries: Vec<(String, u32)>,
}

impl std::str::FromStr for MixSpec {
    type Err = MixError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut entries = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| MixError::Syntax(part.to_string()))?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| MixError::Weight(weight.to_string()))?;
            entries.push((name.trim().to_string(), weight));
        }
        if entries.iter().all(|(_, w)| *w == 0) {
            return Err(MixError::Empty);
        }
        Ok(MixSpec { entries })
    }
}

impl std::fmt::Display for MixSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, weight)) in self.entries.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{name}={weight}")?;
        }
        Ok(())
    }
}

impl MixSpec {
    /// The mix over `catalogue`'s scenarios; fails on a name it does not know.
    pub fn resolve(&self, catalogue: &Catalogue) -> Result<Mix, MixError> {
        let entries = self
            .entries
            .iter()
            .map(|(name, weight)| {
                let id = catalogue.id_of(name).ok_or_else(|| MixError::Unknown {
                    name: name.clone(),
                    known: catalogue.names(),
                })?;
                Ok((id, *weight))
            })
            .collect::<Result<Vec<_>, MixError>>()?;
        let total = entries.iter().map(|(_, w)| u64::from(*w)).sum();
        Ok(Mix { entries, total })
    }
}

impl Mix {
    /// Parses and resolves `spec` in one step.
    pub fn parse(spec: &str, catalogue: &Catalogue) -> Result<Self, MixError> {
        spec.parse::<MixSpec>()?.resolve(catalogue)
    }

    /// Draws a scenario for the validation with creation number `seq`.
    pub fn pick(&self, seed: u64, seq: u64) -> ScenarioId {
        let mut x = rng::derive(seed, &[0x004D_4958, seq]) % self.total;
        for (id, w) in &self.entries {
            if x < u64::from(*w) {
                return *id;
            }
            x -= u64::from(*w);
        }
        self.entries[0].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_parses() {
        let c = Catalogue::builtin();
        assert!(c.len() >= 17, "catalogue has {} scenarios", c.len());
        assert!(c.id_of(DEFAULT_SCENARIO).is_some());
    }

    #[test]
    fn magic_account_ids() {
        let c = Catalogue::builtin();
        let deceased = c.id_of("declined-deceased").unwrap();
        assert_eq!(c.from_account_id("declined-deceased"), Some(deceased));
        assert_eq!(
            c.from_account_id("declined-deceased.user-42"),
            Some(deceased)
        );
        assert_eq!(c.from_account_id("user-42"), None);
        assert_eq!(c.from_account_id("declined-deceasedx"), None);
        // ... but it is a near miss, as is the typo of the issue that asked for warnings.
        assert_eq!(c.near_miss_account_id("declined-deceasedx"), Some(deceased));
        assert_eq!(
            c.near_miss_account_id("declined-decesed.user-1"),
            Some(deceased)
        );
        assert_eq!(c.near_miss_account_id("declined-deceased.user-1"), None);
        assert_eq!(c.near_miss_account_id("user-42"), None);
    }

    #[test]
    fn mix_respects_weights() {
        let c = Catalogue::builtin();
        let mix = Mix::parse("success=3, declined-deceased=1", &c).unwrap();
        let success = c.id_of("success").unwrap();
        let n = 20_000;
        let hits = (0..n).filter(|i| mix.pick(42, *i) == success).count();
        let share = hits as f64 / n as f64;
        assert!((0.72..0.78).contains(&share), "success share {share}");
    }

    #[test]
    fn mix_errors_are_clear() {
        let c = Catalogue::builtin();
        assert_eq!(
            Mix::parse("success", &c),
            Err(MixError::Syntax("success".into()))
        );
        assert!(matches!(
            Mix::parse("nope=1", &c),
            Err(MixError::Unknown { .. })
        ));
        assert_eq!(Mix::parse("success=0", &c), Err(MixError::Empty));
    }

    proptest::proptest! {
        /// A spec written back out parses to the same spec.
        #[test]
        fn mix_spec_round_trips(
            entries in proptest::collection::vec(("[a-z][a-z-]{0,12}", 1u32..1000), 1..5)
        ) {
            let text = entries
                .iter()
                .map(|(n, w)| format!("{n}={w}"))
                .collect::<Vec<_>>()
                .join(", ");
            let spec: MixSpec = text.parse().unwrap();
            proptest::prop_assert_eq!(spec.to_string().parse::<MixSpec>(), Ok(spec));
        }
    }
}
