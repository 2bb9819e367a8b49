"""The one way journeymine writes files: atomically, nothing half-written.

:func:`write_text` replaces one file through a temporary sibling;
:func:`write_bundle` stages several files in a hidden folder inside the output
folder and moves them into place only when every one was written. If writing
fails, the output folder is left as it was (and removed if this call created
it), and the error says what went wrong with the folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from journeymine.exceptions import OutputError

__all__ = ["write_bundle", "write_text"]


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file; return the path.

    Readers never see half a file: the text is written to ``.NAME.tmp`` beside
    the target, then renamed over it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_text(pathlib.Path(tempfile.mkdtemp()) / "a.txt", "hello")
    >>> p.read_text()
    'hello'
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _output_error(path, exc) from exc
    return path


def write_bundle(out_dir: str | os.PathLike[str],
                 writers: dict[str, Callable[[Path], object]]) -> list[Path]:
    """Write several files into ``out_dir`` all-or-nothing; return their paths.

    Parameters
    ----------
    out_dir : path-like
        The output folder; created (with parents) if missing.
    writers : dict
        File name -> a function that writes that file to the path it is given.

    Returns
    -------
    list of Path
        The files written, in the order of ``writers``.

    Raises
    ------
    OutputError
        ``out_dir`` is a file, cannot be created or is not writable. Nothing is
        left behind: a folder this call created is removed again.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> [p.name for p in write_bundle(out, {"a.txt": lambda p: p.write_text("x")})]
    ['a.txt']
    """
    out = Path(out_dir)
    with _output_dir(out) as staging:
        for name, write in writers.items():
            write(staging / name)
        written = []
        for name in writers:
            os.replace(staging / name, out / name)
            written.append(out / name)
    return written


@contextlib.contextmanager
def _output_dir(out: Path) -> Iterator[Path]:
    """A staging folder inside ``out``; ``out`` is removed on failure if created here."""
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"The output path {str(out)!r} is a file, not a folder.",
            expected="a folder (existing or new) for the output files.",
            fix="pass another --out / out_dir, or remove the file.",
        )
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out, prefix=".jm-"))
    except OSError as exc:
        raise _output_error(out, exc) from exc
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)


def _output_error(path: Path, exc: OSError) -> OutputError:
    return OutputError(
        f"Cannot write to {str(path)!r}: {exc.strerror or exc}.",
        expected="a writable location on a file system with free space.",
        fix="choose another output folder, or check its permissions and free space.",
    )
