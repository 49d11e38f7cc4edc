#!/usr/bin/env bash
# Set up and run every check: ruff, mypy (strict), vermin (Python 3.8), then pytest.
# Tests start their own mosquitto on free ports; nothing here touches a shared broker.
set -euo pipefail
source "$(dirname "$0")/setup-env.sh"
# systemd: systemd-analyze (verify, security --offline) for the unit tests; dpkg-deb comes
# with dpkg on every Debian/Ubuntu.
ensure_system_packages systemd chromium chromium-driver libjs-chart.js
ensure_venv test
cd "$ROOT"
say "ruff"; "$VENV/bin/ruff" check edge_agent tests bench
say "mypy (strict)"; "$VENV/bin/mypy"
say "vermin (minimum Python 3.8)"
"$VENV/bin/vermin" -q --no-tips --violations --eval-annotations -t=3.8- edge_agent bench
say "pytest"
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
