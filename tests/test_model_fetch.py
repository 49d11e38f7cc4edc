"""`models fetch` against a real local HTTP server serving a zipped stand-in (Range supported)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from edge_agent.cli.main import main
from edge_agent.errors import ModelContractError, ServiceUnavailableError
from edge_agent.models.fetch import fetch_model
from edge_agent.models.manifest import find_manifest_path, load_manifest
from edge_agent.models.standin import build_standin
from edge_agent.models.store import load_model_record

NAME = "peoplesemsegnet_shuffleseg"


class Server:
    """A local HTTP server with Range support and knobs to cut a response short."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.ranges: List[Optional[str]] = []
        self.cut_after: Optional[int] = None  # send only this many bytes, then close
        self.honour_range = True
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                header = self.headers.get("Range")
                owner.ranges.append(header)
                start = 0
                match = re.match(r"bytes=(\d+)-", header or "")
                if match and owner.honour_range:
                    start = int(match.group(1))
                    if start >= len(owner.payload):
                        self.send_response(416)
                        self.end_headers()
                        return
                    self.send_response(206)
                else:
                    self.send_response(200)
                body = owner.payload[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if owner.cut_after is not None:
                    self.wfile.write(body[:owner.cut_after])
                    owner.cut_after = None
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="http-test")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/model.zip"


@pytest.fixture
def onnx_bytes() -> bytes:
    return build_standin(NAME)


@pytest.fixture
def server(onnx_bytes: bytes) -> Iterator[Server]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("README.txt", "stand-in served by the test")
        zipped.writestr(f"deployable/{load_manifest(NAME).file}", onnx_bytes)
    instance = Server(buffer.getvalue())
    instance.thread.start()
    try:
        yield instance
    finally:
        instance.httpd.shutdown()
        instance.httpd.server_close()
        instance.thread.join()


def test_fetch_unpacks_verifies_and_records(tmp_path: Path, server: Server,
                                            onnx_bytes: bytes) -> None:
    sha = hashlib.sha256(onnx_bytes).hexdigest()
    path = fetch_model(NAME, tmp_path, url=server.url, sha256=sha)
    assert path == tmp_path / f"{NAME}.onnx" and path.read_bytes() == onnx_bytes
    record = load_model_record(tmp_path, NAME)  # the store accepts the pair
    assert record.sha256 == sha and record.standin is False
    assert not list((tmp_path / ".partial").iterdir())


def test_interrupted_download_resumes_with_range(tmp_path: Path, server: Server,
                                                 onnx_bytes: bytes) -> None:
    sha = hashlib.sha256(onnx_bytes).hexdigest()
    server.cut_after = len(server.payload) // 3
    with pytest.raises(ServiceUnavailableError, match="stopped at|interrupted"):
        fetch_model(NAME, tmp_path, url=server.url, sha256=sha)
    partial = tmp_path / ".partial" / f"{NAME}.download"
    assert partial.stat().st_size == len(server.payload) // 3
    fetch_model(NAME, tmp_path, url=server.url, sha256=sha)
    assert server.ranges == [None, f"bytes={len(server.payload) // 3}-"]
    assert (tmp_path / f"{NAME}.onnx").read_bytes() == onnx_bytes


def test_server_ignoring_range_restarts_cleanly(tmp_path: Path, server: Server,
                                                onnx_bytes: bytes) -> None:
    partial = tmp_path / ".partial" / f"{NAME}.download"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"stale bytes from an older attempt")
    server.honour_range = False
    fetch_model(NAME, tmp_path, url=server.url, sha256=hashlib.sha256(onnx_bytes).hexdigest())
    assert (tmp_path / f"{NAME}.onnx").read_bytes() == onnx_bytes


def test_sha_mismatch_refused_with_both_hashes(tmp_path: Path, server: Server,
                                               onnx_bytes: bytes,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    wrong = "0" * 64
    with pytest.raises(ModelContractError) as info:
        fetch_model(NAME, tmp_path, url=server.url, sha256=wrong)
    actual = hashlib.sha256(onnx_bytes).hexdigest()
    assert actual in info.value.problem and wrong in info.value.problem
    assert not (tmp_path / f"{NAME}.onnx").exists()
    assert not (tmp_path / ".partial" / f"{NAME}.download").exists()
    # Same through the CLI: exit 65 (data error), both hashes printed.
    code = main(["models", "fetch", NAME, "--models-dir", str(tmp_path), "--url", server.url,
                 "--sha256", wrong])
    err = capsys.readouterr().err
    assert code == 65 and actual in err and wrong in err


def test_first_download_pins_and_a_later_mismatch_is_refused(
        tmp_path: Path, server: Server, onnx_bytes: bytes,
        capsys: pytest.CaptureFixture[str]) -> None:
    sha = hashlib.sha256(onnx_bytes).hexdigest()
    models = tmp_path / "models"
    # The NGC manifests record no sha256 (NVIDIA publishes none): the first download pins it.
    assert main(["models", "fetch", NAME, "--models-dir", str(models), "--url", server.url]) == 0
    out = capsys.readouterr().out
    assert f"pinned sha256 {sha}" in out and f"{NAME}: " in out and "(100 %)" in out
    pin = json.loads((models / f"{NAME}.sha256.json").read_text(encoding="utf-8"))
    assert pin["sha256"] == sha and pin["url"] == server.url
    assert load_model_record(models, NAME).sha256 == sha
    # Same file again: accepted against the pin, nothing re-pinned.
    assert main(["models", "fetch", NAME, "--models-dir", str(models), "--url", server.url]) == 0
    assert "pinned" not in capsys.readouterr().out
    # The server now serves another file: refused with both hashes and the re-pin command.
    other = onnx_bytes + b"\x00"  # any other bytes: refused before anything is parsed
    server.payload = zipped({load_manifest(NAME).file: other})
    code = main(["models", "fetch", NAME, "--models-dir", str(models), "--url", server.url])
    err = capsys.readouterr().err
    new_sha = hashlib.sha256(other).hexdigest()
    assert code == 65 and sha in err and new_sha in err
    assert f"edge-agent models fetch {NAME} --models-dir {models} --repin" in err
    assert (models / f"{NAME}.onnx").read_bytes() == onnx_bytes  # the good file stays
    # The operator checked NGC and accepts the new file.
    assert main(["models", "fetch", NAME, "--models-dir", str(models), "--url", server.url,
                 "--repin"]) == 0
    assert f"pinned sha256 {new_sha}" in capsys.readouterr().out
    assert json.loads((models / f"{NAME}.sha256.json").read_text())["sha256"] == new_sha


def test_fetch_all_installs_each_model_and_skips_those_without_a_url(
        tmp_path: Path, server: Server, onnx_bytes: bytes,
        capsys: pytest.CaptureFixture[str]) -> None:
    manifests = tmp_path / "manifests"  # a site's manifests pointing at its own mirror
    manifests.mkdir()
    source = find_manifest_path(NAME)
    text = source.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^url = ".*"$', f'url = "{server.url}"', text)
    (manifests / f"{NAME}.toml").write_text(text, encoding="utf-8")
    segic = find_manifest_path("segic")
    (manifests / "segic.toml").write_text(segic.read_text(encoding="utf-8"), encoding="utf-8")
    from edge_agent.models.fetch import run_fetch

    stream = io.StringIO()
    assert run_fetch("all", tmp_path / "models", stream=stream, manifest_dir=manifests) == 0
    out = stream.getvalue()
    assert f"installed {NAME}" in out and "segic: skipped (no public download location" in out
    assert (tmp_path / "models" / f"{NAME}.onnx").read_bytes() == onnx_bytes


def zipped(members: Dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"deployable/{name}", data)
    return buffer.getvalue()


def test_zip_without_the_model_file(tmp_path: Path, server: Server) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("other.onnx", b"x")
    server.payload = buffer.getvalue()
    with pytest.raises(ModelContractError, match="does not contain"):
        fetch_model(NAME, tmp_path, url=server.url, sha256="1" * 64)


def test_fetch_or_standin_uses_ngc_where_reachable(tmp_path: Path, server: Server,
                                                   onnx_bytes: bytes) -> None:
    from edge_agent.demo.local_broker import free_port
    from edge_agent.models.fetch import fetch_or_standin

    manifests = tmp_path / "manifests"
    manifests.mkdir()
    text = find_manifest_path(NAME).read_text(encoding="utf-8")
    (manifests / f"{NAME}.toml").write_text(
        re.sub(r'(?m)^url = ".*"$', f'url = "{server.url}"', text), encoding="utf-8")
    text = find_manifest_path("peoplenet").read_text(encoding="utf-8")
    unreachable = f"http://127.0.0.1:{free_port()}/peoplenet.onnx"  # nothing listens there
    (manifests / "peoplenet.toml").write_text(
        re.sub(r'(?m)^url = ".*"$', f'url = "{unreachable}"', text), encoding="utf-8")
    said: List[str] = []
    standins = fetch_or_standin([NAME, "peoplenet"], tmp_path / "models", said.append,
                                manifest_dir=manifests, timeout_s=5.0)
    assert standins == ["peoplenet"]
    assert load_model_record(tmp_path / "models", NAME).standin is False
    assert load_model_record(tmp_path / "models", "peoplenet").standin is True
    assert any("NGC model installed" in line for line in said)
    assert any("peoplenet: NGC not reachable" in line for line in said)
    requests = len(server.ranges)
    fetch_or_standin([NAME], tmp_path / "models", said.append, manifest_dir=manifests)
    assert len(server.ranges) == requests  # installed and verified: not downloaded again


def test_fetch_installs_the_calibration_cache_nvidia_ships(tmp_path: Path, server: Server,
                                                           onnx_bytes: bytes) -> None:
    import io as _io

    from edge_agent.calibration.cache_format import format_cache
    from edge_agent.calibration.store import select_calibration
    from edge_agent.models.fetch import run_fetch
    from edge_agent.pipeline.calibration_choice import shipped_cache_installer

    cache = Server(format_cache(8601, {"input_1:0": 1.0 / 127.0}).encode())
    cache.thread.start()
    try:
        manifests = tmp_path / "manifests"
        manifests.mkdir()
        text = find_manifest_path(NAME).read_text(encoding="utf-8")
        text = re.sub(r'(?m)^url = ".*"$', f'url = "{server.url}"', text)
        text = re.sub(r'(?m)^sha256 = ".*"$',
                      f'sha256 = "{hashlib.sha256(onnx_bytes).hexdigest()}"\n'
                      f'calibration_url = "{cache.url}"', text)
        (manifests / f"{NAME}.toml").write_text(text, encoding="utf-8")
        out = _io.StringIO()
        code = run_fetch(NAME, tmp_path / "models", stream=out, manifest_dir=manifests,
                         after_install=shipped_cache_installer(tmp_path / "calib", manifests))
        assert code == 0, out.getvalue()
        assert "INT8 calibration cache installed" in out.getvalue()
        version = load_manifest(NAME, manifests).ngc_version
        choice = select_calibration(NAME, version, tmp_path / "calib")
        assert choice is not None and choice.source == "ngc"
        assert choice.path.read_bytes() == cache.payload
    finally:
        cache.httpd.shutdown()
        cache.httpd.server_close()
        cache.thread.join()


def test_the_fleet_fetch_command_can_carry_a_calibration_cache(
        tmp_path: Path, server: Server, onnx_bytes: bytes) -> None:
    from edge_agent.agent.daemon import Agent
    from edge_agent.calibration.cache_format import format_cache
    from edge_agent.calibration.store import select_calibration
    from edge_agent.fleet.agent_target import AgentCommandTarget, AgentHooks
    from edge_agent.settings import AgentSettings

    cache = Server(format_cache(8601, {"input_1:0": 1.0 / 127.0}).encode())
    cache.thread.start()
    try:
        settings = AgentSettings()
        hooks = AgentHooks(models_dir=tmp_path / "models", calibration_dir=tmp_path / "calib")
        target = AgentCommandTarget(Agent(settings), settings, "lab", hooks, False)
        steps: List[str] = []
        target.fetch_model(NAME, server.url, hashlib.sha256(onnx_bytes).hexdigest(),
                           lambda pct, what: steps.append(what), cache.url)
        choice = select_calibration(NAME, load_manifest(NAME).ngc_version, tmp_path / "calib")
        assert choice is not None and choice.path.read_bytes() == cache.payload
        assert steps[-1] == "calibration cache installed"
    finally:
        cache.httpd.shutdown()
        cache.httpd.server_close()
        cache.thread.join()
