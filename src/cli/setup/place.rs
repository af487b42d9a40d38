//! Setup's location and time zone step: a city name looked up with Open-Meteo's geocoder
//! (the one the weather skill uses), one of the matches picked, and its time zone offered.

use sori::config::Config;
use sori::config::edit::{Setting, string};
use sori::skill::weather::api::{Client, Place};

use super::prompt::Prompter;

/// How many matches a name shows ("Springfield" has dozens).
const MATCHES: usize = 6;

pub struct PlaceFlags<'a> {
    pub city: Option<&'a str>,
    pub coordinates: Option<(f64, f64)>,
    pub timezone: Option<&'a str>,
}

/// `lang` names the place in the reply language ("서울" for Korean).
pub fn run(
    p: &mut Prompter,
    cfg: &Config,
    flags: &PlaceFlags<'_>,
    lang: &str,
) -> anyhow::Result<Vec<Setting>> {
    let mut out = Vec::new();
    let mut zone: Option<String> = None;
    let place = match (flags.city, flags.coordinates) {
        (city, Some((lat, lon))) => Some(Place {
            name: city.unwrap_or(&cfg.location.name).to_string(),
            latitude: lat,
            longitude: lon,
            timezone: None,
            country: None,
            admin1: None,
        }),
        (city, None) => find(p, cfg, city, lang)?,
    };
    match &place {
        Some(pl) if pl.latitude == 0.0 && pl.longitude == 0.0 => {
            out.push(Setting::new("location.name", string(&pl.name)));
        }
        Some(pl) => {
            out.push(Setting::new("location.name", string(&pl.name)));
            out.push(Setting::new(
                "location.latitude",
                format!("{:.4}", pl.latitude),
            ));
            out.push(Setting::new(
                "location.longitude",
                format!("{:.4}", pl.longitude),
            ));
            zone = pl.timezone.clone();
        }
        None => {}
    }
    let system = system_timezone();
    let default = flags
        .timezone
        .map(str::to_string)
        .or(zone)
        .or_else(|| (!cfg.location.timezone.is_empty()).then(|| cfg.location.timezone.clone()))
        .or_else(|| system.clone())
        .unwrap_or_default();
    let tz = p.ask_valid(
        "Time zone (IANA name, e.g. Asia/Seoul)",
        &default,
        check_timezone,
    )?;
    if let (Some(sys), false) = (&system, tz.is_empty()) {
        if *sys != tz {
            p.say(format!(
                "  Note: this machine's clock is set to {sys}; Sori tells the time in {tz}."
            ));
        }
    }
    if !tz.is_empty() {
        out.push(Setting::new("location.timezone", string(&tz)));
    }
    Ok(out)
}

/// Asks for a city until one is found (or the answer is empty: no location). Offline, the
/// name alone is kept: the weather skill looks it up when it has a network.
fn find(
    p: &mut Prompter,
    cfg: &Config,
    flag: Option<&str>,
    lang: &str,
) -> anyhow::Result<Option<Place>> {
    let client = Client::new(&cfg.weather)?;
    for _ in 0..5 {
        let name = match flag {
            Some(f) => f.to_string(),
            None => p.ask(
                "City or town for weather and local time (empty: none)",
                &cfg.location.name,
            )?,
        };
        if name.is_empty() {
            return Ok(None);
        }
        p.say(format!("  looking up {name}…"));
        let found = match client.search(&name, lang, MATCHES) {
            Ok(f) => f,
            Err(e) => {
                p.say(format!(
                    "  {e}\n  Keeping the name only: Sori looks it up when it is online."
                ));
                return Ok(Some(Place {
                    name,
                    latitude: 0.0,
                    longitude: 0.0,
                    timezone: None,
                    country: None,
                    admin1: None,
                }));
            }
        };
        if found.is_empty() {
            let msg =
                format!("No place called `{name}` found: try another spelling or a nearby town.");
            if flag.is_some() || p.assume_yes() {
                anyhow::bail!("{msg}");
            }
            p.say(format!("  {msg}"));
            continue;
        }
        if found.len() == 1 || flag.is_some() || p.assume_yes() {
            p.say(format!("  {}", describe(&found[0])));
            return Ok(found.into_iter().next());
        }
        let options: Vec<String> = found.iter().map(describe).collect();
        let i = p.choose("Which one?", &options, 0)?;
        return Ok(found.into_iter().nth(i));
    }
    anyhow::bail!("no place chosen after 5 tries")
}

/// "Springfield, Illinois, United States (39.80, -89.64; America/Chicago)".
pub fn describe(pl: &Place) -> String {
    let mut parts = vec![pl.name.as_str()];
    if let Some(a) = pl.admin1.as_deref().filter(|a| *a != pl.name) {
        parts.push(a);
    }
    if let Some(c) = pl.country.as_deref() {
        parts.push(c);
    }
    format!(
        "{} ({:.2}, {:.2}{})",
        parts.join(", "),
        pl.latitude,
        pl.longitude,
        pl.timezone
            .as_deref()
            .map(|t| format!("; {t}"))
            .unwrap_or_default()
    )
}

fn check_timezone(a: &str) -> Result<String, String> {
    if a.is_empty() || a.parse::<chrono_tz::Tz>().is_ok() {
        return Ok(a.to_string());
    }
    let names = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name());
    let lower = a.to_lowercase().replace(' ', "_");
    // "seoul" → "Asia/Seoul": a city part alone is common.
    if let Some(full) = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|t| t.name())
        .find(|n| n.to_lowercase() == lower || n.to_lowercase().ends_with(&format!("/{lower}")))
    {
        return Err(format!("`{a}` is not an IANA name; did you mean {full}?"));
    }
    Err(match sori::text::closest(a, names) {
        Some(c) => format!("`{a}` is not an IANA time zone; did you mean {c}?"),
        None => {
            format!("`{a}` is not an IANA time zone; use a name like Asia/Seoul or Europe/London")
        }
    })
}

/// The machine's zone: `/etc/timezone`, else where `/etc/localtime` points.
fn system_timezone() -> Option<String> {
    if let Ok(s) = std::fs::read_to_string("/etc/timezone") {
        let s = s.trim().to_string();
        if s.parse::<chrono_tz::Tz>().is_ok() {
            return Some(s);
        }
    }
    let target = std::fs::read_link("/etc/localtime").ok()?;
    let s = target.to_string_lossy();
    let name = s.split_once("zoneinfo/")?.1.to_string();
    name.parse::<chrono_tz::Tz>().is_ok().then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_checked_with_a_suggestion() {
        assert_eq!(check_timezone("Asia/Seoul").unwrap(), "Asia/Seoul");
        assert_eq!(check_timezone("").unwrap(), "");
        assert!(check_timezone("seoul").unwrap_err().contains("Asia/Seoul"));
        assert!(
            check_timezone("Europe/Londn")
                .unwrap_err()
                .contains("Europe/London")
        );
        assert!(check_timezone("Mars/Olympus").is_err());
    }

    #[test]
    fn places_are_told_apart_by_region_and_country() {
        let p = Place {
            name: "Springfield".into(),
            latitude: 39.80172,
            longitude: -89.64371,
            timezone: Some("America/Chicago".into()),
            country: Some("United States".into()),
            admin1: Some("Illinois".into()),
        };
        assert_eq!(
            describe(&p),
            "Springfield, Illinois, United States (39.80, -89.64; America/Chicago)"
        );
    }
}
