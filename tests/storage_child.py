"""Child process for the storage-fault tests: a DurablePublisher driven line by line on stdin.

Usage: storage_child.py PORT OUTBOX_PATH LIMIT_BYTES|none MAX_BYTES
With LIMIT_BYTES the process starts with RLIMIT_FSIZE set to it (writes beyond fail with
EFBIG, SIGXFSZ ignored): the LD_PRELOAD-free way to make a disk "full" for this process only.
Commands (one JSON line answers each): ``publish START COUNT [each]`` (``each`` waits for the
commit of every event: one commit per event), ``limit BYTES``, ``unlimit``, ``stats``,
``flush SECONDS``, ``stop``. Logs go to stderr.
"""

from __future__ import annotations

import json
import logging
import resource
import signal
import sys
from pathlib import Path
from typing import Any, Dict

from durable_helpers import DEVICE, event, mqtt_settings, outbox_settings

from edge_agent.transport.durable_publisher import DurablePublisher


def _limit(size: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))


def _stats(publisher: DurablePublisher) -> Dict[str, Any]:
    stats = publisher.stats()
    counters = publisher.outbox_counters()
    health = publisher.health()
    return {
        "connected": stats.connected,
        "pending": stats.pending,
        "dropped": stats.dropped,
        "acknowledged": stats.acknowledged,
        "refused": counters.refused,
        "write_errors": counters.write_errors,
        "available": counters.available,
        "rows": counters.rows,
        "depth": counters.depth,
        "health_ok": health.ok,
        "session": publisher.session,
    }


def main() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    port, path = int(sys.argv[1]), Path(sys.argv[2])
    if sys.argv[3] != "none":
        _limit(int(sys.argv[3]))
    settings = outbox_settings(path.parent, path=path, max_bytes=int(sys.argv[4]))
    publisher = DurablePublisher(mqtt_settings(port), settings, DEVICE, "child")
    publisher.start()
    print(json.dumps({"started": True}), flush=True)
    for line in sys.stdin:
        words = line.split()
        answer: Dict[str, Any] = {"ok": True}
        if words[0] == "publish":
            start, count = int(words[1]), int(words[2])
            for seq in range(start, start + count):
                publisher.publish(event(seq))
                if len(words) > 3:
                    publisher.sync(5.0)
            answer["synced"] = publisher.sync(5.0)
        elif words[0] == "limit":
            _limit(int(words[1]))
        elif words[0] == "unlimit":
            _limit(resource.RLIM_INFINITY)
        elif words[0] == "stats":
            answer.update(_stats(publisher))
        elif words[0] == "flush":
            answer["flushed"] = publisher.flush(float(words[1]))
        elif words[0] == "stop":
            publisher.stop(3.0)
            print(json.dumps({"stopped": True}), flush=True)
            return
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
