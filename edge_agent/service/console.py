"""Where the agent talks to a person: log configuration and the live status line.

On a terminal the status line rewrites itself in place once per interval; under systemd or
in a pipe the same text goes to the log as an ordinary line, so journals stay readable.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from typing import Callable, List, Optional, TextIO

from edge_agent.errors import EdgeAgentError, ExitCode

_LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _LineAwareHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that clears a pending live status line before writing a record."""

    def __init__(self, stream: TextIO, status: StatusLine) -> None:
        super().__init__(stream)
        self._status = status

    def emit(self, record: logging.LogRecord) -> None:
        self._status.clear()
        super().emit(record)


class StatusLine:
    """Shows a one-line status: in place on a TTY, as a log record otherwise."""

    def __init__(self, stream: TextIO, interactive: bool) -> None:
        self._stream = stream
        self._interactive = interactive
        self._lock = threading.Lock()
        self._shown = False
        self._logger = logging.getLogger("edge_agent.status")

    def show(self, text: str) -> None:
        """Display the latest status text."""
        if not self._interactive:
            self._logger.info("%s", text)
            return
        with self._lock:
            self._stream.write("\r\x1b[2K" + text)
            self._stream.flush()
            self._shown = True

    def clear(self) -> None:
        """Remove the live line so a log record starts on a clean line."""
        if not self._interactive:
            return
        with self._lock:
            if self._shown:
                self._stream.write("\r\x1b[2K")
                self._stream.flush()
                self._shown = False


def configure_logging(level: str, stream: Optional[TextIO] = None) -> StatusLine:
    """Set up root logging once for the process and return the status line writer.

    The stream is looked up at call time: a default bound at import would pin whatever
    sys.stderr was then (a test harness's capture, say) for the life of the process.
    """
    stream = stream if stream is not None else sys.stderr
    interactive = bool(getattr(stream, "isatty", lambda: False)())
    status = StatusLine(stream, interactive)
    handler = _LineAwareHandler(stream, status)
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # paho logs every reconnect attempt at INFO through its own logger only when asked;
    # keep third-party chatter at WARNING so the status line stays readable.
    for noisy in ("paho", "onnxruntime"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return status


def run_command_line(parser: argparse.ArgumentParser, argv: Optional[List[str]], tool: str,
                     dispatch: Callable[[argparse.Namespace], int],
                     prepare: Optional[Callable[[argparse.Namespace], None]] = None) -> int:
    """Parse and run one command of `tool` (edge-agent, edge-fleet) with the exit-code rules
    both share: usage errors 64, a user-caused failure one message and its fix with the
    error's own code, a bug one line (the traceback only with --debug), never a raw trace."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return ExitCode.USAGE if exit_.code not in (0, None) else ExitCode.OK
    if args.command is None:
        parser.print_help()
        return ExitCode.USAGE
    if prepare is not None:
        prepare(args)
    try:
        return int(dispatch(args))
    except EdgeAgentError as err:
        sys.stderr.write(err.user_message() + "\n")
        return int(err.exit_code)
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001 - the last line of defence: no raw traceback
        if args.debug:
            raise
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        sys.stderr.write(
            f"internal error: {type(err).__name__}: {err}\n"
            f"  this is a bug in {tool}; rerun with --debug for the traceback and report it\n")
        return ExitCode.SOFTWARE
