"""Layout import from item-list sheets: the columns vendors and J-LIS use, CP932 CSV and
.xlsx, rows that cannot be understood reported by number, and the imported layout reading
the file the sheet describes."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import chukan
from chukan.cli import main
from helpers import NOUZEI

#: the mainframe example's layout, as a vendor's 項目定義書 would give it (桁数 in digits
#: for the packed fields, as COBOL PIC S9(9) COMP-3 is written)
NOUZEI_SHEET = [
    ["項番", "項目名", "属性", "桁数", "小数", "開始位置", "必須"],
    ["1", "宛名番号", "9", "10", "", "1", "○"],
    ["2", "年度", "9", "4", "", "11", ""],
    ["3", "氏名カナ", "X", "30", "", "15", ""],
    ["4", "課税額", "P", "11", "", "45", ""],
]


def _csv(path: Path, rows: list[list[str]], encoding: str = "cp932") -> Path:
    path.write_bytes("\r\n".join(",".join(r) for r in rows).encode(encoding) + b"\r\n")
    return path


def test_a_cp932_sheet_becomes_the_layout_it_describes(tmp_path: Path) -> None:
    result = chukan.import_layout(_csv(tmp_path / "nouzei.csv", NOUZEI_SHEET), name="t/n")
    assert result.problems == []
    assert result.layout is not None
    fields = result.layout.kind().fields
    assert [(f.label, f.type, f.start, f.length) for f in fields] == [
        ("宛名番号", "digits", 1, 10), ("年度", "digits", 11, 4),
        ("氏名カナ", "text", 15, 30), ("課税額", "decimal", 45, 6)]
    assert fields[0].required and not fields[1].required
    assert fields[3].storage == "packed" and fields[2].chars == "halfwidth"
    # the same fields as the hand-written example, byte for byte where they overlap
    example = chukan.load_layout(NOUZEI).kind().fields
    assert [(f.start, f.length, f.storage) for f in example[:4]] == [
        (f.start, f.length, f.storage) for f in fields]


def test_rows_that_cannot_be_understood_are_reported_by_row(tmp_path: Path) -> None:
    rows = [*NOUZEI_SHEET[:3], ["3", "備考", "Q", "30", "", "15", ""],
            ["4", "課税額", "P", "十一", "", "45", ""], ["5", "予備", "X", "5", "", "99", ""]]
    result = chukan.import_layout(_csv(tmp_path / "bad.csv", rows), name="t/bad")
    assert result.problems == [
        "row 4 (備考): 属性 'Q' is not one of X, 9, N, S9, P or 文字/数値/日付; kept as filler",
        "row 5 (課税額): 桁数 '十一' is not a length; row left out",
        "row 6 (予備): 開始位置 99, but the fields before end at 44",
    ]


def test_columns_can_be_named_when_the_headers_differ(tmp_path: Path) -> None:
    rows = [["No", "データ項目", "型", "長さ(byte)"], ["1", "世帯番号", "文字列", "10"]]
    sheet = _csv(tmp_path / "s.csv", rows, encoding="utf-8")
    with pytest.raises(chukan.SheetError, match="--column"):
        chukan.import_layout(sheet, name="t/s")
    result = chukan.import_layout(sheet, name="t/s", columns={
        "label": "データ項目", "length": "長さ(byte)"})
    assert result.layout is not None
    assert [(f.label, f.type, f.length) for f in result.layout.kind().fields] == [
        ("世帯番号", "text", 10)]


def test_xlsx_sheet_and_the_cli(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    for row in NOUZEI_SHEET:
        book.active.append(row)  # type: ignore[union-attr]
    book.save(tmp_path / "nouzei.xlsx")
    out = tmp_path / "nouzei.toml"
    run = CliRunner().invoke(main, ["layout", "import", str(tmp_path / "nouzei.xlsx"),
                                    "-o", str(out), "--terminator", "none"])
    assert run.exit_code == 0, run.output
    layout = chukan.load_layout(out)
    assert [f.label for f in layout.kind().fields] == ["宛名番号", "年度", "氏名カナ", "課税額"]
    bad = CliRunner().invoke(main, ["layout", "import", str(tmp_path / "nouzei.xlsx"),
                                    "-o", str(out), "--column", "colour=色"])
    assert bad.exit_code == 2


@pytest.mark.parametrize(("attr", "chars"), [
    ("文字列", "any"), ("文字", "any"), ("半角", "halfwidth"), ("英数", "halfwidth"),
    ("半角カナ", "halfwidth"), ("X", "halfwidth"), ("全角", "fullwidth"),
    ("全角カナ", "fullwidth"), ("漢字", "fullwidth")])
def test_only_width_words_choose_a_width(tmp_path: Path, attr: str, chars: str) -> None:
    """An item list with 氏名 as 文字列 must not reject Japanese names (issue 8: 7)."""
    rows = [["項番", "項目名", "属性", "桁数"], ["1", "氏名", attr, "20"]]
    sheet = _csv(tmp_path / "s.csv", rows, encoding="utf-8")
    layout = chukan.import_layout(sheet, name="t/s", layout_format="csv",
                                  encoding="utf-8").layout
    assert layout is not None
    assert layout.fields[0].chars == chars
    if chars == "any":
        report = chukan.Report()
        chukan.read("氏名\r\n山田　太郎\r\n".encode(), layout, report=report)
        assert report.problems == []
