"""The one Jinja environment every HTML page is rendered with."""

from __future__ import annotations

import jinja2

from journeymine.reporting._palette import NO_STAGE_COLOR, STAGE_COLORS

__all__ = ["get_template", "render_template"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("journeymine.reporting", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
# The base template colours stages from these unless a page passes its own ``palette``.
_ENV.globals.update(palette=STAGE_COLORS, no_stage_color=NO_STAGE_COLOR)


def get_template(name: str) -> jinja2.Template:
    """The packaged template ``name`` (for its macros: ``get_template(n).module``)."""
    return _ENV.get_template(name)


def render_template(name: str, **context) -> str:
    """Render the packaged template ``name`` with ``context``.

    Autoescaping is on for every template, so user text (touchpoint names,
    quotes) is always escaped; an undefined variable is an error, not an empty
    string.

    Examples
    --------
    >>> html = render_template("persona_card.html.j2", p=None, fmt=None)  # doctest: +SKIP
    """
    return get_template(name).render(**context)
