#!/usr/bin/env bash
# Builds the Debian package: target/deb/sori_<version>_<arch>.deb.
#   scripts/deb.sh                 # for this machine (amd64 here)
#   scripts/deb.sh --arch arm64    # for a Raspberry Pi (builds with scripts/cross-arm64.sh)
#   scripts/deb.sh --no-build      # package the binary already built
# The package holds the binary (stripped), the systemd unit, a default /etc/sori/config.toml
# (a conffile: kept on upgrade) and the docs; its scripts make the `sori` user (in `audio`)
# and /var/lib/sori. Models are fetched afterwards by `sori models fetch`.
set -euo pipefail
cd "$(dirname "$0")/.."

arch=$(dpkg --print-architecture)
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) arch=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        *) echo "usage: scripts/deb.sh [--arch amd64|arm64] [--no-build]" >&2; exit 2 ;;
    esac
done

case "$arch" in
    amd64) triple=""; strip=strip ;;
    arm64) triple=aarch64-unknown-linux-gnu; strip=aarch64-linux-gnu-strip ;;
    *) echo "unsupported architecture $arch (amd64 or arm64)" >&2; exit 2 ;;
esac
if [ -z "$triple" ]; then
    bin=target/release/sori
    [ "$build" = 1 ] && cargo build --release --locked --bin sori
else
    bin=target/$triple/release/sori
    [ "$build" = 1 ] && scripts/cross-arm64.sh
fi
[ -x "$bin" ] || { echo "no binary at $bin: build it first (or drop --no-build)" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
root=target/deb/sori_${version}_${arch}
rm -rf "$root"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/sori" \
    "$root/usr/share/doc/sori"
"$strip" -o "$root/usr/bin/sori" "$bin"
chmod 755 "$root/usr/bin/sori"
install -m 644 systemd/sori.service "$root/lib/systemd/system/sori.service"
# The example config, with the models and state where the service keeps them, so the CLI run
# as the sori user and the service agree.
{
    echo "# Sori's configuration, installed by the sori package (kept on upgrades)."
    echo "# Every key is shown commented with its default; see /usr/share/doc/sori/."
    awk '
        /^\[/ { section = $0 }
        section == "[models]" && $0 == "# dir = \"\"" { print "dir = \"/var/lib/sori/models\""; next }
        section == "[state]" && $0 == "# dir = \"\"" { print "dir = \"/var/lib/sori\""; next }
        { print }
    ' assets/config.example.toml
} > "$root/etc/sori/config.toml"
chmod 640 "$root/etc/sori/config.toml"
grep -q '^dir = "/var/lib/sori/models"' "$root/etc/sori/config.toml"
grep -q '^dir = "/var/lib/sori"$' "$root/etc/sori/config.toml"
for f in README.md docs/*.md; do
    install -m 644 "$f" "$root/usr/share/doc/sori/$(basename "$f")"
done
gzip -9n -c > "$root/usr/share/doc/sori/changelog.gz" <<CHANGES
sori ($version) stable; urgency=medium

  * Built from $(git rev-parse --short HEAD 2>/dev/null || echo "a source tree").

 -- Sori developers <sori@sori-assistant.org>  $(date -R)
CHANGES
cat > "$root/usr/share/doc/sori/copyright" <<'COPYRIGHT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: sori
Source: https://github.com/sori-assistant/sori

Files: *
Copyright: Sori developers
License: MIT or Apache-2.0
 Sori is dual-licensed under the MIT licence and the Apache License 2.0.
 On Debian systems the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.
 espeak-ng (GPL-3+) is run as a separate program, not linked.
COPYRIGHT
install -m 644 packaging/deb/conffiles "$root/DEBIAN/conffiles"
install -m 755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    packaging/deb/control.in > "$root/DEBIAN/control"
out=target/deb/sori_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
