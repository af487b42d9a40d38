//! Small text helpers shared across modules.

/// Levenshtein distance in chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// True if `heard` differs from `name` in at most 40 % of the letters of the longer of the two:
/// how far whisper's spelling of a name may stray ("Jaravith" for "jarvis", not "David").
pub fn sounds_like(heard: &str, name: &str) -> bool {
    let longest = heard.chars().count().max(name.chars().count());
    edit_distance(heard, name) * 5 <= 2 * longest
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn closest_finds_typos_only() {
        let keys = ["stt.model", "stt.language"];
        assert_eq!(
            super::closest("stt.modle", keys.into_iter()),
            Some("stt.model")
        );
        assert_eq!(super::closest("volume", keys.into_iter()), None);
        assert_eq!(super::edit_distance("소리야", "소리"), 1);
    }

    #[test]
    fn sounds_like_allows_two_letters_in_five() {
        assert!(super::sounds_like("jaravith", "jarvis"));
        assert!(super::sounds_like("sorry", "sori"));
        assert!(!super::sounds_like("david", "jarvis"));
        assert!(!super::sounds_like("stop", "sori"));
    }
}
