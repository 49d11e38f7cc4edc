"""SegIC prompts: validation of bad input, the feature cache and the runtime prompt store.

Features come from the real stand-in prompt extractor in ONNX Runtime (mean colour under the
mask), so a cache hit is checked to equal what the model computes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
import pytest

from edge_agent.errors import ConfigError, InputNotFoundError
from edge_agent.inference.onnxruntime_backend import OnnxRuntimeBackend
from edge_agent.models.standin import write_standin
from edge_agent.segic.cache import FeatureCache, PromptFeatures
from edge_agent.segic.document import (
    prompt_from_document,
    prompt_from_settings,
    prompts_from_settings,
)
from edge_agent.segic.features import PromptFeatureExtractor
from edge_agent.segic.prompts import PromptExample, SegicPrompt, make_prompt
from edge_agent.segic.store import PromptStore
from edge_agent.segic.tokens import WordTokenizer
from edge_agent.settings.segic import SegicPromptSettings

CAMERAS = ("door", "yard")


def example(colour: tuple, size: tuple = (60, 80)) -> PromptExample:
    image = np.full(size + (3,), 200, np.uint8)
    image[10:40, 20:50] = colour
    mask = np.zeros(size, np.uint8)
    mask[10:40, 20:50] = 255
    return PromptExample(image, mask)


def prompt(pid: str = "cart", colour: tuple = (200, 30, 30), description: str = "cart",
           cameras: tuple = ("door",)) -> SegicPrompt:
    return make_prompt(pid, [example(colour)], description, cameras, CAMERAS)


@pytest.fixture(scope="module")
def extract_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnnxRuntimeBackend]:
    path = write_standin("segic_prompt_feature_extract", tmp_path_factory.mktemp("m"))
    backend = OnnxRuntimeBackend(path, ["CPUExecutionProvider"])
    yield backend
    backend.close()


def extractor(backend: OnnxRuntimeBackend, cache_dir: Path, entries: int = 8
              ) -> PromptFeatureExtractor:
    return PromptFeatureExtractor(backend, FeatureCache(cache_dir, entries), WordTokenizer(),
                                  "standin-v2")


# -- bad input ---------------------------------------------------------------------------

def test_mask_of_another_size_is_refused_with_both_sizes() -> None:
    good = example((1, 2, 3))
    bad = PromptExample(good.image_rgb, np.ones((30, 80), np.uint8))
    with pytest.raises(ConfigError) as err:
        make_prompt("cart", [good, bad], "", ["door"], CAMERAS)
    assert "example 2" in err.value.problem
    assert "30x80" in err.value.problem and "60x80" in err.value.problem


def test_empty_mask_is_refused_with_both_sizes() -> None:
    image = np.zeros((60, 80, 3), np.uint8)
    with pytest.raises(ConfigError) as err:
        make_prompt("cart", [PromptExample(image, np.zeros((60, 80), np.uint8))], "", ["door"],
                    CAMERAS)
    assert "empty" in err.value.problem and err.value.problem.count("60x80") == 2


def test_unknown_camera_is_refused_with_the_known_ids() -> None:
    with pytest.raises(ConfigError) as err:
        make_prompt("cart", [example((1, 2, 3))], "", ["garage"], CAMERAS)
    assert "'garage'" in err.value.problem
    assert "door, yard" in err.value.fix


def test_description_over_the_token_limit_is_refused_with_the_limit(
        extract_backend: OnnxRuntimeBackend, tmp_path: Path) -> None:
    ex = extractor(extract_backend, tmp_path)
    assert ex.token_limit == 64  # the extractor's tokens input width
    long = make_prompt("cart", [example((1, 2, 3))], " ".join(["word"] * 70), ["door"], CAMERAS)
    with pytest.raises(ConfigError) as err:
        ex.features(long)
    assert "at most 64" in err.value.problem and "'cart'" in err.value.problem
    # 59 words + "a photo of a" (4) + end token = 64: exactly at the limit is accepted.
    edge = make_prompt("cart", [example((1, 2, 3))], " ".join(["word"] * 59), ["door"],
                       CAMERAS)
    assert ex.features(edge).count == 1


def test_bad_ids_and_example_counts_are_refused() -> None:
    with pytest.raises(ConfigError, match="not a valid id"):
        make_prompt("a/b", [example((1, 2, 3))], "", ["door"], CAMERAS)
    with pytest.raises(ConfigError, match="5 examples"):
        make_prompt("cart", [example((1, 2, 3))] * 5, "", ["door"], CAMERAS)


# -- feature cache -------------------------------------------------------------------------

def test_features_are_the_mean_colour_and_a_second_call_hits_the_cache(
        extract_backend: OnnxRuntimeBackend, tmp_path: Path) -> None:
    ex = extractor(extract_backend, tmp_path)
    first = ex.features(prompt())
    assert ex.cache.stats.misses == 1 and ex.cache.stats.hits == 0
    np.testing.assert_allclose(first.inst_feats[0, :3], np.array([200, 30, 30]) / 255, atol=0.02)
    second = ex.features(prompt())
    assert ex.cache.stats.hits == 1
    np.testing.assert_array_equal(first.inst_feats, second.inst_feats)
    np.testing.assert_array_equal(first.input_prompts, second.input_prompts)
    # A different description is a different key: a miss.
    ex.features(prompt(description="trolley"))
    assert ex.cache.stats.misses == 2


def test_cache_survives_a_restart(extract_backend: OnnxRuntimeBackend, tmp_path: Path) -> None:
    extractor(extract_backend, tmp_path).features(prompt())
    again = extractor(extract_backend, tmp_path)
    again.features(prompt())
    assert again.cache.stats.hits == 1 and again.cache.stats.misses == 0


def test_corrupt_entry_is_detected_deleted_and_recomputed(
        extract_backend: OnnxRuntimeBackend, tmp_path: Path) -> None:
    ex = extractor(extract_backend, tmp_path)
    good = ex.features(prompt())
    (path,) = list(tmp_path.glob("*.npz"))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    again = extractor(extract_backend, tmp_path)
    recomputed = again.features(prompt())
    assert again.cache.stats.corrupt == 1 and again.cache.stats.hits == 0
    np.testing.assert_array_equal(recomputed.inst_feats, good.inst_feats)
    assert again.cache.get(again.key_for(prompt())) is not None  # rewritten, readable


def test_truncated_and_tampered_entries_are_corrupt(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path, 4)
    key = "a" * 64
    feats = PromptFeatures(np.ones((1, 256), np.float32), np.ones((1, 1024), np.float32))
    cache.put(key, feats)
    path = cache.path_for(key)
    path.write_bytes(path.read_bytes()[:100])
    assert cache.get(key) is None and cache.stats.corrupt == 1 and not path.exists()
    # Valid npz with the right names but values that do not match the checksum.
    cache.put(key, feats)
    other = FeatureCache(tmp_path / "other", 4)
    other.put(key, PromptFeatures(np.zeros((1, 256), np.float32), feats.inst_feats))
    other.path_for(key).replace(path)
    assert cache.get(key) is not None  # same key, self-consistent file: accepted
    wrong_key = "b" * 64
    path.replace(cache.path_for(wrong_key))
    assert cache.get(wrong_key) is None and cache.stats.corrupt == 2


def test_eviction_keeps_the_most_recently_used(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path, 2)
    feats = PromptFeatures(np.ones((1, 256), np.float32), np.ones((1, 1024), np.float32))
    keys = [c * 64 for c in "abc"]
    cache.put(keys[0], feats)
    cache.put(keys[1], feats)
    assert cache.get(keys[0]) is not None  # a is now more recent than b
    cache.put(keys[2], feats)
    assert sorted(cache.keys()) == sorted([keys[0], keys[2]])
    assert cache.stats.evicted == 1
    assert cache.get(keys[1]) is None


# -- store ---------------------------------------------------------------------------------

def test_store_add_list_remove(extract_backend: OnnxRuntimeBackend, tmp_path: Path) -> None:
    store = PromptStore(extractor(extract_backend, tmp_path), max_prompts=2)
    store.add(prompt("cart", cameras=("door",)))
    store.add(prompt("box", colour=(20, 20, 220), cameras=("door", "yard")))
    assert [p.prompt_id for p in store.list()] == ["box", "cart"]
    assert store.list()[0].sizes_hw == ((60, 80),)
    assert [a.prompt_id for a in store.for_camera("yard")] == ["box"]
    assert store.cameras() == frozenset(CAMERAS)
    assert store.camera_prompt_pairs() == 3
    with pytest.raises(ConfigError, match="already exists"):
        store.add(prompt("cart"))
    with pytest.raises(ConfigError, match="max_prompts"):
        store.add(prompt("third"))
    store.add(prompt("cart", colour=(1, 200, 1)), replace=True)
    store.remove("cart")
    with pytest.raises(ConfigError) as err:
        store.remove("cart")
    assert "box" in err.value.fix
    assert store.cameras() == frozenset(CAMERAS)
    assert [a.prompt_id for a in store.for_camera("door")] == ["box"]


# -- sources -------------------------------------------------------------------------------

def _b64_png(image: np.ndarray) -> str:
    ok, data = cv2.imencode(".png", image)
    assert ok
    return base64.b64encode(data.tobytes()).decode("ascii")


def test_document_and_settings_give_the_same_prompt(tmp_path: Path) -> None:
    ex = example((200, 30, 30))
    bgr = cv2.cvtColor(ex.image_rgb, cv2.COLOR_RGB2BGR)
    doc = {"id": "cart", "description": "cart", "cameras": ["door"],
           "examples": [{"image": _b64_png(bgr), "mask": _b64_png(ex.mask)}]}
    from_doc, replace = prompt_from_document(json.dumps(doc).encode(), CAMERAS, "cmd")
    assert not replace
    cv2.imwrite(str(tmp_path / "cart.png"), bgr)
    cv2.imwrite(str(tmp_path / "cart_mask.png"), ex.mask)
    settings = SegicPromptSettings(id="cart", description="cart", cameras=["door"],
                                   examples=[{"image": "cart.png", "mask": "cart_mask.png"}])
    from_file = prompt_from_settings(settings, CAMERAS, tmp_path)
    for a, b in zip(from_doc.examples, from_file.examples):
        np.testing.assert_array_equal(a.image_rgb, ex.image_rgb)
        np.testing.assert_array_equal(a.image_rgb, b.image_rgb)
        np.testing.assert_array_equal(a.mask, b.mask)


def test_bad_documents_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="examples"):
        prompt_from_document(b'{"id": "x", "cameras": ["door"], "examples": []}', CAMERAS, "cmd")
    doc: dict = {"id": "x", "cameras": ["door"], "examples": [{"image": "!!", "mask": "AA=="}]}
    with pytest.raises(ConfigError, match="example 1 image is not base64"):
        prompt_from_document(json.dumps(doc).encode(), CAMERAS, "cmd")
    settings = SegicPromptSettings(id="x", cameras=["door"],
                                   examples=[{"image": "nope.png", "mask": "nope.png"}])
    with pytest.raises(InputNotFoundError) as err:
        prompt_from_settings(settings, CAMERAS, tmp_path)
    assert "segic.prompts (x).examples[0].image" in err.value.problem
    assert str(tmp_path / "nope.png") in err.value.problem


def test_configured_prompts_name_the_bad_entry(tmp_path: Path) -> None:
    ex = example((200, 30, 30))
    cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(ex.image_rgb, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path / "a_mask.png"), ex.mask)
    files = [{"image": "a.png", "mask": "a_mask.png"}]
    good = SegicPromptSettings(id="a", cameras=["door"], examples=files)
    bad = SegicPromptSettings(id="b", cameras=["garage"], examples=files)
    assert [p.prompt_id for p in prompts_from_settings([good], CAMERAS, tmp_path)] == ["a"]
    with pytest.raises(ConfigError) as err:
        prompts_from_settings([good, bad], CAMERAS, tmp_path)
    assert "segic.prompts[1]" in err.value.problem and "'garage'" in err.value.problem
