"""The shipped code tables (issue 8, item 19): every code from a public source that the
table names, no code invented, the meanings known to be missing said when a code is not
found; the standard layouts say why 届出日 and 世帯人数 stay out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import chukan
from chukan import LayoutError
from helpers import ROOT, kojin_records, put

TABLES = [e for e in chukan.catalogue("code_table") if not e.name.startswith("examples/")]


@pytest.mark.parametrize("entry", TABLES, ids=lambda e: e.name)
def test_every_shipped_table_names_a_public_source(entry: chukan.layout.Entry) -> None:
    table = chukan.load_code_table(entry.path)
    assert "https://" in table.source, table.source
    assert table.codes


def test_nothing_shipped_points_outside_the_repository() -> None:
    """Users have the package and its docs, not the project's working notes."""
    shipped = [*(ROOT / "layouts").rglob("*.toml"), *(ROOT / "docs").glob("*.md"),
               ROOT / "README.md"]
    for path in shipped:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"spec\.md|shared/reference|\.\./shared", text), path


def test_zokugara_names_the_relationships_whose_codes_are_not_public() -> None:
    table = chukan.load_code_table("codes/juki/zokugara")
    for meaning in ("孫", "子の妻", "祖父", "祖母"):
        assert meaning in table.missing
        assert meaning not in table.codes.values()  # never invented
    assert table.codes["02"] == "世帯主"


def test_an_unknown_code_says_which_meanings_the_table_lacks() -> None:
    layout = chukan.loads_layout(
        '[layout]\nname = "t"\nformat = "csv"\nencoding = "utf-8"\nterminator = "lf"\n'
        '[[field]]\nname = "zokugara"\nlabel = "続柄"\nlength = 2\ntype = "code"\n'
        'table = "codes/juki/zokugara"\n')
    report = chukan.Report()
    chukan.read(b"02\n31\n", layout, report=report)
    (problem,) = report.problems
    assert problem.code == "unknown-code" and problem.value == "31"
    assert "孫" in problem.message and "自治体のコード表で補ってください" in problem.message
    # a complete table says no more than before
    records = kojin_records()
    put(records[0], 89, b"77")
    found = chukan.validate([b"".join(records)], "examples/vendor-a/juki-kojin")
    message = next(p.message for p in found.problems if p.code == "unknown-code")
    assert "公開" not in message


def test_a_missing_meaning_that_has_a_code_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[code_table]\nname = "t"\nsource = "x"\n[code_table.codes]\n"1" = "男"\n'
                    '[code_table.missing]\n"男" = "somewhere"\n', encoding="utf-8")
    with pytest.raises(LayoutError, match="has a code"):
        chukan.load_code_table(path)


@pytest.mark.parametrize("layout", ["kihon/juki/kojin", "chukan/juki/kojin"])
def test_the_kojin_layouts_say_why_todokede_and_setai_ninzu_stay_out(layout: str) -> None:
    path = chukan.available_layouts()[layout]
    text = path.read_text(encoding="utf-8")
    assert "届出日" in text and "世帯人数" in text and "Left out on purpose" in text
    names = {f.label for f in chukan.load_layout(layout).fields}
    assert "世帯人数" not in names
