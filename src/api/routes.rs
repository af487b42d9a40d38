//! The API's routes, its token check and its JSON errors.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::Api;
use crate::audio::mixer::VolumeChange;
use crate::pipeline::Announcement;
use crate::pipeline::events::EventKind;
use crate::pipeline::state::TextCommand;

/// The dashboard: one self-contained page.
const DASHBOARD: &str = include_str!("dashboard.html");
/// How long `/api/ask` waits for the answer (a conversation in progress goes first).
const ASK_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) fn router(api: Api) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/api/status", get(status))
        .route("/api/events", get(events))
        .route("/api/ask", post(ask))
        .route("/api/say", post(say))
        .route("/api/runs", get(runs))
        .route("/api/mute", post(mute))
        .route("/api/volume", post(volume))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint; see /api/status") })
        .layer(middleware::from_fn_with_state(api.clone(), check_token))
        .with_state(api)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// A body that is not the JSON an endpoint takes: 400, saying what is wrong with it.
fn bad_json(r: JsonRejection) -> Response {
    error(StatusCode::BAD_REQUEST, r.body_text())
}

/// With a token configured, every request must carry it: `Authorization: Bearer …`, or
/// `?token=…` (a browser cannot set headers on the dashboard's address or a WebSocket).
async fn check_token(State(api): State<Api>, req: Request, next: Next) -> Response {
    let Some(want) = api.cfg.api.token() else {
        return next.run(req).await;
    };
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let query = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("token="))
            .map(str::to_string)
    });
    let given = bearer.or(query).unwrap_or_default();
    if same(given.as_bytes(), want.as_bytes()) {
        next.run(req).await
    } else {
        let mut r = error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong token: send `Authorization: Bearer <api.token>`",
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("valid"));
        r
    }
}

/// Compares without stopping at the first difference (no timing hint about the token).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn dashboard() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], Html(DASHBOARD))
}

async fn status(State(api): State<Api>) -> Response {
    let live = api.live.lock().map(|l| l.clone()).ok();
    let v = api.mixer.volume();
    let muted = crate::daemon::is_muted(&api.cfg);
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "name": api.cfg.persona.name,
        "state": live.as_ref().map_or("idle", |l| l.state),
        "run": live.as_ref().map_or(0, |l| l.run),
        "muted": muted,
        "volume": { "level": v.level, "muted": v.muted },
        "mic_level": api.level(),
        "wake_words": api.cfg.wake.words,
        "uptime_s": api.started.elapsed().as_secs(),
    }))
    .into_response()
}

async fn events(State(api): State<Api>, ws: WebSocketUpgrade) -> Response {
    let Some(rx) = api.events.subscribe() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the listening loop has stopped",
        );
    };
    ws.on_upgrade(move |socket| forward(socket, rx))
}

/// Sends every event to one WebSocket client until it goes away.
async fn forward(
    mut socket: WebSocket,
    mut rx: tokio::sync::broadcast::Receiver<crate::pipeline::events::Event>,
) {
    loop {
        tokio::select! {
            e = rx.recv() => match e {
                Ok(e) => {
                    let Ok(text) = serde_json::to_string(&e) else { continue };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    let note = json!({"type": "Lagged", "missed": n}).to_string();
                    if socket.send(Message::Text(note.into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            m = socket.recv() => match m {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AskBody {
    text: String,
    #[serde(default)]
    lang: String,
    #[serde(default = "yes")]
    speak: bool,
}

fn yes() -> bool {
    true
}

/// The text to act on and its language: trimmed, not empty, `lang` en, ko or from the script.
fn text_and_language(text: &str, lang: &str) -> Result<(String, String), Box<Response>> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(Box::new(error(StatusCode::BAD_REQUEST, "`text` is empty")));
    }
    let lang = match lang {
        "" => crate::lang::detect(&text).to_string(),
        "en" | "ko" => lang.to_string(),
        other => {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                format!("lang `{other}`: use \"en\" or \"ko\" (or leave it out)"),
            )));
        }
    };
    Ok((text, lang))
}

async fn ask(State(api): State<Api>, body: Result<Json<AskBody>, JsonRejection>) -> Response {
    let body = match body {
        Ok(Json(b)) => b,
        Err(r) => return bad_json(r),
    };
    let (text, lang) = match text_and_language(&body.text, &body.lang) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let tag = format!(
        "api-{}",
        api.next_tag
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    // Subscribed before sending, so none of the run's events can be missed.
    let Some(mut rx) = api.events.subscribe() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the listening loop has stopped",
        );
    };
    let cmd = TextCommand {
        text,
        language: lang,
        speak: body.speak,
        tag: tag.clone(),
    };
    if api.commands.send(cmd).await.is_err() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the listening loop has stopped",
        );
    }
    let answer = tokio::time::timeout(ASK_TIMEOUT, async move {
        let mut run = None;
        let mut intent = None;
        let mut language = String::new();
        loop {
            let e = match rx.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return Err("the listening loop has stopped".to_string()),
            };
            match &e.kind {
                EventKind::Text {
                    tag: t,
                    language: l,
                    ..
                } if *t == tag => {
                    run = Some(e.run);
                    language = l.clone();
                }
                _ if run != Some(e.run) => {}
                EventKind::IntentEnd { intent: i } => intent = i.clone(),
                EventKind::SkillEnd { speech, .. } => {
                    return Ok(json!({
                        "run": e.run, "intent": intent, "reply": speech, "language": language,
                    }));
                }
                EventKind::Error { stage, message } => return Err(format!("{stage}: {message}")),
                EventKind::RunEnd { outcome } => return Err(format!("the run ended: {outcome}")),
                _ => {}
            }
        }
    })
    .await;
    match answer {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(_) => error(
            StatusCode::GATEWAY_TIMEOUT,
            "no answer within 30 s (is Sori in a long conversation?)",
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SayBody {
    text: String,
    #[serde(default)]
    lang: String,
}

async fn say(State(api): State<Api>, body: Result<Json<SayBody>, JsonRejection>) -> Response {
    let body = match body {
        Ok(Json(b)) => b,
        Err(r) => return bad_json(r),
    };
    let (text, language) = match text_and_language(&body.text, &body.lang) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let a = Announcement {
        key: "api:say".into(),
        speech: text,
        language: language.clone(),
        ring: false,
        chime: false,
        audio: None,
    };
    if api.announce.send(a).await.is_err() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the listening loop has stopped",
        );
    }
    (
        StatusCode::ACCEPTED,
        Json(json!({"queued": true, "language": language})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct RunsQuery {
    limit: Option<usize>,
}

async fn runs(State(api): State<Api>, q: Query<RunsQuery>) -> Response {
    let limit = q.limit.unwrap_or(20).clamp(1, api.cfg.api.history);
    let db = api.db.clone();
    let got = tokio::task::spawn_blocking(move || {
        db.lock()
            .map_err(|_| "state database lock poisoned".to_string())
            .and_then(|mut d| super::runs::recent(d.conn(), limit).map_err(|e| e.to_string()))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match got {
        Ok(runs) => Json(json!({ "runs": runs })).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MuteBody {
    muted: bool,
}

/// Mutes the microphone (as `sori mute`): kept across restarts, noticed within a second.
async fn mute(State(api): State<Api>, body: Result<Json<MuteBody>, JsonRejection>) -> Response {
    let on = match body {
        Ok(Json(b)) => b.muted,
        Err(r) => return bad_json(r),
    };
    let cfg = api.cfg.clone();
    match tokio::task::spawn_blocking(move || crate::daemon::set_mute(&cfg, on)).await {
        Ok(Ok(())) => Json(json!({ "muted": on })).into_response(),
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the mute flag: {e}"),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VolumeBody {
    /// 0-100.
    level: Option<u8>,
    /// Mute or unmute the speaker (music; replies stay audible).
    muted: Option<bool>,
}

async fn volume(State(api): State<Api>, body: Result<Json<VolumeBody>, JsonRejection>) -> Response {
    let b = match body {
        Ok(Json(b)) => b,
        Err(r) => return bad_json(r),
    };
    let mut changes = Vec::new();
    match b.level {
        Some(l) if l > 100 => {
            return error(StatusCode::BAD_REQUEST, "`level` is 0-100");
        }
        Some(l) => changes.push(VolumeChange::To(l)),
        None => {}
    }
    match b.muted {
        Some(true) => changes.push(VolumeChange::Mute),
        Some(false) => changes.push(VolumeChange::Unmute),
        None => {}
    }
    if changes.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "give `level` (0-100) and/or `muted`",
        );
    }
    let mixer = api.mixer.clone();
    let done = tokio::task::spawn_blocking(move || {
        let mut v = mixer.volume();
        for c in changes {
            v = mixer.change(c)?;
        }
        Ok::<_, std::io::Error>(v)
    })
    .await;
    match done {
        Ok(Ok(v)) => Json(json!({ "level": v.level, "muted": v.muted })).into_response(),
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot keep the volume: {e}"),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
