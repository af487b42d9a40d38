//! Sentence fixtures (tests/intents/<lang>/*.yaml) through the real recogniser, dialog and
//! built-in skills, with the clock fixed by tests/intents/_fixtures.yaml.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sori::skill::{Brain, dialog, fixtures};

fn brain() -> Brain {
    let world: serde_json::Value =
        serde_norway::from_str(&std::fs::read_to_string("tests/intents/_fixtures.yaml").unwrap())
            .unwrap();
    // The built-in skills with the fixture contacts, offline (nothing is delivered).
    let mut cfg = sori::config::Config::default();
    cfg.messaging.contacts = serde_json::from_value(world["contacts"].clone()).unwrap();
    cfg.messaging
        .webhooks
        .insert("family".into(), Default::default());
    let persona = sori::persona::Persona::new(&Default::default()).unwrap();
    let db = std::sync::Arc::new(std::sync::Mutex::new(sori::store::Store::memory().unwrap()));
    let services = sori::skill::builtin::Services {
        offline: true,
        ..Default::default()
    };
    let mut b =
        sori::skill::load::builtin_with_services(persona, db, Some(&cfg), services).unwrap();
    b.responses.fixed = true;
    b.persona.fixed = true;
    // As `sori run` with the default wake word.
    b.wake_phrases = vec!["Hey Jarvis".into()];
    let now =
        chrono::NaiveDateTime::parse_from_str(world["now"].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S")
            .unwrap();
    b.set_clock(move || now);
    let db = b.db.clone().unwrap();
    let mut db = db.lock().unwrap();
    for (i, t) in world["music"].as_array().unwrap().iter().enumerate() {
        db.conn()
            .execute(
                "INSERT INTO tracks (path, mtime, size, title, artist, album, genre, track_no)
                 VALUES (?1, 0, 0, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![
                    format!("/music/{i}.mp3"),
                    t["title"].as_str(),
                    t["artist"].as_str(),
                    t["album"].as_str(),
                    t["genre"].as_str(),
                    t["track"].as_i64()
                ],
            )
            .unwrap();
    }
    drop(db);
    b.refresh_lists();
    b
}

fn known_failures() -> BTreeSet<String> {
    let v: serde_json::Value = serde_norway::from_str(
        &std::fs::read_to_string("tests/intents/known_failures.yaml").unwrap(),
    )
    .unwrap();
    v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_fixture_sentence_gives_its_expected_result() {
    let cases = fixtures::load_dir(Path::new("tests/intents")).unwrap();
    assert!(cases.len() > 300, "only {} fixture sentences", cases.len());
    let mut b = brain();
    let known = known_failures();
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    for c in &cases {
        let key = format!("{}: {}", c.lang, c.sentence);
        match (fixtures::check(&mut b, c), known.contains(&key)) {
            (Err(e), false) => unexpected.push(format!("{key} ({}): {e}", c.file.display())),
            (Ok(()), true) => fixed.push(key),
            _ => {}
        }
    }
    assert!(
        fixed.is_empty(),
        "these now pass; remove them from known_failures.yaml: {fixed:#?}"
    );
    assert!(
        unexpected.is_empty(),
        "{} of {} fixtures failed:\n{}",
        unexpected.len(),
        cases.len(),
        unexpected.join("\n")
    );
}

#[test]
fn every_intent_has_twenty_sentences_in_both_languages() {
    let cases = fixtures::load_dir(Path::new("tests/intents")).unwrap();
    let mut count: BTreeMap<(String, String), usize> = BTreeMap::new();
    for c in &cases {
        if let Some(i) = &c.intent {
            *count.entry((i.clone(), c.lang.clone())).or_default() += 1;
        }
    }
    let b = brain();
    let mut intents: Vec<String> = dialog::ALL.iter().map(|s| s.to_string()).collect();
    for s in &b.sources {
        intents.extend(s.grammar.intents().into_iter().map(str::to_string));
    }
    intents.sort();
    intents.dedup();
    let mut short = Vec::new();
    for i in &intents {
        for lang in ["en", "ko"] {
            let n = count
                .get(&(i.clone(), lang.to_string()))
                .copied()
                .unwrap_or(0);
            if n < 20 {
                short.push(format!("{i} [{lang}]: {n}"));
            }
        }
    }
    assert!(
        short.is_empty(),
        "intents with fewer than 20 fixture sentences: {short:?}"
    );
}

#[test]
fn dialog_confirms_asks_cancels_and_repeats() {
    let mut b = brain();
    // Repeat with nothing said yet is an honest "didn't catch".
    let out = b.ask("say that again", Some("en"));
    assert_eq!(out.intent.as_deref(), Some("SoriRepeat"));
    let first = b.ask("what time is it", Some("en"));
    let again = b.ask("say that again", Some("en"));
    assert_eq!(again.reply, first.reply);
    let again = b.ask("다시 말해 줘", None);
    assert_eq!(again.reply, first.reply, "repeat works across languages");
    // Unknown sentences get the fallback and no intent.
    let out = b.ask("please fold the laundry", None);
    assert_eq!(
        (out.intent, out.reply.as_str()),
        (None, "Sorry, I didn't catch that.")
    );
    let out = b.ask("빨래 개 줘", None);
    assert_eq!(
        (out.intent, out.reply.as_str(), out.lang.as_str()),
        (None, "잘 못 알아들었어요.", "ko")
    );
    // Stop is an action with nothing to say.
    let out = b.ask("stop", None);
    assert_eq!(out.action, Some(sori::skill::Action::Stop));
    assert!(out.reply.is_empty());
}

/// A skill for the tests below: says whom it calls.
struct Caller;

impl sori::skill::Skill for Caller {
    fn id(&self) -> &str {
        "caller"
    }
    fn intents(&self) -> Vec<String> {
        vec!["CallContact".into()]
    }
    fn describe(&self, _: &str) -> Option<String> {
        None
    }
    fn handle(
        &mut self,
        i: &sori::intent::Recognized,
        _: &mut sori::skill::Ctx,
    ) -> Result<sori::skill::SkillReply, sori::skill::SkillError> {
        Ok(sori::skill::SkillReply::say(format!(
            "Calling {}.",
            i.slot("contact").and_then(|v| v.as_text()).unwrap_or("?")
        )))
    }
}

fn brain_with_contacts() -> Brain {
    let mut b = brain();
    b.registry.add(Box::new(Caller)).unwrap();
    let yaml = "language: en\nintents:\n  CallContact:\n    data:\n      - sentences: [\"call {contact}\"]\nlists:\n  contact: { fuzzy: true }\n";
    let f = sori::intent::data::parse(Path::new("call.yaml"), yaml.into()).unwrap();
    let g = sori::intent::Grammar::build("en", &[f], &|_| true).unwrap();
    b.sources.push(sori::skill::brain::Source {
        name: "test".into(),
        grammar: g,
    });
    b.runtime.set(
        "contact",
        [
            ("Norah Jones", "Norah Jones"),
            ("Nora Jonas", "Nora Jonas"),
            ("Mom", "Mom"),
            ("Jisoo", "Jisoo"),
        ]
        .map(|(a, v)| (a.to_string(), v.to_string())),
    );
    b
}

#[test]
fn misheard_names_match_and_close_ones_are_asked_about() {
    let mut b = brain_with_contacts();
    // A recognition slip still finds the one close name.
    assert_eq!(b.ask("call jisu", Some("en")).reply, "Calling Jisoo.");
    assert_eq!(b.ask("call mum", Some("en")).reply, "Calling Mom.");
    // Two names about equally close: ask, then take the answer by position or by name.
    let q = b.ask("call nora jones", Some("en"));
    assert_eq!(q.reply, "Did you mean Norah Jones or Nora Jonas?");
    assert!(matches!(q.follow, sori::skill::Follow::Ask { .. }));
    assert_eq!(
        b.ask("the second one", Some("en")).reply,
        "Calling Nora Jonas."
    );
    b.ask("call nora jones", Some("en"));
    assert_eq!(
        b.ask("Norah Jones please", Some("en")).reply,
        "Calling Norah Jones."
    );
    // Nothing close: not understood rather than a wrong call.
    assert_eq!(b.ask("call xavier", Some("en")).intent, None);
}

#[test]
fn vocabulary_lists_names_and_template_words() {
    let b = brain_with_contacts();
    let v = b.vocabulary("en");
    let at = |w: &str| v.iter().position(|x| x == w).unwrap();
    assert!(at("Jisoo") < at("time"), "names come first: {v:?}");
    for w in ["Norah Jones", "Mom", "time", "date", "call", "tomorrow"] {
        assert!(v.iter().any(|x| x == w), "{w} missing from {v:?}");
    }
    let ko = b.vocabulary("ko");
    assert!(ko.iter().any(|x| x == "며칠"), "{ko:?}");
}

/// A skill that needs a duration it may not get, and asks before it forgets everything.
struct Careful;

impl sori::skill::Skill for Careful {
    fn id(&self) -> &str {
        "careful"
    }
    fn intents(&self) -> Vec<String> {
        vec!["Remind".into(), "Forget".into()]
    }
    fn describe(&self, _: &str) -> Option<String> {
        None
    }
    fn handle(
        &mut self,
        i: &sori::intent::Recognized,
        ctx: &mut sori::skill::Ctx,
    ) -> Result<sori::skill::SkillReply, sori::skill::SkillError> {
        use sori::skill::{Answer, SkillReply};
        Ok(match (i.intent.as_str(), ctx.answer) {
            ("Remind", _) => match i.slot("duration") {
                Some(sori::values::Value::Duration(s)) => {
                    SkillReply::say(format!("Reminder in {s} seconds."))
                }
                _ => SkillReply::ask(
                    "For how long?",
                    "duration",
                    Some(sori::values::Kind::Duration),
                ),
            },
            ("Forget", None) => SkillReply::confirm("Forget everything?"),
            ("Forget", Some(Answer::Yes)) => SkillReply::say("Forgotten."),
            _ => SkillReply::say("Kept."),
        })
    }
}

fn careful_brain() -> Brain {
    let mut b = brain();
    b.registry.add(Box::new(Careful)).unwrap();
    let yaml = "language: en\nintents:\n  Remind:\n    data:\n      - sentences: [\"remind me [in {duration}]\"]\n  Forget:\n    data:\n      - sentences: [\"forget everything\"]\nlists:\n  duration: { type: duration }\n";
    let f = sori::intent::data::parse(Path::new("careful.yaml"), yaml.into()).unwrap();
    let g = sori::intent::Grammar::build("en", &[f], &|_| true).unwrap();
    b.sources.push(sori::skill::brain::Source {
        name: "test".into(),
        grammar: g,
    });
    b
}

#[test]
fn a_missing_slot_is_asked_for_and_filled_by_the_answer() {
    let mut b = careful_brain();
    assert_eq!(
        b.ask("remind me in ten minutes", None).reply,
        "Reminder in 600 seconds."
    );
    let q = b.ask("remind me", None);
    assert_eq!(q.reply, "For how long?");
    assert!(matches!(q.follow, sori::skill::Follow::Ask { .. }));
    assert_eq!(
        b.ask("an hour and a half please", None).reply,
        "Reminder in 5400 seconds."
    );
    // A non-answer gets one more chance, then the question is dropped.
    b.ask("remind me", None);
    assert_eq!(b.ask("purple", None).reply, "Sorry, I didn't catch that.");
    assert_eq!(
        b.ask("five minutes", None).reply,
        "Reminder in 300 seconds."
    );
    // "Never mind" drops the question.
    b.ask("remind me", None);
    assert_eq!(b.ask("never mind", None).reply, "Okay, cancelled.");
    assert_eq!(b.ask("five minutes", None).intent, None);
    // A new command instead of an answer is just that.
    b.ask("remind me", None);
    assert_eq!(
        b.ask("what time is it", None).intent.as_deref(),
        Some("HassGetCurrentTime")
    );
}

#[test]
fn a_yes_no_question_gets_its_answer_in_either_language() {
    let mut b = careful_brain();
    assert_eq!(b.ask("forget everything", None).reply, "Forget everything?");
    assert_eq!(b.ask("yes", None).reply, "Forgotten.");
    b.ask("forget everything", None);
    assert_eq!(
        b.ask("아니", None).reply,
        "Kept.",
        "a Korean no answers an English question"
    );
    b.ask("forget everything", None);
    assert_eq!(b.ask("응", None).reply, "Forgotten.");
    // Not an answer: asked again, and the question stays open.
    b.ask("forget everything", None);
    let again = b.ask("bananas", None);
    assert!(
        matches!(again.follow, sori::skill::Follow::Confirm),
        "{again:?}"
    );
    assert_eq!(b.ask("yes", None).reply, "Forgotten.");
    // With no question open, "yes" means nothing.
    assert_eq!(b.ask("yes", None).intent, None);
}

#[test]
fn library_names_become_speech_recognition_hints() {
    use sori::pipeline::Handler;
    let b = brain();
    let h = b.hints();
    assert!(h.contains("The Tones") && h.contains("아이유"), "{h}");
    assert!(h.len() <= 200, "{h}");
}
