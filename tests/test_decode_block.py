"""chukan.decode_block, the per-block engine under the readers (issue 9): a file cut
into blocks anywhere, each decoded on its own with its place in the file, gives what
reading the whole file gives, records, values and problems alike."""

from __future__ import annotations

import io

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chukan
from helpers import FIXTURES, KOJIN, NOUZEI, SETAI, ZENGIN

#: (fixture, layout): CRLF records, records with no terminator and packed decimals, a
#: multi-record file, and files with defects in them
FILES = [
    ("vendor-a/juki-kojin.dat", KOJIN),
    ("vendor-a/juki-setai.dat", SETAI),
    ("mainframe/nouzei.dat", NOUZEI),
    ("zengin/kouza-furikae.dat", ZENGIN),
    ("bad/not-digits.dat", KOJIN),
    ("bad/truncated-last-record.dat", KOJIN),
    ("bad/bad-sign-nibble.dat", NOUZEI),
]

#: problems only the whole file shows (decode_block says it does not look for them)
WHOLE_FILE = {"empty-file", "eof-marker", "bom-unexpected", "encoding-hint"}


def _in_blocks(data: bytes, layout: chukan.Layout, cuts: list[int]
               ) -> tuple[dict[str, pl.DataFrame], list[tuple[str, int | None, int | None]]]:
    frames: dict[str, list[pl.DataFrame]] = {}
    problems = []
    record, offset, carry = 1, 0, b""
    counters: dict[str, int] | None = {}  # trailer counts carried from block to block
    bounds = [*sorted(set(cuts)), len(data)]
    start = 0
    for k, end in enumerate(bounds):
        chunk = carry + data[start:end]
        start = end
        block = chukan.decode_block(chunk, layout, record=record, offset=offset,
                                    final=k == len(bounds) - 1, counters=counters)
        counters = block.counters if layout.is_multi else {}
        for kind, frame in block.frames.items():
            frames.setdefault(kind, []).append(frame)
        problems += [(p.code, p.record, p.offset) for p in block.problems]
        carry = chunk[block.consumed:]
        record += block.records
        offset += block.consumed
    assert not carry
    return ({kind: pl.concat(parts) for kind, parts in frames.items()}, problems)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(FILES), st.lists(st.floats(0, 1), max_size=4))
def test_blocks_cut_anywhere_give_what_reading_the_file_gives(
        file: tuple[str, str], where: list[float]) -> None:
    name, layout_name = file
    layout = chukan.load_layout(layout_name)
    data = (FIXTURES / name).read_bytes()
    report = chukan.Report()
    if layout.is_multi:
        expected = chukan.read_records(FIXTURES / name, layout, report=report)
    else:
        expected = {layout.kind().name: chukan.read(FIXTURES / name, layout, report=report)}
    got, problems = _in_blocks(data, layout, [int(w * len(data)) for w in where])
    for kind, frame in expected.items():
        if frame.height or kind in got:
            blocks = got[kind].drop("_record", "_offset")
            assert blocks.equals(frame.drop("_record", strict=False)), kind
    want = sorted((p.code, p.record, p.offset) for p in report.problems
                  if p.code not in WHOLE_FILE)
    assert sorted(problems) == want


def test_a_block_alone_checks_no_trailer_count_it_cannot_know() -> None:
    """The second half of a multi-record file on its own: its trailer counts records
    that are not in it, so without ``counters`` nothing is said of them."""
    data = (FIXTURES / "zengin/kouza-furikae.dat").read_bytes()
    layout = chukan.load_layout(ZENGIN)
    half = len(data) // layout.stride // 2 * layout.stride
    alone = chukan.decode_block(data[half:], layout, record=half // layout.stride + 1,
                                offset=half)
    assert alone.problems == [] and alone.counters is None
    wrong = chukan.decode_block(data[half:], layout, record=half // layout.stride + 1,
                                offset=half, counters={})
    assert [p.code for p in wrong.problems] == ["trailer-count"]


def test_a_csv_layout_is_refused_with_what_to_use_instead() -> None:
    with pytest.raises(chukan.UsageError, match="fixed-width"):
        chukan.decode_block(b"a,b\r\n", "examples/vendor-a/juki-kojin-csv")


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_a_block_of_any_bytes_like_object_reads_as_bytes(kind: type) -> None:
    """Spark hands a task its bytes as a bytearray; a file object may read into one. The
    block reads as the same bytes would (found by a review: the core took bytes only)."""
    data = (FIXTURES / "vendor-a" / "juki-kojin.dat").read_bytes()
    expected = chukan.decode_block(data, KOJIN)
    got = chukan.decode_block(kind(data), KOJIN)
    for name, frame in expected.frames.items():
        assert got.frames[name].equals(frame)
    assert [str(p) for p in got.problems] == [str(p) for p in expected.problems]


def test_a_file_read_as_bytearray_reads_as_bytes() -> None:
    class Reads(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return bytearray(super().read(size))  # type: ignore[return-value]

    for name, layout in [("vendor-a/juki-kojin.dat", KOJIN),
                         ("vendor-a/juki-kojin.csv", "examples/vendor-a/juki-kojin-csv")]:
        data = (FIXTURES / name).read_bytes()
        assert chukan.read(Reads(data), layout).equals(chukan.read(data, layout))


def test_a_date_under_its_fumei_flag_is_fumei_in_a_block_as_in_a_read() -> None:
    """A block gives what read gives for a flagged date (its flag decoded with it when
    only the date is asked for), so that a Spark task's rows are read's rows."""
    layout = chukan.loads_layout('''
        [layout]
        name = "flagged"
        format = "fixed"
        encoding = "cp932"
        record_length = 9
        terminator = "none"
        [[field]]
        name = "birth"
        length = 8
        type = "date"
        format = "YYYYMMDD"
        fumei_flag = "birth_fumei"
        [[field]]
        name = "birth_fumei"
        length = 1
        type = "code"
        ''')
    data = b"195001011195001020"
    want = chukan.read(data, layout)
    assert want["birth"].to_list()[0] is None  # flagged: 不詳, whatever its digits
    block = chukan.decode_block(data, layout)
    assert block.frames["flagged"].drop("_record", "_offset").equals(want)
    only = chukan.decode_block(data, layout, columns=["birth", "birth_partial"])
    assert only.frames["flagged"].select("birth", "birth_partial").equals(
        want.select("birth", "birth_partial"))
