"""Rendering: HTML pages, SVG process maps and the files a run writes.

Every page here is built from a result's computed summary and tables; this
layer formats and draws, it computes no statistics. One Jinja environment
(``_templates``), one base template with one stylesheet and one stage palette,
one process-map layout and SVG renderer, one atomic bundle writer. Result
classes import from here when asked to render; nothing here imports a result
module at import time.
"""

from journeymine._util._write import staged_output
from journeymine.reporting._format import humanize_seconds, percent, short_path

__all__ = ["humanize_seconds", "percent", "short_path", "staged_output"]
