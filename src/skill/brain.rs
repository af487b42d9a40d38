//! From a sentence to a reply: recognise it in every grammar (built-in, each external skill,
//! then Home Assistant's sentences), run the dialog (yes/no, missing slots, cancel, repeat,
//! stop), call the skill, and turn failures into honest spoken answers.

use std::collections::BTreeMap;

use serde::Serialize;

use super::dialog::{self, Dialog, Pending};
use super::{Action, Answer, Ctx, Follow, Registry, Responses, SkillReply};
use crate::intent::{Grammar, Recognized, RuntimeLists, Slot};
use crate::persona::Persona;

/// What `ask` produced, as `sori ask --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub lang: String,
    /// `None`: nothing understood the sentence.
    pub intent: Option<String>,
    pub slots: BTreeMap<String, Slot>,
    pub reply: String,
    pub action: Option<Action>,
    pub follow: Follow,
}

/// A grammar and where it came from (for logs).
pub struct Source {
    pub name: String,
    pub grammar: Grammar,
}

pub struct Brain {
    /// Sori's and the skills' own grammars, all tried, best match wins.
    pub sources: Vec<Source>,
    /// Home Assistant's sentences, tried when none of the above matched.
    pub fallback: Vec<Source>,
    pub registry: Registry,
    pub responses: Responses,
    pub persona: Persona,
    pub runtime: RuntimeLists,
    /// Give run-time names to speech recognition as hints (off when `stt.initial_prompt` is
    /// set: the user's prompt wins).
    pub stt_hints: bool,
    /// The wake phrases ("Hey Jarvis"), first in the hints: people name the assistant in what
    /// they say, and whisper otherwise spells an unusual name a new way each time.
    pub wake_phrases: Vec<String>,
    /// The state database the built-in skills keep things in (for the reminder task).
    pub db: Option<std::sync::Arc<std::sync::Mutex<crate::store::Store>>>,
    dialog: Dialog,
    /// The speaker's time zone: local time for what is said, Unix ms for what is stored.
    pub zone: super::zone::Zone,
    clock_ms: crate::pipeline::reminders::Clock,
    /// Vary replies (off in fixture tests, which accept any variant anyway).
    run: u64,
}

impl Brain {
    pub fn new(registry: Registry, responses: Responses, persona: Persona) -> Self {
        Brain {
            sources: Vec::new(),
            fallback: Vec::new(),
            registry,
            responses,
            persona,
            runtime: RuntimeLists::default(),
            stt_hints: true,
            wake_phrases: Vec::new(),
            db: None,
            dialog: Dialog::default(),
            zone: super::zone::Zone::System,
            clock_ms: crate::pipeline::reminders::system_clock(),
            run: 0,
        }
    }

    /// What the current skills and lists expect to hear in `lang`: template words, list
    /// values and run-time names (contacts, artists), names first. For biasing whisper.
    pub fn vocabulary(&self, lang: &str) -> Vec<String> {
        let mut words = std::collections::BTreeSet::new();
        for s in self
            .sources
            .iter()
            .chain(&self.fallback)
            .filter(|s| s.grammar.lang == lang)
        {
            s.grammar.vocabulary(&mut words);
        }
        let mut names: Vec<String> = self.runtime.spoken().map(str::to_string).collect();
        names.sort();
        names.dedup();
        let known: std::collections::BTreeSet<String> = names.iter().cloned().collect();
        names.extend(words.into_iter().filter(|w| !known.contains(w)));
        names
    }

    /// Takes in the run-time lists (library names, contacts) skills changed.
    pub fn refresh_lists(&mut self) {
        for (name, items) in self.registry.changed_lists() {
            tracing::debug!(list = %name, names = items.len(), "run-time list updated");
            self.runtime.set(&name, items);
        }
    }

    /// Replaces the wall clock (tests use a fixed time).
    /// The clock is then in UTC, so the given wall time is also the local time.
    pub fn set_clock(&mut self, clock: impl Fn() -> chrono::NaiveDateTime + Send + Sync + 'static) {
        self.zone = super::zone::Zone::Utc;
        self.set_clock_ms(std::sync::Arc::new(move || {
            clock().and_utc().timestamp_millis()
        }));
    }

    /// Replaces the wall clock (Unix ms), keeping the time zone: the daemon's clock, shared
    /// with the timers.
    pub fn set_clock_ms(&mut self, clock: crate::pipeline::reminders::Clock) {
        self.clock_ms = clock;
    }

    /// Languages some grammar covers.
    pub fn languages(&self) -> Vec<String> {
        let mut l: Vec<String> = self
            .sources
            .iter()
            .map(|s| s.grammar.lang.clone())
            .collect();
        l.sort();
        l.dedup();
        l
    }

    /// The best match for `text` in `lang`, without side effects.
    pub fn recognize(&self, text: &str, lang: &str) -> Option<Recognized> {
        self.recognize_with(text, lang, &self.dialog.context())
    }

    /// Forgets any open question and the last reply.
    pub fn reset_dialog(&mut self) {
        self.dialog = Dialog::default();
    }

    /// As `recognize`, in a given conversation context.
    pub fn recognize_with(
        &self,
        text: &str,
        lang: &str,
        context: &BTreeMap<String, serde_json::Value>,
    ) -> Option<Recognized> {
        let pick = |sources: &[Source], text: &str, tolerant: bool| {
            sources
                .iter()
                .filter(|s| s.grammar.lang == lang)
                .filter_map(|s| {
                    s.grammar
                        .recognize_pass(text, context, &self.runtime, tolerant)
                })
                .fold(None::<Recognized>, |best, r| match best {
                    Some(b) if b.rank >= r.rank => Some(b),
                    _ => Some(r),
                })
        };
        let understand = |text: &str, tolerant: bool| {
            pick(&self.sources, text, tolerant)
                .or_else(|| pick(&self.fallback, text, tolerant))
                .filter(|r| {
                    self.registry.serves(&r.intent) || dialog::ALL.contains(&r.intent.as_str())
                })
        };
        // "Jarvis, what time is it": the command is what follows the name.
        let rest = crate::intent::address::strip(text, &self.names());
        // Every exact reading before any that takes a word as misheard.
        [false, true]
            .into_iter()
            .find_map(|tolerant| understand(text, tolerant).or_else(|| understand(rest?, tolerant)))
    }

    /// What Sori answers to: its wake phrases and its name in each language.
    fn names(&self) -> Vec<String> {
        let mut names = self.wake_phrases.clone();
        for lang in ["en", "ko"] {
            names.push(self.persona.name(lang).to_string());
        }
        names
    }

    /// Understands `text` and answers it. `lang` is detected from the script when `None`.
    pub fn ask(&mut self, text: &str, lang: Option<&str>) -> Outcome {
        let lang = match lang {
            Some(l) if l == "en" || l == "ko" => l.to_string(),
            _ => crate::lang::detect(text).to_string(),
        };
        self.run += 1;
        self.refresh_lists();
        let rec = self.recognize(text, &lang);
        let (reply, shown) = match (self.dialog.pending().cloned(), rec) {
            (_, Some(r)) if r.intent == dialog::CANCEL => {
                self.dialog.clear();
                (
                    SkillReply::say(self.persona.line(&lang, "cancelled", &[])),
                    Some(r),
                )
            }
            (_, Some(r)) if r.intent == dialog::REPEAT => {
                let speech = match &self.dialog.last {
                    Some((_, s)) if !s.is_empty() => s.clone(),
                    _ => self.persona.line(&lang, "didnt_catch", &[]),
                };
                return self.finish(&lang, Some(r), SkillReply::say(speech), false);
            }
            (_, Some(r)) if r.intent == dialog::STOP => {
                self.dialog.clear();
                (SkillReply::default().with_action(Action::Stop), Some(r))
            }
            (
                Some(Pending::Ask {
                    mut intent,
                    slot,
                    free: true,
                    ..
                }),
                _,
            ) => {
                self.dialog.clear();
                let said = text.trim().to_string();
                intent.slots.insert(
                    slot,
                    crate::intent::Slot {
                        value: crate::values::Value::Text(said.clone()),
                        text: said,
                        score: 1.0,
                        close: vec![],
                    },
                );
                (self.dispatch(&lang, &intent, None), Some(intent))
            }
            (Some(Pending::Confirm { intent }), Some(r))
                if r.intent == dialog::YES || r.intent == dialog::NO =>
            {
                self.dialog.clear();
                let answer = if r.intent == dialog::YES {
                    Answer::Yes
                } else {
                    Answer::No
                };
                (self.dispatch(&lang, &intent, Some(answer)), Some(intent))
            }
            (
                Some(Pending::Ask {
                    mut intent,
                    slot,
                    kind,
                    tries,
                    ..
                }),
                rec,
            ) if rec.is_none() => {
                match dialog::find_value(kind, &lang, text) {
                    Some(value) => {
                        self.dialog.clear();
                        intent.slots.insert(slot, value);
                        (self.dispatch(&lang, &intent, None), Some(intent))
                    }
                    None if tries == 0 => {
                        // One more chance, then give up rather than loop.
                        let again = self.persona.line(&lang, "didnt_catch", &[]);
                        self.dialog.set(Pending::Ask {
                            intent,
                            slot: slot.clone(),
                            kind,
                            tries: 1,
                            free: false,
                        });
                        (
                            SkillReply {
                                speech: again,
                                action: None,
                                follow: Follow::Ask { slot, kind },
                            },
                            None,
                        )
                    }
                    None => {
                        self.dialog.clear();
                        (
                            SkillReply::say(self.persona.line(&lang, "didnt_catch", &[])),
                            None,
                        )
                    }
                }
            }
            (Some(Pending::Confirm { intent }), None) => {
                // Not a yes or no: ask again (the question expires after dialog::PENDING_FOR).
                let again = self.persona.line(&lang, "didnt_catch", &[]);
                self.dialog.set(Pending::Confirm { intent });
                (SkillReply::confirm(again), None)
            }
            (_, Some(r)) if r.intent == dialog::YES || r.intent == dialog::NO => (
                SkillReply::say(self.persona.line(&lang, "didnt_catch", &[])),
                None,
            ),
            (
                Some(Pending::Choose {
                    mut intent,
                    slot,
                    options,
                }),
                None,
            ) => {
                self.dialog.clear();
                match dialog::choose(text, &options) {
                    Some(v) => {
                        if let Some(s) = intent.slots.get_mut(&slot) {
                            s.value = crate::values::Value::Text(v);
                            s.close.clear();
                        }
                        (self.dispatch(&lang, &intent, None), Some(intent))
                    }
                    None => (
                        SkillReply::say(self.persona.line(&lang, "didnt_catch", &[])),
                        None,
                    ),
                }
            }
            (_, Some(r)) => {
                self.dialog.clear();
                match Self::unsure(&r) {
                    Some((slot, options)) => {
                        let joined = join_options(&lang, &options);
                        let speech =
                            self.persona
                                .line(&lang, "did_you_mean", &[("options", &joined)]);
                        self.dialog.set(Pending::Choose {
                            intent: r.clone(),
                            slot: slot.clone(),
                            options,
                        });
                        (
                            SkillReply {
                                speech,
                                action: None,
                                follow: Follow::Ask { slot, kind: None },
                            },
                            Some(r),
                        )
                    }
                    None => (self.dispatch(&lang, &r, None), Some(r)),
                }
            }
            (_, None) => {
                tracing::info!(text, lang, "no skill understood the sentence");
                (
                    SkillReply::say(self.persona.line(&lang, "didnt_catch", &[])),
                    None,
                )
            }
        };
        self.finish(&lang, shown, reply, true)
    }

    /// A slot whose fuzzy match had close rivals, with the options to offer.
    fn unsure(r: &Recognized) -> Option<(String, Vec<String>)> {
        r.slots
            .iter()
            .find(|(_, s)| !s.close.is_empty())
            .map(|(k, s)| {
                let mut options: Vec<String> =
                    s.value.as_text().map(str::to_string).into_iter().collect();
                options.extend(s.close.iter().take(2).cloned());
                (k.clone(), options)
            })
    }

    fn finish(
        &mut self,
        lang: &str,
        rec: Option<Recognized>,
        reply: SkillReply,
        remember: bool,
    ) -> Outcome {
        if remember && !reply.speech.is_empty() {
            self.dialog.last = Some((lang.to_string(), reply.speech.clone()));
        }
        Outcome {
            lang: lang.to_string(),
            intent: rec.as_ref().map(|r| r.intent.clone()),
            slots: rec.map(|r| r.slots).unwrap_or_default(),
            reply: reply.speech,
            action: reply.action,
            follow: reply.follow,
        }
    }

    /// Calls the skill for `intent`; its errors become an apology.
    fn dispatch(&mut self, lang: &str, intent: &Recognized, answer: Option<Answer>) -> SkillReply {
        let skills = self.registry.descriptions(lang);
        let now_ms = (self.clock_ms)();
        let now = self.zone.local(now_ms);
        let Some(skill) = self.registry.skill_for(&intent.intent) else {
            tracing::warn!(intent = %intent.intent, "no skill handles this intent");
            return SkillReply::say(self.persona.line(lang, "didnt_catch", &[]));
        };
        let id = skill.id().to_string();
        let mut ctx = Ctx {
            lang,
            now,
            now_ms,
            zone: self.zone,
            responses: &self.responses,
            persona: &mut self.persona,
            skills: &skills,
            answer,
            run_id: self.run,
        };
        match skill.handle(intent, &mut ctx) {
            Ok(reply) => {
                match &reply.follow {
                    Follow::Confirm => self.dialog.set(Pending::Confirm {
                        intent: intent.clone(),
                    }),
                    Follow::Ask { slot, kind } => self.dialog.set(Pending::Ask {
                        intent: intent.clone(),
                        slot: slot.clone(),
                        kind: *kind,
                        tries: 0,
                        free: false,
                    }),
                    Follow::Dictate { slot } => self.dialog.set(Pending::Ask {
                        intent: intent.clone(),
                        slot: slot.clone(),
                        kind: None,
                        tries: 0,
                        free: true,
                    }),
                    _ => {}
                }
                reply
            }
            Err(e) => {
                tracing::warn!(skill = %id, intent = %intent.intent, error = %e, "skill failed");
                SkillReply::say(self.persona.line(lang, "error", &[]))
            }
        }
    }
}

/// At most this much of a prompt: whisper's prompt is short, and a long one slows decoding.
const HINT_CHARS: usize = 200;

impl crate::pipeline::Handler for Brain {
    /// The wake phrases, then names from the run-time lists, smallest lists first (artists and albums before the many
    /// titles), up to [`HINT_CHARS`].
    fn hints(&self) -> String {
        if !self.stt_hints {
            return String::new();
        }
        let mut lists: Vec<Vec<&str>> = self
            .runtime
            .names()
            .filter_map(|n| self.runtime.get(n))
            .map(|e| e.iter().map(|x| x.spoken.as_str()).collect::<Vec<_>>())
            .filter(|v| !v.is_empty())
            .collect();
        lists.sort_by_key(Vec::len);
        let mut out = String::new();
        let mut seen = std::collections::HashSet::new();
        let wake = self.wake_phrases.iter().map(String::as_str);
        for name in wake.chain(lists.into_iter().flatten()) {
            if !seen.insert(name) {
                continue;
            }
            if out.len() + name.len() + 2 > HINT_CHARS {
                break;
            }
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(name);
        }
        out
    }

    fn languages(&self) -> Vec<String> {
        Brain::languages(self)
    }

    fn is_complete(&self, text: &str) -> bool {
        let lang = crate::lang::detect(text);
        self.recognize(text, lang)
            .is_some_and(|r| !r.open_ended && !r.approximate)
    }

    fn handle(&mut self, t: &crate::stt::Transcript) -> Result<crate::pipeline::Reply, String> {
        let lang = if t.language == "ko" || t.language == "en" {
            Some(t.language.as_str())
        } else {
            None
        };
        let out = self.ask(&t.text, lang);
        Ok(crate::pipeline::Reply {
            speech: out.reply,
            language: out.lang,
            expects_answer: out.follow != Follow::End,
            intent: out.intent,
            action: out.action,
            ring: false,
            chime: false,
            audio: None,
        })
    }
}

/// "Jisoo or Jihoon", "Jisoo, Jihoon or Jimin"; Korean "지수, 지훈".
fn join_options(lang: &str, options: &[String]) -> String {
    match options {
        [head @ .., last] if lang != "ko" && !head.is_empty() => {
            format!("{} or {last}", head.join(", "))
        }
        all => all.join(", "),
    }
}
