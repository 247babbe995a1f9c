"""Loading layouts: the shipped ones, lookup rules, and every problem at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import chukan
from chukan import LayoutError, LayoutNotFoundError, load_layout, loads_layout
from chukan.layout import available_layouts, search_path
from helpers import KOJIN, KOJIN_CSV, NOUZEI, ZENGIN

HEAD = """
[layout]
name = "t/x"
format = "fixed"
encoding = "cp932"
record_length = 10
terminator = "crlf"
"""


def problems(text: str) -> list[str]:
    with pytest.raises(LayoutError) as info:
        loads_layout(text)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("name", [KOJIN, NOUZEI, ZENGIN, KOJIN_CSV, "chukan/juki/kojin",
                                  "kihon/juki/kojin"])
def test_shipped_layouts_load(name: str) -> None:
    layout = load_layout(name)
    assert layout.name == name
    if layout.format == "fixed":
        for kind in layout.kinds:
            assert sum(f.length for f in kind.fields) == layout.record_length


def test_available_layouts_lists_the_shipped_ones() -> None:
    found = available_layouts()
    assert {KOJIN, NOUZEI, ZENGIN, KOJIN_CSV} <= set(found)


def test_start_follows_the_previous_field() -> None:
    layout = load_layout(KOJIN)
    assert [f.start for f in layout.fields[:4]] == [1, 11, 21, 51]


def test_every_problem_is_reported_at_once_with_hints() -> None:
    found = problems(HEAD + """
[[field]]
name = "a"
length = 4
type = "digit"
lenght = 4

[[field]]
name = "b"
label = "氏名"
length = 6
type = "text"
chars = "fulwidth"
""")
    assert found == [
        "<string>: 1番目(a) field[0].lenght: unknown key (did you mean 'length'?)",
        "<string>: 1番目(a) field[0].type: unknown field type 'digit' (did you mean 'digits'?)",
        "<string>: 2番目「氏名」(b) field[1].chars: unknown character class 'fulwidth' (did "
        "you mean 'fullwidth'?)",
    ]


def test_overlap_gap_and_overrun_are_errors() -> None:
    found = problems(HEAD + """
[[field]]
name = "a"
start = 1
length = 4
type = "digits"
[[field]]
name = "b"
start = 3
length = 2
type = "digits"
[[field]]
name = "c"
start = 8
length = 5
type = "digits"
""")
    assert any("field[1].start: overlaps the previous field" in p for p in found)
    assert any("field[2].start: gap of 3 byte(s)" in p for p in found)
    assert any("fields run to byte 12, past record_length 10" in p for p in found)


def test_unknown_top_level_and_layout_keys() -> None:
    found = problems(HEAD.replace('terminator = "crlf"', 'terminator = "crlf"\nencodng = "x"')
                     + '[[field]]\nname = "a"\nlength = 10\ntype = "digits"\n[extra]\n')
    assert "<string>: layout.encodng: unknown key (did you mean 'encoding'?)" in found
    assert "<string>: (top).extra: unknown key" in found


@pytest.mark.parametrize(("encoding", "delimiter", "quote", "said"), [
    ("cp932", "\\n", '\\"', "layout.delimiter: '\\n' is a line end"),
    ("cp932", "\\r", '\\"', "layout.delimiter: '\\r' is a line end"),
    ("cp932", "\\u0000", '\\"', "layout.delimiter: '\\x00' is a line end or NUL"),
    ("cp932", ",", "\\n", "layout.quote: '\\n' is a line end or NUL"),
    ("cp932", "\\u0001", '\\"', None),  # Hive's delimiter (found by a review)
    ("utf-8", "\\u001f", "\\t", None),
    ("utf-8", ",", ",", "layout.quote: the same character as the delimiter (',')"),
    ("cp932", ",", "`", "layout.quote: '`' (0x60) is the second byte of some cp932"),
    ("shift_jis", ";", "|", "layout.quote: '|' (0x7C) is the second byte of some"),
    ("utf-8", ",", "`", None),  # (no UTF-8 character has an ASCII byte)
    ("cp932", "\\t", "'", None),
    ("cp932", "|", '\\"', None),  # a delimiter is read character by character
])
def test_a_csv_delimiter_and_quote_that_cannot_be_read_are_layout_errors(
        encoding: str, delimiter: str, quote: str, said: str | None) -> None:
    """A line end or NUL, the delimiter's own character as the quote, or a quote that
    CP932 characters end with (found by reviews: each loaded, then read files as
    nonsense)."""
    text = (f'[layout]\nname = "t"\nformat = "csv"\nencoding = "{encoding}"\n'
            f'delimiter = "{delimiter}"\nquote = "{quote}"\n'
            '[[field]]\nname = "a"\nlength = 4\ntype = "text"\n')
    if said is None:
        loads_layout(text)
        return
    (found,) = problems(text)
    assert said in found


def test_type_specific_keys_are_checked() -> None:
    found = problems(HEAD + """
[[field]]
name = "a"
length = 7
type = "date"
format = "GYYMMDD"
[[field]]
name = "b"
length = 3
type = "digits"
scale = 2
""")
    assert any("field[0].eras: missing required key" in p for p in found)
    assert any("field[1].scale: only for decimal fields" in p for p in found)


def test_date_width_must_match_its_format() -> None:
    found = problems(HEAD + '[[field]]\nname = "d"\nlength = 10\ntype = "date"\n'
                            'format = "YYYYMMDD"\n')
    assert any("format YYYYMMDD takes 8 bytes" in p for p in found)


def test_missing_code_table_is_named() -> None:
    found = problems(HEAD + '[[field]]\nname = "c"\nlength = 10\ntype = "code"\n'
                            'table = "no/such/table"\n')
    assert any("field[0].table: no code table named 'no/such/table'" in p for p in found)


def test_names_must_be_ascii_identifiers_and_unique() -> None:
    found = problems(HEAD + '[[field]]\nname = "宛名"\nlength = 5\ntype = "digits"\n'
                            '[[field]]\nname = "宛名"\nlength = 5\ntype = "digits"\n')
    assert any("is not an ASCII identifier" in p for p in found)
    assert any("duplicate field name" in p for p in found)


def test_csv_layout_rejects_fixed_only_keys() -> None:
    found = problems("""
[layout]
name = "c"
format = "csv"
encoding = "cp932"
record_length = 10
[[field]]
name = "a"
start = 1
length = 3
type = "decimal"
storage = "packed"
""")
    assert any("layout.record_length: only for fixed layouts" in p for p in found)
    assert any("field[0].start: only for fixed layouts" in p for p in found)
    assert any("packed decimals exist only in fixed layouts" in p for p in found)


def test_multi_record_layout_checks_kinds() -> None:
    found = problems(HEAD + """
record_type = { start = 1, length = 1 }
[[record]]
name = "h"
match = "1"
  [[record.field]]
  name = "k"
  length = 10
  type = "code"
[[record]]
name = "t"
match = "1"
  [[record.field]]
  name = "k"
  start = 2
  length = 9
  type = "integer"
  counts = "dat"
""".replace("[layout]\n", "[layout]\n", 1).replace('terminator = "crlf"\n',
                                                     'terminator = "crlf"\n', 1))
    assert any("record[1].match: same value as record 'h'" in p for p in found)
    assert any("counts: no record kind named 'dat'" in p for p in found)


def test_not_found_lists_where_it_looked() -> None:
    with pytest.raises(LayoutNotFoundError) as info:
        load_layout("vendor-z/nothing")
    assert info.value.code == "layout-not-found"
    assert any("layouts" in s for s in info.value.searched)


def test_chukan_layout_path_is_searched_and_tables_resolve_beside_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "city").mkdir()
    (tmp_path / "city" / "kojin.toml").write_text(HEAD.replace('"t/x"', '"city/kojin"') + """
[[field]]
name = "sex"
length = 10
type = "code"
table = "sex"
""", encoding="utf-8")
    (tmp_path / "city" / "sex.toml").write_text(
        '[code_table]\nname = "sex"\n[code_table.codes]\n"1" = "男"\n', encoding="utf-8")
    monkeypatch.setenv("CHUKAN_LAYOUT_PATH", str(tmp_path))
    layout = load_layout("city/kojin")
    assert layout.fields[0].table is not None
    assert dict(layout.fields[0].table.codes) == {"1": "男"}
    assert "city/kojin" in chukan.available_layouts()


def test_layout_model_is_frozen() -> None:
    layout = load_layout(KOJIN)
    with pytest.raises(AttributeError):
        layout.name = "other"  # type: ignore[misc]
    assert layout.fields[0].display_name == "宛名番号 (atena_no)"


def test_era_tables_must_fit_the_format() -> None:
    found = problems(HEAD + '[[field]]\nname = "d"\nlength = 8\ntype = "date"\n'
                            'format = "GGYYMMDD"\neras = "eras/1digit"\n'
                            '[[field]]\ntype = "filler"\nlength = 2\n')
    assert any("era code '1' must be 2 digit(s) for GGYYMMDD" in p for p in found)


@pytest.mark.parametrize("name", ["chukan/juki/kojin", "kihon/juki/kojin"])
def test_reconstructed_standard_layouts_say_so(name: str) -> None:
    layout = load_layout(name)
    assert "再構成" in layout.title
    assert layout.sources
    text = layout.path.read_text(encoding="utf-8") if layout.path else ""
    assert "RECONSTRUCTION" in text and "[I]" in text


def test_shipped_code_tables_name_their_source() -> None:
    root = search_path()[-1]  # the shipped layouts
    tables = [p for p in root.rglob("*.toml") if "[code_table]" in p.read_text(encoding="utf-8")]
    assert len(tables) >= 8
    for path in tables:
        table = chukan.load_code_table(path)
        assert table.source, path


def test_docs_list_every_problem_code() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "layouts.md").read_text(encoding="utf-8")
    missing = [code for code in chukan.report.CODES if f"`{code}`" not in docs]
    assert not missing


def test_every_code_the_code_raises_is_documented() -> None:
    src = Path(chukan.__file__).parent
    used = set()
    for path in src.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'_problem\(ctx, "([a-z0-9-]+)"', text))
        used |= set(re.findall(r'\("([a-z]+(?:-[a-z0-9]+)+)", "[^"]*[ぁ-んァ-ン一-龥]', text))
    assert used, "the pattern found nothing"
    assert used <= set(chukan.report.CODES), used - set(chukan.report.CODES)


def test_every_code_has_its_words_in_both_languages_and_its_severity() -> None:
    from chukan._codes import REGISTRY  # noqa: PLC0415

    assert set(REGISTRY) == set(chukan.report.CODES)
    for code, entry in REGISTRY.items():
        assert entry.en and entry.ja and entry.severity in ("error", "warning"), code
        # a warning says so in both languages, and only a warning does
        assert ("warning" in entry.en) == (entry.severity == "warning"), code
        assert ("(警告)" in entry.ja) == (entry.severity == "warning"), code
