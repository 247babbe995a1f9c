"""A field's text ⇄ its typed columns, by field type: what the readers and writers call."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from chukan.codec._base import (
    CHECK_FAILURES,
    Failure,
    FormatCheck,
    _class_failures,
    _empty_is_null,
    _finish,
    _format_finish,
    strings_to_matrix,
    unknown_code_message,
)
from chukan.codec.dates import _format_date, parse_date
from chukan.codec.numbers import (
    _format_decimal,
    _parse_decimal,
    csv_number_failure,
    number_checks,
)
from chukan.spec import MAX_PRECISION, Field

if TYPE_CHECKING:
    from collections.abc import Sequence


def parse_field(f: Field, raw: pl.Series, *, fixed: bool = True
                ) -> tuple[pl.DataFrame, list[Failure]]:
    """Turn a field's raw text (padding removed, null when empty) into typed columns.

    ``fixed`` says whether widths are bytes of a fixed record (digits must fill them) or
    a CSV maximum in characters. Failing rows come back null, listed in the failures.

    >>> from chukan.codec._base import _f
    >>> df, fails = parse_field(_f("integer", 5, signed=True),
    ...                         pl.Series(["-0012", "00 7x", None]))
    >>> df["d"].to_list(), [(x.code, x.mask.tolist()) for x in fails]
    ([-12, None, None], [('not-integer', [False, True, False])])
    """
    if f.type == "date":
        return parse_date(f, strings_to_matrix(raw, f.length))
    frame = pl.DataFrame({"r": raw}, schema={"r": pl.String})
    out, fails, keep_bad = parse_expr(f, pl.col("r"), fixed=fixed)
    return _finish(frame, out, fails, keep_bad=keep_bad)


def parse_expr(f: Field, r: pl.Expr, *, fixed: bool = True, clean: bool = False
               ) -> tuple[list[pl.Expr], list[FormatCheck], bool]:
    """:func:`parse_field` for any type but dates, as expressions over the raw text ``r``,
    so that a reader can parse many fields in one ``select``: the typed column(s), the
    checks, and whether failing values are kept (text) rather than nulled. With
    ``clean`` (a CSV's values, ``fixed`` false), the caller knows that every value of a
    text, code or digits field passes the field's character check (:func:`text_check`)
    and holds at most its length in characters (the CSV reader's core judges both as it
    cuts the cells): neither is checked again.

    >>> from chukan.codec._base import _f
    >>> [code for code, *_ in parse_expr(_f("digits", 3), pl.col("r"), fixed=False)[1]]
    ['not-digits']
    >>> parse_expr(_f("digits", 3), pl.col("r"), fixed=False, clean=True)[1]
    []
    """
    name = f.name
    fails: list[FormatCheck] = []
    clean = clean and not fixed
    if f.type in ("text", "code"):
        if not clean:
            fails.extend(_class_failures(f, r))
        if not fixed and not clean:
            fails.append(("width-overflow", f"{f.length}文字を超えています",
                          r.str.len_chars() > f.length))
        if f.type == "code" and f.table is not None:
            fails.append(("unknown-code", unknown_code_message(f.table),
                          r.is_not_null() & ~r.is_in(list(f.table.codes))))
        return [r.alias(name)], fails, True
    if f.type == "digits":
        if clean:
            return [r.alias(name)], fails, False
        width = (r.str.len_bytes() == f.length) if fixed else (r.str.len_bytes() <= f.length)
        ok = r.str.contains(r"^[0-9]+$") & width
        fails.append(("not-digits", CHECK_FAILURES["digits"][1] if fixed
                      else f"{f.length}桁以内の数字ではありません", ~ok))
        return [pl.when(ok).then(r).alias(name)], fails, False
    if f.type == "integer":
        s = r.str.strip_chars(" ")
        pattern = r"^-?[0-9]+$" if f.signed else r"^[0-9]+$"
        digits = s.str.strip_prefix("-").str.len_bytes()
        # in CSV, 桁数 counts digits: the sign is not one of them
        ok = s.str.contains(pattern) & (digits <= min(f.length, MAX_PRECISION))
        fails.append((*csv_number_failure(f), ~ok))
        return [pl.when(ok).then(s).cast(pl.Int64, strict=False).alias(name)], fails, False
    if f.type == "decimal":
        return _parse_decimal(f, r, fails)
    msg = f"cannot parse field type {f.type!r}"
    raise ValueError(msg)


def format_field(f: Field, df: pl.DataFrame, *, fixed: bool = True
                 ) -> tuple[pl.Series, list[Failure]]:
    """Render a field's column(s) as text (null where the field is empty).

    >>> from chukan.codec._base import _f
    >>> s, _ = format_field(_f("integer", 5), pl.DataFrame({"d": [-12, 7, None]}))
    >>> s.to_list()
    ['-0012', '00007', None]
    """
    text, fails = format_expr(f, df.columns, fixed=fixed, dtype=df.schema.get(f.name))
    return _format_finish(df, text, fails)


def format_expr(f: Field, columns: Sequence[str], *, fixed: bool = True,
                classes: bool = True, dtype: pl.DataType | None = None
                ) -> tuple[pl.Expr, list[FormatCheck]]:
    """A field's text as a Polars expression over a frame with ``columns``, and its
    checks, so that a writer can format every field in one ``select``. Without
    ``classes`` the character check of :func:`text_check` is left to the caller (the
    CSV writer has the core make it, on the text written); it would come first.
    ``dtype``, the column's type where the caller knows it, spares an integer column the
    check for fractions (any other is checked)."""
    c = pl.col(f.name)
    fails: list[FormatCheck] = []
    if f.type in ("text", "code"):
        text = _empty_is_null(c)
        if classes:
            fails.extend(_class_failures(f, text))
        if f.type == "code" and f.table is not None:  # never write what reading rejects
            fails.append(("unknown-code", unknown_code_message(f.table),
                          ~text.is_in(list(f.table.codes))))
        return text, fails
    if f.type == "digits":
        text = _empty_is_null(c)
        if classes:
            fails.append((*CHECK_FAILURES["digits"], ~text.str.contains(r"^[0-9]*$")))
        if fixed:  # leading zeros are data: a shorter value is not filled up silently
            fails.append(("not-digits", f"{f.length}桁ではありません(前ゼロは補いません)",
                          text.str.contains(r"^[0-9]*$") & (text.str.len_bytes() < f.length)))
        return text, fails
    if f.type == "integer":
        too_wide = f"{f.length}桁に収まりません"
        _, v, more = number_checks(f, c, dtype, too_wide)
        fails.extend(more)
        if not fixed:  # as the reader counts: digits, not the sign (fixed: in numpy)
            digits = v.cast(pl.String).str.strip_chars_start("-").str.len_bytes()
            fails.append(("width-overflow", too_wide, digits > min(f.length, MAX_PRECISION)))
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
        return text, fails
    if f.type == "decimal":
        return _format_decimal(f, c, fails, dtype)
    if f.type == "date":
        return _format_date(f, columns, fails)
    msg = f"cannot format field type {f.type!r}"
    raise ValueError(msg)


def apply_fumei_flags(frame: pl.DataFrame, fields: Sequence[Field]) -> pl.DataFrame:
    """Dates whose linked ``fumei_flag`` field holds ``1`` are 不詳 whatever digits they
    hold: null in the Date column, the written value (ISO) in ``<name>_partial``.

    >>> import datetime as dt
    >>> from chukan.spec import load_layout
    >>> kojin = load_layout("kihon/juki/kojin")
    >>> f = next(f for f in kojin.fields if f.name == "seinengappi")
    >>> frame = pl.DataFrame({"seinengappi": [dt.date(1950, 1, 1)] * 2,
    ...                       "seinengappi_partial": [None, None],
    ...                       "seinengappi_fumei": ["1", "0"]})
    >>> apply_fumei_flags(frame, [f]).rows()
    [(None, '1950-01-01', '1'), (datetime.date(1950, 1, 1), None, '0')]
    """
    exprs: list[pl.Expr] = []
    for f in fields:
        partial = f"{f.name}_partial"
        if f.type != "date" or f.fumei_flag is None or not {
                f.name, partial, f.fumei_flag} <= set(frame.columns) or \
                frame.schema[f.name] != pl.Date:
            continue
        flagged = (pl.col(f.fumei_flag).cast(pl.String) == "1").fill_null(value=False)
        exprs += [pl.when(flagged & pl.col(f.name).is_not_null())
                  .then(pl.col(f.name).dt.to_string("%Y-%m-%d"))
                  .otherwise(pl.col(partial)).alias(partial),
                  pl.when(flagged).then(None).otherwise(pl.col(f.name)).alias(f.name)]
    return frame.with_columns(exprs) if exprs else frame
