"""Wrong model files are rejected at load time, with a message naming the tensor and the fix.

The "wrong" models are built by hand with onnx.helper and loaded in real ONNX Runtime: a
PeopleSemSegNet ShuffleSeg look-alike (input `input_2:0` FP32 [N,3,544,960] -> `argmax_1` INT64
[N,544,960,1]) with one thing changed at a time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import List, Union

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edge_agent.errors import ConfigError, InputNotFoundError, ModelContractError
from edge_agent.inference.contract import check_batch, check_contract
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend, numpy_dtype_name
from edge_agent.models.manifest import load_manifest

CPU = ["CPUExecutionProvider"]
SHUFFLE = load_manifest("peoplesemsegnet_shuffleseg")


def semseg_like(
    path: Path,
    input_name: str = "input_2:0",
    input_type: int = TensorProto.FLOAT,
    height: int = 544,
    output_type: int = TensorProto.INT64,
) -> Path:
    """Channel-argmax segmenter with the ShuffleSeg contract, except where told otherwise."""
    dims: List[Union[int, str]] = ["N", 3, height, 960]
    nodes = [helper.make_node("Cast", [input_name], ["x"], to=TensorProto.FLOAT)]
    nodes.append(helper.make_node("ArgMax", ["x"], ["am"], axis=1, keepdims=1))
    nodes.append(helper.make_node("Transpose", ["am"], ["nhwc"], perm=[0, 2, 3, 1]))
    nodes.append(helper.make_node("Cast", ["nhwc"], ["argmax_1"], to=output_type))
    graph = helper.make_graph(
        nodes,
        "wrong",
        [helper.make_tensor_value_info(input_name, input_type, dims)],
        [helper.make_tensor_value_info("argmax_1", output_type, ["N", height, 960, 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def problem_of(model_path: Path) -> str:
    backend = OnnxRuntimeBackend(model_path, CPU)
    with pytest.raises(ModelContractError) as err:
        check_contract(backend.inputs, backend.outputs, SHUFFLE)
    assert "edge-agent models standin peoplesemsegnet_shuffleseg" in err.value.fix
    return err.value.problem


def test_the_right_model_passes_and_runs(tmp_path: Path) -> None:
    backend = OnnxRuntimeBackend(semseg_like(tmp_path / "ok.onnx"), CPU, threads=1)
    check_contract(backend.inputs, backend.outputs, SHUFFLE)
    assert backend.inputs[0].dtypes == ("float32",)
    assert backend.inputs[0].shape == ("N", 3, 544, 960)
    out = backend.run({"input_2:0": np.zeros((2, 3, 544, 960), np.float32)})
    assert out["argmax_1"].shape == (2, 544, 960, 1)
    assert out["argmax_1"].dtype == np.int64
    backend.close()


def test_int32_argmax_of_a_tensorrt_style_export_is_accepted(tmp_path: Path) -> None:
    path = semseg_like(tmp_path / "i32.onnx", output_type=TensorProto.INT32)
    backend = OnnxRuntimeBackend(path, CPU)
    check_contract(backend.inputs, backend.outputs, SHUFFLE)


def test_renamed_input_is_named(tmp_path: Path) -> None:
    problem = problem_of(semseg_like(tmp_path / "renamed.onnx", input_name="input_1:0"))
    assert "'input_2:0': missing from the model" in problem
    assert "'input_1:0'" in problem


def test_float16_input_is_named(tmp_path: Path) -> None:
    problem = problem_of(semseg_like(tmp_path / "fp16.onnx", input_type=TensorProto.FLOAT16))
    assert "input 'input_2:0': model has dtype float16, manifest requires float32" in problem


def test_wrong_fixed_dim_is_named(tmp_path: Path) -> None:
    problem = problem_of(semseg_like(tmp_path / "h540.onnx", height=540))
    assert "input 'input_2:0': model has dim 2 = 540" in problem
    assert "output 'argmax_1': model has dim 1 = 540" in problem
    assert "requires 544" in problem


def test_every_mismatch_is_listed_in_one_error(tmp_path: Path) -> None:
    path = semseg_like(
        tmp_path / "all.onnx",
        input_type=TensorProto.FLOAT16,
        height=512,
        output_type=TensorProto.FLOAT,
    )
    problem = problem_of(path)
    assert "4 problems" in problem
    assert "float16" in problem and "dim 2 = 512" in problem
    assert "output 'argmax_1': model has dtype float32, manifest requires int64 or int32" in problem


def test_check_batch_lists_missing_wrong_dtype_and_inconsistent_batch() -> None:
    specs = load_manifest("bodypose3dnet").input_specs()
    feeds = {
        "input0": np.zeros((2, 3, 256, 192), np.float64),
        "k_inv": np.zeros((3, 3, 3), np.float32),
        "t_form_inv": np.zeros((2, 3, 3), np.float32),
        "mean_limb_lengths": np.zeros((2, 35), np.float32),
        "extra": np.zeros(1, np.float32),
    }
    with pytest.raises(ModelContractError) as err:
        check_batch(feeds, specs)
    problem = err.value.problem
    assert "'extra' is not a model input" in problem
    assert "'input0': got dtype float64, needs float32" in problem
    assert "'k_inv': dim N = 3 but another input has N = 2" in problem
    assert "'scale_normalized_mean_limb_lengths' is missing" in problem
    assert "'mean_limb_lengths': got shape [2,35], needs [N,36]" in problem


def test_backend_checks_the_batch_before_running(tmp_path: Path) -> None:
    backend = OnnxRuntimeBackend(semseg_like(tmp_path / "ok.onnx"), CPU)
    with pytest.raises(ModelContractError, match="'input_2:0': got shape"):
        backend.run({"input_2:0": np.zeros((1, 3, 10, 10), np.float32)})


def test_runtime_failure_names_the_model(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"])],
        "reshape",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "K"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", 4])],
        initializer=[helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "reshape.onnx"
    onnx.save(model, str(path))
    backend = OnnxRuntimeBackend(path, CPU)
    with pytest.raises(ModelContractError) as err:
        backend.run({"x": np.zeros((1, 3), np.float32)})
    assert str(path) in err.value.problem


def test_corrupt_file_is_a_contract_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(b"this is not protobuf" * 10)
    with pytest.raises(ModelContractError) as err:
        OnnxRuntimeBackend(path, CPU)
    assert str(path) in err.value.problem


def test_missing_file_and_unknown_provider(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="nothing.onnx"):
        OnnxRuntimeBackend(tmp_path / "nothing.onnx", CPU)
    path = semseg_like(tmp_path / "ok.onnx")
    with pytest.raises(ConfigError) as err:
        OnnxRuntimeBackend(path, ["TensorrtExecutionProviderX"])
    assert "models.providers" in err.value.problem
    assert "TensorrtExecutionProviderX" in err.value.problem
    assert "CPUExecutionProvider" in err.value.fix


def test_ort_type_names_map_to_numpy() -> None:
    assert numpy_dtype_name("tensor(float)") == "float32"
    assert numpy_dtype_name("tensor(int64)") == "int64"
    assert numpy_dtype_name("tensor(float16)") == "float16"


def test_importing_the_backend_module_does_not_need_onnxruntime() -> None:
    code = (
        "import sys; sys.modules['onnxruntime'] = None\n"
        "import edge_agent.inference.onnxruntime_backend as m\n"
        "assert m.OnnxRuntimeBackend\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
