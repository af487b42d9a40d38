//! Music library benchmark on a generated library (tiny tagged WAVs, default 2,000 files), side
//! by side with MPD indexing and searching the same files in the same run: scan rate (first
//! scan and an unchanged rescan), search latency (Sori's full-text search, Sori's fuzzy
//! "play <misheard title>", MPD's `search any` over its protocol), and the memory the loaded
//! name lists take. Run through bench/music.sh, which writes bench/results/music.md.
//!
//!   cargo bench --bench music -- OUT.md [FILES]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lofty::config::WriteOptions;
use lofty::file::TaggedFileExt;
use lofty::tag::{Accessor, Tag, TagExt};

const WORDS: &[&str] = &[
    "blue", "night", "summer", "river", "light", "dream", "city", "rain", "golden", "silver",
    "morning", "ocean", "fire", "winter", "shadow", "heart", "road", "star", "garden", "echo",
];
const GENRES: &[&str] = &[
    "Pop",
    "Rock",
    "Jazz",
    "Classical",
    "Ambient",
    "Folk",
    "Hip-Hop",
    "Electronic",
    "Ballad",
    "K-Pop",
];

fn rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    s.split_whitespace()
        .nth(1)
        .and_then(|x| x.parse::<u64>().ok())
        .unwrap_or(0)
        * 4
}

fn title(i: usize) -> String {
    let w = |k: usize| WORDS[k % WORDS.len()];
    let t = format!("{} {} {}", w(i), w(i / 7 + 3), w(i / 53 + 11));
    let mut c = t.chars();
    c.next()
        .unwrap()
        .to_uppercase()
        .chain(c)
        .collect::<String>()
        + &format!(" {}", i % 97)
}

fn make_library(dir: &Path, n: usize) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    for i in 0..n {
        let artist = format!("Artist {}", i % 200);
        let album = format!("{} Album {}", WORDS[i % 20], i % 400);
        let path = dir.join(&artist).join(&album).join(format!("{i:05}.wav"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for k in 0..800 {
            w.write_sample(((k as f32 * 0.3).sin() * 4000.0) as i16)
                .unwrap();
        }
        w.finalize().unwrap();
        let mut f = lofty::read_from_path(&path).unwrap();
        let kind = f.primary_tag_type();
        f.insert_tag(Tag::new(kind));
        let tag = f.primary_tag_mut().unwrap();
        tag.set_title(title(i));
        tag.set_artist(artist);
        tag.set_album(album);
        tag.set_genre(GENRES[i % GENRES.len()].into());
        tag.set_track((i % 12) as u32 + 1);
        tag.save_to_path(&path, WriteOptions::default()).unwrap();
    }
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

struct Mpd {
    child: std::process::Child,
    port: u16,
}

impl Drop for Mpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mpd_cmd(port: u16, cmd: &str) -> Vec<String> {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    (&s).write_all(format!("{cmd}\n").as_bytes()).unwrap();
    let mut out = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        if line.trim_end() == "OK" || line.starts_with("ACK") {
            return out;
        }
        out.push(line.trim_end().to_string());
    }
}

fn start_mpd(music: &Path, work: &Path) -> Option<Mpd> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let conf = work.join("mpd.conf");
    std::fs::write(
        &conf,
        format!(
            "music_directory \"{}\"\ndb_file \"{}\"\nbind_to_address \"127.0.0.1\"\nport \"{port}\"\n\
             audio_output {{\n  type \"null\"\n  name \"bench\"\n}}\n",
            music.display(),
            work.join("mpd.db").display()
        ),
    )
    .ok()?;
    let child = Command::new("mpd")
        .args(["--no-daemon", "--stderr"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let m = Mpd { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(m)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let out_path = args
        .first()
        .cloned()
        .unwrap_or_else(|| "bench/results/music.md".into());
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let work = tempfile::tempdir().unwrap();
    let music = work.path().join("music");
    eprintln!("==> writing {n} tagged files");
    make_library(&music, n);

    // Sori: first scan, then a rescan with nothing changed.
    let state = work.path().join("state");
    let mut store = sori::store::Store::open(&state).unwrap();
    let t = Instant::now();
    let r =
        sori::music::library::scan(store.conn(), std::slice::from_ref(&music), |_, _| {}).unwrap();
    let first = t.elapsed().as_secs_f64();
    assert_eq!(r.added, n, "{r:?}");
    let t = Instant::now();
    let r =
        sori::music::library::scan(store.conn(), std::slice::from_ref(&music), |_, _| {}).unwrap();
    let rescan = t.elapsed().as_secs_f64();
    assert_eq!(r.unchanged, n);

    // MPD on the same files.
    let mpd = start_mpd(&music, work.path());
    let mpd_scan = mpd.as_ref().map(|m| {
        let t = Instant::now();
        mpd_cmd(m.port, "update");
        while mpd_cmd(m.port, "status")
            .iter()
            .any(|l| l.starts_with("updating_db"))
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        t.elapsed().as_secs_f64()
    });

    // Queries: two words of a title, as someone would say them.
    let queries: Vec<String> = (0..200)
        .map(|i| {
            let t = title(i * 7 % n);
            t.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
        })
        .collect();
    let mut fts = Vec::new();
    for q in &queries {
        let t = Instant::now();
        let found = sori::music::library::search(store.conn(), q, 50).unwrap();
        fts.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(!found.is_empty(), "{q}");
    }
    let mut mpd_search = Vec::new();
    if let Some(m) = &mpd {
        for q in &queries {
            let t = Instant::now();
            let words: Vec<String> = q
                .split_whitespace()
                .map(|w| format!("any \"{w}\""))
                .collect();
            mpd_cmd(m.port, &format!("search {}", words.join(" ")));
            mpd_search.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }

    // The brain with every name in its fuzzy lists, asked for misheard titles.
    drop(store);
    let before = rss_kb();
    let mut cfg = sori::config::Config::default();
    cfg.state.dir = state.display().to_string();
    cfg.music.dirs = vec![music.display().to_string()];
    let db = Arc::new(Mutex::new(sori::store::Store::open(&state).unwrap()));
    let t = Instant::now();
    let (mut brain, _) =
        sori::skill::load::from_config_with(&cfg, db, Default::default(), vec![]).unwrap();
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let lists_kb = rss_kb().saturating_sub(before);
    let mut fuzzy = Vec::new();
    let mut hits = 0;
    for i in 0..100 {
        let real = title(i * 13 % n);
        // One letter dropped: what a speech recogniser might hand over.
        let misheard: String = real
            .char_indices()
            .filter(|(k, _)| *k != 3)
            .map(|(_, c)| c)
            .collect();
        let t = Instant::now();
        let out = brain.ask(&format!("play {misheard}"), Some("en"));
        fuzzy.push(t.elapsed().as_secs_f64() * 1e3);
        if out.slots.get("title").and_then(|s| s.value.as_text()) == Some(real.as_str()) {
            hits += 1;
        }
    }

    let mut md = String::new();
    md.push_str(&format!(
        "Music library, {n} tagged files (generated), this machine, one run.\n\n\
         | | Sori | MPD 0.23 (same files, same run) |\n|---|---|---|\n"
    ));
    let rate = |s: f64| format!("{:.0} files/s ({s:.2} s)", n as f64 / s);
    md.push_str(&format!(
        "| first scan | {} | {} |\n",
        rate(first),
        mpd_scan.map_or("not run (no mpd)".into(), rate)
    ));
    md.push_str(&format!(
        "| rescan, nothing changed | {} | |\n",
        rate(rescan)
    ));
    md.push_str(&format!(
        "| search, 2 words (median / p99) | {:.2} / {:.2} ms | {} |\n",
        pct(fts.clone(), 0.5),
        pct(fts, 0.99),
        if mpd_search.is_empty() {
            "not run".to_string()
        } else {
            format!(
                "{:.2} / {:.2} ms (incl. TCP)",
                pct(mpd_search.clone(), 0.5),
                pct(mpd_search, 0.99)
            )
        }
    ));
    md.push_str(&format!(
        "| \"play <misheard title>\" through the brain (median / p99) | {:.1} / {:.1} ms, {hits}/100 found the right song | |\n",
        pct(fuzzy.clone(), 0.5),
        pct(fuzzy, 0.99)
    ));
    md.push_str(&format!(
        "| brain load with the name lists | {load_ms:.0} ms, +{:.1} MB RSS | |\n",
        lists_kb as f64 / 1024.0
    ));
    std::fs::create_dir_all(Path::new(&out_path).parent().unwrap()).unwrap();
    std::fs::write(&out_path, &md).unwrap();
    println!("{md}");
}
