"""Child process for the SIGKILL test: publishes numbered events through a DurablePublisher.

Usage: outbox_child.py PORT OUTBOX_PATH COUNT RATE_HZ
Prints 'committed N' after each publish() and sync() returned (the row is on disk by then), then
'flushed' once everything was acknowledged. COUNT = 0 only connects and flushes the backlog.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from durable_helpers import DEVICE, event, mqtt_settings, outbox_settings

from edge_agent.transport.durable_publisher import DurablePublisher


def main() -> None:
    port, path, count, rate_hz = (
        int(sys.argv[1]),
        Path(sys.argv[2]),
        int(sys.argv[3]),
        float(sys.argv[4]),
    )
    publisher = DurablePublisher(mqtt_settings(port), outbox_settings(path.parent), DEVICE, "child")
    publisher.start()
    try:
        for seq in range(count):
            publisher.publish(event(seq))
            publisher.sync(5.0)  # group commit: wait until the row is on disk
            print(f"committed {seq + 1}", flush=True)
            time.sleep(1.0 / rate_hz)
        if publisher.flush(30.0):
            print("flushed", flush=True)
    finally:
        publisher.stop(3.0)


if __name__ == "__main__":
    main()
