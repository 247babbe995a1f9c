"""The municipality's 外字 font: read, drawn as SVG in the HTML report, and what it lacks
said. The fonts are made here with fontTools (no installed font is needed)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

import chukan
from chukan.cli import main
from chukan.gaiji import glyphs_of, load_eudc, write_eudc
from chukan.report import to_html

if TYPE_CHECKING:
    from pathlib import Path

KOJIN = ("fixtures/vendor-a/juki-kojin.dat", "examples/vendor-a/juki-kojin")  # holds U+E000
SQUARE = [[(100, 0), (100, 800), (900, 800), (900, 0)]]
TWO_BARS = [[(100, 0), (100, 800), (300, 800), (300, 0)], [(600, 0), (600, 800), (800, 800),
                                                           (800, 0)]]


def test_a_font_gives_its_private_glyphs_as_paths(tmp_path: Path) -> None:
    font = load_eudc(write_eudc(tmp_path / "eudc.ttf", {0xE000: SQUARE, 0xE001: TWO_BARS,
                                                        0xE002: [], 0x41: SQUARE}))
    assert font.private == [0xE000, 0xE001, 0xE002]  # not the Latin A
    assert font.path_data("\ue000") == "M100 896V96H900V896Z"  # y down from the ascent
    assert font.path_data("\ue001") is not None and font.path_data("\ue001").count("M") == 2
    assert font.path_data("\ue002") is None  # an empty glyph is no glyph
    assert font.svg("\ue003") is None
    svg = font.svg("\ue000", size=32)
    assert svg is not None and svg.startswith("<svg") and 'width="32"' in svg
    assert "<title>U+E000</title>" in svg and 'viewBox="0 0 1024 1024"' in svg


def test_the_html_report_draws_each_gaiji_from_the_font(tmp_path: Path) -> None:
    report = chukan.validate([KOJIN[0]], KOJIN[1])
    assert list(report.gaiji) == ["\ue000"]
    font = load_eudc(write_eudc(tmp_path / "eudc.ttf", {0xE000: SQUARE}))
    page = to_html(report, glyphs=glyphs_of(report, font))
    row = re.search(r"<tr><td class='glyph'>(<svg.*?</svg>)</td><td>\ue000</td>", page)
    assert row is not None and 'd="M100 896V96H900V896Z"' in row.group(1)
    assert "字形は外字フォントから描いています。" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # one file


def test_a_gaiji_the_font_lacks_is_said_missing_not_drawn_blank(tmp_path: Path) -> None:
    report = chukan.validate([KOJIN[0]], KOJIN[1])
    font = load_eudc(write_eudc(tmp_path / "eudc.ttf", {0xE001: SQUARE, 0xE000: []}))
    page = to_html(report, glyphs=glyphs_of(report, font))
    assert "<td class='ng'>外字フォントにありません</td><td>\ue000</td>" in page
    assert "フォントにない外字: 1字" in page and "class='glyph'" not in page
    assert "<th>字形</th>" not in to_html(report)  # without a font, no column


def test_cli_validate_with_a_font(tmp_path: Path) -> None:
    font = write_eudc(tmp_path / "EUDC.TTE", {0xE000: SQUARE})
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["validate", KOJIN[0], "-l", KOJIN[1], "--format",
                                       "html", "-o", str(out), "--eudc", str(font)])
    assert result.exit_code == 0, result.output
    assert "<td class='glyph'><svg" in out.read_text(encoding="utf-8")
    lacking = write_eudc(tmp_path / "other.ttf", {0xE005: SQUARE})
    result = CliRunner().invoke(main, ["validate", KOJIN[0], "-l", KOJIN[1], "--eudc",
                                       str(lacking)])
    assert result.exit_code == 0
    assert "外字1字のうち0字の字形があります。フォントにない外字: U+E000" in result.stderr


@pytest.mark.parametrize("content", [b"", b"not a font at all", b"\x00\x01\x00\x00" * 8])
def test_a_file_that_is_no_font_is_refused_clearly(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "EUDC.TTE"
    bad.write_bytes(content)
    with pytest.raises(chukan.UsageError, match="外字フォントとして読めません"):
        load_eudc(bad)
    result = CliRunner().invoke(main, ["validate", KOJIN[0], "-l", KOJIN[1], "--eudc",
                                       str(bad)])
    assert result.exit_code == 2 and "外字フォントとして読めません" in result.stderr
