"""Prompt features: the prompt-feature model run once per prompt, through the on-disk cache.

The extractor takes its examples as rows of one batch (images, masks, tokens, ori_sizes, each
preprocessed exactly like a target image: letterbox_for/preprocess_*), and returns one
`input_prompts` and one `inst_feats` row per example; segic later takes those rows as its P
axis. Rows are batched up to the extractor's limit (4 in the TensorRT profile).
"""

from __future__ import annotations

from typing import Dict, List

import numpy as np

from edge_agent.inference.backend import InferenceBackend
from edge_agent.segic.cache import FeatureCache, PromptFeatures, feature_key
from edge_agent.segic.letterbox import preprocess_image, preprocess_mask
from edge_agent.segic.prompts import SegicPrompt
from edge_agent.segic.tokens import TOKENS_INPUT, Tokenizer, token_limit, tokens_row

PROMPTS_OUTPUT = "input_prompts"
FEATS_OUTPUT = "inst_feats"


class PromptFeatureExtractor:
    """Turns validated prompts into features; `model_identity` (e.g. the model's sha256)
    enters the cache key so a different extractor never reuses another one's features."""

    def __init__(self, backend: InferenceBackend, cache: FeatureCache, tokenizer: Tokenizer,
                 model_identity: str, max_batch: int = 4) -> None:
        self._backend = backend
        self._cache = cache
        self._tokenizer = tokenizer
        self._identity = model_identity
        self._max_batch = max(1, max_batch)
        shapes = {spec.name: spec.shape for spec in backend.inputs}
        self.token_limit = token_limit(tuple(shapes.get(TOKENS_INPUT, ())))

    @property
    def cache(self) -> FeatureCache:
        """The cache it reads and fills."""
        return self._cache

    def inputs_for(self, prompt: SegicPrompt) -> Dict[str, np.ndarray]:
        """The extractor's feeds for all of the prompt's examples (one row each)."""
        tokens = tokens_row(prompt.description, self._tokenizer, self.token_limit,
                            f"prompt {prompt.prompt_id!r}")
        images: List[np.ndarray] = []
        masks: List[np.ndarray] = []
        sizes: List[np.ndarray] = []
        for example in prompt.examples:
            image, box = preprocess_image(example.image_rgb)
            images.append(image)
            masks.append(preprocess_mask(example.mask))
            sizes.append(box.ori_sizes)
        count = len(prompt.examples)
        return {
            "images": np.concatenate(images),
            "labels": np.concatenate(masks),
            TOKENS_INPUT: np.repeat(tokens[None], count, axis=0),
            "ori_sizes": np.concatenate(sizes),
        }

    def key_for(self, prompt: SegicPrompt) -> str:
        """Cache key: the extractor identity and the raw examples and tokens (not camera ids)."""
        tokens = tokens_row(prompt.description, self._tokenizer, self.token_limit,
                            f"prompt {prompt.prompt_id!r}")
        arrays: List[np.ndarray] = [tokens]
        for example in prompt.examples:
            arrays.extend((example.image_rgb, example.mask))
        return feature_key(arrays, self._identity)

    def features(self, prompt: SegicPrompt) -> PromptFeatures:
        """Cached features, or one extractor run per batch of examples (then cached)."""
        key = self.key_for(prompt)
        cached = self._cache.get(key)
        if cached is not None and cached.count == len(prompt.examples):
            return cached
        feeds = self.inputs_for(prompt)
        prompts: List[np.ndarray] = []
        feats: List[np.ndarray] = []
        count = len(prompt.examples)
        for start in range(0, count, self._max_batch):
            part = {name: value[start:start + self._max_batch] for name, value in feeds.items()}
            out = self._backend.run(part)
            prompts.append(np.asarray(out[PROMPTS_OUTPUT], dtype=np.float32))
            feats.append(np.asarray(out[FEATS_OUTPUT], dtype=np.float32))
        features = PromptFeatures(np.concatenate(prompts), np.concatenate(feats))
        self._cache.put(key, features)
        return features
