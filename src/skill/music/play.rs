//! "Play …": from what was heard (a name matched against the library, a mood, a station or a
//! free search) to a queue and what to say. No match offers the closest name instead.

use super::{Music, PLAY};
use crate::intent::{Recognized, fuzzy};
use crate::music::{Field, Item, PlayerError};
use crate::skill::{Action, Answer, Ctx, SkillError, SkillReply};
use crate::values::Value;

/// At most this many tracks go into one queue ("play some music" on a big library).
const MAX_QUEUE: usize = 500;
/// A suggestion must be at least this similar to what was heard.
const SUGGEST_SCORE: f32 = 0.45;

/// Genre words a mood looks for in the tags.
fn mood_genres(mood: &str) -> &'static [&'static str] {
    match mood {
        "relaxing" => &[
            "ambient",
            "chill",
            "classical",
            "jazz",
            "lounge",
            "acoustic",
            "new age",
            "lo-fi",
            "folk",
        ],
        "upbeat" => &[
            "dance",
            "pop",
            "disco",
            "electronic",
            "house",
            "funk",
            "rock",
            "k-pop",
        ],
        "sad" => &["blues", "ballad", "soul", "sad"],
        "romantic" => &["r&b", "soul", "ballad", "love", "romantic"],
        "focus" => &["ambient", "classical", "instrumental", "lo-fi", "piano"],
        "sleep" => &["ambient", "sleep", "classical", "piano", "new age"],
        _ => &[],
    }
}

/// The mood as said in the reply.
fn mood_words(lang: &str, mood: &str) -> String {
    let ko = match mood {
        "relaxing" => "잔잔한",
        "upbeat" => "신나는",
        "sad" => "슬픈",
        "romantic" => "로맨틱한",
        "focus" => "집중할 때 듣는",
        "sleep" => "잠잘 때 듣는",
        other => other,
    };
    if lang == "ko" { ko.into() } else { mood.into() }
}

fn text<'a>(i: &'a Recognized, slot: &str) -> Option<&'a str> {
    i.slot(slot).and_then(Value::as_text)
}

/// "some jazz" → "jazz": filler words a free search should not look for.
fn clean_query(q: &str) -> String {
    const FILLER: &[&str] = &[
        "some", "the", "a", "me", "my", "song", "track", "music", "please",
    ];
    let words: Vec<&str> = q
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    let start = words
        .iter()
        .position(|w| !FILLER.contains(&w.to_lowercase().as_str()))
        .unwrap_or(words.len());
    words[start..].join(" ")
}

/// "Blue Sky by The Tones" / "The Tones의 Blue Sky".
pub(super) fn describe(lang: &str, item: &Item) -> String {
    match (&item.artist, lang) {
        (Some(a), "ko") => format!("{a}의 {}", item.title),
        (Some(a), _) => format!("{} by {a}", item.title),
        (None, _) => item.title.clone(),
    }
}

impl Music {
    pub(super) fn play(&mut self, i: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let shuffle = matches!(
            i.slot("shuffle"),
            Some(Value::Json(serde_json::Value::Bool(true)))
        ) || text(i, "shuffle") == Some("true");
        let lang = ctx.lang;
        if let Some(station) = text(i, "station") {
            return self.play_station(station, ctx);
        }
        let fields = [
            ("title", Field::Title),
            ("album", Field::Album),
            ("artist", Field::Artist),
            ("genre", Field::Genre),
        ];
        for (slot, field) in fields {
            let Some(name) = text(i, slot) else { continue };
            let mut items = self.catalog.by(field, name).map_err(failed)?;
            if let (Field::Title, Some(artist)) = (field, text(i, "artist")) {
                let by_artist: Vec<Item> = items
                    .iter()
                    .filter(|t| {
                        t.artist
                            .as_deref()
                            .is_some_and(|a| a.eq_ignore_ascii_case(artist))
                    })
                    .cloned()
                    .collect();
                if !by_artist.is_empty() {
                    items = by_artist;
                }
            }
            if items.is_empty() {
                continue;
            }
            let (key, vars) = match field {
                Field::Title => {
                    let first = &items[0];
                    match &first.artist {
                        Some(a) => (
                            "song",
                            vec![("title", first.title.clone()), ("artist", a.clone())],
                        ),
                        None => ("title", vec![("title", first.title.clone())]),
                    }
                }
                Field::Artist if shuffle => ("artist_shuffle", vec![("artist", name.to_string())]),
                Field::Artist => ("artist", vec![("artist", name.to_string())]),
                Field::Album => ("album", vec![("album", name.to_string())]),
                Field::Genre => ("genre", vec![("genre", name.to_string())]),
            };
            // A single song plays on into the rest of its album.
            if field == Field::Title && items.len() == 1 {
                if let Some(album) = items[0].album.clone() {
                    let rest = self.catalog.by(Field::Album, &album).map_err(failed)?;
                    if let Some(at) = rest.iter().position(|t| t.uri == items[0].uri) {
                        items = rest[at..].to_vec();
                    }
                }
            }
            return self.queue(items, shuffle, ctx, key, &vars);
        }
        if let Some(mood) = text(i, "mood") {
            let words = mood_words(lang, mood);
            let items = self
                .catalog
                .sample(mood_genres(mood), MAX_QUEUE)
                .map_err(failed)?;
            if !items.is_empty() {
                return self.queue(items, true, ctx, "mood", &[("mood", words)]);
            }
            let any = self.catalog.sample(&[], MAX_QUEUE).map_err(failed)?;
            if any.is_empty() {
                return Ok(SkillReply::say(ctx.say(PLAY, "empty", &[])?));
            }
            return self.queue(any, true, ctx, "mood_none", &[("mood", words)]);
        }
        if let Some(q) = text(i, "query") {
            return self.search(&clean_query(q), shuffle, ctx);
        }
        let any = self.catalog.sample(&[], MAX_QUEUE).map_err(failed)?;
        if any.is_empty() {
            return Ok(SkillReply::say(ctx.say(PLAY, "empty", &[])?));
        }
        let key = if shuffle { "any_shuffle" } else { "any" };
        self.queue(any, true, ctx, key, &[])
    }

    /// A free search; nothing found offers the closest name ("Want that?").
    fn search(&mut self, q: &str, shuffle: bool, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        if let Some((name, _)) = self.best_station(q) {
            return self.play_station(&name, ctx);
        }
        let items = self.catalog.search(q, MAX_QUEUE).map_err(failed)?;
        if let Some(first) = items.first() {
            let vars = [
                ("title", first.title.clone()),
                ("artist", first.artist.clone().unwrap_or_default()),
            ];
            let key = if first.artist.is_some() {
                "song"
            } else {
                "title"
            };
            return self.queue(items, shuffle, ctx, key, &vars);
        }
        let Some((field, name)) = self.closest(q) else {
            return Ok(SkillReply::say(ctx.say(
                PLAY,
                "not_found",
                &query_vars(ctx.lang, q, None),
            )?));
        };
        match ctx.answer {
            // "Want that?" — yes: play the suggestion.
            Some(Answer::Yes) => {
                let items = self.catalog.by(field, &name).map_err(failed)?;
                let vars = [
                    ("title", name.clone()),
                    ("artist", name.clone()),
                    ("album", name.clone()),
                    ("genre", name.clone()),
                ];
                let key = match field {
                    Field::Title => "title",
                    Field::Artist => "artist",
                    Field::Album => "album",
                    Field::Genre => "genre",
                };
                self.queue(items, shuffle, ctx, key, &vars)
            }
            Some(Answer::No) => Ok(SkillReply::say(ctx.say(PLAY, "declined", &[])?)),
            None => {
                let suggestion = match field {
                    Field::Title => self
                        .catalog
                        .by(Field::Title, &name)
                        .ok()
                        .and_then(|v| v.into_iter().next())
                        .map_or(name.clone(), |t| describe(ctx.lang, &t)),
                    _ => name.clone(),
                };
                let vars = query_vars(ctx.lang, q, Some(&suggestion));
                Ok(SkillReply::confirm(ctx.say(PLAY, "suggest", &vars)?))
            }
        }
    }

    /// The library name most like `q`, if any is close enough to offer.
    fn closest(&self, q: &str) -> Option<(Field, String)> {
        let mut best: Option<(f32, Field, String)> = None;
        for field in Field::ALL {
            for name in self.catalog.names(field).ok()? {
                let s = fuzzy::similarity(q, &name);
                if s >= SUGGEST_SCORE && best.as_ref().is_none_or(|(b, _, _)| s > *b) {
                    best = Some((s, field, name));
                }
            }
        }
        best.map(|(_, f, n)| (f, n))
    }

    fn best_station(&self, q: &str) -> Option<(String, String)> {
        self.stations
            .iter()
            .map(|(n, u)| (fuzzy::similarity(q, n), n, u))
            .filter(|(s, _, _)| *s >= fuzzy::MIN_SCORE)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, n, u)| (n.clone(), u.clone()))
    }

    fn play_station(&mut self, name: &str, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let Some((name, url)) = self
            .stations
            .get_key_value(name)
            .map(|(n, u)| (n.clone(), u.clone()))
            .or_else(|| self.best_station(name))
        else {
            return Ok(SkillReply::say(ctx.say(
                PLAY,
                "not_found",
                &query_vars(ctx.lang, name, None),
            )?));
        };
        // Checked before saying "playing": a dead station is a spoken error, not silence.
        if self.online {
            if let Err(e) = crate::music::radio::probe(&url) {
                tracing::warn!(station = %name, "radio: {e}");
                return Ok(SkillReply::say(ctx.say(
                    PLAY,
                    "station_dead",
                    &[("station", name)],
                )?));
            }
        }
        let item = Item {
            uri: url,
            title: name.clone(),
            radio: true,
            ..Item::default()
        };
        self.queue(vec![item], false, ctx, "station", &[("station", name)])
    }

    fn queue(
        &mut self,
        items: Vec<Item>,
        shuffle: bool,
        ctx: &mut Ctx,
        key: &str,
        vars: &[(&str, String)],
    ) -> Result<SkillReply, SkillError> {
        let speech = ctx.say(PLAY, key, vars)?;
        Ok(SkillReply::say(speech).with_action(Action::Play {
            what: serde_json::json!({ "items": items, "shuffle": shuffle }),
        }))
    }
}

/// `{query}` and `{suggestion}`, with Korean topic particles attached (`{query_topic}`).
fn query_vars(lang: &str, q: &str, suggestion: Option<&str>) -> Vec<(&'static str, String)> {
    let mut v = vec![("query", q.to_string())];
    if lang == "ko" {
        v.push(("query_topic", crate::lang::ko::topic(q)));
    }
    if let Some(s) = suggestion {
        v.push(("suggestion", s.to_string()));
        if lang == "ko" {
            v.push(("suggestion_topic", crate::lang::ko::topic(s)));
        }
    }
    v
}

pub(super) fn failed(e: PlayerError) -> SkillError {
    SkillError::Failed(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filler_words_are_not_searched() {
        assert_eq!(clean_query("some jazz"), "jazz");
        assert_eq!(clean_query("the song Blue Sky."), "Blue Sky");
        assert_eq!(clean_query("some"), "");
    }
}
