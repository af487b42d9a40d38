//! The music library over real tagged audio files written by the test (WAV with ID3v2 tags
//! via lofty; nothing copyrighted is committed) and a real SQLite database: scan, incremental
//! rescan, search, and `sori music scan|search`.

mod common;

use std::path::Path;

use lofty::config::WriteOptions;
use lofty::file::TaggedFileExt;
use lofty::tag::{Accessor, Tag, TagExt};

use sori::music::library::*;
use sori::store::Store;

/// A one-second tone at `hz` with tags.
fn track(path: &Path, hz: f32, title: &str, artist: &str, album: &str, genre: &str, no: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..16_000 {
        let s = (i as f32 * hz * std::f32::consts::TAU / 16_000.0).sin() * 8000.0;
        w.write_sample(s as i16).unwrap();
    }
    w.finalize().unwrap();
    let mut f = lofty::read_from_path(path).unwrap();
    if f.primary_tag().is_none() {
        let kind = f.primary_tag_type();
        f.insert_tag(Tag::new(kind));
    }
    let tag = f.primary_tag_mut().unwrap();
    tag.set_title(title.into());
    tag.set_artist(artist.into());
    tag.set_album(album.into());
    tag.set_genre(genre.into());
    tag.set_track(no);
    tag.save_to_path(path, WriteOptions::default()).unwrap();
}

#[test]
fn scan_search_and_rescan_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    track(
        &music.join("jazz/blue/01.wav"),
        440.0,
        "So What",
        "Miles Davis",
        "Kind of Blue",
        "Jazz",
        1,
    );
    track(
        &music.join("jazz/blue/02.wav"),
        494.0,
        "Freddie Freeloader",
        "Miles Davis",
        "Kind of Blue",
        "Jazz",
        2,
    );
    track(
        &music.join("kpop/spring.wav"),
        523.0,
        "봄날",
        "방탄소년단",
        "You Never Walk Alone",
        "K-Pop",
        1,
    );
    std::fs::write(music.join("notes.txt"), "not music").unwrap();
    std::fs::write(music.join("broken.mp3"), "not really an mp3").unwrap();

    let mut store = Store::memory().unwrap();
    let c = store.conn();
    let mut ticks = 0;
    let r = scan(c, std::slice::from_ref(&music), |_, _| ticks += 1).unwrap();
    assert_eq!(
        (r.added, r.updated, r.removed, r.unchanged),
        (3, 0, 0, 0),
        "{r:?}"
    );
    assert_eq!(r.failed.len(), 1, "the broken file is reported: {r:?}");
    assert_eq!(ticks, 4);

    let t = read_tags(&music.join("jazz/blue/01.wav")).unwrap();
    assert_eq!(t.title, "So What");
    assert_eq!(t.track_no, Some(1));
    assert!((900..=1100).contains(&t.duration_ms.unwrap()), "{t:?}");

    let found = search(c, "miles blue", 10).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(
        search(c, "freddie", 10).unwrap()[0].title,
        "Freddie Freeloader"
    );
    assert_eq!(
        search(c, "봄날", 10).unwrap()[0].artist.as_deref(),
        Some("방탄소년단")
    );
    assert!(
        search(c, "\"unbalanced OR", 10).unwrap().is_empty(),
        "FTS syntax is just text"
    );
    let album = by(c, "album", "kind of blue").unwrap();
    assert_eq!(
        album.iter().map(|t| t.track_no).collect::<Vec<_>>(),
        [Some(1), Some(2)]
    );
    assert_eq!(names(c, "artist").unwrap(), ["Miles Davis", "방탄소년단"]);

    // Nothing changed: nothing is read again.
    let r = scan(c, std::slice::from_ref(&music), |_, _| {}).unwrap();
    assert_eq!((r.added, r.updated, r.removed, r.unchanged), (0, 0, 0, 3));
    // One retagged, one deleted, one new.
    std::thread::sleep(std::time::Duration::from_millis(20));
    track(
        &music.join("jazz/blue/02.wav"),
        494.0,
        "Freddie Freeloader (Live)",
        "Miles Davis",
        "Kind of Blue",
        "Jazz",
        2,
    );
    std::fs::remove_file(music.join("kpop/spring.wav")).unwrap();
    track(
        &music.join("classical/air.wav"),
        392.0,
        "Air on the G String",
        "Bach",
        "Orchestral Suites",
        "Classical",
        3,
    );
    let r = scan(c, &[music], |_, _| {}).unwrap();
    assert_eq!(
        (r.added, r.updated, r.removed, r.unchanged),
        (1, 1, 1, 1),
        "{r:?}"
    );
    assert_eq!(count(c).unwrap(), 3);
    assert!(
        search(c, "봄날", 10).unwrap().is_empty(),
        "removed from the index too"
    );
    assert_eq!(
        search(c, "live", 10).unwrap()[0].title,
        "Freddie Freeloader (Live)"
    );
}

#[test]
fn sori_music_scans_the_configured_folders_and_searches_them() {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    track(
        &music.join("a.wav"),
        440.0,
        "Fly Me to the Moon",
        "Frank Sinatra",
        "It Might as Well Be Swing",
        "Jazz",
        1,
    );
    track(
        &music.join("b.wav"),
        330.0,
        "Dynamite",
        "BTS",
        "BE",
        "K-Pop",
        2,
    );
    let sets = [
        "--set".to_string(),
        format!("music.dirs=[\"{}\"]", music.display()),
        "--set".to_string(),
        format!("state.dir=\"{}\"", dir.path().join("state").display()),
    ];
    let out = common::run_ok(common::sori().args(&sets).args(["music", "scan"]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.starts_with("2 tracks: 2 added"), "{said}");
    let out = common::run_ok(common::sori().args(&sets).args(["music", "search", "moon"]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Fly Me to the Moon — Frank Sinatra"),
        "{said}"
    );
    let out = common::run_ok(common::sori().args(&sets).args(["music", "scan"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 unchanged"));
    // No folders configured: the error says which key to set.
    let out = common::sori()
        .args([
            "--set",
            &format!("state.dir=\"{}\"", dir.path().join("s2").display()),
        ])
        .args(["music", "scan"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("music.dirs"));
}

/// MP3, FLAC, Ogg Vorbis and WAV (encoded by sox, tagged by lofty) are indexed with their tags
/// and decode with the player's decoder.
#[test]
fn every_format_is_indexed_and_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let paths = common::library::standard(dir.path(), 1.0);
    let mut store = Store::memory().unwrap();
    let r = scan(store.conn(), &[dir.path().to_path_buf()], |_, _| {}).unwrap();
    assert_eq!((r.added, r.failed.len()), (4, 0), "{r:?}");
    for p in &paths {
        let t = read_tags(p).unwrap();
        assert!(
            (900..=1200).contains(&t.duration_ms.unwrap_or(0)),
            "{}: {t:?}",
            p.display()
        );
        let d = rodio::Decoder::try_from(std::fs::File::open(p).unwrap()).unwrap();
        let n = d.count();
        // One second of stereo at 44.1 kHz (MP3 adds a little padding).
        assert!(
            (80_000..=100_000).contains(&n),
            "{}: {n} samples",
            p.display()
        );
    }
    let titles: Vec<String> = by(store.conn(), "artist", "the tones")
        .unwrap()
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(titles, ["Blue Sky", "Night Drive"]);
}

/// Names from the scanned library feed the fuzzy lists: misheard titles still find the song,
/// in both languages, and `sori ask` shows what would play.
#[test]
fn misheard_names_find_the_song() {
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    common::library::standard(&music, 1.0);
    let state = dir.path().join("state");
    let set = [
        "--set".to_string(),
        format!("music.dirs=[\"{}\"]", music.display()),
        "--set".to_string(),
        format!("state.dir=\"{}\"", state.display()),
    ];
    common::run_ok(common::sori().args(["music", "scan"]).args(&set));
    let out = common::run_ok(common::sori().args(["ask", "--json"]).args(&set).args([
        "play nite drive",
        "밤 편지 틀어 줘",
        "play some classical",
    ]));
    let turns: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        turns[0]["slots"]["title"]["value"], "Night Drive",
        "{turns:#?}"
    );
    let items = &turns[0]["action"]["what"]["items"];
    assert!(
        items[0]["uri"]
            .as_str()
            .unwrap()
            .ends_with("02 Night Drive.flac"),
        "{items}"
    );
    assert_eq!(turns[1]["slots"]["title"]["value"], "밤편지", "{turns:#?}");
    assert!(turns[1]["reply"].as_str().unwrap().contains("밤편지"));
    assert_eq!(
        turns[2]["slots"]["genre"]["value"], "Classical",
        "{turns:#?}"
    );
    assert_eq!(
        turns[2]["action"]["what"]["items"][0]["title"],
        "Rainy Piano"
    );
}
