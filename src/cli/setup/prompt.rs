//! Questions on the terminal for `sori setup`: a default in brackets that Enter accepts,
//! numbered choices, yes/no, and passwords without echo. With `--yes` every question takes
//! its default and says so, for scripted installs.

use std::io::{BufRead, Write};

use anyhow::{Context, bail};

pub struct Prompter {
    input: Box<dyn BufRead>,
    /// `--yes`: never read, take every default.
    assume_yes: bool,
}

/// How often a question is asked again after an answer it cannot use.
const RETRIES: usize = 5;

impl Prompter {
    pub fn stdin(assume_yes: bool) -> Prompter {
        Prompter {
            input: Box::new(std::io::BufReader::new(std::io::stdin())),
            assume_yes,
        }
    }

    pub fn assume_yes(&self) -> bool {
        self.assume_yes
    }

    /// A line of explanation.
    pub fn say(&self, msg: impl AsRef<str>) {
        println!("{}", msg.as_ref());
    }

    /// A step's title.
    pub fn step(&self, n: usize, of: usize, title: &str) {
        println!("\n── {n}/{of} {title} ──");
    }

    fn read_line(&mut self) -> anyhow::Result<String> {
        std::io::stdout().flush().ok();
        let mut line = String::new();
        let n = self
            .input
            .read_line(&mut line)
            .context("reading the answer")?;
        if n == 0 {
            bail!(
                "no answer (end of input): run `sori setup` on a terminal, or pass --yes with the \
                 answers as flags (`sori setup --help` lists them)"
            );
        }
        Ok(line.trim().to_string())
    }

    /// A free answer; Enter takes `default`.
    pub fn ask(&mut self, question: &str, default: &str) -> anyhow::Result<String> {
        let shown = if default.is_empty() {
            String::new()
        } else {
            format!(" [{default}]")
        };
        if self.assume_yes {
            println!("{question}{shown}: {default}");
            return Ok(default.to_string());
        }
        print!("{question}{shown}: ");
        let a = self.read_line()?;
        Ok(if a.is_empty() { default.to_string() } else { a })
    }

    /// Asks until `check` accepts the answer (it returns the value or why not).
    pub fn ask_valid<T>(
        &mut self,
        question: &str,
        default: &str,
        mut check: impl FnMut(&str) -> Result<T, String>,
    ) -> anyhow::Result<T> {
        for _ in 0..RETRIES {
            let a = self.ask(question, default)?;
            match check(&a) {
                Ok(v) => return Ok(v),
                Err(why) if self.assume_yes => bail!("{question}: {why}"),
                Err(why) => println!("  {why}"),
            }
        }
        bail!("{question}: no usable answer after {RETRIES} tries")
    }

    pub fn yes(&mut self, question: &str, default: bool) -> anyhow::Result<bool> {
        let hint = if default { "Y/n" } else { "y/N" };
        if self.assume_yes {
            println!(
                "{question} [{hint}]: {}",
                if default { "yes" } else { "no" }
            );
            return Ok(default);
        }
        for _ in 0..RETRIES {
            print!("{question} [{hint}]: ");
            match self.read_line()?.to_lowercase().as_str() {
                "" => return Ok(default),
                "y" | "yes" | "네" | "예" => return Ok(true),
                "n" | "no" | "아니요" | "아니오" => return Ok(false),
                _ => println!("  answer y or n"),
            }
        }
        bail!("{question}: no usable answer after {RETRIES} tries")
    }

    /// A numbered list; the answer is a number or (a unique start of) an option's text.
    pub fn choose(
        &mut self,
        question: &str,
        options: &[String],
        default: usize,
    ) -> anyhow::Result<usize> {
        println!("{question}");
        for (i, o) in options.iter().enumerate() {
            let mark = if i == default { "*" } else { " " };
            println!(" {mark}{:>2}) {o}", i + 1);
        }
        let d = (default + 1).to_string();
        self.ask_valid("Choose", &d, |a| pick(options, a))
    }

    /// A secret (password): not echoed on a terminal. Enter means none.
    pub fn secret(&mut self, question: &str) -> anyhow::Result<String> {
        if self.assume_yes {
            println!("{question}: (none)");
            return Ok(String::new());
        }
        print!("{question}: ");
        let _echo = EchoOff::new();
        let a = self.read_line();
        drop(_echo);
        println!();
        a
    }
}

/// The option an answer names: its number, or the one option whose text starts with it.
pub fn pick(options: &[String], answer: &str) -> Result<usize, String> {
    if let Ok(n) = answer.parse::<usize>() {
        return if (1..=options.len()).contains(&n) {
            Ok(n - 1)
        } else {
            Err(format!("choose 1 to {}", options.len()))
        };
    }
    let a = answer.to_lowercase();
    let hits: Vec<usize> = (0..options.len())
        .filter(|&i| !a.is_empty() && options[i].to_lowercase().starts_with(&a))
        .collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!("`{answer}` is none of these; type its number")),
        _ => Err(format!("`{answer}` fits more than one; type its number")),
    }
}

/// Turns terminal echo off while it lives (nothing happens when stdin is not a terminal).
struct EchoOff(Option<libc::termios>);

impl EchoOff {
    fn new() -> EchoOff {
        // SAFETY: termios calls on fd 0 with a zeroed, then filled, struct.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::isatty(0) == 1 && libc::tcgetattr(0, &mut t) == 0 {
                let old = t;
                t.c_lflag &= !libc::ECHO;
                libc::tcsetattr(0, libc::TCSANOW, &t);
                return EchoOff(Some(old));
            }
        }
        EchoOff(None)
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(old) = self.0 {
            // SAFETY: restoring the settings read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(input: &str) -> Prompter {
        Prompter {
            input: Box::new(std::io::Cursor::new(input.to_string().into_bytes())),
            assume_yes: false,
        }
    }

    #[test]
    fn choices_by_number_or_unique_start() {
        let o: Vec<String> = ["English", "한국어 (Korean)", "Both"]
            .map(String::from)
            .to_vec();
        assert_eq!(pick(&o, "2"), Ok(1));
        assert_eq!(pick(&o, "eng"), Ok(0));
        assert_eq!(pick(&o, "한국어"), Ok(1));
        assert!(pick(&o, "4").is_err());
        assert!(pick(&o, "x").is_err());
    }

    #[test]
    fn enter_takes_the_default_and_bad_answers_are_asked_again() {
        let mut p = with("\n9\nboth\n\n");
        let o: Vec<String> = ["English", "Korean", "Both"].map(String::from).to_vec();
        assert_eq!(p.choose("Language?", &o, 1).unwrap(), 1);
        assert_eq!(p.choose("Language?", &o, 0).unwrap(), 2);
        assert!(p.yes("Sure?", true).unwrap());
        let err = p.ask("City", "").unwrap_err().to_string();
        assert!(err.contains("--yes"), "{err}");
    }

    #[test]
    fn assume_yes_never_reads() {
        let mut p = with("");
        p.assume_yes = true;
        assert_eq!(p.ask("City", "Seoul").unwrap(), "Seoul");
        assert!(!p.yes("Add a contact?", false).unwrap());
        assert_eq!(p.secret("Password").unwrap(), "");
        let r: anyhow::Result<u32> =
            p.ask_valid("Port", "x", |a| a.parse().map_err(|_| "a number".into()));
        assert!(r.unwrap_err().to_string().contains("a number"));
    }
}
