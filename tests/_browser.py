"""Headless Chromium for the report checks: required under CI, skipped elsewhere without it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium() -> str:
    """Path of the chromium binary; fails under CI=true and skips otherwise when missing."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which(
        "google-chrome")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required for the report checks in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    return exe


def run(page: Path, *args: str) -> str:
    """Open ``page`` in headless chromium with ``args`` and return stdout."""
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120, check=False,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def dump_dom(page: Path) -> str:
    """The DOM of ``page`` after chromium parsed and laid it out."""
    return run(page, "--dump-dom", "--virtual-time-budget=2000")


def screenshot(page: Path, png: Path, size: str = "1280,2400") -> Path:
    """Save a screenshot of ``page`` to ``png``."""
    run(page, f"--screenshot={png}", f"--window-size={size}", "--hide-scrollbars")
    return png
