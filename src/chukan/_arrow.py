"""Arrow arrays over buffers chukan already holds, as Polars String series: no value is
touched in Python, and Polars takes string views without a copy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa

if TYPE_CHECKING:
    import numpy.typing as npt


def view_series(n: int, views: npt.NDArray[np.uint8], buffers: list[npt.NDArray[np.uint8]],
                valid: npt.NDArray[np.bool_]) -> pl.Series:
    """Wrap the core's string views (Arrow's ``Utf8View``, the layout Polars keeps its
    strings in) and their buffers as a String series: Polars takes them without a copy."""
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    arr = pa.Array.from_buffers(pa.string_view(), n, [validity, pa.py_buffer(views),
                                                      *map(pa.py_buffer, buffers)])
    series = pl.from_arrow(arr)
    assert isinstance(series, pl.Series)  # noqa: S101 -- from_arrow of an Array is a Series
    return series


def string_series(n: int, offsets: npt.NDArray[np.int64], data: npt.NDArray[np.uint8],
                  valid: npt.NDArray[np.bool_] | None = None) -> pl.Series:
    """Wrap UTF-8 bytes and offsets as a String series without any per-value work."""
    validity = None if valid is None or valid.all() else \
        pa.py_buffer(np.packbits(valid, bitorder="little"))
    arr = pa.Array.from_buffers(pa.large_utf8(), n,
                                [validity, pa.py_buffer(offsets), pa.py_buffer(data)])
    series = pl.from_arrow(arr)
    assert isinstance(series, pl.Series)  # noqa: S101 -- from_arrow of an Array is a Series
    return series
