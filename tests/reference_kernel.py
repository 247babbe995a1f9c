"""The reference kernel: a block of fixed-width records decoded as ``chukan._kernel.extract``
decodes it, by whole-column numpy work and one call of CPython's codec per text column.

It was chukan's reading engine before the compiled core; the tests keep it as the oracle
the core is tested against (``tests/test_core.py``), and ``tests/conftest.py`` puts it in
``chukan._kernel.REFERENCE``, so that ``CHUKAN_KERNEL=python`` reads whole files through
it. The fuzz script and ``benchmarks/bench_eucjp.py`` take it from here too.

>>> m = np.frombuffer("0012山田　A ".encode("cp932"), dtype=np.uint8).reshape(1, -1)
>>> cols = extract_python(m, [ColumnSpec(0, 4, "ascii"), ColumnSpec(4, 6, "fullwidth"),
...                           ColumnSpec(10, 2, "text")], "cp932")
>>> [c.values.to_list() for c in cols]
[['0012'], ['山田'], ['A']]
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, cast

import numpy as np
import polars as pl
import pyarrow as pa

from chukan._arrow import string_series
from chukan._kernel import _NO_VALUES, _TYPED, ColumnSpec, RawColumn, flat_rows
from chukan.codec import (
    HALF_CHARS,
    UNREADABLE,
    NumberForm,
    fast_dates,
    fast_numbers,
    undefined_re,
)
from chukan.spec import codec_name, encoding_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt


def extract_python(matrix: npt.NDArray[np.uint8], specs: Sequence[ColumnSpec],
                   encoding: str) -> list[RawColumn]:
    """The Python kernel: whole-column numpy work and one codec call per text column."""
    out = _extract_python(matrix, [s for s in specs if s.kind not in _TYPED], encoding)
    typed = {i: _typed_column(matrix, s) for i, s in enumerate(specs) if s.kind in _TYPED}
    texts = iter(out)
    return [typed[i] if i in typed else _checked(next(texts), s) for i, s in enumerate(specs)]


def _typed_column(matrix: npt.NDArray[np.uint8], s: ColumnSpec) -> RawColumn:
    col = np.ascontiguousarray(matrix[:, s.offset:s.offset + s.length])
    if s.kind == "date":
        assert s.date is not None
        fmt, pivot, codes, writer = s.date
        numbers, taken = fast_dates(col, fmt, pivot, codes, writer)
    else:
        numbers, taken = fast_numbers(col, cast("NumberForm", s.kind))
    none = np.zeros(matrix.shape[0], dtype=bool)
    return RawColumn(_NO_VALUES, none, none, numbers=numbers, taken=taken)


def _checked(raw: RawColumn, s: ColumnSpec) -> RawColumn:
    """The column with its values' check made (in Polars, as the CSV reader makes it)."""
    if not s.check:
        return raw
    pattern = {"fullwidth": f"[{HALF_CHARS}]", "halfwidth": f"[^{HALF_CHARS}]",
               "digits": "[^0-9]"}[s.check]
    failed = raw.values.str.contains(pattern).fill_null(value=False).to_numpy()
    return replace(raw, failed=np.asarray(failed, dtype=bool))


def _extract_python(matrix: npt.NDArray[np.uint8], specs: Sequence[ColumnSpec],
                    encoding: str) -> list[RawColumn]:
    codec = codec_name(encoding)
    n = matrix.shape[0]
    out: dict[int, RawColumn] = {}
    # Every column is first tried without the codec; text columns holding a non-ASCII
    # byte in this block (most full-width ones) then go through it.
    first = [(i, s) for i, s in enumerate(specs) if s.kind != "fullwidth"]
    high, ctrl = column_flags(matrix) if n else (np.zeros(0, bool), np.zeros(0, bool))
    if first and n:
        found = _ascii_columns(matrix, [s for _, s in first], high | ctrl)
        for (i, _), raw in zip(first, found, strict=True):
            if raw is not None:
                out[i] = raw
    for i, s in enumerate(specs):
        if i not in out:
            out[i] = _text_column(matrix, s, codec,
                                  has_control=bool(ctrl[s.offset:s.offset + s.length].any()))
    return [out[i] for i in range(len(specs))]


def column_flags(matrix: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.bool_],
                                                          npt.NDArray[np.bool_]]:
    r"""Per byte position, whether any record holds a byte of 0x80 or more there.

    And, second, whether any record holds a control byte there: below 0x20, or 0x7F
    where nothing above 0x7F is (elsewhere a 0x7F is found after decoding). Two
    reductions down the records, about a millisecond per megabyte.

    >>> m = np.frombuffer(b"AB\x81\x40\x00x", dtype=np.uint8).reshape(2, 3)
    >>> [a.tolist() for a in column_flags(m)]
    [[False, False, True], [False, True, False]]
    """
    if not matrix.shape[0]:
        empty = np.zeros(matrix.shape[1], dtype=bool)
        return empty, empty
    high, low = matrix.max(axis=0), matrix.min(axis=0)
    return high >= 0x80, (low < 0x20) | (high == 0x7F)


def _ascii_columns(matrix: npt.NDArray[np.uint8], specs: Sequence[ColumnSpec],
                   odd_cols: npt.NDArray[np.bool_]) -> list[RawColumn | None]:
    """ASCII fields never see the codec: Polars slices the record bytes itself. A text
    column holding anything but printable ASCII in this block comes back as None (it
    needs the codec); a numeric one has its odd bytes turned into ``?``."""
    n = matrix.shape[0]
    flat, stride = flat_rows(matrix)
    offsets = np.arange(n + 1, dtype=np.int64) * stride
    offsets[-1] = len(flat)
    records = pl.from_arrow(pa.Array.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(flat)]))
    assert isinstance(records, pl.Series)
    none = np.zeros(n, dtype=bool)
    exprs: list[pl.Expr] = []
    out: list[RawColumn | None] = []
    for k, s in enumerate(specs):
        if not odd_cols[s.offset:s.offset + s.length].any():
            text = pl.col("r").bin.slice(s.offset, s.length).cast(pl.String)
            if s.kind == "ascii":
                exprs.append(pl.when(text != " " * s.length).then(text).alias(f"c{k}"))
            else:
                stripped = text.str.strip_chars_end(" ")
                exprs.append(pl.when(stripped != "").then(stripped).alias(f"c{k}"))
            out.append(RawColumn(pl.Series(dtype=pl.String), none, none))
        elif s.kind == "ascii":
            out.append(_sanitised_ascii(matrix, s))
        else:
            out.append(None)
    if exprs:
        got = pl.DataFrame({"r": records}).select(exprs)
        for k, raw in enumerate(out):
            if raw is not None and f"c{k}" in got.columns:
                out[k] = RawColumn(got[f"c{k}"], none, none)
    return out


def _sanitised_ascii(matrix: npt.NDArray[np.uint8], s: ColumnSpec) -> RawColumn:
    """Rare path: a non-ASCII or control byte in a numeric field becomes ``?``, which
    fails the field's type check, so it is reported with its raw bytes."""
    n = matrix.shape[0]
    col = np.ascontiguousarray(matrix[:, s.offset:s.offset + s.length])
    col = np.where((col - np.uint8(0x20)) >= np.uint8(0x5F), np.uint8(0x3F), col)
    valid = (col != 0x20).any(axis=1)
    values = string_series(n, np.arange(n + 1, dtype=np.int64) * s.length, col.reshape(-1),
                           valid)
    none = np.zeros(n, dtype=bool)
    return RawColumn(values, none, none)


def _text_column(matrix: npt.NDArray[np.uint8], s: ColumnSpec, codec: str, *,
                 has_control: bool) -> RawColumn:
    n, w = matrix.shape[0], s.length
    no_rows = np.zeros(n, dtype=bool)
    # the field's bytes with room for a separator after each value: LF, which is never
    # part of a character in CP932, Shift_JIS, EUC-JP or UTF-8
    ext = np.empty((n, w + 1), dtype=np.uint8)
    ext[:, :w] = matrix[:, s.offset:s.offset + w]
    col = ext[:, :w]
    control = no_rows
    if has_control:
        ctrl = (col < 0x20) | (col == 0x7F)
        control = ctrl.any(axis=1)
        col[ctrl] = 0x3F
    # U+3000 padding can be cut on bytes where every full-width character is one aligned
    # double-byte pair (CP932, Shift_JIS); elsewhere Polars strips it after decoding
    enc = encoding_of(codec)
    pair = enc.ideographic_space if s.kind == "fullwidth" and enc.paired else None
    lengths = _content_lengths(col, pair)
    # (before the separators below overwrite the first padding byte)
    padding = _odd_pairs(col, lengths, pair, s.pad) if pair is not None else None
    # padding goes before the codec sees it: keep each value's bytes and one LF
    ext[np.arange(n), lengths] = 0x0A
    # two more LFs as a sentinel: a lead byte at the very end must not eat a separator
    raw = ext[np.arange(w + 1) <= lengths[:, None]].tobytes() + b"\n\n"
    text = raw.decode(codec, "replace")
    if "\x7f" in text:  # DEL, in a column whose other bytes hid it from column_flags
        return _text_column(matrix, s, codec, has_control=True)
    utf8 = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(utf8 == 0x0A)
    if len(ends) != n + 2:  # the codec swallowed a separator: decode value by value
        return _text_column_slowly(ext, lengths, s, codec, control)
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends[:n] + 1
    # each value still ends with its LF: dropping the last byte is cheaper in Polars
    values = string_series(n, offsets, utf8, (lengths > 0) & ~control).str.head(-1)
    return _finish_text(values, s, codec, pair, text, control, lengths, padding)


def _odd_pairs(col: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int64], pair: bytes,
               pad: str) -> npt.NDArray[np.bool_]:
    """Rows of a paired (CP932) full-width column whose padding holds pairs of the other
    kind than ``pad`` (two spaces where U+3000 is written back, or U+3000 where spaces)."""
    n, w = col.shape
    half = w // 2
    if not half:
        return np.zeros(n, dtype=bool)
    pairs = np.ascontiguousarray(col[:, : 2 * half]).view(np.uint16)
    other = np.frombuffer(b"  " if pad == "\u3000" else pair, dtype=np.uint16)[0]
    after = np.arange(1, half + 1)[None, :] > (lengths // 2)[:, None]
    return np.asarray(((pairs == other) & after).any(axis=1), dtype=bool)


def _finish_text(values: pl.Series, s: ColumnSpec, codec: str, pair: bytes | None,
                 text: str, control: npt.NDArray[np.bool_],
                 lengths: npt.NDArray[np.int64] | None = None,
                 padding: npt.NDArray[np.bool_] | None = None) -> RawColumn:
    """Strip U+3000 padding left for Polars, and null the values that did not decode."""
    if s.kind == "fullwidth" and pair is None:
        stripped = values.str.strip_chars_end("\u3000 ")
        if lengths is not None:  # what writing back would not give: see _pad_after
            unit = len(encoding_of(codec).ideographic_space)
            cut = values.str.slice(stripped.str.len_chars().fill_null(0))
            spaces = s.length - lengths  # trailing spaces, already cut on bytes
            if s.pad == "\u3000":
                odd = ~cut.str.contains("^\u3000*$").fill_null(value=True).to_numpy() | \
                    (spaces >= unit)
            else:
                odd = cut.str.contains("\u3000").fill_null(value=False).to_numpy()
            padding = odd & ~control
        values = stripped.set(stripped == "", None)
    invalid = np.zeros(len(values), dtype=bool)
    # (CPython's cp932 decodes the bytes CP932 leaves undefined as UNREADABLE characters)
    if any(u in text for u in "\ufffd" + UNREADABLE.get(codec, "")):
        invalid = values.str.contains(undefined_re(codec)).fill_null(value=False).to_numpy()
        values = values.set(pl.Series(invalid), None)
    return RawColumn(values, control, invalid, padding)


def _text_column_slowly(ext: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int64],
                        s: ColumnSpec, codec: str, control: npt.NDArray[np.bool_]
                        ) -> RawColumn:
    """Rare path: one decode per value, for a column whose joined decode lost a
    separator (an incomplete multi-byte sequence at a value's end, in EUC-JP)."""
    texts = [bytes(row[:k]).decode(codec, "replace") for row, k in zip(ext, lengths,
                                                                       strict=True)]
    values = pl.Series(texts, dtype=pl.String).set(
        pl.Series((lengths == 0) | control), None)
    return _finish_text(values, s, codec, None, "".join(texts), control)


def _content_lengths(col: npt.NDArray[np.uint8], pair: bytes | None
                     ) -> npt.NDArray[np.int64]:
    """Bytes before the trailing padding of each row: spaces (0x20 is never a trail
    byte), or, given the two bytes of U+3000 (full-width fields), whole U+3000 or
    two-space pairs counted from the field's start (a full-width field holds only
    double-byte characters, so they are aligned) and a lone last space."""
    n, w = col.shape
    if pair is None or w < 2:
        # last non-space position + 1, as a max over position numbers (fast on small ints)
        ranks = np.arange(1, w + 1, dtype=np.uint16 if w > 255 else np.uint8)
        return np.asarray(((col != 0x20) * ranks).max(axis=1), dtype=np.int64)
    half = w // 2
    pairs = np.ascontiguousarray(col[:, : 2 * half]).view(np.uint16)  # native byte order
    pad = np.frombuffer(pair, dtype=np.uint16)[0]
    spaces = np.frombuffer(b"  ", dtype=np.uint16)[0]
    ranks = np.arange(1, half + 1, dtype=np.uint16 if half > 255 else np.uint8)
    content = np.asarray((((pairs != pad) & (pairs != spaces)) * ranks).max(axis=1),
                         dtype=np.int64) * 2
    if w % 2:  # the odd last byte is padding only when it is a space
        content = np.where(col[:, -1] != 0x20, w, content)
    # a misaligned pair may end in a space (a half-width character, an error): cut
    # trailing spaces there too
    rows = np.flatnonzero((content > 0) & (col[np.arange(n), np.maximum(content - 1, 0)]
                                           == 0x20))
    if len(rows):
        content[rows] = _content_lengths(col[rows], None)
    return np.asarray(content, dtype=np.int64)
