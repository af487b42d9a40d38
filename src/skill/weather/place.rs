//! Where a question is about and its forecast: the configured location or a named place
//! (geocoded once, then remembered), and the forecast from the network or, failing that, the
//! last one saved in the state database.

use std::sync::{Arc, Mutex};

use rusqlite::{OptionalExtension, params};

use super::api::{ApiError, Client, Forecast, Place};
use crate::config::LocationConfig;
use crate::store::Store;

/// Why there is no answer.
#[derive(Debug)]
pub enum Problem {
    /// No location configured and none named.
    NoHome,
    UnknownPlace(String),
    /// No network and nothing saved.
    Offline,
    /// The service answered with an error or nonsense, and nothing is saved.
    Bad(String),
    Db(String),
}

/// A forecast and, when it came from the cache, how old it is.
pub struct Got {
    pub forecast: Forecast,
    pub age_ms: Option<i64>,
    /// Why the cache was used: the service was unreachable (`true`) or answered badly.
    pub offline: bool,
}

pub struct Places {
    pub db: Arc<Mutex<Store>>,
    pub client: Option<Client>,
    pub home: LocationConfig,
    pub units: String,
}

impl Places {
    fn db<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, Problem> {
        let mut db = self
            .db
            .lock()
            .map_err(|_| Problem::Db("state database lock poisoned".into()))?;
        f(db.conn()).map_err(|e| Problem::Db(e.to_string()))
    }

    /// The place a question is about: `heard` ("Busan"), else the configured location.
    ///
    /// # Errors
    /// No location, an unknown place, or no network for a place never looked up.
    pub fn resolve(&self, heard: Option<&str>, lang: &str) -> Result<Place, Problem> {
        let name = match heard {
            Some(h) => h.trim().to_string(),
            None if self.home.has_coordinates() => {
                return Ok(Place {
                    name: self.home.name.clone(),
                    latitude: self.home.latitude,
                    longitude: self.home.longitude,
                    timezone: (!self.home.timezone.is_empty()).then(|| self.home.timezone.clone()),
                    country: None,
                    admin1: None,
                });
            }
            None if !self.home.name.is_empty() => self.home.name.clone(),
            None => return Err(Problem::NoHome),
        };
        let key = format!("{lang}:{}", name.to_lowercase());
        let saved: Option<String> = self.db(|c| {
            c.query_row("SELECT body FROM places WHERE query = ?1", [&key], |r| {
                r.get(0)
            })
            .optional()
        })?;
        if let Some(p) = saved.and_then(|b| serde_json::from_str::<Place>(&b).ok()) {
            return Ok(p);
        }
        let Some(client) = &self.client else {
            return Err(Problem::Offline);
        };
        match client.geocode(&name, lang) {
            Ok(Some(p)) => {
                let body = serde_json::to_string(&p).unwrap_or_default();
                self.db(|c| {
                    c.execute(
                        "INSERT OR REPLACE INTO places (query, body) VALUES (?1, ?2)",
                        params![key, body],
                    )
                })?;
                Ok(p)
            }
            Ok(None) => Err(Problem::UnknownPlace(name)),
            Err(ApiError::Offline { msg, .. }) => {
                tracing::warn!("geocoding {name:?}: {msg}");
                Err(Problem::Offline)
            }
            Err(e) => Err(Problem::Bad(e.to_string())),
        }
    }

    /// The forecast for `p`: fresh, else the saved one with its age.
    ///
    /// # Errors
    /// No network (or a bad answer) and nothing saved.
    pub fn forecast(&self, p: &Place, now_ms: i64) -> Result<Got, Problem> {
        let key = format!("{:.3},{:.3},{}", p.latitude, p.longitude, self.units);
        let fetched = match &self.client {
            Some(c) => c.forecast(p),
            None => Err(ApiError::Offline {
                url: String::new(),
                msg: "no HTTP client".into(),
            }),
        };
        let offline = match fetched {
            Ok((body, forecast)) => {
                self.db(|c| {
                    c.execute(
                        "INSERT OR REPLACE INTO weather_cache (key, fetched_ms, body) VALUES (?1, ?2, ?3)",
                        params![key, now_ms, body],
                    )
                })?;
                return Ok(Got {
                    forecast,
                    age_ms: None,
                    offline: false,
                });
            }
            Err(ApiError::Offline { url, msg }) => {
                tracing::warn!("weather: cannot reach {url}: {msg}");
                true
            }
            Err(e) => {
                tracing::error!("weather: {e}");
                if let Err(Problem::Offline) = self.cached(&key, now_ms, false) {
                    return Err(Problem::Bad(e.to_string()));
                }
                false
            }
        };
        self.cached(&key, now_ms, offline)
    }

    fn cached(&self, key: &str, now_ms: i64, offline: bool) -> Result<Got, Problem> {
        let saved: Option<(i64, String)> = self.db(|c| {
            c.query_row(
                "SELECT fetched_ms, body FROM weather_cache WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })?;
        let (at, body) = saved.ok_or(Problem::Offline)?;
        let forecast = Forecast::parse(&body).map_err(|_| Problem::Offline)?;
        Ok(Got {
            forecast,
            age_ms: Some((now_ms - at).max(0)),
            offline,
        })
    }
}
