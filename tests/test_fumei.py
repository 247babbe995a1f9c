"""A date under a 不詳 flag is 不詳, whatever digits it holds (issue 8: 1)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import chukan
from chukan import LayoutError
from helpers import FIXTURES

KIHON_CSV = FIXTURES / "vendor-a" / "juki-kojin.kihon.csv"
KIHON = "kihon/juki/kojin"


def _town_file(tmp_path: Path, source: Path = KIHON_CSV) -> Path:
    """The town's case: 生年月日 1950-01-01 with 生年月日_不詳フラグ = 1."""
    lines = source.read_bytes().decode("utf-8").split("\n")
    cells = lines[1].split(",")
    cells[12], cells[13] = "1950-01-01", "1"
    lines[1] = ",".join(cells)
    path = tmp_path / "town.csv"
    path.write_bytes("\n".join(lines).encode("utf-8"))
    return path


def test_a_flagged_date_reads_as_fumei_with_its_written_value(tmp_path: Path) -> None:
    source = _town_file(tmp_path)
    report = chukan.Report()
    frame = chukan.read(source, KIHON, report=report)
    assert report.problems == []
    assert frame.select("seinengappi", "seinengappi_partial", "seinengappi_fumei").row(0) \
        == (None, "1950-01-01", "1")
    # the same read when only the date is asked for: its flag is decoded with it
    only = chukan.read(source, KIHON, columns=["seinengappi", "seinengappi_partial"])
    assert only.row(0) == (None, "1950-01-01")
    assert only.columns == ["seinengappi", "seinengappi_partial"]
    back = tmp_path / "back.csv"
    chukan.write(frame, back, KIHON)
    assert back.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("vendor", ["vendor-a", "mainframe"])
def test_a_conversion_never_emits_a_flagged_date_as_a_definite_one(tmp_path: Path,
                                                                   vendor: str) -> None:
    mapping = f"examples/{vendor}/kojin-to-kihon"
    town = _town_file(tmp_path, FIXTURES / vendor / "juki-kojin.kihon.csv")
    result = chukan.convert(town, mapping, tmp_path / "legacy.dat", reverse=True)
    assert result.rejects_by_reason == {"fumei-flagged": 1}
    assert result.records_out == 4
    reject = pl.read_csv(result.rejects, infer_schema=False).row(0, named=True)  # type: ignore[arg-type]
    assert (reject["fields"], reject["values"]) == ("生年月日(seinengappi)", "1950-01-01")
    legacy = chukan.load_mapping(mapping).source
    written = chukan.read(tmp_path / "legacy.dat", legacy)
    assert dt.date(1950, 1, 1) not in written["seinengappi"].to_list()


def test_the_writer_refuses_a_whole_fumei_value_its_flag_does_not_mark(tmp_path: Path
                                                                      ) -> None:
    frame = chukan.read(_town_file(tmp_path), KIHON)
    unflagged = frame.with_columns(  # row 1 now says 0
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("0"))
        .otherwise(pl.col("seinengappi_fumei")).alias("seinengappi_fumei"))
    report = chukan.Report()
    chukan.write(unflagged, tmp_path / "o.csv", KIHON, report=report)
    assert [(p.code, p.record, p.field) for p in report] == [
        ("fumei-flagged", 1, "seinengappi")]


def test_zeros_for_unknown_parts_need_no_flag(tmp_path: Path) -> None:
    layout = chukan.loads_layout(
        '[layout]\nname = "t"\nformat = "fixed"\nencoding = "cp932"\nrecord_length = 8\n'
        'terminator = "lf"\n[[field]]\nname = "d"\nlength = 8\ntype = "date"\n')
    frame = pl.DataFrame({"d": [None], "d_partial": ["1950-00-00"]},
                         schema={"d": pl.Date, "d_partial": pl.String})
    chukan.write(frame, tmp_path / "o", layout)
    assert (tmp_path / "o").read_bytes() == b"19500000\n"
    whole = frame.with_columns(pl.lit("1950-01-01").alias("d_partial"))
    with pytest.raises(chukan.DataError, match="fumei-flagged"):
        chukan.write(whole, tmp_path / "o", layout)


@pytest.mark.parametrize(("flag", "message"), [
    ("seinengapi_fumei", "did you mean 'seinengappi_fumei'"),
    ("seibetsu", None)])
def test_a_flag_must_name_a_one_character_field(flag: str, message: str | None) -> None:
    text = (Path(__file__).resolve().parent.parent / "layouts" / "kihon" / "juki" /
            "kojin.toml").read_text(encoding="utf-8")
    text = text.replace('fumei_flag = "seinengappi_fumei"', f'fumei_flag = "{flag}"')
    if flag == "seibetsu":
        text = text.replace('fumei_flag = "seibetsu"', 'fumei_flag = "shimei"')
    with pytest.raises(LayoutError, match="fumei_flag") as err:
        chukan.loads_layout(text)
    if message:
        assert message in str(err.value)
