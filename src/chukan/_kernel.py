"""The byte-matrix → string-columns kernel: the one hot loop of reading, kept behind a
small interface so that a compiled implementation can replace it without touching the
rest of chukan.

Input: a ``(records, record_length)`` uint8 matrix and a list of :class:`ColumnSpec`.
Output: one :class:`RawColumn` per spec: a Polars String series with padding removed
(null where the field is all padding) and masks of rows whose bytes were unusable.

Everything is whole-column numpy work and one codec call per text column; ASCII-only
fields never go through the codec at all.

>>> m = np.frombuffer("0012山田　A ".encode("cp932"), dtype=np.uint8).reshape(1, -1)
>>> cols = extract(m, [ColumnSpec(0, 4, "ascii"), ColumnSpec(4, 6, "fullwidth"),
...                    ColumnSpec(10, 2, "text")], "cp932")
>>> [c.values.to_list() for c in cols]
[['0012'], ['山田'], ['A']]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl
import pyarrow as pa

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

ColumnKind = Literal["ascii", "text", "fullwidth"]

#: Characters CPython's cp932 decoder yields for bytes that CP932 leaves undefined
#: (0x80, 0xA0, 0xFD–0xFF); the layout contract treats them as invalid.
_UNDEFINED = ("\ufffd", "\x80", "\uf8f0", "\uf8f1", "\uf8f2", "\uf8f3")
_UNDEFINED_RE = "[\ufffd\x80\uf8f0-\uf8f3]"


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """Where a field sits in the record and how to turn its bytes into text.

    ``ascii``: no codec, kept whole (null when all spaces), non-ASCII bytes become ``?``
    so that the type check reports them; ``text``: decoded, trailing spaces removed;
    ``fullwidth``: decoded, trailing spaces and U+3000 removed.
    """

    offset: int
    length: int
    kind: ColumnKind


@dataclass(frozen=True, slots=True)
class RawColumn:
    """A decoded column; ``control`` and ``invalid`` mark rows whose value is null because
    their bytes held control characters or did not decode."""

    values: pl.Series
    control: npt.NDArray[np.bool_]
    invalid: npt.NDArray[np.bool_]


def extract(matrix: npt.NDArray[np.uint8], specs: Sequence[ColumnSpec], encoding: str
            ) -> list[RawColumn]:
    """Decode every spec'd column of ``matrix`` (see the module docstring)."""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    return [_extract_one(matrix[:, s.offset:s.offset + s.length], s.kind, codec) for s in specs]


def _extract_one(col: npt.NDArray[np.uint8], kind: ColumnKind, codec: str) -> RawColumn:
    n, w = col.shape
    no_rows = np.zeros(n, dtype=bool)
    if kind == "ascii":
        # one unsigned compare finds control bytes, DEL and every non-ASCII byte at once
        odd = (col - np.uint8(0x20)) >= 0x5F
        control = no_rows
        if odd.any():
            ctrl = (col < 0x20) | (col == 0x7F)
            control = ctrl.any(axis=1)
            col = np.where(odd, np.uint8(0x3F), col)  # '?': fails every type check
        valid = (col != 0x20).any(axis=1) & ~control
        data = np.ascontiguousarray(col).reshape(-1)
        offsets = np.arange(0, n * w + 1, w, dtype=np.int64)
        return RawColumn(_string_series(n, offsets, data, valid), control, no_rows)

    ctrl = (col < 0x20) | (col == 0x7F)
    control = ctrl.any(axis=1) if ctrl.any() else no_rows
    if control.any():
        col = np.where(ctrl, np.uint8(0x3F), col)
    # Trailing spaces are padding. 0x20 is never a trail byte in CP932, Shift_JIS, EUC-JP
    # or UTF-8, so stripping them on bytes before decoding is exact.
    non_space = col != 0x20
    lengths = w - np.argmax(non_space[:, ::-1], axis=1)
    lengths[~non_space.any(axis=1)] = 0
    ext = np.empty((n, w + 1), dtype=np.uint8)
    ext[:, :w] = col
    ext[:, w] = 0x0A  # a separator that is never part of a multi-byte character
    keep = np.arange(w + 1) < lengths[:, None]
    keep[:, w] = True
    text = ext[keep].tobytes().decode(codec, "replace")
    invalid = no_rows
    utf8 = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(utf8 == 0x0A)
    data = utf8[utf8 != 0x0A]
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends - np.arange(n)
    valid = (lengths > 0) & ~control
    values = _string_series(n, offsets, data, valid)
    if any(u in text for u in _UNDEFINED):
        invalid = values.str.contains(_UNDEFINED_RE).fill_null(value=False).to_numpy()
        values = values.set(pl.Series(invalid), None)  # type: ignore[arg-type]
    if kind == "fullwidth":
        values = values.str.strip_chars_end("\u3000")
        values = values.set(values == "", None)  # type: ignore[arg-type]
    return RawColumn(values, control, invalid)


def _string_series(n: int, offsets: npt.NDArray[np.int64], data: npt.NDArray[np.uint8],
                   valid: npt.NDArray[np.bool_]) -> pl.Series:
    """Wrap UTF-8 bytes and offsets as a String series without any per-value work."""
    validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    arr = pa.Array.from_buffers(pa.large_utf8(), n,
                                [validity, pa.py_buffer(offsets), pa.py_buffer(data)])
    series = pl.from_arrow(arr)
    assert isinstance(series, pl.Series)  # noqa: S101 -- from_arrow of an Array is a Series
    return series
