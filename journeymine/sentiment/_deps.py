"""The optional heavy dependencies of the emotion model (torch, onnxruntime), imported on demand.

Nothing in :mod:`journeymine.sentiment` imports torch at import time; the
transformer code calls :func:`import_torch` when it runs, so a missing
``emotions`` extra becomes an :class:`~journeymine.exceptions.OptionalDependencyError`
that names the extra and the torch-free ``model="fast"`` alternative.
"""

from __future__ import annotations

from typing import Any

from journeymine._util._optional import extra_hint, import_optional

__all__ = ["EXTRA_HINT", "import_onnxruntime", "import_torch"]

#: The install command of the optional dependencies of the emotion model.
EXTRA_HINT = extra_hint("emotions")


def import_torch() -> Any:
    """The ``torch`` module, or an :class:`OptionalDependencyError` naming the extra."""
    return import_optional("torch", "The transformer emotion model", extra="emotions",
                           alternative='Or use EmotionTagger(model="fast") (no torch needed).')


def import_onnxruntime() -> Any:
    """The ``onnxruntime`` module, or an :class:`OptionalDependencyError` naming the extra."""
    return import_optional("onnxruntime", "The ONNX backend of the emotion model", extra="onnx",
                           alternative="Or use backend='torch'.")
