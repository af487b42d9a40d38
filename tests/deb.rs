//! The Debian package, as an installer meets it: built by `scripts/deb.sh`, inspected,
//! installed with `dpkg -i`, checked by `sori doctor` run as the `sori` user, removed and
//! purged. It changes the system (a user, /usr/bin/sori), so it runs only as root, as in CI.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", "sori"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

#[test]
fn the_package_installs_runs_as_its_user_and_purges_cleanly() {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("SKIP: installing a package needs root (CI runs as root)");
        return;
    }
    common::require_models();
    assert!(
        !installed(),
        "sori is already installed here; remove it first"
    );
    let repo = common::repo();
    let out = run(Command::new(repo.join("scripts/deb.sh"))
        .arg("--no-build")
        .current_dir(&repo));
    let deb = repo.join(text(&out).trim());
    assert!(deb.is_file(), "{}", deb.display());

    // What is inside.
    let listing = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)));
    for f in [
        "./usr/bin/sori",
        "./lib/systemd/system/sori.service",
        "./etc/sori/config.toml",
        "./usr/share/doc/sori/copyright",
        "./usr/share/doc/sori/messaging.md",
    ] {
        assert!(listing.contains(f), "{f} missing:\n{listing}");
    }
    let info = text(&run(Command::new("dpkg-deb").arg("-I").arg(&deb)));
    assert!(
        info.contains("Package: sori") && info.contains("libasound2"),
        "{info}"
    );
    let control = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb")
        .arg("-e")
        .arg(&deb)
        .arg(control.path()));
    let conffiles = std::fs::read_to_string(control.path().join("conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/sori/config.toml");
    // The binary is stripped (a Pi's SD card is small).
    let packaged = repo
        .join("target/deb")
        .join(deb.file_stem().unwrap())
        .join("usr/bin/sori");
    let sections = text(&run(Command::new("readelf").arg("-S").arg(&packaged)));
    assert!(
        !sections.contains(".debug_info") && !sections.contains(".symtab"),
        "not stripped"
    );

    // Installed.
    let out = run(Command::new("dpkg").arg("-i").arg(&deb));
    assert!(
        text(&out).contains("sori models fetch"),
        "no next steps shown"
    );
    let installed_version = text(&run(Command::new("/usr/bin/sori").arg("--version")));
    assert!(
        installed_version.starts_with("sori "),
        "{installed_version}"
    );
    let groups = text(&run(Command::new("id").args(["-nG", "sori"])));
    assert!(groups.split_whitespace().any(|g| g == "audio"), "{groups}");
    let stat = |p: &str| text(&run(Command::new("stat").args(["-c", "%U:%G %a", p])));
    assert_eq!(stat("/var/lib/sori").trim(), "sori:sori 750");
    assert_eq!(stat("/etc/sori/config.toml").trim(), "root:sori 640");

    // The installer's next step is `sori models fetch` as the sori user; the models this test
    // run already has stand in for that download.
    // Hard links where the checkout shares the file system (instant), else a copy: the sori
    // user may not be able to reach into the checkout (say, under /root).
    let linked = std::process::Command::new("cp")
        .arg("-al")
        .arg(repo.join("models"))
        .arg("/var/lib/sori/models")
        .status()
        .is_ok_and(|s| s.success());
    if !linked {
        let _ = std::fs::remove_dir_all("/var/lib/sori/models");
        run(Command::new("cp")
            .arg("-a")
            .arg(repo.join("models"))
            .arg("/var/lib/sori/models"));
    }
    // The installer runs `sudo sori setup`: here scripted, as root, on the packaged config.
    let setup = run(Command::new("/usr/bin/sori")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", "/root")
        .args([
            "setup",
            "--yes",
            "--no-audio-test",
            "--no-doctor",
            "--language",
            "ko",
            "--wake-word",
            "alexa",
            "--city",
            "Seoul",
            "--latitude",
            "37.5665",
            "--longitude",
            "126.978",
            "--timezone",
            "Asia/Seoul",
        ]));
    assert!(
        text(&setup).contains("Wrote /etc/sori/config.toml"),
        "{}",
        text(&setup)
    );
    // Still readable by the service and nobody else; the packaged file kept beside it.
    assert_eq!(stat("/etc/sori/config.toml").trim(), "root:sori 640");
    assert!(Path::new("/etc/sori/config.toml.bak").is_file());
    let written = std::fs::read_to_string("/etc/sori/config.toml").unwrap();
    assert!(written.contains("\nwords = [\"alexa\"]\n"), "{written}");
    assert!(
        written.contains("\ndir = \"/var/lib/sori/models\""),
        "packaged paths kept"
    );

    let doctor = Command::new("runuser")
        .args(["-u", "sori", "--", "/usr/bin/sori", "doctor", "--json"])
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_STATE_HOME")
        .env("HOME", "/var/lib/sori")
        .output()
        .unwrap();
    let checks: Vec<serde_json::Value> = serde_json::from_slice(&doctor.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&doctor.stderr)));
    let check = |name: &str| {
        checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} check: {checks:#?}"))
    };
    // The packaged config is used, models load from /var/lib/sori, the state is writable by
    // the sori user.
    assert_eq!(check("config")["ok"], true, "{checks:#?}");
    assert!(
        check("config")["detail"]
            .as_str()
            .unwrap()
            .contains("/etc/sori/config.toml")
    );
    assert_eq!(check("models")["ok"], true, "{checks:#?}");
    assert!(
        check("models")["detail"]
            .as_str()
            .unwrap()
            .contains("/var/lib/sori/models")
    );
    assert_eq!(check("speech to text")["ok"], true, "{checks:#?}");
    assert!(
        check("wake word")["detail"]
            .as_str()
            .unwrap()
            .starts_with("alexa"),
        "setup's answers are used: {checks:#?}"
    );
    assert!(
        check("location")["detail"]
            .as_str()
            .unwrap()
            .contains("Seoul at 37.5"),
        "{checks:#?}"
    );
    assert_eq!(check("state")["ok"], true, "{checks:#?}");
    assert!(Path::new("/var/lib/sori/sori.db").is_file());

    // Removed: the binary goes, the config and the state stay (an upgrade or reinstall keeps
    // them).
    run(Command::new("dpkg").args(["-r", "sori"]));
    assert!(!Path::new("/usr/bin/sori").exists());
    assert!(Path::new("/etc/sori/config.toml").is_file());
    assert!(Path::new("/var/lib/sori/sori.db").is_file());
    // Purged: nothing is left, not even the user.
    run(Command::new("dpkg").args(["-P", "sori"]));
    for p in [
        "/etc/sori",
        "/var/lib/sori",
        "/lib/systemd/system/sori.service",
    ] {
        assert!(!Path::new(p).exists(), "{p} left after purge");
    }
    assert!(
        repo.join("models").is_dir(),
        "purge followed the models link"
    );
    let user = Command::new("getent")
        .args(["passwd", "sori"])
        .output()
        .unwrap();
    assert!(!user.status.success(), "the sori user is left after purge");
}
