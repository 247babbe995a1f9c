"""Problems as columns: a table of problems counts and keeps exactly what the same
problems added one by one do, places found by column are those found by decoding, and a
file with a bad value in every record makes a Problem object only for those shown."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import chukan
from chukan import Problem, Report
from chukan.codec import field_text, fields_text
from chukan.report import ProblemTable
from chukan.spec import Field
from chukan.validate import MASK, shapes
from helpers import FIXTURES, KOJIN, KOJIN_CSV, ZENGIN, kojin_records, put

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import numpy.typing as npt

_read = sys.modules["chukan.read"]

_CODES = ("not-digits", "gaiji", "record-length", "noncanonical", "control-char")

problems = st.lists(st.builds(
    Problem, code=st.sampled_from(_CODES), message=st.just(""),
    severity=st.sampled_from(["error", "warning"]),
    file=st.sampled_from([None, "", "a.dat", "b.dat"]),
    record=st.none() | st.integers(1, 6), offset=st.none() | st.integers(0, 30),
    field=st.sampled_from([None, "atena_no", "shimei"])), max_size=30)


def _seen(report: Report) -> tuple[object, ...]:
    # (counts as lists: equal counts are listed in the order first found)
    return (report.problems, len(report), report.total, report.ok,
            report.records_with_errors, list(report.counts_by_code().items()),
            list(report.counts_by_field().items()))


@settings(max_examples=300, deadline=None)
@given(batches=st.lists(problems, max_size=4), cap=st.none() | st.integers(0, 8),
       in_file_order=st.booleans())
def test_a_table_is_reported_as_its_problems_one_by_one(
        batches: list[list[Problem]], cap: int | None, in_file_order: bool) -> None:
    one_by_one = Report(max_problems=cap, in_file_order=in_file_order)
    by_table = Report(max_problems=cap, in_file_order=in_file_order)
    for batch in batches:  # in file order, as a reader's block (codes found in another)
        one_by_one.extend(sorted(batch, key=Problem.sort_key))
        by_table.extend(ProblemTable.of(batch).in_file_order())
    assert _seen(by_table) == _seen(one_by_one)
    absorbed = [Report(), Report(), Report()]
    for into, report in zip(absorbed, (one_by_one, by_table), strict=False):
        into.absorb(report, [replace(p, file=p.file or "c.dat") for p in report.problems],
                    file="c.dat")
    # as validation takes a file's problems over: a table, never made into problems
    fresh = Report(max_problems=cap, in_file_order=in_file_order)
    for batch in batches:
        fresh.extend(ProblemTable.of(batch).in_file_order())
    absorbed[2].absorb(fresh, fresh.table().with_file("c.dat"), file="c.dat")
    assert _seen(absorbed[0]) == _seen(absorbed[1]) == _seen(absorbed[2])


@given(problems)
def test_a_tables_file_order_is_sorted_by_place_stably(found: list[Problem]) -> None:
    assert ProblemTable.of(found).in_file_order().problems() == \
        sorted(found, key=Problem.sort_key)


_BYTES = st.sampled_from([b"0", b"7", b"A", b" ", b"\x00", b"\x09", b"\x7f", b"\x82\xa0",
                          b"\x82", b"\xb1", b"\x81\x40", b"\xe3\x81\x82", b"\xef\xbd\xb1",
                          b"\xa4\xa2", b"\xf0", b"\x0e", b"\x0f", b"\x40", b"\xc1"])


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.lists(_BYTES, min_size=1, max_size=6), min_size=1, max_size=6),
       code=st.sampled_from(["not-digits", "invalid-bytes", "halfwidth-in-fullwidth",
                             "fullwidth-in-halfwidth", "required-missing"]),
       enc=st.sampled_from(["cp932", "shift_jis", "utf-8", "euc_jp", "chukan_ibm930"]),
       packed=st.booleans())
@example(rows=[[b"\xf0", b"\xf1", b"\xc1"]], code="not-digits", enc="chukan_ibm930",
         packed=False)  # EBCDIC digits are not ASCII's
def test_places_found_by_column_are_those_found_by_decoding(
        rows: list[list[bytes]], code: str, enc: str, packed: bool) -> None:
    width = max(len(b"".join(r)) for r in rows)
    raw = np.frombuffer(b"".join(b"".join(r).ljust(width, b" ") for r in rows),
                        np.uint8).reshape(len(rows), width)
    f = Field(name="f", label="項目", type="decimal" if packed else "text", length=width,
              storage="packed" if packed else "display")
    where, which, codes = _read._locate_rows(code, raw, f, enc)
    want = [_read._locate(code, row.tobytes(), f, enc) for row in raw]
    assert list(zip(where.tolist(), [codes[i] for i in which], strict=True)) == want


def _count_made(monkeypatch: pytest.MonkeyPatch, code: str) -> Callable[[], int]:
    """From now on, count the Problem objects made of ``code``: the count, when called."""
    made = 0
    init = Problem.__init__

    def counted(self: Problem, **kwargs: object) -> None:
        nonlocal made
        made += kwargs["code"] == code
        init(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Problem, "__init__", counted)
    return lambda: made


def _fixed_file() -> tuple[bytes, str, int]:
    data = b"".join(put(bytearray(r), 1, b"00A0000001") for r in kojin_records() * 2000)
    return data, KOJIN, 2  # the "A", found by column


def _csv_file() -> tuple[bytes, str, int]:
    head = (FIXTURES / "vendor-a" / "juki-kojin.csv").read_bytes().split(b"\n", 1)[0]
    line = b"00A0000001,\x8eR\x93c,\xd4\xcf\xc0\xde,1975-04-01,01,1,x\r\n"
    return head + b"\n" + line * 10_000, KOJIN_CSV, len(head) + 1  # the cell's start


@pytest.mark.parametrize("make", [_fixed_file, _csv_file])
def test_a_bad_value_in_every_record_makes_a_problem_object_only_for_those_shown(
        monkeypatch: pytest.MonkeyPatch, make: Callable[[], tuple[bytes, str, int]]) -> None:
    data, layout, at = make()
    made = _count_made(monkeypatch, "not-digits")
    report = chukan.validate(data, layout, max_errors=10)
    assert report.counts_by_code()["not-digits"] == 10_000
    assert report.records_with_errors == 10_000
    shown = [p for p in report.problems if p.code == "not-digits"]
    assert [p.record for p in shown] == list(range(1, len(shown) + 1))
    assert len(shown) >= 9
    assert shown[0].offset == at
    assert shown[0].value == "00A0000001"
    assert shown[0].raw == "30 30 41 30 30 30 30 30 30 31"
    assert made() < 100  # (its 外字, one per value, are looked at one by one)


@pytest.mark.parametrize("make", [_fixed_file, _csv_file])
def test_a_masked_report_makes_a_problem_object_only_for_those_shown(
        monkeypatch: pytest.MonkeyPatch, make: Callable[[], tuple[bytes, str, int]]) -> None:
    data, layout, _ = make()
    plain = chukan.validate(data, layout)
    made = _count_made(monkeypatch, "not-digits")
    masked = chukan.validate(data, layout, mask=True)
    assert made() < 100  # (10,000 when each problem was masked as it was reported)
    assert masked.counts_by_code() == plain.counts_by_code()
    # each shown as the unmasked problem masked on its own, and all of them at once too
    assert masked.problems == [MASK(p) for p in plain.problems]
    assert masked.problems[0].raw == "<10 bytes>"
    details = plain.table().details()
    assert masked.table().details().equals(
        details.with_columns(shapes(details["value"]).alias("value")))


def test_the_writer_says_where_each_refused_value_lands_in_a_multi_record_file(
        tmp_path: Path) -> None:
    frames = chukan.read_records(FIXTURES / "zengin" / "kouza-furikae.dat", ZENGIN)
    data = frames["data"].with_columns(pl.lit("ｱ" * 16).alias("ginko_mei"))  # 15 bytes
    report = Report()
    chukan.write_records({**frames, "data": data}, tmp_path / "z.dat", ZENGIN, report=report)
    assert [(p.code, p.record, p.offset, p.field, p.value) for p in report] == [
        ("width-overflow", r, (r - 1) * 122 + 5, "ginko_mei", "ｱ" * 16) for r in (2, 3, 4)]
    assert all(p.message.endswith("(16バイト)") for p in report)


def test_the_writer_makes_a_problem_object_only_for_those_shown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = chukan.read(FIXTURES / "vendor-a" / "juki-kojin.dat", KOJIN)
    wide = pl.concat([frame] * 2000).with_columns(pl.lit("ｱ" * 41).alias("shimei_kana"))
    made = _count_made(monkeypatch, "width-overflow")
    report = Report(max_problems=10)
    chukan.write(wide, tmp_path / "k.dat", KOJIN, report=report)
    assert report.counts_by_code()["width-overflow"] == 10_000
    assert [p.record for p in report] == list(range(1, 11))
    assert made() <= 10


#: lines of a KOJIN file (200 bytes and CRLF): whole, without their CR, cut to a length
lines = st.lists(st.tuples(st.sampled_from(["whole", "lf", "cut"]), st.integers(0, 260)),
                 min_size=1, max_size=12)


def _line(record: bytes, kind: str, length: int) -> bytes:
    body = record[:200]
    if kind == "lf":
        return body + b"\n"
    if kind == "cut":  # shorter, or longer with the record again after it
        return (body * 2)[:length] + b"\r\n" if length != 200 else body + b"\r\n"
    return body + b"\r\n"


@settings(max_examples=60, deadline=None)
@given(kinds=lines)
@example(kinds=[("cut", 30), ("lf", 0), ("cut", 100)])
def test_a_whole_records_problems_are_said_as_one_by_one(
        kinds: list[tuple[str, int]]) -> None:
    records = [bytes(r) for r in kojin_records()]
    built = [_line(records[i % len(records)], kind, n) for i, (kind, n) in enumerate(kinds)]
    want, at = [], 0
    for number, line in enumerate(built, 1):  # the oracle: each line on its own
        if line[-2:-1] != b"\r":
            want.append(("terminator-mixed", number, at + len(line) - 1, line[-2:].hex(" "),
                         "改行コードがCRLFではありません"))
        elif len(line) != 202:
            shown = line[:64].hex(" ") + (" …" if len(line) > 64 else "")
            want.append(("record-length", number, at, shown,
                         f"レコード長が{len(line) - 2}バイトです(レイアウトは200バイト)"))
        at += len(line)
    report = chukan.validate(b"".join(built), KOJIN)
    found = [(p.code, p.record, p.offset, p.raw, p.message) for p in report
             if p.code in ("record-length", "terminator-mixed")]
    assert found == want


def test_a_csv_rows_columns_are_said_with_its_first_bytes() -> None:
    head = (FIXTURES / "vendor-a" / "juki-kojin.csv").read_bytes().split(b"\n", 1)[0]
    rows = [b"1,2", b"x" * 70 + b",y"]
    report = chukan.validate(head + b"\n" + b"\r\n".join(rows) + b"\r\n", KOJIN_CSV)
    found = [(p.record, p.offset, p.raw, p.message) for p in report
             if p.code == "csv-columns"]
    assert found == [
        (1, len(head) + 1, "31 2c 32", "列数が2です(レイアウトは7列)"),
        (2, len(head) + 6, "78 " * 63 + "78 …", "列数が2です(レイアウトは7列)")]


@pytest.mark.parametrize("make", [
    lambda: (b"".join(bytes(r[:150]) + b"\r\n" for r in kojin_records() * 2000), KOJIN),
    lambda: ((FIXTURES / "vendor-a" / "juki-kojin.csv").read_bytes().split(b"\n", 1)[0]
             + b"\n" + b"1,2\r\n" * 10_000, KOJIN_CSV)])
def test_a_wrong_record_in_every_line_makes_a_problem_object_only_for_those_shown(
        monkeypatch: pytest.MonkeyPatch, make: Callable[[], tuple[bytes, str]]) -> None:
    data, layout = make()
    code = "record-length" if layout == KOJIN else "csv-columns"
    made = _count_made(monkeypatch, code)
    report = chukan.validate(data, layout, max_errors=10)
    assert report.counts_by_code()[code] == 10_000
    assert [p.record for p in report if p.code == code][:3] == [1, 2, 3]
    assert made() <= 20  # (each shown is made, then again with the file's name)


def test_a_key_repeated_in_every_record_makes_a_problem_object_only_for_those_shown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    records = kojin_records()
    data = b"".join(bytes(records[0]) for _ in range(10_000))  # one 宛名番号 throughout
    made = _count_made(monkeypatch, "duplicate-key")
    report = chukan.validate(data, KOJIN, max_errors=10)
    assert report.counts_by_code()["duplicate-key"] == 9_999
    shown = [p for p in report if p.code == "duplicate-key"]
    assert [(p.record, p.offset) for p in shown[:2]] == [(2, 202), (3, 404)]
    assert shown[0].message == "宛名番号が記録1と重複しています"
    assert (shown[0].value, shown[0].raw) == ("0000000001", "30 " * 9 + "31")
    assert made() <= 20  # (each shown is made, then again with the file's name)


def test_a_reference_failing_in_every_record_makes_a_problem_object_only_for_those_shown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = kojin_records()
    kojin = tmp_path / "kojin.dat"
    kojin.write_bytes(b"".join(bytes(put(bytearray(records[i % 5]), 11, b"%010d" % (900 + i)))
                               for i in range(5_000)))  # no household of theirs exists
    made = _count_made(monkeypatch, "missing-reference")
    report = chukan.validate_set("examples/vendor-a/juki-set", {
        "kojin": kojin, "setai": FIXTURES / "vendor-a" / "juki-setai.dat"}, max_errors=10)
    assert report.counts_by_code()["missing-reference"] == 5_000
    assert made() <= 10


def _held(report: Report) -> int:
    """The bytes of Polars buffers that the details of a report's tables hold (before
    its problems are listed, which makes them and lets the tables go)."""
    held = 0
    for s in report.table().sources:
        for name in ("rows", "values"):
            kept = getattr(s.detail, name, None)
            if isinstance(kept, pl.DataFrame | pl.Series):
                arrays = kept.to_arrow(compat_level=pl.CompatLevel.newest())
                columns = arrays.columns if isinstance(arrays, pa.Table) else [arrays]
                held += sum(b.size for c in columns for chunk in getattr(c, "chunks", [c])
                            for b in chunk.buffers() if b is not None)
    return held


def _repeated_key() -> Report:
    records = [bytes(put(bytearray(kojin_records()[0]), 1, b"%010d" % i))
               for i in range(1, 20_001)]
    records[-1] = records[0]  # the last record repeats the first one's 宛名番号
    return chukan.validate(b"".join(records), KOJIN)


def _long_csv_cells() -> Report:
    head = (FIXTURES / "vendor-a" / "juki-kojin.csv").read_bytes().split(b"\n", 1)[0]
    line = "{:010d},山田　太郎左衛門{},ﾔﾏﾀﾞ,1975-04-01,01,1,x\r\n"
    rows = [line.format(i, "ｱ" if i == 19_999 else "") for i in range(1, 20_001)]
    return chukan.validate(head + b"\n" + "".join(rows).encode("cp932"), KOJIN_CSV)


def _long_refused_values(tmp_path: Path) -> Report:
    frame = chukan.read(FIXTURES / "vendor-a" / "juki-kojin.dat", KOJIN)
    row = pl.int_range(pl.len())
    wide = pl.concat([frame] * 4000).with_columns(  # long values: in the column's buffers
        pl.when(row == 5).then(pl.lit("ｱ" * 41)).otherwise(pl.format("ﾔﾏﾀﾞ ﾀﾛｳ{}", row))
        .alias("shimei_kana"))
    report = Report()
    chukan.write(wide, tmp_path / "k.dat", KOJIN, report=report)
    return report


@pytest.mark.parametrize("make", [_repeated_key, _long_csv_cells, _long_refused_values])
def test_a_reports_tables_hold_their_own_rows_not_the_columns_they_came_from(
        make: Callable[..., Report], tmp_path: Path) -> None:
    """From review: a table's rows were a filter or gather of the whole column, whose
    buffers they share: a report kept with one problem held its column's memory."""
    report = make(tmp_path) if make is _long_refused_values else make()
    assert report.total == 1, report.counts_by_code()
    assert _held(report) < 1_000


# --------------------------------------------------------------------------------------
# A table's details by column (a conversion's reasons for every rejected record)

_PALETTE = b"\xff\x41\x00\x0e\x0f\x81\x40\x80\xf0\x20\x07\x8e\xa0"


def _mutated(name: str, seed: int, *, cut: bool = False) -> bytes:
    rng = np.random.default_rng(seed)
    whole = (FIXTURES / name).read_bytes()
    head = whole.index(b"\n") + 1 if name.endswith(".csv") else 0  # (a CSV's header kept)
    data = bytearray(whole[:head] + whole[head:] * 4)
    at = rng.integers(head, len(data), 40)
    data_at = np.frombuffer(_PALETTE, np.uint8)[rng.integers(0, len(_PALETTE), 40)]
    for i, b in zip(at.tolist(), data_at.tolist(), strict=True):
        data[i] = b
    if cut:  # lines of the wrong length
        data[300:305] = b""
    return bytes(data)


def _columns_and_objects(report: Report, at_least: int = 5) -> None:
    table = report.table()
    assert len(table) >= at_least
    got = table.details()
    want = [(p.code, p.severity, p.message, p.file, p.record, p.offset, p.field, p.label,
             p.value) for p in table.problems()]
    assert got.columns == ["code", "severity", "message", "file", "record", "offset",
                           "field", "label", "value"]
    assert got.rows() == want


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("name", "layout"), [
    ("vendor-a/juki-kojin.dat", KOJIN),
    ("mainframe/juki-kojin-ibm930.dat", "examples/mainframe/juki-kojin-ibm930"),
    ("mainframe/juki-kojin-jef.dat", "examples/mainframe/juki-kojin-jef"),
    ("mainframe/nouzei.dat", "examples/mainframe/nouzei"),  # packed decimals: no text
    ("vendor-a/juki-kojin.csv", KOJIN_CSV),
    ("zengin/kouza-furikae.dat", ZENGIN)])
def test_a_tables_details_by_column_are_its_problems_one_by_one(
        name: str, layout: str, seed: int) -> None:
    """Every kind of row a reader finds (a field's bytes decoded in each encoding, a
    CSV cell, a line's length, a repeated key), by column as made one by one."""
    _columns_and_objects(chukan.validate(_mutated(name, seed, cut=seed == 3), layout))


def test_a_writers_table_details_by_column_are_its_problems_one_by_one(
        tmp_path: Path) -> None:
    _columns_and_objects(_long_refused_values(tmp_path), 1)
    frame = chukan.read(FIXTURES / "vendor-a" / "juki-kojin.dat", KOJIN)
    odd = pl.concat([frame] * 3).with_columns(  # not in CP932; too long
        pl.Series("shimei_kanji", ["\u00e9", "山" * 11, None] * 5))
    report = Report()
    chukan.write(odd, tmp_path / "k.dat", KOJIN, report=report)
    _columns_and_objects(report)


def test_a_sets_table_details_by_column_are_its_problems_one_by_one(tmp_path: Path) -> None:
    records = kojin_records()
    kojin = tmp_path / "kojin.dat"
    kojin.write_bytes(b"".join(bytes(put(bytearray(records[i % 5]), 11, b"%010d" % (900 + i)))
                               for i in range(20)))
    _columns_and_objects(chukan.validate_set("examples/vendor-a/juki-set", {
        "kojin": kojin, "setai": FIXTURES / "vendor-a" / "juki-setai.dat"}))


def test_a_conversion_rejecting_every_record_makes_no_problem_object_for_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each reject was a Problem, then a reason, then a line joined in Python (1,000,000
    records with 150,000 rejects: 8.7 s against 1.8 s clean)."""
    data = b"".join(put(bytearray(r), 1, b"00A0000001") for r in kojin_records() * 400)
    made = _count_made(monkeypatch, "not-digits")
    result = chukan.convert(data, "examples/vendor-a/kojin-to-kihon", tmp_path / "o.csv")
    assert (result.records_rejected, result.records_out) == (2000, 0)
    rejects = pl.read_csv(result.rejects, infer_schema=False)  # type: ignore[arg-type]
    assert rejects["values"].unique().to_list() == ["00A0000001"]
    assert rejects["raw"][7] == data[7 * 202:8 * 202].hex(" ")
    assert made() == 0


def test_a_conversion_whose_target_refuses_every_record_makes_no_problem_object_for_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head, *rows = (FIXTURES / "vendor-a" / "juki-kojin.kihon.csv").read_bytes() \
        .decode("utf-8-sig").splitlines()
    wide = [",".join([c if i != 7 else "山" * 60 for i, c in enumerate(r.split(","))])
            for r in rows]
    src = tmp_path / "in.csv"
    src.write_bytes(("\r\n".join([head, *wide * 400]) + "\r\n").encode("utf-8"))
    made = _count_made(monkeypatch, "width-overflow")
    result = chukan.convert(src, "examples/vendor-a/kojin-to-kihon", tmp_path / "o.dat",
                            reverse=True)
    assert result.records_rejected == 2000
    assert result.rejects_by_reason == {"width-overflow": 2000}
    assert made() == 0


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.binary(min_size=4, max_size=4), max_size=8),
       enc=st.sampled_from(["cp932", "shift_jis", "utf-8", "euc_jp", "chukan_ibm930",
                            "chukan_jef"]),
       shift=st.sampled_from(["none", "so-si", "graphic"]))
@example(rows=[b"12 \x8e", b"\x80\xa0\xfd\xff"], enc="cp932", shift="none")
def test_values_decoded_at_once_are_those_decoded_one_by_one(
        rows: list[bytes], enc: str, shift: str) -> None:
    """The core decodes the rows that decode strictly; the others are CPython's reading,
    as one by one."""
    raw = np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), 4)
    assert fields_text(raw, enc, shift).to_list() == [field_text(r, enc, shift) for r in rows]


def test_a_block_and_a_spark_range_with_a_bad_value_in_every_record_make_no_problem_object(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """decode_block gave a list of Problems: a Spark task made one per bad value."""
    from chukan.spark._plan import plan_bytes  # noqa: PLC0415 -- the Spark extra's
    from chukan.spark._task import validate_part  # noqa: PLC0415

    data, layout, at = _fixed_file()
    made = _count_made(monkeypatch, "not-digits")
    block = chukan.decode_block(data, layout)
    assert len(block.table) == 10_000
    assert block.table.details()["value"].unique().to_list() == ["00A0000001"]
    lay = chukan.load_layout(layout)
    plan = plan_bytes(data, lay, "k.dat", 1, part_bytes=len(data) // 3)
    checked = [validate_part(plan, part, lay, data[part.start:part.end], repertoire=None,
                             max_errors=10, counters=None) for part in plan.parts]
    assert len(checked) >= 3
    assert sum(c.report.counts_by_code()["not-digits"] for c in checked) == 10_000
    assert made() <= 10 * len(checked)
    assert [(p.file, p.offset) for p in checked[0].report.problems][:1] == [("k.dat", at)]
    assert block.problems[0].offset == at  # (made when asked for)


@settings(max_examples=100, deadline=None)
@given(spans=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 300)), max_size=40),
       window=st.sampled_from([1, 64, 1000, 1 << 24]))
def test_spans_read_again_by_window_are_those_gathered_in_memory(
        tmp_path_factory: pytest.TempPathFactory, spans: list[tuple[int, int]],
        window: int) -> None:
    files = sys.modules["chukan._files"]
    data = bytes(range(256)) * 10
    path = tmp_path_factory.mktemp("r") / "f.dat"
    path.write_bytes(data)
    offsets = np.array([o for o, _ in spans], np.int64)
    lengths = np.array([n for _, n in spans], np.int64)
    saved, files.REREAD_WINDOW = files.REREAD_WINDOW, window
    try:
        with files.rereading(path) as read:
            got, at = read(offsets, lengths)
    finally:
        files.REREAD_WINDOW = saved
    want, want_at = files.gathered(np.frombuffer(data, np.uint8), offsets, lengths)
    assert got.tobytes() == want.tobytes()
    assert at.tolist() == want_at.tolist()


def test_a_file_cut_short_while_its_gaiji_are_read_again_gives_fewer_bytes(
        tmp_path: Path) -> None:
    """From review: a map of the file held for the whole validation killed the process
    (SIGBUS) when another cut the file short meanwhile."""
    files = sys.modules["chukan._files"]
    path = tmp_path / "f.dat"
    path.write_bytes(b"x" * 10_000)
    with files.rereading(path) as read:
        assert read(np.array([9_000]), np.array([10]))[0].tobytes() == b"x" * 10
        path.write_bytes(b"y" * 100)  # cut short
        got, at = read(np.array([50, 9_000]), np.array([100, 10]))
    assert (got.tobytes(), at.tolist()) == (b"y" * 50, [0, 50, 50])


def test_refused_values_of_every_type_are_spelled_as_str_spells_them(tmp_path: Path) -> None:
    """From review: details by column cast floats, decimals and datetimes in Polars'
    spelling (1e-7, 0.000000001), where a Problem shows str()'s (1e-07, 1E-9)."""
    (tmp_path / "w.toml").write_text(
        '[layout]\nname = "t/w"\nformat = "fixed"\nencoding = "cp932"\nrecord_length = 30\n'
        'terminator = "lf"\n[[field]]\nname = "x"\nlength = 10\ntype = "decimal"\nscale = 2\n'
        '[[field]]\nname = "y"\nlength = 12\ntype = "decimal"\nscale = 9\n'
        '[[field]]\nname = "z"\nlength = 8\ntype = "date"\nformat = "YYYYMMDD"\n',
        encoding="utf-8")
    frame = pl.DataFrame({"x": [1e-7, float("nan")],
                          "y": [Decimal("-1E-9"), Decimal("-1E-9")],
                          "z": [datetime(2020, 1, 1, 10), datetime(2020, 1, 1, 10)]})
    report = Report()
    chukan.write(frame, tmp_path / "o.dat", tmp_path / "w.toml", report=report)
    table = report.table()
    assert len(table) >= 3
    assert table.details()["value"].to_list() == [p.value for p in table.problems()]
    assert {"1e-07", "-1E-9"} <= set(table.details()["value"].to_list())


class _CountingFrames:
    """Polars, but counting the DataFrames made through it."""

    def __init__(self) -> None:
        self.made = 0

    def __getattr__(self, name: str) -> object:
        return getattr(pl, name)

    def DataFrame(self, *args: object, **kwargs: object) -> pl.DataFrame:  # noqa: N802 -- Polars's name
        self.made += 1
        return pl.DataFrame(*args, **kwargs)  # type: ignore[arg-type]


def test_a_tables_details_make_one_frame_whatever_its_sources(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A table's details were a frame per source (a check on a field in a block), 2 ms
    each: a conversion in batches of 100 records with bad values in many fields spent a
    fifth of its time there (25 s against 20 s before tables). The rows are as made one
    by one, whatever the number of sources."""
    found = chukan.validate(_mutated("vendor-a/juki-kojin.dat", 1), KOJIN).table()
    table = ProblemTable.of([found] * 40)
    assert len(table.sources) >= 80
    counting = _CountingFrames()
    monkeypatch.setattr(sys.modules["chukan.report"], "pl", counting)
    got = table.details()
    assert counting.made <= 2
    monkeypatch.undo()
    assert got.rows() == [(p.code, p.severity, p.message, p.file, p.record, p.offset,
                           p.field, p.label, p.value) for p in table.problems()]


@dataclass(frozen=True)
class _Worded:
    """A detail whose rows have their own words, some of them empty."""

    words: tuple[str, ...]

    def __call__(self, i: int) -> tuple[bytes, str | None, str | None]:
        return b"x", "v", self.words[i]

    def texts(self, rows: npt.NDArray[np.intp]) -> tuple[pl.Series, pl.Series | None]:
        return (pl.Series(["v"] * len(rows), dtype=pl.String),
                pl.Series([self.words[int(r)] for r in rows], dtype=pl.String))


def test_a_rows_empty_words_fall_back_to_its_checks_in_details_as_in_problems() -> None:
    """A row's own words of "" say nothing: its check's words (or the registry's) are
    shown, by column as one by one."""
    for message in ("その検査の言葉", None):
        table = ProblemTable.found(
            codes=("not-digits",), code=np.zeros(3, np.intp), record=np.arange(1, 4),
            offset=np.zeros(3, np.int64), detail=_Worded(("", "自分の言葉", "")),
            file=None, field="f", label=None, message=message)
        got = table.details()["message"].to_list()
        assert got == [p.message for p in table.problems()]
        assert got[1] == "自分の言葉" and got[0] == got[2] != ""


def test_counts_come_largest_first_then_by_name_whatever_the_order_they_came_in() -> None:
    found = [Problem(code=code, message="", field=name) for code, name in [
        ("not-digits", "b"), ("gaiji", "a"), ("control-char", "c"), ("control-char", "c")]]
    one, other = Report(), Report()
    one.extend(found)
    other.extend(found[::-1])
    for report in (one, other):
        assert list(report.counts_by_code().items()) == [
            ("control-char", 2), ("gaiji", 1), ("not-digits", 1)]
        assert list(report.counts_by_field().items()) == [("c", 2), ("a", 1), ("b", 1)]
