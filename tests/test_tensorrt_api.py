"""tensorrt_api against FAKE tensorrt/CUDA modules (tests/fake_tensorrt_lib.py, fake_cuda_lib.py).

The fakes reproduce the field failures: pycuda refusing to free pinned memory out of its
creating thread, TensorRT 8.5.2's `nptype` next to numpy 1.24, DLA's static-shape rule and a
build that TensorRT 8.x cannot interrupt. Everything else is the real agent code.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import onnx
import pytest
from fake_cuda_lib import FakeCudart, FakePycudaDriver
from fake_tensorrt_lib import Config, FakeState, Network, OnnxParser, install
from onnx import TensorProto, helper

from edge_agent.errors import ConfigError, ExitCode, ServiceUnavailableError
from edge_agent.inference.tensorrt_backend import TensorRtBackend
from edge_agent.inference.tensorrt_dtypes import numpy_dtype


def tiny_onnx(path: Path, int64_out: bool = False) -> Path:
    """input [N,3,4,4] float -> output [N,48] (Flatten), optionally cast to INT64."""
    nodes = [helper.make_node("Flatten", ["input"], ["flat"], axis=1)]
    out_type = TensorProto.FLOAT
    if int64_out:
        nodes.append(helper.make_node("Cast", ["flat"], ["output"], to=TensorProto.INT64))
        out_type = TensorProto.INT64
    else:
        nodes.append(helper.make_node("Identity", ["flat"], ["output"]))
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                      ["N", 3, 4, 4])],
        [helper.make_tensor_value_info("output", out_type, ["N", 48])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def fake_plan(trt: Any, onnx_path: Path, low: int, high: int) -> bytes:
    """A plan made with the FAKE builder directly (no agent code involved)."""
    builder = trt.Builder(trt.Logger())
    network = Network()
    OnnxParser(network, None).parse(onnx_path.read_bytes())
    config = Config()
    profile = builder.create_optimization_profile()
    profile.set_shape("input", (low, 3, 4, 4), (high, 3, 4, 4), (high, 3, 4, 4))
    config.add_optimization_profile(profile)
    plan: bytes = builder.build_serialized_network(network, config)
    return plan


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Tuple[Any, FakeCudart, FakePycudaDriver]:
    return install(monkeypatch)


def feeds(batch: int) -> Dict[str, np.ndarray]:
    data = np.zeros((batch, 3, 4, 4), dtype=np.float32)
    data[:, 0, 0, 0] = np.arange(1, batch + 1)
    return {"input": data}


def test_fake_reproduces_the_field_failures(fakes: Tuple[Any, FakeCudart, FakePycudaDriver]
                                            ) -> None:
    trt, _, pycuda = fakes
    with pytest.raises(AttributeError, match="np.bool"):
        trt.nptype(trt.DataType.FLOAT)  # TensorRT 8.5.2 next to numpy 1.24.4
    context = pycuda.Device(0).retain_primary_context()  # created on this thread

    def other_thread() -> None:
        context.push()
        host = pycuda.pagelocked_empty((4,), np.float32)
        context.pop()
        del host  # freed by GC with the context no longer current: refused

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert pycuda.refused_frees == 1 and "out-of-thread" in pycuda.warnings[0]


def test_steady_state_inference_allocates_nothing(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from edge_agent.inference.tensorrt_api import TensorRtToolkit

    # numpy 2 on the device (np.bool exists again), so only the memory handling is tested
    trt, cudart, pycuda = install(monkeypatch, FakeState(simulated_numpy="2.1.0"))
    engine = TensorRtToolkit().load(fake_plan(trt, tiny_onnx(tmp_path / "m.onnx"), 1, 4))
    results: List[Dict[str, np.ndarray]] = []
    counts: List[int] = []

    def infer() -> None:  # the agent runs inference on its consumer thread, not the loader's
        for _ in range(25):
            results.append(engine.run(feeds(2)))
            counts.append(cudart.mallocs + pycuda.allocations)

    worker = threading.Thread(target=infer)
    worker.start()
    worker.join()
    assert counts[1:] == [counts[0]] * 24, "steady-state inference allocated memory"
    assert pycuda.refused_frees == 0
    assert results[-1]["output"].shape == (2, 48)
    assert results[-1]["output"][:, 5].tolist() == [1.0, 2.0]  # bytes really moved
    assert counts[0] == 4  # one pinned + one device block per tensor
    engine.run(feeds(3))  # a larger batch grows the blocks once ...
    engine.run(feeds(3))
    assert cudart.mallocs == 8
    shorter = engine.run(feeds(1))  # ... and a smaller one (ReID's crops vary) reuses them
    assert cudart.mallocs == 8 and shorter["output"].shape == (1, 48)
    assert shorter["output"][0, 0] == 1.0
    engine.close()
    assert cudart.host == {} and cudart.device == {} and cudart.streams == {}


def test_dtypes_come_from_our_table_not_nptype(
        tmp_path: Path, fakes: Tuple[Any, FakeCudart, FakePycudaDriver]) -> None:
    from edge_agent.inference.tensorrt_api import TensorRtToolkit

    trt, _, _ = fakes
    plan = fake_plan(trt, tiny_onnx(tmp_path / "m.onnx", int64_out=True), 1, 2)
    engine = TensorRtToolkit().load(plan)  # FAKE nptype would raise (numpy 1.24.4)
    assert [s.dtypes for s in engine.outputs] == [("int32",)]  # INT64 narrowed by TensorRT
    assert engine.run(feeds(1))["output"].dtype == np.int32
    engine.close()
    assert numpy_dtype(trt, trt.DataType.HALF) == np.float16
    assert numpy_dtype(trt, trt.DataType.BOOL) == np.bool_
    with pytest.raises(TypeError, match="no numpy equivalent"):
        numpy_dtype(trt, "BF16")


def test_static_batch_engine_pads_short_batches(
        tmp_path: Path, fakes: Tuple[Any, FakeCudart, FakePycudaDriver]) -> None:
    from edge_agent.inference.tensorrt_api import TensorRtToolkit

    trt, _, _ = fakes
    engine = TensorRtToolkit().load(fake_plan(trt, tiny_onnx(tmp_path / "m.onnx"), 4, 4))
    backend = TensorRtBackend(engine, batch_max=4, label="m", batch_min=4, dla_layers=1)
    one = backend.run(feeds(1))["output"]  # the FAKE engine refuses any batch but 4
    assert one.shape == (1, 48) and one[0, 0] == 1.0
    six = backend.run(feeds(6))["output"]  # 4 + 2 (padded to 4)
    assert six.shape == (6, 48) and six[:, 0].tolist() == [1, 2, 3, 4, 5, 6]
    backend.close()


def test_toolkit_refuses_old_tensorrt_and_missing_cuda(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from edge_agent.inference.tensorrt_api import TensorRtToolkit

    install(monkeypatch, FakeState(version="8.4.1.5"))
    with pytest.raises(ConfigError, match="older than 8.5.*JetPack 5.1"):
        TensorRtToolkit()
    install(monkeypatch, cudart=FakeCudart(devices=0))
    with pytest.raises(ServiceUnavailableError, match="CUDA binding is not usable") as err:
        TensorRtToolkit()
    assert err.value.exit_code == ExitCode.UNAVAILABLE
    install(monkeypatch, cudart=FakeCudart(driver_missing=True))
    with pytest.raises(ServiceUnavailableError, match="Failed to dlopen libcuda.so.1"):
        TensorRtToolkit()
    monkeypatch.delitem(__import__("sys").modules, "cuda.cudart")
    monkeypatch.setitem(__import__("sys").modules, "cuda", None)
    with pytest.raises(ServiceUnavailableError, match="no CUDA Python binding.*pip install"):
        TensorRtToolkit()


def wait_for(predicate: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_run_refuses_the_tensorrt_path_without_a_cuda_binding_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from edge_agent.capture.sample_footage import write_synthetic_clip
    from edge_agent.cli.main import main
    from edge_agent.models.standin import write_standin

    install(monkeypatch)  # TensorRT 8.5.2 is there ...
    monkeypatch.setitem(sys.modules, "cuda", None)  # ... but nothing installed cuda-python
    monkeypatch.delitem(sys.modules, "cuda.cudart")
    clip = write_synthetic_clip(tmp_path / "clip.avi", 320, 180, 10.0, 1.0)
    write_standin("peoplesemsegnet_shuffleseg", tmp_path / "models")
    config = tmp_path / "agent.toml"
    config.write_text(f'[[cameras]]\nid = "c"\nurl = "{clip}"\n[models]\n'
                      f'dir = "{tmp_path / "models"}"\nbackend = "tensorrt"\n'
                      f'engine_dir = "{tmp_path / "engines"}"\n[models.semseg]\n'
                      f'variant = "shuffleseg"\n[mqtt]\nport = 1\n'
                      f'[outbox]\npath = "{tmp_path / "outbox.sqlite"}"\n', encoding="utf-8")
    code = main(["run", "--config", str(config), "--duration-s", "1"])
    err = capsys.readouterr().err
    assert code == ExitCode.UNAVAILABLE, err
    assert "CUDA binding is not usable" in err and "Traceback" not in err
    assert not (tmp_path / "engines").exists()  # refused before any build started
