"""Round-trip properties with strategies generated from layouts (chukan.testing):
read(write(df)) == df, and bytes → read → write → bytes is the identity, for every
shipped layout and for random layouts."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import chukan
from chukan.layout import Layout, available_layouts
from chukan.testing import frames, layouts, record_frames
from helpers import KOJIN, KOJIN_CSV, NOUZEI, SETAI, ZENGIN

if TYPE_CHECKING:
    import polars as pl

SINGLE = [KOJIN, NOUZEI, KOJIN_CSV, SETAI, "chukan/juki/kojin", "kihon/juki/kojin",
          "examples/mainframe/juki-kojin", "kihon/juki/ido-rireki",
          "examples/mainframe/juki-kojin-ibm930", "examples/mainframe/juki-kojin-jef"]


def round_trip(df: pl.DataFrame, layout: Layout) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "a", Path(tmp) / "b"
        chukan.write(df, first, layout)
        back = chukan.read(first, layout)
        assert_frame_equal(back, df.select(back.columns), check_dtypes=True)
        chukan.write(back, second, layout)
        assert second.read_bytes() == first.read_bytes()


def test_every_shipped_layout_is_covered() -> None:
    shipped = {name for name, path in available_layouts().items() if "layouts" in str(path)}
    assert shipped == {*SINGLE, ZENGIN}


@pytest.mark.parametrize("name", SINGLE)
def test_shipped_layout_round_trip(name: str) -> None:
    layout = chukan.load_layout(name)

    @given(frames(layout))
    def check(df: pl.DataFrame) -> None:
        round_trip(df, layout)

    check()


def test_multi_record_round_trip() -> None:
    layout = chukan.load_layout(ZENGIN)
    kinds = layout.kinds

    @given(st.tuples(*[record_frames(layout, k, max_rows=4) for k in kinds]))
    def check(parts: tuple[pl.DataFrame, ...]) -> None:
        frames_in = dict(zip([k.name for k in kinds], parts, strict=True))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "z"
            chukan.write_records(frames_in, out, layout)
            report = chukan.Report()
            back = chukan.read_records(out, layout, report=report)
            # random trailers rarely state the right count; nothing else may be wrong
            assert {p.code for p in report} <= {"trailer-count"}
            for name, df in frames_in.items():
                assert_frame_equal(back[name].drop("_record"), df)
            again = Path(tmp) / "z2"
            chukan.write_records(back, again, layout)
            assert again.read_bytes() == out.read_bytes()

    check()


@given(layouts(), st.data())
def test_random_layout_round_trip(layout: Layout, data: st.DataObject) -> None:
    df = data.draw(frames(layout, max_rows=6))
    round_trip(df, layout)
