"""The municipality's 外字 font: read, drawn as SVG in the HTML report, and what it lacks
said. The fonts are made here with fontTools (no installed font is needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import chukan
from chukan.cli import main
from chukan.gaiji import decisions, glyphs_of, load_eudc, load_mj_font, write_eudc
from chukan.gaiji._mj import decided
from chukan.report import to_html
from helpers import mj_like_font

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


# --------------------------------------------------------------------------------------
# From decisions to conversion: a worksheet → a 外字 map, against an MJ-like font


def _mj_font(path: Path) -> Path:
    """A tiny IPAmj明朝-like font: glyphs named by MJ 文字図形名, 𠮷 beyond the BMP
    (format 12), and a variant of 辻 reached by an IVS (format 14)."""
    triangle = [[(100, 0), (100, 700), (700, 0)]]
    return mj_like_font(path, dict.fromkeys(["mj000001", "mj000002", "mj000003", "mj000004"],
                                            triangle),
                        {0x5409: "mj000001", 0x20BB7: "mj000002", 0x8FBB: "mj000003"},
                        [(0x8FBB, 0xE0101, "mj000004"), (0x5409, 0xE0100, None)], "MJ test")


def test_an_mj_font_gives_each_glyph_name_its_sequence(tmp_path: Path) -> None:
    mj = load_mj_font(_mj_font(tmp_path / "mj.ttf"))
    assert mj.sequence["mj000002"] == "\U00020bb7"
    assert mj.sequence["mj000004"] == "辻\U000e0101"  # the variant, by its IVS
    assert mj.sequence["mj000001"] == "吉\U000e0100"  # the default glyph, by its IVS too
    assert {"吉", "吉\U000e0100", "辻", "辻\U000e0101"} <= mj.drawn
    assert decided("MJ000002", mj) == "\U00020bb7"
    assert decided("U+8FBB U+E0101", mj) == decided("U+8FBB_U+E0101", mj) == "辻\U000e0101"
    assert decided("吉", mj) == "吉"
    for wrong in ("mj999999", "U+9AD9", "髙", "U+8FBB U+E0102"):
        with pytest.raises(chukan.UsageError, match="MJフォントにない"):
            decided(wrong, mj)
    with pytest.raises(chukan.UsageError, match="Unicode にない"):
        decided("U+FFFFFF", mj)
    with pytest.raises(chukan.UsageError, match="IPAmj明朝が見つかりません"):
        find_mj_font_in(tmp_path)


def test_the_real_ipamj_mincho_names_its_glyphs_and_their_ivs() -> None:
    """IPAmj明朝 as Debian installs it (.ci/run installs fonts-ipamj-mincho): found
    without a path, its MJ 文字図形名 read with their code points and IVS."""
    mj = load_mj_font()
    assert len(mj.sequence) > 59_000
    assert mj.sequence["mj030244"] == "侮\U000e0103"
    assert mj.sequence["mj028902"] == "髙"
    assert mj.sequence["mj025760"] == "辻\U000e0102"
    assert decided("U+8FBB U+E0102", mj) == decided("mj025760", mj)


def find_mj_font_in(folder: Path) -> Path:
    """The lookup with none of the usual places present."""
    from chukan.gaiji import _mj  # noqa: PLC0415

    places = _mj.MJ_FONT_PLACES
    _mj.MJ_FONT_PLACES = (str(folder / "none.ttf"),)
    try:
        return _mj.find_mj_font()
    finally:
        _mj.MJ_FONT_PLACES = places


def _sheet(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("コードポイント,決定,メモ\n" + "".join(f"{a},{b},\n" for a, b in rows),
                    encoding="utf-8-sig")
    return path


def test_the_whole_round_from_inventory_to_conversion_and_back(tmp_path: Path) -> None:
    """validate's inventory → a worksheet with the decision → ``chukan gaiji map`` → the
    mapping's 外字 map: convert writes the chosen 辻 with its IVS for the vendor's F040
    (the shipped example map says 𠮷: this one is the sheet's), and --reverse gives back
    the original bytes."""
    import json  # noqa: PLC0415
    import shutil  # noqa: PLC0415

    mj = _mj_font(tmp_path / "mj.ttf")
    result = CliRunner().invoke(main, ["validate", KOJIN[0], "-l", KOJIN[1], "--format",
                                       "json"])
    inventory = json.loads(result.stdout)["gaiji"]
    assert [g["code_point"] for g in inventory] == ["U+E000"]
    sheet = _sheet(tmp_path / "sheet.csv", [(inventory[0]["code_point"], "mj000004")])
    work = tmp_path / "work"
    work.mkdir()
    result = CliRunner().invoke(main, ["gaiji", "map", str(sheet), "-o",
                                       str(work / "gaiji.toml"), "--mj-font", str(mj)])
    assert result.exit_code == 0, result.output
    assert '"U+E000" = "辻\\U000e0101"' in (work / "gaiji.toml").read_text(encoding="utf-8")
    shipped = Path(chukan.__file__).parent / "layouts/examples/vendor-a"
    for name in ("kojin-to-chukan.toml", "zokugara-to-standard.toml"):  # not its 外字 map
        shutil.copy(shipped / name, work / name)
    mapping = work / "kojin-to-chukan.toml"
    out = tmp_path / "kojin.csv"
    result = CliRunner().invoke(main, ["convert", KOJIN[0], "-m", str(mapping), "-o",
                                       str(out)])
    assert result.exit_code == 0, result.output
    written = out.read_text(encoding="utf-8")
    assert "辻\U000e0101" in written and "\U00020bb7" not in written
    back = tmp_path / "back.dat"
    result = CliRunner().invoke(main, ["convert", str(out), "-m", str(mapping), "--reverse",
                                       "-o", str(back)])
    assert result.exit_code == 0, result.output
    assert back.read_bytes() == Path(KOJIN[0]).read_bytes()


def test_gaiji_map_lists_what_is_undecided_and_refuses_what_the_font_lacks(
        tmp_path: Path) -> None:
    mj = str(_mj_font(tmp_path / "mj.ttf"))
    sheet = _sheet(tmp_path / "s.csv", [("U+E000", "U+8FBB U+E0101"), ("U+E001", ""),
                                        ("U+E002", " ")])
    out = tmp_path / "gaiji.toml"
    result = CliRunner().invoke(main, ["gaiji", "map", str(sheet), "-o", str(out),
                                       "--mj-font", mj])
    assert result.exit_code == 1  # work left: never guessed
    assert "決定のない外字(対応表に入れていません): U+E001, U+E002" in result.stderr
    assert '"U+E000" = "辻\\U000e0101"' in out.read_text(encoding="utf-8")
    bad = _sheet(tmp_path / "b.csv", [("U+E000", "mj999999"), ("E001", "吉"),
                                      ("U+E002", "U+9AD9")])
    out.unlink()
    result = CliRunner().invoke(main, ["gaiji", "map", str(bad), "-o", str(out),
                                       "--mj-font", mj])
    assert result.exit_code == 2 and not out.exists()
    for said in ("2行目 U+E000: mj999999: MJフォントにない文字図形名です",
                 "3行目: コードポイント 'E001' は U+XXXX ではありません",
                 "4行目 U+E002: U+9AD9: MJフォントにない文字です"):
        assert said in result.stderr


@pytest.mark.parametrize(("name", "content", "said"), [
    ("s.xlsx", b"not a workbook", "xlsx として読めません"),
    ("s.csv", b"\xff\xfe\x00\x81", "UTF-8 でも CP932 でも読めません"),
    ("s.csv", "コードポイント,決定\nU+FFFFFF,吉\n".encode(), "U+XXXX ではありません"),
    ("s.csv", b"a,b\n1,2\n", "列「コードポイント」と「決定」が必要です"),
])
def test_a_sheet_that_cannot_be_read_is_refused_clearly(tmp_path: Path, name: str,
                                                        content: bytes, said: str) -> None:
    (tmp_path / name).write_bytes(content)
    result = CliRunner().invoke(main, ["gaiji", "map", str(tmp_path / name), "-o",
                                       str(tmp_path / "g.toml"), "--mj-font",
                                       str(_mj_font(tmp_path / "mj.ttf"))])
    assert result.exit_code == 2 and said in result.stderr, result.output
    assert not (tmp_path / "g.toml").exists()


def test_a_worksheet_may_be_xlsx(tmp_path: Path) -> None:
    import openpyxl  # noqa: PLC0415

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["コードポイント", "決定"])
    sheet.append(["U+E000", "mj000004"])
    sheet.append(["U+E001", None])
    book.save(tmp_path / "s.xlsx")
    found = decisions(tmp_path / "s.xlsx", load_mj_font(_mj_font(tmp_path / "mj.ttf")))
    assert found.chars == {"\ue000": "辻\U000e0101"} and found.undecided == ["U+E001"]
