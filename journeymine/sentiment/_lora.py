"""LoRA: low-rank adapters on the base encoder's linear layers (train, save, merge).

Training wraps the target linears of some layers with trainable ``B A``
factors (:func:`add_lora`); the shipped ``lora.npz`` holds the factors, and
inference adds the full weight deltas into a plain model once
(:func:`load_lora`, :func:`merge_lora`), so prediction runs the unchanged
architecture.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from journeymine.sentiment._deps import import_torch

__all__ = ["LORA_TARGETS", "add_lora", "load_lora", "lora_modules", "merge_lora"]

#: Linear modules of a BERT layer that get LoRA adapters (relative names).
LORA_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


def lora_modules(model: Any, layers: Sequence[int]) -> dict[str, Any]:
    """``{'<layer>.<target>': nn.Linear}`` for the LoRA targets of ``layers``."""
    out = {}
    for i in layers:
        layer = model.encoder.layer[i]
        for target in LORA_TARGETS:
            out[f"{i}.{target}"] = layer.get_submodule(target)
    return out


def add_lora(model: Any, layers: Sequence[int], rank: int = 8, alpha: float = 16.0, seed: int = 0):
    """Wrap the target linears of ``layers`` with trainable low-rank adapters.

    Each wrapped linear computes ``W x + b + (alpha / rank) * B A x`` with ``A``
    small random and ``B`` zero (so training starts from the base model). All
    other parameters are frozen.

    Returns
    -------
    dict
        ``{name: (A, B)}`` trainable parameters.
    """
    torch = import_torch()
    nn = torch.nn
    gen = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.requires_grad_(False)
    params = {}

    class LoRALinear(nn.Module):
        def __init__(self, base: Any):
            super().__init__()
            self.base = base
            a = torch.randn(rank, base.in_features, generator=gen) / np.sqrt(base.in_features)
            self.lora_a = nn.Parameter(a)
            self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
            self.scale = alpha / rank

        def forward(self, x: Any) -> Any:
            return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale

    for name, lin in lora_modules(model, layers).items():
        layer_idx, target = name.split(".", 1)
        parent_name, attr = target.rsplit(".", 1)
        parent = model.encoder.layer[int(layer_idx)].get_submodule(parent_name)
        wrapped = LoRALinear(lin)
        setattr(parent, attr, wrapped)
        params[name] = (wrapped.lora_a, wrapped.lora_b)
    return params


def merge_lora(model: Any, deltas: dict[str, np.ndarray]) -> None:
    """Add saved LoRA deltas (``name -> (out, in)`` weight updates) into a plain model."""
    torch = import_torch()
    layers = sorted({int(name.split(".", 1)[0]) for name in deltas})
    mods = lora_modules(model, layers)
    with torch.no_grad():
        for name, delta in deltas.items():
            mods[name].weight += torch.from_numpy(delta.astype(np.float32))


def load_lora(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read ``lora.npz`` (``A``/``B`` factors and scales) into full weight deltas."""
    out = {}
    with np.load(path, allow_pickle=False) as npz:
        scale = float(npz["scale"])
        for key in npz.files:
            if key.endswith(":A"):
                name = key[:-2]
                a = npz[key].astype(np.float32)
                b = npz[name + ":B"].astype(np.float32)
                out[name] = scale * (b @ a)
    return out
