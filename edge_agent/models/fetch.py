"""`edge-agent models fetch NAME`: download an NGC deployable, verify it, record it in the store.

The manifest's `url` is fetched into `<models>/.partial/<name>.download`; an interrupted download
resumes with an HTTP Range request (a server that ignores Range answers 200 and the file starts
over). A zip is unpacked by taking the manifest's `file` member only (no path from the archive is
ever used). The ONNX's sha256 must equal the manifest's (or `--sha256`): otherwise nothing is
installed and both hashes are printed. Success writes `<name>.onnx` and its
`<name>.manifest.json` sidecar atomically, exactly the pair models.store reads.
"""

from __future__ import annotations

import http.client
import json
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable, Optional

from edge_agent.errors import ConfigError, ModelContractError, ServiceUnavailableError
from edge_agent.models.manifest import load_manifest
from edge_agent.models.standin import _atomic_write, sidecar_path
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


def fetch_model(name: str, models_dir: Path, manifest_dir: Optional[Path] = None,
                url: str = "", sha256: str = "", progress: Optional[Progress] = None) -> Path:
    """Download, verify and install model `name`; returns the installed ONNX path."""
    manifest = load_manifest(name, manifest_dir)
    source = url or manifest.url
    expected = (sha256 or manifest.sha256).lower()
    if not source:
        raise ConfigError(f"model {name} has no download url", "pass --url")
    if not expected:
        raise ConfigError(
            f"the manifest of {name} records no sha256, so a download cannot be verified",
            "pass --sha256 HEX after checking the hash on the NGC page, or add it to the manifest")
    models_dir = Path(models_dir)
    partial_dir = models_dir / ".partial"
    downloaded = download(source, partial_dir / f"{name}.download", progress)
    onnx_tmp = partial_dir / f"{name}.onnx.unpacked"
    if zipfile.is_zipfile(downloaded):
        extract_member(downloaded, manifest.file, onnx_tmp)
    else:
        shutil.copyfile(downloaded, onnx_tmp)
    actual = sha256_file(onnx_tmp)
    if actual != expected:
        onnx_tmp.unlink()
        downloaded.unlink()  # a wrong file must not be resumed next time
        raise ModelContractError(
            f"{manifest.file} from {source} has sha256 {actual} but the expected sha256 is "
            f"{expected}; nothing was installed",
            "check the URL and version; if NGC published a new file, review and update the "
            "manifest's sha256")
    onnx_path = models_dir / f"{name}.onnx"
    onnx_tmp.replace(onnx_path)  # same filesystem: atomic, no second copy of a large model
    sidecar = manifest.model_dump(mode="json")
    sidecar["sha256"] = actual
    sidecar["standin"] = False
    _atomic_write(sidecar_path(onnx_path),
                  (json.dumps(sidecar, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    downloaded.unlink()
    return onnx_path
