"""Bounded-memory reading (read_batches) and lazy scans that decode only what a query
selects."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import chukan
from chukan import _kernel
from helpers import FIXTURES, KOJIN, NOUZEI, kojin_records, put


def big_file(tmp_path: Path, copies: int = 40) -> Path:
    path = tmp_path / "big.dat"
    path.write_bytes((FIXTURES / "vendor-a" / "juki-kojin.dat").read_bytes() * copies)
    return path


@pytest.mark.parametrize("size", [1, 7, 64, 1000])
def test_batches_concatenate_to_the_whole_read(tmp_path: Path, size: int) -> None:
    path = big_file(tmp_path)
    whole = chukan.read(path, KOJIN)
    batches = list(chukan.read_batches(path, KOJIN, batch_size=size))
    assert all(b.height <= size for b in batches)
    assert_frame_equal(pl.concat(batches), whole)


def test_batches_without_terminator(tmp_path: Path) -> None:
    path = tmp_path / "n.dat"
    path.write_bytes((FIXTURES / "mainframe" / "nouzei.dat").read_bytes() * 11)
    sizes = [b.height for b in chukan.read_batches(path, NOUZEI, batch_size=4)]
    assert sizes == [4] * 8 + [1]


def test_record_numbers_and_offsets_run_across_batches(tmp_path: Path) -> None:
    recs = [bytearray(r) for r in kojin_records() * 6]
    put(recs[17], 1, b"X")
    recs[23] = recs[23][:150] + b"\r\n"  # a short record in a later batch
    path = tmp_path / "bad.dat"
    path.write_bytes(b"".join(bytes(r) for r in recs))
    report = chukan.Report()
    rows = sum(b.height for b in chukan.read_batches(path, KOJIN, batch_size=4,
                                                     report=report))
    found = [(p.code, p.record, p.offset) for p in report]
    assert found == [("not-digits", 18, 17 * 202), ("record-length", 24, 23 * 202)]
    assert rows == 29
    assert report.records_read == 30  # the short record was read, and reported


def test_scan_decodes_only_the_selected_columns(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = big_file(tmp_path, 3)
    seen: list[tuple[int, int]] = []
    original = _kernel.extract

    def spy(matrix, specs, encoding, rewritten=None):
        seen.extend((s.offset, s.length) for s in specs)
        return original(matrix, specs, encoding, rewritten)

    monkeypatch.setattr(sys.modules["chukan.read"], "extract", spy)
    out = chukan.scan(path, KOJIN).select("atena_no").collect()
    assert out["atena_no"].head(2).to_list() == ["0000000001", "0000000002"]
    assert set(seen) == {(0, 10)}


def test_scan_with_filter_and_head(tmp_path: Path) -> None:
    path = big_file(tmp_path, 5)
    lf = chukan.scan(path, KOJIN, batch_size=3)
    got = lf.filter(pl.col("seibetsu") == "2").select("shimei_kanji").head(3).collect()
    assert got["shimei_kanji"].to_list() == ["山田　花子", "髙橋　\ue000子", "山田　花子"]
    assert lf.collect_schema()["seinengappi"] == pl.Date


def test_scan_of_a_date_partial_column_only(tmp_path: Path) -> None:
    path = big_file(tmp_path, 1)
    got = chukan.scan(path, KOJIN).select("seinengappi_partial").collect()
    assert got["seinengappi_partial"].to_list() == [None, None, None, "1950-00-00", None]


def test_scan_raises_on_bad_data(tmp_path: Path) -> None:
    path = tmp_path / "bad.dat"
    path.write_bytes((FIXTURES / "bad" / "not-digits.dat").read_bytes())
    with pytest.raises(Exception, match="not-digits"):
        chukan.scan(path, KOJIN).collect()
