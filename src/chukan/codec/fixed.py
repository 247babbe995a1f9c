"""Numbers and dates written straight into fixed-width field bytes (numpy), with the
writer's checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from chukan._arrow import present_rows
from chukan.codec._base import Failure, _fail, strings_to_matrix
from chukan.codec.dates import _civil_from_days
from chukan.codec.eras import _ERA_START_DAY, _ERA_START_YEAR, writer_codes
from chukan.codec.fields import format_field
from chukan.codec.numbers import _OVERPUNCH_NEG, _OVERPUNCH_POS, unscaled_values

if TYPE_CHECKING:
    import numpy.typing as npt

    from chukan.spec import Field


def _digit_bytes(values: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.uint8]:
    """Zero-padded ASCII digits of non-negative integers, one row each."""
    v = values.astype(np.uint32) if len(values) and values.max() < 2 ** 32 else \
        values.astype(np.uint64)
    digits = np.empty((width, len(values)), dtype=np.uint8)  # one digit position a row
    for k in range(width - 1, -1, -1):
        v, r = np.divmod(v, 10)
        digits[k] = r
    digits += 0x30
    return np.ascontiguousarray(digits.T)


def number_bytes(f: Field, values: pl.Series) -> tuple[npt.NDArray[np.uint8],
                                                        npt.NDArray[np.bool_], list[Failure]]:
    """An ``integer`` or display / zoned ``decimal`` column as field bytes, in numpy:
    ``(matrix, present, failures)``; absent rows (null or failed) are left to padding.

    >>> from chukan.codec._base import _f
    >>> m, ok, _ = number_bytes(_f("integer", 5, signed=True), pl.Series([-12, 7, None]))
    >>> [bytes(r) for r in m[ok]]
    [b'-0012', b'00007']
    """
    w = f.length
    ints, fails = unscaled_values(f, values)
    present = present_rows(ints)
    v = ints.fill_null(0).to_numpy().astype(np.int64)
    # the Int64 minimum has no Int64 magnitude (abs() gives it back negative, which would
    # pass every width check and be written as -0): no field chukan writes can hold it
    lowest = present & (v == np.iinfo(np.int64).min)
    _fail(fails, "width-overflow", f"{w}桁に収まりません", lowest)
    v = np.where(lowest, 0, v)
    neg, mag = v < 0, np.abs(v)
    if not f.signed:
        _fail(fails, "not-integer" if f.type == "integer" else "not-decimal",
              "負の値は書けません", neg & present)
    sign_room = (f.type == "integer" and f.pad != " ") or \
        (f.type == "decimal" and f.storage == "display" and f.signed)
    top = np.iinfo(np.int64).max

    def power(k: int) -> int:
        return 10 ** k if k < 19 else top

    if f.type == "integer":  # a '-' takes one byte of a negative value
        limit = np.where(neg, power(w - 1), power(w))
    else:
        limit = np.full(len(v), power(w - 1) if sign_room else power(w))
    _fail(fails, "width-overflow", f"{w}桁に収まりません", present & (mag >= limit))
    bad = np.logical_or.reduce([x.mask for x in fails]) if fails else np.zeros(len(v), bool)
    present &= ~bad
    mag = np.where(present, mag, 0)
    if f.type == "integer" and f.pad == " ":
        out = _digit_bytes(mag, w)
        # blank the leading zeros (keeping at least one digit), '-' just before the digits
        n_digits = np.ones(len(mag), dtype=np.int64)
        for k in range(1, w):
            n_digits += mag >= 10 ** k
        pos = np.arange(w)
        first = w - n_digits
        out[pos < first[:, None]] = 0x20
        minus = neg & present
        out[np.flatnonzero(minus), first[minus] - 1] = 0x2D
    elif sign_room:
        out = np.empty((len(v), w), dtype=np.uint8)
        out[:, 1:] = _digit_bytes(mag, w - 1)
        if f.type == "integer":
            # zero-padded: '-' takes the first byte of negative values only
            out[:, 0] = np.where(neg, 0x2D, _digit_bytes(mag // 10 ** (w - 1), 1)[:, 0])
        else:
            out[:, 0] = np.where(neg, 0x2D, 0x2B)
    else:
        out = _digit_bytes(mag, w)
        if f.storage == "zoned" and f.signed:
            last = out[:, -1] - 0x30
            punch_pos = np.frombuffer(_OVERPUNCH_POS.encode(), dtype=np.uint8)
            punch_neg = np.frombuffer(_OVERPUNCH_NEG.encode(), dtype=np.uint8)
            out[:, -1] = np.where(neg, punch_neg[last], punch_pos[last])
    return out, present, fails


def date_bytes(f: Field, df: pl.DataFrame) -> tuple[npt.NDArray[np.uint8],
                                                     npt.NDArray[np.bool_], list[Failure]]:
    """A date field (its Date column and ``_partial``) as field bytes, in numpy; 不詳
    values and ``YYYY-MM`` strings go through :func:`format_field` row by subset."""
    fmt = f.format or "YYYYMMDD"
    n = df.height
    if fmt in ("YYYYMM", "YYYY-MM"):
        return _text_bytes_via_format(f, df)
    date = df[f.name].cast(pl.Date)
    present = present_rows(date)
    days = date.cast(pl.Int32).fill_null(0).to_numpy().astype(np.int64)
    y, m, d = _civil_from_days(days)
    fails: list[Failure] = []
    if fmt in ("GYYMMDD", "GGYYMMDD"):
        g = 1 if fmt == "GYYMMDD" else 2
        era = np.searchsorted(_ERA_START_DAY, days, side="right") - 1
        to_code = np.asarray(writer_codes(f), dtype=np.int64)
        code_of = np.where(era >= 0, to_code[np.maximum(era, 0)], -1)
        eyear = y - _ERA_START_YEAR[np.maximum(era, 0)] + 1
        ok = (code_of >= 0) & (eyear >= 1) & (eyear <= 99)
        _fail(fails, "era-range", "この形式で書けない日付です", present & ~ok)
        number = np.where(ok, code_of * 1000000 + eyear * 10000 + m * 100 + d, 0)
        out = _digit_bytes(number, g + 6)
    elif fmt == "YYMMDD":
        low = 1900 + (f.pivot or 0)
        ok = (y >= low) & (y < low + 100)
        _fail(fails, "bad-date", "この形式で書けない日付です", present & ~ok)
        out = _digit_bytes(np.where(ok, (y % 100) * 10000 + m * 100 + d, 0), 6)
    else:
        ok = (y >= 0) & (y <= 9999)
        _fail(fails, "bad-date", "この形式で書けない日付です", present & ~ok)
        out = _digit_bytes(np.where(ok, y * 10000 + m * 100 + d, 0), 8)
        if fmt == "YYYY-MM-DD":
            dashed = np.full((n, 10), 0x2D, dtype=np.uint8)
            dashed[:, [0, 1, 2, 3, 5, 6, 8, 9]] = out
            out = dashed
    present &= ok
    fails += fill_partial(f, df, out, present)
    return out, present, fails


def fill_partial(f: Field, df: pl.DataFrame, out: npt.NDArray[np.uint8],
                 present: npt.NDArray[np.bool_]) -> list[Failure]:
    """Write the 不詳 values of a date field (its ``_partial`` column, where the date is
    null) into their rows of ``out`` and mark them ``present``; what they fail."""
    pname, fails = f"{f.name}_partial", list[Failure]()
    if pname not in df.columns or df[pname].null_count() == df.height:
        return fails  # (a batch seldom holds a 不詳 value: no pass over its rows)
    partial = df[pname]
    wanted = (partial.is_not_null() & (partial != "") & df[f.name].is_null()).fill_null(
        value=False)
    rest = np.flatnonzero(~present & wanted.to_numpy())
    if len(rest):
        sub, sub_ok, sub_fails = _text_bytes_via_format(f, df[rest])
        out[rest[sub_ok]] = sub[sub_ok]
        present[rest[sub_ok]] = True
        for x in sub_fails:
            mask = np.zeros(len(present), dtype=bool)
            mask[rest[x.mask]] = True
            fails.append(Failure(x.code, x.message, mask))
    return fails


def _text_bytes_via_format(f: Field, df: pl.DataFrame) -> tuple[npt.NDArray[np.uint8],
                                                                  npt.NDArray[np.bool_],
                                                                  list[Failure]]:
    text, fails = format_field(f, df, fixed=True)
    bad = np.logical_or.reduce([x.mask for x in fails]) if fails else np.zeros(len(text), bool)
    text = text.set(pl.Series(bad), None)
    present = present_rows(text)
    return strings_to_matrix(text, f.length), present, fails
