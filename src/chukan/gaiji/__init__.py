"""外字 work beyond the inventory: the municipality's own 外字 font read, so that each 外字
is shown as it is drawn (``pip install chukan[gaiji]``, fontTools).

A 外字 is a code point in the private use area; its shape lives only in the
municipality's 外字 font (Windows ``EUDC.TTE``, or any TrueType font that maps private
use code points to glyphs). :func:`load_eudc` reads one; :meth:`EudcFont.svg` draws a
glyph as inline SVG from its outline, so a report stays one self-contained file. A code
point the font lacks, or maps to an empty glyph, is said to be missing, never drawn
blank. :func:`glyphs_of` draws a report's 外字 for :func:`chukan.report.to_html`.

:func:`candidates` ranks IPAmj明朝's glyphs by shape for each 外字 (against an
:func:`mj_index` kept on disk), and :func:`write_worksheet` puts them in an ``.xlsx``
book and an HTML page for staff to decide (``chukan gaiji candidates``). Once staff
have decided each 外字's MJ character in a worksheet, :func:`decisions` reads
it against IPAmj明朝 (:func:`load_mj_font`) and :func:`gaiji_toml` writes the 外字 map
that a mapping's ``gaiji_map`` names (``chukan gaiji map``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chukan.gaiji._font import EudcFont, load_eudc, write_eudc
from chukan.gaiji._mj import Decisions, MjFont, decisions, gaiji_toml, load_mj_font
from chukan.gaiji._shape import Candidates, MjIndex, candidates, mj_index
from chukan.gaiji._worksheet import write_worksheet

if TYPE_CHECKING:
    from chukan.report import Report

__all__ = ["Candidates", "Decisions", "EudcFont", "MjFont", "MjIndex", "candidates",
           "decisions", "gaiji_toml", "glyphs_of", "load_eudc", "load_mj_font", "mj_index",
           "write_eudc", "write_worksheet"]


def glyphs_of(report: Report, font: EudcFont) -> dict[str, str | None]:
    """Each 外字 of ``report``'s inventory drawn from ``font`` as inline SVG (None where
    the font lacks it)."""
    return {ch: font.svg(ch) for ch in report.gaiji}

