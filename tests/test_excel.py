"""CSV for Excel (issue 8, item 10): a byte-order mark, a header in labels, and the
formula guard, for `read -o x.csv` and convert's CSV targets; the guard is reversible."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import chukan
from chukan._formula import guard, unguard
from chukan.cli import main
from chukan.errors import UsageError
from chukan.layout import UTF8_BOM, load_layout
from helpers import FIXTURES, KOJIN

BOM = UTF8_BOM
FORMULA = "=HYPERLINK(1)"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _hostile_kojin(tmp_path: Path) -> Path:
    """The golden 住基 file with a 番地 that Excel would run as a formula."""
    df = chukan.read(FIXTURES / "vendor-a" / "juki-kojin.dat", KOJIN)
    df = df.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(FORMULA))
                         .otherwise(pl.col("banchi")).alias("banchi"))
    path = tmp_path / "hostile.dat"
    chukan.write(df, path, KOJIN)
    return path


def test_read_for_excel_and_write_back(tmp_path: Path) -> None:
    dat, csv, back = _hostile_kojin(tmp_path), tmp_path / "k.csv", tmp_path / "back.dat"
    code, out, err = run("read", str(dat), "-l", KOJIN, "-o", str(csv), "--bom",
                         "--header-labels", "--excel-safe")
    assert code == 0, out + err
    data = csv.read_bytes()
    assert data.startswith(BOM)
    assert data[len(BOM):].decode("utf-8").startswith("宛名番号,世帯番号,")
    assert f"'{FORMULA}".encode() in data
    assert b"\n" + FORMULA.encode() not in data and b"," + FORMULA.encode() not in data
    # what a program reads back with write --excel-safe is the same file
    code, out, err = run("write", str(csv), "-l", KOJIN, "-o", str(back), "--excel-safe")
    assert code == 0, out + err
    assert back.read_bytes() == dat.read_bytes()


def test_read_by_default_writes_plain_csv(tmp_path: Path) -> None:
    dat, csv = _hostile_kojin(tmp_path), tmp_path / "k.csv"
    assert run("read", str(dat), "-l", KOJIN, "-o", str(csv))[0] == 0
    data = csv.read_bytes()
    assert data.startswith(b"atena_no,") and f",{FORMULA},".encode() in data


def test_excel_options_are_for_csv(tmp_path: Path) -> None:
    code, _, err = run("read", str(FIXTURES / "vendor-a" / "juki-kojin.dat"), "-l", KOJIN,
                       "-o", str(tmp_path / "k.parquet"), "--bom")
    assert code == 2 and "CSV" in err
    with pytest.raises(UsageError, match="fixed-width"):
        load_layout(KOJIN).for_excel(bom=True)
    with pytest.raises(UsageError, match="UTF-8"):
        load_layout("examples/vendor-a/juki-kojin-csv").for_excel(bom=True)


def test_convert_for_excel(tmp_path: Path) -> None:
    dat, out = _hostile_kojin(tmp_path), tmp_path / "kihon.csv"
    code, stdout, err = run("convert", str(dat), "-m", "examples/vendor-a/kojin-to-kihon",
                            "-o", str(out), "--bom", "--header-labels", "--excel-safe")
    assert code == 0, stdout + err
    data = out.read_bytes()
    assert data.startswith(BOM)
    header = data[len(BOM):].split(b"\n", 1)[0].decode("utf-8")
    assert "宛名番号" in header and "atena_no" not in header
    assert f"'{FORMULA}".encode() in data
    manifest = json.loads(Path(f"{out}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["output_layout"] == {"name": "kihon/juki/kojin", "encoding": "utf-8-sig",
                                         "header_text": "label", "formula_guard": True}
    # the file reads back, through the same layout settings, to the plain conversion's
    plain = tmp_path / "plain.csv"
    assert run("convert", str(dat), "-m", "examples/vendor-a/kojin-to-kihon", "-o",
               str(plain))[0] == 0
    excel = load_layout("kihon/juki/kojin").for_excel(bom=True, labels=True, guard=True)
    report = chukan.Report()
    got = chukan.read(out, excel, report=report)
    assert report.ok, report.problems
    assert got.equals(chukan.read(plain, "kihon/juki/kojin"))
    assert any(FORMULA in str(v) for v in got.row(1))


def test_a_bare_formula_in_a_guarded_file_is_reported(tmp_path: Path) -> None:
    lay = load_layout("kihon/juki/kojin").for_excel(guard=True)
    plain = tmp_path / "plain.csv"
    run("convert", str(_hostile_kojin(tmp_path)), "-m", "examples/vendor-a/kojin-to-kihon",
        "-o", str(plain))
    report = chukan.Report()
    chukan.read(plain, lay, report=report)
    assert [p.code for p in report.problems] == ["noncanonical"]
    assert "'" in report.problems[0].message


TEXT = st.text(st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "a", "山"]), max_size=6)


@given(st.lists(TEXT | st.none(), max_size=8))
def test_the_guard_is_reversible_and_leaves_no_formula(values: list[str | None]) -> None:
    s = pl.Series(values, dtype=pl.String)
    guarded = pl.select(guard(pl.lit(s))).to_series()
    assert pl.select(unguard(pl.lit(guarded))).to_series().to_list() == values
    for value in guarded.drop_nulls():
        assert value[:1] not in ("=", "+", "-", "@", "\t", "\r")
