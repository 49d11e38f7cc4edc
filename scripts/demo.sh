#!/usr/bin/env bash
# Set up and run the agent's main job on the bundled sample clip: CPU, stand-in models, a
# private Mosquitto on a free port. Prints every event a real subscriber receives.
# Extra arguments go to `edge-agent demo` (e.g. --duration-s 30, --broker HOST:PORT).
set -euo pipefail
source "$(dirname "$0")/setup-env.sh"
ensure_system_packages
ensure_venv standin
cd "$ROOT"
exec "$VENV/bin/edge-agent" demo --workdir "$ROOT/var/demo" "$@"
