"""Child process for the state-save tests: saves under RLIMIT_FSIZE and prints the results.

Usage: state_child.py STATE_DIR LIMIT_BYTES. Saves a large document with the limit set (the
disk is 'full'), then a second time without it; prints one JSON line per save.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
from pathlib import Path

from edge_agent.analytics.state import StateStore


def main() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    store = StateStore(Path(sys.argv[1]))
    cameras = {f"cam{n}": {"zones": {"z": {"current": n}}, "lines": {}} for n in range(500)}
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
    for _ in range(2):
        result = store.save(cameras, 2.0)
        error = result.error
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "failures": result.failures,
                    "problem": error.problem if error else "",
                    "fix": error.fix if error else "",
                    "exit_code": int(error.exit_code) if error else 0,
                }
            ),
            flush=True,
        )
    print(json.dumps({"kept_ts": store.load().get("saved_ts")}), flush=True)
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    result = store.save(cameras, 3.0)
    print(json.dumps({"ok": result.ok, "failures": result.failures, "saves": store.saves}))


if __name__ == "__main__":
    main()
