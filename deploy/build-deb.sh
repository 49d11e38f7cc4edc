#!/usr/bin/env bash
# Build the edge-agent Debian package (Architecture: all) with dpkg-deb.
#
#   deploy/build-deb.sh [--out DIR] [--wheel FILE] [--wheelhouse DIR] [--stage DIR]
#
# The package carries the units, the sysusers/tmpfiles snippets, /etc/edge-agent/agent.toml
# (a conffile), docs, and the edge-agent wheel. Its postinst runs the same install.sh
# (--postinst): creates the user, the directories, the venv in /opt/edge-agent/venv with
# system site packages (JetPack's TensorRT bindings), installs the wheel, enables the units.
# Without --wheelhouse the wheel's dependencies come from PyPI at install time; pass a folder
# of aarch64 wheels (`pip download -d DIR --platform manylinux2014_aarch64 ...`) to make the
# package install offline. postinst honours DPKG_ROOT, so it can be run into a throwaway root.
#
# Environment: PYTHON (default: .venv/bin/python, else python3) builds the wheel.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/dist"
WHEEL=""
WHEELHOUSE=""
STAGE=""
PY="${PYTHON:-}"
[ -n "$PY" ] || { [ -x "$REPO/.venv/bin/python" ] && PY="$REPO/.venv/bin/python"; } || PY=python3
say() { printf '[build-deb] %s\n' "$*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT="$2"; shift 2 ;;
        --wheel) WHEEL="$2"; shift 2 ;;
        --wheelhouse) WHEELHOUSE="$2"; shift 2 ;;
        --stage) STAGE="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) say "unknown argument: $1"; exit 64 ;;
    esac
done
command -v dpkg-deb >/dev/null || { say "dpkg-deb not found (package dpkg)"; exit 69; }

VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$REPO/edge_agent/__init__.py")"
[ -n "$VERSION" ] || { say "cannot read __version__"; exit 70; }
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
CLEANUP=""
if [ -z "$STAGE" ]; then STAGE="$(mktemp -d)"; CLEANUP="$STAGE"; fi
trap '[ -n "$CLEANUP" ] && rm -rf "$CLEANUP"' EXIT
PKG="$STAGE/edge-agent_${VERSION}_all"
rm -rf "$PKG"

if [ -z "$WHEEL" ]; then
    say "building the wheel with $PY"
    "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$STAGE/wheel" "$REPO" >&2
    WHEEL="$(ls "$STAGE"/wheel/edge_agent-*.whl | tail -n 1)"
fi

say "staging $PKG"
install -d -m 0755 "$PKG/DEBIAN" "$PKG/lib/systemd/system" "$PKG/usr/lib/sysusers.d" \
    "$PKG/usr/lib/tmpfiles.d" "$PKG/usr/share/edge-agent/wheels" "$PKG/usr/share/doc/edge-agent"
install -d -m 0750 "$PKG/etc/edge-agent"
for unit in "$REPO"/systemd/*.service "$REPO"/systemd/*.path; do
    install -m 0644 "$unit" "$PKG/lib/systemd/system/"
done
install -m 0644 "$REPO/systemd/sysusers.d/edge-agent.conf" "$PKG/usr/lib/sysusers.d/"
install -m 0644 "$REPO/systemd/tmpfiles.d/edge-agent.conf" "$PKG/usr/lib/tmpfiles.d/"
install -m 0640 "$REPO/deploy/agent.example.toml" "$PKG/etc/edge-agent/agent.toml"
install -m 0644 "$REPO/deploy/agent.example.toml" "$PKG/usr/share/edge-agent/"
install -m 0755 "$REPO/deploy/install.sh" "$REPO/deploy/uninstall.sh" "$PKG/usr/share/edge-agent/"
install -m 0644 "$REPO"/deploy/constraints-jetpack*.txt "$PKG/usr/share/edge-agent/"
install -m 0644 "$WHEEL" "$PKG/usr/share/edge-agent/wheels/"
install -m 0644 "$REPO/docs/operations.md" "$PKG/usr/share/doc/edge-agent/"
if [ -n "$WHEELHOUSE" ]; then
    install -d -m 0755 "$PKG/usr/share/edge-agent/wheelhouse"
    install -m 0644 "$WHEELHOUSE"/*.whl "$PKG/usr/share/edge-agent/wheelhouse/"
fi

cat > "$PKG/DEBIAN/control" <<CONTROL
Package: edge-agent
Version: $VERSION
Architecture: all
Maintainer: edge-agent maintainers <edge-agent@localhost>
Depends: python3 (>= 3.8), python3-venv, systemd
Recommends: mosquitto-clients
Section: misc
Priority: optional
Description: people analytics on NVIDIA Jetson, published over MQTT
 Captures cameras, runs NVIDIA TAO people models (TensorRT, or ONNX Runtime on
 the CPU) and publishes masks, zone coverage and status over MQTT. Runs as the
 hardened systemd service edge-agent.service under its own user; power modes
 are changed through the separate edge-agent-power-mode.path helper.
CONTROL
echo "/etc/edge-agent/agent.toml" > "$PKG/DEBIAN/conffiles"

cat > "$PKG/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
# Create the user, directories and venv, install the wheel, enable the units.
set -e
if [ "$1" = configure ]; then
    "${DPKG_ROOT:-}/usr/share/edge-agent/install.sh" --postinst --root "${DPKG_ROOT:-/}"
fi
exit 0
POSTINST
cat > "$PKG/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
    systemctl disable --now edge-agent.service edge-agent-power-mode.path || true
fi
exit 0
PRERM
cat > "$PKG/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
# The venv is not a dpkg-owned file: remove it with the package; purge drops state too.
set -e
case "$1" in
    remove|purge)
        rm -rf "${DPKG_ROOT:-}/opt/edge-agent"
        [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ] && systemctl daemon-reload || true
        ;;
esac
if [ "$1" = purge ]; then
    rm -rf "${DPKG_ROOT:-}/var/lib/edge-agent" "${DPKG_ROOT:-}/var/cache/edge-agent" \
        "${DPKG_ROOT:-}/var/log/edge-agent" "${DPKG_ROOT:-}/var/lib/edge-agent-power"
fi
exit 0
POSTRM
chmod 0755 "$PKG/DEBIAN/postinst" "$PKG/DEBIAN/prerm" "$PKG/DEBIAN/postrm"

DEB="$OUT/edge-agent_${VERSION}_all.deb"
dpkg-deb --root-owner-group --build "$PKG" "$DEB" >&2
say "built $DEB"
echo "$DEB"
