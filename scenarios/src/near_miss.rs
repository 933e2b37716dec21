//! Near misses: a magic `account_id` prefix one or two typos away from a scenario name
//! (`declined-decesed.user-1`). Such a create falls back to the default scenario, which is
//! what the account id asks for as written; the server only warns, naming the likely
//! scenario, so the typo shows instead of a test passing for the wrong reason.

/// Edits allowed between a prefix and a scenario name: one for names shorter than 8
/// characters (`sucess`), two for longer ones (`declined-decesed`). Beyond that, an ordinary
/// account id (`user-42`) would start to look like a typo.
fn allowed(name: &str) -> usize {
    if name.len() < 8 { 1 } else { 2 }
}

/// The edit distance (insertions, deletions, substitutions, over bytes) between `a` and
/// `b`, or `None` once it exceeds `limit`. Bounded so that the check every create with an
/// ordinary account id runs stays a few hundred steps per scenario.
pub fn edit_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[b.len()]).filter(|d| *d <= limit)
}

/// The index of the name in `names` that `prefix` most probably meant: the closest within
/// [`allowed`] edits, the first on a tie. `None` when `prefix` is a name itself or is far
/// from all of them, and for prefixes under 4 bytes (too short to tell a typo from an id).
pub fn closest<'a>(prefix: &str, names: impl IntoIterator<Item = &'a str>) -> Option<usize> {
    if prefix.len() < 4 {
        return None;
    }
    let mut best: Option<(usize, usize)> = None;
    for (i, name) in names.into_iter().enumerate() {
        match edit_distance(prefix, name, allowed(name)) {
            Some(0) => return None,
            Some(d) if best.is_none_or(|(_, b)| d < b) => best = Some((i, d)),
            _ => {}
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_the_textbook_cases() {
        assert_eq!(edit_distance("kitten", "sitting", 5), Some(3));
        assert_eq!(edit_distance("kitten", "sitting", 2), None);
        assert_eq!(edit_distance("", "abc", 3), Some(3));
        assert_eq!(
            edit_distance("declined-decesed", "declined-deceased", 2),
            Some(1)
        );
    }

    #[test]
    fn typos_find_their_scenario_and_ids_find_none() {
        let names = ["success", "declined-deceased", "declined-face-mismatch"];
        assert_eq!(closest("declined-decesed", names), Some(1));
        assert_eq!(closest("sucess", names), Some(0));
        assert_eq!(closest("declined-deceased", names), None);
        assert_eq!(closest("user-42", names), None);
        assert_eq!(closest("succ", names), None);
        assert_eq!(closest("abc", names), None);
    }

    /// The textbook definition, unbounded: what the bounded one must agree with.
    fn reference(a: &[u8], b: &[u8]) -> usize {
        if a.is_empty() || b.is_empty() {
            return a.len().max(b.len());
        }
        let sub = reference(&a[1..], &b[1..]) + usize::from(a[0] != b[0]);
        sub.min(reference(&a[1..], b) + 1)
            .min(reference(a, &b[1..]) + 1)
    }

    proptest::proptest! {
        #[test]
        fn bounded_distance_agrees_with_the_definition(
            a in "[a-d]{0,6}", b in "[a-d]{0,6}", limit in 0usize..4,
        ) {
            let d = reference(a.as_bytes(), b.as_bytes());
            proptest::prop_assert_eq!(edit_distance(&a, &b, limit), (d <= limit).then_some(d));
        }
    }
}
