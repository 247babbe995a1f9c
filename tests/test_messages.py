"""Messages a clerk can act on (issue 8, item 15): the value as text with its bytes
after it, the first column where a CSV header departs from the layout, and layout
errors that name a field by its label and 1-based position."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from chukan.cli import main
from chukan.errors import LayoutError
from chukan.layout import loads_layout
from helpers import FIXTURES, KOJIN, kojin_records, put

KOJIN_CSV = FIXTURES / "vendor-a" / "juki-kojin.csv"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout + result.stderr


def test_the_console_shows_the_value_as_text_then_its_bytes(tmp_path: Path) -> None:
    records = kojin_records()
    put(records[1], 89, b"99")  # 続柄 99: not in the code table
    path = tmp_path / "k.dat"
    path.write_bytes(b"".join(records))
    code, out = run("validate", str(path), "-l", KOJIN)
    assert code == 1
    line = next(x for x in out.splitlines() if "[unknown-code]" in x)
    assert '続柄 (zokugara) の値 "99": [unknown-code]' in line, line
    assert line.endswith("(39 39)"), line
    assert "raw" not in line
    code, out = run("validate", str(path), "-l", KOJIN, "--mask")
    line = next(x for x in out.splitlines() if "[unknown-code]" in x)
    assert '"99"' not in line and "39 39" not in line, line


def test_csv_header_names_the_first_differing_column(tmp_path: Path) -> None:
    rows = KOJIN_CSV.read_bytes().decode("cp932").split("\r\n")
    header = rows[0].split(",")
    header[1] = "氏 名"
    rows[0] = ",".join(header)
    path = tmp_path / "a.csv"
    path.write_bytes("\r\n".join(rows).encode("cp932"))
    code, out = run("validate", str(path), "-l", "examples/vendor-a/juki-kojin-csv")
    assert code == 1
    assert '2列目 "氏 名"(レイアウトでは "氏名" shimei_kanji)' in out, out
    assert '見出し行' not in out or '"宛名番号,氏 名,' in out


def test_layout_errors_name_the_label_and_position() -> None:
    with pytest.raises(LayoutError) as info:
        loads_layout("""
[layout]
name = "x"
format = "fixed"
encoding = "cp932"
record_length = 10
[[field]]
name = "atena_no"
label = "宛名番号"
length = 5
type = "digits"
[[field]]
name = "shimei"
label = "氏名"
length = 5
type = "txt"
""")
    assert str(info.value.problems[0]).startswith(
        "<string>: 2番目「氏名」(shimei) field[1].type: unknown field type 'txt'")
