//! Small talk: a greeting with the persona's name, and "what can you do", which lists the
//! skills in the registry.

use crate::intent::Recognized;
use crate::lang::ko;
use crate::skill::{Ctx, Skill, SkillError, SkillReply};

pub struct Greeting;

impl Skill for Greeting {
    fn id(&self) -> &str {
        "greeting"
    }

    fn intents(&self) -> Vec<String> {
        vec!["SoriGreeting".into()]
    }

    fn describe(&self, _lang: &str) -> Option<String> {
        None
    }

    fn handle(&mut self, _intent: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        Ok(SkillReply::say(ctx.persona.line(ctx.lang, "greeting", &[])))
    }
}

pub struct Help;

impl Skill for Help {
    fn id(&self) -> &str {
        "help"
    }

    fn intents(&self) -> Vec<String> {
        vec!["SoriHelp".into()]
    }

    fn describe(&self, _lang: &str) -> Option<String> {
        None
    }

    fn handle(&mut self, _intent: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let items: Vec<&str> = ctx.skills.iter().map(|(_, d)| d.as_str()).collect();
        let list = join(ctx.lang, &items);
        let list = if ctx.lang == "ko" {
            ko::copula(&list)
        } else {
            list
        };
        Ok(SkillReply::say(ctx.say(
            "SoriHelp",
            "default",
            &[("skills", list)],
        )?))
    }
}

/// "a, b and c" / "a, b, c".
pub fn join(lang: &str, items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [head @ .., last] if lang != "ko" => format!("{} and {last}", head.join(", ")),
        all => all.join(", "),
    }
}

/// "Repeat after me …": says the words back (also how tests make Sori say a given sentence).
pub struct Echo;

impl Skill for Echo {
    fn id(&self) -> &str {
        "echo"
    }

    fn intents(&self) -> Vec<String> {
        vec!["SoriEcho".into()]
    }

    fn describe(&self, lang: &str) -> Option<String> {
        Some(
            if lang == "ko" {
                "따라 말하기"
            } else {
                "repeat after you"
            }
            .into(),
        )
    }

    fn handle(&mut self, intent: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let Some(text) = intent.slot("text").and_then(|v| v.as_text()) else {
            return Ok(SkillReply::ask(
                ctx.persona.line(ctx.lang, "didnt_catch", &[]),
                "text",
                None,
            ));
        };
        let mut c = text.chars();
        let speech: String = c
            .next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default();
        Ok(SkillReply::say(speech))
    }
}
