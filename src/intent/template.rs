//! The hassil template grammar: `(a|b)` alternatives, `[a]` optionals, `(a; b)` permutations,
//! `{list}` / `{list:slot}` slots, `<rule>` expansion rules, `\` escapes, and plain text.
//! Parsing only builds the tree; `compile` resolves lists and rules.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Literal text, as written (normalised when compiled).
    Text(String),
    Seq(Vec<Expr>),
    /// One of; an optional `[a]` is `Alt([a, Seq([])])`.
    Alt(Vec<Expr>),
    /// All of, in any order (`(a; b)`), separated by spaces.
    Perm(Vec<Expr>),
    /// `{list}` or `{list:slot}`.
    List {
        list: String,
        slot: String,
    },
    /// `<rule>`.
    Rule(String),
}

#[derive(Debug, Error, PartialEq)]
#[error("{msg} at column {col} of template \"{template}\"")]
pub struct TemplateError {
    pub template: String,
    pub col: usize,
    pub msg: String,
}

/// Parses one template sentence.
///
/// # Errors
/// Unbalanced brackets or an empty `{}`/`<>`, with the column.
pub fn parse(template: &str) -> Result<Expr, TemplateError> {
    let chars: Vec<char> = template.chars().collect();
    let mut p = Parser {
        chars: &chars,
        pos: 0,
        template,
    };
    let e = p.alternatives(None)?;
    if p.pos < chars.len() {
        return Err(p.err(format!("unexpected '{}'", chars[p.pos])));
    }
    Ok(e)
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
    template: &'a str,
}

impl Parser<'_> {
    fn err(&self, msg: String) -> TemplateError {
        TemplateError {
            template: self.template.to_string(),
            col: self.pos + 1,
            msg,
        }
    }

    /// `a|b;c` up to `close` (or the end): `|` splits alternatives, `;` permutation items.
    fn alternatives(&mut self, close: Option<char>) -> Result<Expr, TemplateError> {
        let mut alts = Vec::new();
        let mut items = vec![self.sequence()?];
        loop {
            match self.chars.get(self.pos) {
                Some('|') => {
                    self.pos += 1;
                    alts.push(perm_or_seq(std::mem::take(&mut items)));
                    items.push(self.sequence()?);
                }
                Some(';') => {
                    self.pos += 1;
                    items.push(self.sequence()?);
                }
                Some(&c) if Some(c) == close => break,
                None if close.is_none() => break,
                None => return Err(self.err(format!("missing '{}'", close.unwrap_or(')')))),
                Some(&c) => return Err(self.err(format!("unexpected '{c}'"))),
            }
        }
        alts.push(perm_or_seq(items));
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Expr::Seq(vec![]))
        } else {
            Expr::Alt(alts)
        })
    }

    /// Text and groups up to `|`, `;` or a closing bracket.
    fn sequence(&mut self) -> Result<Expr, TemplateError> {
        let mut items = Vec::new();
        let mut text = String::new();
        while let Some(&c) = self.chars.get(self.pos) {
            match c {
                '|' | ';' | ')' | ']' => break,
                '(' | '[' | '{' | '<' => {
                    if !text.is_empty() {
                        items.push(Expr::Text(std::mem::take(&mut text)));
                    }
                    items.push(self.group(c)?);
                }
                '}' | '>' => return Err(self.err(format!("unexpected '{c}'"))),
                '\\' => {
                    self.pos += 1;
                    match self.chars.get(self.pos) {
                        Some(&e) => text.push(e),
                        None => return Err(self.err("dangling '\\'".into())),
                    }
                    self.pos += 1;
                }
                _ => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        if !text.is_empty() {
            items.push(Expr::Text(text));
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr::Seq(vec![]))
        } else {
            Expr::Seq(items)
        })
    }

    fn group(&mut self, open: char) -> Result<Expr, TemplateError> {
        let start = self.pos;
        self.pos += 1;
        match open {
            '(' | '[' => {
                let close = if open == '(' { ')' } else { ']' };
                let inner = self.alternatives(Some(close))?;
                self.pos += 1;
                Ok(if open == '[' {
                    match inner {
                        Expr::Alt(mut a) => {
                            a.push(Expr::Seq(vec![]));
                            Expr::Alt(a)
                        }
                        e => Expr::Alt(vec![e, Expr::Seq(vec![])]),
                    }
                } else {
                    inner
                })
            }
            _ => {
                let close = if open == '{' { '}' } else { '>' };
                let end = self.chars[self.pos..]
                    .iter()
                    .position(|&c| c == close)
                    .map(|i| self.pos + i);
                let Some(end) = end else {
                    self.pos = start;
                    return Err(self.err(format!("'{open}' is never closed")));
                };
                let name: String = self.chars[self.pos..end]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string();
                if name.is_empty() || name.contains(['(', '[', '{', '<', '|']) {
                    self.pos = start;
                    return Err(self.err(format!("bad name in '{open}{name}{close}'")));
                }
                self.pos = end + 1;
                if open == '<' {
                    return Ok(Expr::Rule(name));
                }
                let (list, slot) = match name.split_once(':') {
                    Some((l, s)) => (l.trim().to_string(), s.trim().to_string()),
                    None => (name.clone(), name),
                };
                Ok(Expr::List { list, slot })
            }
        }
    }
}

fn perm_or_seq(mut items: Vec<Expr>) -> Expr {
    if items.len() == 1 {
        items.pop().unwrap_or(Expr::Seq(vec![]))
    } else {
        Expr::Perm(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Expr {
        Expr::Text(s.into())
    }

    #[test]
    fn every_construct_parses() {
        assert_eq!(parse("what time").unwrap(), t("what time"));
        assert_eq!(parse("(a|b)").unwrap(), Expr::Alt(vec![t("a"), t("b")]));
        assert_eq!(
            parse("[the]").unwrap(),
            Expr::Alt(vec![t("the"), Expr::Seq(vec![])])
        );
        assert_eq!(parse("(a; b)").unwrap(), Expr::Perm(vec![t("a"), t(" b")]));
        assert_eq!(
            parse("set {volume:level}%").unwrap(),
            Expr::Seq(vec![
                t("set "),
                Expr::List {
                    list: "volume".into(),
                    slot: "level".into()
                },
                t("%")
            ])
        );
        assert_eq!(
            parse("<what_is> x").unwrap(),
            Expr::Seq(vec![Expr::Rule("what_is".into()), t(" x")])
        );
        assert_eq!(parse(r"a\(b\)").unwrap(), t("a(b)"));
        assert_eq!(
            parse("hour[s]").unwrap(),
            Expr::Seq(vec![t("hour"), Expr::Alt(vec![t("s"), Expr::Seq(vec![])])])
        );
    }

    #[test]
    fn errors_name_the_column() {
        let e = parse("turn (on|off").unwrap_err();
        assert!(e.msg.contains("missing ')'"), "{e}");
        assert_eq!(parse("a {x").unwrap_err().col, 3);
        assert!(parse("a ]").is_err());
        assert!(parse("a {}").is_err());
        assert!(parse("a <b").is_err());
    }
}
