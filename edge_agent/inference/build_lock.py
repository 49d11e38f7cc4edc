"""One TensorRT build at a time per engine folder, across threads and processes.

A build holds gigabytes of host and GPU memory for minutes; on a 4 GB Nano two at once (the
segmentation and tracking engines, or the agent and an operator's `edge-agent engines build`)
can exhaust it. An advisory lock file in the engine folder serialises them without any shared
object between the callers. Waiting polls so that a cancelled build (agent stopping) gives up.
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

LOCK_NAME = ".build.lock"
_POLL_S = 0.5


class BuildCancelled(RuntimeError):
    """The build was cancelled while it waited for the lock."""


@contextmanager
def exclusive_build(
    directory: Path, cancel: threading.Event, say: Callable[[str], None]
) -> Iterator[None]:
    """Hold the folder's build lock for the body; raises BuildCancelled if `cancel` is set."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(directory / LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o640)
    try:
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    say("another engine build is running on this device; waiting for it")
                    told = True
                if cancel.wait(_POLL_S):
                    raise BuildCancelled("cancelled while waiting for another build") from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
