#!/usr/bin/env bash
# Builds the Debian package of the suite: the five binaries, their man pages, the
# completions for bash, zsh and fish where each shell loads them, the systemd units
# for the daemon and the exporter, and the configuration files.
#
#   scripts/build-deb.sh                 # release build -> target/debian/dpservice_<version>_<arch>.deb
#   scripts/build-deb.sh --debug         # package the debug binaries (tests)
#   scripts/build-deb.sh --out DIR       # write the .deb into DIR
#
# Needs only cargo and dpkg-deb (no cargo-deb, no debhelper).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
out=target/debian
while [ $# -gt 0 ]; do
    case "$1" in
        --debug) profile=debug ;;
        --out) out="$2"; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "build-deb.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

bins=(dpservice-bin dpservice-cli dpservice-dump dpservice-inspect dpservice-exporter)
packages=()
for b in "${bins[@]}"; do packages+=(-p "$b"); done
if [ "$profile" = release ]; then
    cargo build --locked --release --bins "${packages[@]}"
else
    cargo build --locked --bins "${packages[@]}"
fi
bindir="${CARGO_TARGET_DIR:-target}/$profile"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
version="${DPSERVICE_VERSION:-$version}"
arch=$(dpkg --print-architecture)
stage=$(mktemp -d "${TMPDIR:-/tmp}/dpservice-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/root"

install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" \
    "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d" "$root/usr/lib/systemd/system" \
    "$root/etc/dpservice" "$root/etc/default" "$root/usr/share/doc/dpservice"
for b in "${bins[@]}"; do
    install -m 0755 "$bindir/$b" "$root/usr/bin/$b"
    install -m 0644 "completions/bash/$b" "$root/usr/share/bash-completion/completions/$b"
    install -m 0644 "completions/zsh/_$b" "$root/usr/share/zsh/vendor-completions/_$b"
    install -m 0644 "completions/fish/$b.fish" "$root/usr/share/fish/vendor_completions.d/$b.fish"
done
for page in man/*.1; do
    gzip -9n < "$page" > "$root/usr/share/man/man1/$(basename "$page").gz"
done
install -m 0644 deploy/systemd/dpservice.service deploy/systemd/dpservice-exporter.service \
    "$root/usr/lib/systemd/system/"
install -m 0644 deploy/dpservice.conf "$root/etc/dpservice/dpservice.conf"
install -m 0644 deploy/default-dpservice "$root/etc/default/dpservice"
install -m 0644 deploy/default-dpservice-exporter "$root/etc/default/dpservice-exporter"
install -m 0644 LICENSE "$root/usr/share/doc/dpservice/copyright"

cat > "$root/DEBIAN/conffiles" <<CONF
/etc/dpservice/dpservice.conf
/etc/default/dpservice
/etc/default/dpservice-exporter
CONF
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: dpservice
Version: $version
Architecture: $arch
Maintainer: dpservice developers <dpservice@users.noreply.github.com>
Installed-Size: $size
Depends: libc6, iproute2
Recommends: bash-completion
Section: net
Priority: optional
Homepage: https://github.com/ironcore-dev/dpservice
Description: software dataplane for virtual machines, with its operator tools
 dpservice-bin is an L3 virtual router for VM ports with IPv6 overlay tunnels,
 NAT, load balancers, conntrack and a firewall, driven over gRPC. The package
 also holds dpservice-cli, dpservice-dump, dpservice-inspect and
 dpservice-exporter, their man pages and shell completions, and systemd units
 for the daemon (Type=notify) and the Prometheus exporter.
CONTROL
# Reload unit files after install/removal when systemd runs (no debhelper needed).
for script in postinst postrm; do
    cat > "$root/DEBIAN/$script" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload || true
fi
SCRIPT
    chmod 0755 "$root/DEBIAN/$script"
done

mkdir -p "$out"
deb="$out/dpservice_${version}_${arch}.deb"
# Debug binaries are large and only packaged by tests: do not spend minutes compressing.
compress=-Zxz
[ "$profile" = debug ] && compress=-Znone
dpkg-deb --root-owner-group "$compress" --build "$root" "$deb" >/dev/null
echo "$deb"
