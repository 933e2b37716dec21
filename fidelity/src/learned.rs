//! The personal values a recording has learned (document numbers, names), and a search for all
//! of them at once whose cost does not grow with the recording.
//!
//! A recording of a load run learns thousands of values, one or two per create, and every text
//! of every later exchange is searched for all of them. Searching value by value made each
//! exchange cost more than the last. Here the values sit in Aho–Corasick automata, so a text
//! is scanned once per automaton whatever the number of values in it; and since a value is
//! learned on almost every create, the automata are not all rebuilt on each one. The newest
//! values (fewer than [`PENDING`]) are searched one by one; once there are [`PENDING`] of them
//! they become an automaton, and the automata are kept like a binary counter (sizes 8, 16,
//! 32, … values): two of the same size are merged into one. A value is rebuilt into a larger
//! automaton at most log₂(n/8) times, and a text is scanned by one automaton per 1 bit of n/8
//! (at most log₂(n/8) + 1; 6 for 1,000 values), each scan linear in the text.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

/// How many new values are searched one by one before they are built into an automaton:
/// building one costs about as much as redacting a whole exchange.
const PENDING: usize = 8;

/// One automaton and the values it was built from (kept to rebuild it when merging).
#[derive(Debug)]
struct Level {
    values: Vec<String>,
    /// `None` only if the automaton could not be built (a pattern set too large for its
    /// state ids); the values are then searched one by one rather than left unredacted.
    automaton: Option<AhoCorasick>,
}

impl Level {
    fn new(values: Vec<String>) -> Self {
        // A contiguous NFA: a few times cheaper to build than the DFA the crate picks for
        // small sets, and a value is learned (and small automata rebuilt) on every create.
        let built = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&values);
        let automaton = match built {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!("learned values searched one by one: {e}");
                None
            }
        };
        Level { values, automaton }
    }

    /// Every occurrence of every value, overlapping ones included, as byte ranges.
    fn find_all(&self, text: &str, out: &mut Vec<(usize, usize)>) {
        match &self.automaton {
            Some(a) => out.extend(a.find_overlapping_iter(text).map(|m| (m.start(), m.end()))),
            None => {
                for v in &self.values {
                    out.extend(
                        text.match_indices(v.as_str())
                            .map(|(i, _)| (i, i + v.len())),
                    );
                }
            }
        }
    }
}

/// The learned values of one recording.
#[derive(Debug, Default)]
pub struct LearnedValues {
    seen: HashSet<String>,
    /// The newest values, not yet in an automaton (fewer than [`PENDING`]).
    pending: Vec<String>,
    /// Sizes strictly decreasing from the first to the last.
    levels: Vec<Level>,
}

impl LearnedValues {
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Adds `value` (a value already known costs a hash lookup).
    pub fn insert(&mut self, value: &str) {
        if value.is_empty() || !self.seen.insert(value.to_string()) {
            return;
        }
        self.pending.push(value.to_string());
        if self.pending.len() < PENDING {
            return;
        }
        let mut carry = std::mem::take(&mut self.pending);
        while self
            .levels
            .last()
            .is_some_and(|top| top.values.len() <= carry.len())
        {
            if let Some(top) = self.levels.pop() {
                carry.extend(top.values);
            }
        }
        self.levels.push(Level::new(carry));
    }

    /// `text` with every occurrence of a learned value replaced by `with`. Where occurrences
    /// overlap, the leftmost wins, and of those starting there the longest (a full name goes
    /// before the first name inside it).
    pub fn replace_all(&self, text: &str, with: &str) -> String {
        let mut found = Vec::new();
        for v in &self.pending {
            found.extend(
                text.match_indices(v.as_str())
                    .map(|(i, _)| (i, i + v.len())),
            );
        }
        for level in &self.levels {
            level.find_all(text, &mut found);
        }
        if found.is_empty() {
            return text.to_string();
        }
        found.sort_unstable_by_key(|&(start, end)| (start, std::cmp::Reverse(end)));
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for (start, end) in found {
            if start < copied {
                continue;
            }
            out.push_str(&text[copied..start]);
            out.push_str(with);
            copied = end;
        }
        out.push_str(&text[copied..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learned(values: &[&str]) -> LearnedValues {
        let mut l = LearnedValues::default();
        values.iter().for_each(|v| l.insert(v));
        l
    }

    #[test]
    fn the_longest_value_at_a_place_wins_and_overlaps_go_whole() {
        let l = learned(&["Ana", "Ana María", "María Gómez", "1020304050"]);
        assert_eq!(
            l.replace_all("Ana María Gómez, CC 1020304050; Ana", "[r]"),
            "[r] Gómez, CC [r]; [r]"
        );
        assert_eq!(l.replace_all("nothing here", "[r]"), "nothing here");
    }

    #[test]
    fn levels_stay_logarithmic_and_every_value_is_still_found() {
        let values: Vec<String> = (0..1000).map(|i| format!("doc{i:05}x")).collect();
        let mut l = LearnedValues::default();
        for v in &values {
            l.insert(v);
            l.insert(v); // a repeat changes nothing
        }
        assert_eq!(l.len(), 1000);
        // 1000 / 8 = 125 = 0b1111101: one automaton per set bit, none pending.
        assert_eq!(l.levels.len(), 6);
        assert!(l.pending.is_empty());
        for v in values.iter().step_by(37) {
            assert_eq!(l.replace_all(&format!("<{v}>"), "[r]"), "<[r]>");
        }
    }
}
