"""Value codecs against slow, obviously-correct references: eras on every day from
1868 to 2100, packed and zoned decimals, the kernel's decoding and byte-class flags."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chukan
from chukan import _core
from chukan._kernel import ColumnSpec, extract
from chukan.codec import (
    era_of,
    format_field,
    pack_packed,
    parse_date,
    parse_number,
    unpack_packed,
)
from chukan.codec._base import _f
from chukan.codec.dates import _parse_date_full
from chukan.codec.numbers import _parse_number_full
from chukan.spec import CodeTable
from reference_kernel import column_flags

ERAS = [("明治", dt.date(1868, 1, 1)), ("大正", dt.date(1912, 7, 30)),
        ("昭和", dt.date(1926, 12, 25)), ("平成", dt.date(1989, 1, 8)),
        ("令和", dt.date(2019, 5, 1))]
CODES = {"明治": "1", "大正": "2", "昭和": "3", "平成": "4", "令和": "5"}
#: days that belong to two eras (the emperor died that day; the new era began at once)
SHARED = {dt.date(1912, 7, 30): "明治", dt.date(1926, 12, 25): "大正"}

ERA_LAYOUT = """
[layout]
name = "t/era"
format = "fixed"
encoding = "cp932"
record_length = 7
terminator = "lf"
[[field]]
name = "d"
length = 7
type = "date"
format = "GYYMMDD"
eras = "eras/1digit"
"""


def reference_era(day: dt.date) -> tuple[str, int]:
    """The era a writer uses: the last one begun on or before the day."""
    name, start = [(n, s) for n, s in ERAS if s <= day][-1]
    return name, day.year - start.year + 1


def all_days() -> list[dt.date]:
    first, last = dt.date(1868, 1, 1), dt.date(2100, 12, 31)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def test_era_of_matches_the_reference_on_every_day() -> None:
    for day in all_days():
        assert era_of(day) == reference_era(day), day


def test_writing_and_reading_era_dates_on_every_day(tmp_path: Path) -> None:
    layout = chukan.loads_layout(ERA_LAYOUT)
    days = all_days()
    out = tmp_path / "eras.dat"
    chukan.write(pl.DataFrame({"d": days}, schema={"d": pl.Date}), out, layout)
    lines = out.read_bytes().split(b"\n")[:-1]
    expected = []
    for day in days:
        era, year = reference_era(day)
        expected.append(f"{CODES[era]}{year:02d}{day.month:02d}{day.day:02d}".encode())
    assert lines == expected
    assert chukan.read(out, layout)["d"].to_list() == days


def test_shared_days_read_under_either_era() -> None:
    layout = chukan.loads_layout(ERA_LAYOUT)
    raw = b"1450730\n2010730\n2151225\n3011225\n"
    assert chukan.read(raw, layout)["d"].to_list() == [dt.date(1912, 7, 30)] * 2 + \
        [dt.date(1926, 12, 25)] * 2


def test_every_day_outside_its_era_is_an_error() -> None:
    """For each era, the days just outside it, spelled in it, are era-range errors."""
    layout = chukan.loads_layout(ERA_LAYOUT)
    bad = []
    for i, (name, start) in enumerate(ERAS):
        before = start - dt.timedelta(days=1)
        if name != "明治" and before.year >= start.year:
            bad.append((name, start, before))
        if i + 1 < len(ERAS):
            end = ERAS[i + 1][1] if ERAS[i + 1][1] in SHARED else \
                ERAS[i + 1][1] - dt.timedelta(days=1)
            bad.append((name, start, end + dt.timedelta(days=1)))
    raw = b"".join(f"{CODES[n]}{d.year - s.year + 1:02d}{d.month:02d}{d.day:02d}\n".encode()
                   for n, s, d in bad)
    report = chukan.Report()
    chukan.read(raw, layout, report=report)
    assert [p.code for p in report] == ["era-range"] * len(bad)
    assert [p.record for p in report] == list(range(1, len(bad) + 1))


@given(st.integers(-(10 ** 17 - 1), 10 ** 17 - 1), st.integers(1, 9))
def test_packed_decimal_against_reference(value: int, width: int) -> None:
    digits = 2 * width - 1
    value = value % (10 ** digits) * (1 if value >= 0 else -1)
    hexed = str(abs(value)).rjust(digits, "0") + ("D" if value < 0 else "C")
    raw = bytes.fromhex(hexed)
    packed = pack_packed(np.array([value], dtype=np.int64), width, signed=True)
    assert packed.tobytes() == raw
    values, bad_digits, bad_sign = unpack_packed(np.frombuffer(raw, np.uint8).reshape(1, -1))
    assert (int(values[0]), bool(bad_digits[0]), bool(bad_sign[0])) == (value, False, False)


@given(st.lists(st.binary(min_size=1, max_size=9), min_size=1, max_size=8),
       st.integers(1, 9), st.booleans(), st.sampled_from(["C", "F"]))
def test_the_core_packs_and_unpacks_as_numpy_does(raws: list[bytes], width: int,
                                                  signed: bool, positive: str) -> None:
    """The core's packed decimals (the default path) against the numpy ones
    (``CHUKAN_KERNEL=python``): any bytes read, and the values written back."""
    rows = np.frombuffer(b"".join(r.ljust(width, b"\x0c")[:width] for r in raws),
                         dtype=np.uint8).reshape(len(raws), width)
    want = unpack_packed(rows)
    got = _core.unpack_packed(rows.reshape(-1), len(raws), width, 0, width)
    for w, g in zip(want, got, strict=True):
        assert w.tolist() == g.tolist()
    values = np.where(want[1], 0, want[0]) if signed else np.abs(np.where(want[1], 0, want[0]))
    stride = width + 3
    out = np.full(len(raws) * stride, 0x40, dtype=np.uint8)
    _core.pack_packed(out, stride, 2, width, values.astype(np.int64), signed,
                      0x0C if positive == "C" else 0x0F)
    expected = pack_packed(values.astype(np.int64), width, signed=signed, positive=positive)
    assert out.reshape(-1, stride)[:, 2:2 + width].tolist() == expected.tolist()
    assert (out.reshape(-1, stride)[:, [0, 1, -1]] == 0x40).all()  # nothing else touched


def test_the_core_packs_and_translates_blocks_of_records_on_its_threads() -> None:
    """More records than one block of the core's (16,384), on two threads: each block
    written as the numpy writer writes the whole."""
    from chukan.codec.ebcdic import from_ascii  # noqa: PLC0415

    n, width, stride = 40_000, 5, 12
    values = np.random.default_rng(3).integers(-(10**9 - 1), 10**9, n).astype(np.int64)
    out = np.full(n * stride, 0x40, dtype=np.uint8)
    _core.pack_packed(out, stride, 2, width, values, True, 0x0C, 2)
    expected = pack_packed(values, width, signed=True, positive="C")
    assert out.reshape(-1, stride)[:, 2:2 + width].tolist() == expected.tolist()
    digits = np.frombuffer(b"0123456789" * (n * 4 // 10), dtype=np.uint8).reshape(n, 4)
    out.reshape(-1, stride)[:, 8:12] = digits
    table = from_ascii("ibm930")
    _core.translate_columns(out, stride, [(8, 4)], table.tobytes(), 2)
    assert out.reshape(-1, stride)[:, 8:12].tolist() == table[digits].tolist()
    assert out.reshape(-1, stride)[:, 2:2 + width].tolist() == expected.tolist()  # untouched


def test_packed_sign_nibbles() -> None:
    rows = np.array([[0x12, 0x3C], [0x12, 0x3D], [0x12, 0x3F], [0x12, 0x3A], [0x1A, 0x3C]],
                    dtype=np.uint8)
    values, bad_digits, bad_sign = unpack_packed(rows)
    assert values[:3].tolist() == [123, -123, 123]
    assert bad_sign.tolist() == [False, False, False, True, False]
    assert bad_digits.tolist() == [False, False, False, False, True]


ZONED = """
[layout]
name = "t/zoned"
format = "fixed"
encoding = "cp932"
record_length = 5
terminator = "lf"
[[field]]
name = "z"
length = 5
type = "decimal"
storage = "zoned"
signed = true
scale = 1
"""


@given(st.lists(st.integers(-99999, 99999), min_size=1, max_size=20))
def test_zoned_decimal_against_reference(values: list[int]) -> None:
    def reference(v: int) -> bytes:
        digits = str(abs(v)).rjust(5, "0")
        punch = ("}JKLMNOPQR" if v < 0 else "{ABCDEFGHI")[int(digits[-1])]
        return (digits[:-1] + punch).encode()

    raw = b"".join(reference(v) + b"\n" for v in values)
    layout = chukan.loads_layout(ZONED)
    got = chukan.read(raw, layout)["z"].to_list()
    assert [int(g.scaleb(1)) for g in got] == values


CHARS = "あア亜山髙﨑①～ ｱｲﾞABC12-\u3000\ue000"


@given(st.lists(st.text(alphabet=CHARS, max_size=6), min_size=1, max_size=30),
       st.sampled_from(["text", "fullwidth"]))
def test_kernel_against_per_value_decoding(values: list[str], kind: str) -> None:
    """The kernel cuts padding on bytes and decodes a column at once; the reference
    decodes each value by itself and strips it."""
    width = 14
    encoded = []
    for v in values:
        raw = v.encode("cp932")[:width]
        try:
            raw.decode("cp932")
        except UnicodeDecodeError:
            raw = raw[:-1]
        pad = b" " * (width - len(raw))
        encoded.append(raw + pad)
    matrix = np.frombuffer(b"".join(encoded), dtype=np.uint8).reshape(len(values), width)
    got = extract(matrix, [ColumnSpec(0, width, kind)], "cp932")[0]  # type: ignore[arg-type]
    padding = " \u3000" if kind == "fullwidth" else " "
    expected = []
    for raw in encoded:
        text = raw.decode("cp932").rstrip(" ")
        if kind == "fullwidth" and not any(c in text for c in " ｱｲﾞABC12-"):
            text = text.rstrip(padding)
        expected.append(text or None)
    if kind == "fullwidth":  # half-width content makes the value an error row anyway
        keep = [i for i, raw in enumerate(encoded)
                if not any(c in raw.decode("cp932").rstrip() for c in " ｱｲﾞABC12-")]
        assert [got.values[i] for i in keep] == [expected[i] for i in keep]
    else:
        assert got.values.to_list() == expected


@given(st.binary(min_size=0, max_size=400), st.integers(1, 23), st.integers(0, 3))
def test_column_flags_against_reference(data: bytes, width: int, gap: int) -> None:
    stride = width + gap
    n = len(data) // stride
    if n == 0:
        return
    buf = np.frombuffer(data[: n * stride], dtype=np.uint8).reshape(n, stride)
    matrix = buf[:, :width]
    high, ctrl = column_flags(matrix)
    assert high.tolist() == (matrix >= 0x80).any(axis=0).tolist()
    control = (matrix < 0x20).any(axis=0)
    delete = (matrix == 0x7F).any(axis=0)
    # a 0x7F is promised where no byte above it is; the text path finds the others
    assert ctrl.tolist() == (control | (delete & ~high)).tolist()


@pytest.mark.parametrize(("fmt", "raw", "value"), [
    ("YYYYMMDD", b"20240229", dt.date(2024, 2, 29)),
    ("YYYY-MM-DD", b"2024-02-29", dt.date(2024, 2, 29)),
    ("YYMMDD", b"491231", dt.date(2049, 12, 31)),
    ("YYMMDD", b"500101", dt.date(1950, 1, 1)),
    ("GGYYMMDD", b"05010501", dt.date(2019, 5, 1)),
    ("YYYYMM", b"202402", "2024-02"),
    ("YYYY-MM", b"1950-00", "1950-00"),
])
def test_every_date_format(fmt: str, raw: bytes, value: object) -> None:
    width = len(raw)
    eras = 'eras = "eras/2digit"\n' if fmt == "GGYYMMDD" else ""
    pivot = "pivot = 50\n" if fmt == "YYMMDD" else ""
    layout = chukan.loads_layout(f"""
[layout]
name = "t/d"
format = "fixed"
encoding = "cp932"
record_length = {width}
terminator = "lf"
[[field]]
name = "d"
length = {width}
type = "date"
format = "{fmt}"
{eras}{pivot}""")
    assert chukan.read(raw + b"\n", layout)["d"].to_list() == [value]


def test_leap_years() -> None:
    layout = chukan.loads_layout(ERA_LAYOUT.replace("GYYMMDD", "YYYYMMDD")
                                 .replace("length = 7", "length = 8")
                                 .replace("record_length = 7", "record_length = 8")
                                 .replace('eras = "eras/1digit"', ""))
    report = chukan.Report()
    df = chukan.read(b"20000229\n19000229\n20240229\n21000229\n", layout, report=report)
    assert df["d"].to_list() == [dt.date(2000, 2, 29), None, dt.date(2024, 2, 29), None]
    assert [p.record for p in report] == [2, 4]


NUMBER_FIELDS = [
    chukan.Field(name="d", label="", type="integer", length=7, signed=True),
    chukan.Field(name="d", label="", type="integer", length=12, signed=False),
    chukan.Field(name="d", label="", type="integer", length=18, signed=True, pad=" "),
    chukan.Field(name="d", label="", type="decimal", length=9, scale=2),
    chukan.Field(name="d", label="", type="decimal", length=9, scale=2, signed=True),
    chukan.Field(name="d", label="", type="decimal", length=6, storage="zoned", signed=True),
]


@given(st.sampled_from(NUMBER_FIELDS), st.lists(st.text(alphabet="0123456789-+ {}AJx",
                                                        min_size=1, max_size=18),
                                                min_size=1, max_size=30))
def test_number_short_path_agrees_with_the_full_parser(f: chukan.Field,
                                                       values: list[str]) -> None:
    raw = b"".join(v.rjust(f.length, "0")[-f.length:].encode() for v in values)
    mat = np.frombuffer(raw, dtype=np.uint8).reshape(len(values), f.length)
    fast, fast_fails = parse_number(f, mat)
    full, full_fails = _parse_number_full(f, mat)
    assert fast[f.name].to_list() == full[f.name].to_list()
    assert [(x.code, x.mask.tolist()) for x in fast_fails] == \
        [(x.code, x.mask.tolist()) for x in full_fails]


def _spelled(day: dt.date) -> str:
    """A date in every format at once, cut to the format's width by the test."""
    era, year = reference_era(day)
    return f"{day:%Y%m%d}|{day:%Y-%m-%d}|{CODES[era]}{year:02d}{day:%m%d}|" \
           f"0{CODES[era]}{year:02d}{day:%m%d}|{day:%y%m%d}"


_SPELLINGS = {"YYYYMMDD": 0, "YYYY-MM-DD": 1, "GYYMMDD": 2, "GGYYMMDD": 3, "YYMMDD": 4}


@given(st.sampled_from(list(_SPELLINGS)),
       st.lists(st.one_of(st.dates(dt.date(1868, 1, 1), dt.date(2100, 12, 31)).map(_spelled),
                          st.text(alphabet="0123456789 -", min_size=10, max_size=10),
                          # days just outside their era, and 不詳 parts
                          st.sampled_from(["||4310501|04310501|", "||3640108|03640108|",
                                           "||1450731|01450731|", "19500000|1950-00-00|"
                                           "3250000|03250000|500000"])),
                min_size=1, max_size=30))
def test_date_short_path_agrees_with_the_full_parser(fmt: str, values: list[str]) -> None:
    f = _f("date", len(fmt), format=fmt, pivot=50)
    picked = [v.split("|")[_SPELLINGS[fmt]] if "|" in v else v for v in values]
    raw = b"".join(v[: f.length].ljust(f.length).encode() for v in picked)
    mat = np.frombuffer(raw, dtype=np.uint8).reshape(len(values), f.length)
    fast, fast_fails = parse_date(f, mat)
    full, full_fails = _parse_date_full(f, mat)
    assert fast.to_dicts() == full.to_dicts()
    assert sorted((x.code, x.mask.tolist()) for x in fast_fails) == \
        sorted((x.code, x.mask.tolist()) for x in full_fails)


def test_era_years_beyond_99_are_refused_in_csv_too(tmp_path: Path) -> None:
    """令和100年 (2118) has no YY spelling: the fixed writer refused it, and the CSV writer
    (one Polars expression per column) must too, rather than write 051000101."""
    layout = chukan.loads_layout("""
[layout]
name = "t/era-csv"
format = "csv"
encoding = "utf-8"
terminator = "lf"
header = false
[[field]]
name = "d"
length = 8
type = "date"
format = "GGYYMMDD"
eras = "eras/2digit"
[[field]]
name = "p"
length = 8
type = "date"
format = "GGYYMMDD"
eras = "eras/2digit"
""")
    frame = pl.DataFrame({"d": [dt.date(2117, 12, 31), dt.date(2118, 1, 1)],
                          "p": [None, None], "p_partial": ["2117-00-00", "2118-00-00"]},
                         schema={"d": pl.Date, "p": pl.Date, "p_partial": pl.String})
    report = chukan.Report()
    chukan.write(frame, tmp_path / "e.csv", layout, report=report)
    assert [(p.code, p.record, p.field) for p in report.problems] == [
        ("era-range", 2, "d"), ("bad-date", 2, "p")]
    assert (tmp_path / "e.csv").read_text(encoding="utf-8").startswith("05991231,05990000")


@pytest.mark.parametrize("fixed", [True, False])
def test_a_date_is_written_only_in_the_years_its_format_spells(fixed: bool) -> None:
    """Years 0000–9999 for a four-digit year (0000-01-01 and 9999-12-31 are the edges),
    the pivot's hundred years for a two-digit one: judged on the day number."""
    days = pl.Series("d", [-719528, -719529, 2932896, 2932897]).cast(pl.Date)
    assert days.dt.year().to_list() == [0, -1, 9999, 10000]
    text, fails = format_field(_f("date", 8), pl.DataFrame({"d": days}), fixed=fixed)
    assert text.to_list()[::2] == ["00000101", "99991231"]
    assert [(x.code, x.mask.tolist()) for x in fails] == [
        ("bad-date", [False, True, False, True])]
    days = pl.Series("d", [dt.date(1929, 12, 31), dt.date(1930, 1, 1), dt.date(2029, 12, 31),
                           dt.date(2030, 1, 1)])
    text, fails = format_field(_f("date", 6, format="YYMMDD", pivot=30),
                               pl.DataFrame({"d": days}), fixed=fixed)
    assert text.to_list()[1:3] == ["300101", "291231"]
    assert [(x.code, x.mask.tolist()) for x in fails] == [
        ("bad-date", [True, False, False, True])]


def test_a_date_of_an_era_its_table_lacks_is_not_written() -> None:
    """An era table of 昭和 and 平成 only: a 大正 or 令和 date has no code to be written
    with (``era-range``), and never takes a neighbour's."""
    eras = CodeTable(name="eras/showa-heisei", codes={"3": "昭和", "4": "平成"})
    days = pl.Series("d", [dt.date(1926, 12, 24), dt.date(1926, 12, 25),
                           dt.date(2019, 4, 30), dt.date(2019, 5, 1)])
    text, fails = format_field(_f("date", 7, format="GYYMMDD", eras=eras),
                               pl.DataFrame({"d": days}))
    assert text.to_list()[1:3] == ["3011225", "4310430"]
    assert [(x.code, x.mask.tolist()) for x in fails] == [
        ("era-range", [True, False, False, True])]
