"""StateStore.save on a full, vanished or refusing file system: a typed, counted result, the
previous file intact, no temporary left behind, never an exception for the caller."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from storage_faults import FAULT_KINDS, DiskFault

from edge_agent.analytics.state import StateSaveError, StateStore
from edge_agent.errors import ExitCode

TESTS = Path(__file__).resolve().parent


def _previous(state_dir: Path) -> StateStore:
    store = StateStore(state_dir)
    assert store.save({"cam": {"zones": {}, "lines": {}}}, 1.0).ok
    return store


def test_full_disk_under_rlimit_fails_cleanly_and_recovers(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    _previous(state_dir)
    child = subprocess.run(
        [sys.executable, str(TESTS / "state_child.py"), str(state_dir), "64"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(TESTS.parent)),
        check=False,
    )
    assert child.returncode == 0, child.stderr  # no exception reached the caller
    first, second, kept, third = (json.loads(line) for line in child.stdout.splitlines())
    assert kept == {"kept_ts": 1.0}, "the previous state must survive failed saves"
    assert not first["ok"] and first["failures"] == 1
    assert second["failures"] == 2, "every failure is counted"
    assert str(state_dir / "counting.json") in first["problem"] and "state_dir" in first["fix"]
    assert first["exit_code"] == ExitCode.UNAVAILABLE  # retryable, never 'do not restart'
    assert third == {"ok": True, "failures": 2, "saves": 1}
    assert child.stderr.count("cannot save the counting state") == 1, "one warning a spell"
    assert "saved again" in child.stderr
    assert not list(state_dir.glob(".counting.*")), "a temporary file was left behind"


def test_a_failed_save_raises_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "file-not-dir").write_text("x")
    blocked = StateStore(tmp_path / "file-not-dir" / "state")
    result = blocked.save({"cam": {}}, 4.0)
    assert not result.ok and isinstance(result.error, StateSaveError)
    with pytest.raises(StateSaveError, match="cannot save the counting state"):
        result.raise_for_error()


def test_vanished_state_folder_is_a_result_not_an_exception(tmp_path: Path) -> None:
    store = _previous(tmp_path / "usb" / "state")
    (tmp_path / "usb" / "state" / "counting.json").unlink()
    (tmp_path / "usb" / "state").rmdir()
    (tmp_path / "usb").rmdir()
    (tmp_path / "usb").write_text("the mount point is gone, a file is in its place")
    result = store.save({"cam": {}}, 5.0)
    assert not result.ok and store.failures == 1 and store.last_error is result.error
    (tmp_path / "usb").unlink()
    assert store.save({"cam": {}}, 6.0).ok and store.last_error is None  # back by itself


def test_unserialisable_state_is_reported_not_raised(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    result = store.save({"cam": {"zones": object()}}, 1.0)
    assert not result.ok and result.error is not None and "JSON" in result.error.problem


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[DiskFault]:
    fault = DiskFault(FAULT_KINDS[-1], tmp_path)
    try:
        yield fault
    finally:
        fault.close()


def test_full_tmpfs_keeps_the_previous_state(disk: DiskFault) -> None:
    """Where a tmpfs can be mounted, a really full one; else the RLIMIT variant above is
    the disk-full proof and this one checks the same contract on an ordinary folder."""
    store = _previous(disk.directory)
    before = store.path.read_bytes()
    if disk.kind == "tmpfs":
        disk.fill(None)
        big = {f"cam{n}": {"zones": {"z": {"current": n}}, "lines": {}} for n in range(2000)}
        result = store.save(big, 2.0)
        assert not result.ok and result.error is not None, "a full disk must fail the save"
        assert store.path.read_bytes() == before
        assert not list(disk.directory.glob(".counting.*"))
        disk.free(None)
    assert store.save({"cam": {}}, 3.0).ok
