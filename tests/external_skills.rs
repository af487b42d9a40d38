//! External skills as real child processes: a Python and a shell skill made by
//! `sori skill new`, their fixtures through `sori skill test`, and the failure modes: a slow
//! skill times out, a crashing one is restarted with backoff, broken manifests and sentences
//! are reported with file and line while the other skills keep working.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::sori;
use sori::skill::{Brain, load};

fn brain() -> Brain {
    common::test_brain()
}

fn new_skill(parent: &Path, name: &str, lang: &str) -> PathBuf {
    let out = sori()
        .args(["skill", "new", name, "--lang", lang, "--dir"])
        .arg(parent)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parent.join(name)
}

#[test]
fn python_and_shell_skills_made_by_skill_new_pass_their_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    for lang in ["python", "shell"] {
        let skill = new_skill(dir.path(), &format!("dice_{lang}"), lang);
        let out = sori().args(["skill", "test"]).arg(&skill).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{lang}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("8 passed, 0 failed"), "{stdout}");
        // Round trip through `sori ask`, in both languages.
        let out = sori()
            .args(["ask", "--json", "--skill"])
            .arg(&skill)
            .args(["roll a one sided die", "일면체 주사위 굴려 줘"])
            .output()
            .unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["intent"], "RollDie");
        assert_eq!(lines[0]["slots"]["sides"]["value"], 1);
        assert_eq!(lines[0]["reply"], "You rolled a 1.");
        assert_eq!(lines[1]["reply"], "1이 나왔어요.");
    }
}

#[test]
fn a_failing_fixture_fails_skill_test() {
    let dir = tempfile::tempdir().unwrap();
    let skill = new_skill(dir.path(), "dice", "python");
    let f = skill.join("tests/en/dice.yaml");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("You rolled a 1.", "You rolled a 2.");
    std::fs::write(&f, text).unwrap();
    let out = sori().args(["skill", "test"]).arg(&skill).output().unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAIL") && stdout.contains("expected \"You rolled a 2.\""),
        "{stdout}"
    );
}

/// A skill with a slow intent and one that crashes the process, in Python or shell.
fn troublesome(parent: &Path, lang: &str) -> PathBuf {
    let d = parent.join(format!("trouble_{lang}"));
    std::fs::create_dir_all(d.join("sentences/en")).unwrap();
    let command = if lang == "python" {
        r#"["python3", "main.py"]"#
    } else {
        r#"["sh", "main.sh"]"#
    };
    std::fs::write(
        d.join("skill.toml"),
        format!("id = \"trouble_{lang}\"\ncommand = {command}\ntimeout_ms = 700\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("sentences/en/t.yaml"),
        "language: en\nintents:\n  Quick: { data: [ { sentences: [\"be quick\"] } ] }\n  Slow: { data: [ { sentences: [\"be slow\"] } ] }\n  Crash: { data: [ { sentences: [\"crash now\"] } ] }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("main.py"),
        r#"import json, os, sys, time
print("started", os.getpid(), file=sys.stderr, flush=True)
for line in sys.stdin:
    req = json.loads(line)
    if req["intent"] == "Slow":
        time.sleep(5)
    if req["intent"] == "Crash":
        sys.exit(3)
    print(json.dumps({"speech": "quick from %d" % os.getpid()}), flush=True)
"#,
    )
    .unwrap();
    std::fs::write(
        d.join("main.sh"),
        r#"echo "started $$" >&2
while IFS= read -r line; do
  case "$line" in
    *'"intent":"Slow"'*) sleep 5 ;;
    *'"intent":"Crash"'*) exit 3 ;;
  esac
  echo "{\"speech\":\"quick from $$\"}"
done
"#,
    )
    .unwrap();
    d
}

#[test]
fn a_slow_skill_times_out_and_the_next_request_works() {
    for lang in ["python", "shell"] {
        slow(lang);
    }
}

fn slow(lang: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut b = brain();
    load::add_external(&mut b, &troublesome(dir.path(), lang)).unwrap();
    let first = b.ask("be quick", Some("en")).reply;
    assert!(first.starts_with("quick from"), "{first}");
    let t = std::time::Instant::now();
    let slow = b.ask("be slow", Some("en"));
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "the timeout did not cut the wait"
    );
    assert_eq!(
        slow.reply, "Sorry, something went wrong.",
        "a timeout is an apology"
    );
    let next = b.ask("be quick", Some("en")).reply;
    assert!(
        next.starts_with("quick from") && next != first,
        "a fresh process answers: {first} / {next}"
    );
}

#[test]
fn a_crashing_skill_is_restarted_with_backoff() {
    for lang in ["python", "shell"] {
        crash(lang);
    }
}

fn crash(lang: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut b = brain();
    load::add_external(&mut b, &troublesome(dir.path(), lang)).unwrap();
    assert!(b.ask("be quick", Some("en")).reply.starts_with("quick"));
    // First crash: an apology, then an immediate restart.
    assert_eq!(
        b.ask("crash now", Some("en")).reply,
        "Sorry, something went wrong."
    );
    assert!(b.ask("be quick", Some("en")).reply.starts_with("quick"));
    // Crashes in a row back off: right after the second, the skill is not started again.
    assert_eq!(
        b.ask("crash now", Some("en")).reply,
        "Sorry, something went wrong."
    );
    assert_eq!(
        b.ask("crash now", Some("en")).reply,
        "Sorry, something went wrong."
    );
    assert_eq!(
        b.ask("be quick", Some("en")).reply,
        "Sorry, something went wrong.",
        "restarted during the backoff"
    );
    std::thread::sleep(Duration::from_millis(1100));
    // The built-in skills never noticed.
    assert_eq!(
        b.ask("hello", Some("en")).intent.as_deref(),
        Some("SoriGreeting")
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert!(
        b.ask("be quick", Some("en")).reply.starts_with("quick"),
        "back after the backoff"
    );
}

#[test]
fn broken_skills_are_reported_with_file_and_line_and_the_rest_work() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("skills");
    std::fs::create_dir_all(&root).unwrap();
    new_skill(&root, "good", "python");
    // A manifest with a typo'd key on line 3.
    let bad = new_skill(&root, "badmanifest", "python");
    std::fs::write(
        bad.join("skill.toml"),
        "id = \"badmanifest\"\ncommand = [\"python3\", \"main.py\"]\ntimeot_ms = 5\n",
    )
    .unwrap();
    // A sentence with an unclosed group on line 6.
    let broken = new_skill(&root, "badsentences", "shell");
    std::fs::write(
        broken.join("sentences/en/dice.yaml"),
        "language: en\nintents:\n  Other:\n    data:\n      - sentences:\n          - \"roll (a|the die\"\n",
    )
    .unwrap();
    let cfg_path = dir.path().join("config.toml");
    std::fs::write(
        &cfg_path,
        format!("[skills]\ndirs = [\"{}\"]\n", root.display()),
    )
    .unwrap();
    let out = sori()
        .arg("--config")
        .arg(&cfg_path)
        .args(["ask", "roll a one sided die"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout.trim(),
        "You rolled a 1.",
        "the good skill still works: {stderr}"
    );
    assert!(
        stderr.contains("badmanifest/skill.toml:3") && stderr.contains("timeot_ms"),
        "{stderr}"
    );
    assert!(
        stderr.contains("badsentences/sentences/en/dice.yaml:6") && stderr.contains("missing ')'"),
        "{stderr}"
    );
}

#[test]
fn a_skill_that_cannot_start_is_an_apology() {
    let dir = tempfile::tempdir().unwrap();
    let d = new_skill(dir.path(), "ghost", "python");
    std::fs::write(
        d.join("skill.toml"),
        "id = \"ghost\"\ncommand = [\"/nonexistent/program\"]\n",
    )
    .unwrap();
    let mut b = brain();
    load::add_external(&mut b, &d).unwrap();
    let out = b.ask("roll a die", Some("en"));
    assert_eq!(out.intent.as_deref(), Some("RollDie"));
    assert_eq!(out.reply, "Sorry, something went wrong.");
}
