"""Reading, validating and converting give the same records, problems and output at every
batch size (issue 13: 1 and 12)."""

from __future__ import annotations

import importlib
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from hypothesis import given
from hypothesis import strategies as st

import chukan
from helpers import FIXTURES

if TYPE_CHECKING:
    import pytest

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


def test_a_csv_batch_comes_with_its_own_problems_while_the_next_is_parsed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A CSV's next batch is parsed on a thread of its own while the caller works on
    this one; each batch still comes with the problems of its rows, and of no later
    row (they are joined to the report as it is yielded, in order)."""
    lines = KIHON_CSV.read_bytes().split(b"\n")
    body = [line for line in lines[1:] if line.strip()]
    rows = [body[i % len(body)] for i in range(30)]
    bad = [i for i in range(30) if i % 4 == 1]  # rows 2, 6, 10, …: an invalid byte
    rows = [row.replace(b",", b",\xff", 1) if i in bad else row for i, row in enumerate(rows)]
    data = b"\n".join([lines[0], *rows, b""])
    module = importlib.import_module("chukan._csv")
    parse, threads = module._parse_rows, []

    def seen(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return parse(*args, **kwargs)

    monkeypatch.setattr(module, "_parse_rows", seen)
    report = chukan.Report()
    read = 0
    for batch in chukan.read_batches(data, "kihon/juki/kojin", report=report, batch_size=3):
        read += batch.height
        assert sorted({p.record for p in report.problems}) == [i + 1 for i in bad if i < read]
    assert read == 30
    assert threads and all(name.startswith("chukan-csv") for name in threads)
