"""`edge-agent models fetch NAME|all`: download NGC deployables, verify them, record them.

The manifest's `url` is fetched into `<models>/.partial/<name>.download`; an interrupted download
resumes with an HTTP Range request (a server that ignores Range answers 200 and the file starts
over). A zip is unpacked by taking the manifest's `file` member only (no path from the archive is
ever used). The ONNX's sha256 must equal, in this order, `--sha256`, the manifest's, or the pin
recorded by an earlier download: otherwise nothing is installed and both hashes are printed
with the command that re-pins. NVIDIA publishes no checksums for these files, so the first
download pins its sha256 (printed, and written to `<models>/<name>.sha256.json` next to the
model: trust on first use). Success writes `<name>.onnx` and its `<name>.manifest.json`
sidecar atomically, exactly the pair models.store reads.
"""

from __future__ import annotations

import http.client
import json
import shutil
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, TextIO

from edge_agent.errors import (
    ConfigError,
    EdgeAgentError,
    ExitCode,
    ModelContractError,
    ServiceUnavailableError,
)
from edge_agent.models.files import atomic_write as _atomic_write
from edge_agent.models.files import sidecar_path
from edge_agent.models.manifest import known_model_names, load_manifest
from edge_agent.models.store import sha256_file

CHUNK_BYTES = 1 << 20
TIMEOUT_S = 60.0
Progress = Callable[[int, Optional[int]], None]


def download(url: str, dest: Path, progress: Optional[Progress] = None,
             timeout_s: float = TIMEOUT_S) -> Path:
    """Download `url` to `dest`, resuming a partial `dest` with a Range request."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    have = dest.stat().st_size if dest.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "edge-agent"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)  # noqa: S310 - manifest URL
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # Range not satisfiable: we already have every byte
            return dest
        raise ServiceUnavailableError(f"download of {url} failed: HTTP {exc.code} {exc.reason}",
                                      "check the URL and your network; rerun to resume") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ServiceUnavailableError(f"download of {url} failed: {exc}",
                                      "check the network; rerun to resume") from exc
    with response:
        resumed = response.status == 206
        length = response.headers.get("Content-Length")
        total = (int(length) + (have if resumed else 0)) if length else None
        done = have if resumed else 0
        with dest.open("ab" if resumed else "wb") as handle:
            while True:
                try:
                    chunk = response.read(CHUNK_BYTES)
                except (OSError, http.client.HTTPException) as exc:
                    raise ServiceUnavailableError(
                        f"download of {url} interrupted after {done} bytes: {exc}",
                        "rerun the same command to resume") from exc
                if not chunk:
                    break
                handle.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    if total is not None and done < total:
        raise ServiceUnavailableError(f"download of {url} stopped at {done} of {total} bytes",
                                      "rerun the same command to resume")
    return dest


def extract_member(archive: Path, member_name: str, dest: Path) -> Path:
    """Copy the zip member whose base name is `member_name` to `dest` (no archive paths used)."""
    with zipfile.ZipFile(archive) as zipped:
        matches = [i for i in zipped.infolist()
                   if not i.is_dir() and Path(i.filename).name == member_name]
        if not matches:
            names = ", ".join(i.filename for i in zipped.infolist()) or "(empty)"
            raise ModelContractError(f"{archive} does not contain {member_name} (has {names})",
                                     "check `file` in the model manifest")
        with zipped.open(matches[0]) as source, dest.open("wb") as target:
            shutil.copyfileobj(source, target, CHUNK_BYTES)
    return dest


PIN_SUFFIX = ".sha256.json"


def pin_path(models_dir: Path, name: str) -> Path:
    """Where the first download's sha256 is recorded: next to the model."""
    return Path(models_dir) / f"{name}{PIN_SUFFIX}"


def read_pin(models_dir: Path, name: str) -> str:
    """The pinned sha256 of `name` ('' when none, or when the pin file is unreadable)."""
    try:
        data = json.loads(pin_path(models_dir, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    sha = data.get("sha256", "") if isinstance(data, dict) else ""
    return sha if isinstance(sha, str) else ""


def repin_command(name: str, models_dir: Path) -> str:
    """The command that accepts a new file for `name` (after checking why it changed)."""
    return f"edge-agent models fetch {name} --models-dir {models_dir} --repin"


@dataclass(frozen=True)
class FetchResult:
    """What one fetch did: the installed file, its sha256 and whether this run pinned it."""

    path: Path
    sha256: str
    pinned_now: bool


def fetch_model(name: str, models_dir: Path, manifest_dir: Optional[Path] = None,
                url: str = "", sha256: str = "", progress: Optional[Progress] = None,
                repin: bool = False) -> Path:
    """Download, verify and install model `name`; returns the installed ONNX path."""
    return fetch(name, models_dir, manifest_dir, url, sha256, progress, repin).path


def fetch(name: str, models_dir: Path, manifest_dir: Optional[Path] = None, url: str = "",
          sha256: str = "", progress: Optional[Progress] = None,
          repin: bool = False, timeout_s: float = TIMEOUT_S) -> FetchResult:
    """fetch_model with the pin outcome (see the module docstring for the order of hashes)."""
    manifest = load_manifest(name, manifest_dir)
    source = url or manifest.url
    models_dir = Path(models_dir)
    pinned = "" if repin else read_pin(models_dir, name)
    expected = (sha256 or manifest.sha256 or pinned).lower()
    origin = ("--sha256" if sha256 else "the manifest" if manifest.sha256 else
              f"the pin in {pin_path(models_dir, name)}")
    if not source:
        raise ConfigError(f"model {name} has no public download location (its manifest names "
                          "no url)", f"pass --url, or copy {manifest.file} to "
                          f"{models_dir}/{name}.onnx with a sidecar")
    partial_dir = models_dir / ".partial"
    downloaded = download(source, partial_dir / f"{name}.download", progress, timeout_s)
    onnx_tmp = partial_dir / f"{name}.onnx.unpacked"
    if zipfile.is_zipfile(downloaded):
        extract_member(downloaded, manifest.file, onnx_tmp)
    else:
        shutil.copyfile(downloaded, onnx_tmp)
    actual = sha256_file(onnx_tmp)
    if expected and actual != expected:
        onnx_tmp.unlink()
        downloaded.unlink()  # a wrong file must not be resumed next time
        fix = ("check the URL and version; if NGC published a new file, review and update the "
               "manifest's sha256")
        if origin.startswith("the pin"):
            fix = (f"if NGC really replaced {manifest.file} (check the model page), accept the "
                   f"new file with `{repin_command(name, models_dir)}`")
        raise ModelContractError(
            f"{manifest.file} from {source} has sha256 {actual} but {origin} expects "
            f"{expected}; nothing was installed", fix)
    onnx_path = models_dir / f"{name}.onnx"
    onnx_tmp.replace(onnx_path)  # same filesystem: atomic, no second copy of a large model
    sidecar = manifest.model_dump(mode="json")
    sidecar["sha256"] = actual
    sidecar["standin"] = False
    _atomic_write(sidecar_path(onnx_path),
                  (json.dumps(sidecar, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    pinned_now = not expected
    if pinned_now:
        record = {"sha256": actual, "url": source, "file": manifest.file,
                  "ngc_model": manifest.ngc_model, "ngc_version": manifest.ngc_version,
                  "pinned_unix": int(time.time())}
        _atomic_write(pin_path(models_dir, name),
                      (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    downloaded.unlink()
    return FetchResult(onnx_path, actual, pinned_now)


class ProgressLine:
    """Prints '<name>: 12.0 of 80.0 MiB (15 %)' at most every `every_s` seconds, then at 100 %."""

    def __init__(self, name: str, stream: TextIO, every_s: float = 2.0) -> None:
        self._name = name
        self._stream = stream
        self._every_s = every_s
        self._last = 0.0

    def __call__(self, done: int, total: Optional[int]) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self._last < self._every_s and not finished:
            return
        self._last = now
        mib = done / (1 << 20)
        if total:
            text = f"{mib:.1f} of {total / (1 << 20):.1f} MiB ({100 * done // total} %)"
        else:
            text = f"{mib:.1f} MiB"
        print(f"{self._name}: {text}", file=self._stream, flush=True)


AfterInstall = Callable[[str, "FetchResult", TextIO], None]


def run_fetch(name: str, models_dir: Path, url: str = "", sha256: str = "",
              repin: bool = False, stream: Optional[TextIO] = None,
              manifest_dir: Optional[Path] = None,
              after_install: Optional[AfterInstall] = None) -> int:
    """The CLI action: one model or `all` (models without a public url are skipped).

    With `manifest_dir` (a site's own manifests, e.g. pointing at an internal mirror of the NGC
    files), `all` means the models described there, not the packaged ones."""
    stream = stream or sys.stdout
    if name == "all":
        if url or sha256:
            raise ConfigError("--url and --sha256 apply to one model, not to all",
                              "fetch that model by name")
        every = (sorted(p.stem for p in Path(manifest_dir).glob("*.toml")) if manifest_dir
                 else known_model_names())
        names = [n for n in every if load_manifest(n, manifest_dir).url]
        skipped = [n for n in every if n not in names]
    else:
        names, skipped = [name], []
    failed: List[str] = []
    for model in names:
        try:
            result = fetch(model, models_dir, manifest_dir, url=url, sha256=sha256,
                           progress=ProgressLine(model, stream), repin=repin)
        except EdgeAgentError as err:
            if name != "all":
                raise
            failed.append(model)
            print(f"{model}: FAILED: {err.problem} ({err.fix})", file=stream)
            continue
        print(f"installed {model}: {result.path} (sha256 {result.sha256})", file=stream)
        if after_install is not None:  # e.g. the calibration cache shipped with the model
            try:
                after_install(model, result, stream)
            except EdgeAgentError as err:
                failed.append(model)
                print(f"{model}: FAILED: {err.problem} ({err.fix})", file=stream)
        if result.pinned_now:
            print(f"{model}: NVIDIA publishes no checksum; pinned sha256 {result.sha256} in "
                  f"{pin_path(models_dir, model)} - later downloads must match it", file=stream)
    for model in skipped:
        print(f"{model}: skipped (no public download location in its manifest)", file=stream)
    if failed:
        print(f"{len(failed)} model(s) not installed: {', '.join(failed)}", file=stream)
        return ExitCode.FAILURE
    return ExitCode.OK


def fetch_or_standin(names: List[str], models_dir: Path, say: Callable[[str], None],
                     manifest_dir: Optional[Path] = None, timeout_s: float = 10.0) -> List[str]:
    """The real NGC model for each name where it can be fetched (pinned on first download),
    else a stand-in, saying which and why; returns the names that ended up as stand-ins.

    For the demo and the selftest on a machine that may or may not reach NGC: an installed
    model that verifies is kept as it is, nothing is downloaded twice.
    """
    from edge_agent.models.standin import write_standin
    from edge_agent.models.store import load_model_record

    standins: List[str] = []
    for name in names:
        try:
            if not load_model_record(models_dir, name).standin:
                continue  # the real model is already installed and matches its sidecar
        except EdgeAgentError:
            pass
        try:
            result = fetch(name, models_dir, manifest_dir, timeout_s=timeout_s)
        except EdgeAgentError as err:
            write_standin(name, models_dir, manifest_dir)
            standins.append(name)
            say(f"{name}: NGC not reachable or refused ({err.problem}); using the stand-in")
            continue
        say(f"{name}: NGC model installed (sha256 {result.sha256[:12]}…"
            + (", pinned now" if result.pinned_now else "") + ")")
    return standins
