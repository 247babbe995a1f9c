"""CSV layouts: any encoding, quoted fields, header rows, bad rows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chukan
from chukan import Report, loads_layout
from chukan.codec import LOOKALIKES, format_expr, parse_expr
from chukan.codec._base import _f
from helpers import FIXTURES, KOJIN_CSV

CSV = """
[layout]
name = "t/csv"
format = "csv"
encoding = "{enc}"
terminator = "lf"
header = {header}
[[field]]
name = "no"
label = "番号"
length = 5
type = "digits"
[[field]]
name = "name"
label = "氏名"
length = 4
type = "text"
[[field]]
name = "born"
label = "生年月日"
length = 8
type = "date"
format = "YYYYMMDD"
"""


def layout(enc: str = "cp932", *, header: bool = True) -> chukan.Layout:
    return loads_layout(CSV.format(enc=enc, header=str(header).lower()))


def test_cp932_csv_with_quotes_header_and_embedded_newline() -> None:
    df = chukan.read(FIXTURES / "vendor-a" / "juki-kojin.csv", KOJIN_CSV)
    assert df["atena_no"].to_list() == ["0000000001", "0000000002", "0000000004",
                                        "0000000005"]
    assert df["biko"].to_list() == ["転入, 2020年", '"愛称" あり', "改行を\r\n含む備考", "～"]
    assert df["shimei_kanji"][2] == "髙橋　次郎"
    assert df["seinengappi_partial"][2] == "1950-00-00"
    assert df["kazei_gaku"].to_list() == [1234567, -500, None, 0]


@pytest.mark.parametrize("enc", ["cp932", "shift_jis", "euc_jp", "utf-8", "utf-8-sig"])
def test_encodings(enc: str) -> None:
    text = "no,name,born\n00012,山田,19991231\n"
    raw = text.encode("utf-8-sig" if enc == "utf-8-sig" else enc)
    df = chukan.read(raw, layout(enc))
    assert df.row(0) == ("00012", "山田", dt.date(1999, 12, 31), None)


def test_header_may_hold_labels() -> None:
    df = chukan.read("番号,氏名,生年月日\n1,A,\n".encode("cp932"), layout())
    assert df["no"].to_list() == ["1"]


def test_header_that_matches_nothing_is_reported() -> None:
    report = Report()
    chukan.read(b"x,y,z\n1,A,\n", layout(), report=report)
    assert [p.code for p in report] == ["csv-header"]


def test_row_with_wrong_column_count() -> None:
    report = Report()
    df = chukan.read(b"no,name,born\n1,A,\n2,B\n3,C,20000101,extra\n4,D,\n", layout(),
                     report=report)
    assert [(p.code, p.record) for p in report] == [("csv-columns", 2), ("csv-columns", 3)]
    assert df["no"].to_list() == ["1", "4"]


def test_value_longer_than_its_character_count() -> None:
    report = Report()
    chukan.read("no,name,born\n1,山田太郎花,\n".encode("cp932"), layout(), report=report)
    assert [(p.code, p.field, p.record) for p in report] == [("width-overflow", "name", 1)]


def test_invalid_bytes_in_a_csv_cell() -> None:
    report = Report()
    df = chukan.read(b"no,name,born\n1,\xff\xfe,\n", layout(), report=report)
    assert [(p.code, p.field) for p in report] == [("invalid-bytes", "name")]
    assert df["name"].to_list() == [None]


def test_bom_in_a_cp932_csv_is_reported() -> None:
    report = Report()
    chukan.read(b"\xef\xbb\xbfno,name,born\n1,A,\n", layout(), report=report)
    assert [p.code for p in report] == ["bom-unexpected"]


def test_batches_of_a_csv() -> None:
    rows = "".join(f"{i:05d},A,\n" for i in range(250))
    raw = ("no,name,born\n" + rows).encode("cp932")
    sizes = [b.height for b in chukan.read_batches(raw, layout(), batch_size=100)]
    assert sizes == [100, 100, 50]


def test_missing_required_columns_are_one_error_naming_them_all() -> None:
    layout = chukan.loads_layout(
        '[layout]\nname = "t"\nformat = "csv"\nencoding = "utf-8"\nterminator = "lf"\n'
        'header = true\n[[field]]\nname = "a"\nlabel = "甲"\nlength = 5\ntype = "text"\n'
        'required = true\n[[field]]\nname = "b"\nlabel = "乙"\nlength = 5\ntype = "text"\n'
        'required = true\n[[field]]\nname = "c"\nlength = 5\ntype = "text"\n')
    report = chukan.Report()
    chukan.read(b"c,x\n1,2\n", layout, report=report)
    (problem,) = report.problems
    assert problem.code == "csv-header"
    assert "甲(a)" in problem.message
    assert "乙(b)" in problem.message
    # an optional column that is missing is read as empty, and said
    report = chukan.Report()
    frame = chukan.read(b"b,a\n1,2\n", layout, report=report)
    assert frame.rows() == [("2", "1", None)]
    assert sorted(p.code for p in report) == ["csv-column-order", "csv-missing-columns"]


def _pipes(fields: str, length: int, *, kernel: str, monkeypatch: pytest.MonkeyPatch,
           extra: str = "", encoding: str = "cp932",
           delimiter: str = "|") -> chukan.Layout:
    """A header-less CSV layout of text ``fields`` (one letter each), read on the
    ``kernel``'s path."""
    if kernel == "python":
        monkeypatch.setenv("CHUKAN_KERNEL", "python")
    return chukan.loads_layout(
        f'[layout]\nname = "t"\nformat = "csv"\nencoding = "{encoding}"\n'
        f"delimiter = {json.dumps(delimiter)}\nheader = false\n{extra}"
        + "".join(f'[[field]]\nname = "{n}"\nlength = {length}\ntype = "text"\n'
                  for n in fields))


@pytest.mark.parametrize("kernel", ["core", "python"])
def test_a_lead_byte_before_a_pipe_pairs_with_it_where_the_encoding_has_the_pair(
        kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """0x83 0x7C is ポ, 0x92 0x7C 竹: in CP932 the ``|`` after a lead byte is the
    character's second byte, as every CP932 reader reads it, and the cells were cut
    inside it (竹内|x read as three cells, the row left out as csv-columns; found by a
    review). Where the encoding has no such pair (0x85 0x7C), the ``|`` is a delimiter
    and the lead byte an error of its own cell; a stray lead byte that does pair with
    it (0x81 0x7C is －) takes it, and the row, a field short, is reported."""
    layout = _pipes("abc", 5, kernel=kernel, monkeypatch=monkeypatch,
                    extra='terminator = "lf"\n')
    report = chukan.Report()
    data = "竹内|ポスト|x\n".encode("cp932") + b"x||\ny|\x85|z\ny|\x81|\n"
    frame = chukan.read(data, layout, report=report)
    assert frame.rows() == [("竹内", "ポスト", "x"), ("x", None, None), ("y", None, "z")]
    assert [(p.code, p.record, p.field) for p in report] == [
        ("invalid-bytes", 3, "b"), ("csv-columns", 4, None)]


@pytest.mark.parametrize("kernel", ["core", "python"])
def test_a_quote_after_a_pipe_that_ends_a_character_opens_no_cell(
        kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """竹" is 0x92 0x7C 0x22: the row finders took the quote for one opening a cell,
    since the byte before it is |, and the core and the Python path read the rows
    otherwise than CPython and than each other (found by a review, and by the property
    that compares them)."""
    layout = _pipes("abc", 9, kernel=kernel, monkeypatch=monkeypatch)
    report = chukan.Report()
    frame = chukan.read(b'a|\x92|"x|y"\r\nb|\x92|"c|d\r\ne|f|g"\r\n', layout, report=report)
    assert frame.rows() == [("a", '竹"x', 'y"'), ("b", '竹"c', "d"), ("e", "f", 'g"')]
    assert {p.code for p in report.problems} == {"csv-quote"}


@pytest.mark.parametrize("kernel", ["core", "python"])
def test_a_cell_walked_character_by_character_loses_the_layouts_own_quotes(
        kernel: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Cells cut character by character (a row with 竹|, or a stray quote) were unquoted
    as if the quote were always \": with quote = "'", 'O''Neil' read back as O''Neil'
    with no problem (found by a review)."""
    layout = _pipes("ab", 9, kernel=kernel, monkeypatch=monkeypatch,
                    extra='quote = "\'"\n')
    out = tmp_path / "o.csv"
    chukan.write(pl.DataFrame({"a": ["竹|x", "竹"], "b": ["O'Neil", "y"]}), out, layout)
    assert chukan.read(out, layout).rows() == [("竹|x", "O'Neil"), ("竹", "y")]
    report = chukan.Report()
    assert chukan.read(b"a|'\x92|'\r\n", layout, report=report).rows() == [("a", "竹")]
    assert [p.code for p in report] == ["noncanonical"]  # (quotes 竹 does not need)


@pytest.mark.parametrize("kernel", ["core", "python"])
def test_quotes_around_a_character_that_ends_with_the_pipe_byte_are_needless(
        kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """"竹" needs no quotes (its 0x7C is the character's, as the cells are cut), and
    written back loses them: said, as for any cell quoted needlessly (the check found
    the | on bytes and said nothing, so that the bytes written back differed with no
    word; found by a review). "x|" needs them; 0x85 0x7C is no character, so there the
    | is a delimiter's byte, and the quotes are needed too."""
    layout = _pipes("abc", 9, kernel=kernel, monkeypatch=monkeypatch,
                    extra='terminator = "lf"\n')
    report = chukan.Report()
    frame = chukan.read(b'"\x92|"|"x|"|y\n"\x85|"|"x"|"\x92|"\n', layout, report=report)
    assert frame["a"].to_list() == ["竹", None]
    assert [(p.code, p.record, p.field) for p in report] == [
        ("invalid-bytes", 2, "a"), ("noncanonical", 1, None)]
    assert "1列目ほか、このファイルで3か所" in report.problems[1].message


@pytest.mark.parametrize("kernel", ["core", "python"])
@pytest.mark.parametrize("encoding", ["cp932", "shift_jis"])
def test_every_character_that_ends_with_the_delimiter_byte_round_trips(
        kernel: str, encoding: str, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    """Every character of the encoding whose second byte is ``|`` or ``\\`` (the 5C
    problem: ソ, 表, 能), alone, first, last, and quoted, in a file with that
    delimiter: written and read back as it was."""
    for delimiter in "|\\":
        chars = []
        for lead in [*range(0x81, 0xA0), *range(0xE0, 0xFD)]:
            try:
                chars.append(bytes((lead, ord(delimiter))).decode(encoding))
            except UnicodeDecodeError:
                continue
        chars = [c for c in chars if c.encode(encoding).decode(encoding) == c and
                 c not in LOOKALIKES.get(encoding, {})]
        assert len(chars) > 30
        layout = _pipes("abc", 9, kernel=kernel, monkeypatch=monkeypatch,
                        encoding=encoding, delimiter=delimiter)
        values = [(c, f"{c}{c}", f"a{c}") for c in chars] + [(f'"{c}', "x", c) for c in chars]
        frame = pl.DataFrame(values, schema=["a", "b", "c"], orient="row")
        out = tmp_path / f"{encoding}-{ord(delimiter)}.csv"
        chukan.write(frame, out, layout)
        report = chukan.Report()
        assert chukan.read(out, layout, report=report).rows() == values
        assert report.problems == []


@pytest.mark.parametrize("start", [b"x\x01", b"x^"])
def test_a_csv_that_starts_as_zlib_data_is_read_as_csv(start: bytes) -> None:
    """Found by review: Polars' CSV reader takes data that starts with zlib's mark (x
    then 0x01, 0x5E, 0x9C or 0xDA) for compressed data, and read the EUC-JP path's rows
    as none at all."""
    layout = chukan.loads_layout(
        '[layout]\nname = "t"\nformat = "csv"\nencoding = "euc_jp"\nterminator = "lf"\n'
        'header = false\n[[field]]\nname = "a"\nlength = 9\ntype = "text"\n'
        '[[field]]\nname = "b"\nlength = 9\ntype = "text"\n')
    text = start.decode("utf-8", "replace").encode("euc_jp", "replace")
    report = chukan.Report()
    frame = chukan.read(text + b"y,1\nb,2\n", layout, report=report)
    assert frame["b"].to_list() == ["1", "2"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.sampled_from(" 0159aＡ山-."), max_size=6) | st.none(), max_size=30),
       st.sampled_from(["code", "digits"]))
def test_a_code_or_digits_cell_is_written_back_as_read(values: list[str | None],
                                                       kind: str) -> None:
    """What lets the CSV reader's noncanonical check pass over codes and digits: the
    writer's text of each value read is the cell itself (or nothing at all)."""
    field = _f(kind, 4)
    raw = pl.DataFrame({field.name: values}, schema={field.name: pl.String})
    (parsed_expr,), _, _ = parse_expr(field, pl.col(field.name), fixed=False, clean=True)
    parsed = raw.select(parsed_expr)
    written = parsed.select(format_expr(field, parsed.columns, fixed=False)[0])
    assert not (written[field.name] != raw[field.name]).fill_null(value=False).any()


@pytest.mark.parametrize("kernel", ["core", "python"])
def test_a_problem_is_placed_at_its_cells_first_byte(kernel: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A value's problem points at the byte where its cell starts in the file, whatever
    the order of the file's columns (by its header)."""
    if kernel == "python":
        monkeypatch.setenv("CHUKAN_KERNEL", "python")
    layout = loads_layout(
        '[layout]\nname = "t"\nformat = "csv"\nencoding = "utf-8"\nterminator = "lf"\n'
        'header = true\n[[field]]\nname = "a"\nlength = 3\ntype = "digits"\n'
        '[[field]]\nname = "b"\nlength = 4\ntype = "integer"\n'
        '[[field]]\nname = "c"\nlength = 5\ntype = "text"\n')
    rows = [b"c,b,a\n"] + [b"xx,%d,001\n" % k for k in range(1000)]
    rows[700] = b"yyy,12x,002\n"  # b is no integer
    rows[900] = b"z,9,0a1\n"  # a is no digits
    data = b"".join(rows)
    report = Report()
    chukan.read(data, layout, report=report)
    found = {(p.code, p.field, p.record): p.offset for p in report.problems
             if p.record is not None}  # (the file's own: its columns' order)
    assert found == {
        ("not-integer", "b", 700): data.index(b"12x"),
        ("not-digits", "a", 900): data.index(b"0a1"),
    }
