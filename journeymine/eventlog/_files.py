"""Input files, checked before a reader parses them.

Every file reader goes through here to find out whether its path is there and
is a regular file, to take the first file of a glob, to open a file with
transparent gunzipping, and to check that a gzip file is whole (DuckDB returns
the rows before a cut without a word). The errors for a missing or empty file
are built here too, so every format words them the same way.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import stat
import zlib
from os import PathLike
from pathlib import Path

from journeymine.exceptions import EmptyLogError, ReadError

PathType = str | PathLike[str]

def _empty_error(path: PathType, what: str) -> EmptyLogError:
    return EmptyLogError(
        f"The file {str(path)!r} {what}.",
        expected="a header row and at least one event (customer, activity, timestamp).",
        fix="Check that the export finished and that the right file was given.",
    )


def _missing_error(path: PathType, kind: str) -> ReadError:
    return ReadError(
        f"The {kind} file {str(path)!r} does not exist.",
        expected="the path of an existing file.",
        fix=f"Check the path (the working directory is {str(Path.cwd())!r}).",
    )


def _not_regular_error(path: str, wanted: str = "a .csv or .csv.gz file") -> ReadError:
    mode = os.stat(path).st_mode
    kind = ("a character device" if stat.S_ISCHR(mode) else "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a block device" if stat.S_ISBLK(mode) else "not a regular file")
    empty = " (it is always empty)" if path == os.devnull else ""
    return ReadError(
        f"{path!r} is not a regular file but {kind}{empty}: there are no events to read.",
        expected=f"the path of {wanted}.",
        fix="Save the data to a file and pass its path (or read a stream with pandas and "
        "use EventLog.from_pandas).",
    )


def _has_glob(path: str) -> bool:
    return any(ch in path for ch in "*?[")


def _first_file(path: str) -> str | None:
    if not _has_glob(path):
        return path
    names = sorted(glob.glob(path, recursive=True))
    return names[0] if names else None


def _open_maybe_gzip(path: str):
    """Open ``path`` for binary reading, transparently gunzipping it.

    Closing the returned file closes the file on disk too (a ``GzipFile``
    wrapped around an open file would leave that one open).
    """
    f = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    if f.read(2) != b"\x1f\x8b":
        f.seek(0)
        return f
    f.close()
    return gzip.open(path, "rb")


def _head(path: str, size: int = 4096) -> bytes:
    """The first ``size`` bytes of ``path``, gunzipped if it is gzipped."""
    with _open_maybe_gzip(path) as f:
        return f.read(size)


def _text_lines(path: str, codec: str) -> io.TextIOWrapper:
    """``path`` as text (gunzipped, undecodable bytes replaced), for error diagnosis."""
    return io.TextIOWrapper(_open_maybe_gzip(path), encoding=codec, errors="replace",
                            newline="")


def _gzip_problem(path: str) -> str | None:
    """Why the gzip file ``path`` cannot be trusted (truncated, corrupt), or None.

    A gzip stream ends with its length and CRC: reading to there is the only
    way to know the file is whole, and DuckDB (like many readers) returns the
    rows before a cut without a word. Streaming through zlib costs about 5% of
    a read; the output is discarded, bounded to 16 MB at a time.
    """
    with open(path, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            return None
        f.seek(0)
        inflate, fed = zlib.decompressobj(31), False
        data = f.read(1 << 20)
        try:
            while data:
                inflate.decompress(data, 1 << 24)
                fed = True
                if inflate.eof:  # a member ended; another may follow (as `cat a.gz b.gz`)
                    data = inflate.unused_data or f.read(1 << 20)
                    if 0 < len(data) < 2:
                        data += f.read(1 << 20)
                    if data and not data.startswith(b"\x1f\x8b"):
                        return None  # trailing bytes after a complete stream, as gzip allows
                    inflate, fed = zlib.decompressobj(31), False
                else:
                    data = inflate.unconsumed_tail or f.read(1 << 20)
        except zlib.error as exc:
            return f"corrupt ({exc})"
    return "truncated (the compressed stream stops before its end)" if fed else None


def _check_gzip(path: str) -> None:
    """Raise ReadError if ``path`` (or any file a glob matches) is a cut or corrupt gzip file."""
    for name in sorted(glob.glob(path, recursive=True)) if _has_glob(path) else [path]:
        problem = _gzip_problem(name)
        if problem:
            raise ReadError(
                f"The gzip file {name!r} is {problem}: reading it would give only part of "
                "the events.",
                expected="a complete gzip file (`gzip -t` checks one).",
                fix="Download or copy the file again, or re-compress the original.",
            )
