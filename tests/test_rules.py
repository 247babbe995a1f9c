"""More steps and rules (issue 8, item 12): a split on a given separator, and rules that
apply when a source field has given values (外国人住民's names go to the romaji field,
日本人's to 氏 and 名), both forward and backward exactly."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

import chukan
from chukan import LayoutError, NotInvertibleError

SOURCE = """
[layout]
name = "t/person"
format = "csv"
encoding = "utf-8"
terminator = "lf"
header = true
[[field]]
name = "kubun"
label = "住民区分"
length = 1
type = "code"
[[field]]
name = "shimei"
label = "氏名"
length = 40
type = "text"
[[field]]
name = "addr"
length = 40
type = "text"
"""
TARGET = """
[layout]
name = "t/std"
format = "csv"
encoding = "utf-8"
terminator = "lf"
header = true
[[field]]
name = "shubetsu"
length = 1
type = "code"
[[field]]
name = "shi"
length = 20
type = "text"
[[field]]
name = "mei"
length = 20
type = "text"
[[field]]
name = "romaji"
length = 40
type = "text"
[[field]]
name = "banchi"
length = 20
type = "text"
[[field]]
name = "katagaki"
length = 20
type = "text"
"""
JAPANESE = '{ field = "kubun", in = ["1", "3"] }'
FOREIGN = '{ field = "kubun", not_in = ["1", "3"] }'
CODES = """
[code_map]
name = "t/kubun"
[code_map.codes]
"1" = "1"
"2" = "2"
"3" = "3"
"4" = "4"
"""


def _mapping(folder: Path, *, japanese: str = JAPANESE, foreign: str = FOREIGN,
             separator: str = '" "', kubun_map: bool = False, extra: str = "") -> Path:
    (folder / "person.toml").write_text(SOURCE, encoding="utf-8")
    (folder / "std.toml").write_text(TARGET, encoding="utf-8")
    (folder / "kubun.toml").write_text(CODES, encoding="utf-8")
    path = folder / "map.toml"
    path.write_text(f"""
[mapping]
name = "t/map"
source = "person.toml"
target = "std.toml"
[[rule]]
target = "shubetsu"
source = "kubun"
{'code_map = "kubun.toml"' if kubun_map else ""}
[[rule]]
target = "shi"
source = "shimei"
steps = ["first_part"]
when = {japanese}
[[rule]]
target = "mei"
source = "shimei"
steps = ["rest_part"]
when = {japanese}
[[rule]]
target = "romaji"
source = "shimei"
when = {foreign}
[[rule]]
target = "banchi"
source = "addr"
steps = ["first_part"]
separator = {separator}
[[rule]]
target = "katagaki"
source = "addr"
steps = ["rest_part"]
separator = {separator}
{extra}
""", encoding="utf-8")
    return path


PEOPLE = ("kubun,shimei,addr\n"
          "1,山田　太郎,1-2-3 ハイツ101\n"
          "2,SMITH JOHN,4-5 Maple House 2F\n"
          "3,佐藤　花子,6-7-8\n")


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_names_go_where_the_condition_says_and_come_back(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path)
    source = tmp_path / "in.csv"
    source.write_bytes(PEOPLE.encode())
    out = tmp_path / "std.csv"
    result = chukan.convert(source, mapping, out)
    assert (result.records_out, result.records_rejected) == (3, 0)
    rows = _rows(out)
    assert [(r["shi"], r["mei"], r["romaji"]) for r in rows] == [
        ("山田", "太郎", ""), ("", "", "SMITH JOHN"), ("佐藤", "花子", "")]
    # the address split on a half-width space, not U+3000
    assert [(r["banchi"], r["katagaki"]) for r in rows] == [
        ("1-2-3", "ハイツ101"), ("4-5", "Maple House 2F"), ("6-7-8", "")]
    back = tmp_path / "back.csv"
    result = chukan.convert(out, mapping, back, reverse=True)
    assert (result.records_out, result.records_rejected) == (3, 0)
    assert back.read_bytes() == source.read_bytes()


def test_conditions_run_back_through_the_code_map_of_their_field(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, kubun_map=True)
    source = tmp_path / "in.csv"
    source.write_bytes(PEOPLE.encode())
    out, back = tmp_path / "std.csv", tmp_path / "back.csv"
    chukan.convert(source, mapping, out)
    chukan.convert(out, mapping, back, reverse=True)
    assert back.read_bytes() == source.read_bytes()


def test_a_value_no_condition_takes_is_rejected_not_lost(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, foreign='{ field = "kubun", equals = "2" }')
    source = tmp_path / "in.csv"
    source.write_bytes((PEOPLE + "4,LEE ANNA,9\n").encode())
    out = tmp_path / "std.csv"
    result = chukan.convert(source, mapping, out)
    assert (result.records_out, result.records_rejected) == (3, 1)
    assert dict(result.rejects_by_reason) == {"unrouted": 1}
    (reject,) = _rows(result.rejects)
    assert reject["record"] == "4" and "shimei" in reject["fields"]


def test_a_fallback_beside_conditions_does_not_run_backwards(tmp_path: Path) -> None:
    fallback = '[[rule]]\ntarget = "romaji"\nconstant = ""\n'
    mapping = _mapping(tmp_path, extra=fallback * 2)
    with pytest.raises(LayoutError, match="without a when"):
        chukan.load_mapping(mapping)
    mapping = _mapping(tmp_path, foreign='{ field = "kubun", equals = "2" }',
                       extra="")
    text = mapping.read_text(encoding="utf-8").replace(
        'target = "romaji"\nsource = "shimei"\nwhen = { field = "kubun", equals = "2" }',
        'target = "romaji"\nsource = "shimei"\nwhen = { field = "kubun", equals = "2" }\n'
        '[[rule]]\ntarget = "romaji"\nsource = "addr"')
    mapping.write_text(text, encoding="utf-8")
    source = tmp_path / "in.csv"
    source.write_bytes(PEOPLE.encode())
    out = tmp_path / "std.csv"
    chukan.convert(source, mapping, out)  # forward: the fallback fills the other records
    assert [r["romaji"] for r in _rows(out)] == ["1-2-3 ハイツ101", "SMITH JOHN", "6-7-8"]
    with pytest.raises(NotInvertibleError, match="fallback"):
        chukan.convert(out, mapping, tmp_path / "back.csv", reverse=True)


def test_a_condition_the_target_cannot_check_is_refused_backwards(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path)
    text = mapping.read_text(encoding="utf-8").replace(
        'target = "shubetsu"\nsource = "kubun"', 'target = "shubetsu"\nconstant = "1"')
    mapping.write_text(text, encoding="utf-8")
    source = tmp_path / "in.csv"
    source.write_bytes(PEOPLE.encode())
    out = tmp_path / "std.csv"
    chukan.convert(source, mapping, out)
    with pytest.raises(NotInvertibleError, match="kubun in \\[1, 3\\]"):
        chukan.convert(out, mapping, tmp_path / "back.csv", reverse=True)


@pytest.mark.parametrize(("when", "message"), [
    ('{ field = "kubn", in = ["1"] }', "did you mean 'kubun'"),
    ('{ field = "kubun" }', "exactly one of equals, in and not_in"),
    ('{ field = "kubun", in = [1] }', "codes as strings"),
    ('{ field = "kubun", is = ["1"] }', "unknown key"),
])
def test_a_wrong_condition_is_a_load_error(tmp_path: Path, when: str, message: str) -> None:
    with pytest.raises(LayoutError, match=message):
        chukan.load_mapping(_mapping(tmp_path, japanese=when))


def test_a_separator_needs_a_split_step(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, extra="")
    text = mapping.read_text(encoding="utf-8").replace(
        'target = "shubetsu"\nsource = "kubun"',
        'target = "shubetsu"\nsource = "kubun"\nseparator = "-"')
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(LayoutError, match="only for the steps first_part"):
        chukan.load_mapping(mapping)
