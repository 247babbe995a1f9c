"""Arrow arrays over buffers chukan already holds, as Polars String series: no value is
touched in Python, and Polars takes string views without a copy."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypeVar, cast

import numpy as np
import polars as pl
import pyarrow as pa

from chukan import _core
from chukan._threads import thread_count
from chukan.spec.mapping import PUA

if TYPE_CHECKING:
    import numpy.typing as npt

    from chukan._core import TextColumn

FrameOrSeries = TypeVar("FrameOrSeries", pl.DataFrame, pl.Series)


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


def views_of(text: pl.Series) -> tuple[npt.NDArray[np.uint8], list[npt.NDArray[np.uint8]]]:
    """The string views (16 bytes a row) and buffers under a String series, as Polars
    holds them. A series of several chunks (a batch made of blocks) has its views joined
    and their buffer numbers moved past the chunks before; its buffers are not copied.

    >>> two = pl.concat([pl.Series(["a" * 13, "b"]), pl.Series(["c" * 14])], rechunk=False)
    >>> views, buffers = views_of(two)
    >>> views.reshape(-1, 16)[:, 8:12].view(np.int32).ravel().tolist()  # buffer numbers
    [0, 0, 1]
    """
    text = text.cast(pl.String)
    if text.n_chunks() == 1:
        return _chunk_views(text)
    views: list[npt.NDArray[np.uint8]] = []
    buffers: list[npt.NDArray[np.uint8]] = []
    counts: list[int] = []
    for chunk in text.get_chunks():
        own, held = _chunk_views(chunk)
        views.append(own)
        buffers += held
        counts.append(len(held))
    # the core copies the views once and moves each long value's buffer number
    return _core.join_views(views, counts), buffers


def text_column(text: pl.Series) -> TextColumn:
    """A String series as the core takes a text column: its views and buffers (see
    :func:`views_of`), and which rows hold a value (None: all).

    >>> views, buffers, valid = text_column(pl.Series(["a", None]))
    >>> len(views), valid.tolist()
    (32, [True, False])
    """
    valid = text.is_not_null().to_numpy() if text.null_count() else None
    return (*views_of(text), valid)


def _chunk_views(text: pl.Series) -> tuple[npt.NDArray[np.uint8], list[npt.NDArray[np.uint8]]]:
    arr = text.to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string_view(arr.type):
        arr = arr.cast(pa.string_view())
    buffers = arr.buffers()
    views = np.frombuffer(buffers[1], dtype=np.uint8) if buffers[1] is not None else \
        np.zeros(0, dtype=np.uint8)
    # a slice keeps the whole series' views and says where it starts
    return (views[16 * arr.offset:16 * (arr.offset + len(arr))],
            # (an absent buffer stays in its place: views count buffers by index)
            [np.frombuffer(b, dtype=np.uint8) if b is not None else np.zeros(0, np.uint8)
             for b in buffers[2:]])


def constant(value: str | None, n: int) -> pl.Series:
    """``n`` rows of one String value (or null): what ``pl.repeat(..., eager=True)``
    gives, at a fortieth of its cost for a few rows (it runs a query; 190 against 5 µs),
    which added up where a batch of 100 records made a dozen.

    >>> constant("x", 2).to_list(), constant(None, 1).to_list(), len(constant("x", 0))
    (['x', 'x'], [None], 0)
    """
    return pl.Series([value], dtype=pl.String).new_from_index(0, n)


def owned(rows: FrameOrSeries) -> FrameOrSeries:
    """Rows copied out of the frame or series they were filtered or gathered from. A
    filter shares its source's buffers (one row of a million kept all of its column's
    8 MB; a string's the whole chunk's text), and a report keeps its problems' rows for
    as long as it lives: through Arrow's plain layout, they are copied.

    >>> whole = pl.Series("n", range(1_000))
    >>> one = owned(whole.filter(whole == 999))
    >>> one.to_list(), sum(b.size for b in one.to_arrow().buffers() if b is not None)
    ([999], 8)
    """
    copied = pl.from_arrow(rows.to_arrow(compat_level=pl.CompatLevel.oldest()))
    if isinstance(copied, pl.Series) and isinstance(rows, pl.Series):
        copied = copied.alias(rows.name)
    return cast("FrameOrSeries", copied)


def true_rows(mask: pl.Series) -> npt.NDArray[np.bool_]:
    """A boolean series as a numpy mask, null as False; one with no true row is made
    without Polars converting each row (most of the writer's checks find nothing).

    >>> true_rows(pl.Series([False, None, True])).tolist(), true_rows(pl.Series([False]))
    ([False, False, True], array([False]))
    """
    if not mask.any():
        return np.zeros(len(mask), dtype=np.bool_)
    return mask.fill_null(value=False).to_numpy()


def present_rows(values: pl.Series) -> npt.NDArray[np.bool_]:
    """Which rows of ``values`` hold one, as a numpy mask (all, without a pass, when the
    series has no null).

    >>> present_rows(pl.Series([1, None])).tolist(), present_rows(pl.Series([1])).tolist()
    ([True, False], [True])
    """
    if not values.null_count():
        return np.ones(len(values), dtype=np.bool_)
    return values.is_not_null().to_numpy()


def private_use_columns(frame: pl.DataFrame, names: list[str]) -> set[str]:
    """The text columns of ``frame`` with a 外字 (a private-use character) in some row:
    the core scans each chunk's bytes in bulk, in parallel (a column's chunks are not
    joined first); ``CHUKAN_KERNEL=python`` has Polars do it (the oracle of the tests).
    The core's answer may be a column with one of plane 15's two noncharacters too: a
    caller finding where uses :data:`~chukan.spec.mapping.PUA` on those columns.

    >>> sorted(private_use_columns(pl.DataFrame({"a": ["山田", None], "b": ["x", "\ue000"]}),
    ...                            ["a", "b"]))
    ['b']
    """
    if not names or not frame.height:
        return set()
    if os.environ.get("CHUKAN_KERNEL") == "python":
        row = frame.select(pl.col(c).str.contains(PUA).any() for c in names).row(0)
        return {c for c, hit in zip(names, row, strict=True) if hit}
    # one call per run of chunks of a length (a batch's columns share their blocks')
    by_length: dict[int, list[tuple[str, TextColumn]]] = {}
    for name in names:
        for chunk in frame[name].cast(pl.String).get_chunks():
            if len(chunk):
                by_length.setdefault(len(chunk), []).append((name, text_column(chunk)))
    held: set[str] = set()
    for n, columns in by_length.items():
        found = _core.private_use([c for _, c in columns], n, thread_count())
        held |= {name for (name, _), hit in zip(columns, found, strict=True) if hit}
    return held


def hex_rows(data: npt.NDArray[np.uint8], at: npt.NDArray[np.int64]) -> pl.Series:
    r"""Rows of bytes (row ``i`` is ``data[at[i]:at[i + 1]]``) in hex, a space between
    bytes, as a String series, in the core.

    >>> hex_rows(np.frombuffer(b"AB\x00\xff", np.uint8), np.array([0, 2, 2, 4])).to_list()
    ['41 42', '', '00 ff']
    """
    text, starts = _core.hex_rows(data, at.astype(np.int64))
    return string_series(len(at) - 1, starts, text)


def as_text(values: pl.Series) -> pl.Series:
    """Values as ``str()`` spells each (as a :class:`~chukan.Problem` shows a value): by
    column for text, integers and dates, whose Polars spelling is Python's; one by one
    for the rest (floats, decimals, times: ``1e-07``, ``1E-8``), which a report sees
    seldom.

    >>> from decimal import Decimal
    >>> as_text(pl.Series([Decimal("0.00000001")], dtype=pl.Decimal(12, 8))).to_list()
    ['1E-8']
    >>> as_text(pl.Series([7, None])).to_list()
    ['7', None]
    """
    kind = values.dtype
    if kind == pl.String or kind.is_integer() or kind == pl.Date:
        return values.cast(pl.String)
    return pl.Series(values.name, [None if v is None else str(v) for v in values.to_list()],
                     dtype=pl.String)
