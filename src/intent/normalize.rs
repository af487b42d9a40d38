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
                    out.push(Piece::Char(l));
                }
                continue;
            }
        };
        out.push(piece);
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
}
