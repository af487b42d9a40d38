//! Timers through the real recogniser and the state database: conversations in both
//! languages, and timers that outlive the process that set them.

mod common;

use std::path::Path;

fn ask(state: &Path, texts: &[&str]) -> Vec<String> {
    let out = common::sori()
        .args([
            "--set",
            &format!("state.dir=\"{}\"", state.display()),
            "ask",
            "--json",
        ])
        .args(texts)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["reply"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn a_timer_set_by_one_process_is_there_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let r = ask(dir.path(), &["set a pasta timer for ten minutes"]);
    assert!(r[0].contains("asta timer set for 10 minutes"), "{r:?}");
    // A new process (as after a restart) finds it in the state database.
    let r = ask(dir.path(), &["how much time is left on my pasta timer"]);
    assert!(r[0].contains("left on your pasta timer"), "{r:?}");
    assert!(dir.path().join("sori.db").is_file());
    let r = ask(dir.path(), &["5분 타이머 맞춰줘", "타이머 몇 개 있어"]);
    assert!(
        r[0].contains("5분 타이머") && r[1].starts_with("타이머가 2개 있어요"),
        "{r:?}"
    );
    let r = ask(dir.path(), &["cancel all timers", "do I have any timers"]);
    assert!(
        r[0].contains("2 timers") && r[0].to_lowercase().contains("cancelled"),
        "{r:?}"
    );
    assert_eq!(r[1], "You don't have any timers.");
}

#[test]
fn timer_conversations_ask_for_what_is_missing() {
    let mut b = common::test_brain();
    // A fixed clock: "3 minutes left" must not become "2 minutes 59 seconds" on a slow machine.
    b.set_clock(|| {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(7, 5, 0)
            .unwrap()
    });
    assert_eq!(b.ask("set a timer", None).reply, "For how long?");
    assert_eq!(
        b.ask("ninety seconds", None).reply,
        "Timer set for 1 minute and 30 seconds."
    );
    assert_eq!(
        b.ask("set a tea timer for three minutes", None).reply,
        "Tea timer set for 3 minutes."
    );
    let status = b.ask("how much time is left", None).reply;
    assert!(
        status.starts_with("You have 2 timers: 1 minute and 30 second timer with"),
        "{status}"
    );
    // Two timers and no name: which one?
    assert_eq!(
        b.ask("cancel the timer", None).reply,
        "Which one? 1 minute and 30 second timer, tea timer."
    );
    assert_eq!(
        b.ask("the tea one", None).reply,
        "Cancelled your tea timer."
    );
    assert_eq!(
        b.ask("cancel the timer", None).reply,
        "Cancelled your 1 minute and 30 second timer."
    );
    assert_eq!(
        b.ask("cancel the timer", None).reply,
        "You don't have any timers."
    );
    // Korean, with the answer to the question in Korean.
    assert_eq!(b.ask("타이머 맞춰 줘", None).reply, "몇 분으로 맞출까요?");
    assert_eq!(b.ask("삼 분이요", None).reply, "3분 타이머를 시작했어요.");
    assert_eq!(
        b.ask("타이머 얼마나 남았어", None).reply,
        "3분 타이머 3분 남았어요."
    );
    assert_eq!(
        b.ask("라면 타이머 꺼 줘", None).reply,
        "라면 타이머는 없어요."
    );
    assert_eq!(
        b.ask("타이머 꺼 줘", None).reply,
        "3분 타이머를 취소했어요."
    );
}
