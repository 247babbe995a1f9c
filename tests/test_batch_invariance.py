"""Reading, validating and converting give the same records, problems and output at every
batch size (issue 13: 1 and 12)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import chukan
from helpers import FIXTURES

KIHON_CSV = FIXTURES / "vendor-a" / "juki-kojin.kihon.csv"
KIHON = "examples/vendor-a/kojin-to-kihon"


def _damaged(record: int, column: int, byte: bytes) -> bytes:
    lines = KIHON_CSV.read_bytes().split(b"\n")
    cells = lines[record].split(b",")
    cells[column] = cells[column][:2] + byte + cells[column][2:]
    lines[record] = b",".join(cells)
    return b"\n".join(lines)


def _convert(data: bytes, batch_size: int) -> tuple[bytes, bytes, tuple[int, int, int]]:
    folder = Path(tempfile.mkdtemp())
    source = folder / "in.csv"
    source.write_bytes(data)
    out = folder / "out.dat"
    result = chukan.convert(source, KIHON, out, reverse=True, batch_size=batch_size)
    counts = (result.records_in, result.records_out, result.records_rejected)
    rejects = result.rejects.read_bytes().replace(str(folder).encode(), b"")  # type: ignore[union-attr]
    return out.read_bytes(), rejects, counts


def test_a_record_rejected_in_a_later_batch_is_not_also_written() -> None:
    data = _damaged(4, 7, b"\xff")  # record 4, 氏名: one invalid byte
    out, rejects, counts = _convert(data, batch_size=2)
    assert counts == (5, 4, 1)
    assert rejects.decode().splitlines()[1].startswith("4,")
    assert (out, rejects, counts) == _convert(data, batch_size=1000)


@given(record=st.integers(1, 5), column=st.integers(0, 19),
       byte=st.sampled_from([b"\xff", b"\x00", b'"', b"\r", b","]),
       batch=st.integers(1, 6))
def test_convert_is_the_same_at_every_batch_size(record: int, column: int, byte: bytes,
                                                 batch: int) -> None:
    data = _damaged(record, column, byte)
    assert _convert(data, batch) == _convert(data, 1000)


@given(record=st.integers(1, 5), column=st.integers(0, 19),
       byte=st.sampled_from([b"\xff", b'"', b"\r", b'"\n"', b"\n"]),
       batch=st.integers(1, 6))
def test_read_and_validate_are_the_same_at_every_batch_size(
        record: int, column: int, byte: bytes, batch: int) -> None:
    data = _damaged(record, column, byte)
    layout = "kihon/juki/kojin"

    def problems(report: chukan.Report) -> list[tuple[str, int | None, int | None]]:
        return sorted((p.code, p.record, p.offset) for p in report.problems)

    whole = chukan.Report()
    frame = chukan.read(data, layout, report=whole)
    parts = chukan.Report()
    batches = list(chukan.read_batches(data, layout, report=parts, batch_size=batch))
    joined = [row for b in batches for row in b.rows()]
    assert joined == frame.rows()
    assert problems(parts) == problems(whole)
    assert parts.records_read == whole.records_read


def test_a_csv_that_ends_in_an_eof_byte_reads_the_same_in_batches() -> None:
    """Found by the fuzz run: the DOS end-of-file byte after the last row was all that
    was left for the last chunk of a batched read, which then read an empty row of an
    empty chunk (an IndexError) instead of stopping."""
    data = KIHON_CSV.read_bytes()
    data = (data if data.endswith(b"\n") else data + b"\r\n") + b"\x1a"
    layout = "kihon/juki/kojin"
    whole = chukan.Report()
    frame = chukan.read(data, layout, report=whole)
    for batch in (1, 2, 100):
        parts = chukan.Report()
        rows = [r for b in chukan.read_batches(data, layout, report=parts, batch_size=batch)
                for r in b.rows()]
        assert rows == frame.rows()
        assert [(p.code, p.offset) for p in parts.problems] == \
            [(p.code, p.offset) for p in whole.problems] == [("eof-marker", len(data) - 1)]
