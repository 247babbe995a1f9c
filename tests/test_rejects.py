"""A reject file a person can act on, and that loses nothing: the key, each reason with
its field, value and message in two languages, and the whole record's bytes (issue 13:
6; issue 8: 13)."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

import chukan
from chukan.cli import main
from helpers import FIXTURES, kojin_records, put

MAPPING = "examples/vendor-a/kojin-to-kihon"
KIHON_CSV = FIXTURES / "vendor-a" / "juki-kojin.kihon.csv"


def _rejects(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_every_kind_of_reject_keeps_its_whole_record(tmp_path: Path) -> None:
    recs = kojin_records()
    put(recs[1], 89, b"07")  # 続柄 07: no row in the code map (mapping)
    put(recs[2], 11, "髙".encode("cp932") + b"\xff")  # an invalid byte (reader)
    data = b"".join(recs[:4]) + bytes(recs[4][:150])  # the last record cut short (reader)
    src = tmp_path / "in.dat"
    src.write_bytes(data)
    result = chukan.convert(src, MAPPING, tmp_path / "out.csv")
    rejects = _rejects(result.rejects)  # type: ignore[arg-type]
    assert rejects["record"].to_list() == ["2", "3", "5"]
    raw = [bytes.fromhex(r) for r in rejects["raw"]]
    assert raw == [bytes(recs[1]), bytes(recs[2]), bytes(recs[4][:150])]
    row = rejects.row(0, named=True)
    assert row["key"] == "atena_no=0000000002"
    assert row["reasons"] == "unknown-code:zokugara"
    assert row["fields"] == "続柄(zokugara)"
    assert row["values"] == "07"


def test_a_csv_rejects_line_holds_the_csv_row(tmp_path: Path) -> None:
    lines = KIHON_CSV.read_bytes().split(b"\n")
    lines[2] = lines[2] + b",extra"  # one column too many: left out by the reader
    src = tmp_path / "in.csv"
    src.write_bytes(b"\n".join(lines))
    result = chukan.convert(src, MAPPING, tmp_path / "out.dat", reverse=True)
    rejects = _rejects(result.rejects)  # type: ignore[arg-type]
    assert rejects["reasons"].to_list() == ["csv-columns"]
    assert bytes.fromhex(rejects["raw"][0]) == lines[2] + b"\n"


def test_mask_hides_values_and_bytes(tmp_path: Path) -> None:
    recs = kojin_records()
    put(recs[1], 89, b"07")
    src = tmp_path / "in.dat"
    src.write_bytes(b"".join(recs))
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["convert", str(src), "-m", MAPPING, "-o", str(out),
                                       "--mask"])
    assert result.exit_code == 1, result.output
    row = _rejects(tmp_path / "out.csv.rejects.csv").row(0, named=True)
    assert row["values"] == "[数字2]"
    assert row["raw"] == f"<{len(recs[1])} bytes>"


@pytest.mark.parametrize("lang", ["message_ja", "message_en"])
def test_every_reason_has_a_message_in_both_languages(tmp_path: Path, lang: str) -> None:
    recs = kojin_records()
    put(recs[1], 89, b"07")
    put(recs[3], 82, b"4310501")
    src = tmp_path / "in.dat"
    src.write_bytes(b"".join(recs))
    result = chukan.convert(src, MAPPING, tmp_path / "out.csv")
    assert all(_rejects(result.rejects)[lang].str.len_chars() > 5)  # type: ignore[arg-type]


def _left_out_everywhere() -> list[tuple[str, bytes, str, bool]]:
    """Files whose records a reader leaves out whole, each with its mapping."""
    recs = kojin_records()
    short = b"".join(bytes(recs[i % 5][:199]) + b"\r\n" for i in range(40))
    mixed = b"".join(bytes(r[:200]) + (b"\n" if i % 3 else b"\r\n")
                     for i, r in enumerate(recs * 6))
    bom_eof = b"\xef\xbb\xbf" + b"".join(bytes(r) for r in recs * 4)[:-9] + b"\x1a"
    rows = KIHON_CSV.read_bytes().splitlines(keepends=True)
    csv = b"".join([rows[0], *(row.replace(b",", b",,", 1) if i % 2 else row
                               for i, row in enumerate(rows[1:] * 8))])
    packed = (FIXTURES / "mainframe" / "juki-kojin.dat").read_bytes() * 9
    return [("short", short, MAPPING, False), ("mixed", mixed, MAPPING, False),
            ("bom-eof", bom_eof, MAPPING, False), ("csv-columns", csv, MAPPING, True),
            ("packed-cut", packed[:-9], "examples/mainframe/kojin-to-kihon", False)]


@pytest.mark.parametrize(("name", "data", "mapping", "reverse"), _left_out_everywhere())
def test_records_left_out_are_read_again_at_their_places_not_held(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, data: bytes,
        mapping: str, reverse: bool) -> None:
    """A file read with the wrong layout leaves out every record, and the converter held
    each one's bytes to the end (1.5 GB for 300,000 records of 300 bytes): from a file
    or bytes it now keeps where they are and reads them again for the reject file, which
    is the one made from a stream, whose bytes it must hold (a stream's records read
    are not read again: their lines have no bytes)."""
    module = sys.modules["chukan.convert"]
    made: list[Any] = []

    class Seen(module._Rejects):  # type: ignore[misc,name-defined]
        __slots__ = ()

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            made.append(self)

    monkeypatch.setattr(module, "_Rejects", Seen)
    monkeypatch.setattr(sys.modules["chukan._csv"], "_CHUNK", 1 << 12)
    src = tmp_path / f"{name}.in"
    src.write_bytes(data)
    files = {}
    for how, source in (("stream", io.BytesIO(data)), ("path", src), ("bytes", data)):
        # (in batches of 7 records: places in chunks after the first)
        result = chukan.convert(source, mapping, tmp_path / f"{how}.out", reverse=reverse,
                                batch_size=7)
        files[how] = Path(result.rejects).read_bytes()
        assert result.records_rejected
    assert files["path"] == files["bytes"]

    def left_out(raw: bytes) -> list[tuple[str, ...]]:
        lines = pl.read_csv(raw, infer_schema=False)
        return lines.filter(pl.col("key").fill_null("") == "").rows()

    assert left_out(files["stream"]) == left_out(files["path"])
    assert all(row[-1] for row in left_out(files["path"]))
    assert made[0].dropped.held  # the stream's bytes
    assert all(r.dropped.held is None and r.dropped.records for r in made[1:])


def test_a_reject_file_made_in_slices_is_the_one_made_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its lines are made a slice of records at a time (memory holds one slice's bytes
    in hex): one header, every record once, in order."""
    recs = kojin_records()
    data = b"".join(bytes(put(bytearray(recs[i % 5]), 89, b"07")) if i % 3 else
                    bytes(recs[i % 5][:150]) + b"\r\n" for i in range(50))
    whole = chukan.convert(data, MAPPING, tmp_path / "whole.csv")
    monkeypatch.setattr(sys.modules["chukan.convert"], "_REJECTS_SLICE", 7)
    sliced = chukan.convert(data, MAPPING, tmp_path / "sliced.csv")
    assert Path(sliced.rejects).read_bytes() == Path(whole.rejects).read_bytes()
    assert whole.records_rejected == 50
