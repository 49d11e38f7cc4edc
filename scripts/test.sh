#!/usr/bin/env bash
# Set up and run every check: ruff, mypy (strict), vermin (Python 3.8), then pytest.
# Tests start their own mosquitto on free ports; nothing here touches a shared broker.
set -euo pipefail
source "$(dirname "$0")/setup-env.sh"
# systemd: systemd-analyze (verify, security --offline) for the unit tests; dpkg-deb comes
# with dpkg on every Debian/Ubuntu. gcc + the mosquitto/OpenSSL headers build the broker
# identity plugin (deploy/mosquitto); chromium + chromium-driver drive the dashboard tests;
# libjs-chart.js is the chart library the dashboard serves.
ensure_system_packages systemd gcc libssl-dev mosquitto-dev libmosquitto-dev chromium \
    chromium-driver libjs-chart.js
ensure_venv test
cd "$ROOT"
say "ruff"; "$VENV/bin/ruff" check edge_agent tests bench scripts
say "mypy (strict)"; "$VENV/bin/mypy"
say "vermin (minimum Python 3.8)"
"$VENV/bin/vermin" -q --no-tips --violations --eval-annotations -t=3.8- edge_agent bench
say "pytest"
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
