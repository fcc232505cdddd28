"""How much memory a style-training step needs, measured on a small probe crop."""

from __future__ import annotations

import torch


def estimate_training_bytes(net: torch.nn.Module, backbone, layers: tuple[str, ...],
                            size: int, batch: int, probe: int = 64) -> int:
    """Peak memory of one training step: autograd's saved tensors measured on a probe-sized
    crop, scaled to size² x batch, x1.5 for the backward pass's temporaries, plus weights,
    gradients and Adam's two moments."""
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved[t.data_ptr()] = max(saved.get(t.data_ptr(), 0), t.numel() * t.element_size())
        return t

    x = torch.rand(1, 3, probe, probe)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = net(x)
        backbone.features(y, layers)
        backbone.features(x, layers)
    activations = sum(saved.values()) * (size / probe) ** 2 * batch
    weights = sum(p.numel() for p in net.parameters()) * 4 * 4
    return int(activations * 1.5 + weights)
