//! Open-Meteo's forecast and geocoding APIs (no key), over blocking HTTP: skills run off the
//! async runtime. Base URLs come from config so tests (and self-hosters) point them elsewhere.

use serde::Deserialize;
use thiserror::Error;

use crate::config::WeatherConfig;

#[derive(Debug, Error)]
pub enum ApiError {
    /// No answer: no network, DNS, refused, timed out.
    #[error("cannot reach {url}: {msg}")]
    Offline { url: String, msg: String },
    /// An answer that is not a forecast: an error status or malformed JSON.
    #[error("{url} answered with {msg}")]
    Bad { url: String, msg: String },
}

/// A place with coordinates, as the geocoder names it in the asked language.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct Place {
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    /// The region (state, province) that tells same-named places apart.
    #[serde(default)]
    pub admin1: Option<String>,
}

/// The parts of Open-Meteo's forecast Sori speaks about.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Forecast {
    #[serde(default)]
    pub timezone: Option<String>,
    pub current: Current,
    pub daily: Daily,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Current {
    pub time: String,
    pub temperature_2m: f64,
    pub weather_code: u8,
    #[serde(default)]
    pub wind_speed_10m: Option<f64>,
}

/// One entry per day, `time` as YYYY-MM-DD in the place's own time zone.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Daily {
    pub time: Vec<String>,
    pub weather_code: Vec<u8>,
    pub temperature_2m_max: Vec<f64>,
    pub temperature_2m_min: Vec<f64>,
    #[serde(default)]
    pub precipitation_probability_max: Vec<Option<f64>>,
    #[serde(default)]
    pub precipitation_sum: Vec<Option<f64>>,
    /// Local times, YYYY-MM-DDTHH:MM.
    #[serde(default)]
    pub sunrise: Vec<String>,
    #[serde(default)]
    pub sunset: Vec<String>,
}

impl Forecast {
    /// Parses a forecast response, checking the daily arrays line up.
    ///
    /// # Errors
    /// Malformed JSON or missing fields, as a message.
    pub fn parse(body: &str) -> Result<Forecast, String> {
        let f: Forecast = serde_json::from_str(body).map_err(|e| format!("malformed JSON: {e}"))?;
        let n = f.daily.time.len();
        if n == 0
            || f.daily.weather_code.len() != n
            || f.daily.temperature_2m_max.len() != n
            || f.daily.temperature_2m_min.len() != n
        {
            return Err("daily arrays of different lengths".into());
        }
        Ok(f)
    }

    /// The index of `date` (YYYY-MM-DD) in the daily arrays.
    pub fn day(&self, date: &str) -> Option<usize> {
        self.daily.time.iter().position(|d| d == date)
    }
}

pub struct Client {
    http: reqwest::blocking::Client,
    cfg: WeatherConfig,
}

impl Client {
    /// # Errors
    /// Only if the TLS setup fails.
    pub fn new(cfg: &WeatherConfig) -> Result<Client, ApiError> {
        crate::net::install_tls_provider();
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_millis(u64::from(cfg.timeout_ms)))
            .user_agent(concat!("sori/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Offline {
                url: cfg.forecast_url.clone(),
                msg: e.to_string(),
            })?;
        Ok(Client {
            http,
            cfg: cfg.clone(),
        })
    }

    fn get(&self, url: &str, query: &[(&str, String)]) -> Result<String, ApiError> {
        let full = reqwest::Url::parse_with_params(url, query).map_err(|e| ApiError::Bad {
            url: url.to_string(),
            msg: e.to_string(),
        })?;
        let r = self.http.get(full).send().map_err(|e| ApiError::Offline {
            url: url.to_string(),
            msg: e.to_string(),
        })?;
        let status = r.status();
        let body = r.text().map_err(|e| ApiError::Offline {
            url: url.to_string(),
            msg: e.to_string(),
        })?;
        if !status.is_success() {
            return Err(ApiError::Bad {
                url: url.to_string(),
                msg: format!(
                    "HTTP {status}: {}",
                    body.chars().take(200).collect::<String>()
                ),
            });
        }
        Ok(body)
    }

    /// The best match for a place name, named in `lang`; `None` if there is none.
    ///
    /// # Errors
    /// Network or format errors.
    pub fn geocode(&self, name: &str, lang: &str) -> Result<Option<Place>, ApiError> {
        Ok(self.search(name, lang, 1)?.into_iter().next())
    }

    /// Up to `count` places with that name, most populous first (Open-Meteo's order).
    ///
    /// # Errors
    /// Network or format errors.
    pub fn search(&self, name: &str, lang: &str, count: usize) -> Result<Vec<Place>, ApiError> {
        #[derive(Deserialize)]
        struct Found {
            #[serde(default)]
            results: Vec<Place>,
        }
        let url = &self.cfg.geocoding_url;
        let body = self.get(
            url,
            &[
                ("name", name.to_string()),
                ("count", count.to_string()),
                ("language", lang.to_string()),
                ("format", "json".into()),
            ],
        )?;
        let found: Found = serde_json::from_str(&body).map_err(|e| ApiError::Bad {
            url: url.clone(),
            msg: format!("malformed JSON: {e}"),
        })?;
        Ok(found.results)
    }

    /// The forecast for a place: now and seven days, in the configured units. Returns the raw
    /// body (for the cache) with its parse.
    ///
    /// # Errors
    /// Network errors, an error status, or a body that is not a forecast.
    pub fn forecast(&self, p: &Place) -> Result<(String, Forecast), ApiError> {
        let mut q = vec![
            ("latitude", format!("{:.4}", p.latitude)),
            ("longitude", format!("{:.4}", p.longitude)),
            ("current", "temperature_2m,weather_code,wind_speed_10m".into()),
            (
                "daily",
                "weather_code,temperature_2m_max,temperature_2m_min,precipitation_probability_max,precipitation_sum,sunrise,sunset".into(),
            ),
            ("timezone", "auto".into()),
            ("forecast_days", "7".into()),
        ];
        if self.cfg.units == "imperial" {
            q.push(("temperature_unit", "fahrenheit".into()));
            q.push(("wind_speed_unit", "mph".into()));
            q.push(("precipitation_unit", "inch".into()));
        }
        let url = &self.cfg.forecast_url;
        let body = self.get(url, &q)?;
        let f = Forecast::parse(&body).map_err(|msg| ApiError::Bad {
            url: url.clone(),
            msg,
        })?;
        Ok((body, f))
    }
}

/// WMO weather code → a short description.
pub fn condition(code: u8, lang: &str) -> &'static str {
    let ko = lang == "ko";
    match code {
        0 => {
            if ko {
                "맑음"
            } else {
                "clear"
            }
        }
        1 => {
            if ko {
                "대체로 맑음"
            } else {
                "mostly clear"
            }
        }
        2 => {
            if ko {
                "구름 조금"
            } else {
                "partly cloudy"
            }
        }
        3 => {
            if ko {
                "흐림"
            } else {
                "cloudy"
            }
        }
        45 | 48 => {
            if ko {
                "안개"
            } else {
                "foggy"
            }
        }
        51..=57 => {
            if ko {
                "이슬비"
            } else {
                "drizzly"
            }
        }
        61..=67 => {
            if ko {
                "비"
            } else {
                "rainy"
            }
        }
        71..=77 => {
            if ko {
                "눈"
            } else {
                "snowy"
            }
        }
        80..=82 => {
            if ko {
                "소나기"
            } else {
                "showery"
            }
        }
        85 | 86 => {
            if ko {
                "눈 소나기"
            } else {
                "snow showers"
            }
        }
        95..=99 => {
            if ko {
                "뇌우"
            } else {
                "stormy"
            }
        }
        _ => {
            if ko {
                "알 수 없음"
            } else {
                "unsettled"
            }
        }
    }
}

/// Rain or snow in the code itself.
pub fn wet(code: u8) -> bool {
    matches!(code, 51..=67 | 71..=77 | 80..=82 | 85 | 86 | 95..=99)
}
