//! Config as a user meets it: files, environment, flags, and the errors they get.

mod common;

use common::*;

#[test]
fn invalid_values_exit_2_naming_the_key_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[stt]\nthreads = \"lots\"\n").unwrap();
    let out = sori()
        .arg("--config")
        .arg(&cfg)
        .args(["models", "list"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`stt.threads`") && err.contains("config.example.toml"),
        "{err}"
    );

    let out = sori()
        .env("SORI_STT_LANGUAGE", "xx")
        .args(["models", "list"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`stt.language`") && err.contains("`auto`, `en`, `ko`"),
        "{err}"
    );

    std::fs::write(&cfg, "[stt\nmodel = ").unwrap();
    let out = sori()
        .arg("--config")
        .arg(&cfg)
        .args(["models", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid TOML"));
}

#[test]
fn unknown_keys_warn_by_name_and_do_not_stop_sori() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[audio]\ninput_devise = \"usb\"\n").unwrap();
    let out = run_ok(sori().arg("--config").arg(&cfg).args(["models", "list"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown config key `audio.input_devise`")
            && err.contains("did you mean `audio.input_device`"),
        "{err}"
    );
}

#[test]
fn a_world_readable_config_with_secrets_warns_and_secrets_are_not_logged() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        "[messaging.email]\nsmtp_host = \"127.0.0.1\"\npassword = \"hunter2-secret\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run_ok(
        sori()
            .arg("--config")
            .arg(&cfg)
            .args(["-vv", "models", "list"]),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("readable by every user") && err.contains("messaging.email.password"),
        "{err}"
    );
    assert!(
        !err.contains("hunter2-secret"),
        "a secret was logged: {err}"
    );
    // Private: no warning.
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run_ok(sori().arg("--config").arg(&cfg).args(["models", "list"]));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("readable by every user"));
}

#[test]
fn the_example_config_loads_as_is() {
    run_ok(
        sori()
            .arg("--config")
            .arg(repo().join("assets/config.example.toml"))
            .args(["models", "list"]),
    );
}
