//! "Did you mean …?": near matches for a name the user typed (an account
//! id, a column name, a case id), for error messages that say what to do.

/// Up to three of `candidates` close to `wanted`, best first: the same name
/// in another case or with `_`, `-` and spaces ignored (alone, when there
/// is one), else names within a small edit distance (one edit per four
/// characters, at most three).
pub fn near_matches<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let key = fold(wanted);
    let limit = (wanted.chars().count() / 4).clamp(1, 3);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter(|c| *c != wanted)
        .filter_map(|c| {
            let folded = fold(c);
            if folded == key {
                return Some((0, c));
            }
            let d = distance(&folded, &key);
            (d <= limit).then_some((d, c))
        })
        .collect();
    scored.sort_unstable();
    scored.dedup_by(|a, b| a.1 == b.1);
    // The same name but for case and separators is the answer on its own.
    if scored.first().is_some_and(|(d, _)| *d == 0) {
        scored.retain(|(d, _)| *d == 0);
    }
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// ` (did you mean `A` or `B`?)`, or nothing when there is no near match.
pub fn did_you_mean<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let found = near_matches(wanted, candidates);
    if found.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = found.iter().map(|c| format!("`{c}`")).collect();
    format!(" (did you mean {}?)", quoted.join(" or "))
}

fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_case_is_the_best_match() {
        let ids = ["ACC-0034", "ACC-0035", "ACC-0036"];
        assert_eq!(near_matches("acc-0035", ids), ["ACC-0035"]);
        assert_eq!(
            did_you_mean("Created_At", ["case_id", "created_at", "closed_at"]),
            " (did you mean `created_at`?)"
        );
    }

    #[test]
    fn typos_within_the_limit_are_suggested_and_others_are_not() {
        assert_eq!(
            near_matches("creatd_at", ["created_at", "closed_at"]),
            ["created_at"]
        );
        assert!(near_matches("x", ["created_at"]).is_empty());
        assert_eq!(did_you_mean("zzzz", ["created_at"]), "");
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abc", "abc"), 0);
    }
}
