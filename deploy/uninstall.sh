#!/usr/bin/env bash
# Remove edge-agent installed by deploy/install.sh (not the .deb: use apt remove/purge there).
#
#   sudo deploy/uninstall.sh [--purge]        # --purge also deletes config, state, cache, logs
#   deploy/uninstall.sh --root /tmp/stage     # from a throwaway root
#
# The system user is kept (systemd's advice: reusing a removed uid could hand its files to a
# new user); remove it by hand with `userdel edge-agent` if you must.
set -euo pipefail

ROOT_DIR="/"
PURGE=0
say() { printf '[edge-agent uninstall] %s\n' "$*" >&2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT_DIR="$2"; shift 2 ;;
        --purge) PURGE=1; shift ;;
        -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) say "unknown argument: $1"; exit 64 ;;
    esac
done
R="${ROOT_DIR%/}"
UNITS="edge-agent.service edge-agent-power-mode.path edge-agent-power-mode.service"

if [ -z "$R" ]; then
    [ "$(id -u)" = 0 ] || { say "error: run as root (sudo)"; exit 1; }
    # shellcheck disable=SC2086
    systemctl disable --now $UNITS 2>/dev/null || true
else
    # shellcheck disable=SC2086
    systemctl --root="$R" disable $UNITS 2>/dev/null || true
fi
for unit in $UNITS; do rm -f "$R/lib/systemd/system/$unit"; done
rm -f "$R/usr/lib/sysusers.d/edge-agent.conf" "$R/usr/lib/tmpfiles.d/edge-agent.conf"
rm -rf "$R/opt/edge-agent" "$R/usr/share/edge-agent" "$R/usr/share/doc/edge-agent"
if [ "$PURGE" = 1 ]; then
    say "purging config, state, cache and logs"
    rm -rf "$R/etc/edge-agent" "$R/var/lib/edge-agent" "$R/var/cache/edge-agent" \
        "$R/var/log/edge-agent" "$R/var/lib/edge-agent-power"
else
    say "kept /etc/edge-agent and /var/lib/edge-agent (use --purge to delete them)"
fi
[ -z "$R" ] && systemctl daemon-reload
say "removed"
