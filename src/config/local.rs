//! `[alarms]`, `[location]` and `[weather]`: the local-info skills (timers, alarms, time,
//! weather, sunrise and sunset).

use serde::{Deserialize, Serialize};

/// `[alarms]` (timers too).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AlarmsConfig {
    /// How long a timer or alarm keeps ringing (sound and speech, repeated) unless stopped.
    pub ring_seconds: u32,
    /// Snooze length when none is said ("snooze").
    pub snooze_minutes: u32,
}

impl Default for AlarmsConfig {
    fn default() -> Self {
        AlarmsConfig {
            ring_seconds: 300,
            snooze_minutes: 10,
        }
    }
}

/// `[location]`: where the speaker is, for weather, sunrise/sunset and local time.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LocationConfig {
    /// The place's name as Sori says it ("Seoul"). With no coordinates, it is geocoded.
    pub name: String,
    /// Coordinates in degrees (north and east positive); 0/0 means unset.
    pub latitude: f64,
    pub longitude: f64,
    /// IANA time zone ("Asia/Seoul"); empty: the system's.
    pub timezone: String,
}

/// `[weather]`: Open-Meteo (no key needed).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct WeatherConfig {
    /// `metric` (°C, km/h, mm) or `imperial` (°F, mph, inch).
    pub units: String,
    /// Open-Meteo's forecast API (a self-hosted Open-Meteo, or a test server).
    pub forecast_url: String,
    /// Open-Meteo's geocoding API, for places named in a question ("in Busan").
    pub geocoding_url: String,
    /// Give up on the network after this long and answer from the cache.
    pub timeout_ms: u32,
}

impl Default for WeatherConfig {
    fn default() -> Self {
        WeatherConfig {
            units: "metric".into(),
            forecast_url: "https://api.open-meteo.com/v1/forecast".into(),
            geocoding_url: "https://geocoding-api.open-meteo.com/v1/search".into(),
            timeout_ms: 4000,
        }
    }
}

impl AlarmsConfig {
    pub(super) fn validate(&self) -> Result<(), super::ConfigError> {
        if !(5..=3600).contains(&self.ring_seconds) {
            return Err(super::invalid(
                "alarms.ring_seconds",
                format!(
                    "{} is out of range; use 5..=3600 (default 300)",
                    self.ring_seconds
                ),
            ));
        }
        if !(1..=120).contains(&self.snooze_minutes) {
            return Err(super::invalid(
                "alarms.snooze_minutes",
                format!(
                    "{} is out of range; use 1..=120 (default 10)",
                    self.snooze_minutes
                ),
            ));
        }
        Ok(())
    }
}

impl LocationConfig {
    pub(super) fn validate(&self) -> Result<(), super::ConfigError> {
        if !(-90.0..=90.0).contains(&self.latitude) {
            return Err(super::invalid(
                "location.latitude",
                format!(
                    "{} is not a latitude; use -90..=90 (north positive)",
                    self.latitude
                ),
            ));
        }
        if !(-180.0..=180.0).contains(&self.longitude) {
            return Err(super::invalid(
                "location.longitude",
                format!(
                    "{} is not a longitude; use -180..=180 (east positive)",
                    self.longitude
                ),
            ));
        }
        if !self.timezone.is_empty() && self.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(super::invalid(
                "location.timezone",
                format!(
                    "`{}` is not an IANA time zone; use a name like \"Asia/Seoul\" or \"Europe/London\"",
                    self.timezone
                ),
            ));
        }
        Ok(())
    }

    /// True when coordinates were given.
    pub fn has_coordinates(&self) -> bool {
        self.latitude != 0.0 || self.longitude != 0.0
    }
}

impl WeatherConfig {
    pub(super) fn validate(&self) -> Result<(), super::ConfigError> {
        if !["metric", "imperial"].contains(&self.units.as_str()) {
            return Err(super::invalid(
                "weather.units",
                format!("`{}` is not `metric` or `imperial`", self.units),
            ));
        }
        for (key, url) in [
            ("weather.forecast_url", &self.forecast_url),
            ("weather.geocoding_url", &self.geocoding_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(super::invalid(
                    key,
                    format!("`{url}` is not an http(s) URL"),
                ));
            }
        }
        if !(200..=60_000).contains(&self.timeout_ms) {
            return Err(super::invalid(
                "weather.timeout_ms",
                format!(
                    "{} is out of range; use 200..=60000 (default 4000)",
                    self.timeout_ms
                ),
            ));
        }
        Ok(())
    }
}
