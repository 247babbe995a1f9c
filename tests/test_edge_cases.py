"""Edge cases found in review: each pins a way data could have been lost or changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import chukan
from chukan import DataError, LayoutError, Report, UsageError, loads_layout
from chukan.cli import main
from helpers import FIXTURES, ZENGIN


def fixed(fields: str, *, length: int, encoding: str = "cp932", terminator: str = "lf",
          extra: str = "") -> chukan.Layout:
    return loads_layout(f"""
[layout]
name = "t/edge"
format = "fixed"
encoding = "{encoding}"
record_length = {length}
terminator = "{terminator}"
{extra}
{fields}""")


def csv3() -> chukan.Layout:
    return loads_layout("""
[layout]
name = "t/csv3"
format = "csv"
encoding = "cp932"
terminator = "crlf"
[[field]]
name = "a"
length = 5
type = "text"
[[field]]
name = "b"
length = 5
type = "text"
[[field]]
name = "c"
length = 5
type = "integer"
""")


TWO_TEXT = """
[[field]]
name = "a"
length = 3
type = "text"
[[field]]
name = "b"
length = 3
type = "text"
"""


def lenient(data: bytes, layout: chukan.Layout) -> tuple[pl.DataFrame, list[tuple]]:
    report = Report()
    df = chukan.read(data, layout, report=report)
    return df, [(p.code, p.record, p.field) for p in report]


# --------------------------------------------------------------------------------------
# Reading


def test_euc_jp_lead_byte_at_the_end_of_the_last_value() -> None:
    layout = fixed(TWO_TEXT, length=6, encoding="euc_jp")
    df, found = lenient(b"abcxyz\nab\x8fxyz\n", layout)
    assert found == [("dbcs-split", 2, "a")]
    assert df["a"].to_list() == ["abc", None]
    assert df["b"].to_list() == ["xyz", "xyz"]


def test_two_short_records_are_not_read_as_one() -> None:
    layout = fixed('[[field]]\nname = "a"\nlength = 3\ntype = "text"', length=3)
    df, found = lenient(b"abc\nx\ny\ndef\n", layout)
    assert found == [("record-length", 2, None), ("record-length", 3, None)]
    assert df["a"].to_list() == ["abc", "def"]


def test_a_file_without_line_feeds_does_not_grow_memory(tmp_path: Path) -> None:
    layout = fixed('[[field]]\nname = "a"\nlength = 3\ntype = "text"', length=3)
    path = tmp_path / "cr.dat"
    path.write_bytes(b"abc\r" * 600_000)  # CR-only line ends: 2.4 MB and no LF
    report = Report()
    frames = list(chukan.read_batches(path, layout, report=report, batch_size=1000))
    assert sum(f.height for f in frames) == 0
    assert {p.code for p in report} == {"record-length", "truncated-record"}


def test_utf8_characters_cp932_leaves_undefined_are_valid_in_utf8() -> None:
    layout = fixed('[[field]]\nname = "a"\nlength = 6\ntype = "text"', length=6,
                   encoding="utf-8")
    df, found = lenient("\uf8f0\uf8f3".encode() + b"\n", layout)
    assert found == []
    assert df["a"].to_list() == ["\uf8f0\uf8f3"]


def test_multi_record_column_selection_and_scan() -> None:
    path = FIXTURES / "zengin" / "kouza-furikae.dat"
    df = chukan.read(path, ZENGIN, record="data", columns=["koza_no"])
    assert df.columns == ["koza_no"]
    assert df["koza_no"].to_list() == ["7654321", "1111111", "2222222"]
    got = chukan.scan(path, ZENGIN, record="data").select("koza_no").collect()
    assert got["koza_no"].to_list() == ["7654321", "1111111", "2222222"]


def test_yymmdd_all_zeros_is_the_unknown_date() -> None:
    layout = fixed('[[field]]\nname = "d"\nlength = 6\ntype = "date"\nformat = "YYMMDD"\n'
                   "pivot = 50", length=6)
    df, found = lenient(b"000000\n000500\n", layout)
    assert found == []
    assert df["d_partial"].to_list() == ["0000-00-00", "2000-05-00"]


def test_unknown_record_kind_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no record kind 'datax'"):
        chukan.read(FIXTURES / "zengin" / "kouza-furikae.dat", ZENGIN, record="datax")


# --------------------------------------------------------------------------------------
# Layouts


def test_integers_hold_at_most_18_digits() -> None:
    with pytest.raises(LayoutError, match="at most 18 digits"):
        fixed('[[field]]\nname = "i"\nlength = 19\ntype = "integer"', length=19)


def test_signed_display_decimal_precision_counts_the_sign_byte() -> None:
    with pytest.raises(LayoutError, match="scale"):
        fixed('[[field]]\nname = "d"\nlength = 3\ntype = "decimal"\nscale = 3\n'
              "signed = true", length=3)
    layout = fixed('[[field]]\nname = "d"\nlength = 19\ntype = "decimal"\nsigned = true',
                   length=19)
    assert layout.fields[0].precision == 18


# --------------------------------------------------------------------------------------
# Writing


def test_control_character_next_to_a_duplicate_character(tmp_path: Path) -> None:
    layout = fixed('[[field]]\nname = "a"\nlength = 4\ntype = "text"', length=4)
    report = Report()
    out = tmp_path / "o"
    chukan.write(pl.DataFrame({"a": ["髙", "\x01A", "a\x04~"]}), out, layout, report=report)
    assert [(p.code, p.record) for p in report] == [("control-char", 2), ("control-char", 3)]
    assert out.read_bytes() == b"\xfb\xfc  \n" + b"    \n" * 2


@pytest.mark.parametrize("encoding", ["utf-8", "euc_jp"])
def test_full_width_padding_after_values_of_any_byte_length(encoding: str,
                                                            tmp_path: Path) -> None:
    layout = fixed('[[field]]\nname = "a"\nlength = 9\ntype = "text"\nchars = "fullwidth"',
                   length=9, encoding=encoding)
    values = ["×", "α山", "丂", "山田", None]
    out = tmp_path / "o"
    chukan.write(pl.DataFrame({"a": values}), out, layout)
    df, found = lenient(out.read_bytes(), layout)
    assert found == []
    assert df["a"].to_list() == values


def test_decimals_are_never_rounded(tmp_path: Path) -> None:
    layout = fixed('[[field]]\nname = "d"\nlength = 6\ntype = "decimal"\nscale = 2\n'
                   "signed = true", length=6)
    with pytest.raises(DataError, match="not-decimal"):
        chukan.write(pl.DataFrame({"d": [Decimal("1.239")]}), tmp_path / "o", layout)


def number_layout(field: str, storage: str, length: int = 6) -> chukan.Layout:
    """A layout of one field ``length`` long, in ``storage`` (``fixed``: none given) or
    (``csv``) a CSV of it."""
    if storage == "csv":
        return loads_layout('[layout]\nname = "t/csv"\nformat = "csv"\nencoding = "cp932"\n'
                            f"{field}\n")
    return fixed(field if storage == "fixed" else f'{field}\nstorage = "{storage}"',
                 length=length)


@pytest.mark.parametrize("kernel", ["core", "python"])
@pytest.mark.parametrize("storage", ["display", "zoned", "packed", "csv"])
def test_decimals_are_never_rounded_in_any_storage(storage: str, kernel: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # a packed field took 1.239 as 1.23, and said nothing (and a CSV's report showed the
    # value refused as 1.23)
    if kernel == "python":
        monkeypatch.setenv("CHUKAN_KERNEL", "python")
    layout = number_layout('[[field]]\nname = "d"\nlength = 6\ntype = "decimal"\n'
                           "scale = 2\nsigned = true", storage)
    df = pl.DataFrame({"d": pl.Series([Decimal("1.239"), Decimal("-2.5")],
                                      dtype=pl.Decimal(10, 3))})
    report = Report()
    chukan.write(df, tmp_path / "o", layout, report=report)
    assert [(p.code, p.record, p.value) for p in report] == [("not-decimal", 1, "1.239")]
    back = chukan.read(tmp_path / "o", layout)["d"].to_list()
    # refused: padding, or zero in a packed field (which has no padding)
    assert back == [Decimal("0.00") if storage == "packed" else None, Decimal("-2.50")]


@pytest.mark.parametrize("kernel", ["core", "python"])
@pytest.mark.parametrize(("storage", "message"), [("display", "6桁に収まりません"),
                                                  ("zoned", "6桁に収まりません"),
                                                  ("packed", "11桁を超えています"),
                                                  ("csv", "5桁を超えています")])
def test_a_number_of_19_digits_or_more_is_refused_in_the_report(
        storage: str, message: str, kernel: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Polars' own error escaped (no ChukanError, no row): no Int64 holds the value
    if kernel == "python":
        monkeypatch.setenv("CHUKAN_KERNEL", "python")
    layout = number_layout('[[field]]\nname = "d"\nlength = 6\ntype = "decimal"\n'
                           "signed = true", storage)
    df = pl.DataFrame({"d": pl.Series([Decimal(7), Decimal(10**20)], dtype=pl.Decimal(38, 0))})
    report = Report()
    chukan.write(df, tmp_path / "o", layout, report=report)
    assert [(p.code, p.record, p.value, p.message) for p in report] == [
        ("width-overflow", 2, str(10**20), message)]
    assert chukan.read(tmp_path / "o", layout)["d"].to_list()[0] == Decimal(7)


@pytest.mark.parametrize("kernel", ["core", "python"])
@pytest.mark.parametrize("storage", ["fixed", "csv"])
@pytest.mark.parametrize("given", [pl.Series([1.5, 2.0, -2.7, None]),
                                   pl.Series(["1.5", "2", "x", None]),
                                   pl.Series([Decimal("1.5"), Decimal(2), Decimal("-2.7"), None],
                                             dtype=pl.Decimal(5, 1))],
                         ids=["floats", "text", "decimals"])
def test_integers_are_never_cut(given: pl.Series, storage: str, kernel: str, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    # an integer field took 1.5 as 1 and -2.7 as -2, and said nothing (a text column
    # raised Polars' own error)
    if kernel == "python":
        monkeypatch.setenv("CHUKAN_KERNEL", "python")
    layout = number_layout('[[field]]\nname = "i"\nlength = 6\ntype = "integer"\n'
                           "signed = true", storage)
    report = Report()
    chukan.write(pl.DataFrame({"i": given}), tmp_path / "o", layout, report=report)
    assert [(p.code, p.record, p.value) for p in report] == [
        ("not-integer", 1, "1.5"), ("not-integer", 3, str(given[2]))]
    assert chukan.read(tmp_path / "o", layout)["i"].to_list() == [None, 2, None, None]


@pytest.mark.parametrize("kernel", ["core", "python"])
@pytest.mark.parametrize("storage", ["fixed", "csv"])
@pytest.mark.parametrize(("given", "written", "codes"), [
    # whole floats that Polars' decimal cast of 18 places makes 99999.99…
    (pl.Series([100000.0, 12345.0]), [100000, 12345], []),
    (pl.Series([True, False]), [1, 0], []),
    # places past the 18 Polars reads text to, and past a float's or decimal's
    (pl.Series(["0.0000000000000000001"]), [None], ["not-integer"]),
    (pl.Series([Decimal("1.00000000000000000001")], dtype=pl.Decimal(38, 20)), [None],
     ["not-integer"]),
    # Polars raised for a float past 10^37 even with strict=False
    (pl.Series([1e21, 1e40]), [None, None], ["width-overflow", "width-overflow"]),
    (pl.Series([float("nan")]), [None], ["not-integer"]),
], ids=["whole-floats", "booleans", "text-19-places", "decimal-20-places", "huge-floats",
        "nan"])
def test_integer_columns_of_every_type_are_written_exactly(
        given: pl.Series, written: list[int | None], codes: list[str], storage: str,
        kernel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # found in review of the fix above: each of these was refused, raised, or rounded
    if kernel == "python":
        monkeypatch.setenv("CHUKAN_KERNEL", "python")
    layout = number_layout('[[field]]\nname = "i"\nlength = 6\ntype = "integer"', storage)
    report = Report()
    chukan.write(pl.DataFrame({"i": given}), tmp_path / "o", layout, report=report)
    assert [p.code for p in report] == codes
    assert chukan.read(tmp_path / "o", layout)["i"].to_list() == written


@pytest.mark.parametrize("storage", ["display", "packed", "csv"])
def test_decimals_given_as_text_are_read_as_written(storage: str, tmp_path: Path) -> None:
    # a CSV refused "2" and "1.5" (the text against the decimal it was cast to), and
    # Polars' cast of text rounds unasked
    layout = number_layout('[[field]]\nname = "d"\nlength = 6\ntype = "decimal"\n'
                           "scale = 2\nsigned = true", storage)
    report = Report()
    chukan.write(pl.DataFrame({"d": ["1.239", "2", "x", "-0.05", "1.5"]}), tmp_path / "o",
                 layout, report=report)
    assert [(p.code, p.record, p.value) for p in report] == [("not-decimal", 1, "1.239"),
                                                             ("not-decimal", 3, "x")]
    back = chukan.read(tmp_path / "o", layout)["d"].to_list()
    assert back[1:2] + back[3:] == [Decimal("2.00"), Decimal("-0.05"), Decimal("1.50")]


@pytest.mark.parametrize("storage", ["fixed", "csv"])
def test_a_date_field_takes_datetimes_and_text_but_never_loses_a_time(
        storage: str, tmp_path: Path) -> None:
    # a Datetime's time of day went nowhere, silently, in a fixed layout; a CSV, and text
    # in either, raised Polars' own error
    layout = number_layout('[[field]]\nname = "d"\nlabel = "生年月日"\nlength = 8\n'
                           'type = "date"', storage, length=8)
    report = Report()
    given = pl.Series([dt.datetime(2024, 1, 5, 13, 45), dt.datetime(2024, 1, 6), None])
    chukan.write(pl.DataFrame({"d": given}), tmp_path / "o", layout, report=report)
    assert [(p.code, p.record, p.value) for p in report] == [
        ("bad-date", 1, "2024-01-05 13:45:00")]
    assert chukan.read(tmp_path / "o", layout)["d"].to_list() == [None, dt.date(2024, 1, 6),
                                                                  None]
    # midnight in its own time zone is no time of day (it is 15:00 the day before in UTC)
    report = Report()
    tokyo = given.dt.replace_time_zone("Asia/Tokyo")
    chukan.write(pl.DataFrame({"d": tokyo}), tmp_path / "o", layout, report=report)
    assert [(p.code, p.record) for p in report] == [("bad-date", 1)]
    assert chukan.read(tmp_path / "o", layout)["d"].to_list() == [None, dt.date(2024, 1, 6),
                                                                  None]
    report = Report()
    text = pl.Series(["2024-01-05", "20240105", None])
    chukan.write(pl.DataFrame({"d": text}), tmp_path / "o", layout, report=report)
    assert [(p.code, p.record, p.value) for p in report] == [("bad-date", 2, "20240105")]
    assert chukan.read(tmp_path / "o", layout)["d"].to_list() == [dt.date(2024, 1, 5), None,
                                                                  None]
    with pytest.raises(UsageError, match="生年月日"):
        chukan.write(pl.DataFrame({"d": [20240105]}), tmp_path / "o", layout)


def test_empty_string_is_an_empty_field(tmp_path: Path) -> None:
    layout = fixed('[[field]]\nname = "n"\nlength = 5\ntype = "digits"', length=5)
    out = tmp_path / "o"
    chukan.write(pl.DataFrame({"n": [""]}), out, layout)
    assert out.read_bytes() == b"     \n"


def test_space_padded_integer_of_width_one(tmp_path: Path) -> None:
    layout = fixed('[[field]]\nname = "i"\nlength = 1\ntype = "integer"\npad = " "',
                   length=1)
    out = tmp_path / "o"
    chukan.write(pl.DataFrame({"i": [7, None]}), out, layout)
    assert out.read_bytes() == b"7\n \n"


def test_year_month_and_two_digit_year_limits_on_write(tmp_path: Path) -> None:
    layout = fixed('[[field]]\nname = "m"\nlength = 6\ntype = "date"\nformat = "YYYYMM"\n'
                   '[[field]]\nname = "d"\nlength = 6\ntype = "date"\nformat = "YYMMDD"\n'
                   "pivot = 50", length=12)
    report = Report()
    chukan.write(pl.DataFrame({"m": ["2024-13", "2024-12"], "d": [None, None],
                               "d_partial": ["1850-00-00", "1960-00-00"]},
                              schema={"m": pl.String, "d": pl.Date, "d_partial": pl.String}),
                 tmp_path / "o", layout, report=report)
    assert [(p.code, p.record, p.field) for p in report] == [("bad-date", 1, "m"),
                                                             ("bad-date", 1, "d")]


def test_write_records_rejects_unknown_kinds_and_checks_record_types(tmp_path: Path) -> None:
    frames = chukan.read_records(FIXTURES / "zengin" / "kouza-furikae.dat", ZENGIN)
    with pytest.raises(UsageError, match="Data"):
        chukan.write_records({"Data": frames["data"]}, tmp_path / "z", ZENGIN)
    bad = {**frames, "data": frames["data"].with_columns(pl.lit("1").alias("data_kubun"))}
    report = Report()
    chukan.write_records(bad, tmp_path / "z", ZENGIN, report=report)
    assert [(p.code, p.record, p.offset) for p in report] == [
        ("unknown-record-type", 2, 122), ("unknown-record-type", 3, 244),
        ("unknown-record-type", 4, 366)]


# --------------------------------------------------------------------------------------
# CSV


@pytest.mark.parametrize(("raw", "rows", "problems"), [
    (b"1,2,3\r\n4,5\r\n6,7,8\r\n", [("1", "2", 3), ("6", "7", 8)], [("csv-columns", 2)]),
    (b"1,2,3\r\n\r\n4,5,6\r\n", [("1", "2", 3), ("4", "5", 6)], [("csv-columns", 2)]),
    (b"1,2\r\n", [], [("csv-columns", 1)]),
    # read as written, but said: written back, the value would be quoted (issue 13)
    (b'1,ab"c,3\r\n4,5,6\r\n', [("1", 'ab"c', 3), ("4", "5", 6)], [("csv-quote", 1)]),
    # a last row without its terminator is said too (issue 8)
    (b'1,"a\r\nb",3\r\n4,5,6', [("1", "a\r\nb", 3), ("4", "5", 6)],
     [("terminator-missing", 2)]),
])
def test_csv_rows_of_the_wrong_width_are_reported_not_padded(raw: bytes, rows: list,
                                                             problems: list) -> None:
    report = Report()
    df = chukan.read(raw, csv3(), report=report)
    assert df.rows() == rows
    assert [(p.code, p.record) for p in report] == problems


def test_csv_integer_limits() -> None:
    report = Report()
    df = chukan.read(b"a,b,1234567890123456789\r\na,b,123456\r\na,b,-12345\r\n", csv3(),
                     report=report)
    assert df["c"].to_list() == [None, None, -12345]
    assert [(p.code, p.record) for p in report] == [("not-integer", 1), ("not-integer", 2)]


def test_csv_unrepresentable_cell_keeps_the_policy_for_the_others(tmp_path: Path) -> None:
    report = Report()
    out = tmp_path / "o.csv"
    chukan.write(pl.DataFrame({"a": ["髙", "𠮷"], "b": ["x", "y"], "c": [1, 2]}), out,
                 csv3(), report=report)
    assert [(p.code, p.record) for p in report] == [("not-representable", 2)]
    assert out.read_bytes() == b"\xfb\xfc,x,1\r\n,y,2\r\n"


def test_csv_decimals_have_a_point(tmp_path: Path) -> None:
    layout = loads_layout("""
[layout]
name = "t/csvd"
format = "csv"
encoding = "utf-8"
terminator = "lf"
[[field]]
name = "d"
length = 7
type = "decimal"
scale = 2
signed = true
[[field]]
name = "e"
length = 1
type = "text"
""")
    out = tmp_path / "d.csv"
    chukan.write(pl.DataFrame({"d": [Decimal("-12.34"), Decimal("5.00")], "e": ["x", "y"]},
                              schema={"d": pl.Decimal(7, 2), "e": pl.String}), out, layout)
    assert out.read_bytes() == b"-12.34,x\n5.00,y\n"
    assert chukan.read(b"-12.3,x\n+7,y\n", layout)["d"].to_list() == [Decimal("-12.30"),
                                                                      Decimal("7.00")]


def test_cli_unknown_record_kind_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    result = CliRunner().invoke(main, ["read", str(FIXTURES / "zengin" / "kouza-furikae.dat"),
                                       "-l", ZENGIN, "--record", "datax", "-o", str(out)])
    assert result.exit_code == 2
    assert not out.exists()


def test_date_column_with_dates_far_from_now(tmp_path: Path) -> None:
    layout = fixed('[[field]]\nname = "d"\nlength = 8\ntype = "date"', length=8)
    days = [dt.date(1, 1, 1), dt.date(1800, 2, 28), dt.date(9999, 12, 31)]
    out = tmp_path / "o"
    chukan.write(pl.DataFrame({"d": days}), out, layout)
    assert out.read_bytes() == b"00010101\n18000228\n99991231\n"
    assert chukan.read(out, layout)["d"].to_list() == days


def test_required_fields_are_checked_on_write(tmp_path: Path) -> None:
    layout = fixed('[[field]]\nname = "a"\nlength = 3\ntype = "text"\nrequired = true\n'
                   '[[field]]\nname = "d"\nlength = 8\ntype = "date"\nrequired = true',
                   length=11)
    report = Report()
    df = pl.DataFrame({"a": ["x", "", None], "d": [None, dt.date(2020, 1, 1), None],
                       "d_partial": ["2020-00-00", None, ""]},
                      schema={"a": pl.String, "d": pl.Date, "d_partial": pl.String})
    chukan.write(df, tmp_path / "o", layout, report=report)
    assert [(p.code, p.record, p.field) for p in report] == [
        ("required-missing", 2, "a"), ("required-missing", 3, "a"),
        ("required-missing", 3, "d")]
