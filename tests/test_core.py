"""The compiled core against its oracles (issue 9): its decoding tables are CPython's
codecs, and its kernel gives what the Python kernel gives, value for value and flag for
flag, on random blocks of records, so that everything tested on one holds on the other."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import chukan
from chukan import _kernel
from chukan._arrow import private_use_columns
from chukan._kernel import ColumnSpec, extract
from chukan.codec import (
    date_bytes,
    era_codes,
    number_form,
    writer_codes,
)
from chukan.codec._base import _f
from chukan.codec.dates import _parse_date_full
from chukan.codec.numbers import _parse_number_full
from chukan.report import made
from chukan.spec import DATE_WIDTHS, ENCODING_FACTS
from helpers import FIXTURES, KOJIN, ROOT, kojin_bytes
from reference_kernel import extract_python

if TYPE_CHECKING:
    import numpy.typing as npt

    from chukan.layout import Field

#: the codecs the compiled core decodes that the Python kernel decodes too
# EBCDIC is not here: the Python kernel has no EBCDIC; its oracle is glibc iconv
# (tests/test_ebcdic.py)
CORE_CODECS = tuple(dict.fromkeys(e.codec for e in ENCODING_FACTS.values() if not e.ebcdic))
T = TypeVar("T")


def _on_python_paths(work: Callable[[], T]) -> T:
    """``work`` run with ``CHUKAN_KERNEL=python``: on the Python paths the core is
    compared against."""
    os.environ["CHUKAN_KERNEL"] = "python"
    try:
        return work()
    finally:
        del os.environ["CHUKAN_KERNEL"]


def test_the_python_paths_read_with_the_reference_kernel(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest.py puts the reference kernel in place: without it every comparison of
    the core with the Python paths would compare the core with itself."""
    assert _kernel.REFERENCE is extract_python
    calls: list[int] = []

    def counted(*args: Any) -> Any:
        calls.append(1)
        return extract_python(*args)

    monkeypatch.setattr(_kernel, "REFERENCE", counted)
    data, layout = FIXTURES / "vendor-a/juki-kojin.dat", "examples/vendor-a/juki-kojin"
    core = chukan.read(data, layout)
    assert not calls
    assert _on_python_paths(lambda: chukan.read(data, layout)).equals(core)
    assert calls


def _reads_alike_on_both_kernels(data: bytes, layout: chukan.Layout) -> None:
    """``data`` read in ``layout`` by the core and on the Python paths: the same frame,
    and the same problems."""
    def read() -> tuple[pl.DataFrame, list[str]]:
        report = chukan.Report()
        frame = chukan.read(data, layout, report=report)
        return frame, [str(p) for p in report.problems]

    core_frame, core_problems = read()
    python_frame, python_problems = _on_python_paths(read)
    assert core_frame.equals(python_frame, null_equal=True)
    assert core_problems == python_problems


_spec = importlib.util.spec_from_file_location("gen_tables", ROOT / "core" / "gen_tables.py")
assert _spec is not None and _spec.loader is not None
gen_tables = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_tables)


@pytest.mark.parametrize("codec", ["cp932", "shift_jis", "euc_jp"])
def test_the_committed_tables_are_cpythons_codecs(codec: str) -> None:
    committed = (ROOT / "core" / "tables" / f"{codec}.bin").read_bytes()
    assert committed == gen_tables.table(codec)


#: byte pieces that matter: spaces, U+3000 in each encoding, ASCII, half-width kana,
#: kanji, NEC/IBM extensions, 外字, control bytes, DEL, undefined bytes, cut pairs
PIECES = [b" ", b"  ", b"\x81\x40", "\u3000".encode(), b"A", b"0", b"\xb1", b"\x8eR",
          b"\xfb\xfc", b"\xed\x40", b"\xf0\x40", b"\x01", b"\x7f", b"\x80", b"\xa0",
          b"\xfd", b"\x81", "山".encode(), "ｱ".encode(), b"\xe5", b"\x0a", b"\x81\x60",
          "\ufffd".encode(),
          # EUC-JP: U+3000, ｱ after 0x8E, 丂 after 0x8F (JIS X 0212), one cut, 山
          b"\xa1\xa1", b"\x8e\xb1", b"\x8f\xb0\xa1", b"\x8f\xb0", b"\xbb\xb3"]


@st.composite
def blocks(draw: st.DrawFn) -> tuple[np.ndarray, list[ColumnSpec], str]:
    width = draw(st.integers(1, 16))
    n = draw(st.integers(0, 8))
    rows = []
    for _ in range(n):
        row = b"".join(draw(st.lists(st.sampled_from(PIECES), max_size=width)))
        rows.append((row + b" " * width)[:width])
    matrix = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(n, width)
    specs = []
    for _ in range(draw(st.integers(1, 4))):
        offset = draw(st.integers(0, width - 1))
        length = draw(st.integers(1, width - offset))
        kind = draw(st.sampled_from(["ascii", "text", "fullwidth"]))
        check = draw(st.sampled_from(["digits", ""] if kind == "ascii" else
                                     ["fullwidth", "halfwidth", ""]))
        specs.append(ColumnSpec(offset, length, kind, draw(st.sampled_from(["\u3000", " "])),
                                check=check))
    return matrix, specs, draw(st.sampled_from(CORE_CODECS))


def _block(rows: list[bytes], specs: list[ColumnSpec], codec: str
           ) -> tuple[np.ndarray, list[ColumnSpec], str]:
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), -1), specs, codec


FULL = ColumnSpec(0, 6, "fullwidth")
SPACES = ColumnSpec(0, 6, "fullwidth", " ")


@settings(max_examples=600, deadline=None)
@given(blocks())
# each branch of the kernels at least once, whatever the random blocks hold
@example(_block(["山   ".encode(), "山\u3000".encode()], [FULL, SPACES], "utf-8"))
@example(_block(["山".encode() + b"   ", b"      "], [FULL, SPACES], "utf-8"))
@example(_block([b"\x8eR  \x81@", b"\x8eR\x81@  ", b"A \x81@  "], [FULL, SPACES], "cp932"))
@example(_block([b"\x8eR\x93cA", b"\x8eR \x81@"], [ColumnSpec(0, 5, "fullwidth")], "cp932"))
@example(_block([b"\x8eR\x01  ", b"\x7f\x8eR  "],
                [ColumnSpec(0, 5, "fullwidth"), ColumnSpec(0, 3, "ascii")], "cp932"))
@example(_block([b"\x81`\xfb\xfc", b"\x80\xa0\xfd "], [ColumnSpec(0, 4, "text")], "shift_jis"))
@example(_block(["ｱ A ".encode("cp932"), b"12? ", "山  ".encode("cp932")],
                [ColumnSpec(0, 4, "text", check="halfwidth"),
                 ColumnSpec(0, 4, "fullwidth", check="fullwidth"),
                 ColumnSpec(0, 2, "ascii", check="digits")], "cp932"))
# ASCII fields of up to 12 bytes (straight into their views) and longer (through the
# buffer), each with a byte that is not printable ASCII and one all spaces
@example(_block([b"0123456789\x0112\x8eR ", b"  \x7f3" + b" " * 12, b" " * 16],
                [ColumnSpec(0, 16, "ascii", check="digits"),
                 ColumnSpec(2, 4, "ascii", check="digits")], "cp932"))
# EUC-JP's three-byte characters, cut ones, U+3000 padding and half-width katakana
@example(_block([b"\x8f\xb0\xa1\xa1\xa1 ", b"\x8e\xb1\x8f\xb0 A", b"\xbb\xb3 \xa1\xa1 "],
                [ColumnSpec(0, 6, "fullwidth", check="fullwidth"),
                 ColumnSpec(0, 5, "text", check="halfwidth"), SPACES], "euc_jp"))
def test_the_core_gives_what_the_python_kernel_gives(
        block: tuple[np.ndarray, list[ColumnSpec], str]) -> None:
    matrix, specs, codec = block
    core = extract(matrix, specs, codec)
    oracle = extract_python(matrix, specs, codec)
    for spec, got, want in zip(specs, core, oracle, strict=True):
        where = f"{spec} {codec} {matrix.tobytes()!r}"
        assert got.values.to_list() == want.values.to_list(), where
        assert got.control.tolist() == want.control.tolist(), where
        assert got.invalid.tolist() == want.invalid.tolist(), where
        assert (got.failed is None) == (want.failed is None), where
        if got.failed is not None and want.failed is not None:
            assert got.failed.tolist() == want.failed.tolist(), where
        # padding is reported only for values that decoded (read.py masks the rest)
        if want.padding is None:
            assert got.padding is None, where
        else:
            assert got.padding is not None, where
            assert (got.padding & ~got.invalid).tolist() == \
                (want.padding & ~want.invalid).tolist(), where


#: a date or number field of each short path, as a layout declares it
TYPED_FIELDS = {
    "YYYYMMDD": _f("date", 8, format="YYYYMMDD"),
    "YYYY-MM-DD": _f("date", 10, format="YYYY-MM-DD"),
    "YYMMDD": _f("date", 6, format="YYMMDD", pivot=30),
    "GYYMMDD": _f("date", 7, format="GYYMMDD"),
    "GGYYMMDD": _f("date", 8, format="GGYYMMDD"),
    "unsigned": _f("integer", 7),
    "signed-integer": _f("integer", 6, signed=True),
    "signed-display": _f("decimal", 6, signed=True, scale=2),
    "long": _f("integer", 17, signed=True),
}


def _typed_spec(f: Field) -> ColumnSpec:
    if f.type == "date":
        return ColumnSpec(0, f.length, "date",
                          date=(f.format or "", f.pivot or 0, era_codes(f), writer_codes(f)))
    form = number_form(f)
    assert form is not None
    return ColumnSpec(0, f.length, form)


@st.composite
def typed_blocks(draw: st.DrawFn) -> tuple[Field, np.ndarray]:
    """Rows of one date or number field: mostly digits (so that some are valid), with
    the bytes that make them not so (spaces, signs, dashes, letters, high bytes)."""
    f = draw(st.sampled_from(list(TYPED_FIELDS.values())))
    byte = st.one_of(st.sampled_from(b"0123456789"), st.sampled_from(b"0123456789"),
                     st.sampled_from(b" -+x\x82\x00"))
    rows = draw(st.lists(st.binary(min_size=0, max_size=0).flatmap(
        lambda _: st.lists(byte, min_size=f.length, max_size=f.length)), max_size=12))
    if f.format == "YYYY-MM-DD":  # dashes where they belong, mostly
        rows = [[*r[:4], 0x2D, *r[5:7], 0x2D, *r[8:]] if k % 4 else r
                for k, r in enumerate(rows)]
    data = bytes(b for r in rows for b in r)
    return f, np.frombuffer(data, dtype=np.uint8).reshape(len(rows), f.length)


def _era_edges() -> list[bytes]:
    """Era dates either side of each era's first day, with 1- and 2-digit codes."""
    return [b"3640107", b"3640108", b"4010107", b"4010108", b"4310430", b"4310501",
            b"5010501", b"1450730", b"2010730", b"2151225", b"3011225", b"3011224",
            b"1450729", b"2150101"]


@settings(max_examples=500, deadline=None)
@given(typed_blocks())
@example((TYPED_FIELDS["GYYMMDD"],
          np.frombuffer(b"".join(_era_edges()), dtype=np.uint8).reshape(-1, 7)))
@example((TYPED_FIELDS["YYYYMMDD"], np.frombuffer(
    b"20240229202302290000010119700101", dtype=np.uint8).reshape(-1, 8)))
@example((TYPED_FIELDS["signed-integer"], np.frombuffer(
    b"-00012100000 -0001+00012", dtype=np.uint8).reshape(-1, 6)))
def test_the_short_paths_take_only_what_the_full_parsers_take(
        block: tuple[Field, np.ndarray]) -> None:
    """The core's dates and numbers equal the Python kernel's, and every row they take
    reads to the same value, with no problem, in the full parser."""
    f, matrix = block
    spec = _typed_spec(f)
    (core,), (oracle,) = extract(matrix, [spec], "cp932"), extract_python(matrix, [spec],
                                                                          "cp932")
    assert core.taken is not None and oracle.taken is not None
    assert core.numbers is not None and oracle.numbers is not None
    where = f"{spec} {matrix.tobytes()!r}"
    assert core.taken.tolist() == oracle.taken.tolist(), where
    assert core.numbers.tolist() == oracle.numbers.tolist(), where
    rows = np.flatnonzero(core.taken)
    full, failures = (_parse_date_full if f.type == "date" else _parse_number_full)(
        f, matrix[rows])
    assert not any(x.mask.any() for x in failures), where
    if f.type == "date":
        assert full[f"{f.name}_partial"].null_count() == len(rows), where
        got = full[f.name].cast(pl.Int32).to_list()
        written, _, _ = date_bytes(f, full)  # and they are written back as read
        assert written.tobytes() == matrix[rows].tobytes(), where
    else:
        got = full[f.name].cast(pl.Int64).to_list() if f.type == "integer" else \
            [None if v is None else int(v * 10 ** f.scale) for v in full[f.name].to_list()]
    assert got == core.numbers[rows].tolist(), where


def test_a_strided_block_is_read_in_place() -> None:
    """Records with a terminator: the matrix is a view whose rows are two bytes apart."""
    data = np.frombuffer("山田\r\n髙橋\r\n".encode("cp932"), dtype=np.uint8)
    matrix = data.reshape(2, 6)[:, :4]
    (column,) = extract(matrix, [ColumnSpec(0, 4, "fullwidth")], "cp932")
    assert column.values.to_list() == ["山田", "髙橋"]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40), st.integers(1, 12), st.data())
def test_the_core_translates_columns_as_numpy_indexing_does(n: int, record: int,
                                                             data: st.DataObject) -> None:
    """The EBCDIC reader's numbers and dates in ASCII: each column through the page's
    table, as ``table[matrix[:, a:b]]``, from records with a terminator between them."""
    from chukan import _core  # noqa: PLC0415
    from chukan._kernel import flat_rows  # noqa: PLC0415
    from chukan.codec.ebcdic import to_ascii  # noqa: PLC0415

    raw = data.draw(st.binary(min_size=n * (record + 2), max_size=n * (record + 2)))
    matrix = np.frombuffer(raw, dtype=np.uint8).reshape(n, record + 2)[:, :record]
    starts = data.draw(st.lists(st.integers(0, record - 1), max_size=4))
    spans = [(a, data.draw(st.integers(0, record - a))) for a in starts]
    table = to_ascii(data.draw(st.sampled_from(["ibm930", "ibm939"])))
    flat, stride = flat_rows(matrix) if n else (np.zeros(0, np.uint8), record + 2)
    got = _core.translated_columns(np.ascontiguousarray(flat), n, stride, spans,
                                   table.tobytes())
    for (a, length), column in zip(spans, got, strict=True):
        assert column.tolist() == table[matrix[:, a:a + length]].ravel().tolist()
    # records of no bytes hold only empty columns
    assert [c.size for c in _core.translated_columns(_zeros(0), n, 0, [(0, 0)],
                                                     table.tobytes())] == [0]


def test_a_field_outside_the_records_is_an_error_not_a_crash() -> None:
    from chukan import _core  # noqa: PLC0415

    with pytest.raises(ValueError, match="outside the records"):
        _core.extract(np.zeros(4, dtype=np.uint8), 2, 2, [(1, 4, "text", True, "", None)], "cp932")
    with pytest.raises(ValueError, match="does not decode"):
        _core.extract(np.zeros(4, dtype=np.uint8), 2, 2, [(0, 1, "text", True, "", None)], "ascii")
    # a table of rewritten pairs where a character may be three bytes (EUC-JP)
    with pytest.raises(ValueError, match="two-byte characters"):
        _core.extract(np.zeros(4, dtype=np.uint8), 2, 2, [(0, 1, "text", True, "", None)],
                      "euc_jp", 1, np.zeros(128 * 256, dtype=bool))


SAMPLES = [
    ("vendor-a/juki-kojin.dat", "examples/vendor-a/juki-kojin"),
    ("vendor-a/juki-setai.dat", "examples/vendor-a/juki-setai"),
    ("mainframe/juki-kojin.dat", "examples/mainframe/juki-kojin"),
    ("mainframe/nouzei.dat", "examples/mainframe/nouzei"),
    ("bad/not-digits.dat", "examples/vendor-a/juki-kojin"),
    ("bad/truncated-last-record.dat", "examples/vendor-a/juki-kojin"),
    ("vendor-a/juki-kojin.csv", "examples/vendor-a/juki-kojin-csv"),  # CP932, quoted
    ("vendor-a/juki-kojin.kihon.csv", "kihon/juki/kojin"),  # UTF-8
]


@pytest.mark.parametrize(("fixture", "layout"), SAMPLES)
def test_every_fixture_reads_the_same_on_both_kernels(fixture: str, layout: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def read() -> tuple[pl.DataFrame, list[str]]:
        report = chukan.Report()
        frame = chukan.read(FIXTURES / fixture, layout, report=report)
        return frame, [str(p) for p in report.problems]

    core_frame, core_problems = read()
    monkeypatch.setenv("CHUKAN_KERNEL", "python")
    python_frame, python_problems = read()
    assert core_frame.equals(python_frame, null_equal=True)
    assert core_problems == python_problems
    assert os.environ["CHUKAN_KERNEL"] == "python"
    assert Path(FIXTURES / fixture).exists()


def test_threads_reaches_the_core_in_the_reader_s_worker_threads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader decodes in a thread pool: ``threads=`` must reach the core there too
    (a context variable is not a worker thread's unless handed over)."""
    from chukan import _core  # noqa: PLC0415

    asked: list[int] = []
    extract = _core.extract

    def spy(*args: Any) -> Any:
        asked.append(args[5])  # (data, n, stride, specs, encoding, threads, ...)
        return extract(*args)

    monkeypatch.setattr(_core, "extract", spy)
    source = FIXTURES / "vendor-a" / "juki-kojin.dat"
    chukan.read(source, "examples/vendor-a/juki-kojin", threads=1)
    chukan.validate(source, "examples/vendor-a/juki-kojin", threads=3)
    assert asked and set(asked) == {1, 3}


def test_threads_is_an_option_and_an_environment_variable(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from chukan._threads import thread_count  # noqa: PLC0415

    source = FIXTURES / "vendor-a" / "juki-kojin.dat"
    layout = "examples/vendor-a/juki-kojin"
    assert chukan.read(source, layout, threads=1).equals(chukan.read(source, layout),
                                                          null_equal=True)
    assert chukan.validate(source, layout, threads=2).counts_by_code() == \
        chukan.validate(source, layout).counts_by_code()
    result = chukan.convert(source, "examples/vendor-a/kojin-to-kihon", tmp_path / "o.csv",
                            threads=1)
    assert result.records_out == 5
    with pytest.raises(chukan.UsageError, match="threads must be 1 or more"):
        chukan.read(source, layout, threads=0)
    monkeypatch.setenv("CHUKAN_THREADS", "3")
    assert thread_count() == 3
    monkeypatch.setenv("CHUKAN_THREADS", "many")
    assert thread_count() == 0  # not a number: one per core


def test_a_hundred_thousand_threads_is_an_error_not_a_hang(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a review's hostile arguments: the core started every thread asked for,
    and threads=100000 hung."""
    source = FIXTURES / "vendor-a" / "juki-kojin.dat"
    layout = "examples/vendor-a/juki-kojin"
    with pytest.raises(chukan.UsageError, match="at most 256"):
        chukan.read(source, layout, threads=100_000)
    assert chukan.read(source, layout, threads=256).height == 5
    monkeypatch.setenv("CHUKAN_THREADS", "100000")
    with pytest.raises(chukan.UsageError, match="CHUKAN_THREADS must be at most 256"):
        chukan.read(source, layout)
    from chukan import _core  # noqa: PLC0415
    from chukan.codec import encode_table  # noqa: PLC0415
    with pytest.raises(ValueError, match="at most 256 threads"):
        _core.encode_lines(np.frombuffer(b"a\n", dtype=np.uint8),
                           encode_table("cp932", "ibm"), 100_000)


#: what the contract reads as undefined where CPython's cp932 yields a character
CP932_UNDEFINED_SINGLES = {0x80, 0xA0, 0xFD, 0xFE, 0xFF}


def _cpython(data: bytes, codec: str) -> str | None:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return None if "\ufffd" in text else text


@pytest.mark.parametrize("codec", ["cp932", "shift_jis", "euc_jp"])
def test_every_byte_and_every_pair_decodes_as_cpython_decodes_it(codec: str) -> None:
    """Exhaustive, against CPython's codec itself (not the tables): every single byte,
    and every lead byte × every trail byte, apart from the contract's documented
    errors (CP932's 0x80, 0xA0 and 0xFD–0xFF, which CPython maps to U+0080 and the
    private use area U+F8F0–U+F8F3)."""
    from chukan import _core  # noqa: PLC0415

    differ = []
    for first in range(256):
        for data in [bytes([first]), *(bytes([first, t]) for t in range(256))]:
            want = _cpython(data, codec)
            if codec == "cp932" and set(data) & CP932_UNDEFINED_SINGLES and \
                    (len(data) == 1 or data[0] in CP932_UNDEFINED_SINGLES or
                     (want is not None and len(want) == 2)):
                want = None
            if _core.decode(data, codec) != want:
                differ.append(data.hex())
    assert differ == []


def test_every_three_byte_sequence_of_euc_jp_decodes_as_cpython_decodes_it() -> None:
    """EUC-JP's JIS X 0212 characters: 0x8F × every second byte × every third byte,
    alone and followed by a byte (a three-byte character is never taken for a pair)."""
    from chukan import _core  # noqa: PLC0415

    sequences = [bytes([0x8F, b, c]) for b in range(256) for c in range(256)]
    differ = [data.hex() for data in sequences + [s + b"A" for s in sequences[::7]]
              if _core.decode(data, "euc_jp") != _cpython(data, "euc_jp")]
    assert differ == []
    assert _core.decode(b"\x8f\xb0\xa1", "euc_jp") == "丂"  # (the loop is not empty-handed)


DUPLICATES = [b"\xee\xe0", b"\xfb\xfc", b"\x87\x90", b"\x81\xe0", b"\xfa\x40", b"\xfa\x5c",
              b"\xed\x40", b"\xee\xf9", b"\x81\xca", b"\x8eR", b" ", b"\x81\x40", b"A",
              b"\x81", b"\x01"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(DUPLICATES), max_size=6), min_size=1, max_size=6),
       st.sampled_from(["ibm", "nec"]), st.sampled_from(["text", "fullwidth", "code"]))
def test_both_kernels_find_the_same_cp932_duplicates(
        rows: list[list[bytes]], policy: str, kind: str) -> None:
    """The core marks duplicates outside the policy as it decodes; the Python path
    encodes the values again with the writer. They must agree record for record."""
    chars = "fullwidth" if kind == "fullwidth" else "any"
    layout = chukan.loads_layout(
        f'[layout]\nname = "t"\nformat = "fixed"\nencoding = "cp932"\nrecord_length = 12\n'
        f'terminator = "lf"\ncp932_duplicates = "{policy}"\n'
        f'[[field]]\nname = "a"\nlength = 12\ntype = "{"code" if kind == "code" else "text"}"\n'
        + (f'chars = "{chars}"\n' if kind != "code" else ""))
    data = b"".join((b"".join(r) + b" " * 12)[:12] + b"\n" for r in rows)

    def problems() -> list[tuple[str, int | None, int | None]]:
        report = chukan.Report()
        chukan.read(data, layout, report=report)
        return [(p.code, p.record, p.offset) for p in report.problems]

    core = problems()
    assert _on_python_paths(problems) == core


# (丂 and 丄 are JIS X 0212: three bytes in EUC-JP)
ALPHABET = [*list("Aa0 ｱﾞ山髙﨑德①㈱≒≡∵～〜∥‖¬￢Ā𠮷\\~¥‾－−丂丄"), "\u3000", "\ue000", "\x80"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.sampled_from(ALPHABET), max_size=6), max_size=8),
       st.sampled_from(["cp932", "shift_jis", "euc_jp"]), st.sampled_from(["ibm", "nec"]))
@example(["丂A", "山ｱ", "¥"], "euc_jp", "nec")
def test_the_core_encodes_as_the_python_writer_does(values: list[str], codec: str,
                                                    policy: str) -> None:
    """The core's encoder against the writer's Python path (CPython's codec, the
    duplicate markers): the same bytes for every value, and the same values found
    unencodable."""
    from chukan import _core  # noqa: PLC0415
    from chukan.codec import encode_table, encode_text, prepare_for_encoding  # noqa: PLC0415

    utf8 = [v.encode("utf-8") for v in values]
    offsets = np.concatenate(([0], np.cumsum([len(b) for b in utf8]))).astype(np.int64)
    data = np.frombuffer(b"".join(utf8), dtype=np.uint8)
    got, lengths, bad = _core.encode(data, offsets, encode_table(codec, policy))
    expected, missing = [], []
    for v in values:
        try:
            expected.append(encode_text(*prepare_for_encoding(pl.Series([v]), codec, policy),
                                        codec))
            missing.append(False)
        except UnicodeEncodeError:
            expected.append(b"")
            missing.append(True)
    assert bad.tolist() == missing
    assert lengths.tolist() == [len(e) for e in expected]
    assert got.tobytes() == b"".join(expected)


@pytest.mark.parametrize("codec", ["cp932", "shift_jis"])
def test_transcoding_is_cpythons_replace_on_every_pair(codec: str) -> None:
    """The CSV reader's transcoding: every byte pair, followed by a byte that could
    complete a cut pair, gives what CPython's decode(codec, "replace") gives."""
    from chukan import _core  # noqa: PLC0415

    differ = [data.hex() for data in (bytes([a, b, c]) for a in range(256) for b in range(256)
                                      for c in (0x41, 0x81))
              if _core.transcode(data, codec) != data.decode(codec, "replace").encode()]
    assert differ == []


def test_euc_jp_transcoding_is_cpythons_replace_on_every_sequence() -> None:
    """Every pair followed by a byte that could go on (ASCII, a lead, 0x8F), and every
    three-byte sequence after 0x8F, then two ASCII bytes: CPython's euc_jp and the core
    agree byte for byte (without the two, CPython makes one U+FFFD of a cut 0x8F and the
    byte after it at the very end: the next test)."""
    from chukan import _core  # noqa: PLC0415

    sequences = [bytes([a, b, c]) for a in range(256) for b in range(256)
                 for c in (0x41, 0xA1, 0x8F)]
    sequences += [bytes([0x8F, b, c]) for b in range(256) for c in range(256)]
    differ = [data.hex() for data in (s + b"AB" for s in sequences)
              if _core.transcode(data, "euc_jp") != data.decode("euc_jp", "replace").encode()]
    assert differ == []


def test_euc_jp_transcoding_keeps_the_byte_after_a_cut_0x8f_at_the_very_end() -> None:
    """CPython's one difference: at the end of its input it makes one U+FFFD of 0x8F
    and the byte after it, a CSV text's last line end included. The core keeps that
    byte; the CSV reader's cells are the same either way, core or Python path."""
    from chukan import _core  # noqa: PLC0415

    assert b"a\x8f\n".decode("euc_jp", "replace") == "a\ufffd"
    assert _core.transcode(b"a\x8f\n", "euc_jp") == "a\ufffd\n".encode()
    layout = chukan.loads_layout(
        '[layout]\nname = "t"\nformat = "csv"\nencoding = "euc_jp"\nterminator = "lf"\n'
        'header = false\n[[field]]\nname = "a"\nlength = 4\ntype = "text"\n'
        '[[field]]\nname = "b"\nlength = 4\ntype = "text"\n')
    data = "山,田\nx,".encode("euc_jp") + b"\x8f\n"

    def read() -> tuple[list[tuple[str | None, ...]], list[tuple[str, int | None]]]:
        report = chukan.Report()
        frame = chukan.read(data, layout, report=report)
        return frame.rows(), [(p.code, p.record) for p in report.problems]

    rows, problems = read()
    assert rows == [("山", "田"), ("x", None)]
    assert problems == [("invalid-bytes", 2)]
    assert _on_python_paths(read) == (rows, problems)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64) | st.lists(st.sampled_from(PIECES)).map(b"".join),
       st.sampled_from(["cp932", "shift_jis", "euc_jp"]))
def test_transcoding_random_bytes_is_cpythons_replace(data: bytes, codec: str) -> None:
    from chukan import _core  # noqa: PLC0415

    # (two ASCII bytes after: CPython's euc_jp treats the very end apart, above)
    data += b"AB" if codec == "euc_jp" else b""
    assert _core.transcode(data, codec) == data.decode(codec, "replace").encode()


def _zeros(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.uint8)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([b"ab\r\n", b"a\nb\r\n", b"ab\n", b"\n\n\r\n", b"abc\r",
                                 b"ab\r\n\r\n"]), max_size=8).map(b"".join),
       st.sampled_from([b"\r\n", b"\n"]), st.booleans())
def test_the_cores_whole_records_check_is_the_numpy_one(data: bytes, term: bytes,
                                                         feeds: bool) -> None:
    """The reader's fast path cuts a chunk by length when the core says its records are
    intact: exactly when the terminators stand at the record ends and (without binary
    fields) no other line feed is there, as numpy and ``bytes.count`` said before."""
    from chukan import _core  # noqa: PLC0415

    size = 2
    stride = size + len(term)
    n = len(data) // stride
    body = np.frombuffer(data[:n * stride], dtype=np.uint8).reshape(n, stride)
    expected = bool((body[:, size:] == np.frombuffer(term, dtype=np.uint8)).all()) and (
        not feeds or data.count(b"\n", 0, n * stride) == n)
    assert _core.intact(np.frombuffer(data, np.uint8), n, size, term, feeds) is expected


def _view(length: int, buffer: int, offset: int) -> npt.NDArray[np.uint8]:
    """One Arrow string view: ``length`` bytes at ``offset`` of buffer ``buffer``."""
    return np.frombuffer(np.array([length, 0, buffer, offset], dtype="<u4").tobytes(),
                         dtype=np.uint8).copy()


@pytest.mark.parametrize("call", [
    # found by an independent review: each panicked or aborted the process
    lambda c: c.place(_zeros(10), 5, 2**64 - 1, 1, _zeros(0), np.array([0], np.int64)),
    lambda c: c.extract(_zeros(0), 2**64 - 1, 5, [], "cp932"),
    lambda c: c.extract(_zeros(0), 2**40, 0, [(0, 0, "text", False, "", None)], "cp932"),
    lambda c: c.extract(_zeros(10), 3, 0, [(0, 0, "text", False, "", None)], "cp932"),
    # a view of 20 bytes at offset 0 of buffer 0, which holds 4; then of a buffer not given
    lambda c: c.format_csv([(_view(20, 0, 0), [_zeros(4)], None)], 1, 44, 34, b"\n"),
    lambda c: c.format_csv([(_view(20, 1, 0), [_zeros(40)], None)], 1, 44, 34, b"\n"),
    lambda c: c.format_csv([(_view(3, 0, 0), [], None)], 2, 44, 34, b"\n"),  # 1 row
    lambda c: c.csv_refused([(_view(20, 0, 0), [_zeros(4)], None)], 1, [3], [""]),
    lambda c: c.csv_refused([(_view(3, 0, 0), [], None)], 1, [], [""]),  # no limit
    lambda c: c.csv_refused([(_view(3, 0, 0), [], None)], 1, [3], []),  # no check
    lambda c: c.csv_refused([(_view(3, 0, 0), [], None)], 1, [3], ["kana"]),
    lambda c: c.format_csv_checked([(_view(20, 0, 0), [_zeros(4)], None)], 1, 44, 34, b"\n",
                                   [3], [""]),
    lambda c: c.format_csv_checked([(_view(3, 0, 0), [], None)], 1, 44, 34, b"\n", [3],
                                   ["kana"]),
    lambda c: c.views_matrix((_view(20, 0, 0), [_zeros(4)], None), 1, 4),
    lambda c: c.views_matrix((_view(3, 0, 0), [], None), 2**62, 2**8),  # too large
    lambda c: c.compose_text(_zeros(8), 4, 1, [(0, 4, "", False)],
                             [(_view(20, 0, 2**32 - 8), [_zeros(4)], None)],
                             np.zeros(65536, np.uint16)),
    lambda c: c.translated_columns(_zeros(10), 2, 5, [(3, 3)], bytes(256)),  # past a record
    lambda c: c.translated_columns(_zeros(9), 2, 5, [(0, 5)], bytes(256)),  # past the data
    lambda c: c.translated_columns(_zeros(10), 2**62, 2**8, [(0, 1)], bytes(256)),
    lambda c: c.translated_columns(_zeros(10), 2, 5, [(2**64 - 1, 2)], bytes(256)),
    lambda c: c.translated_columns(_zeros(10), 2, 5, [(0, 1)], bytes(255)),
])
def test_a_bad_call_is_a_value_error_never_a_panic(call: Callable[[ModuleType], object]
                                                    ) -> None:
    from chukan import _core  # noqa: PLC0415

    with pytest.raises(ValueError):
        call(_core)


def test_arrays_the_core_cannot_borrow_are_errors_never_panics() -> None:
    from chukan import _core  # noqa: PLC0415

    read_only = _zeros(10)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="cannot be written"):
        _core.place(read_only, 5, 0, 2, _zeros(1), np.array([1], np.int64))
    shared = _zeros(20)
    with pytest.raises(ValueError, match="cannot be read"):
        _core.place(shared[:10], 5, 0, 2, shared[5:6], np.array([1], np.int64))
    apart = _zeros(20)  # views of one buffer that do not overlap are fine
    _core.place(apart[:10], 5, 0, 2, apart[10:11], np.array([1], np.int64))


WRITER_LAYOUT = """
[layout]
name = "w"
format = "fixed"
encoding = "{codec}"
record_length = 25
terminator = "crlf"
cp932_duplicates = "{policy}"
substitute_lookalikes = {substitute}

[[field]]
name = "kanji"
type = "text"
length = 6
chars = "fullwidth"

[[field]]
name = "kana"
type = "text"
length = 5
chars = "halfwidth"

[[field]]
name = "any"
type = "text"
length = 5

[[field]]
name = "code"
type = "code"
length = 2
table = "examples/vendor-a/seibetsu"

[[field]]
name = "digits"
type = "digits"
length = 4

[[field]]
name = "pad_spaces"
type = "text"
length = 3
chars = "fullwidth"
pad = " "
"""

WRITER_ALPHABET = [*ALPHABET, "1", "\x01", "\n", "2", "9"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(*[st.one_of(st.none(), st.text(st.sampled_from(WRITER_ALPHABET),
                                                          max_size=6))] * 6),
                max_size=6),
       st.sampled_from(["cp932", "shift_jis", "euc_jp"]), st.sampled_from(["ibm", "nec"]),
       st.booleans())
@example([("山田", "ﾔﾏﾀﾞ", "A〜", "1", "0012", "山"), ("山a", "山", "\x01", "99", "12", "‖")],
         "cp932", "ibm", False)
# EUC-JP: three-byte characters placed whole, or refused where they would overflow
@example([("丂丄", "ｱ", "丂A", "1", "0012", "丂"), ("山丂丄", "ﾔﾏ", "¥", "2", "12", "丄 "),
          ("丂", "ｱ", "A", "1", "0012", "山")], "euc_jp", "nec", False)
def test_the_core_writes_text_fields_as_the_python_writer_does(
        tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str | None, ...]],
        codec: str, policy: str, substitute: bool) -> None:
    """The composed writer (checks, encoding and placing in one pass) against the
    Python writer: the same bytes, and the same problems for the same rows."""
    from chukan.layout import loads_layout  # noqa: PLC0415

    layout = loads_layout(WRITER_LAYOUT.format(
        codec=codec, policy=policy, substitute=str(substitute).lower()),
        base=ROOT / "layouts" / "x")
    names = [f.name for f in layout.fields]
    df = pl.DataFrame([dict(zip(names, r, strict=True)) for r in rows],
                      schema=dict.fromkeys(names, pl.String))
    _written_both_ways(df, layout, tmp_path_factory)


def _written_both_ways(df: pl.DataFrame, layout: chukan.Layout,
                       tmp_path_factory: pytest.TempPathFactory) -> None:
    """The frame written by the core and by the Python writer: the same bytes and the
    same problems (code, record, field, message)."""
    def written() -> tuple[bytes, list[tuple[str, int | None, str | None, str]]]:
        out = tmp_path_factory.mktemp("w") / "out.dat"
        report = chukan.Report()
        chukan.write(df, out, layout, report=report)
        return out.read_bytes(), [(p.code, p.record, p.field, p.message)
                                for p in report.problems]

    core = written()
    assert _on_python_paths(written) == core


NUMBERS_LAYOUT = """
[layout]
name = "n"
format = "fixed"
encoding = "cp932"
record_length = 60
terminator = "crlf"

[[field]]
name = "zero"
type = "integer"
length = 5
signed = true

[[field]]
name = "spaced"
type = "integer"
length = 5
signed = true
pad = " "

[[field]]
name = "unsigned"
type = "integer"
length = 4

[[field]]
name = "display"
type = "decimal"
length = 6
scale = 2
signed = true

[[field]]
name = "zoned"
type = "decimal"
length = 5
scale = 1
storage = "zoned"
signed = true

[[field]]
name = "plain"
type = "decimal"
length = 4
scale = 1

[[field]]
name = "western"
type = "date"
length = 8
format = "YYYYMMDD"

[[field]]
name = "dashed"
type = "date"
length = 10
format = "YYYY-MM-DD"

[[field]]
name = "era"
type = "date"
length = 7
format = "GYYMMDD"
eras = "eras/1digit"

[[field]]
name = "short"
type = "date"
length = 6
format = "YYMMDD"
pivot = 30
"""

_INTS = st.one_of(st.none(), st.integers(-120_000, 120_000),
                  st.sampled_from([-(2**63), 2**63 - 1, 0, -1, 9999, 10000, -9999]))
_DECIMALS = st.one_of(st.none(), st.decimals(-99_999, 99_999, places=3,
                                             allow_nan=False, allow_infinity=False))
_DATES = st.one_of(st.none(), st.dates(dt.date(1850, 1, 1), dt.date(2140, 12, 31)),
                   st.sampled_from([dt.date(1912, 7, 30), dt.date(1926, 12, 25),
                                    dt.date(1989, 1, 7), dt.date(2019, 5, 1)]))
_PARTIALS = st.one_of(st.none(), st.sampled_from(["", "1950-00-00", "0000-00-00",
                                                   "昭和00-00-00", "1950-13-00", "x"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_INTS, _INTS, _INTS, _DECIMALS, _DECIMALS, _DECIMALS,
                          _DATES, _DATES, _DATES, _DATES, _PARTIALS), max_size=6))
@example([(-(2**63), 99999, -1, Decimal("-9999.99"), Decimal("-12.3"), Decimal("0.05"),
           dt.date(1850, 1, 1), None, dt.date(1989, 1, 7), dt.date(2040, 1, 1), "1950-00-00")])
def test_the_core_writes_numbers_and_dates_as_the_python_writer_does(
        tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[object, ...]]) -> None:
    """The composed writer's numbers (every style) and dates (every format, 不詳 values
    beside them) against the Python writer: the same bytes and the same problems."""
    from chukan.layout import loads_layout  # noqa: PLC0415

    layout = loads_layout(NUMBERS_LAYOUT, base=ROOT / "layouts" / "x")
    schema = {"zero": pl.Int64, "spaced": pl.Int64, "unsigned": pl.Int64,
              "display": pl.Decimal(20, 3), "zoned": pl.Decimal(20, 3),
              "plain": pl.Decimal(20, 3), "western": pl.Date, "dashed": pl.Date,
              "era": pl.Date, "short": pl.Date, "era_partial": pl.String}
    df = pl.DataFrame([dict(zip(schema, r, strict=True)) for r in rows], schema=schema)
    _written_both_ways(df, layout, tmp_path_factory)


CSV_ALPHABET = ['a', 'Z', '0', ' ', ',', ';', '\t', '"', "'", '\n', '\r', '山', 'ｱ', '〜', '=']


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.none() | st.text(st.sampled_from(CSV_ALPHABET), max_size=5),
                         min_size=3, max_size=3), max_size=12),
       st.integers(1, 3), st.sampled_from([(",", '"'), (";", "'"), ("\t", '"')]),
       st.sampled_from(["crlf", "lf"]), st.booleans())
def test_the_core_formats_csv_rows_as_polars_does(rows: list[list[str | None]], width: int,
                                                 style: tuple[str, str], terminator: str,
                                                 header: bool) -> None:
    """UTF-8 CSV rows from the core: the bytes Polars' own writer gives (its quoting:
    delimiter, quote, CR or LF inside, and an empty value; a missing one as nothing),
    with and without the header, on any delimiter, quote and terminator."""
    write_module = sys.modules["chukan.write"]  # chukan.write is the function
    delimiter, quote = style
    layout = chukan.loads_layout(
        "[layout]\nname = \"c\"\nformat = \"csv\"\nencoding = \"utf-8\"\nheader = true\n"
        f"terminator = \"{terminator}\"\ndelimiter = {json.dumps(delimiter)}\n"
        f"quote = {json.dumps(quote)}\n"
        + "".join(f'[[field]]\nname = "f{j}"\ntype = "text"\nlength = 20\n'
                  for j in range(width)), base=ROOT / "layouts" / "x")
    frame = pl.DataFrame([r[:width] for r in rows], schema=[f"f{j}" for j in range(width)],
                         orient="row")

    def written() -> bytes:
        buf = io.BytesIO()
        write_module._utf8_csv(frame, buf, layout, header=header)
        return buf.getvalue()

    core = written()
    assert core == _on_python_paths(written)


REFUSED_ALPHABET = ['a', '0', '9', '山', 'ｱ', 'ﾟ', '～', '\x00', '\x01', '\x04', '\x05', '\t',
                    '\n', '\r', '\x1f', '\x7f', ' ', '\u3000', '\U0002000b', '\ufffd',
                    '\ufffc']


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.none() | st.text(st.sampled_from(REFUSED_ALPHABET), max_size=16),
                         min_size=3, max_size=3), min_size=1, max_size=12),
       st.lists(st.integers(0, 14), min_size=3, max_size=3), st.integers(0, 5),
       st.lists(st.sampled_from(["", "fullwidth", "halfwidth", "digits"]), min_size=3,
                max_size=3))
def test_the_core_refuses_what_polars_refuses_in_csv_text(rows: list[list[str | None]],
                                                          limits: list[int],
                                                          start: int,
                                                          classes: list[str]) -> None:
    """The CSV writer's last checks of the text it writes, made by the core, against the
    same checks made by Polars: characters (not bytes: 山 is three, 𠀋 four) beyond each
    column's limit, control characters (LF and CR before LF are data), each column's
    character check, and U+FFFD (not U+FFFC beside it), on a slice of the columns, nulls
    left alone. A batch's
    checks made as the core formats its rows find the same, and the rows are those
    Polars writes."""
    write_module = sys.modules["chukan.write"]  # chukan.write is the function
    texts = [pl.Series([r[j] for r in rows], dtype=pl.String).slice(start % len(rows))
             for j in range(3)]

    def refused() -> dict[tuple[int, str], tuple[str, list[bool]]]:
        return {k: (x.code, x.mask.tolist())
                for k, x in write_module._refused(texts, limits, classes).items()}

    core = refused()
    assert core == _on_python_paths(refused)
    layout = chukan.load_layout("kihon/juki/kojin")  # UTF-8, with no formula guard
    written, found = write_module._checked_rows(texts, limits, classes, layout)
    assert {k: (x.code, x.mask.tolist()) for k, x in found.items()} == core
    frame = pl.DataFrame(texts, schema=["a", "b", "c"])
    assert written.tobytes().decode() == frame.write_csv(include_header=False,
                                                         line_terminator="\r\n")


def _date_texts(fmt: str) -> st.SearchStrategy[str | None]:
    """Dates spelled in ``fmt`` (in an era code, 1 digit, where it has one), near
    misses, and noise."""
    def spelled(d: dt.date) -> str:
        if fmt == "GYYMMDD":
            era, year = (5, d.year - 2018) if d >= dt.date(2019, 5, 1) else \
                (4, d.year - 1988) if d >= dt.date(1989, 1, 8) else (3, d.year - 1925)
            return f"{era}{year:02d}{d.month:02d}{d.day:02d}"
        pattern = {"YYYYMMDD": "%Y%m%d", "YYYY-MM-DD": "%Y-%m-%d", "YYMMDD": "%y%m%d"}[fmt]
        return d.strftime(pattern)

    dates = st.dates(dt.date(1926, 12, 25), dt.date(2030, 12, 31)).map(spelled)
    return st.none() | dates | dates.map(lambda t: t[:-1] + "9") | st.text(
        st.sampled_from(["2", "0", "-", "山", " "]), max_size=10)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["YYYYMMDD", "YYYY-MM-DD", "GYYMMDD", "YYMMDD"]).flatmap(
    lambda fmt: st.tuples(st.just(fmt), st.lists(_date_texts(fmt), min_size=1,
                                                 max_size=20))),
       st.integers(0, 5))
def test_csv_dates_take_the_core_s_short_path_as_numpy_does(
        case: tuple[str, list[str | None]], start: int) -> None:
    """CSV dates go through a byte matrix (values of the field's width as they are,
    nulls as spaces, the rest as ``?``) and the short path: both in the core, compared
    with the numpy versions (the oracles) on a slice of random text."""
    from chukan.codec import _base, dates  # noqa: PLC0415

    fmt, values = case
    text = pl.Series(values, dtype=pl.String).slice(start % len(values))
    width = DATE_WIDTHS[fmt]
    f = _f("date", width, format=fmt, pivot=30)

    def both() -> tuple[bytes, list[int], list[bool]]:
        mat = _base.strings_to_matrix(text, width)
        days, ok = dates._short_path(f, mat)
        return mat.tobytes(), days[ok].tolist(), ok.tolist()

    core = both()
    assert core == _on_python_paths(both)


def test_the_writer_reads_a_sliced_series_through_its_views() -> None:
    """A slice of a series (as the writer takes 200,000 rows at a time) keeps the whole
    series' views and an offset: the core must read the slice's rows, not the first."""
    from chukan import _core  # noqa: PLC0415
    from chukan._arrow import views_of  # noqa: PLC0415

    whole = pl.Series("v", [f"値{i}" * (i % 7) for i in range(40)])  # short and long values
    part = whole.slice(13, 9)
    views, buffers = views_of(part)
    assert len(views) == 16 * part.len()
    got = _core.format_csv([(views, buffers, None)], part.len(), ord(","), ord('"'),
                           b"\n")
    assert bytes(got) == part.to_frame().write_csv(include_header=False).encode()


CSV_PIECES = [b"a", b"1", b" ", b",", b";", b'"', b'""', b"\r\n", b"\n", b"\r", b"\x8eR",
              b"\x81", b"\xb1", b"\x80", b"\x01", b"\xe5\xb1\xb1", b"|", b"\x81|",
              # what the reader refuses: controls (tab too), U+FFFD and U+F8F0 in UTF-8
              b"\x00", b"\t", b"\x1f", b"\x7f", b"\xef\xbf\xbd", b"\xef\xa3\xb0", b"\xc2\x80"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.lists(st.sampled_from(CSV_PIECES), max_size=4).map(b"".join),
                         min_size=1, max_size=4), max_size=8),
       st.lists(st.booleans(), max_size=40), st.sampled_from(["cp932", "utf-8"]),
       st.sampled_from([",", "|"]), st.booleans(), st.booleans())
# each character the reader refuses, in a chunk the core cuts
@example([[b"\x1f", b"a\x7f", b"\x00"], [b"\tb", b"\xef\xbf\xbd", b"\xef\xa3\xb0"],
          [b"\xc2\x80", b"\xef\xa3\xb3x", b"\xef\xbf\xa5"]], [], "utf-8", ",", True, True)
def test_the_core_cuts_csv_rows_as_the_python_reader_does(
        rows: list[list[bytes]], quoting: list[bool], encoding: str, delimiter: str,
        final_newline: bool, clean: bool) -> None:
    """CSV rows cut and decoded by the core: the frame and problems of the Python path
    (numpy and Polars' reader, walking the irregular rows), on rows of random cells,
    quoted or not, in CP932 and UTF-8, with stray quotes, CR, undecodable bytes, a lead
    byte before a delimiter that would pair with it, and rows of the wrong width. With
    ``clean``, every quote stands where RFC 4180 puts it and no CR stands alone, so that
    the core cuts the rows (one irregular row sends the chunk down the Python path)."""
    quotes = iter(quoting)
    lines = []
    for row in rows:
        cells = []
        for value in row:
            quoted = next(quotes, False)
            cell = value.replace(b"\r", b"") if clean else value
            if clean and not quoted:
                cell = cell.replace(b'"', b"")
            cells.append(b'"' + cell.replace(b'"', b'""') + b'"' if quoted else cell)
        lines.append(delimiter.encode().join(cells))
    data = b"\r\n".join(lines) + (b"\r\n" if final_newline else b"")
    layout = chukan.loads_layout(
        "[layout]\nname = \"c\"\nformat = \"csv\"\nheader = false\n"
        f"encoding = \"{encoding}\"\nterminator = \"crlf\"\ndelimiter = \"{delimiter}\"\n"
        + "".join(f'[[field]]\nname = "f{j}"\ntype = "text"\nlength = 40\n' for j in range(3)),
        base=ROOT / "layouts" / "x")
    _reads_alike_on_both_kernels(data, layout)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from([b"a", b",", b'"', b'""', b"\n", b"\r", b"\r\n", b"|"]),
                max_size=30).map(b"".join), st.sampled_from([",", "|"]))
def test_the_core_finds_csv_rows_and_misplaced_quotes_as_numpy_does(
        data: bytes, delimiter: str) -> None:
    """The line feeds that end rows, the quotes counted and the first misplaced quote:
    the core's pass against numpy's arrays, on bytes of quotes (doubled or not),
    delimiters, CR and LF in any order."""
    arr = np.frombuffer(data, dtype=np.uint8)
    row_ends = sys.modules["chukan._csv"]._row_ends

    def found() -> tuple[list[int], int, int]:
        ends, quotes, misplaced = row_ends(arr, ord(delimiter), ord('"'))
        return ends.tolist(), quotes, misplaced

    assert found() == _on_python_paths(found)


INTEGER_PIECES = ["0", "7", "12", "-", "+", " ", "  ", "1" * 9, "x", "１", ".", "\t", "00"]


@given(st.lists(st.lists(st.lists(st.sampled_from(INTEGER_PIECES), max_size=4).map("".join),
                         min_size=2, max_size=2), max_size=12),
       st.booleans(), st.booleans())
# each way a value is refused, and one that is read, in both columns
@example([["-12", " 5 "], ["+5", "1 2"], ["", "-"], ["1" * 12, " "], ["１", "0-"]], True, True)
def test_the_core_reads_csv_integers_as_polars_does(rows: list[list[str]], signed: bool,
                                                   required: bool) -> None:
    """Integer cells read by the core: the values and problems of Polars' expressions
    (spaces around taken off, a minus only if signed, at most 桁数 digits), on cells of
    random pieces: signs, spaces inside, full-width digits, too many digits, nothing."""
    data = "".join(",".join(row) + "\n" for row in rows).encode()
    layout = chukan.loads_layout(
        "[layout]\nname = \"c\"\nformat = \"csv\"\nheader = false\nencoding = \"utf-8\"\n"
        f'[[field]]\nname = "a"\ntype = "integer"\nlength = 9\nsigned = {str(signed).lower()}\n'
        f"required = {str(required).lower()}\n"
        '[[field]]\nname = "b"\ntype = "integer"\nlength = 18\nsigned = true\n',
        base=ROOT / "layouts" / "x")
    _reads_alike_on_both_kernels(data, layout)


DECIMAL_PIECES = ["0", "5", "12", "-", "+", ".", " ", "1" * 5, "x", "１", "00", "9"]


@given(st.lists(st.lists(st.lists(st.sampled_from(DECIMAL_PIECES), max_size=4).map("".join),
                         min_size=3, max_size=3), max_size=12),
       st.booleans(), st.booleans())
# each way a value is refused, one the precision cannot hold, and some that are read
@example([["-12.3", "+0.5", "7"], ["1.", ".5", "1.5"], ["1.234", " 1", "-0"],
          ["123456", "1.2.3", ""], ["+", "１", "0.05"]], True, True)
def test_the_core_reads_csv_decimals_as_polars_does(rows: list[list[str]], signed: bool,
                                                   required: bool) -> None:
    """Decimal cells read by the core: the values and problems of Polars' pattern and
    cast, at a scale, at none, and where the scale is the whole precision (``1.5`` has
    the spelling but no room: null, and no problem)."""
    data = "".join(",".join(row) + "\n" for row in rows).encode()
    layout = chukan.loads_layout(
        "[layout]\nname = \"c\"\nformat = \"csv\"\nheader = false\nencoding = \"utf-8\"\n"
        f'[[field]]\nname = "a"\ntype = "decimal"\nlength = 5\nscale = 2\n'
        f"signed = {str(signed).lower()}\nrequired = {str(required).lower()}\n"
        '[[field]]\nname = "b"\ntype = "decimal"\nlength = 4\nsigned = true\n'
        '[[field]]\nname = "c"\ntype = "decimal"\nlength = 3\nscale = 2\nsigned = true\n',
        base=ROOT / "layouts" / "x")
    _reads_alike_on_both_kernels(data, layout)


def test_a_stride_past_the_largest_integer_is_not_intact_never_a_panic() -> None:
    from chukan import _core  # noqa: PLC0415

    data = np.frombuffer(b"abcd", dtype=np.uint8)
    assert _core.intact(data, 2, 2**64 - 1, b"\r\n", True) is False


def test_records_are_gathered_from_their_starts_and_one_past_the_end_is_an_error() -> None:
    from chukan import _core  # noqa: PLC0415

    data = np.frombuffer(b"ab\ncd\nx\nef\n", dtype=np.uint8)
    got = _core.gather_records(data, np.array([0, 3, 8], dtype=np.int64), 2)
    assert got.shape == (3, 2)
    assert got.tobytes() == b"abcdef"
    for starts in ([10], [-1]):  # past the end, before the start: an error, never a panic
        with pytest.raises(ValueError, match="past the end"):
            _core.gather_records(data, np.array(starts, dtype=np.int64), 2)


def test_an_encoder_table_of_the_wrong_size_is_an_error_never_a_panic() -> None:
    from chukan import _core  # noqa: PLC0415

    text, short = np.frombuffer(b"a\n", dtype=np.uint8), np.zeros(10, dtype=np.uint16)
    with pytest.raises(ValueError, match="65,536 codes"):
        _core.encode_lines(text, short, 0)
    with pytest.raises(ValueError, match="65,536 codes"):
        _core.encode(text, np.array([0, 2], dtype=np.int64), short)


# the private use areas' edges in UTF-8 (EE 80 80, EF A3 BF; plane 15's F3 B0 80 80,
# F3 BF BF BD) and their neighbours
GAIJI_EDGES = ["a", "山", "ｱ", "Ａ", "\ud7ff", "\ue000", "\uf8ff", "\uf900", "\uffe5",
               "\U000effff", "\U000f0000", "\U000f80a3", "\U000ffffd", "\U00100000",
               "\U000e0100"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(st.sampled_from(GAIJI_EDGES), max_size=14) | st.none(),
                         min_size=3, max_size=3), max_size=40), st.integers(0, 40))
def test_the_gaiji_scan_finds_what_polars_finds(rows: list[list[str | None]], cut: int) -> None:
    """The core's scan for 外字 (private-use characters) in text columns against Polars'
    regular expression: the same columns, values long enough to sit in a buffer too, in
    a frame of two chunks (as a reader's batch of two blocks), one column joined."""
    names = ["a", "b", "c"]
    frame = pl.DataFrame([[r[k] for r in rows] for k in range(3)], schema=dict.fromkeys(
        names, pl.String), orient="col")
    frame = pl.concat([frame[:cut], frame[cut:]], rechunk=False)
    frame = frame.with_columns(frame["c"].rechunk())
    core = private_use_columns(frame, names)
    assert _on_python_paths(lambda: private_use_columns(frame, names)) == core


# every size's edge: 10**k - 1 fits k digits, 10**k does not
POWER_EDGES = [s * (10 ** k + d) for k in range(21) for d in (-1, 0) for s in (1, -1)]
NUMBER_FIELDS = [_f("integer", 5), _f("integer", 20, signed=True),
                 _f("decimal", 7, scale=2, signed=True),
                 _f("decimal", 4, storage="packed", scale=1), _f("decimal", 3, scale=3)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(10 ** 20), 10 ** 20) | st.sampled_from(POWER_EDGES) | st.none(),
                max_size=20),
       st.sampled_from(NUMBER_FIELDS), st.sampled_from([0, 1, 2, 3]), st.booleans())
def test_numbers_are_judged_by_size_as_by_their_text(values: list[int | None], target: Any,
                                                    scale: int, integer: bool) -> None:
    """A mapping's number that is already a number (Int64, or a Decimal whose fraction the
    target holds) is judged by its size: the same values and rejects as the path that
    spells it out and matches it against a pattern."""
    to_number = sys.modules["chukan.convert"]._to_number
    if integer:
        kept = [v if v is None or abs(v) < 2 ** 63 else None for v in values]
        column = pl.Series("v", kept, dtype=pl.Int64)
    else:
        column = pl.Series("v", [None if v is None else Decimal(v).scaleb(-scale)
                                 for v in values], dtype=pl.Decimal(38, scale))
    frame = pl.DataFrame([column])
    out = pl.Decimal(38, target.scale) if target.type == "decimal" else pl.Int64
    fast = to_number(pl.col("v"), target, column.dtype)
    slow = to_number(pl.col("v"), target)
    assert fast is not None and slow is not None
    if not integer and scale > target.scale:  # a fraction it may not hold: the text decides
        return
    got = frame.select(fast[0].cast(out).alias("v"), fast[1].alias("bad"))
    want = frame.select(slow[0].cast(out).alias("v"), slow[1].alias("bad"))
    assert got.to_dict(as_series=False) == want.to_dict(as_series=False)


CLASS_LAYOUT = """
[layout]
name = "classes"
format = "csv"
encoding = "utf-8"
header = true

[[field]]
name = "full"
type = "text"
chars = "fullwidth"
length = 3
required = true

[[field]]
name = "half"
type = "text"
chars = "halfwidth"
length = 3

[[field]]
name = "number"
type = "digits"
length = 3
required = true
"""


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.none() | st.text(st.sampled_from([*REFUSED_ALPHABET, "〜", "丂", "¥"]),
                                             max_size=5),
                         min_size=3, max_size=3), max_size=10),
       st.sampled_from(["utf-8", "cp932", "euc_jp"]))
def test_the_csv_writer_reports_character_checks_as_the_python_path_does(
        rows: list[list[str | None]], encoding: str) -> None:
    """The CSV writer with its character checks made by the core, on the text written,
    against the Python path, where Polars makes them with the field's other checks: the
    same bytes, and the same problems in the same order (a value can be missing, of the
    wrong characters, a lookalike (〜 in CP932), too long and hold a marker byte at
    once)."""
    layout = chukan.loads_layout(CLASS_LAYOUT.replace("utf-8", encoding),
                                 base=ROOT / "layouts" / "x")
    _formatted_both_ways(pl.DataFrame(rows, schema=["full", "half", "number"], orient="row"),
                         layout)


def _formatted_both_ways(frame: pl.DataFrame, layout: Any) -> None:
    """``frame`` in a single-record ``layout`` by the core and on the Python paths: the
    same bytes, and the same problems (code, record, field, message, value shown)."""
    write_module = sys.modules["chukan.write"]  # chukan.write is the function

    def written() -> tuple[bytes, list[tuple[object, ...]]]:
        problems: list[Any] = []
        data = bytes(write_module.format_batch(frame, layout, problems))
        return data, [(p.code, p.record, p.field, p.message, p.value)
                      for p in made(problems)]

    core = written()
    assert core == _on_python_paths(written)


ENCODED_CSV_LAYOUT = """
[layout]
name = "encoded-csv"
format = "csv"
encoding = "cp932"
cp932_duplicates = "ibm"
header = true
header_text = "label"

[[field]]
name = "a"
label = "髙橋①"
type = "text"
length = 12

[[field]]
name = "b"
label = "住所"
type = "text"
length = 12
"""

# CP932's duplicates (NEC row 13 and the NEC-selected and IBM rows), a lookalike, a
# character CP932 lacks, the CSV's own bytes, and a 外字
ENCODED_ALPHABET = ["a", ",", '"', "\n", "山", "ｱ", "髙", "①", "㈱", "¬", "∵", "ⅰ", "Ⅰ",
                    "纊", "〜", "−", "\U0002000b", "é", "\ue000", "\u3000"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.none() | st.text(st.sampled_from(ENCODED_ALPHABET), max_size=8),
                          st.none() | st.text(st.sampled_from(ENCODED_ALPHABET), max_size=8)),
                max_size=10),
       st.sampled_from(["cp932/ibm", "cp932/nec", "shift_jis/ibm"]),
       st.booleans())
def test_the_core_encodes_a_legacy_csv_as_cpython_and_the_policy_do(
        rows: list[tuple[str | None, str | None]], encoding: str, substitute: bool) -> None:
    """A CP932 or Shift_JIS CSV formatted by the core and encoded through the writer's
    table, against Polars' CSV writer and CPython's codec with the duplicate policy's
    markers: the same bytes (header labels too), and the same problems for the values
    the encoding lacks or would read back as others."""
    enc, policy = encoding.split("/")
    text = ENCODED_CSV_LAYOUT.replace('"cp932"', f'"{enc}"').replace('"ibm"', f'"{policy}"')
    if enc == "shift_jis":  # (a label it lacks is the layout's error)
        text = text.replace("髙橋①", "高橋")
    if substitute:
        text = text.replace("header_text", "substitute_lookalikes = true\nheader_text")
    layout = chukan.loads_layout(text, base=ROOT / "layouts" / "x")
    _formatted_both_ways(pl.DataFrame(rows, schema=["a", "b"], orient="row"), layout)


CSV_DATES_LAYOUT = """
[layout]
name = "csv-dates"
format = "csv"
encoding = "utf-8"
header = true
""" + "".join(f"""
[[field]]
name = "{name}"
type = "date"
length = {DATE_WIDTHS[form]}
format = "{form}"
{extra}
""" for name, form, extra in [("western", "YYYYMMDD", ""), ("dashed", "YYYY-MM-DD", ""),
                              ("era", "GYYMMDD", 'eras = "eras/1digit"'),
                              ("era2", "GGYYMMDD", 'eras = "eras/2digit"'),
                              ("short", "YYMMDD", "pivot = 30")])

# days since 1970: the Meiji era's first day (-37_513), 10000-01-01 (2_932_897), year -1
_DAYS = st.one_of(st.none(), st.integers(-40_000, 70_000),
                  st.sampled_from([-37_513, -37_514, 2_932_896, 2_932_897, -719_529, 0]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_DAYS, _DAYS, _DAYS, _DAYS, _DAYS, _PARTIALS), max_size=8))
def test_the_core_spells_csv_dates_as_polars_does(rows: list[tuple[object, ...]]) -> None:
    """A CSV's dates spelled by the core's date writer against Polars (chrono and era
    expressions): the same text in every format, and the same problems with the same
    values shown for a date a format cannot hold (a year past 9999, before the first
    era, outside a two-digit year's century)."""
    layout = chukan.loads_layout(CSV_DATES_LAYOUT, base=ROOT / "layouts" / "x")
    names = ["western", "dashed", "era", "era2", "short"]
    frame = pl.DataFrame(rows, schema={**dict.fromkeys(names, pl.Int64),
                                       "era_partial": pl.String}, orient="row").with_columns(
        pl.col(n).cast(pl.Int32).cast(pl.Date) for n in names)
    _formatted_both_ways(frame, layout)


def test_threads_reaches_every_core_call_of_a_conversion(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    """``threads=`` of a conversion reaches the core wherever it is called: the CSV
    reader's cell cutting, the mapping's width steps (called back from a Polars thread),
    its 外字 scan, and the CSV writer's checks (made as it formats a batch)."""
    from chukan import _core  # noqa: PLC0415

    asked: dict[str, set[int]] = {}

    def spying(name: str, at: int) -> Callable[..., Any]:  # the threads argument at `at`
        real = getattr(_core, name)

        def spy(*args: Any) -> Any:
            asked.setdefault(name, set()).add(args[at])
            return real(*args)
        return spy

    for name, at in [("csv_cells", 7), ("replace_chars", 4), ("private_use", 2),
                     ("csv_refused", 4), ("format_csv_checked", 7)]:
        monkeypatch.setattr(_core, name, spying(name, at))
    mapping = "examples/vendor-a/kojin-to-kihon"
    standard = tmp_path / "kihon.csv"
    chukan.convert(FIXTURES / "vendor-a" / "juki-kojin.dat", mapping, standard, threads=1)
    chukan.convert(standard, mapping, tmp_path / "back.dat", reverse=True, threads=1)
    assert asked == {"csv_cells": {1}, "replace_chars": {1}, "private_use": {1},
                     "format_csv_checked": {1}}


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_the_character_checks_the_core_makes_as_it_cuts_csv_cells_find_every_value(
        encoding: str) -> None:
    """The core tells which CSV columns have a value failing its field's check (全角
    only, 半角 only, digits), and the reader's own check then runs on those alone: every
    failing value is still found and said, in columns read in another order than the
    layout's, as on the Python path."""
    layout = chukan.loads_layout(f"""
[layout]
name = "c"
format = "csv"
encoding = "{encoding}"
terminator = "lf"
header = true
[[field]]
name = "zen"
type = "text"
length = 4
chars = "fullwidth"
[[field]]
name = "han"
type = "text"
length = 4
chars = "halfwidth"
[[field]]
name = "num"
type = "digits"
length = 3
[[field]]
name = "free"
type = "text"
length = 4
""")
    clean = "num,free,han,zen\n012,a山,ｱｲ,山田\n"
    dirty = clean + '3-4,b,ｳ山,"花ｺ"\n5,c,d,ＡＢ\n'

    def read(text: str) -> tuple[pl.DataFrame, list[str]]:
        report = chukan.Report()
        frame = chukan.read(text.encode(encoding), layout, report=report)
        return frame, [str(p) for p in report.problems]

    for text in (clean, dirty):
        core_frame, core_problems = read(text)
        python_frame, python_problems = _on_python_paths(lambda t=text: read(t))
        assert core_frame.equals(python_frame, null_equal=True)
        assert core_problems == python_problems
    def codes(text: str) -> list[str]:
        report = chukan.Report()
        chukan.read(text.encode(encoding), layout, report=report)
        return sorted(p.code for p in report.problems)

    assert codes(clean) == ["csv-column-order"]
    # (the quotes around 花ｺ are needless: said, as they always are)
    assert codes(dirty) == ["csv-column-order", "fullwidth-in-halfwidth",
                            "halfwidth-in-fullwidth", "noncanonical", "not-digits"]


_HUGE_PAGES = """
import re, sys
from pathlib import Path
import chukan

def huge() -> int:
    rollup = Path("/proc/self/smaps_rollup").read_text()
    return int(re.search(r"AnonHugePages:\\s+(\\d+) kB", rollup).group(1))

before = huge()
frame = chukan.read(sys.argv[1], sys.argv[2])
print(huge() - before, frame.height)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="transparent huge pages are Linux's")
def test_the_core_asks_for_no_transparent_huge_pages(tmp_path: Path) -> None:
    """The core's allocator is built without transparent huge pages (mimalloc's
    ``no_thp``): the kernel zeroes each (2 MB) whole at its first touch, and a process's
    first read of 1,000,000 records took twice as long. With them, reading this 30 MB
    file grew the process's huge pages by about 120 MB (the frame's columns); without,
    by what Polars's own allocator takes (0–4 MB here)."""
    path = tmp_path / "kojin.dat"
    path.write_bytes(kojin_bytes() * 30_000)
    out = subprocess.run([sys.executable, "-c", _HUGE_PAGES, str(path), KOJIN],
                         check=True, capture_output=True, text=True).stdout.split()
    grown_kb, height = int(out[0]), int(out[1])
    assert height == 150_000
    assert grown_kb < 16 * 1024
