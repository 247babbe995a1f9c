"""The 文字同定 worksheet: each 外字 beside its MJ candidates, for staff to decide.

Two files with the same rows: an ``.xlsx`` book (openpyxl, the well-kept library for
the format; glyphs as PNG pictures in their cells, drawn by the core and saved by
Pillow, which openpyxl needs for pictures) where staff type their decisions, and an
HTML page (glyphs as inline SVG from the fonts' outlines: one self-contained file that
zooms sharp) to look at side by side or to print.

The columns ``コードポイント`` and ``決定`` are the ones ``chukan gaiji map`` reads; a
decision may also be a candidate's number (``1`` for 候補1).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from chukan import _core
from chukan._files import OutputSet
from chukan.errors import UsageError
from chukan.gaiji._font import core_drawing, load_eudc

if TYPE_CHECKING:
    from collections.abc import Mapping

    from chukan.gaiji._font import EudcFont
    from chukan.gaiji._shape import Candidates, MjIndex

#: the picture of a glyph in the book, in pixels
_PICTURE = 56
#: the usage notes, on the book's second sheet and above the page's table
NOTES_JA = (
    "各行が外字1字です。外字の字形と、字形の近い MJ 文字の候補を近い順に並べています。",
    "「決定」の列に、選んだ候補の番号(1〜)か MJ 文字図形名(mj030244 など)を書いてください。"
    "候補にないときは、U+XXXX(異体字セレクタを含めて)か文字そのものを書けます。",
    "決めかねる外字は空欄のままにしてください。chukan gaiji map は空欄の外字を一覧にして"
    "知らせ、推測では埋めません。",
    "スコアは同じ外字の候補どうしを比べるためのもので、高いほど近い字形です。",
)


def candidate_column(n: int) -> str:
    """The header of the n-th candidate's column (``候補1``)."""
    return f"候補{n}"


@dataclass(frozen=True, slots=True)
class _Row:
    code: str  # U+E000
    count: int | None  # in the data, when an inventory said
    candidates: list[tuple[str, str, float]]  # name, codes, score; best first

    @property
    def char(self) -> str:
        return chr(int(self.code[2:], 16))


def _rows(found: Candidates, counts: Mapping[str, int]) -> list[_Row]:
    """One row per 外字: its code point, count and candidates."""
    grouped = found.table.group_by("code_point", maintain_order=True)
    return [_Row(str(code), counts.get(str(code)),
                 [(str(n), str(c), float(s))
                  for n, c, s in group.select("mj", "codes", "score").iter_rows()])
            for (code,), group in grouped]


def require() -> None:
    """Openpyxl and Pillow, or a usage error saying how to get them (checked before any
    long work)."""
    try:
        import openpyxl  # noqa: F401, PLC0415 -- optional extras
        import PIL  # noqa: F401, PLC0415
    except ImportError:
        msg = "作業表を書くには openpyxl と Pillow が必要です: pip install 'chukan[gaiji]'"
        raise UsageError(msg) from None


def worksheet_paths(path: str | Path) -> tuple[Path, Path]:
    """The book (``.xlsx``) and the HTML page beside it."""
    book = Path(path)
    if book.suffix.lower() != ".xlsx":
        msg = f"作業表は .xlsx にしてください: {book}"
        raise UsageError(msg)
    return book, book.with_suffix(".html")


def _png(data: bytes, glyph_ids: list[int], what: str) -> list[bytes]:
    """Glyphs as PNG pictures, black on white (drawn together by the core)."""
    from PIL import Image  # noqa: PLC0415 -- an optional extra (see require)

    ids = np.array(glyph_ids, dtype=np.uint16)
    with core_drawing(what):
        drawn = _core.render_glyphs(data, ids, _PICTURE, 0.85)
    drawn = drawn.reshape(-1, _PICTURE, _PICTURE)
    out = []
    for grey in 255 - drawn:
        buffer = io.BytesIO()
        Image.fromarray(grey, mode="L").save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out


def _cell(name: str, codes: str, score: float) -> str:
    return f"{name}\n{codes}\nスコア {score:.3f}"


def book_bytes(found: Candidates, eudc: EudcFont, mj: EudcFont,
               counts: Mapping[str, int] | None = None) -> bytes:
    """The worksheet as an ``.xlsx`` book."""
    import openpyxl  # noqa: PLC0415 -- an optional extra (see require)
    from openpyxl.drawing.image import Image as Picture  # noqa: PLC0415
    from openpyxl.styles import Alignment, Font, PatternFill  # noqa: PLC0415

    rows = _rows(found, counts or {})
    k = max((len(r.candidates) for r in rows), default=0)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "文字同定"
    header = ["コードポイント", "外字", "件数"]
    for n in range(1, k + 1):
        header += [candidate_column(n), f"{candidate_column(n)} 字形"]
    header += ["決定", "メモ"]
    sheet.append(header)
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    sheet.freeze_panes = "D2"
    wrap = Alignment(wrap_text=True, vertical="center")
    decide = PatternFill("solid", fgColor="FFF2CC")
    # every picture drawn at once: the 外字, then each row's candidates
    eudc_pictures = _png(eudc.data, [eudc.glyph_id(r.char) for r in rows], "外字フォント")
    mj_pictures = iter(_png(mj.data, [mj.glyph_index(c[0]) for r in rows
                                      for c in r.candidates], "MJフォント"))
    for number, (row, picture) in enumerate(zip(rows, eudc_pictures, strict=True), 2):
        values: list[object] = [row.code, "", row.count]
        for name, codes, score in row.candidates:
            values += [_cell(name, codes, score), ""]
        sheet.append(values)
        sheet.row_dimensions[number].height = _PICTURE * 0.8
        anchors = [f"B{number}"] + [f"{openpyxl.utils.get_column_letter(5 + 2 * n)}{number}"
                                    for n in range(len(row.candidates))]
        for anchor, png in zip(anchors, [picture, *(next(mj_pictures) for _ in anchors[1:])],
                               strict=True):
            image = Picture(io.BytesIO(png))
            image.width = image.height = _PICTURE * 0.75
            sheet.add_image(image, anchor)
        for cell in sheet[number]:
            cell.alignment = wrap
        sheet.cell(number, 4 + 2 * k).fill = decide
    widths = {"A": 12, "B": 8, "C": 6}
    for n in range(k):
        widths[openpyxl.utils.get_column_letter(4 + 2 * n)] = 18
        widths[openpyxl.utils.get_column_letter(5 + 2 * n)] = 8
    widths[openpyxl.utils.get_column_letter(4 + 2 * k)] = 14
    widths[openpyxl.utils.get_column_letter(5 + 2 * k)] = 24
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("使い方")
    for line in NOTES_JA:
        notes.append([line])
    if found.missing:
        notes.append([])
        notes.append(["外字フォントにない外字(候補を出せません): " + ", ".join(found.missing)])
    notes.column_dimensions["A"].width = 120
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def page_bytes(found: Candidates, eudc: EudcFont, mj: EudcFont,
               counts: Mapping[str, int] | None = None) -> bytes:
    """The worksheet as one self-contained HTML page (UTF-8)."""
    rows = _rows(found, counts or {})
    k = max((len(r.candidates) for r in rows), default=0)
    head = "".join(f"<th>{candidate_column(n)}</th>" for n in range(1, k + 1))
    body = []
    for row in rows:
        cells = [f"<td class=code>{html.escape(row.code)}</td>",
                 f"<td class=glyph>{eudc.svg(row.char, 64) or '外字フォントにありません'}</td>",
                 f"<td class=count>{'' if row.count is None else row.count}</td>"]
        for n, (name, codes, score) in enumerate(row.candidates, 1):
            drawn = mj.glyph_svg(name, f"{name} {codes}", 64) or ""
            cells.append(f"<td class=cand><div class=num>{n}</div>{drawn}"
                         f"<div>{html.escape(name)}</div><div class=codes>"
                         f"{html.escape(codes)}</div><div class=score>{score:.3f}</div></td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    missing = ""
    if found.missing:
        missing = ("<p class=missing>外字フォントにない外字(候補を出せません): "
                   + html.escape(", ".join(found.missing)) + "</p>")
    notes = "".join(f"<li>{html.escape(line)}</li>" for line in NOTES_JA)
    page = f"""<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>文字同定の作業表</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #999; padding: 4px 8px; text-align: center; vertical-align: top; }}
th {{ background: #eee; position: sticky; top: 0; }}
td.code {{ font-family: monospace; vertical-align: middle; }}
td.glyph {{ background: #fff2cc; vertical-align: middle; }}
td.cand div {{ font-size: 12px; }}
td.cand .num {{ font-weight: bold; text-align: left; }}
.codes {{ font-family: monospace; color: #555; }}
.score {{ color: #555; }}
svg {{ fill: #000; }}
.missing {{ color: #b00; }}
</style></head><body>
<h1>文字同定の作業表</h1>
<ul>{notes}</ul>
{missing}
<table><thead><tr><th>コードポイント</th><th>外字</th><th>件数</th>{head}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table>
</body></html>
"""
    return page.encode("utf-8")


def write_worksheet(path: str | Path, found: Candidates, eudc: EudcFont, index: MjIndex,
                    counts: Mapping[str, int] | None = None) -> tuple[Path, Path]:
    """The 文字同定 worksheet: ``path`` (``.xlsx``, where staff decide) and the same rows
    as an HTML page beside it (``.html``), made whole first and then moved into place
    together. ``counts``: each 外字's count in the data (``U+E000`` → n), from an
    inventory. Returns both paths."""
    book, page = worksheet_paths(path)
    require()
    mj = load_eudc(index.path, index.data)  # (drawn from the bytes the index read)
    made = book_bytes(found, eudc, mj, counts), page_bytes(found, eudc, mj, counts)
    with OutputSet([book, page]) as (book_fh, page_fh):
        book_fh.write(made[0])
        page_fh.write(made[1])
    return book, page
