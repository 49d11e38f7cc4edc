#!/usr/bin/env bash
# Shared set-up for scripts/demo.sh and scripts/test.sh: system packages, then a venv.
#
# Installs the Debian/Ubuntu packages it needs only when they are missing and installing is
# allowed (root, or password-less sudo; EDGE_AGENT_NO_APT=1 forbids it). The venv lives in
# .venv (override with EDGE_AGENT_VENV) and is reused when its install stamp is newer than
# setup.cfg, so a second run starts in seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${EDGE_AGENT_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

say() { printf '[setup] %s\n' "$*" >&2; }

apt_install() {
    # apt_install PKG... : install the packages if allowed, else say what is missing.
    if [ "${EDGE_AGENT_NO_APT:-0}" = "1" ]; then
        say "missing: $* (EDGE_AGENT_NO_APT=1, not installing)"; return 1
    fi
    local sudo=""
    if [ "$(id -u)" != "0" ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
            say "missing: $*; install them with: sudo apt-get install -y $*"; return 1
        fi
    fi
    command -v apt-get >/dev/null || { say "missing: $* and no apt-get here"; return 1; }
    say "installing $* with apt-get"
    $sudo apt-get update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_system_packages() {
    # ensure_system_packages [extra PKG...]: python3 + venv (+ mosquitto, + extras).
    local missing=()
    command -v "$PYTHON" >/dev/null || missing+=(python3)
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
    command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}" || true; fi
    # Debian starts the packaged broker as a service on 1883; we never use it (tests and the
    # demo start their own on a free port), so leave it as the system has it.
}

ensure_venv() {
    # ensure_venv EXTRAS: create/refresh the venv with `pip install -e .[EXTRAS]`.
    local extras="${1:-}" stamp
    stamp="$VENV/.edge-agent-installed${extras:+-$extras}"
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtual environment $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    if [ ! -f "$stamp" ] || [ "$ROOT/setup.cfg" -nt "$stamp" ]; then
        say "installing edge-agent${extras:+ with [$extras]} into $VENV (pip)"
        "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
        "$VENV/bin/python" -m pip install -q -e "$ROOT${extras:+[$extras]}"
        touch "$stamp"
    fi
}
