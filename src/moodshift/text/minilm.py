"""A small BERT encoder for the packaged all-MiniLM-L6-v2 weights, in plain PyTorch.

Why not sentence-transformers at run time: importing it pulls transformers, scikit-learn and
scipy, which on a 2-core machine costs several seconds and ~200 MB before the model is even
read. The network itself is a 6-layer BERT (hidden 384, 12 heads, GELU, post-LayerNorm) followed
by mean pooling over real tokens and L2 normalisation, as the package's modules.json and
1_Pooling/config.json describe; tokenisation uses the package's own tokenizer.json through the
`tokenizers` library. Embeddings match sentence-transformers' to float precision
(tests/test_text.py compares them with reference values from sentence-transformers).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

MAX_TOKENS = 256              # sentence_bert_config.json: max_seq_length


class _Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, inner: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.up = nn.Linear(hidden, inner)
        self.down = nn.Linear(inner, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = self.attn_norm(x + self.attn_out(a.transpose(1, 2).reshape(b, n, d)))
        return self.out_norm(x + self.down(F.gelu(self.up(x))))


class MiniLMEncoder(nn.Module):
    """BERT embeddings + encoder layers; `encode` returns unit-length mean-pooled vectors."""

    def __init__(self, config: dict[str, object]) -> None:
        super().__init__()
        hidden = int(config["hidden_size"])
        eps = float(config.get("layer_norm_eps", 1e-12))
        if config.get("hidden_act", "gelu") != "gelu" or \
                config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("unsupported BERT variant")
        self.word = nn.Embedding(int(config["vocab_size"]), hidden)
        self.position = nn.Embedding(int(config["max_position_embeddings"]), hidden)
        self.token_type = nn.Embedding(int(config["type_vocab_size"]), hidden)
        self.norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(
            _Layer(hidden, int(config["num_attention_heads"]), int(config["intermediate_size"]),
                   eps) for _ in range(int(config["num_hidden_layers"])))

    def forward(self, ids: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        n = ids.shape[1]
        x = self.word(ids) + self.position.weight[:n] + self.token_type.weight[0]
        x = self.norm(x)
        # Additive mask over keys: padding gets a large negative score (as BERT does).
        mask = (1.0 - attention[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, mask)
        weights = attention.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, dim=1)


def _load_state(model: MiniLMEncoder, tensors: dict[str, torch.Tensor]) -> None:
    """Map Hugging Face BertModel names onto this module (q, k and v fused into one matrix).
    The loaded tensors become the parameters (assign=True): no second copy of the weights."""
    t = {k.removeprefix("bert."): v for k, v in tensors.items()}
    state = {"word.weight": t["embeddings.word_embeddings.weight"],
             "position.weight": t["embeddings.position_embeddings.weight"],
             "token_type.weight": t["embeddings.token_type_embeddings.weight"],
             "norm.weight": t["embeddings.LayerNorm.weight"],
             "norm.bias": t["embeddings.LayerNorm.bias"]}
    for i in range(len(model.layers)):
        p = f"encoder.layer.{i}."
        for kind in ("weight", "bias"):
            state[f"layers.{i}.qkv.{kind}"] = torch.cat(
                [t[f"{p}attention.self.{n}.{kind}"] for n in ("query", "key", "value")])
            state[f"layers.{i}.attn_out.{kind}"] = t[f"{p}attention.output.dense.{kind}"]
            state[f"layers.{i}.attn_norm.{kind}"] = t[f"{p}attention.output.LayerNorm.{kind}"]
            state[f"layers.{i}.up.{kind}"] = t[f"{p}intermediate.dense.{kind}"]
            state[f"layers.{i}.down.{kind}"] = t[f"{p}output.dense.{kind}"]
            state[f"layers.{i}.out_norm.{kind}"] = t[f"{p}output.LayerNorm.{kind}"]
    model.load_state_dict(state, strict=True, assign=True)


class SentenceEncoder:
    """Tokenizer + encoder for one packaged model folder."""

    def __init__(self, folder: Path) -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)),
                                      pad_token="[PAD]")
        with torch.device("meta"):        # no memory for the random initial weights
            model = MiniLMEncoder(config)
        _load_state(model, load_file(str(folder / "model.safetensors")))
        self.model = model.eval()

    @torch.inference_mode()
    def encode(self, sentences: list[str], batch_size: int = 64) -> np.ndarray:
        out = []
        for start in range(0, len(sentences), batch_size):
            batch = self.tokenizer.encode_batch(sentences[start:start + batch_size])
            ids = torch.tensor([e.ids for e in batch], dtype=torch.long)
            attention = torch.tensor([e.attention_mask for e in batch], dtype=torch.long)
            out.append(self.model(ids, attention).numpy())
        return np.concatenate(out) if out else np.zeros((0, 384), np.float32)

