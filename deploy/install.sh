#!/usr/bin/env bash
# Install edge-agent as a hardened systemd service on JetPack 5/6 (Ubuntu 20.04/22.04 aarch64).
#
#   sudo deploy/install.sh [--wheel FILE | --source DIR] [--find-links DIR] [--start]
#   deploy/install.sh --root /tmp/stage ...     # into a throwaway root (CI, image builds)
#
# Steps: system user (systemd-sysusers, useradd as fallback) in group video; directories
# (systemd-tmpfiles); a venv with --system-site-packages in /opt/edge-agent/venv, so JetPack's
# tensorrt/pycuda/jetson_utils bindings stay importable; the package; /etc/edge-agent/agent.toml
# (kept if present); the units, sysusers and tmpfiles snippets; enable. --start also starts it
# (only after `edge-agent config check` accepts the config). The Debian package's postinst runs
# this script with --postinst (files already in place). Needs Python >= 3.8: JetPack 4.x
# (Jetson Nano, Python 3.6) is not supported here, see docs/operations.md.
#
# On a Jetson (/etc/nv_tegra_release) pip gets the constraints of the JetPack its python3
# belongs to (deploy/constraints-jetpack5.txt for 3.8, -jetpack6.txt for 3.10: numpy<2 for
# JetPack's compiled modules) and installs NVIDIA's cuda-python binding the TensorRT path uses.
#
# Environment: EDGE_AGENT_PYTHON (default python3), EDGE_AGENT_PIP_ARGS (extra pip arguments),
# EDGE_AGENT_CONSTRAINTS (a constraints file instead of the JetPack one).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="/"
WHEEL=""
SOURCE=""
FIND_LINKS=""
ENABLE=1
START=0
POSTINST=0
PYTHON="${EDGE_AGENT_PYTHON:-python3}"
PIP_ARGS="${EDGE_AGENT_PIP_ARGS:-}"

say() { printf '[edge-agent install] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT_DIR="$2"; shift 2 ;;
        --wheel) WHEEL="$2"; shift 2 ;;
        --source) SOURCE="$2"; shift 2 ;;
        --find-links) FIND_LINKS="$2"; shift 2 ;;
        --python) PYTHON="$2"; shift 2 ;;
        --no-enable) ENABLE=0; shift ;;
        --start) START=1; shift ;;
        --postinst) POSTINST=1; shift ;;
        -h|--help) usage 0 ;;
        *) say "unknown argument: $1"; usage 64 ;;
    esac
done

ROOT_DIR="${ROOT_DIR%/}"
LIVE=0
[ -z "$ROOT_DIR" ] && LIVE=1          # "/" became ""
R="$ROOT_DIR"                          # prefix for every path we write
UNIT_DIR="$R/lib/systemd/system"
SHARE="$R/usr/share/edge-agent"
VENV="/opt/edge-agent/venv"

# Where the files to install come from: the source tree, or the package's copy.
if [ "$POSTINST" = 1 ]; then
    SRC_UNITS="$UNIT_DIR"; SRC_SYSUSERS="$R/usr/lib/sysusers.d/edge-agent.conf"
    SRC_TMPFILES="$R/usr/lib/tmpfiles.d/edge-agent.conf"; SRC_CONFIG="$SHARE/agent.example.toml"
    SRC_CONSTRAINTS="$SHARE"
    [ -n "$WHEEL" ] || WHEEL="$(ls "$SHARE"/wheels/edge_agent-*.whl 2>/dev/null | tail -n 1)"
    [ -n "$FIND_LINKS" ] || { [ -d "$SHARE/wheelhouse" ] && FIND_LINKS="$SHARE/wheelhouse"; } || true
else
    REPO="$(cd "$HERE/.." && pwd)"
    SRC_UNITS="$REPO/systemd"; SRC_SYSUSERS="$REPO/systemd/sysusers.d/edge-agent.conf"
    SRC_TMPFILES="$REPO/systemd/tmpfiles.d/edge-agent.conf"; SRC_CONFIG="$REPO/deploy/agent.example.toml"
    SRC_CONSTRAINTS="$REPO/deploy"
    [ -n "$WHEEL" ] || [ -n "$SOURCE" ] || SOURCE="$REPO"
fi

preflight() {
    if [ "$LIVE" = 1 ] && [ "$(id -u)" != 0 ]; then die "run as root (sudo), or pass --root DIR"; fi
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install python3 and python3-venv"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 8))' || die \
        "$("$PYTHON" -V 2>&1) is too old: edge-agent needs Python >= 3.8 (JetPack 5 or 6). On a \
Jetson Nano (JetPack 4.6, Python 3.6) see docs/operations.md, section 'Jetson Nano'."
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || die \
        "$PYTHON has no venv/ensurepip: apt-get install python3-venv"
    if [ "$LIVE" = 1 ]; then
        [ "$(uname -m)" = aarch64 ] || say "warning: $(uname -m) is not a Jetson (aarch64); continuing"
        command -v systemctl >/dev/null || die "systemd is required"
    fi
}

install_files() {
    [ "$POSTINST" = 1 ] && return 0
    say "installing units, sysusers/tmpfiles snippets and docs under ${R:-/}"
    install -d -m 0755 "$UNIT_DIR" "$R/usr/lib/sysusers.d" "$R/usr/lib/tmpfiles.d" \
        "$SHARE" "$R/usr/share/doc/edge-agent"
    for unit in "$SRC_UNITS"/*.service "$SRC_UNITS"/*.path; do
        install -m 0644 "$unit" "$UNIT_DIR/"
    done
    install -m 0644 "$SRC_SYSUSERS" "$R/usr/lib/sysusers.d/edge-agent.conf"
    install -m 0644 "$SRC_TMPFILES" "$R/usr/lib/tmpfiles.d/edge-agent.conf"
    install -m 0644 "$SRC_CONFIG" "$SHARE/agent.example.toml"
    [ -f "$HERE/../docs/operations.md" ] && install -m 0644 "$HERE/../docs/operations.md" \
        "$R/usr/share/doc/edge-agent/operations.md"
    install -m 0644 "$SRC_CONSTRAINTS"/constraints-jetpack*.txt "$SHARE/"
    install -m 0755 "$HERE/install.sh" "$SHARE/install.sh"
    install -m 0755 "$HERE/uninstall.sh" "$SHARE/uninstall.sh"
}

create_user() {
    local conf="$R/usr/lib/sysusers.d/edge-agent.conf"
    if command -v systemd-sysusers >/dev/null; then
        say "creating system user edge-agent (systemd-sysusers)"
        if [ "$LIVE" = 1 ]; then systemd-sysusers "$conf"; else
            install -d -m 0755 "$R/etc"
            systemd-sysusers --root="$R" "$conf"
        fi
    elif [ "$LIVE" = 1 ]; then
        say "creating system user edge-agent (useradd)"
        getent group video >/dev/null || groupadd --system video
        id edge-agent >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/edge-agent \
            --shell /usr/sbin/nologin --comment "edge-agent daemon" edge-agent
        usermod -a -G video edge-agent
    else
        die "systemd-sysusers is needed to create the user inside --root"
    fi
}

create_dirs() {
    local conf="$R/usr/lib/tmpfiles.d/edge-agent.conf"
    say "creating state directories (systemd-tmpfiles)"
    if [ "$LIVE" = 1 ]; then systemd-tmpfiles --create "$conf"; else
        systemd-tmpfiles --root="$R" --create "$conf"
    fi
}

install_config() {
    install -d -m 0750 "$R/etc/edge-agent"
    if [ -f "$R/etc/edge-agent/agent.toml" ]; then
        say "keeping existing /etc/edge-agent/agent.toml"
    else
        say "writing /etc/edge-agent/agent.toml from the example (edit it)"
        install -m 0640 "$SRC_CONFIG" "$R/etc/edge-agent/agent.toml"
    fi
    # root owns the config; the agent's group may read it (it holds broker credentials). In a
    # --root tree the group is looked up in that tree's /etc/group, never the host's.
    local group=edge-agent
    [ "$LIVE" = 1 ] || group="$(awk -F: '$1 == "edge-agent" { print $3 }' "$R/etc/group")"
    chown "0:$group" "$R/etc/edge-agent" "$R/etc/edge-agent/agent.toml" 2>/dev/null || \
        say "warning: could not set group edge-agent on /etc/edge-agent (not root?)"
    chmod 0750 "$R/etc/edge-agent"; chmod 0640 "$R/etc/edge-agent/agent.toml"
}

# The JetPack constraints file for this python3, '' off a Jetson (see the header).
jetson_constraints() {
    [ -n "${EDGE_AGENT_CONSTRAINTS:-}" ] && { echo "$EDGE_AGENT_CONSTRAINTS"; return 0; }
    [ -f "$R/etc/nv_tegra_release" ] || return 0
    local minor
    minor="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    case "$minor" in
        3.8) echo "$SRC_CONSTRAINTS/constraints-jetpack5.txt" ;;
        3.10) echo "$SRC_CONSTRAINTS/constraints-jetpack6.txt" ;;
        *) say "warning: Python $minor is neither JetPack 5's 3.8 nor JetPack 6's 3.10:" \
               "no Jetson constraints (pass EDGE_AGENT_CONSTRAINTS=FILE)" ;;
    esac
}

install_venv() {
    say "creating $VENV (python venv with system site packages: JetPack's TensorRT bindings)"
    "$PYTHON" -m venv --system-site-packages "$R$VENV"
    local pip=("$R$VENV/bin/python" -m pip install --disable-pip-version-check -q)
    local extra=()
    [ -n "$FIND_LINKS" ] && pip+=(--find-links "$FIND_LINKS")
    # shellcheck disable=SC2206
    [ -n "$PIP_ARGS" ] && pip+=($PIP_ARGS)
    local constraints
    constraints="$(jetson_constraints)"
    if [ -n "$constraints" ]; then
        [ -f "$constraints" ] || die "constraints file $constraints not found"
        say "Jetson: pip constraints $constraints; adding NVIDIA's cuda-python (CUDA binding)"
        pip+=(-c "$constraints"); extra+=(cuda-python)
    fi
    if [ -n "$WHEEL" ]; then
        [ -f "$WHEEL" ] || die "wheel $WHEEL not found"
        say "installing $(basename "$WHEEL") ${extra[*]:-}"
        "${pip[@]}" "$WHEEL" "${extra[@]}" || die "pip could not install $(basename "$WHEEL")" \
            "${extra[*]:-} (read pip's message above; offline? pass --find-links DIR)"
    else
        say "installing from source $SOURCE ${extra[*]:-}"
        "${pip[@]}" "$SOURCE" "${extra[@]}" || die "pip could not install $SOURCE ${extra[*]:-}"
    fi
    "$R$VENV/bin/python" -c 'import edge_agent' || die "edge_agent does not import in $VENV"
}

enable_units() {
    [ "$ENABLE" = 1 ] || return 0
    say "enabling edge-agent.service and edge-agent-power-mode.path"
    if [ "$LIVE" = 1 ]; then
        systemctl daemon-reload
        systemctl enable edge-agent.service edge-agent-power-mode.path
    else
        systemctl --root="$R" enable edge-agent.service edge-agent-power-mode.path
    fi
}

maybe_start() {
    [ "$START" = 1 ] && [ "$LIVE" = 1 ] || return 0
    if "$VENV/bin/edge-agent" config check /etc/edge-agent/agent.toml; then
        systemctl start edge-agent-power-mode.path edge-agent.service
        say "started; follow it with: journalctl -fu edge-agent"
    else
        say "not started: fix /etc/edge-agent/agent.toml, then systemctl start edge-agent"
    fi
}

preflight
install_files
create_user
create_dirs
install_config
install_venv
enable_units
maybe_start
say "done. Next: edit /etc/edge-agent/agent.toml, check it with"
say "  $VENV/bin/edge-agent config check /etc/edge-agent/agent.toml"
say "then: systemctl start edge-agent; journalctl -fu edge-agent"
