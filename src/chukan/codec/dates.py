"""Date fields: parsed on their bytes (the short paths, and the full parser with its
不詳 parts and errors) and formatted as Polars expressions."""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from chukan import _core
from chukan._arrow import constant, present_rows
from chukan._threads import thread_count
from chukan.codec._base import (
    _DIM,
    Failure,
    FormatCheck,
    _digits_value,
    _eight_digits,
    _fail,
    _fixed_strings,
)
from chukan.codec.eras import (
    _EPOCH,
    _ERA_END_DAY,
    _ERA_END_YM,
    _ERA_NAMES,
    _ERA_START_DAY,
    _ERA_START_YEAR,
    _ERA_START_YM,
    _day,
    _era_for_date_expr,
    _era_for_year_expr,
    _era_range_expr,
    _era_start_year,
    era_codes,
    era_table,
    writer_codes,
)
from chukan.spec import DATE_WIDTHS

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from chukan.spec import Field


def _days(y: npt.NDArray[np.int32], m: npt.NDArray[np.int32], d: npt.NDArray[np.int32],
          ok: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 for valid (y, m, d); rows not ``ok`` get 2000-01-01."""
    y2, m2, d2 = np.where(ok, y, 2000), np.where(ok, m, 1), np.where(ok, d, 1)
    months = (y2.astype(np.int64) - 1970) * 12 + (m2 - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]")
    return np.asarray((first - _EPOCH).astype(np.int64) + (d2 - 1), dtype=np.int64)


#: Where the digits of each full-date format sit, read as one 8-digit number
#: (None: a leading "0"), so that one SWAR pass parses them all.
_DIGIT_POSITIONS: dict[str, tuple[int | None, ...]] = {
    "YYYYMMDD": (0, 1, 2, 3, 4, 5, 6, 7),
    "YYYY-MM-DD": (0, 1, 2, 3, 5, 6, 8, 9),
    "YYMMDD": (None, None, 0, 1, 2, 3, 4, 5),
    "GYYMMDD": (None, 0, 1, 2, 3, 4, 5, 6),
    "GGYYMMDD": (0, 1, 2, 3, 4, 5, 6, 7),
}


def _civil_days(y: npt.NDArray[np.int64], m: npt.NDArray[np.int64],
                d: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's days_from_civil)."""
    y2 = y - (m <= 2)
    cycle = y2 // 400
    yoe = y2 - cycle * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return np.asarray(cycle * 146097 + doe - 719468, dtype=np.int64)


#: date formats with a short path (the others go through the full parser)
FAST_DATE_FORMATS = tuple(_DIGIT_POSITIONS)


def fast_dates(mat: npt.NDArray[np.uint8], fmt: str, pivot: int, codes: Sequence[int],
               writer: Sequence[int] = ()) -> tuple[npt.NDArray[np.int64],
                                                     npt.NDArray[np.bool_]]:
    """Days of the rows that are plainly complete, valid dates, in the bytes the writer
    gives back; ``ok`` marks them. The rest (不詳, blanks, errors, an era code or an
    era the writer would not choose) go through the full parser.

    The compiled core does the same in its decoding pass; this is the Python kernel's,
    and the oracle the core is tested against. ``codes`` as :func:`era_codes` gives,
    ``writer`` as :func:`writer_codes`.
    """
    value, ok = _eight_digits(mat, _DIGIT_POSITIONS[fmt])
    if fmt == "YYYY-MM-DD":
        ok &= (mat[:, 4] == 0x2D) & (mat[:, 7] == 0x2D)
    m, d = value // 100 % 100, value % 100
    rest = value // 10000
    if fmt == "YYMMDD":
        y = np.where(rest < pivot, 2000 + rest, 1900 + rest)
    elif fmt in ("GYYMMDD", "GGYYMMDD"):
        era_idx = np.asarray(codes, dtype=np.int64)[rest // 100 % 100]
        eyear = rest % 100
        ok &= (era_idx >= 0) & (eyear >= 1)
        y = _ERA_START_YEAR[np.maximum(era_idx, 0)] + eyear - 1
    else:
        y = rest
        ok &= y >= 1
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    ok &= (m >= 1) & (m <= 12) & (d >= 1)
    ok &= d <= _DIM[np.clip(m, 0, 12)] + ((m == 2) & leap)
    days = _civil_days(y, np.clip(m, 1, 12), np.clip(d, 1, 31))
    if fmt in ("GYYMMDD", "GGYYMMDD"):
        e = np.maximum(era_idx, 0)
        ok &= (days >= _ERA_START_DAY[e]) & (days <= _ERA_END_DAY[e])
        # written back as read: the era the writer chooses for the day, and its code
        chosen = np.searchsorted(_ERA_START_DAY, days, side="right") - 1
        ok &= (chosen == era_idx) & (np.asarray(writer, dtype=np.int64)[e] == rest // 100 % 100)
    return np.where(ok, days, 0), ok


def parse_date(f: Field, mat: npt.NDArray[np.uint8], *,
               fast: tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]] | None = None
               ) -> tuple[pl.DataFrame, list[Failure]]:
    """Parse a date field from its bytes (a ``(records, width)`` matrix), in numpy.

    Gives the Date column and ``<name>_partial`` (不詳 values, losslessly), or for
    ``YYYYMM`` / ``YYYY-MM`` a String ``YYYY-MM`` column. Complete, valid dates take a
    short path (``fast``: days and the rows it took, where the kernel has taken it
    already); only the other rows go through the full parser.
    """
    n = mat.shape[0]
    if f.format not in FAST_DATE_FORMATS or n == 0:
        return _parse_date_full(f, mat)
    days, ok = fast if fast is not None else _short_path(f, mat)
    date = pl.Series(f.name, days.astype(np.int32)).cast(pl.Date)
    partial = constant(None, n).alias(f"{f.name}_partial")
    if ok.all():
        return pl.DataFrame([date, partial]), []
    rows = np.flatnonzero(~ok)
    sub, sub_fails = _parse_date_full(f, mat[rows])
    date = date.scatter(rows, sub[f.name])
    partial = partial.scatter(rows, sub[f"{f.name}_partial"])
    fails = []
    for x in sub_fails:
        mask = np.zeros(n, dtype=bool)
        mask[rows[x.mask]] = True
        fails.append(Failure(x.code, x.message, mask))
    return pl.DataFrame([date, partial]), fails


def _short_path(f: Field, mat: npt.NDArray[np.uint8]
                ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The short path of a date field (days, and the rows it took) over a byte matrix:
    the core's, as the fixed-width reader takes it, with the GIL released;
    ``CHUKAN_KERNEL=python`` has :func:`fast_dates` take it (the oracle of the tests)."""
    form = (f.format or "YYYYMMDD", f.pivot or 0, era_codes(f), writer_codes(f))
    n, width = mat.shape
    # (a layout's date field is its format's width; a field made by hand may not be)
    if os.environ.get("CHUKAN_KERNEL") == "python" or width != DATE_WIDTHS[form[0]]:
        return fast_dates(mat, *form)
    (column,) = _core.extract(np.ascontiguousarray(mat).reshape(-1), n, width,
                              [(0, width, "date", False, "", form)], "utf-8",
                              thread_count(), None, era_table())
    return column["numbers"], column["valid"]


def _parse_date_full(f: Field, mat: npt.NDArray[np.uint8]
                     ) -> tuple[pl.DataFrame, list[Failure]]:
    fmt = f.format or "YYYYMMDD"
    n = mat.shape[0]
    empty = (mat == 0x20).all(axis=1)
    isdig = (mat >= 0x30) & (mat <= 0x39)
    d = mat.astype(np.int32) - 0x30
    fails: list[Failure] = []
    if fmt in ("YYYYMM", "YYYY-MM"):
        dash = fmt == "YYYY-MM"
        pos = [0, 1, 2, 3, 5, 6] if dash else list(range(6))
        shape_ok = isdig[:, pos].all(axis=1) & ((mat[:, 4] == 0x2D) if dash else True)
        mon = _digits_value(d, *((5, 7) if dash else (4, 6)))
        ok = shape_ok & (mon <= 12) & ~empty
        text = np.empty((n, 7), dtype=np.uint8)
        text[:, :4] = mat[:, :4]
        text[:, 4] = 0x2D
        text[:, 5:] = mat[:, 5:7] if dash else mat[:, 4:6]
        _fail(fails, "bad-date", f"{fmt}形式の年月ではありません", ~ok & ~empty)
        return pl.DataFrame({f.name: _fixed_strings(text, ok)}), fails
    era_idx: npt.NDArray[np.int64] | None = None
    if fmt in ("YYYYMMDD", "YYYY-MM-DD"):
        dash = fmt == "YYYY-MM-DD"
        pos = [0, 1, 2, 3, 5, 6, 8, 9] if dash else list(range(8))
        shape_ok = isdig[:, pos].all(axis=1)
        if dash:
            shape_ok &= (mat[:, 4] == 0x2D) & (mat[:, 7] == 0x2D)
        y = _digits_value(d, 0, 4)
        m, day = (_digits_value(d, 5, 7), _digits_value(d, 8, 10)) if dash else \
            (_digits_value(d, 4, 6), _digits_value(d, 6, 8))
        year_unknown = y == 0
        well = shape_ok
    elif fmt == "YYMMDD":
        shape_ok = isdig.all(axis=1)
        yy = _digits_value(d, 0, 2)
        y = np.where(yy < (f.pivot or 0), 2000 + yy, 1900 + yy).astype(np.int32)
        m, day = _digits_value(d, 2, 4), _digits_value(d, 4, 6)
        year_unknown = np.zeros(n, dtype=bool)  # 00 is a real year here
        all_zero = shape_ok & (d == 0).all(axis=1)  # but 000000 is wholly unknown
        well = shape_ok
    else:
        g = 1 if fmt == "GYYMMDD" else 2
        shape_ok = isdig.all(axis=1)
        code = _digits_value(np.where(isdig, d, 0), 0, g)
        lut = np.full(10 ** g, -1, dtype=np.int64)
        for c, era in (f.eras.codes.items() if f.eras else ()):
            if c.isdigit() and len(c) == g and era in _ERA_NAMES:
                lut[int(c)] = _ERA_NAMES.index(era)
        era_idx = lut[code]
        known = era_idx >= 0
        all_zero = shape_ok & (d == 0).all(axis=1)
        eyear = _digits_value(d, g, g + 2)
        y = np.where(known, _ERA_START_YEAR[np.maximum(era_idx, 0)] + eyear - 1, 0)
        y = y.astype(np.int32)
        m, day = _digits_value(d, g + 2, g + 4), _digits_value(d, g + 4, g + 6)
        year_unknown = eyear == 0
        _fail(fails, "unknown-era", "元号コードが元号コード表にありません",
              shape_ok & ~known & ~all_zero)
        well = shape_ok & (known | all_zero)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = _DIM[np.clip(m, 0, 12)] + ((m == 2) & leap)
    parts_ok = (m <= 12) & np.where(m > 0, day <= dim, day <= 31)
    part_unknown = year_unknown | (m == 0) | (day == 0)
    full_ok = well & ~part_unknown & parts_ok
    partial_ok = well & part_unknown & parts_ok
    _fail(fails, "bad-date", f"{fmt}形式の日付ではありません", ~shape_ok & ~empty)
    _fail(fails, "impossible-date", "存在しない日付です", well & ~parts_ok)
    days = _days(y, m, day, full_ok)
    era_form = np.zeros(n, dtype=bool)
    if era_idx is not None:
        e = np.maximum(era_idx, 0)
        in_era = (days >= _ERA_START_DAY[e]) & (days <= _ERA_END_DAY[e])
        ym = y.astype(np.int64) * 12 + np.maximum(m, 1) - 1
        ym_hi = y.astype(np.int64) * 12 + np.where(m > 0, m, 12) - 1
        part_in = year_unknown | ((ym_hi >= _ERA_START_YM[e]) & (ym <= _ERA_END_YM[e]))
        era_bad = (full_ok & ~in_era) | (partial_ok & (era_idx >= 0) & ~part_in)
        _fail(fails, "era-range", "元号の期間外の日付です", era_bad)
        full_ok &= ~era_bad
        partial_ok &= ~era_bad
        # ISO is lossless only where a writer would choose this era back: by the month
        # when it is known (明治45-01-00 is 1912-01-00), else by the year
        writer_era = np.where(m > 0, np.searchsorted(_ERA_START_YM, ym, side="right") - 1,
                              np.searchsorted(_ERA_START_YEAR, y, side="right") - 1)
        era_form = partial_ok & (era_idx >= 0) & (year_unknown | (writer_era != era_idx))
    date = pl.Series(f.name, days, dtype=pl.Int64).cast(pl.Date)
    date = date.set(pl.Series(~full_ok), None)
    if not partial_ok.any() and not empty.any():
        # the usual block: every date complete, nothing to spell out
        partial = pl.Series(f"{f.name}_partial", [None] * n, dtype=pl.String)
        return pl.DataFrame({f.name: date, f"{f.name}_partial": partial}), fails
    partial = _partial_strings(y, m, day, partial_ok & ~era_form)
    if era_form.any():
        rows = np.flatnonzero(era_form)
        assert era_idx is not None  # noqa: S101 -- era_form is only set for era formats
        yy_text = [f"{int(v):02d}" for v in eyear[rows]]
        forms = [f"{_ERA_NAMES[era_idx[r]]}{yy}-{int(m[r]):02d}-{int(day[r]):02d}"
                 for r, yy in zip(rows, yy_text, strict=True)]
        partial = partial.scatter(rows, forms)
    if era_idx is not None or fmt == "YYMMDD":
        zero_rows = np.flatnonzero(partial_ok & all_zero)
        if len(zero_rows):
            partial = partial.scatter(zero_rows, ["0000-00-00"] * len(zero_rows))
    blank = np.flatnonzero(empty)
    if len(blank):
        partial = partial.scatter(blank, [""] * len(blank))
    return pl.DataFrame({f.name: date, f"{f.name}_partial": partial}), fails


def _partial_strings(y: npt.NDArray[np.int32], m: npt.NDArray[np.int32],
                     d: npt.NDArray[np.int32], ok: npt.NDArray[np.bool_]) -> pl.Series:
    """``YYYY-MM-DD`` strings (zeros for unknown parts) where ``ok``, null elsewhere."""
    n = len(y)
    text = np.empty((n, 10), dtype=np.uint8)
    for col, (value, div) in enumerate(((y, 1000), (y, 100), (y, 10), (y, 1))):
        text[:, col] = (np.clip(value, 0, 9999) // div) % 10 + 0x30
    text[:, 4] = text[:, 7] = 0x2D
    text[:, 5], text[:, 6] = m // 10 % 10 + 0x30, m % 10 + 0x30
    text[:, 8], text[:, 9] = d // 10 % 10 + 0x30, d % 10 + 0x30
    return _fixed_strings(text, ok)


def _core_spelled(f: Field, date: pl.Expr, spelled: pl.Expr) -> pl.Expr:
    """Dates as ``f``'s format spells them: ``spelled`` (Polars) on the Python path,
    else the core's date writer, once per batch, with ``spelled`` only for the rare date
    the format cannot hold (shown in its report as Polars spells it)."""
    if os.environ.get("CHUKAN_KERNEL") == "python":
        return spelled
    fmt = f.format or "YYYYMMDD"
    form = (fmt, f.pivot or 0, list(era_codes(f)), list(writer_codes(f)))
    width = DATE_WIDTHS[fmt]

    def spell(days: pl.Series) -> pl.Series:
        n = len(days)
        present = present_rows(days)
        out = np.zeros(n * width, dtype=np.uint8)
        failed = _core.compose_dates(out, width, 0, form, era_table(), days.cast(
            pl.Date).cast(pl.Int32).fill_null(0).to_numpy().astype(np.int64), present,
            thread_count())
        text = _fixed_strings(out.reshape(n, width), present & ~failed)
        if failed.any():
            where = np.flatnonzero(failed)
            odd = days.gather(where).to_frame(f.name).select(spelled).to_series()
            text = text.scatter(where, odd)
        return text.alias(days.name)

    return date.map_batches(spell, return_dtype=pl.String, is_elementwise=True)


def _days_between(date: pl.Expr, first: int, last: int) -> pl.Expr:
    """Whether a date lies from day ``first`` to day ``last`` (days since 1970-01-01),
    judged on its day number: Polars finds a date's year through its calendar, which
    cost more than writing the date.

    >>> days = pl.DataFrame({"d": [dt.date(1, 1, 1), dt.date(1999, 12, 31), None]})
    >>> days.select(_days_between(pl.col("d"), _day(dt.date(1900, 1, 1)),
    ...                           _day(dt.date(1999, 12, 31))))["d"].to_list()
    [False, True, None]
    >>> _YEAR_ZERO
    -719528
    """
    return date.cast(pl.Int32).is_between(first, last)


#: 0000-01-01, the first day a four-digit year spells (a leap year before 0001-01-01)
_YEAR_ZERO = _day(dt.date(1, 1, 1)) - 366


def _format_date(f: Field, columns: Sequence[str], fails: list[FormatCheck]
                 ) -> tuple[pl.Expr, list[FormatCheck]]:
    fmt = f.format or "YYYYMMDD"
    c = pl.col(f.name)
    if fmt in ("YYYYMM", "YYYY-MM"):
        s = c.cast(pl.String)
        ok = s.str.contains(r"^[0-9]{4}-(0[0-9]|1[0-2])$")
        fails.append(("bad-date", "YYYY-MM形式ではありません", ~ok))
        text = s if fmt == "YYYY-MM" else s.str.replace("-", "", literal=True)
        return text, fails
    pname = f"{f.name}_partial"
    partial = pl.col(pname) if pname in columns else pl.lit(None, pl.String)
    iso_shape = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    py, pm, pd = partial.str.slice(0, 4), partial.str.slice(5, 2), partial.str.slice(8, 2)
    y, m, d = c.dt.year(), c.dt.month(), c.dt.day()
    two = {"m": m.cast(pl.String).str.zfill(2), "d": d.cast(pl.String).str.zfill(2)}
    if fmt in ("YYYYMMDD", "YYYY-MM-DD"):
        sep = "-" if fmt == "YYYY-MM-DD" else ""
        # chrono pads %Y to four digits for years 0–9999, the only years written
        full = _core_spelled(f, c, c.dt.to_string(f"%Y{sep}%m{sep}%d"))
        part = pl.concat_str([py, pm, pd], separator=sep)
        part_ok = partial.str.contains(iso_shape)
        range_ok = _days_between(c, _YEAR_ZERO, _day(dt.date(9999, 12, 31)))
    elif fmt == "YYMMDD":
        pivot = f.pivot or 0
        full = _core_spelled(f, c, pl.concat_str([(y % 100).cast(pl.String).str.zfill(2),
                                                  two["m"], two["d"]]))
        part = pl.concat_str([py.str.slice(2, 2), pm, pd])
        lo = 1900 + pivot
        year = py.cast(pl.Int32, strict=False)
        # a 不詳 value must come back the same: its year inside the pivot's century
        part_ok = partial.str.contains(iso_shape) & (
            (partial == "0000-00-00") | ((year >= lo) & (year < lo + 100)))
        range_ok = _days_between(c, _day(dt.date(lo, 1, 1)), _day(dt.date(lo + 99, 12, 31)))
    else:
        g = 1 if fmt == "GYYMMDD" else 2
        table = f.eras.codes if f.eras else {}
        to_code: dict[str, str] = {}
        for era_code, era_name in table.items():
            to_code.setdefault(era_name, era_code)
        era = _era_for_date_expr(c)
        code = era.replace_strict(to_code, default=None, return_dtype=pl.String)
        era_year = y - _era_start_year(era) + 1
        eyear = era_year.cast(pl.String).str.zfill(2)
        full = _core_spelled(f, c, pl.concat_str([code, eyear, two["m"], two["d"]]))
        range_ok = _era_range_expr(c, set(to_code))  # 令和100年 has no YY spelling
        # partials: ISO (era chosen by month or year, as the reader promised) or era form
        is_iso = partial.str.contains(iso_shape)
        p_era = pl.when(is_iso).then(_era_for_year_expr(
            py.cast(pl.Int32, strict=False), pm.cast(pl.Int32, strict=False))) \
            .otherwise(partial.str.slice(0, 2))
        p_code = pl.when(partial == "0000-00-00").then(pl.lit("0" * g)).otherwise(
            p_era.replace_strict(to_code, default=None, return_dtype=pl.String))
        p_year = pl.when(partial == "0000-00-00").then(pl.lit("00")).when(is_iso).then(
            (py.cast(pl.Int32, strict=False) - _era_start_year(p_era) + 1)
            .cast(pl.String).str.zfill(2)).otherwise(partial.str.slice(2, 2))
        rest = pl.when(is_iso).then(pl.concat_str([pm, pd])).otherwise(
            pl.concat_str([partial.str.slice(5, 2), partial.str.slice(8, 2)]))
        part = pl.concat_str([p_code, p_year, rest])
        p_year_ok = (partial == "0000-00-00") | ~is_iso | (
            py.cast(pl.Int32, strict=False) - _era_start_year(p_era) + 1 <= 99)
        era_form = partial.str.contains(r"^(明治|大正|昭和|平成|令和)[0-9]{2}-[0-9]{2}-[0-9]{2}$")
        part_ok = p_year_ok & (is_iso | era_form) & p_code.is_not_null()
    fails.append(("era-range" if fmt in ("GYYMMDD", "GGYYMMDD") else "bad-date",
                  "この形式で書けない日付です", c.is_not_null() & ~range_ok))
    if pname not in columns:
        # no 不詳 value to write or check: Polars would still work through each row of
        # their branches, at twice the cost of the dates themselves
        return pl.when(c.is_not_null()).then(full), fails
    # a 不詳 value with every part known (a flagged date read as written) reads back as
    # a definite date unless its flag says 1: never written so
    whole = c.is_null() & partial.is_not_null() & (partial != "") & \
        ~partial.str.contains(r"(^|[^0-9])0+(-|$)")
    if f.fumei_flag is None:
        fails.append(("fumei-flagged", "不詳の日付ですが、このレイアウトには不詳フラグがなく、"
                                       "確定した日付として書かれてしまいます", whole))
    elif f.fumei_flag in columns:
        flag = pl.col(f.fumei_flag).cast(pl.String)
        fails.append(("fumei-flagged", f"不詳の日付ですが、{f.fumei_flag} が 1 ではありません",
                      whole & (flag != "1").fill_null(value=True)))
    fails.append(("bad-date", "不詳日付の形式が正しくありません",
                  c.is_null() & partial.is_not_null() & (partial != "") & ~part_ok))
    text = pl.when(c.is_not_null()).then(full).when(partial.is_not_null() & (partial != "")) \
        .then(part).otherwise(None)
    return text, fails


def _civil_from_days(days: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64],
                                                           npt.NDArray[np.int64],
                                                           npt.NDArray[np.int64]]:
    """Year, month and day of days since 1970-01-01 (H. Hinnant's civil_from_days)."""
    z = days + 719468
    cycle = np.floor_divide(z, 146097)
    doe = z - cycle * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + cycle * 400 + (m <= 2)
    return y, m, d
