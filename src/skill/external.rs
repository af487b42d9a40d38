//! Skills in any language: Sori starts the skill's command and talks to it in JSON lines over
//! stdin/stdout. One request, one answer:
//!
//! - request: `{"type":"intent","id":7,"intent":"TellJoke","slots":{…},"language":"en","text":"…","answer":null}`
//! - answer: `{"speech":"…","action":{…},"end":true}`, or `"confirm":true` (a yes/no question),
//!   or `"ask":{"slot":"minutes","type":"number"}` (a question for a missing slot).
//!
//! A slow skill is stopped after its timeout; one that exits is restarted on the next request,
//! after a backoff that grows with each crash in a row. Neither takes the daemon down. Lines
//! on stderr go to the log.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use super::manifest::Manifest;
use super::{Action, Answer, Ctx, Follow, Skill, SkillError, SkillReply};
use crate::intent::Recognized;
use crate::values::Kind;

const MAX_BACKOFF: Duration = Duration::from_secs(60);

struct Proc {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

pub struct External {
    manifest: Manifest,
    intents: Vec<String>,
    dir: PathBuf,
    proc: Option<Proc>,
    /// Crashes in a row (reset by a good answer).
    crashes: u32,
    retry_at: Option<Instant>,
    /// Times the process was started, for tests and `sori doctor`.
    pub starts: u32,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    speech: String,
    #[serde(default)]
    action: Option<Action>,
    #[serde(default = "yes")]
    end: bool,
    #[serde(default)]
    confirm: bool,
    #[serde(default)]
    ask: Option<AskSlot>,
}

#[derive(Deserialize)]
struct AskSlot {
    slot: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

fn yes() -> bool {
    true
}

impl External {
    /// `intents`: the manifest's list, or every intent in the skill's sentences.
    pub fn new(manifest: Manifest, dir: PathBuf, intents: Vec<String>) -> Self {
        External {
            manifest,
            intents,
            dir,
            proc: None,
            crashes: 0,
            retry_at: None,
            starts: 0,
        }
    }

    fn start(&mut self) -> Result<(), SkillError> {
        let id = self.manifest.id.clone();
        let mut cmd = Command::new(&self.manifest.command[0]);
        // Its own process group, so a stop also ends what it started (a `sleep` in a shell).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd
            .args(&self.manifest.command[1..])
            .current_dir(&self.dir)
            .envs(&self.manifest.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| SkillError::Unavailable {
                skill: id.clone(),
                reason: format!(
                    "cannot start {:?} in {}: {e}",
                    self.manifest.command,
                    self.dir.display()
                ),
            })?;
        let (stdin, stdout, stderr) =
            match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
                (Some(i), Some(o), Some(e)) => (i, o, e),
                _ => {
                    return Err(SkillError::Unavailable {
                        skill: id,
                        reason: "no pipes to the process".into(),
                    });
                }
            };
        let (tx, lines) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("skill-{id}-out"))
            .spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| SkillError::Failed(e.to_string()))?;
        let log_id = id.clone();
        let _ = std::thread::Builder::new()
            .name(format!("skill-{id}-err"))
            .spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    tracing::warn!(skill = %log_id, "{line}");
                }
            });
        self.starts += 1;
        if self.starts > 1 {
            tracing::warn!(skill = %id, starts = self.starts, "external skill restarted");
        }
        self.proc = Some(Proc {
            child,
            stdin,
            lines,
        });
        Ok(())
    }

    /// Marks the process dead and schedules the restart.
    fn crashed(&mut self, why: String) -> SkillError {
        let id = self.manifest.id.clone();
        let status = self.proc.take().map(|mut p| {
            kill(&mut p.child);
            p.child.wait().map(|s| s.to_string()).unwrap_or_default()
        });
        self.crashes += 1;
        // First crash: restart right away; then 1 s, 2 s, 4 s … up to a minute.
        let backoff = if self.crashes <= 1 {
            Duration::ZERO
        } else {
            Duration::from_secs(1 << (self.crashes - 2).min(6)).min(MAX_BACKOFF)
        };
        self.retry_at = Some(Instant::now() + backoff);
        let reason = format!(
            "{why} ({}); restarting in {} s",
            status.unwrap_or_default(),
            backoff.as_secs()
        );
        tracing::error!(skill = %id, crashes = self.crashes, "external skill crashed: {reason}");
        SkillError::Unavailable { skill: id, reason }
    }

    /// Sends one request and waits for its answer.
    ///
    /// # Errors
    /// Timeout, a crash, or an answer that is not JSON.
    pub fn call(&mut self, request: &serde_json::Value) -> Result<serde_json::Value, SkillError> {
        let id = self.manifest.id.clone();
        if self.proc.is_none() {
            if let Some(at) = self.retry_at {
                let now = Instant::now();
                if at > now {
                    return Err(SkillError::Unavailable {
                        skill: id,
                        reason: format!(
                            "it crashed; next restart in {} ms",
                            (at - now).as_millis()
                        ),
                    });
                }
            }
            self.start()?;
        }
        let Some(p) = self.proc.as_mut() else {
            return Err(SkillError::Failed("no process".into()));
        };
        let line = format!("{request}\n");
        if let Err(e) = p
            .stdin
            .write_all(line.as_bytes())
            .and_then(|()| p.stdin.flush())
        {
            return Err(self.crashed(format!("cannot write to it: {e}")));
        }
        let deadline = Instant::now() + Duration::from_millis(self.manifest.timeout_ms);
        loop {
            let Some(p) = self.proc.as_mut() else {
                return Err(SkillError::Failed("no process".into()));
            };
            let left = deadline.saturating_duration_since(Instant::now());
            match p.lines.recv_timeout(left) {
                Ok(line) if line.trim().is_empty() => continue,
                Ok(line) => match serde_json::from_str::<serde_json::Value>(&line) {
                    Ok(v) => {
                        self.crashes = 0;
                        return Ok(v);
                    }
                    // Stray prints are logged, not fatal; the answer may still come.
                    Err(_) => tracing::warn!(skill = %id, "not JSON on stdout (ignored): {line}"),
                },
                Err(RecvTimeoutError::Timeout) => {
                    // A stuck skill would answer this request late, mixed up with the next one:
                    // stop it; the next request starts it fresh.
                    if let Some(mut p) = self.proc.take() {
                        kill(&mut p.child);
                        let _ = p.child.wait();
                    }
                    tracing::warn!(skill = %id, ms = self.manifest.timeout_ms, "external skill timed out; stopped it");
                    return Err(SkillError::Timeout {
                        skill: id,
                        ms: self.manifest.timeout_ms,
                    });
                }
                Err(RecvTimeoutError::Disconnected) => return Err(self.crashed("it exited".into())),
            }
        }
    }
}

impl Drop for External {
    fn drop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            kill(&mut p.child);
            let _ = p.child.wait();
        }
    }
}

impl Skill for External {
    fn id(&self) -> &str {
        &self.manifest.id
    }

    fn intents(&self) -> Vec<String> {
        self.intents.clone()
    }

    fn describe(&self, lang: &str) -> Option<String> {
        self.manifest.description.get(lang).cloned()
    }

    fn handle(&mut self, intent: &Recognized, ctx: &mut Ctx) -> Result<SkillReply, SkillError> {
        let slots: serde_json::Map<String, serde_json::Value> = intent
            .slots
            .iter()
            .map(|(k, s)| (k.clone(), s.value.to_json()))
            .collect();
        let request = json!({
            "type": "intent",
            "id": ctx.run_id,
            "intent": intent.intent,
            "slots": slots,
            "language": ctx.lang,
            "text": intent.text,
            "answer": ctx.answer.map(|a| if a == Answer::Yes { "yes" } else { "no" }),
        });
        let v = self.call(&request)?;
        let r: Response = serde_json::from_value(v).map_err(|e| SkillError::Protocol {
            skill: self.manifest.id.clone(),
            reason: e.to_string(),
        })?;
        let follow = match (r.ask, r.confirm, r.end) {
            (Some(a), _, _) => Follow::Ask {
                kind: a.kind.as_deref().and_then(Kind::from_name),
                slot: a.slot,
            },
            (None, true, _) => Follow::Confirm,
            (None, false, false) => Follow::Listen,
            _ => Follow::End,
        };
        Ok(SkillReply {
            speech: r.speech,
            action: r.action,
            follow,
        })
    }
}

/// Ends the skill and everything in its process group.
fn kill(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group; no memory involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
}
