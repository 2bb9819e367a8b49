"""Every error the sentiment package raises for a user says what, what was expected, and a fix.

The convention of :mod:`journeymine.exceptions` (as the core modules raise):
``expected=`` is a phrase in lower case (or starting with a literal) that ends
with a full stop, ``fix=`` is an imperative sentence that ends with one. The
raises are read from the source, so an error on a rare path is checked too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from journeymine import exceptions

PACKAGE = Path(__file__).resolve().parents[2] / "journeymine" / "sentiment"
ERRORS = {name for name in exceptions.__all__ if name.endswith("Error")}


def _edge(node: ast.expr, last: bool) -> str:
    """The first (or last) literal character of a str expression, '' when not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value[-1:] if last else node.value[:1]
    if isinstance(node, ast.JoinedStr) and node.values:
        return _edge(node.values[-1 if last else 0], last)
    if isinstance(node, ast.BinOp):
        return _edge(node.right if last else node.left, last)
    if isinstance(node, ast.BoolOp):
        return _edge(node.values[-1], last)
    return ""


def _error_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ERRORS):
                calls.append((f"{path.name}:{node.lineno}", node))
    return calls


CALLS = _error_calls()


def test_the_package_raises_journeymine_errors():
    assert len(CALLS) > 40


@pytest.mark.parametrize(("where", "call"), CALLS, ids=[w for w, _ in CALLS])
def test_error_says_what_was_expected_and_how_to_fix_it(where, call):
    keywords = {k.arg: k.value for k in call.keywords}
    assert call.args, f"{where}: no message"
    assert {"expected", "fix"} <= set(keywords), f"{where}: needs expected= and fix="
    expected, fix = keywords["expected"], keywords["fix"]
    assert not _edge(expected, last=False).isupper(), f"{where}: expected= starts in lower case"
    assert _edge(expected, last=True) in (".", ""), f"{where}: expected= ends with '.'"
    assert _edge(fix, last=True) in (".", ""), f"{where}: fix= ends with '.'"
