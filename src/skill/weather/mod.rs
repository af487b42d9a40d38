//! Weather, sunrise and sunset, and the time in other places, for the configured location or
//! one named in the sentence ("in Busan", "부산"). Forecasts come from Open-Meteo (`api`); the
//! last one per place is kept (`place`) so Sori can still answer, saying how old it is, when
//! the network is down.

pub mod api;
pub mod place;

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

use super::builtin::clock::{self, EN_DAYS, KO_DAYS};
use crate::config::Config;
use crate::intent::Recognized;
use crate::skill::{Ctx, Skill, SkillError, SkillReply};
use crate::values::{Day, Value};
use api::Forecast;
use place::{Places, Problem};

pub const WEATHER: &str = "SoriWeather";
pub const RAIN: &str = "SoriRain";
pub const TEMPERATURE: &str = "SoriTemperature";
pub const SUN: &str = "SoriSun";
pub const TIME_IN: &str = "SoriTimeIn";

pub struct Weather {
    places: Places,
}

impl Weather {
    /// `online: false` never touches the network (fixture tests, `sori skill test`): only
    /// saved forecasts and places answer.
    pub fn new(db: Arc<Mutex<crate::store::Store>>, cfg: &Config, online: bool) -> Self {
        let client = match api::Client::new(&cfg.weather) {
            Ok(c) if online => Some(c),
            Ok(_) => None,
            Err(e) => {
                tracing::error!("weather: {e}");
                None
            }
        };
        Weather {
            places: Places {
                db,
                client,
                home: cfg.location.clone(),
                units: cfg.weather.units.clone(),
            },
        }
    }
}

fn temp(lang: &str, t: f64, units: &str) -> String {
    let n = t.round() as i64;
    match (lang, units) {
        ("ko", _) => format!("{n}도"),
        (_, "imperial") => format!("{n}°F"),
        _ => format!("{n}°C"),
    }
}

/// "today", "tomorrow", "on Friday" / "오늘", "내일", "금요일".
fn day_words(lang: &str, base: NaiveDate, d: NaiveDate) -> String {
    use chrono::Datelike;
    let ko = lang == "ko";
    match ((d - base).num_days(), ko) {
        (0, true) => "오늘".into(),
        (0, false) => "today".into(),
        (1, true) => "내일".into(),
        (1, false) => "tomorrow".into(),
        (2, true) => "모레".into(),
        (_, true) => format!(
            "{}요일",
            KO_DAYS[d.weekday().num_days_from_monday() as usize]
        ),
        (_, false) => format!(
            "on {}",
            EN_DAYS[d.weekday().num_days_from_monday() as usize]
        ),
    }
}

/// "12 minutes", "3 hours", "2 days" / "12분", "3시간", "2일".
fn age_words(lang: &str, ms: i64) -> String {
    let mins = (ms / 60_000).max(1);
    match (mins, lang == "ko") {
        (m, _) if m < 60 => super::timers::spoken_duration(lang, m * 60),
        (m, true) if m < 24 * 60 => format!("{}시간", m / 60),
        (m, false) if m < 24 * 60 => crate::lang::en::count(m / 60, "hour"),
        (m, true) => format!("{}일", m / 1440),
        (m, false) => crate::lang::en::count(m / 1440, "day"),
    }
}

/// "7:23" from Open-Meteo's "2026-11-26T07:23".
fn clock_of(local: &str) -> Option<(u32, u32)> {
    let t = local.split('T').nth(1)?;
    let (h, m) = t.split_once(':')?;
    Some((h.parse().ok()?, m.get(..2)?.parse().ok()?))
}

impl Skill for Weather {
    fn id(&self) -> &str {
        "weather"
    }

    fn intents(&self) -> Vec<String> {
        [WEATHER, RAIN, TEMPERATURE, SUN, TIME_IN]
            .map(String::from)
            .to_vec()
    }

    fn describe(&self, lang: &str) -> Option<String> {
        Some(
            if lang == "ko" {
                "날씨"
            } else {
                "tell you the weather"
            }
            .into(),
        )
    }

    fn handle(&mut self, i: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let lang = ctx.lang.to_string();
        let heard = i
            .slot("place")
            .and_then(Value::as_text)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if i.intent == TIME_IN {
            return self.time_in(heard.as_deref().unwrap_or_default(), &lang, ctx);
        }
        let problem = |ctx: &mut Ctx, p: Problem| -> Result<SkillReply, SkillError> {
            let said = match p {
                Problem::NoHome => ctx.say(WEATHER, "no_home", &[])?,
                Problem::UnknownPlace(n) => ctx.say(
                    WEATHER,
                    "unknown_place",
                    &[("place_quoted", quoted(&n)), ("place", n)],
                )?,
                Problem::Offline => ctx.say(WEATHER, "offline", &[])?,
                Problem::Bad(e) | Problem::Db(e) => {
                    tracing::error!("weather: {e}");
                    ctx.say(WEATHER, "bad", &[])?
                }
            };
            Ok(SkillReply::say(said))
        };
        let place = match self.places.resolve(heard.as_deref(), &lang) {
            Ok(p) => p,
            Err(p) => return problem(ctx, p),
        };
        let got = match self.places.forecast(&place, ctx.now_ms) {
            Ok(g) => g,
            Err(p) => return problem(ctx, p),
        };
        let place_name = if place.name.is_empty() {
            if lang == "ko" {
                "이 지역"
            } else {
                "your area"
            }
            .to_string()
        } else {
            place.name.clone()
        };
        let answer = self.answer(i, &got.forecast, &lang, &place_name, ctx)?;
        Ok(SkillReply::say(match got.age_ms {
            None => answer,
            Some(age) => ctx.say(
                WEATHER,
                if got.offline {
                    "offline_cached"
                } else {
                    "bad_cached"
                },
                &[("age", age_words(&lang, age)), ("answer", answer)],
            )?,
        }))
    }
}

impl Weather {
    fn answer(
        &self,
        i: &Recognized,
        f: &Forecast,
        lang: &str,
        place: &str,
        ctx: &mut Ctx,
    ) -> Result<String, SkillError> {
        let units = self.places.units.as_str();
        // "Today" is the place's own date (Open-Meteo reports its local time).
        let base = NaiveDate::parse_from_str(f.current.time.get(..10).unwrap_or(""), "%Y-%m-%d")
            .unwrap_or(ctx.now.date());
        let asked = match i.slot("day") {
            Some(Value::Day(d)) => Some(*d),
            _ => None,
        };
        let date = asked.map_or(base, |d| clock::resolve(base, d));
        let Some(k) = f.day(&date.format("%Y-%m-%d").to_string()) else {
            return ctx.say(WEATHER, "beyond", &[]);
        };
        let d = &f.daily;
        let day = day_words(lang, base, date);
        let (max, min) = (
            temp(lang, d.temperature_2m_max[k], units),
            temp(lang, d.temperature_2m_min[k], units),
        );
        let condition = api::condition(d.weather_code[k], lang).to_string();
        let chance = d
            .precipitation_probability_max
            .get(k)
            .copied()
            .flatten()
            .unwrap_or(if api::wet(d.weather_code[k]) {
                70.0
            } else {
                0.0
            });
        let now_asked = asked.is_none() || matches!(asked, Some(Day::Offset(0)));
        // Korean needs the particle that fits the name: 서울은, 부산은.
        let with = |rest: &[(&'static str, String)]| -> Vec<(&'static str, String)> {
            let mut v = vec![
                ("place", place.to_string()),
                ("place_topic", crate::lang::ko::topic(place)),
            ];
            v.extend_from_slice(rest);
            v
        };
        match i.intent.as_str() {
            WEATHER if now_asked => ctx.say(
                WEATHER,
                "now",
                &with(&[
                    ("temp", temp(lang, f.current.temperature_2m, units)),
                    (
                        "condition",
                        api::condition(f.current.weather_code, lang).into(),
                    ),
                    ("max", max),
                    ("min", min),
                ]),
            ),
            WEATHER => ctx.say(
                WEATHER,
                "day",
                &with(&[
                    ("day", day),
                    ("condition", condition),
                    ("max", max),
                    ("min", min),
                ]),
            ),
            RAIN => {
                let key = if chance >= 50.0 || api::wet(d.weather_code[k]) && chance >= 30.0 {
                    "yes"
                } else if chance >= 20.0 {
                    "maybe"
                } else {
                    "no"
                };
                ctx.say(
                    RAIN,
                    key,
                    &with(&[("day", day), ("chance", format!("{}%", chance.round()))]),
                )
            }
            TEMPERATURE => {
                let which = i
                    .slot("extreme")
                    .and_then(Value::as_text)
                    .unwrap_or_default();
                match which {
                    "max" => ctx.say(TEMPERATURE, "high", &with(&[("day", day), ("max", max)])),
                    "min" => ctx.say(TEMPERATURE, "low", &with(&[("day", day), ("min", min)])),
                    _ if now_asked => ctx.say(
                        TEMPERATURE,
                        "now",
                        &with(&[("temp", temp(lang, f.current.temperature_2m, units))]),
                    ),
                    _ => ctx.say(
                        TEMPERATURE,
                        "range",
                        &with(&[("day", day), ("max", max), ("min", min)]),
                    ),
                }
            }
            SUN => {
                let event = i
                    .slot("event")
                    .and_then(Value::as_text)
                    .unwrap_or("sunrise");
                let list = if event == "sunset" {
                    &d.sunset
                } else {
                    &d.sunrise
                };
                let Some((h, m)) = list.get(k).and_then(|t| clock_of(t)) else {
                    return ctx.say(WEATHER, "bad", &[]);
                };
                ctx.say(
                    SUN,
                    if event == "sunset" {
                        "sunset"
                    } else {
                        "sunrise"
                    },
                    &with(&[
                        ("day", day),
                        (
                            "time_is",
                            crate::lang::ko::copula(&clock::spoken_time(lang, h, m)),
                        ),
                        ("time", clock::spoken_time(lang, h, m)),
                    ]),
                )
            }
            other => Err(SkillError::Failed(format!("weather cannot handle {other}"))),
        }
    }

    /// The time in another place: its time zone from the geocoder, or (offline) from the
    /// time zone database when the name is a zone's city ("Tokyo" → Asia/Tokyo).
    fn time_in(&self, name: &str, lang: &str, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let found = self.places.resolve(Some(name), lang).ok();
        let zone = found
            .as_ref()
            .and_then(|p| p.timezone.as_deref())
            .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
            .or_else(|| zone_by_city(name));
        let Some(tz) = zone else {
            return Ok(SkillReply::say(ctx.say(
                WEATHER,
                "unknown_place",
                &[("place", name.into()), ("place_quoted", quoted(name))],
            )?));
        };
        let place = found.map_or_else(|| name.to_string(), |p| p.name);
        let there = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ctx.now_ms)
            .unwrap_or_default()
            .with_timezone(&tz)
            .naive_local();
        use chrono::Timelike;
        let time = clock::spoken_time(lang, there.hour(), there.minute());
        let days = (there.date() - ctx.now.date()).num_days();
        let vars = [
            ("place_topic", crate::lang::ko::topic(&place)),
            ("place", place),
            ("time_is", crate::lang::ko::copula(&time)),
            ("time", time),
        ];
        Ok(SkillReply::say(match days {
            0 => ctx.say(TIME_IN, "same_day", &vars)?,
            d if d > 0 => ctx.say(TIME_IN, "tomorrow", &vars)?,
            _ => ctx.say(TIME_IN, "yesterday", &vars)?,
        }))
    }
}

/// "부산이라는" / "서울이라는" / "파리라는": the quoting particle that fits.
fn quoted(name: &str) -> String {
    format!(
        "{name}{}",
        if crate::lang::ko::has_batchim(name) {
            "이라는"
        } else {
            "라는"
        }
    )
}

/// A time zone whose city part is `name` ("new york" → America/New_York).
fn zone_by_city(name: &str) -> Option<chrono_tz::Tz> {
    let want = name.trim().to_lowercase().replace(' ', "_");
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| {
            tz.name()
                .rsplit('/')
                .next()
                .is_some_and(|city| city.to_lowercase() == want)
        })
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_days_ages_and_temperatures() {
        let base = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(day_words("en", base, base.succ_opt().unwrap()), "tomorrow");
        assert_eq!(
            day_words("en", base, base + chrono::Duration::days(3)),
            "on Sunday"
        );
        assert_eq!(
            day_words("ko", base, base + chrono::Duration::days(3)),
            "일요일"
        );
        assert_eq!(age_words("en", 3 * 3_600_000 + 5), "3 hours");
        assert_eq!(age_words("ko", 12 * 60_000), "12분");
        assert_eq!(temp("en", 21.4, "metric"), "21°C");
        assert_eq!(temp("en", -0.6, "imperial"), "-1°F");
        assert_eq!(temp("ko", 8.5, "metric"), "9도");
        assert_eq!(clock_of("2026-11-26T07:23"), Some((7, 23)));
        assert_eq!(
            zone_by_city("New York").map(|z| z.name()),
            Some("America/New_York")
        );
        assert_eq!(zone_by_city("Atlantis"), None);
    }
}
