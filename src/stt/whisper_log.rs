//! whisper.cpp's log lines into `tracing`, like whisper-rs's own hook, except for the two
//! errors Sori causes on purpose (a stale speculation stopped, a new state armed), which are
//! debug lines: an ERROR in the log should mean something went wrong.

use std::ffi::{CStr, c_char, c_void};

use whisper_rs::whisper_rs_sys as sys;

/// Routes whisper.cpp's log through [`log_line`] (ggml's own log keeps whisper-rs's hook).
pub fn install() {
    whisper_rs::install_logging_hooks();
    // SAFETY: `log_line` is a plain function that only reads the string it is given.
    unsafe { whisper_rs::set_log_callback(Some(log_line), std::ptr::null_mut()) };
}

/// Messages that follow from Sori's own abort and encoder-begin callbacks.
fn expected(text: &str) -> bool {
    text.contains("encoder_begin_callback returned false") || text.contains("failed to encode")
}

unsafe extern "C" fn log_line(level: sys::ggml_log_level, text: *const c_char, _: *mut c_void) {
    if text.is_null() {
        return;
    }
    // SAFETY: whisper.cpp passes a NUL-terminated string that lives for the call.
    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    match level {
        sys::ggml_log_level_GGML_LOG_LEVEL_ERROR if !expected(text) => {
            tracing::error!(target: "whisper", "{text}")
        }
        sys::ggml_log_level_GGML_LOG_LEVEL_WARN => tracing::warn!(target: "whisper", "{text}"),
        sys::ggml_log_level_GGML_LOG_LEVEL_INFO => tracing::info!(target: "whisper", "{text}"),
        _ => tracing::debug!(target: "whisper", "{text}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_errors_sori_causes_are_quietened() {
        assert!(super::expected(
            "whisper_full_with_state: encoder_begin_callback returned false - aborting"
        ));
        assert!(super::expected("whisper_full_with_state: failed to encode"));
        assert!(!super::expected(
            "whisper_model_load: tensor has wrong size"
        ));
    }
}
