//! `sori devices`: the capture and playback devices cpal sees, by the names config uses.

use cpal::traits::{DeviceTrait, HostTrait};

use super::AudioError;

/// One device as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceInfo {
    /// The name to put in `audio.input_device` / `audio.output_device`.
    pub name: String,
    pub is_default: bool,
    /// Default format, e.g. `48000 Hz, 2 ch, f32`; empty if the device would not say.
    pub format: String,
}

/// Inputs and outputs of the default host.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceList {
    pub host: String,
    pub inputs: Vec<DeviceInfo>,
    pub outputs: Vec<DeviceInfo>,
}

/// Lists devices.
///
/// # Errors
/// `AudioError::Device` when the audio system can't be queried at all.
pub fn list() -> Result<DeviceList, AudioError> {
    let host = cpal::default_host();
    let default_in = host.default_input_device().map(|d| d.to_string());
    let default_out = host.default_output_device().map(|d| d.to_string());
    let describe = |d: &cpal::Device, input: bool, default: &Option<String>| {
        let cfg = if input { d.default_input_config() } else { d.default_output_config() };
        let name = d.to_string();
        DeviceInfo {
            is_default: default.as_deref() == Some(name.as_str()),
            format: cfg
                .map(|c| format!("{} Hz, {} ch, {}", c.sample_rate(), c.channels(), c.sample_format()))
                .unwrap_or_default(),
            name,
        }
    };
    let inputs = host.input_devices().map_err(|e| AudioError::Device(e.to_string()))?;
    let inputs = inputs.map(|d| describe(&d, true, &default_in)).collect();
    let outputs = host.output_devices().map_err(|e| AudioError::Device(e.to_string()))?;
    let outputs = outputs.map(|d| describe(&d, false, &default_out)).collect();
    Ok(DeviceList { host: host.id().name().to_string(), inputs, outputs })
}
