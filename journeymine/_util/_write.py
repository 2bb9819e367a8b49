"""The one way journeymine writes files: atomically, nothing half-written.

:func:`write_text` replaces one file through a temporary sibling;
:func:`write_bundle` stages several files in a hidden folder inside the output
folder and moves them into place only when every one was written
(:func:`staged_output`, which every CLI command writes through too). If
writing fails, the output folder is left as it was (and removed, with the
parent folders, if this call created them), and the error says what went
wrong with the folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from journeymine.exceptions import OutputError

__all__ = ["staged_output", "write_bundle", "write_text"]


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
    with staged_output(out) as staging:
        for name, write in writers.items():
            write(staging / name)
    return [out / name for name in writers]


@contextlib.contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """A staging folder whose files move into ``out`` only when the block succeeds.

    ``out`` is checked and created first, so a bad output folder fails before
    any work. If the block fails, the staged files are deleted and so is every
    folder created here (``out`` and its missing parents): nothing is left
    half-written.

    Parameters
    ----------
    out : Path
        The output folder.

    Yields
    ------
    Path
        A hidden folder inside ``out`` to write the files to.

    Raises
    ------
    OutputError
        ``out`` is a file, or cannot be created or written to.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "new" / "out"
    >>> with staged_output(out) as staging:
    ...     _ = (staging / "a.txt").write_text("x")
    >>> [p.name for p in out.iterdir()]
    ['a.txt']
    """
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"The output path {str(out)!r} is a file, not a folder.",
            expected="a folder (existing or new) for the output files.",
            fix="pass another --out / out_dir, or remove the file.",
        )
    missing = [p for p in (out, *out.parents) if not p.exists()]
    created = missing[-1] if missing else None
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out, prefix=".jm-"))
    except OSError as exc:
        if created is not None and created.is_dir():
            shutil.rmtree(created, ignore_errors=True)
        raise OutputError(
            f"Cannot write to the output folder {str(out)!r}: {exc.strerror or exc}.",
            expected="a writable folder (existing or new) for the output files.",
            fix="pass another --out / out_dir, or check its permissions and free space.",
        ) from exc
    try:
        yield staging
        for path in sorted(staging.iterdir()):
            os.replace(path, out / path.name)
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _output_error(path: Path, exc: OSError) -> OutputError:
    return OutputError(
        f"Cannot write to {str(path)!r}: {exc.strerror or exc}.",
        expected="a writable location on a file system with free space.",
        fix="choose another output folder, or check its permissions and free space.",
    )
