"""`doctor` and `engines` on fixture trees, and proof the CPU path never loads GPU libraries."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fake_cuda_lib import FakeCudart
from jetson_tree import agx_orin_tree, write
from mosquitto_broker import MosquittoBroker, free_port

from edge_agent.capture.sample_footage import write_synthetic_clip
from edge_agent.cli.main import main
from edge_agent.inference.tensorrt_cache import EngineCache, EngineKey
from edge_agent.models.standin import write_standin

GPU_MODULES = ("tensorrt", "pycuda", "jetson_utils")
KEY = EngineKey(model_name="peoplenet", model_sha256="a" * 64, device="agx_orin/p3701-0005",
                tensorrt_version="8.6.2.3", precision="fp16", batch_max=2, dla_core=0)


@pytest.fixture
def cuda_binding(monkeypatch: pytest.MonkeyPatch) -> FakeCudart:
    """FAKE cuda-python runtime module (tests/fake_cuda_lib.py): the device has the binding."""
    cudart = FakeCudart()
    package = type(sys)("cuda")
    package.cudart = cudart  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cuda", package)
    monkeypatch.setitem(sys.modules, "cuda.cudart", cudart)
    return cudart


def config(tmp_path: Path, port: int, clip: Path = Path("/nonexistent.avi"),
           on_eof: str = "stop") -> Path:
    models = tmp_path / "models"
    write_standin("peoplesemsegnet_shuffleseg", models)
    path = tmp_path / "agent.toml"
    path.write_text(f'[device]\nid = "dev"\n[[cameras]]\nid = "cam1"\nurl = "{clip}"\n'
                    f'on_eof = "{on_eof}"\n[models]\ndir = "{models}"\nthreads = 1\n'
                    f'[mqtt]\nport = {port}\n', encoding="utf-8")
    return path


def orin_root(tmp_path: Path) -> Path:
    root = agx_orin_tree(tmp_path / "root")
    write(root, "/var/lib/dpkg/status",
          "Package: tensorrt\nStatus: install ok installed\nVersion: 8.6.2.3-1+cuda12.2\n")
    return root


def test_doctor_on_agx_orin_with_broker(tmp_path: Path, broker: MosquittoBroker,
                                        capsys: pytest.CaptureFixture[str],
                                        cuda_binding: FakeCudart) -> None:
    root = orin_root(tmp_path)
    engines = tmp_path / "engines"
    EngineCache(engines).store(KEY, b"plan")
    code = main(["doctor", "--root", str(root), "--engine-dir", str(engines),
                 "--config", str(config(tmp_path, broker.port))])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "agx_orin p3701-0005 Jetson AGX Orin" in out
    assert "L4T 36.3.0 (JetPack 6.0)" in out and "TensorRT 8.6.2.3" in out
    assert "MODE_30W (id 2, 30.0 W)" in out and "hottest zone 47.5" in out
    assert "peoplenet fp16 batch 1..2 dla core 0: DLA layer count unknown" in out
    assert "reachable" in out and "[ ok ] cuda binding: cuda-python, driver CUDA 11.4" in out


def test_doctor_fails_on_unreachable_broker_and_flags_foreign_engine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], cuda_binding: FakeCudart) -> None:
    root = orin_root(tmp_path)
    engines = tmp_path / "engines"
    EngineCache(engines).store(dataclasses.replace(KEY, tensorrt_version="10.3.0.30"), b"p")
    code = main(["doctor", "--root", str(root), "--engine-dir", str(engines),
                 "--config", str(config(tmp_path, free_port()))])
    out = capsys.readouterr().out
    assert code == 1
    assert "[fail] broker" in out and "1 blocking problem" in out
    assert "not valid here" in out


def test_doctor_unknown_jetson_says_which_profile(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  cuda_binding: FakeCudart) -> None:
    write(tmp_path, "/proc/device-tree/compatible",
          "nvidia,p4071-0000+p3834-0008\0nvidia,tegra264\0")
    assert main(["doctor", "--root", str(tmp_path), "--engine-dir", str(tmp_path / "e")]) == 0
    out = capsys.readouterr().out
    assert "[warn] profile: unknown device" in out and "'conservative'" in out


def test_doctor_matches_dpkg_and_module_tensorrt_versions_and_shows_dla_layers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], cuda_binding: FakeCudart) -> None:
    root = agx_orin_tree(tmp_path / "root")  # JetPack 5.1: dpkg says 8.5.2, the module 8.5.2.2
    write(root, "/var/lib/dpkg/status",
          "Package: python3-libnvinfer\nStatus: install ok installed\nVersion: 8.5.2-1+cuda11.4\n")
    engines = tmp_path / "engines"
    EngineCache(engines).store(dataclasses.replace(KEY, tensorrt_version="8.5.2.2"), b"plan",
                               {"dla_layers": 0, "gpu_layers": 57})
    code = main(["doctor", "--root", str(root), "--engine-dir", str(engines)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 of 1 cached engine(s)" in out
    assert "dla core 0: 0 layer(s) on the DLA — everything fell back to the GPU" in out
    assert "[warn] engine" in out
    assert main(["engines", "--root", str(root), "--engine-dir", str(engines), "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("valid") and '"dla_layers": 0' in listed


def test_doctor_reports_missing_cuda_binding_before_any_build(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cuda", None)  # nothing installed it
    code = main(["doctor", "--root", str(orin_root(tmp_path)),
                 "--engine-dir", str(tmp_path / "e")])
    out = capsys.readouterr().out
    assert code == 1
    line = next(x for x in out.splitlines() if "cuda binding" in x)
    assert line.startswith("[fail]") and "pip install -c" in line and "cuda-python" in line


def test_doctor_reports_a_numpy_the_system_modules_cannot_use(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], cuda_binding: FakeCudart) -> None:
    root = orin_root(tmp_path)
    write(root, "/usr/lib/python3/dist-packages/numpy/version.py",
          '"""\nModule to expose more detailed version info\n"""\nversion = "1.21.5"\n')
    code = main(["doctor", "--root", str(root), "--engine-dir", str(tmp_path / "e")])
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("[") and "] numpy" in x)
    if int(np.__version__.split(".")[0]) >= 2:  # this venv's numpy plays the Jetson's venv
        assert code == 1 and line.startswith("[fail]") and "system numpy 1.21.5" in line
        assert "'numpy<2'" in line
    else:
        assert line.startswith("[ ok ]") and "(system 1.21.5)" in line


def test_engines_list_verify_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = orin_root(tmp_path)
    engines = tmp_path / "engines"
    cache = EngineCache(engines)
    good = cache.store(KEY, b"plan")
    foreign = cache.store(dataclasses.replace(KEY, device="orin_nano/p3767-0005"), b"plan")
    corrupt = engines / "junk.engine"
    corrupt.write_bytes(b"raw trt plan")
    base = ["engines", "--engine-dir", str(engines), "--root", str(root)]
    assert main([*base, "list"]) == 0
    listing = capsys.readouterr().out
    assert f"valid   {good.name}" in listing and "INVALID junk.engine" in listing
    assert json.dumps(KEY.model_sha256) in listing
    assert main([*base, "verify"]) == 1
    assert "2 engine(s) not valid" in capsys.readouterr().out
    assert main([*base, "clean"]) == 0
    assert good.exists() and not foreign.exists() and not corrupt.exists()
    assert main([*base, "verify"]) == 0
    assert main([*base, "clean", "--all"]) == 0 and not good.exists()


def test_engines_build_without_tensorrt_says_how_to_fix(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    if _importable("tensorrt"):
        pytest.skip("tensorrt installed here")
    write_standin("peoplesemsegnet_shuffleseg", tmp_path / "models")
    code = main(["engines", "--engine-dir", str(tmp_path / "e"), "build",
                 "peoplesemsegnet_shuffleseg", "--models-dir", str(tmp_path / "models")])
    assert code == 69 and "TensorRT is not importable" in capsys.readouterr().err


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_cpu_path_never_imports_gpu_libraries(tmp_path: Path, broker: MosquittoBroker) -> None:
    clip = write_synthetic_clip(tmp_path / "clip.avi", 320, 180, 10.0, 1.0)
    cfg = config(tmp_path, broker.port, clip, on_eof="loop")  # 2 s of inference
    probe = (
        "import sys\n"
        "from edge_agent.cli.main import main\n"
        f"codes = [main(['run', '--config', {str(cfg)!r}, '--duration-s', '2']),\n"
        f"         main(['doctor', '--config', {str(cfg)!r}, '--engine-dir', {str(tmp_path)!r}]),\n"
        f"         main(['engines', '--engine-dir', {str(tmp_path)!r}, 'list'])]\n"
        f"bad = sorted(k for k in sys.modules if k.split('.')[0] in {GPU_MODULES!r})\n"
        "print('CODES', codes, 'GPU_MODULES', bad)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=90, check=False)
    assert "CODES [0, 0, 0] GPU_MODULES []" in done.stdout, done.stdout + done.stderr


def test_doctor_checks_every_enabled_model_as_run_does(
        tmp_path: Path, broker: MosquittoBroker, capsys: pytest.CaptureFixture[str],
        cuda_binding: FakeCudart) -> None:
    path = config(tmp_path, broker.port)
    models = tmp_path / "models"
    write_standin("peoplenet", models)
    write_standin("reidentificationnet", models)
    path.write_text(path.read_text(encoding="utf-8").replace(
        "[mqtt]", f'[models.tracking]\nenabled = true\nstate_dir = "{tmp_path}"\n[mqtt]'),
        encoding="utf-8")
    # A corrupt PeopleNet: its bytes no longer match the recorded hash.
    onnx = models / "peoplenet.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-64] + b"\0" * 64)
    code = main(["doctor", "--root", str(orin_root(tmp_path)), "--engine-dir",
                 str(tmp_path / "e"), "--config", str(path)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "[fail] model: peoplenet:" in out and "fix:" in out
    assert "[ ok ] model: reidentificationnet" in out and "contract ok" in out


def test_engines_list_and_verify_say_when_nothing_is_cached(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["engines", "--root", str(orin_root(tmp_path)), "--engine-dir", str(tmp_path / "e")]
    for action in ("list", "verify"):
        assert main([*base, action]) == 0
        assert f"no engine is cached in {tmp_path / 'e'}" in capsys.readouterr().out
