"""The captioned table a result shows in a notebook cell (its ``_repr_html_``)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

__all__ = ["html_table"]


def html_table(caption: str, columns: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A caption above a table, as HTML with every caption, header and cell escaped.

    Parameters
    ----------
    caption : str
        The line above the table (a result's ``repr`` or headline).
    columns : sequence
        The header cells.
    rows : iterable of sequences
        The body rows, one value per column, already formatted (``str`` is
        applied to each).

    Returns
    -------
    str
        ``<div><p>caption</p><table>...</table></div>``.

    Examples
    --------
    >>> page = html_table("Shares <top>", ["channel", "share"], [("ads & email", "60.0%")])
    >>> page[:44]
    '<div><p>Shares &lt;top&gt;</p><table><thead>'
    >>> page[page.index("<tbody>"):]
    '<tbody><tr><td>ads &amp; email</td><td>60.0%</td></tr></tbody></table></div>'
    """
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in rows)
    return (f"<div><p>{html.escape(caption)}</p><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")
