//! Text as the matcher sees it: lowercase, punctuation gone, one space between words, "’" as
//! "'", hyphens between words as spaces ("twenty-five" = "twenty five"). Applied the same way
//! to what was heard and to template text, so only wording decides a match.

/// Normalises a whole sentence (trimmed).
pub fn sentence(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in chunk(text) {
        match piece {
            Piece::Char(c) => out.push(c),
            Piece::Space if !out.is_empty() && !out.ends_with(' ') => out.push(' '),
            Piece::Space => {}
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// One unit of normalised template text.
#[derive(Debug, PartialEq)]
pub enum Piece {
    Char(char),
    Space,
}

/// Normalises text char by char, keeping where spaces were (for templates, whose leading and
/// trailing spaces matter).
pub fn chunk(text: &str) -> Vec<Piece> {
    chunk_from(text).into_iter().map(|(p, _)| p).collect()
}

/// The part of `original` that normalises to `span` (a wildcard slot, cut from
/// `sentence(original)`), as it was written: case and inner punctuation kept, with a closing
/// `.`, `?` or `!` right after it. `None` if `span` is not in it.
pub fn original_span(original: &str, span: &str) -> Option<String> {
    let pieces = chunk_from(original);
    // The normalised sentence as `sentence` builds it, with each char's source index.
    let mut norm: Vec<(char, usize)> = Vec::with_capacity(pieces.len());
    for (p, at) in pieces {
        match p {
            Piece::Char(c) => norm.push((c, at)),
            Piece::Space if norm.last().is_some_and(|(c, _)| *c != ' ') => norm.push((' ', at)),
            Piece::Space => {}
        }
    }
    let want: Vec<char> = sentence(span).chars().collect();
    if want.is_empty() || want.len() > norm.len() {
        return None;
    }
    let start = (0..=norm.len() - want.len()).find(|&i| {
        norm[i..i + want.len()]
            .iter()
            .map(|(c, _)| *c)
            .eq(want.iter().copied())
    })?;
    let chars: Vec<char> = original.chars().collect();
    let first = norm[start].1;
    let mut last = norm[start + want.len() - 1].1;
    while chars
        .get(last + 1)
        .is_some_and(|c| matches!(c, '.' | '?' | '!'))
    {
        last += 1;
    }
    Some(chars[first..=last].iter().collect())
}

/// [`chunk`], with the index (in chars) of the source char each piece came from.
fn chunk_from(text: &str) -> Vec<(Piece, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let digit_both =
            prev.is_some_and(|p| p.is_ascii_digit()) && next.is_some_and(|n| n.is_ascii_digit());
        let piece = match c {
            c if c.is_whitespace() => Piece::Space,
            '’' | '‘' | '`' => Piece::Char('\''),
            // "7:30" and "2.5" keep their separators; "a.m." loses its dots.
            ':' | '.' | ',' if digit_both => Piece::Char(c),
            '.' if prev.is_some_and(char::is_alphabetic)
                && next.is_some_and(char::is_alphabetic) =>
            {
                continue;
            }
            // A minus in front of a number stays; other hyphens separate words.
            '-' if next.is_some_and(|n| n.is_ascii_digit())
                && !prev.is_some_and(char::is_alphanumeric) =>
            {
                Piece::Char('-')
            }
            '-' | '_' | '—' | '–' | '―' => Piece::Space,
            '.' | ',' | '?' | '!' | ';' | ':' | '"' | '“' | '”' | '¿' | '¡' | '…' | '。' | '，'
            | '、' | '？' | '！' | '；' | '：' | '(' | ')' | '[' | ']' | '«' | '»' | '「'
            | '」' => Piece::Space,
            c => {
                for l in c.to_lowercase() {
                    out.push((Piece::Char(l), i));
                }
                continue;
            }
        };
        out.push((piece, i));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sentences_lose_case_and_punctuation() {
        assert_eq!(super::sentence("  What time is it?  "), "what time is it");
        assert_eq!(
            super::sentence("Set a timer for twenty-five minutes."),
            "set a timer for twenty five minutes"
        );
        assert_eq!(
            super::sentence("Wake me at 7:30 a.m., please!"),
            "wake me at 7:30 am please"
        );
        assert_eq!(
            super::sentence("It’s -5 degrees, 2.5 km"),
            "it's -5 degrees 2.5 km"
        );
        assert_eq!(super::sentence("지금 몇 시야?"), "지금 몇 시야");
    }

    #[test]
    fn a_slot_is_found_as_it_was_written() {
        let o = super::original_span;
        let text = "Send a message to Mom saying: I'll be late, sorry!";
        assert_eq!(
            o(text, "i'll be late sorry").as_deref(),
            Some("I'll be late, sorry!")
        );
        assert_eq!(
            o("Tell Jisoo that I met Dr. Kim", "i met dr kim").as_deref(),
            Some("I met Dr. Kim")
        );
        assert_eq!(
            o("tell mom Are you home?", "are you home").as_deref(),
            Some("Are you home?")
        );
        assert_eq!(
            o("엄마한테 곧 간다고 보내 줘", "곧 간다").as_deref(),
            Some("곧 간다")
        );
        assert_eq!(o("hello there", "goodbye"), None);
    }
}
