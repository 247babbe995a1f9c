"""Value codecs: raw field text ⇄ typed Polars columns, eras, packed and zoned decimals,
and CP932's duplicate-code policy.

Every function here works on whole columns: Polars expressions over String series, or
numpy arithmetic over byte matrices. None loops over records in Python.

>>> parse_field(_f("date", 7, format="GYYMMDD"), pl.Series(["4310430", "5010501", "3250000"]))[0]
shape: (3, 2)
┌────────────┬────────────────┐
│ d          ┆ d_partial      │
│ ---        ┆ ---            │
│ date       ┆ str            │
╞════════════╪════════════════╡
│ 2019-04-30 ┆ null           │
│ 2019-05-01 ┆ null           │
│ null       ┆ 1950-00-00     │
└────────────┴────────────────┘
"""

from __future__ import annotations

import codecs
import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from chukan.layout import CodeTable, Field, load_code_table

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy.typing as npt

# --------------------------------------------------------------------------------------
# Eras

#: First day of each era. 明治元年 is taken as the whole of 1868 (the lunisolar calendar
#: used before 1873 is not modelled).
ERA_STARTS: Mapping[str, dt.date] = {
    "明治": dt.date(1868, 1, 1),
    "大正": dt.date(1912, 7, 30),
    "昭和": dt.date(1926, 12, 25),
    "平成": dt.date(1989, 1, 8),
    "令和": dt.date(2019, 5, 1),
}
#: Last day of each era. 大正 and 昭和 began on the day the previous emperor died, so that
#: day belongs to both eras; 平成 and 令和 began the day after the previous era ended.
ERA_ENDS: Mapping[str, dt.date] = {
    "明治": dt.date(1912, 7, 30),
    "大正": dt.date(1926, 12, 25),
    "昭和": dt.date(1989, 1, 7),
    "平成": dt.date(2019, 4, 30),
    "令和": dt.date(9999, 12, 31),
}
_ERA_ORDER = tuple(ERA_STARTS)


def era_of(day: dt.date) -> tuple[str, int]:
    """The era and era year a writer uses for ``day`` (the new era on a shared day).

    >>> era_of(dt.date(2019, 5, 1)), era_of(dt.date(1912, 7, 30))
    (('令和', 1), ('大正', 1))
    """
    for era in reversed(_ERA_ORDER):
        if day >= ERA_STARTS[era]:
            return era, day.year - ERA_STARTS[era].year + 1
    msg = f"{day} is before 明治"
    raise ValueError(msg)


def _era_for_year_expr(year: pl.Expr) -> pl.Expr:
    """The era a writer chooses for a year alone (partial dates): the latest one begun."""
    expr: pl.Expr = pl.lit(None, pl.String)
    for era in _ERA_ORDER:
        expr = pl.when(year >= ERA_STARTS[era].year).then(pl.lit(era)).otherwise(expr)
    return expr


def _era_for_date_expr(day: pl.Expr) -> pl.Expr:
    expr: pl.Expr = pl.lit(None, pl.String)
    for era in _ERA_ORDER:
        expr = pl.when(day >= ERA_STARTS[era]).then(pl.lit(era)).otherwise(expr)
    return expr


def _era_start_year(era: pl.Expr) -> pl.Expr:
    return era.replace_strict({e: d.year for e, d in ERA_STARTS.items()}, default=None,
                              return_dtype=pl.Int32)


def _era_bound(era: pl.Expr, bounds: Mapping[str, dt.date]) -> pl.Expr:
    return era.replace_strict(dict(bounds), default=None, return_dtype=pl.Date)


# --------------------------------------------------------------------------------------
# CP932 duplicates

#: CP932 characters that CPython encodes in the NEC-selected IBM rows (lead bytes ED/EE)
#: but Windows, Java's MS932 and WHATWG encode in the IBM rows (FA–FC).
@cache
def _nec_selected() -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for lead in (0xFA, 0xFB, 0xFC):
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFD)):
            raw = bytes((lead, trail))
            try:
                ch = raw.decode("cp932")
            except UnicodeDecodeError:
                continue
            if ch.encode("cp932")[0] in (0xED, 0xEE):
                found[ch] = raw
    return found


_IBM_BASE = 0xF0000  # plane 15 private use: cannot occur in CP932 text, so safe as markers


@cache
def _ibm_markers() -> tuple[list[str], list[str], dict[int, bytes]]:
    table = _nec_selected()
    chars = sorted(table)
    markers = [chr(_IBM_BASE + i) for i in range(len(chars))]
    by_marker = {_IBM_BASE + i: table[ch] for i, ch in enumerate(chars)}
    return chars, markers, by_marker


def _ibm_error_handler(exc: UnicodeError) -> tuple[bytes, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    _, _, by_marker = _ibm_markers()
    out = bytearray()
    for ch in exc.object[exc.start:exc.end]:
        raw = by_marker.get(ord(ch))
        if raw is None:
            raise exc
        out += raw
    return bytes(out), exc.end


codecs.register_error("chukan-ibm", _ibm_error_handler)


def prepare_for_encoding(values: pl.Series, encoding: str, duplicates: str) -> pl.Series:
    """Swap characters whose CP932 bytes depend on the duplicate policy for markers that
    :func:`encode_text` turns into the IBM rows (only for ``cp932`` with policy ``ibm``).

    >>> encode_text(prepare_for_encoding(pl.Series(["髙"]), "cp932", "ibm")[0], "cp932")
    b'\\xfb\\xfc'
    >>> encode_text(prepare_for_encoding(pl.Series(["髙"]), "cp932", "nec")[0], "cp932")
    b'\\xee\\xe0'
    """
    if encoding != "cp932" or duplicates != "ibm":
        return values
    chars, markers, _ = _ibm_markers()
    pattern = "[" + "".join(chars) + "]"
    if not values.str.contains(pattern).any():
        return values
    return values.str.replace_many(chars, markers)


def encode_text(text: str, encoding: str) -> bytes:
    """Encode text prepared by :func:`prepare_for_encoding` (strict otherwise)."""
    return text.encode(encoding, errors="chukan-ibm")


# --------------------------------------------------------------------------------------
# Parsing raw text into typed columns


@dataclass(frozen=True, slots=True)
class Failure:
    """Rows of a column that failed one check: ``mask`` is True where the check failed."""

    code: str
    message: str
    mask: pl.Series


_HALF = r"\x20-\x7E\x{FF61}-\x{FF9F}"
_OVERPUNCH_POS = "{ABCDEFGHI"
_OVERPUNCH_NEG = "}JKLMNOPQR"


def column_names(f: Field) -> list[str]:
    """The DataFrame columns a field becomes (a date also gets ``<name>_partial``)."""
    if f.type == "filler":
        return []
    if f.type == "date" and f.format not in ("YYYYMM", "YYYY-MM"):
        return [f.name, f"{f.name}_partial"]
    return [f.name]


def dtype_of(f: Field) -> pl.DataType:
    """The Polars dtype of a field's main column."""
    if f.type == "integer":
        return pl.Int64()
    if f.type == "decimal":
        return pl.Decimal(f.precision, f.scale)
    if f.type == "date" and f.format not in ("YYYYMM", "YYYY-MM"):
        return pl.Date()
    return pl.String()


def schema_of(fields: tuple[Field, ...]) -> dict[str, pl.DataType]:
    """The DataFrame schema a record kind reads into.

    >>> from chukan.layout import load_layout
    >>> list(schema_of(load_layout("examples/vendor-a/juki-kojin").fields).items())[:2]
    [('atena_no', String), ('setai_no', String)]
    """
    out: dict[str, pl.DataType] = {}
    for f in fields:
        for name in column_names(f):
            out[name] = dtype_of(f) if name == f.name else pl.String()
    return out


def _f(ftype: str, length: int, **kw: object) -> Field:
    """Build a throwaway field for examples and tests (name ``d``)."""
    if ftype == "date" and kw.get("format") in ("GYYMMDD", "GGYYMMDD") and "eras" not in kw:
        kw["eras"] = load_code_table("eras/1digit" if kw["format"] == "GYYMMDD"
                                     else "eras/2digit")
    return Field(name="d", label="", type=ftype, length=length, start=1, **kw)  # type: ignore[arg-type]


def parse_field(f: Field, raw: pl.Series, *, fixed: bool = True
                ) -> tuple[pl.DataFrame, list[Failure]]:
    """Turn a field's raw text (padding removed, null when empty) into typed columns.

    ``fixed`` says whether widths are bytes of a fixed record (digits must fill them) or
    a CSV maximum in characters. Failing rows come back null, listed in the failures.

    >>> df, fails = parse_field(_f("integer", 5), pl.Series(["-0012", "00 7x", None]))
    >>> df["d"].to_list(), [(x.code, x.mask.to_list()) for x in fails]
    ([-12, None, None], [('not-integer', [False, True, False])])
    """
    name = f.name
    frame = pl.DataFrame({"r": raw}, schema={"r": pl.String})
    r = pl.col("r")
    fails: list[tuple[str, str, pl.Expr]] = []
    if f.type in ("text", "code"):
        out = [r.alias(name)]
        if f.type == "text" and f.chars == "fullwidth":
            fails.append(("halfwidth-in-fullwidth", "全角項目に半角文字があります",
                          r.str.contains(f"[{_HALF}]")))
        elif f.type == "text" and f.chars == "halfwidth":
            fails.append(("fullwidth-in-halfwidth", "半角項目に全角文字があります",
                          r.str.contains(f"[^{_HALF}]")))
        if not fixed:
            fails.append(("width-overflow", f"{f.length}文字を超えています",
                          r.str.len_chars() > f.length))
        if f.type == "code" and f.table is not None:
            fails.append(("unknown-code", f"コード表「{f.table.label or f.table.name}」にない"
                                          "コードです",
                          r.is_not_null() & ~r.is_in(list(f.table.codes))))
        return _finish(frame, out, fails, keep_bad=True)
    if f.type == "digits":
        ok = r.str.contains(r"^[0-9]+$") & (
            (r.str.len_bytes() == f.length) if fixed else (r.str.len_bytes() <= f.length))
        fails.append(("not-digits", "数字以外の文字があります" if fixed
                      else f"{f.length}桁以内の数字ではありません", ~ok))
        return _finish(frame, [pl.when(ok).then(r).alias(name)], fails)
    if f.type == "integer":
        s = r.str.strip_chars(" ")
        pattern = r"^-?[0-9]+$" if f.signed else r"^[0-9]+$"
        ok = s.str.contains(pattern) & (s.str.len_bytes() <= (19 if f.signed else 18))
        fails.append(("not-integer", "整数ではありません", ~ok))
        return _finish(frame, [pl.when(ok).then(s).cast(pl.Int64).alias(name)], fails)
    if f.type == "decimal":
        return _parse_decimal(f, frame, fails)
    if f.type == "date":
        return _parse_date(f, frame, fails)
    msg = f"cannot parse field type {f.type!r}"
    raise ValueError(msg)


def _finish(frame: pl.DataFrame, out: list[pl.Expr], fails: list[tuple[str, str, pl.Expr]],
            *, keep_bad: bool = False) -> tuple[pl.DataFrame, list[Failure]]:
    """Evaluate value and failure expressions in one Polars pass."""
    exprs = out + [m.fill_null(value=False).alias(f"__fail{i}") for i, (_, _, m) in enumerate(fails)]
    result = frame.select(exprs)
    failures = [Failure(code, msg, result[f"__fail{i}"])
                for i, (code, msg, _) in enumerate(fails)]
    failures = [x for x in failures if x.mask.any()]
    values = result.select([e.meta.output_name() for e in out])
    if failures and not keep_bad:
        bad = pl.any_horizontal([x.mask for x in failures])
        values = values.select(pl.when(~bad).then(pl.all()).otherwise(None).name.keep())
    return values, failures


def _parse_decimal(f: Field, frame: pl.DataFrame, fails: list[tuple[str, str, pl.Expr]]
                   ) -> tuple[pl.DataFrame, list[Failure]]:
    r = pl.col("r")
    if f.storage == "zoned" and f.signed:
        last = r.str.slice(-1)
        head = r.str.slice(0, r.str.len_chars() - 1)
        pos = last.str.contains(r"^[{A-I]$")
        neg = last.str.contains(r"^[}J-R]$")
        digit = last.replace_strict(
            {**{c: str(i) for i, c in enumerate(_OVERPUNCH_POS)},
             **{c: str(i) for i, c in enumerate(_OVERPUNCH_NEG)}}, default="x")
        ok = head.str.contains(r"^[0-9]*$") & (pos | neg) & (r.str.len_bytes() == f.length)
        sign = pl.when(neg).then(pl.lit("-")).otherwise(pl.lit(""))
        digits = pl.concat_str([head, digit])
    elif f.storage == "display" and f.signed:
        first = r.str.slice(0, 1)
        digits = r.str.slice(1)
        ok = first.is_in(["+", "-"]) & digits.str.contains(r"^[0-9]+$") & \
            (r.str.len_bytes() <= f.length)
        sign = pl.when(first == "-").then(pl.lit("-")).otherwise(pl.lit(""))
    else:
        digits = r
        ok = r.str.contains(r"^[0-9]+$") & (r.str.len_bytes() <= f.length)
        sign = pl.lit("")
    fails.append(("not-decimal", "数値の形式が正しくありません", ~ok))
    value = _decimal_from_digits(sign, digits, f.scale, f.precision)
    return _finish(frame, [pl.when(ok).then(value).alias(f.name)], fails)


def _decimal_from_digits(sign: pl.Expr, digits: pl.Expr, scale: int, precision: int) -> pl.Expr:
    """``sign`` + digit string with an implied point ``scale`` places from the right."""
    if scale:
        padded = digits.str.zfill(scale + 1)
        n = padded.str.len_chars()
        text = pl.concat_str([sign, padded.str.slice(0, n - scale), pl.lit("."),
                              padded.str.slice(n - scale)])
    else:
        text = pl.concat_str([sign, digits])
    return text.cast(pl.Decimal(precision, scale))


def _parse_date(f: Field, frame: pl.DataFrame, fails: list[tuple[str, str, pl.Expr]]
                ) -> tuple[pl.DataFrame, list[Failure]]:
    r = pl.col("r")
    fmt = f.format or "YYYYMMDD"
    name, partial_name = f.name, f"{f.name}_partial"
    era: pl.Expr | None = None
    if fmt in ("YYYYMM", "YYYY-MM"):
        dash = fmt == "YYYY-MM"
        shape = r"^[0-9]{4}-[0-9]{2}$" if dash else r"^[0-9]{6}$"
        mon = r.str.slice(5 if dash else 4, 2).cast(pl.Int32, strict=False)
        ok = r.str.contains(shape) & (mon <= 12)
        fails.append(("bad-date", f"{fmt}形式の年月ではありません", ~ok))
        text = pl.concat_str([r.str.slice(0, 4), pl.lit("-"), r.str.slice(5 if dash else 4, 2)])
        return _finish(frame, [pl.when(ok).then(text).alias(name)], fails)
    if fmt in ("YYYYMMDD", "YYYY-MM-DD"):
        dash = fmt == "YYYY-MM-DD"
        shape = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" if dash else r"^[0-9]{8}$"
        y = r.str.slice(0, 4)
        m, d = (r.str.slice(5, 2), r.str.slice(8, 2)) if dash else \
            (r.str.slice(4, 2), r.str.slice(6, 2))
    elif fmt == "YYMMDD":
        shape = r"^[0-9]{6}$"
        yy = r.str.slice(0, 2).cast(pl.Int32, strict=False)
        pivot = f.pivot or 0
        y = (pl.when(yy < pivot).then(2000 + yy).otherwise(1900 + yy)).cast(pl.String)
        m, d = r.str.slice(2, 2), r.str.slice(4, 2)
    else:  # GYYMMDD, GGYYMMDD
        g = 1 if fmt == "GYYMMDD" else 2
        shape = rf"^[0-9]{{{g + 6}}}$"
        code = r.str.slice(0, g)
        table = dict(f.eras.codes) if f.eras else {}
        era = code.replace_strict(table, default=None, return_dtype=pl.String)
        eyear = r.str.slice(g, 2).cast(pl.Int32, strict=False)
        y = (_era_start_year(era) + eyear - 1).cast(pl.String)
        m, d = r.str.slice(g + 2, 2), r.str.slice(g + 4, 2)
    well_formed = r.str.contains(shape)
    yi = y.cast(pl.Int32, strict=False)
    mi = m.cast(pl.Int32, strict=False)
    di = d.cast(pl.Int32, strict=False)
    if era is not None:
        code_zero = code.str.contains("^0+$")
        eyear_zero = eyear == 0
        known_era = era.is_not_null()
        fails.append(("unknown-era", "元号コードが元号コード表にありません",
                      well_formed & ~known_era & ~(code_zero & (r.str.slice(g).str.contains(
                          "^0+$")))))
        well_formed = well_formed & (known_era | (code_zero & r.str.slice(g).str.contains("^0+$")))
        year_unknown = eyear_zero
    else:
        year_unknown = yi == 0 if fmt != "YYMMDD" else pl.lit(False)
    part_unknown = year_unknown | (mi == 0) | (di == 0)
    dim = _days_in_month(yi, mi)
    # A partial date must still have real parts where they are known.
    parts_ok = (mi <= 12) & (pl.when(mi > 0).then(di <= dim).otherwise(di <= 31))
    full_ok = ~part_unknown & parts_ok
    date = pl.when(well_formed & full_ok).then(_safe_date(yi, mi, di, well_formed & full_ok))
    partial_ok = well_formed & part_unknown & parts_ok
    fails.append(("bad-date", f"{fmt}形式の日付ではありません", ~well_formed))
    fails.append(("impossible-date", "存在しない日付です", well_formed & ~parts_ok))
    iso = pl.concat_str([y.str.zfill(4), pl.lit("-"), m, pl.lit("-"), d])
    partial: pl.Expr = iso
    if era is not None:
        start, end = _era_bound(era, ERA_STARTS), _era_bound(era, ERA_ENDS)
        era_form = pl.concat_str([era, r.str.slice(g, 2), pl.lit("-"), m, pl.lit("-"), d])
        # ISO where a writer would pick the same era back (lossless), else the era form.
        iso_ok = ~eyear_zero & (_era_for_year_expr(yi) == era)
        partial = (pl.when(code_zero & eyear_zero & (mi == 0) & (di == 0))
                   .then(pl.lit("0000-00-00"))
                   .when(iso_ok).then(iso).otherwise(era_form))
        day = _safe_date(yi, mi, di, full_ok)
        in_era = (day >= start) & (day <= end)
        # partial dates: the known year (and month) must fall inside the era
        month_first = _safe_date(yi, pl.when(mi > 0).then(mi).otherwise(12), pl.lit(1),
                                 parts_ok & ~eyear_zero)
        part_in_era = eyear_zero | (
            (yi >= start.dt.year()) & (yi <= end.dt.year())
            & pl.when(mi > 0).then(
                (month_first <= end) & (month_first.dt.month_end() >= start)
            ).otherwise(pl.lit(True)))
        era_bad = (well_formed & full_ok & ~in_era.fill_null(value=False)) | \
            (partial_ok & known_era & ~part_in_era.fill_null(value=True))
        fails.append(("era-range", "元号の期間外の日付です", era_bad))
        date = pl.when(~era_bad).then(date)
        partial_ok = partial_ok & ~era_bad
    values = [date.alias(name), pl.when(partial_ok).then(partial).alias(partial_name)]
    df, failures = _finish(frame, values, fails)
    # all spaces (raw null): no date, and an empty string in _partial (lossless)
    df = df.with_columns(
        pl.when(frame["r"].is_null()).then(pl.lit("")).otherwise(pl.col(partial_name))
        .alias(partial_name))
    return df, failures


def _safe_date(y: pl.Expr, m: pl.Expr, d: pl.Expr, ok: pl.Expr) -> pl.Expr:
    """``pl.date`` raises on impossible parts even in a branch not taken: build every row
    from valid parts (2000-01-01 where ``ok`` is false) and null those rows after."""
    ok = ok.fill_null(value=False)
    day = pl.date(pl.when(ok).then(y).otherwise(2000), pl.when(ok).then(m).otherwise(1),
                  pl.when(ok).then(d).otherwise(1))
    return pl.when(ok).then(day)


def _days_in_month(y: pl.Expr, m: pl.Expr) -> pl.Expr:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    base = m.replace_strict({1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30,
                             10: 31, 11: 30, 12: 31}, default=0, return_dtype=pl.Int32)
    return base + pl.when((m == 2) & leap).then(1).otherwise(0)


# --------------------------------------------------------------------------------------
# Formatting typed columns back into field text


def format_field(f: Field, df: pl.DataFrame, *, fixed: bool = True
                 ) -> tuple[pl.Series, list[Failure]]:
    """Render a field's column(s) as text (null where the field is empty).

    >>> s, _ = format_field(_f("integer", 5), pl.DataFrame({"d": [-12, 7, None]}))
    >>> s.to_list()
    ['-0012', '00007', None]
    """
    c = pl.col(f.name)
    fails: list[tuple[str, str, pl.Expr]] = []
    if f.type in ("text", "code"):
        text = c.cast(pl.String)
        if f.type == "text" and f.chars == "fullwidth":
            fails.append(("halfwidth-in-fullwidth", "全角項目に半角文字があります",
                          text.str.contains(f"[{_HALF}]")))
        elif f.type == "text" and f.chars == "halfwidth":
            fails.append(("fullwidth-in-halfwidth", "半角項目に全角文字があります",
                          text.str.contains(f"[^{_HALF}]")))
        return _format_finish(df, text, fails)
    if f.type == "digits":
        text = c.cast(pl.String)
        fails.append(("not-digits", "数字以外の文字があります", ~text.str.contains(r"^[0-9]*$")))
        if fixed:
            text = text.str.zfill(f.length)
        return _format_finish(df, text, fails)
    if f.type == "integer":
        v = c.cast(pl.Int64)
        if f.pad == " " or not fixed:
            text = v.cast(pl.String)
        else:
            mag = v.abs().cast(pl.String)
            text = pl.when(v < 0).then(pl.concat_str([pl.lit("-"),
                                                       mag.str.zfill(f.length - 1)])) \
                .otherwise(mag.str.zfill(f.length))
        if not f.signed:
            fails.append(("not-integer", "負の値は書けません", v < 0))
        if fixed and f.pad == " ":
            text = text.str.pad_start(f.length, " ")
        return _format_finish(df, text, fails)
    if f.type == "decimal":
        return _format_decimal(f, df, c, fails)
    if f.type == "date":
        return _format_date(f, df, fails)
    msg = f"cannot format field type {f.type!r}"
    raise ValueError(msg)


def _format_finish(df: pl.DataFrame, text: pl.Expr, fails: list[tuple[str, str, pl.Expr]]
                   ) -> tuple[pl.Series, list[Failure]]:
    out = df.select([text.alias("__text"),
                     *[m.fill_null(value=False).alias(f"__fail{i}")
                       for i, (_, _, m) in enumerate(fails)]])
    failures = [Failure(code, msg, out[f"__fail{i}"]) for i, (code, msg, _) in enumerate(fails)]
    return out["__text"], [x for x in failures if x.mask.any()]


def unscaled(c: pl.Expr, scale: int) -> pl.Expr:
    """A Decimal column as the Int64 of its unscaled digits (12.34 at scale 2 → 1234)."""
    return (c.cast(pl.Decimal(38, scale)) * (10 ** scale)).cast(pl.Int64)


def _format_decimal(f: Field, df: pl.DataFrame, c: pl.Expr,
                    fails: list[tuple[str, str, pl.Expr]]) -> tuple[pl.Series, list[Failure]]:
    v = unscaled(c, f.scale)
    mag = v.abs().cast(pl.String)
    digits = f.precision if f.storage != "packed" else f.precision
    if not f.signed:
        fails.append(("not-decimal", "負の値は書けません", v < 0))
    if f.storage == "zoned" and f.signed:
        z = mag.str.zfill(digits)
        n = z.str.len_chars()
        last = z.str.slice(n - 1).cast(pl.Int32)
        punch = pl.when(v < 0).then(last.replace_strict(dict(enumerate(_OVERPUNCH_NEG)),
                                                        return_dtype=pl.String)) \
            .otherwise(last.replace_strict(dict(enumerate(_OVERPUNCH_POS)),
                                           return_dtype=pl.String))
        text = pl.concat_str([z.str.slice(0, n - 1), punch])
    elif f.storage == "display" and f.signed:
        text = pl.concat_str([pl.when(v < 0).then(pl.lit("-")).otherwise(pl.lit("+")),
                              mag.str.zfill(digits)])
    else:
        text = mag.str.zfill(digits)
    fails.append(("width-overflow", f"{f.precision}桁を超えています",
                  mag.str.len_chars() > f.precision))
    return _format_finish(df, text, fails)


def _format_date(f: Field, df: pl.DataFrame, fails: list[tuple[str, str, pl.Expr]]
                 ) -> tuple[pl.Series, list[Failure]]:
    fmt = f.format or "YYYYMMDD"
    c = pl.col(f.name)
    if fmt in ("YYYYMM", "YYYY-MM"):
        s = c.cast(pl.String)
        ok = s.str.contains(r"^[0-9]{4}-[0-9]{2}$")
        fails.append(("bad-date", "YYYY-MM形式ではありません", ~ok))
        text = s if fmt == "YYYY-MM" else s.str.replace("-", "", literal=True)
        return _format_finish(df, text, fails)
    pname = f"{f.name}_partial"
    partial = pl.col(pname) if pname in df.columns else pl.lit(None, pl.String)
    iso_shape = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    py, pm, pd = partial.str.slice(0, 4), partial.str.slice(5, 2), partial.str.slice(8, 2)
    y, m, d = c.dt.year(), c.dt.month(), c.dt.day()
    two = {"m": m.cast(pl.String).str.zfill(2), "d": d.cast(pl.String).str.zfill(2)}
    if fmt in ("YYYYMMDD", "YYYY-MM-DD"):
        sep = "-" if fmt == "YYYY-MM-DD" else ""
        full = pl.concat_str([y.cast(pl.String).str.zfill(4), two["m"], two["d"]], separator=sep)
        part = pl.concat_str([py, pm, pd], separator=sep)
        part_ok = partial.str.contains(iso_shape)
        range_ok = (y >= 0) & (y <= 9999)
    elif fmt == "YYMMDD":
        pivot = f.pivot or 0
        full = pl.concat_str([(y % 100).cast(pl.String).str.zfill(2), two["m"], two["d"]])
        part = pl.concat_str([py.str.slice(2, 2), pm, pd])
        part_ok = partial.str.contains(iso_shape)
        lo = 1900 + pivot
        range_ok = (y >= lo) & (y < lo + 100)
    else:
        g = 1 if fmt == "GYYMMDD" else 2
        table = f.eras.codes if f.eras else {}
        to_code: dict[str, str] = {}
        for code, era in table.items():
            to_code.setdefault(era, code)
        era = _era_for_date_expr(c)
        code = era.replace_strict(to_code, default=None, return_dtype=pl.String)
        eyear = (y - _era_start_year(era) + 1).cast(pl.String).str.zfill(2)
        full = pl.concat_str([code, eyear, two["m"], two["d"]])
        range_ok = code.is_not_null()
        # partials: ISO (era chosen by year, as the reader promised) or era form
        is_iso = partial.str.contains(iso_shape)
        p_era = pl.when(is_iso).then(_era_for_year_expr(py.cast(pl.Int32, strict=False))) \
            .otherwise(partial.str.slice(0, 2))
        p_code = pl.when(partial == "0000-00-00").then(pl.lit("0" * g)).otherwise(
            p_era.replace_strict(to_code, default=None, return_dtype=pl.String))
        p_year = pl.when(partial == "0000-00-00").then(pl.lit("00")).when(is_iso).then(
            (py.cast(pl.Int32, strict=False) - _era_start_year(p_era) + 1)
            .cast(pl.String).str.zfill(2)).otherwise(partial.str.slice(2, 2))
        rest = pl.when(is_iso).then(pl.concat_str([pm, pd])).otherwise(
            pl.concat_str([partial.str.slice(5, 2), partial.str.slice(8, 2)]))
        part = pl.concat_str([p_code, p_year, rest])
        part_ok = (is_iso | partial.str.contains(r"^(明治|大正|昭和|平成|令和)[0-9]{2}-[0-9]{2}-"
                                                 r"[0-9]{2}$")) & p_code.is_not_null()
    fails.append(("era-range" if fmt in ("GYYMMDD", "GGYYMMDD") else "bad-date",
                  "この形式で書けない日付です", c.is_not_null() & ~range_ok))
    fails.append(("bad-date", "不詳日付の形式が正しくありません",
                  c.is_null() & partial.is_not_null() & (partial != "") & ~part_ok))
    text = pl.when(c.is_not_null()).then(full).when(partial.is_not_null() & (partial != "")) \
        .then(part).otherwise(None)
    return _format_finish(df, text, fails)


# --------------------------------------------------------------------------------------
# Packed decimals (COMP-3) on byte matrices


def unpack_packed(col: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.int64],
                                                       npt.NDArray[np.bool_],
                                                       npt.NDArray[np.bool_]]:
    """Decode packed-decimal bytes: ``(unscaled values, bad digit rows, bad sign rows)``.

    >>> v, bad_d, bad_s = unpack_packed(np.array([[0x01, 0x23, 0x4C], [0x00, 0x00, 0x5D],
    ...                                           [0x00, 0x01, 0x2A]], dtype=np.uint8))
    >>> v.tolist(), bad_d.tolist(), bad_s.tolist()
    ([1234, -5, 12], [False, False, False], [False, False, True])
    """
    hi = (col >> 4).astype(np.int64)
    lo = (col & 0x0F).astype(np.int64)
    sign = lo[:, -1]
    digits = np.empty((col.shape[0], 2 * col.shape[1] - 1), dtype=np.int64)
    digits[:, 0::2] = hi
    digits[:, 1::2] = lo[:, :-1]
    bad_digits = (digits > 9).any(axis=1)
    bad_sign = ~np.isin(sign, (0x0C, 0x0D, 0x0F))
    powers = 10 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64)
    values = np.where(bad_digits[:, None], 0, digits) @ powers
    values = np.where(sign == 0x0D, -values, values)
    return values, bad_digits, bad_sign


def pack_packed(values: npt.NDArray[np.int64], width: int, *, signed: bool
                ) -> npt.NDArray[np.uint8]:
    """Encode integers as packed decimal of ``width`` bytes (sign C/D, or F if unsigned).

    >>> pack_packed(np.array([1234, -5]), 3, signed=True).tolist()
    [[1, 35, 76], [0, 0, 93]]
    """
    n_digits = 2 * width - 1
    mag = np.abs(values)
    powers = 10 ** np.arange(n_digits - 1, -1, -1, dtype=np.int64)
    digits = (mag[:, None] // powers) % 10
    nibbles = np.empty((len(values), 2 * width), dtype=np.uint8)
    nibbles[:, :-1] = digits
    nibbles[:, -1] = np.where(values < 0, 0x0D, 0x0C) if signed else 0x0F
    return ((nibbles[:, 0::2] << 4) | nibbles[:, 1::2]).astype(np.uint8)
