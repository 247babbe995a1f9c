"""Shared helpers: paths to fixtures, and byte surgery on the golden records."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
KOJIN = "examples/vendor-a/juki-kojin"
NOUZEI = "examples/mainframe/nouzei"
ZENGIN = "zengin/kouza-furikae"
KOJIN_CSV = "examples/vendor-a/juki-kojin-csv"
SETAI = "examples/vendor-a/juki-setai"


def kojin_bytes() -> bytes:
    return (FIXTURES / "vendor-a" / "juki-kojin.dat").read_bytes()


def kojin_records() -> list[bytearray]:
    data = kojin_bytes()
    return [bytearray(data[i:i + 202]) for i in range(0, len(data), 202)]


def put(record: bytearray, start: int, raw: bytes) -> bytearray:
    """Overwrite bytes of a record at a 1-based position (as on layout sheets)."""
    record[start - 1:start - 1 + len(raw)] = raw
    return record


def mj_like_font(path: Path, shapes: Mapping[str, list[list[tuple[int, int]]]],
                 cmap: Mapping[int, str], uvs: list[tuple[int, int, str | None]],
                 family: str) -> Path:
    """A tiny IPAmj明朝-like font: glyphs named by MJ 文字図形名 (``shapes``: each one's
    polygons), reached by ``cmap`` (formats 4 and 12) and the IVS of ``uvs`` (format
    14; None: the base character's default glyph)."""
    from chukan.gaiji._font import polygon_glyph, save_font  # noqa: PLC0415

    glyphs = {".notdef": polygon_glyph([])}
    glyphs.update((name, polygon_glyph(polygons)) for name, polygons in shapes.items())
    return save_font(path, 1024, cmap, glyphs, family=family, uvs=uvs)
