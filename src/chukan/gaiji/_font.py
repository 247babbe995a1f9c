"""A 外字 font: its private use code points, and each glyph's outline as SVG.

fontTools reads the font (TrueType ``glyf`` or CFF outlines, any cmap format): it is
the well-kept library of the field, pure Python, and the MJ work of this package uses
it for cmaps and glyph names too. Drawing needs no rasteriser: the outline becomes an
SVG path, which the browser draws at any size.
"""

from __future__ import annotations

import contextlib
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chukan.errors import FileError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

#: the private use areas, where 外字 sit: the BMP's (CP932's user area is U+E000–U+E757)
#: and planes 15 and 16 (where host code pages' larger user areas go)
PUA = (range(0xE000, 0xF900), range(0xF0000, 0x110000))


def _fonttools() -> Any:  # noqa: ANN401 -- fontTools has no type hints
    try:
        from fontTools import ttLib  # noqa: PLC0415 -- an optional extra
    except ImportError:
        msg = "外字フォントを読むには fontTools が必要です: pip install 'chukan[gaiji]'"
        raise UsageError(msg) from None
    return ttLib


def font_bytes(path: str | Path) -> bytes:
    """A font file's bytes; a file that is not there is a :class:`FileError`."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FileError(path, exc) from None


@contextlib.contextmanager
def reading_font(path: str | Path, what: str, data: bytes | None = None) -> Iterator[Any]:
    """A font read whole into memory (no file is left open: a 外字 font is small, and
    IPAmj明朝's cmaps are read lazily), its tables read in the ``with`` body: a file
    that is not there is a :class:`FileError`, one that is no font a usage error
    naming ``what`` was expected. ``data``: the file's bytes, when already read."""
    ttlib = _fonttools()
    data = font_bytes(path) if data is None else data
    try:
        yield ttlib.TTFont(io.BytesIO(data), fontNumber=0, lazy=True)
    except Exception as exc:  # fontTools raises many kinds on a file that is no font
        msg = f"{what}として読めません: {path} ({type(exc).__name__}: {exc})"
        raise UsageError(msg) from None


def font_sequences(font: Any) -> dict[str, str]:  # noqa: ANN401 -- a fontTools TTFont
    """Each sequence a font draws, a character or one with its variation selector, and
    the glyph that draws it: the best cmap (formats 4 and 12), then format 14, where a
    sequence with no glyph of its own is the base character's default glyph."""
    best = font.getBestCmap() or {}
    out = {chr(cp): name for cp, name in best.items()}
    for table in font["cmap"].tables:
        if table.format == 14:
            for selector, pairs in table.uvsDict.items():
                for cp, name in pairs:
                    glyph = best.get(cp) if name is None else name
                    if glyph is not None:
                        out[chr(cp) + chr(selector)] = glyph
    return out


@contextlib.contextmanager
def core_drawing(what: str) -> Iterator[None]:
    """The core drawing glyphs: a font fontTools read but the core's reader refuses (a
    malformed table) is a usage error naming ``what``, not a traceback."""
    try:
        yield
    except ValueError as exc:
        msg = f"{what}として読めません ({exc})"
        raise UsageError(msg) from None


@dataclass(slots=True)
class EudcFont:
    """A 外字 font, read: its name, the glyph of each code point, and its metrics."""

    path: str
    cmap: Mapping[int, str]  # code point → glyph name
    units_per_em: int
    ascent: int  # above the baseline, in font units
    descent: int  # below it (a positive number)
    _font: Any = field(repr=False)
    data: bytes = field(default=b"", repr=False)  # the file, for the core to draw from
    _drawn: dict[str, str | None] = field(default_factory=dict, repr=False)

    @property
    def private(self) -> list[int]:
        """The private use code points the font maps, in order."""
        return sorted(c for c in self.cmap if any(c in area for area in PUA))

    def has(self, char: str) -> bool:
        """Whether the font draws ``char`` (a glyph with an outline)."""
        return self.path_data(char) is not None

    def glyph_id(self, char: str) -> int:
        """The id of ``char``'s glyph (the font must map it)."""
        return self.glyph_index(self.cmap[ord(char)])

    def glyph_index(self, name: str) -> int:
        """The id of the glyph named ``name``."""
        return int(self._font.getGlyphID(name))

    def path_data(self, char: str) -> str | None:
        """The SVG path of ``char``'s glyph, y pointing down from the ascent (None when
        the font lacks it or its glyph is empty)."""
        name = self.cmap.get(ord(char)) if len(char) == 1 else None
        return None if name is None else self.glyph_path(name)

    def glyph_path(self, name: str) -> str | None:
        """The SVG path of the glyph named ``name`` (None when it is empty or absent)."""
        if name not in self._font.getReverseGlyphMap():
            return None
        if name not in self._drawn:
            from fontTools.pens.svgPathPen import SVGPathPen  # noqa: PLC0415
            from fontTools.pens.transformPen import TransformPen  # noqa: PLC0415

            glyphs = self._font.getGlyphSet()
            pen = SVGPathPen(glyphs, ntos=lambda v: f"{v:g}")
            # font units have y up from the baseline; SVG has y down from the top
            glyphs[name].draw(TransformPen(pen, (1, 0, 0, -1, 0, self.ascent)))
            self._drawn[name] = pen.getCommands() or None
        return self._drawn[name]

    def svg(self, char: str, size: int = 48) -> str | None:
        """``char``'s glyph as an inline SVG element ``size`` pixels high, with the
        character's code point as its title; None when the font lacks it."""
        name = self.cmap.get(ord(char)) if len(char) == 1 else None
        if name is None:
            return None
        return self.glyph_svg(name, " ".join(f"U+{ord(c):04X}" for c in char), size)

    def glyph_svg(self, name: str, title: str, size: int = 48) -> str | None:
        """The glyph named ``name`` as an inline SVG element, titled ``title``."""
        d = self.glyph_path(name)
        if d is None:
            return None
        height = self.ascent + self.descent
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.units_per_em} '
                f'{height}" width="{size}" height="{size}" role="img">'
                f"<title>{html.escape(title)}</title>"
                f'<path d="{html.escape(d)}"/></svg>')


def load_eudc(path: str | Path, data: bytes | None = None) -> EudcFont:
    """Read a 外字 font (``EUDC.TTE``, ``.ttf``, ``.otf``; a collection's first font).

    ``data``: the file's bytes, when already read. The metrics come from the ``OS/2``
    table's typographic ascent and descent (the ``hhea`` table's where it has none): a
    外字 font draws its glyphs in that box.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     font = load_eudc(write_eudc(f"{tmp}/eudc.ttf", {0xE000: [[(100, 0), (100, 800),
    ...                                                               (900, 800)]]}))
    >>> font.private, font.path_data(chr(0xE000)), font.svg(chr(0xE001))
    ([57344], 'M100 896V96H900Z', None)
    """
    data = font_bytes(path) if data is None else data
    with reading_font(path, "外字フォント", data) as font:
        cmap = font.getBestCmap() or {}
        upm = int(font["head"].unitsPerEm)
        os2 = font.get("OS/2")
        ascent = int(os2.sTypoAscender) if os2 is not None else int(font["hhea"].ascent)
        descent = -int(os2.sTypoDescender) if os2 is not None else -int(font["hhea"].descent)
    if ascent + descent <= 0:  # some old fonts leave them zero: the em square
        ascent, descent = upm * 7 // 8, upm // 8
    return EudcFont(str(path), dict(cmap), upm, ascent, descent, font, data)


def polygon_glyph(polygons: list[list[tuple[int, int]]]) -> Any:  # noqa: ANN401
    """A TrueType glyph (fontTools) of closed polygons, in font units."""
    _fonttools()
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # noqa: PLC0415

    pen = TTGlyphPen(None)
    for polygon in polygons:
        pen.moveTo(polygon[0])
        for point in polygon[1:]:
            pen.lineTo(point)
        pen.closePath()
    return pen.glyph()


def save_font(path: str | Path, units_per_em: int, cmap: Mapping[int, str],
              glyphs: Mapping[str, Any], *, family: str,
              uvs: list[tuple[int, int, str | None]] | None = None) -> Path:
    """A TrueType font of ``glyphs`` (fontTools ``Glyph`` objects, ``.notdef`` first)
    mapped by ``cmap`` and the variation sequences ``uvs`` (code point, selector, glyph
    or None for the default one), each glyph as wide as the em; the ascent is 7/8 of
    the em, the descent 1/8. For 外字 fonts made here, and the tests' MJ-like fonts."""
    _fonttools()
    from fontTools.fontBuilder import FontBuilder  # noqa: PLC0415

    builder = FontBuilder(units_per_em, isTTF=True)
    builder.setupGlyphOrder(list(glyphs))
    builder.setupCharacterMap(dict(cmap), uvs=uvs)
    builder.setupGlyf(dict(glyphs))
    # (each glyph's left side bearing is where its outline starts)
    builder.setupHorizontalMetrics({n: (units_per_em, int(getattr(g, "xMin", 0)))
                                    for n, g in glyphs.items()})
    ascent, descent = units_per_em * 7 // 8, units_per_em // 8
    builder.setupHorizontalHeader(ascent=ascent, descent=-descent)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=ascent, sTypoDescender=-descent, usWinAscent=ascent,
                     usWinDescent=descent)
    builder.setupPost()
    builder.save(str(path))
    return Path(path)


def write_eudc(path: str | Path, outlines: Mapping[int, list[list[tuple[int, int]]]], *,
               units_per_em: int = 1024) -> Path:
    """Write a small TrueType 外字 font: each code point's glyph is its closed polygons
    (font units, y up from the baseline; no polygon: an empty glyph). For tests and
    examples; the ascent is 7/8 of the em, the descent 1/8."""
    names = {cp: f"uni{cp:04X}" for cp in outlines}
    glyphs = {".notdef": polygon_glyph([])}
    glyphs.update((names[cp], polygon_glyph(outlines[cp])) for cp in outlines)
    return save_font(path, units_per_em, names, glyphs, family="chukan EUDC")


def copy_glyphs(source: str | Path, glyphs: list[str], path: str | Path, *,
                first: int = 0xE000) -> Path:
    """Write a TrueType 外字 font whose code points ``first``, ``first + 1``, … draw the
    glyphs named ``glyphs`` of the font ``source``, outline for outline (composites
    made whole). For benchmarks and tests: a 外字 font drawn by another hand."""
    _fonttools()
    from fontTools.pens.recordingPen import DecomposingRecordingPen  # noqa: PLC0415
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # noqa: PLC0415

    with reading_font(source, "フォント") as font:
        upm = int(font["head"].unitsPerEm)
        drawn_from = font.getGlyphSet()
        names = [f"g{i}" for i in range(len(glyphs))]
        drawn = {".notdef": TTGlyphPen(None).glyph()}
        for name, glyph in zip(names, glyphs, strict=True):
            recording = DecomposingRecordingPen(drawn_from)
            drawn_from[glyph].draw(recording)
            pen = TTGlyphPen(None)
            recording.replay(pen)
            drawn[name] = pen.glyph()
    return save_font(path, upm, {first + i: n for i, n in enumerate(names)}, drawn,
                     family="chukan EUDC copy")
