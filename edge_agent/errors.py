"""One exception root for every failure a user can cause or fix.

Each error carries *what* went wrong and *how to fix it*, and maps to a documented exit code
so scripts and systemd can tell a bad config (do not retry) from a transient outage (retry).
Codes follow BSD sysexits.h, which systemd's `RestartPreventExitStatus=` can name.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; documented in README.md ("Exit codes")."""

    OK = 0
    FAILURE = 1  # a check ran and found problems (e.g. `config check` on a bad file)
    USAGE = 64  # EX_USAGE: wrong command-line arguments
    DATA = 65  # EX_DATAERR: a model or input file whose content is wrong
    NO_INPUT = 66  # EX_NOINPUT: a file or camera that does not exist or cannot be read
    UNAVAILABLE = 69  # EX_UNAVAILABLE: a service (broker, device) is not there; retrying may help
    SOFTWARE = 70  # EX_SOFTWARE: a bug in edge-agent; the log holds the traceback
    RESTART = 75  # EX_TEMPFAIL: a restart was asked for (fleet command); systemd restarts
    CONFIG = 78  # EX_CONFIG: invalid configuration; systemd must not restart-loop on it


class EdgeAgentError(Exception):
    """Base of all errors shown to a user: a one-line problem and a one-line fix."""

    exit_code: ExitCode = ExitCode.SOFTWARE

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def user_message(self) -> str:
        """Render as the CLI prints it: problem, then the fix on its own line."""
        if self.fix:
            return f"error: {self.problem}\n  fix: {self.fix}"
        return f"error: {self.problem}"


class UsageError(EdgeAgentError):
    """The command line is wrong (a missing action, a malformed argument)."""

    exit_code = ExitCode.USAGE


class ConfigError(EdgeAgentError):
    """The configuration (file, environment or a value in it) is invalid."""

    exit_code = ExitCode.CONFIG


class InputNotFoundError(EdgeAgentError):
    """A file, device or stream that the configuration names cannot be opened."""

    exit_code = ExitCode.NO_INPUT


class ModelContractError(EdgeAgentError):
    """A model's tensors, checksum or manifest do not match what the code expects."""

    exit_code = ExitCode.DATA


class ServiceUnavailableError(EdgeAgentError):
    """A service such as the MQTT broker could not be reached; a retry may succeed."""

    exit_code = ExitCode.UNAVAILABLE


class StorageError(EdgeAgentError):
    """A file system that is full, read-only, failing or gone (unplugged drive).

    Never a reason to stop retrying: space gets freed and drives come back, so the agent
    keeps running degraded and systemd may restart it (exit 69, not 78).
    """

    exit_code = ExitCode.UNAVAILABLE
