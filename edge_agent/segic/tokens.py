"""Text descriptions to the prompt extractor's `tokens` row, and the token limit check.

The real extractor expects open_clip's `ViT-B-16-SigLIP` tokenizer output (a SentencePiece
vocabulary that ships with the model, not with edge-agent). The seam is `Tokenizer`: any
callable from text to token ids. `WordTokenizer` is the deterministic one used with the
stand-in extractor (which only needs equal text to give equal tokens); a real deployment plugs
the model's own tokenizer in. The limit is the width of the extractor's `tokens` input (64),
not the card's "77 words": the tensor is what overflows.
"""

from __future__ import annotations

import hashlib
import re
from typing import List, Sequence

import numpy as np
from typing_extensions import Protocol

from edge_agent.errors import ConfigError

TOKENS_INPUT = "tokens"
DEFAULT_TOKEN_LIMIT = 64
# TAO's gradio app: the text when no class name is given, and the template when one is.
GENERIC_TEXT = "please segment the instances"
CLASS_TEMPLATE = "a photo of a {}"
_WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
_VOCAB = 32000
_EOS_ID = 1


class Tokenizer(Protocol):
    """Turns one text into token ids (no padding; the caller pads to the limit)."""

    def __call__(self, text: str) -> List[int]:
        ...


class WordTokenizer:
    """Lower-cased words and punctuation, each hashed to an id in [2, 32000), then an end id.

    Stands in for the SigLIP tokenizer with the stand-in extractor: deterministic across
    machines (sha256, not Python's salted hash) and one token per word, so token counts are
    easy to predict in tests.
    """

    def __call__(self, text: str) -> List[int]:
        ids = [2 + int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:4], "little")
               % (_VOCAB - 2) for word in _WORD.findall(text.lower())]
        return ids + [_EOS_ID]


def prompt_text(description: str) -> str:
    """The sentence the extractor encodes for a prompt's optional description."""
    cleaned = description.strip()
    return CLASS_TEMPLATE.format(cleaned) if cleaned else GENERIC_TEXT


def tokens_row(description: str, tokenizer: Tokenizer, limit: int, where: str) -> np.ndarray:
    """INT32 [limit] token ids, zero padded; ConfigError naming `where` when over the limit."""
    ids = tokenizer(prompt_text(description))
    if len(ids) > limit:
        raise ConfigError(
            f"{where}: description is {len(ids)} tokens; the SegIC prompt model takes at most "
            f"{limit}",
            f"shorten the description (a few words naming the object) to at most {limit} tokens",
        )
    row = np.zeros(limit, dtype=np.int32)
    row[: len(ids)] = np.asarray(ids, dtype=np.int32)
    return row


def token_limit(tokens_shape: Sequence[object]) -> int:
    """The extractor's token width from its `tokens` input shape, else the contract's 64."""
    width = tokens_shape[-1] if tokens_shape else None
    return width if isinstance(width, int) and width > 0 else DEFAULT_TOKEN_LIMIT
