"""Small shared utilities below every other layer.

Plain-value conversion for JSON (:mod:`._json`), the one atomic writer of
output files (:mod:`._write`), optional imports that name the extra to
install (:mod:`._optional`), parameter checks (:mod:`._params`), distinct
integer keys (:mod:`._arrays`) and the captioned table of a result's
notebook view (:mod:`._html`). Nothing
here imports another journeymine subpackage.
"""
