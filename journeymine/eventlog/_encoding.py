"""Text encodings of CSV files: naming them, recognising them, and saying which to pass.

A CSV file in the wrong encoding reads as garbage rather than failing, so the
start of the file is checked against the encoding asked for (UTF-16/32 by its
byte-order mark or NUL bytes, UTF-8 by decoding), and the encoding errors of
DuckDB and pyarrow are turned into a message naming the encoding to try
(``cp1252`` for files saved by Excel on Windows). Which codecs DuckDB decodes
itself, and which go to pyarrow, is decided here too.
"""

from __future__ import annotations

import codecs
import re

from journeymine.eventlog._files import _first_file, _head, _open_maybe_gzip
from journeymine.exceptions import EncodingError

# Encodings DuckDB's CSV reader decodes natively, by Python codec name.
_DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16", "iso8859-1": "latin-1"}


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise EncodingError(
            f"Unknown text encoding {encoding!r}.",
            expected="an encoding Python knows, such as 'utf-8', 'latin-1' or 'cp1252'.",
            fix='Pass encoding="utf-8", encoding="latin-1" or encoding="cp1252".',
        ) from None


def _wide_encoding(head: bytes) -> str | None:
    """The UTF-16/32 encoding ``head`` looks like (BOM or NUL-byte pattern), or None."""
    if head[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    nul = head.count(0)
    if not head or nul * 4 < len(head):
        return None
    if nul * 4 >= len(head) * 3:
        return "utf-32"
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd >= 9 * even:
        return "utf-16"  # little-endian: DuckDB's "utf-16" reads it without a BOM
    if even >= 9 * odd:
        return "utf-16-be"
    return None


def _is_utf8(head: bytes) -> bool:
    """Whether ``head`` (maybe cut inside a character) is UTF-8."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _check_encoding(path: str, codec: str, encoding: str) -> str:
    """Check the start of ``path`` against ``codec``; return the codec to read it with.

    UTF-16 read as UTF-8 or Latin-1 gives NUL bytes between letters or a
    byte-order mark in the first column name; UTF-8 read as UTF-16 gives
    Chinese-looking names. Both are caught here, with the encoding to pass.
    A big-endian UTF-16 file with a BOM is routed to Python's codec (DuckDB
    reads little-endian only).
    """
    name = _first_file(path)
    if name is None:
        return codec
    head = _head(name)
    wide = _wide_encoding(head)
    if codec.startswith(("utf-16", "utf-32")):
        if codec == "utf-16" and head[:2] == b"\xfe\xff":
            return "utf-16-python"  # big-endian with a BOM
        if codec == "utf-16" and wide == "utf-16-be":
            suggestion = "utf-16-be"
        elif wide is None and b"\x00" not in head and _is_utf8(head):
            suggestion = "utf-8"
        else:
            return codec
        looks = ("like big-endian UTF-16 without a byte-order mark"
                 if suggestion == "utf-16-be" else "like UTF-8 (no NUL bytes, no byte-order mark)")
    elif wide is not None:
        suggestion = wide
        kind = {"utf-16": "UTF-16", "utf-16-be": "big-endian UTF-16", "utf-32": "UTF-32"}[wide]
        bom = head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:4] == b"\x00\x00\xfe\xff"
        looks = (f"like {kind} text: it starts with a {kind} byte-order mark" if bom
                 else f"like {kind} text: NUL bytes between the letters")
    else:
        return codec
    raise _not_encoded_error(name, encoding, f": it looks {looks}",
                             f'Pass encoding="{suggestion}", or re-save the file as UTF-8.')


def _not_encoded_error(path: str, encoding: str, detail: str, fix: str) -> EncodingError:
    """The EncodingError for a CSV file that is not ``encoding`` text (``detail`` says how)."""
    return EncodingError(
        f"The CSV file {path!r} is not {encoding} text{detail}.",
        expected=f"a file saved as {encoding}.",
        fix=fix,
    )


def _encoding_fix(path: str, encoding: str) -> tuple[str, str]:
    """Where the first byte ``encoding`` rejects may be, and the encoding to suggest."""
    if encoding != "latin-1":
        return "", ('Pass encoding="cp1252" for files saved by Excel on Windows, or '
                    'encoding="latin-1", or re-save the file as UTF-8 (Excel: "CSV UTF-8").')
    # DuckDB's Latin-1 has no characters at 0x80-0x9F; Windows-1252 puts € and curly quotes there
    where = ""
    name = _first_file(path)
    if name:
        with _open_maybe_gzip(name) as f:
            for number, line in enumerate(f, 1):
                bad = re.search(rb"[\x80-\x9f]", line)
                if bad:
                    where = f" (byte 0x{bad.group()[0]:02X} on line {number})"
                    break
    return where, ('Pass encoding="cp1252": files saved by Excel on Windows use the bytes '
                   "0x80-0x9F for characters such as € and curly quotes, which Latin-1 does not "
                   'have. Or re-save the file as UTF-8 (Excel: "CSV UTF-8").')


def _pyarrow_encoding_fix(codec: str, exc: UnicodeDecodeError) -> str:
    if codec == "cp1252":
        # 0x81, 0x8D, 0x8F, 0x90, 0x9D are the only bytes cp1252 leaves undefined: such a
        # file is usually UTF-8 (e.g. the curly quote ” is E2 80 9D) or mixes encodings.
        byte = exc.object[exc.start] if exc.start < len(exc.object) else None
        shown = f"0x{byte:02X}" if byte is not None else "a byte"
        return (f'{shown} is not a cp1252 character: try encoding="utf-8", or re-save the '
                "file as UTF-8 if it mixes encodings.")
    return 'Pass the encoding the file was saved in, e.g. encoding="latin-1".'
