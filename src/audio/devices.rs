//! `sori devices`: the capture and playback devices cpal sees, by the names config uses, and
//! lookup of a device by that name.

use cpal::traits::{DeviceTrait, HostTrait};

use super::AudioError;

/// One device as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceInfo {
    /// The name to put in `audio.input_device` / `audio.output_device` (ALSA's PCM name,
    /// e.g. `default`, `pulse`, `hw:CARD=Device,DEV=0`).
    pub name: String,
    /// What the driver says it is.
    pub description: String,
    pub is_default: bool,
    /// Default format, e.g. `48000 Hz, 2 ch, f32`.
    pub format: String,
}

/// Inputs and outputs of the default host.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceList {
    pub host: String,
    pub inputs: Vec<DeviceInfo>,
    pub outputs: Vec<DeviceInfo>,
}

/// The stable name of a device: its backend id (ALSA PCM name), else its description.
pub fn device_name(d: &cpal::Device) -> String {
    d.id()
        .map(|id| id.id().to_string())
        .unwrap_or_else(|_| d.to_string())
}

/// While alive, the process's stderr goes to /dev/null. ALSA plugins (and libjack, which the
/// jack plugin loads) print probe failures straight to stderr when devices are opened to ask
/// their formats; users should see Sori's messages, not that noise. Counted, because the
/// microphone and the speaker may be reopened at the same time on two threads: the last one
/// out restores the real stderr.
pub(crate) struct QuietStderr(bool);

/// (guards alive, the real stderr saved while any is).
static QUIET: std::sync::Mutex<(usize, i32)> = std::sync::Mutex::new((0, -1));

impl QuietStderr {
    pub(crate) fn new() -> Self {
        if std::env::var_os("SORI_ALSA_DEBUG").is_some() {
            return QuietStderr(false);
        }
        let mut q = QUIET.lock().unwrap_or_else(|e| e.into_inner());
        if q.0 == 0 {
            // SAFETY: plain fd juggling on fds we own; restored by the last guard's Drop.
            unsafe {
                let saved = libc::dup(2);
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
                if saved < 0 || null < 0 {
                    if saved >= 0 {
                        libc::close(saved);
                    }
                    return QuietStderr(false);
                }
                libc::dup2(null, 2);
                libc::close(null);
                q.1 = saved;
            }
        }
        q.0 += 1;
        QuietStderr(true)
    }
}

impl Drop for QuietStderr {
    fn drop(&mut self) {
        if !self.0 {
            return;
        }
        let mut q = QUIET.lock().unwrap_or_else(|e| e.into_inner());
        q.0 -= 1;
        if q.0 == 0 {
            // SAFETY: `q.1` is the dup of the original stderr taken by the first guard.
            unsafe {
                libc::dup2(q.1, 2);
                libc::close(q.1);
            }
            q.1 = -1;
        }
    }
}

/// Finds a device by name: its PCM name exactly, else a unique case-insensitive part of its
/// name or description. Empty means the default device.
pub(crate) fn find_device(
    host: &cpal::Host,
    name: &str,
    input: bool,
) -> Result<cpal::Device, AudioError> {
    let kind = if input { "input" } else { "output" };
    let _quiet = QuietStderr::new();
    if name.is_empty() {
        let d = if input {
            host.default_input_device()
        } else {
            host.default_output_device()
        };
        return d.ok_or(AudioError::NoDevice(kind));
    }
    let devices: Vec<cpal::Device> = if input {
        host.input_devices()
            .map_err(|e| AudioError::Device(e.to_string()))?
            .collect()
    } else {
        host.output_devices()
            .map_err(|e| AudioError::Device(e.to_string()))?
            .collect()
    };
    let names: Vec<(String, String)> = devices
        .iter()
        .map(|d| (device_name(d), d.to_string()))
        .collect();
    let lower = name.to_lowercase();
    let pick = names.iter().position(|(n, _)| n == name).or_else(|| {
        let hits: Vec<usize> = (0..names.len())
            .filter(|&i| {
                names[i].0.to_lowercase().contains(&lower)
                    || names[i].1.to_lowercase().contains(&lower)
            })
            .collect();
        (hits.len() == 1).then(|| hits[0])
    });
    match pick {
        Some(i) => Ok(devices
            .into_iter()
            .nth(i)
            .expect("index from the same list")),
        None => Err(AudioError::NoSuchDevice {
            name: name.to_string(),
            available: names
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Lists the devices that can actually be opened (ALSA also lists helper plugins that can't).
///
/// # Errors
/// `AudioError::Device` when the audio system can't be queried at all.
pub fn list() -> Result<DeviceList, AudioError> {
    let _quiet = QuietStderr::new();
    let host = cpal::default_host();
    let default_in = host.default_input_device().map(|d| device_name(&d));
    let default_out = host.default_output_device().map(|d| device_name(&d));
    let describe = |d: &cpal::Device, input: bool, default: &Option<String>| {
        let cfg = if input {
            d.default_input_config()
        } else {
            d.default_output_config()
        };
        let name = device_name(d);
        cfg.ok().map(|c| DeviceInfo {
            is_default: default.as_deref() == Some(name.as_str()),
            format: format!(
                "{} Hz, {} ch, {}",
                c.sample_rate(),
                c.channels(),
                c.sample_format()
            ),
            description: d.to_string(),
            name,
        })
    };
    let inputs = host
        .input_devices()
        .map_err(|e| AudioError::Device(e.to_string()))?;
    let mut inputs: Vec<DeviceInfo> = inputs
        .filter_map(|d| describe(&d, true, &default_in))
        .collect();
    let outputs = host
        .output_devices()
        .map_err(|e| AudioError::Device(e.to_string()))?;
    let mut outputs: Vec<DeviceInfo> = outputs
        .filter_map(|d| describe(&d, false, &default_out))
        .collect();
    // ALSA's virtual `null` device opens fine but is never what anyone means by a microphone.
    inputs.retain(|d| d.name != "null");
    outputs.retain(|d| d.name != "null");
    Ok(DeviceList {
        host: host.id().name().to_string(),
        inputs,
        outputs,
    })
}
