"""A reject file a person can act on, and that loses nothing: the key, each reason with
its field, value and message in two languages, and the whole record's bytes (issue 13:
6; issue 8: 13)."""

from __future__ import annotations

from pathlib import Path

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
