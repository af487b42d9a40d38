//! `sori doctor`'s report on the terminal (also the end of `sori setup`).

/// Prints one line per check, with the fix under each failure; returns how many failed.
pub fn print(checks: &[sori::doctor::Check]) -> usize {
    for c in checks {
        println!(
            "{} {:<15} {}",
            if c.ok { "ok  " } else { "FAIL" },
            c.name,
            c.detail
        );
        if !c.ok {
            println!("     {:<15} fix: {}", "", c.fix);
        }
    }
    checks.iter().filter(|c| !c.ok).count()
}
