"""CSV structure checks: rows with another field count than the header, repeated names.

DuckDB and pyarrow report a ragged row or a header that repeats a name
vaguely or not at all (a repeated name is silently renamed ``name_1``); these
helpers re-read the start of the file with :mod:`csv` to find the first bad
line and the names involved, and build the errors that name them.
"""

from __future__ import annotations

import csv
import re

from journeymine.eventlog._files import _first_file, _text_lines
from journeymine.exceptions import ReadError, SchemaError


def _ragged_error(path: str, line: int | None, found: int, header: list[str] | int,
                  sep: str) -> ReadError:
    names = f" ({', '.join(header)})" if isinstance(header, list) else ""
    width = len(header) if isinstance(header, list) else header
    where = f"line {line} has {found}" if line else f"a line has {found}"
    return ReadError(
        f"The CSV file {path!r} has rows with a different number of fields than its header: "
        f"{where} field(s), the header has {width}{names}.",
        expected=f"the same number of {sep!r}-separated fields on every line.",
        fix=f"Fix or remove that line (a value with an unquoted {sep!r}? a line cut short?), "
        "or quote values that contain the separator.",
    )


def _find_ragged(path: str, codec: str, sep: str, limit: int = 2_000_000
                 ) -> tuple[int, int, list[str]] | None:
    """The first line (1-based), its field count and the header, where the count differs."""
    with _text_lines(path, codec) as text:
        reader = csv.reader(text, delimiter=sep)
        header = next(reader, None)
        if header is None:
            return None
        header[0] = header[0].lstrip("\ufeff")
        for row in reader:
            if row and len(row) != len(header):
                return reader.line_num, len(row), header
            if reader.line_num > limit:
                break
    return None


def _check_ragged(path: str, codec: str, columns: list[str]) -> None:
    """Raise the ragged-rows ReadError when a sniffed single column hides a separator."""
    if len(columns) != 1:
        return
    counts = {d: columns[0].count(d) for d in ",;\t|"}
    sep = max(counts, key=counts.get)
    error = _ragged_line_error(path, codec, sep) if counts[sep] else None
    if error:
        raise error


def _check_sep(path: str, sep: str | None, columns: list[str]) -> None:
    """Raise ReadError when an explicit ``sep`` reads the header as one column holding another.

    Without this the header becomes one column named after the whole line,
    and the error would be that no customer column was found.
    """
    if sep is None or len(columns) != 1:
        return
    counts = {d: columns[0].count(d) for d in ",;\t|" if d != sep}
    found = max(counts, key=counts.get)
    if counts[found]:
        raise ReadError(
            f"The separator sep={sep!r} looks wrong for {path!r}: it reads the header as one "
            f"column ({columns[0][:80]!r}), which holds {counts[found]} {found!r}; the file "
            f"looks {found!r}-separated.",
            expected=f"sep to be the character between the fields of the header: {found!r} "
            "here.",
            fix=f"Pass sep={found!r}, or leave sep out to detect the separator.",
        )


def _ragged_line_error(path: str, codec: str, sep: str) -> ReadError | None:
    """The ragged-rows ReadError naming the first bad line of ``path`` (or of the
    first file its glob matches), or None when every line has the header's width."""
    name = _first_file(path)
    found = _find_ragged(name, codec, sep) if name else None
    return _ragged_error(name, *found, sep) if found else None


def _check_duplicate_header(path: str, codec: str, columns: list[str], sep: str | None) -> None:
    """Raise SchemaError if the header repeats a name (readers rename it ``name_1``)."""
    lowered = {c.lower() for c in columns}
    if not any((m := re.fullmatch(r"(.+)_\d+", c)) and m.group(1).lower() in lowered
               for c in columns):
        return  # the common case: nothing renamed, nothing to read
    name = _first_file(path)
    if name is None:
        return
    with _text_lines(name, codec) as text:
        line = text.readline()
    for delim in [sep] if sep else [",", ";", "\t", "|"]:
        names = next(csv.reader([line], delimiter=delim), [])
        if len(names) == len(columns):
            break
    else:
        return
    names = [n.lstrip("\ufeff").strip() for n in names]
    seen = [n.lower() for n in names]
    dupes = [n for n in names if seen.count(n.lower()) > 1]
    if dupes:
        raise _duplicate_header_error(name, dupes)


def _duplicate_header_error(path: str, dupes: list[str]) -> SchemaError:
    return SchemaError(
        f"The CSV file {path!r} has duplicate column names in its header: {sorted(set(dupes))}.",
        expected="distinct column names (as for a DataFrame).",
        fix="Rename or delete the duplicate columns in the file, so it is clear which "
        "one holds the data.",
    )
