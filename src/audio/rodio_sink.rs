//! Speaker playback through rodio (on cpal/ALSA). Reply speech and earcons get a player each
//! as they play; the music channel is one long-lived player (see `audio::mixer` for volumes
//! and ducking).
//!
//! Every player connects to Sori's own rodio mixer, which a device stream pulls from. When
//! the device fails (unplugged, its sound server restarted) only that stream is replaced: a
//! watcher closes it and tries the device every few seconds (a clip tries at once), and the
//! music player, with its queue and position, carries on through the new stream.

use std::num::NonZero;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rodio::Source;
use rodio::buffer::SamplesBuffer;
use rodio::mixer::{Mixer, MixerSource};

use super::devices::{QuietStderr, device_name, find_device};
use super::{AudioError, AudioSink, Clip};

/// How much longer than its length a clip may take to play before the device counts as stalled.
const STALL_GRACE: Duration = Duration::from_secs(3);
/// How often a failed device is tried again in the background (a clip tries at once).
const REOPEN_EVERY: Duration = Duration::from_secs(2);
/// How often a clip is tried on a stream that fails under it, and the pause between tries.
const PLAY_TRIES: u32 = 3;
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// How long stream errors must keep coming before the device counts as gone, and the
/// longest gap between errors of one burst.
const FAIL_AFTER: Duration = Duration::from_millis(1500);
const BURST_GAP: Duration = Duration::from_millis(250);
/// Samples per channel a device stream takes from Sori's mixer under one lock (~5 ms).
const BLOCK_FRAMES: usize = 256;

/// One open device stream and what its error callback saw.
struct Stream {
    sink: rodio::MixerDeviceSink,
    /// Set by the stream's error callback on anything but an underrun, or by a stalled clip.
    failed: Arc<AtomicBool>,
}

/// What the sink shares with the watchers that close a failed stream and reopen the device.
struct Shared {
    /// The device as configured (empty: the default).
    wanted: String,
    /// The device's name as last opened.
    name: Mutex<String>,
    /// Sori's mixer output, which every device stream pulls from.
    source: Arc<Mutex<MixerSource>>,
    /// The open stream, if any.
    slot: Mutex<Option<Stream>>,
    /// Held while opening, so a clip and a watcher never open the device twice.
    opening: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct RodioSink {
    shared: Arc<Shared>,
    /// What Sori plays; outlives device streams.
    mixer: Mixer,
    /// The player `queue_until` queues a reply's clips on, and the length of the last one.
    queue: Option<(rodio::Player, u64)>,
}

/// Why a clip did not play to its end.
enum Lost {
    /// The stream failed under it: worth playing again on a reopened device.
    Stream(AudioError),
    /// The clip waited out its whole deadline: not retried, that took seconds already.
    Stalled(AudioError),
}

impl RodioSink {
    /// Opens the output device `name` (empty: the default).
    ///
    /// # Errors
    /// `AudioError::NoDevice` / `NoSuchDevice` when it is absent, `AudioError::Device` when it
    /// can't be opened.
    pub fn open(name: &str) -> Result<Self, AudioError> {
        let (stream, device, failure) = open_stream(name)?;
        let config = stream.sink.config();
        // Sori's mixer runs in the first device's format, so the usual case converts nothing.
        let (mixer, source) = rodio::mixer::mixer(config.channel_count(), config.sample_rate());
        let shared = Arc::new(Shared {
            wanted: name.to_string(),
            name: Mutex::new(device),
            source: Arc::new(Mutex::new(source)),
            slot: Mutex::new(None),
            opening: Mutex::new(()),
        });
        attach(&shared, stream, failure);
        tracing::debug!(device = %lock(&shared.name), "playback stream opened");
        Ok(RodioSink {
            shared,
            mixer,
            queue: None,
        })
    }

    fn name(&self) -> String {
        lock(&self.shared.name).clone()
    }

    /// Plays `samples` once on the current stream: Ok(false) if stopped.
    fn play_once(
        &mut self,
        rate: NonZero<u32>,
        samples: Vec<f32>,
        duration_ms: u64,
        stop: &AtomicBool,
    ) -> Result<bool, Lost> {
        let player = rodio::Player::connect_new(&self.mixer);
        player.append(SamplesBuffer::new(NonZero::<u16>::MIN, rate, samples));
        // A device that stops taking audio without an error (or whose errors came too late)
        // never drains the player: give up once the clip has had its length and STALL_GRACE.
        let allowed = Duration::from_millis(duration_ms) + STALL_GRACE;
        let deadline = Instant::now() + allowed;
        // Poll rather than block so a stop lands within ~10 ms.
        while !player.empty() {
            if stop.load(Ordering::Relaxed) {
                player.stop();
                return Ok(false);
            }
            if self.stream_failed() {
                // The device reported it is gone: no use waiting out the deadline.
                player.stop();
                return Err(Lost::Stream(AudioError::OutputStalled(format!(
                    "{}: the playback stream failed",
                    self.name()
                ))));
            }
            if Instant::now() > deadline {
                player.stop();
                self.mark_failed();
                return Err(Lost::Stalled(AudioError::OutputStalled(format!(
                    "{}: a {:.1} s clip was not played within {:.1} s",
                    self.name(),
                    duration_ms as f64 / 1000.0,
                    allowed.as_secs_f64()
                ))));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(true)
    }

    /// Starts a queue with a clip, on a device reopened if need be, and waits until the device
    /// has played some of it: a stream that fails as it starts (ALSA's pulse plugin does now
    /// and then, a speaker just replugged) gets the clip again, as `play_until` does.
    fn start_queue(
        &mut self,
        rate: NonZero<u32>,
        samples: Vec<f32>,
        ms: u64,
        stop: &AtomicBool,
    ) -> Result<bool, AudioError> {
        let proof = Duration::from_millis((ms / 2).min(200));
        let mut tries = 0;
        loop {
            tries += 1;
            let failed = |e| again_or(e, tries, stop);
            if let Err(e) = reopen(&self.shared) {
                failed(e)?;
                continue;
            }
            let player = rodio::Player::connect_new(&self.mixer);
            player.append(SamplesBuffer::new(
                NonZero::<u16>::MIN,
                rate,
                samples.clone(),
            ));
            let deadline = Instant::now() + Duration::from_millis(ms) + STALL_GRACE;
            loop {
                if stop.load(Ordering::Relaxed) {
                    player.stop();
                    return Ok(false);
                }
                if player.empty() || player.get_pos() >= proof {
                    self.queue = Some((player, ms));
                    return Ok(true);
                }
                if self.stream_failed() {
                    player.stop();
                    failed(AudioError::OutputStalled(format!(
                        "{}: the playback stream failed",
                        self.name()
                    )))?;
                    break;
                }
                if Instant::now() > deadline {
                    player.stop();
                    self.mark_failed();
                    return Err(AudioError::OutputStalled(format!(
                        "{}: a {:.1} s clip was not played within {:.1} s",
                        self.name(),
                        ms as f64 / 1000.0,
                        (ms as f64 / 1000.0) + STALL_GRACE.as_secs_f64()
                    )));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    /// Waits until `player` holds at most `left` clips; stops it on a stop, a failed stream or
    /// the deadline.
    fn wait(
        &self,
        player: &rodio::Player,
        left: usize,
        deadline: Instant,
        stop: &AtomicBool,
    ) -> Result<bool, AudioError> {
        while player.len() > left {
            if stop.load(Ordering::Relaxed) {
                player.stop();
                return Ok(false);
            }
            if self.stream_failed() || Instant::now() > deadline {
                player.stop();
                self.mark_failed();
                return Err(AudioError::OutputStalled(format!(
                    "{}: the playback stream stopped mid-reply",
                    self.name()
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(true)
    }

    fn stream_failed(&self) -> bool {
        lock(&self.shared.slot)
            .as_ref()
            .is_none_or(|s| s.failed.load(Ordering::Relaxed))
    }

    /// Marks the stream as failed, so the next clip reopens the device.
    fn mark_failed(&self) {
        if let Some(s) = &*lock(&self.shared.slot) {
            s.failed.store(true, Ordering::Relaxed);
        }
    }
}

/// After `tries` attempts at a clip that failed with `e`: Ok (after a pause) to try again, or
/// the error once the tries are used up or a stop came.
fn again_or(e: AudioError, tries: u32, stop: &AtomicBool) -> Result<(), AudioError> {
    if tries >= PLAY_TRIES || stop.load(Ordering::Relaxed) {
        return Err(e);
    }
    tracing::debug!("playing the clip again: {e}");
    std::thread::sleep(RETRY_PAUSE);
    Ok(())
}

/// Makes sure a working device stream pulls from the mixer, opening the device again if its
/// stream failed or was closed.
fn reopen(shared: &Arc<Shared>) -> Result<(), AudioError> {
    let _opening = lock(&shared.opening);
    {
        let mut slot = lock(&shared.slot);
        match &*slot {
            Some(s) if !s.failed.load(Ordering::Relaxed) => return Ok(()),
            Some(_) => close(slot.take()),
            None => {}
        }
    }
    let (stream, device, failure) = open_stream(&shared.wanted)?;
    *lock(&shared.name) = device;
    attach(shared, stream, failure);
    tracing::info!(device = %lock(&shared.name), "speaker reopened");
    Ok(())
}

/// Connects a freshly opened stream to the mixer, with a watcher that closes it as soon as it
/// fails (with its sound server gone, a stream's ALSA thread spins on errors, a whole core,
/// until the stream is dropped) and then tries the device every `REOPEN_EVERY`, so music
/// comes back when the speaker does even if Sori has nothing to say.
fn attach(shared: &Arc<Shared>, stream: Stream, failure: std::sync::mpsc::Receiver<()>) {
    stream.sink.mixer().add(Feed::new(shared.source.clone()));
    let failed = stream.failed.clone();
    *lock(&shared.slot) = Some(stream);
    let shared = Arc::downgrade(shared);
    let _ = std::thread::Builder::new()
        .name("sori-speaker-watch".into())
        .spawn(move || {
            // Ends without a message when the stream is dropped (its callback goes with it).
            if failure.recv().is_err() {
                return;
            }
            {
                let Some(sh) = shared.upgrade() else { return };
                let mut slot = lock(&sh.slot);
                match &*slot {
                    Some(open) if Arc::ptr_eq(&open.failed, &failed) => close(slot.take()),
                    // Already replaced by a clip that found it failed.
                    _ => return,
                }
                tracing::warn!(device = %lock(&sh.name), "the speaker failed; reopening it every {REOPEN_EVERY:?}");
            }
            loop {
                std::thread::sleep(REOPEN_EVERY);
                // Gone with the sink; a working stream means a clip reopened it first.
                let Some(sh) = shared.upgrade() else { return };
                if lock(&sh.slot).is_some() {
                    return;
                }
                match reopen(&sh) {
                    Ok(()) => return,
                    Err(e) => tracing::debug!("speaker reopen failed: {e}"),
                }
            }
        });
}

/// Dropping a cpal stream joins its ALSA thread, which can block for good once the device or
/// its sound server has vanished: done on a throwaway thread so nothing waits on it.
fn close(stream: Option<Stream>) {
    if let Some(s) = stream {
        let _ = std::thread::Builder::new()
            .name("cpal-close".into())
            .spawn(move || drop(s));
    }
}

impl Drop for RodioSink {
    /// Closes the stream, waiting a moment for it: ALSA and its plugins torn down at exit
    /// under a stream still running can crash the process.
    fn drop(&mut self) {
        if let Some(s) = lock(&self.shared.slot).take() {
            let (done, closed) = std::sync::mpsc::channel();
            let _ = std::thread::Builder::new()
                .name("cpal-close".into())
                .spawn(move || {
                    drop(s);
                    let _ = done.send(());
                });
            let _ = closed.recv_timeout(Duration::from_secs(1));
        }
    }
}

/// Opens the device's stream; the receiver gets a message when the stream fails.
fn open_stream(name: &str) -> Result<(Stream, String, std::sync::mpsc::Receiver<()>), AudioError> {
    let device = find_device(&rodio::cpal::default_host(), name, false)?;
    let shown = device_name(&device);
    let failed = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let quiet = QuietStderr::new();
    let mut sink = rodio::DeviceSinkBuilder::from_device(device)
        .map(|b| b.with_error_callback(on_error(shown.clone(), failed.clone(), tx)))
        .and_then(|b| b.open_stream())
        .map_err(|e| AudioError::Device(e.to_string()))?;
    drop(quiet);
    sink.log_on_drop(false);
    Ok((Stream { sink, failed }, shown, rx))
}

/// The stream's error callback. rodio's default prints every error, and a dead sound server
/// makes ALSA fail every poll (hundreds of thousands a second). Here an underrun is only
/// counted; a device reported gone, or errors that keep coming for `FAIL_AFTER` (no gap over
/// `BURST_GAP`), mark the stream failed and tell the watcher once. A short burst (ALSA's
/// pulse plugin has one now and then as a stream starts, and recovers) is only logged. The
/// log gets the first error and then one line per 10 s at most.
fn on_error(
    device: String,
    failed: Arc<AtomicBool>,
    tell: std::sync::mpsc::Sender<()>,
) -> impl FnMut(rodio::cpal::Error) + Send {
    use rodio::cpal::ErrorKind;
    let mut count: u64 = 0;
    let mut last_log: Option<Instant> = None;
    // (first, latest) error of the current burst.
    let mut burst: Option<(Instant, Instant)> = None;
    move |e: rodio::cpal::Error| {
        if e.kind() == ErrorKind::Xrun {
            tracing::debug!(device = %device, "playback underrun");
            return;
        }
        count += 1;
        let now = Instant::now();
        let first = match burst {
            Some((first, latest)) if now - latest <= BURST_GAP => first,
            _ => now,
        };
        burst = Some((first, now));
        let gone = matches!(
            e.kind(),
            ErrorKind::DeviceNotAvailable | ErrorKind::HostUnavailable
        ) || now - first >= FAIL_AFTER;
        if gone && !failed.swap(true, Ordering::Relaxed) {
            let _ = tell.send(());
        }
        if last_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
            last_log = Some(now);
            tracing::warn!(device = %device, errors = count, "speaker stream error: {e}");
        }
    }
}

/// What a device stream plays: Sori's mixer, taken in blocks under its lock. Never ends (a
/// silent mixer gives zeros), so the device keeps it when nothing plays.
struct Feed {
    source: Arc<Mutex<MixerSource>>,
    channels: rodio::ChannelCount,
    rate: rodio::SampleRate,
    block: Vec<f32>,
    at: usize,
}

impl Feed {
    fn new(source: Arc<Mutex<MixerSource>>) -> Feed {
        let (channels, rate) = {
            let s = source.lock().unwrap_or_else(|e| e.into_inner());
            (s.channels(), s.sample_rate())
        };
        Feed {
            source,
            channels,
            rate,
            block: Vec::with_capacity(BLOCK_FRAMES * usize::from(channels.get())),
            at: 0,
        }
    }
}

impl Iterator for Feed {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        if self.at == self.block.len() {
            let mut s = self.source.lock().unwrap_or_else(|e| e.into_inner());
            self.block.clear();
            let n = self.block.capacity();
            self.block.extend((0..n).map(|_| s.next().unwrap_or(0.0)));
            self.at = 0;
        }
        let x = self.block[self.at];
        self.at += 1;
        Some(x)
    }
}

impl Source for Feed {
    fn current_span_len(&self) -> Option<usize> {
        None
    }

    fn channels(&self) -> rodio::ChannelCount {
        self.channels
    }

    fn sample_rate(&self) -> rodio::SampleRate {
        self.rate
    }

    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

impl AudioSink for RodioSink {
    fn play(&mut self, clip: &Clip) -> Result<(), AudioError> {
        self.play_until(clip, &AtomicBool::new(false)).map(|_| ())
    }

    fn play_until(&mut self, clip: &Clip, stop: &AtomicBool) -> Result<bool, AudioError> {
        let rate = NonZero::new(clip.sample_rate)
            .ok_or_else(|| AudioError::Device("clip with a 0 Hz rate".into()))?;
        let samples = clip.to_f32();
        let mut tries = 0;
        loop {
            tries += 1;
            // A stream that fails as it starts (ALSA's pulse plugin does now and then) or a
            // speaker just replugged gets another go before the clip counts as lost.
            let retry = |e| again_or(e, tries, stop);
            if let Err(e) = reopen(&self.shared) {
                retry(e)?;
                continue;
            }
            match self.play_once(rate, samples.clone(), clip.duration_ms(), stop) {
                Err(Lost::Stream(e)) => retry(e)?,
                Err(Lost::Stalled(e)) => return Err(e),
                Ok(played) => return Ok(played),
            }
        }
    }

    fn queue_until(&mut self, clip: &Clip, stop: &AtomicBool) -> Result<bool, AudioError> {
        let rate = NonZero::new(clip.sample_rate)
            .ok_or_else(|| AudioError::Device("clip with a 0 Hz rate".into()))?;
        let samples = clip.to_f32();
        let (player, before_ms) = match self.queue.take() {
            Some((p, ms)) if !p.empty() && !self.stream_failed() => (p, ms),
            // Nothing playing (a new reply, or synthesis fell behind): a fresh start.
            Some(_) | None => return self.start_queue(rate, samples, clip.duration_ms(), stop),
        };
        player.append(SamplesBuffer::new(NonZero::<u16>::MIN, rate, samples));
        // Wait until only this clip is left, so the next is queued before it ends.
        let deadline = Instant::now() + Duration::from_millis(before_ms) + STALL_GRACE;
        match self.wait(&player, 1, deadline, stop) {
            Ok(true) => {
                self.queue = Some((player, clip.duration_ms()));
                Ok(true)
            }
            other => other,
        }
    }

    fn drain_until(&mut self, stop: &AtomicBool) -> Result<bool, AudioError> {
        let Some((player, ms)) = self.queue.take() else {
            return Ok(true);
        };
        let deadline = Instant::now() + Duration::from_millis(ms) + STALL_GRACE;
        self.wait(&player, 0, deadline, stop)
    }

    fn describe(&self) -> String {
        format!("rodio: {}", self.name())
    }

    fn music_channel(&self) -> Option<super::mixer::MusicChannel> {
        Some(super::mixer::MusicChannel {
            player: Arc::new(rodio::Player::connect_new(&self.mixer)),
        })
    }
}
