//! Tests of loading, overriding and checking the config.

use super::*;

/// spotifyd's best test: uncomment every line of the shipped example; all keys must be
/// known, and every known key must be documented there.
#[test]
fn example_config_is_complete_and_current() {
    let uncommented: String = EXAMPLE
        .lines()
        .map(|l| {
            let t = l.trim_start_matches("# ").trim_start_matches('#');
            let is_key = t.split_once('=').is_some_and(|(k, _)| {
                !k.trim().is_empty() && k.trim().chars().all(|c| c.is_ascii_lowercase() || c == '_')
            });
            if is_key || (t.starts_with('[') && t.ends_with(']')) {
                t.to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let table: toml::Table = toml::from_str(&uncommented).expect("example parses once uncommented");
    let (config, warnings) = from_table(table, "example").unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        config,
        Config::default(),
        "the example's values must be the defaults"
    );
    for key in known_keys() {
        let leaf = key.rsplit('.').next().unwrap();
        assert!(
            uncommented
                .lines()
                .any(|l| l.starts_with(&format!("{leaf} ="))),
            "{key} undocumented"
        );
    }
}

#[test]
fn unknown_keys_warn_with_a_suggestion() {
    let t: toml::Table = toml::from_str("[stt]\nmodle = \"base\"\n[extra]\nx = 1").unwrap();
    let (_, w) = from_table(t, "test.toml").unwrap();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w.iter()
            .any(|w| w.contains("`stt.modle`") && w.contains("did you mean `stt.model`")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.contains("`extra`") && !w.contains("did you mean")),
        "{w:?}"
    );
}

#[test]
fn bad_values_name_the_key() {
    let err = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        load(Some(Path::new("/dev/null")), &[], &sets)
            .unwrap_err()
            .to_string()
    };
    assert!(err(&["stt.threads=\"many\""]).contains("`stt.threads`"));
    assert!(err(&["stt.language=klingon"]).contains("`stt.language`"));
    assert!(err(&["stt.model=huge"]).contains("`stt.model`"));
    assert!(err(&["stt.remote=whisper.lan:10300"]).contains("tcp://HOST:PORT"));
    assert!(err(&["audio.input=alsa"]).contains("`audio.input`"));
    assert!(err(&["audio.input=wav"]).contains("`audio.input_file`"));
    assert!(err(&["stt.window=half"]).contains("`stt.window`"));
}

#[test]
fn environment_overrides_file_and_set_overrides_environment() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.toml");
    std::fs::write(&f, "[stt]\nlanguage = \"en\"\nthreads = 1\n").unwrap();
    let env = vec![
        ("SORI_STT_LANGUAGE".to_string(), "ko".to_string()),
        ("SORI_STT_THREADS".into(), "3".into()),
    ];
    let l = load(Some(&f), &env, &["stt.threads=2".into()]).unwrap();
    assert_eq!(l.config.stt.language, "ko");
    assert_eq!(l.config.stt.threads, 2);
    assert_eq!(env_name("audio.input_device"), "SORI_AUDIO_INPUT_DEVICE");
}
