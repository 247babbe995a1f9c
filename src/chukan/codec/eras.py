"""和暦: the era a writer chooses (as Polars expressions for the formatters, as day
tables for the byte parsers) and the era codes of a layout's date fields."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from chukan._eras import ERA_ENDS, ERA_STARTS

if TYPE_CHECKING:
    from chukan.spec import Field


_ERA_NAMES = tuple(ERA_STARTS)


def era_of(day: dt.date) -> tuple[str, int]:
    """The era and era year a writer uses for ``day`` (the new era on a shared day).

    >>> era_of(dt.date(2019, 5, 1)), era_of(dt.date(1912, 7, 30))
    (('令和', 1), ('大正', 1))
    """
    for era in reversed(_ERA_NAMES):
        if day >= ERA_STARTS[era]:
            return era, day.year - ERA_STARTS[era].year + 1
    msg = f"{day} is before 明治"
    raise ValueError(msg)


def _era_for_year_expr(year: pl.Expr, month: pl.Expr) -> pl.Expr:
    """The era a writer chooses for a 不詳 date: the latest one begun by its month when the
    month is known (1912-01 is 明治45, 1912-07 大正元年), else by its year alone."""
    expr: pl.Expr = pl.lit(None, pl.String)
    for era in _ERA_NAMES:
        start = ERA_STARTS[era]
        begun = pl.when(month > 0).then(year * 12 + month - 1 >= start.year * 12
                                        + start.month - 1).otherwise(year >= start.year)
        expr = pl.when(begun).then(pl.lit(era)).otherwise(expr)
    return expr


def _era_for_date_expr(day: pl.Expr) -> pl.Expr:
    expr: pl.Expr = pl.lit(None, pl.String)
    for era in _ERA_NAMES:
        expr = pl.when(day >= ERA_STARTS[era]).then(pl.lit(era)).otherwise(expr)
    return expr


def _day(date: dt.date) -> int:
    """Days since 1970-01-01 (a Polars date's number).

    >>> _day(dt.date(1970, 1, 2))
    1
    """
    return (date - dt.date(1970, 1, 1)).days


def _era_range_expr(day: pl.Expr, named: set[str]) -> pl.Expr:
    """Whether a date is written in its era with a two-digit year: its era (see
    :func:`era_of`) is one of ``named`` and the year below 100, judged on the day number
    alone (a year taken out of each date cost Polars more than the date's whole text).

    >>> days = pl.DataFrame({"d": [dt.date(1867, 12, 31), dt.date(1912, 7, 29),
    ...                            dt.date(1912, 7, 30), dt.date(2117, 12, 31),
    ...                            dt.date(2118, 1, 1), None]})
    >>> days.select(_era_range_expr(pl.col("d"), {"明治", "令和"}))["d"].to_list()
    [False, True, False, True, False, None]
    """
    ok: pl.Expr = pl.lit(value=False)
    number = day.cast(pl.Int32)
    for era, start in ERA_STARTS.items():
        # the era's 100th year starts on 1 January of the 99th year after its first
        held = number < _day(dt.date(start.year + 99, 1, 1)) if era in named else \
            pl.lit(value=False)
        ok = pl.when(number >= _day(start)).then(held).otherwise(ok)
    return pl.when(day.is_not_null()).then(ok)


def _era_start_year(era: pl.Expr) -> pl.Expr:
    return era.replace_strict({e: d.year for e, d in ERA_STARTS.items()}, default=None,
                              return_dtype=pl.Int32)


_EPOCH = np.datetime64("1970-01-01", "D")


_ERA_START_DAY = np.array([(np.datetime64(d, "D") - _EPOCH).astype(np.int64)
                           for d in ERA_STARTS.values()])


_ERA_END_DAY = np.array([(np.datetime64(d, "D") - _EPOCH).astype(np.int64)
                         for d in ERA_ENDS.values()])


_ERA_START_YEAR = np.array([d.year for d in ERA_STARTS.values()])


_ERA_START_YM = np.array([d.year * 12 + d.month - 1 for d in ERA_STARTS.values()])


_ERA_END_YM = np.array([d.year * 12 + d.month - 1 for d in ERA_ENDS.values()])


@cache
def era_table() -> tuple[tuple[int, int, int], ...]:
    """Each era in order as (first year, first day, last day), days since 1970-01-01: what
    the era indexes of :func:`era_codes` point at (made once: the readers pass it to the
    core on every call).

    >>> era_table()[-1][:2]
    (2019, 18017)
    """
    return tuple((int(y), int(a), int(b)) for y, a, b in
                 zip(_ERA_START_YEAR, _ERA_START_DAY, _ERA_END_DAY, strict=True))


def era_codes(f: Field) -> tuple[int, ...]:
    """For each era code 0–99 of a ``GYYMMDD`` / ``GGYYMMDD`` field, the index of its era
    in :func:`era_table`, or -1 for a code the field's table lacks (codes of another
    width than the format's are not its codes).

    >>> from chukan.codec._base import _f
    >>> era_codes(_f("date", 7, format="GYYMMDD"))[:6]
    (-1, 0, 1, 2, 3, 4)
    """
    width = 1 if f.format == "GYYMMDD" else 2
    lut = [-1] * 100
    for c, era in (f.eras.codes.items() if f.eras else ()):
        if c.isdigit() and len(c) == width and era in _ERA_NAMES:
            lut[int(c)] = _ERA_NAMES.index(era)
    return tuple(lut)


def writer_codes(f: Field) -> tuple[int, ...]:
    """For each era of :func:`era_table`, the code the writer writes it with (the
    first the field's table gives), or -1.

    >>> from chukan.codec._base import _f
    >>> writer_codes(_f("date", 8, format="GGYYMMDD"))
    (1, 2, 3, 4, 5)
    """
    to_code = [-1] * len(_ERA_NAMES)
    for code, name in (f.eras.codes.items() if f.eras else ()):
        i = _ERA_NAMES.index(name) if name in _ERA_NAMES else -1
        if i >= 0 and to_code[i] < 0 and code.isdigit():
            to_code[i] = int(code)
    return tuple(to_code)
