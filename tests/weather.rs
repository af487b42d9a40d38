//! Weather through the real skill and HTTP client against a local server speaking Open-Meteo's
//! forecast and geocoding formats (`tests/weather/*.json`): each kind of question, a named
//! place in both languages, the time elsewhere, offline answers from the saved forecast with
//! its age, and clear spoken errors for a 500 or malformed answer.

mod common;

use std::net::TcpListener;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use sori::store::Store;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Ok,
    Error500,
    Malformed,
}

/// The local server answering like Open-Meteo.
struct Server {
    url: String,
    mode: Arc<Mutex<Mode>>,
    requests: Arc<Mutex<Vec<String>>>,
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(common::repo().join("tests/weather").join(name)).unwrap()
}

fn serve() -> Server {
    let mode = Arc::new(Mutex::new(Mode::Ok));
    let m = mode.clone();
    let http = common::http::serve(move |target| match *m.lock().unwrap() {
        Mode::Error500 => (
            "500 Internal Server Error",
            r#"{"error":true,"reason":"Internal error"}"#.to_string(),
        ),
        Mode::Malformed => (
            "200 OK",
            r#"{"latitude":37.5,"daily":{"time":["2026-11-26"]"#.to_string(),
        ),
        Mode::Ok => ("200 OK", answer(target)),
    });
    Server {
        url: http.url,
        mode,
        requests: http.requests,
    }
}

fn answer(target: &str) -> String {
    let q = target.to_lowercase();
    if q.starts_with("/v1/search") {
        let lang_ko = q.contains("language=ko");
        return fixture(
            if q.contains("name=busan") || q.contains("name=%eb%b6%80%ec%82%b0") {
                if lang_ko {
                    "geocoding_busan_ko.json"
                } else {
                    "geocoding_busan_en.json"
                }
            } else if q.contains("name=new+york") || q.contains("name=new%20york") {
                "geocoding_new_york_en.json"
            } else {
                "geocoding_none.json"
            },
        );
    }
    fixture(if q.contains("latitude=35.10") {
        "forecast_busan.json"
    } else {
        "forecast_seoul.json"
    })
}

/// 2026-11-26 07:05 UTC (16:05 in Seoul, the forecasts' local time).
const NOW_MS: i64 = 1_795_676_700_000;

fn brain(server: &Server, db: Arc<Mutex<Store>>, clock: Arc<AtomicI64>) -> sori::skill::Brain {
    let mut cfg = sori::config::Config::default();
    cfg.location.name = "Seoul".into();
    cfg.location.latitude = 37.566;
    cfg.location.longitude = 126.978;
    cfg.weather.forecast_url = format!("{}/v1/forecast", server.url);
    cfg.weather.geocoding_url = format!("{}/v1/search", server.url);
    cfg.weather.timeout_ms = 2000;
    let persona = sori::persona::Persona::new(&Default::default()).unwrap();
    let mut b = sori::skill::load::builtin_with(persona, db, Some(&cfg)).unwrap();
    b.responses.fixed = true;
    b.set_clock(move || {
        chrono::DateTime::from_timestamp_millis(clock.load(Ordering::Relaxed))
            .unwrap()
            .naive_utc()
    });
    b
}

fn setup() -> (
    Server,
    sori::skill::Brain,
    Arc<AtomicI64>,
    tempfile::TempDir,
) {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Mutex::new(Store::open(dir.path()).unwrap()));
    let clock = Arc::new(AtomicI64::new(NOW_MS));
    let b = brain(&server, db, clock.clone());
    (server, b, clock, dir)
}

#[test]
fn every_kind_of_weather_question_is_answered_from_the_forecast() {
    let (server, mut b, _, _dir) = setup();
    let mut ask = |s: &str| b.ask(s, None).reply;
    assert_eq!(
        ask("what's the weather like"),
        "Right now in Seoul it's 8°C and cloudy. Today's high is 10°C, the low 2°C."
    );
    assert_eq!(
        ask("what's the weather tomorrow"),
        "Tomorrow in Seoul: rainy, with a high of 9°C and a low of 4°C."
    );
    assert_eq!(
        ask("what's the forecast for saturday"),
        "On Saturday in Seoul: partly cloudy, with a high of 8°C and a low of -1°C."
    );
    assert_eq!(
        ask("will it rain tomorrow"),
        "Yes, tomorrow in Seoul there's a 80% chance of rain. Take an umbrella."
    );
    assert_eq!(
        ask("do I need an umbrella today"),
        "No, today in Seoul should stay dry."
    );
    assert_eq!(
        ask("will it rain on saturday"),
        "Maybe. There's a 25% chance of rain on Saturday in Seoul."
    );
    assert_eq!(
        ask("what's the temperature"),
        "It's 8°C in Seoul right now."
    );
    assert_eq!(
        ask("what's the high tomorrow"),
        "The high tomorrow in Seoul is 9°C."
    );
    assert_eq!(
        ask("what's the low on sunday"),
        "The low on Sunday in Seoul is -3°C."
    );
    assert_eq!(
        ask("when is sunset"),
        "Sunset today in Seoul is at 5:15 PM."
    );
    assert_eq!(
        ask("what time is sunrise tomorrow"),
        "Sunrise tomorrow in Seoul is at 7:19 AM."
    );
    assert_eq!(
        ask("what's the weather on monday"),
        "On Monday in Seoul: snowy, with a high of 1°C and a low of -6°C."
    );
    // The forecast was asked for the configured coordinates, with Open-Meteo's parameters.
    let reqs = server.requests.lock().unwrap().clone();
    assert!(
        reqs.iter()
            .all(|r| r.starts_with("/v1/forecast?latitude=37.5660&longitude=126.9780")),
        "{reqs:?}"
    );
    assert!(reqs[0].contains("timezone=auto") && reqs[0].contains("forecast_days=7"));
}

#[test]
fn a_named_place_is_looked_up_in_the_language_asked() {
    let (server, mut b, _, _dir) = setup();
    assert_eq!(
        b.ask("what's the weather in Busan tomorrow", None).reply,
        "Tomorrow in Busan: partly cloudy, with a high of 13°C and a low of 8°C."
    );
    assert_eq!(
        b.ask("내일 부산 날씨 어때", None).reply,
        "내일 부산 날씨는 구름 조금, 최고 13도, 최저 8도예요."
    );
    assert_eq!(
        b.ask("부산에 모레 비 와", Some("ko")).reply,
        b.ask("부산 모레 비 와", Some("ko")).reply
    );
    assert_eq!(
        b.ask("what time is it in New York", None).reply,
        "It's 2:05 AM in New York."
    );
    assert_eq!(
        b.ask("what's the weather in Atlantis", None).reply,
        "I couldn't find a place called atlantis."
    );
    // Busan was geocoded once per language, then remembered.
    let geo = server
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.starts_with("/v1/search") && r.to_lowercase().contains("busan"))
        .count();
    assert_eq!(geo, 1);
}

#[test]
fn offline_answers_come_from_the_saved_forecast_with_their_age() {
    let (server, mut b, clock, dir) = setup();
    assert!(
        b.ask("what's the weather like", None)
            .reply
            .starts_with("Right now in Seoul")
    );
    // The service goes away; two hours later Sori answers from what it saved.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let mut cfg_b = {
        let db = Arc::new(Mutex::new(Store::open(dir.path()).unwrap()));
        let s = Server {
            url: dead_url,
            mode: server.mode.clone(),
            requests: server.requests.clone(),
        };
        brain(&s, db, clock.clone())
    };
    clock.fetch_add(2 * 3_600_000, Ordering::Relaxed);
    assert_eq!(
        cfg_b.ask("what's the weather like", None).reply,
        "I can't reach the weather service. As of 2 hours ago: Right now in Seoul it's 8°C and cloudy. Today's high is 10°C, the low 2°C."
    );
    assert_eq!(
        cfg_b.ask("날씨 어때", None).reply,
        "날씨 서비스에 연결할 수 없어요. 2시간 전 예보로는, 지금 Seoul 날씨는 흐림, 8도예요. 오늘 최고 10도, 최저 2도예요."
    );
    assert_eq!(
        cfg_b.ask("what's the weather in Busan", None).reply,
        "I can't reach the weather service right now, and I have no saved forecast for there."
    );
}

#[test]
fn a_broken_answer_gets_a_clear_spoken_error_and_no_crash() {
    let (server, mut b, _, _dir) = setup();
    *server.mode.lock().unwrap() = Mode::Error500;
    assert_eq!(
        b.ask("will it rain tomorrow", None).reply,
        "The weather service sent an answer I couldn't read. Please try again later."
    );
    *server.mode.lock().unwrap() = Mode::Malformed;
    assert_eq!(
        b.ask("날씨 어때", None).reply,
        "날씨 서비스의 대답을 이해하지 못했어요. 잠시 후에 다시 물어봐 주세요."
    );
    // Working again: answers resume, and a later bad answer falls back to the saved one.
    *server.mode.lock().unwrap() = Mode::Ok;
    assert!(
        b.ask("what's the weather like", None)
            .reply
            .starts_with("Right now")
    );
    *server.mode.lock().unwrap() = Mode::Error500;
    assert!(
        b.ask("what's the temperature", None).reply.starts_with(
            "The weather service isn't answering properly. As of 1 minute ago: It's 8°C"
        ),
    );
}

#[test]
fn with_no_location_sori_says_how_to_set_one() {
    let mut b = common::test_brain();
    b.set_clock(|| {
        chrono::DateTime::from_timestamp_millis(NOW_MS)
            .unwrap()
            .naive_utc()
    });
    assert_eq!(
        b.ask("what's the weather like", None).reply,
        "I don't know where you are yet. Set location.name in Sori's config, or ask about a place by name."
    );
    // The time zone database knows the big cities even offline.
    assert_eq!(
        b.ask("what time is it in Tokyo", None).reply,
        "It's 4:05 PM in tokyo."
    );
}

/// The daemon runs skills on tokio's blocking pool: the blocking HTTP client must work there
/// (and be dropped there) without tripping over the runtime.
#[test]
fn the_skill_works_from_the_daemons_blocking_pool() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, b, _, _dir) = setup();
    let reply = rt.block_on(async move {
        tokio::task::spawn_blocking(move || {
            let mut b = b;
            let r = b.ask("what's the weather in Busan tomorrow", None).reply;
            drop(b);
            r
        })
        .await
        .unwrap()
    });
    assert!(reply.starts_with("Tomorrow in Busan"), "{reply}");
    drop(server);
}
