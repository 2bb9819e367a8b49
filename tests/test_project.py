"""Project-level promises: the README commands, CI, and a lean import."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text)[:2]


def test_readme_opens_with_two_commands():
    demo, tests = readme_commands()
    assert "pip install ." in demo and "discover --demo" in demo
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert readme_commands()[1] in ci.splitlines()
    assert "ruff check" in ci


def test_import_is_lean():
    code = (
        "import sys, journeymine; "
        "heavy = {'torch', 'transformers', 'pyspark', 'pm4py', 'pandas', 'duckdb', 'sklearn', "
        "'pyarrow', 'numpy'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves_on_first_use():
    code = (
        "import journeymine as jm; "
        "assert sorted(jm.__all__) == dir(jm); "
        "missing = [n for n in jm.__all__ if getattr(jm, n, None) is None]; "
        "from journeymine import read_csv, discover, PersonaModel; "
        "print(missing, read_csv.__module__.split('.')[1], PersonaModel.__module__.split('.')[1])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "eventlog", "personas"]


def test_unknown_attribute_is_an_attribute_error():
    import journeymine

    with pytest.raises(AttributeError, match="no attribute 'read_excel'"):
        journeymine.read_excel  # noqa: B018
