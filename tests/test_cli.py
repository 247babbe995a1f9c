"""The command line: conversions both ways, inspect, layouts, exit codes, and output that
survives a cp932 console."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from chukan.cli import main
from helpers import FIXTURES, KOJIN, ZENGIN

KOJIN_DAT = str(FIXTURES / "vendor-a" / "juki-kojin.dat")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_read_to_csv_and_write_back_gives_the_same_bytes(tmp_path: Path) -> None:
    csv, dat = tmp_path / "k.csv", tmp_path / "k.dat"
    code, out, _ = run("read", KOJIN_DAT, "--layout", KOJIN, "-o", str(csv))
    assert code == 0, out
    assert "5 records" in out
    assert pl.read_csv(csv, infer_schema=False)["atena_no"][0] == "0000000001"
    code, out, _ = run("write", str(csv), "--layout", KOJIN, "-o", str(dat))
    assert code == 0, out
    assert dat.read_bytes() == Path(KOJIN_DAT).read_bytes()


def test_read_to_parquet_and_back(tmp_path: Path) -> None:
    pq, dat = tmp_path / "k.parquet", tmp_path / "k.dat"
    assert run("read", KOJIN_DAT, "-l", KOJIN, "-o", str(pq))[0] == 0
    assert pl.read_parquet(pq).schema["seinengappi"] == pl.Date
    assert run("write", str(pq), "-l", KOJIN, "-o", str(dat))[0] == 0
    assert dat.read_bytes() == Path(KOJIN_DAT).read_bytes()


def test_bad_data_exits_1_and_says_where(tmp_path: Path) -> None:
    bad = str(FIXTURES / "bad" / "not-digits.dat")
    code, _, err = run("read", bad, "-l", KOJIN, "-o", str(tmp_path / "x.csv"))
    assert code == 1
    assert "record 2" in err and "宛名番号" in err and "not-digits" in err
    assert not (tmp_path / "x.csv").exists()
    code, _, err = run("read", bad, "-l", KOJIN, "-o", str(tmp_path / "x.csv"), "--lenient")
    assert code == 1
    assert "not-digits: 1" in err
    assert pl.read_csv(tmp_path / "x.csv", infer_schema=False).height == 3


def test_layout_errors_exit_2(tmp_path: Path) -> None:
    code, _, err = run("read", KOJIN_DAT, "-l", "no/such", "-o", str(tmp_path / "x.csv"))
    assert code == 2
    assert "no layout or table named 'no/such'" in err
    broken = tmp_path / "broken.toml"
    broken.write_text('[layout]\nname = "x"\nformat = "fixd"\n', encoding="utf-8")
    code, _, err = run("read", KOJIN_DAT, "-l", str(broken), "-o", str(tmp_path / "x.csv"))
    assert code == 2
    assert "did you mean 'fixed'" in err


def test_write_reports_overflow_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    rows = run("read", KOJIN_DAT, "-l", KOJIN, "-o", str(src))
    assert rows[0] == 0
    table = pl.read_csv(src, infer_schema=False).with_columns(
        pl.lit("山田" * 20).alias("shimei_kanji"))
    table.write_csv(src)
    code, _, err = run("write", str(src), "-l", KOJIN, "-o", str(tmp_path / "o.dat"))
    assert code == 1
    assert "width-overflow" in err
    assert not (tmp_path / "o.dat").exists()


def test_write_from_csv_never_rounds_a_number(tmp_path: Path) -> None:
    # the command cast the CSV's text to the layout's types itself, and Polars' cast
    # rounded 1.239 into a field of two places as 1.24, with nothing said
    layout = tmp_path / "l.toml"
    layout.write_text('[layout]\nname = "t"\nformat = "fixed"\nencoding = "cp932"\n'
                      'record_length = 6\n[[field]]\nname = "d"\nlabel = "金額"\nstart = 1\n'
                      'length = 6\ntype = "decimal"\nscale = 2\n', encoding="utf-8")
    src = tmp_path / "in.csv"
    src.write_text("金額\n1.239\n 2 \n", encoding="utf-8")
    out = tmp_path / "o.dat"
    code, _, err = run("write", str(src), "-l", str(layout), "-o", str(out))
    assert code == 1
    assert '"1.239": [not-decimal]' in err
    assert not out.exists()
    assert run("write", str(src), "-l", str(layout), "-o", str(out), "--lenient")[0] == 1
    assert out.read_bytes() == b"      \r\n000200\r\n"


def test_inspect_guesses_and_shows_field_boundaries() -> None:
    code, out, _ = run("inspect", KOJIN_DAT, "--layout", KOJIN, "-n", "1")
    assert code == 0
    assert "encoding: cp932" in out
    assert "terminator: crlf" in out
    assert "record length: 200 bytes × 5" in out
    assert "宛名番号" in out and "|0000000001|" in out


def test_inspect_multi_record_file() -> None:
    code, out, _ = run("inspect", str(FIXTURES / "zengin" / "kouza-furikae.dat"), "-l",
                       ZENGIN, "-n", "6")
    assert code == 0
    assert "[trailer]" in out and "[end]" in out


def test_layouts_lists_and_shows() -> None:
    code, out, _ = run("layouts")
    assert code == 0 and KOJIN in out and ZENGIN in out
    code, out, _ = run("layouts", KOJIN)
    assert code == 0
    assert "宛名番号" in out and "GYYMMDD" in out


def test_layouts_lists_every_kind_of_file_under_its_heading() -> None:
    code, out, _ = run("layouts")
    assert code == 0
    headings = ["レイアウト [layout]", "変換定義 [mapping]", "コード表 [code_table]",
                "コード対応表 [code_map]", "ファイル一式 [file_set]", "外字対応表 [gaiji_map]"]
    assert [out.index(h) for h in headings] == sorted(out.index(h) for h in headings)
    mapping_part = out[out.index("変換定義"):out.index("コード表 [")]
    assert "examples/vendor-a/kojin-to-kihon" in mapping_part
    code, out, _ = run("layouts", "--kind", "code_table")
    assert code == 0 and "codes/juki/zokugara" in out and KOJIN not in out


@pytest.mark.parametrize(("name", "shows"), [
    ("examples/vendor-a/kojin-to-kihon",  # a mapping: its rules, target ← source
     ["変換定義", "examples/vendor-a/juki-kojin → kihon/juki/kojin", "← atena_no | zero_fill"]),
    ("codes/juki/zokugara", ["コード表 codes/juki/zokugara", "02     世帯主"]),
    ("examples/vendor-a/zokugara-to-standard", ["コード対応表", "01     世帯主"]),
    ("examples/vendor-a/juki-set", ["ファイル一式", "file kojin", "check reference"]),
    ("examples/vendor-a/gaiji", ["外字対応表", "U+E000 → 𠮷"]),
])
def test_layouts_name_shows_any_kind_of_file(name: str, shows: list[str]) -> None:
    """Before, each of these was a misleading 'missing required key layout'."""
    code, out, err = run("layouts", name)
    assert code == 0, err
    for text in shows:
        assert text in out, out


def test_output_survives_a_cp932_console() -> None:
    """Windows consoles use cp932: characters it lacks (外字 here is fine, 𠮷 is not) must
    not crash the command."""
    env = {**os.environ, "PYTHONIOENCODING": "cp932"}
    bad_name = FIXTURES.parent / "tests" / "data-cp932-console.dat"
    try:
        bad_name.write_bytes(b"0000000001" + "𠮷".encode() + b"\n")
        layout = FIXTURES.parent / "tests" / "data-utf8.toml"
        layout.write_text('[layout]\nname = "t"\nformat = "fixed"\nencoding = "utf-8"\n'
                          'record_length = 14\nterminator = "lf"\n[[field]]\nname = "a"\n'
                          'length = 10\ntype = "digits"\n[[field]]\nname = "b"\nlength = 4\n'
                          'type = "text"\n', encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "chukan", "inspect", str(bad_name),
                               "-l", str(layout)], env=env, capture_output=True, check=False)
    finally:
        bad_name.unlink(missing_ok=True)
        (FIXTURES.parent / "tests" / "data-utf8.toml").unlink(missing_ok=True)
    assert done.returncode == 0, done.stderr.decode("cp932", "replace")
    assert b"0000000001" in done.stdout


def test_version_and_help() -> None:
    assert run("--version")[0] == 0
    code, out, _ = run("--help")
    assert code == 0 and "Exit codes" in out


def test_inspect_aligns_csv_columns_by_header(tmp_path: Path) -> None:
    df = pl.read_csv(FIXTURES / "vendor-a" / "juki-kojin.kihon.csv", infer_schema=False)
    src = tmp_path / "swapped.csv"
    src.write_bytes(df.select(df.columns[2], *df.columns[:2], *df.columns[3:])
                    .with_columns(pl.lit("x").alias("独自項目")).write_csv().encode("utf-8"))
    code, out, _ = run("inspect", str(src), "-l", "kihon/juki/kojin", "-n", "1")
    assert code == 0
    assert "columns the layout does not name: 独自項目" in out
    line = next(x for x in out.splitlines() if " atena_no " in x)
    assert line.endswith("|000000000000001|")


def test_inspect_shows_the_first_record_as_reading_takes_it(tmp_path: Path) -> None:
    """EF BB BF A1 is 鏤拭 in EUC-JP: inspect cut three bytes off it as a BOM, where the
    readers read it as text."""
    layout = tmp_path / "t.toml"
    layout.write_text('[layout]\nname = "t"\nformat = "fixed"\nencoding = "euc_jp"\n'
                      'terminator = "lf"\nrecord_length = 6\n[[field]]\nname = "a"\n'
                      'label = "氏名"\nlength = 6\ntype = "text"\n', encoding="utf-8")
    src = tmp_path / "x.dat"
    src.write_bytes("鏤拭  \n".encode("euc_jp"))
    code, out, _ = run("inspect", str(src), "-l", str(layout), "-n", "1")
    assert code == 0
    assert "鏤拭" in out


def test_inspect_recognises_a_host_file_and_cuts_its_mixed_and_graphic_fields() -> None:
    host = str(FIXTURES / "mainframe" / "juki-kojin-ibm930.dat")
    code, out, _ = run("inspect", host)
    assert code == 0
    assert "encoding: ibm930 (no line ends, 0x40 spaces, EBCDIC digits" in out
    assert "record length: 160 bytes? (the bytes repeat every 160, 4 records)" in out
    # the CP932 copy is not taken for EBCDIC
    _, out, _ = run("inspect", str(FIXTURES / "mainframe" / "juki-kojin.dat"))
    assert "ibm930" not in out
    assert "record length: 160 bytes?" in out
    code, out, _ = run("inspect", host, "--layout", "examples/mainframe/juki-kojin-ibm930",
                       "-n", "1")
    assert "|山田　太郎　　　　　　　|" in out
    assert "|１丁目１番１号    |" in out
    # a JEF host: its own shift codes, though packed numbers hold stray 0x0F bytes
    _, out, _ = run("inspect", str(FIXTURES / "mainframe" / "juki-kojin-jef.dat"))
    assert "encoding: jef (no line ends, 0x40 spaces, EBCDIC digits; 3 JEF KI/KO pairs" in out
