"""`chukan inspect` understands CSV, and `chukan layout infer` writes a layout from a data
file that reads it back without hand renaming (issue 8, item 6)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from click.testing import CliRunner

import chukan
from chukan._infer import infer_layout, sniff
from chukan.cli import main
from helpers import FIXTURES

KIHON = FIXTURES / "vendor-a" / "juki-kojin.kihon.csv"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout + result.stderr


def test_a_standard_export_gets_the_standard_names_and_reads_clean(tmp_path: Path) -> None:
    out = tmp_path / "town.toml"
    code, text = run("layout", "infer", str(KIHON), "-o", str(out))
    assert code == 0, text
    inferred = chukan.load_layout(out)
    shipped = chukan.load_layout("kihon/juki/kojin")
    assert [f.name for f in inferred.fields] == [f.name for f in shipped.fields]
    assert [f.label for f in inferred.fields] == [f.label for f in shipped.fields]
    dates = {f.name: f for f in inferred.fields if f.type == "date"}
    assert dates["seinengappi"].fumei_flag == "seinengappi_fumei"
    report = chukan.Report()
    frame = chukan.read(KIHON, inferred, report=report)
    assert report.problems == []
    assert frame["atena_no"][0] == "000000000000001"  # leading zeros kept


def test_any_header_gives_valid_unique_names_and_the_values_as_they_are(
        tmp_path: Path) -> None:
    source = tmp_path / "wide.csv"
    source.write_bytes(
        "自治体独自項目,独自項目2,Postal Code,2nd line,備考,金額,区分\r\n"
        "A1,x,0600001,ﾊｲﾂ,\"改行\r\nあり\",-1200,01\r\n"
        "B2,y,0600002,ﾒｿﾞﾝ,,300,02\r\n".encode("cp932"))
    text, shape, _ = infer_layout(source, "t/wide")
    assert (shape.encoding, shape.columns, shape.header) == ("cp932", 7, True)
    layout = chukan.loads_layout(text)
    names = [f.name for f in layout.fields]
    assert names == ["c01", "c02", "postal_code", "c_2nd_line", "biko", "c06", "c07"]
    assert [f.label for f in layout.fields][:2] == ["自治体独自項目", "独自項目2"]
    report = chukan.Report()
    frame = chukan.read(source, layout, report=report)
    assert [p for p in report.problems if p.severity == "error"] == []
    assert frame["postal_code"].to_list() == ["0600001", "0600002"]
    assert frame["c07"].to_list() == ["01", "02"]
    assert frame["c06"].to_list() == [-1200, 300]
    assert frame["biko"].to_list() == ["改行\r\nあり", None]


def test_a_header_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "twice.csv"
    source.write_bytes("番号,備考,備考\n1,a,b\n".encode())
    code, out = run("layout", "infer", str(source))
    assert code == 2 and "備考 more than once" in out


def test_a_column_the_guess_cannot_read_becomes_text(tmp_path: Path) -> None:
    source = tmp_path / "d.csv"
    source.write_bytes(b"id,day\n1,2020-01-31\n2,2020-13-45\n")
    text, _, guesses = infer_layout(source, "t/d")
    layout = chukan.loads_layout(text)
    assert layout.fields[1].type == "text"
    assert "文字列に" in guesses[1].note
    report = chukan.Report()
    chukan.read(source, layout, report=report)
    assert report.ok


def test_sniff_finds_the_delimiter_outside_quotes() -> None:
    shape = sniff(b'a\tb\tc\n"x,y,z"\t1\t2\n"p,q"\t3\t4\n')
    assert (shape.delimiter, shape.columns, shape.quoted) == ("\t", 3, True)
    shape = sniff(b"1,2,3\n4,5,6\n")
    assert not shape.header


def test_inspect_shows_the_csv_shape_and_a_guess_per_column(tmp_path: Path) -> None:
    source = tmp_path / "s.csv"
    source.write_bytes("番号;氏名;生年月日\n001;山田　太郎;1975-04-01\n".encode())
    code, out = run("inspect", str(source))
    assert code == 0
    assert "CSV: delimiter ';', 3 columns, header yes" in out
    lines = [x for x in out.splitlines() if x.strip().startswith(("1 ", "2 ", "3 "))]
    assert "digits" in lines[0] and "前ゼロあり" in lines[0]
    assert "text fullwidth" in lines[1] and "最大5文字/15バイト" in lines[1]
    assert "date YYYY-MM-DD" in lines[2]
    # the wide CSV a town sends, read the same way pl.read_csv reads its text
    wide = pl.read_csv(KIHON, infer_schema=False)
    assert wide.width == 20
