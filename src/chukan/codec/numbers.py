"""Number fields: integers and display, zoned and packed decimals; parsed on their
bytes and formatted as Polars expressions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import polars as pl

from chukan.codec._base import Failure, FormatCheck, _eight_digits, _fail

if TYPE_CHECKING:
    import numpy.typing as npt

    from chukan.spec import Field


_OVERPUNCH_POS = "{ABCDEFGHI"


_OVERPUNCH_NEG = "}JKLMNOPQR"


def csv_number_failure(f: Field) -> tuple[str, str]:
    """The code and message of a CSV integer or decimal cell that is not one.

    >>> from chukan.codec._base import _f
    >>> csv_number_failure(_f("integer", 5))
    ('not-integer', '5桁以内の整数ではありません')
    """
    if f.type == "integer":
        return "not-integer", f"{f.length}桁以内の整数ではありません"
    return "not-decimal", f"{f.precision}桁(小数点以下{f.scale}桁)以内の数値ではありません"


def csv_whole_digits(f: Field) -> int:
    """The most digits a CSV decimal cell has before its point (at least one: ``0.5``
    where precision and scale are equal).

    >>> from chukan.codec._base import _f
    >>> csv_whole_digits(_f("decimal", 5, scale=2)), csv_whole_digits(_f("decimal", 2, scale=2))
    (3, 1)
    """
    return max(f.precision - f.scale, 1) if f.scale else f.precision


def _parse_decimal(f: Field, r: pl.Expr, fails: list[FormatCheck]
                   ) -> tuple[list[pl.Expr], list[FormatCheck], bool]:
    """CSV decimals: text with an optional sign and point (``-12.34``); fixed-width
    storage is parsed on bytes by :func:`parse_number` and :func:`unpack_packed`."""
    sign = "[+-]?" if f.signed else "[+]?"
    whole = csv_whole_digits(f)
    shape = rf"^{sign}[0-9]{{1,{whole}}}(\.[0-9]{{1,{f.scale}}})?$" if f.scale else \
        rf"^{sign}[0-9]{{1,{whole}}}$"
    ok = r.str.contains(shape)
    fails.append((*csv_number_failure(f), ~ok))
    value = r.str.strip_prefix("+").cast(pl.Decimal(f.precision, f.scale), strict=False)
    return [pl.when(ok).then(value).alias(f.name)], fails, False


_ZONED_DIGIT = np.full(256, 255, dtype=np.uint8)


_ZONED_SIGN = np.zeros(256, dtype=np.int8)


for _i in range(10):
    _ZONED_DIGIT[ord(_OVERPUNCH_POS[_i])] = _ZONED_DIGIT[ord(_OVERPUNCH_NEG[_i])] = _i
    _ZONED_SIGN[ord(_OVERPUNCH_POS[_i])], _ZONED_SIGN[ord(_OVERPUNCH_NEG[_i])] = 1, -1


#: the short-path forms of a number field's bytes
NumberForm = Literal["unsigned", "signed-integer", "signed-display"]


def number_form(f: Field) -> NumberForm | None:
    """The short path of an ``integer`` or display / zoned ``decimal`` field (plain
    zero-padded digits, after a sign byte where the field has one), or None where its
    form has none (a zoned sign, more than 16 digits).

    >>> from chukan.codec._base import _f
    >>> number_form(_f("integer", 6, signed=True)), number_form(_f("integer", 20))
    ('signed-integer', None)
    """
    first = 1 if f.signed and (f.type == "integer" or f.storage == "display") else 0
    if (f.storage == "zoned" and f.signed) or not 1 <= f.length - first <= 16:
        return None
    if not first:
        return "unsigned"
    return "signed-integer" if f.type == "integer" else "signed-display"


def fast_numbers(col: npt.NDArray[np.uint8], form: NumberForm
                 ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Values of the rows whose bytes are in ``form`` (:func:`number_form`), eight digits
    at a time; ``ok`` marks them. The compiled core does the same in its decoding pass;
    this is the Python kernel's, and the oracle the core is tested against."""
    n, w = col.shape
    first = 0 if form == "unsigned" else 1
    digits = w - first
    value = np.zeros(n, dtype=np.int64)
    ok = np.ones(n, dtype=bool)
    for chunk_start in range(first, w, 8):
        chunk = min(8, w - chunk_start)
        positions = (None,) * (8 - chunk) + tuple(range(chunk_start, chunk_start + chunk))
        part, part_ok = _eight_digits(col, positions)
        value = value * 10 ** chunk + part
        ok &= part_ok
    if form != "unsigned":
        sign = col[:, 0]
        if form == "signed-integer":
            ok &= (sign == 0x2D) | ((sign >= 0x30) & (sign <= 0x39))
            # an integer's first byte is a digit unless it is the sign
            value = np.where(sign == 0x2D, -value,
                             (sign.astype(np.int64) - 0x30) * 10 ** digits + value)
        else:
            ok &= (sign == 0x2B) | (sign == 0x2D)
            value = np.where(sign == 0x2D, -value, value)
    return np.where(ok, value, 0), ok


def parse_number(f: Field, mat: npt.NDArray[np.uint8], *,
                 fast: tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]] | None = None
                 ) -> tuple[pl.DataFrame, list[Failure]]:
    """Parse an ``integer`` or a display / zoned ``decimal`` field from its bytes.

    Plain zero-padded values take a short path (``fast``: values and the rows it took,
    where the kernel has taken it already); only the other rows go through
    :func:`_parse_number_full`.

    >>> from chukan.codec._base import _f
    >>> df, _ = parse_number(_f("integer", 5, signed=True), np.frombuffer(b"-0012  -12",
    ...                                                      np.uint8).reshape(2, 5))
    >>> df["d"].to_list()
    [-12, -12]
    """
    form = number_form(f)
    if form is None or not mat.shape[0]:
        return _parse_number_full(f, mat)
    value, ok = fast if fast is not None else fast_numbers(np.ascontiguousarray(mat), form)
    if not ok.all():
        rows = np.flatnonzero(~ok)
        sub, sub_fails = _parse_number_full(f, mat[rows])
        series = _number_series(f, value, ok).scatter(rows, sub[f.name])
        fails = []
        for x in sub_fails:
            mask = np.zeros(len(value), dtype=bool)
            mask[rows[x.mask]] = True
            fails.append(Failure(x.code, x.message, mask))
        return pl.DataFrame({f.name: series}), fails
    return pl.DataFrame({f.name: _number_series(f, value, ok)}), []


def _number_series(f: Field, value: npt.NDArray[np.int64], ok: npt.NDArray[np.bool_]
                   ) -> pl.Series:
    if f.type == "integer":
        series = pl.Series(f.name, value, dtype=pl.Int64)
        return series if ok.all() else series.set(pl.Series(~ok), None)
    return decimal_series(f.name, value, ok, f.precision, f.scale)


def _parse_number_full(f: Field, mat: npt.NDArray[np.uint8]
                       ) -> tuple[pl.DataFrame, list[Failure]]:
    """Every form of an ``integer`` or display / zoned ``decimal`` field, row by row
    in numpy (the rows the short path could not take)."""
    col = np.ascontiguousarray(mat)
    n, w = col.shape
    empty = (col == 0x20).all(axis=1)
    d = col - np.uint8(0x30)
    isdig = d < 10
    fails: list[Failure] = []
    neg = np.zeros(n, dtype=bool)
    digit_mask = isdig
    if f.type == "integer":
        # spaces, then an optional '-' (signed fields), then at least one digit
        nondig = ~isdig
        last_nd = np.where(nondig.any(axis=1), w - 1 - np.argmax(nondig[:, ::-1], axis=1), -1)
        pos = np.arange(w)
        before = pos <= last_nd[:, None]
        minus = (col == 0x2D) & (pos == last_nd[:, None])
        allowed = (col == 0x20) | (minus if f.signed else False)
        ok = (~before | allowed).all(axis=1) & (last_nd < w - 1) & ~empty
        neg = minus.any(axis=1)
        digit_mask = ~before
        code, message = "not-integer", "整数ではありません"
    elif f.storage == "zoned" and f.signed:
        last = col[:, -1]
        ok = isdig[:, :-1].all(axis=1) & (_ZONED_SIGN[last] != 0)
        neg = _ZONED_SIGN[last] < 0
        d = d.copy()
        d[:, -1] = np.where(ok, _ZONED_DIGIT[last], 0)
        digit_mask = np.ones_like(isdig)
        code, message = "not-decimal", "ゾーン10進数の形式が正しくありません"
    elif f.storage == "display" and f.signed:
        ok = np.isin(col[:, 0], (0x2B, 0x2D)) & isdig[:, 1:].all(axis=1)
        neg = col[:, 0] == 0x2D
        digit_mask = np.ones_like(isdig)
        digit_mask[:, 0] = False
        code, message = "not-decimal", "数値の形式が正しくありません"
    else:
        ok = isdig.all(axis=1)
        code, message = "not-decimal", "数値の形式が正しくありません"
    ok &= ~empty
    _fail(fails, code, message, ~ok & ~empty)
    powers = 10 ** np.arange(w - 1, -1, -1, dtype=np.int64)
    digits = np.where(digit_mask & ok[:, None], d, 0).astype(np.int64)
    values = digits @ powers
    values = np.where(neg, -values, values)
    if f.type == "integer":
        series = pl.Series(f.name, values, dtype=pl.Int64).set(
            pl.Series(~ok), None)
    else:
        series = decimal_series(f.name, values, ok, f.precision, f.scale)
    return pl.DataFrame({f.name: series}), fails


def decimal_series(name: str, unscaled_values: npt.NDArray[np.int64],
                   valid: npt.NDArray[np.bool_], precision: int, scale: int) -> pl.Series:
    """A Decimal series from 64-bit unscaled integers, without going through text."""
    import pyarrow as pa  # noqa: PLC0415 -- only needed here

    n = len(unscaled_values)
    words = np.empty((n, 2), dtype=np.int64)
    words[:, 0] = unscaled_values
    # two's complement sign extension: the sign bit shifted across (a fifth of the time
    # np.where took)
    np.right_shift(unscaled_values, 63, out=words[:, 1])
    validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    arr = pa.Array.from_buffers(pa.decimal128(max(precision, 1), scale), n,
                                [validity, pa.py_buffer(words)])
    series = pl.from_arrow(arr)
    assert isinstance(series, pl.Series)  # noqa: S101
    return series.alias(name)


class Exact(NamedTuple):
    """A number column read for a field of ``scale`` places, as :func:`exact_number` reads
    it: expressions over the column."""

    #: Decimal(38, scale): the value where it is exactly one, else null
    value: pl.Expr
    #: a value was given (not null, not empty text)
    given: pl.Expr
    #: text that is no number (``1e3``, ``x``, ``' 5'``; NaN)
    no_number: pl.Expr
    #: a value with more places than ``scale`` (1.5 for an integer): never rounded
    rounded: pl.Expr


def exact_number(c: pl.Expr, dtype: pl.DataType | None, scale: int) -> Exact:
    """Column ``c`` (of type ``dtype``; None: not known, read as text) as numbers of
    ``scale`` places, never rounded nor cut: Polars' casts round text and floats unasked
    (text to 18 places even), and cut floats to integers. Text is a plain decimal
    (``-12.50``, ``+5``, ``.5``), judged by its digits; floats of 10^18 or more (no field
    holds them) and values of more than 38 digits are null in ``value`` and flagged by
    nothing else, for the caller to refuse as too wide.

    >>> frame = pl.DataFrame({"t": ["1.50", "1.0000000000000000001", "1e3", "", None]})
    >>> e = exact_number(pl.col("t"), pl.String, 1)
    >>> frame.select(e.value, e.given.alias("g"), e.no_number.alias("n"),
    ...              e.rounded.alias("r")).rows()  # doctest: +NORMALIZE_WHITESPACE
    [(Decimal('1.5'), True, False, False), (None, True, False, True),
     (None, True, True, False), (None, False, False, False), (None, False, False, False)]
    """
    no = pl.lit(value=False)
    target = pl.Decimal(38, scale)
    if dtype is not None and (dtype.is_integer() or dtype == pl.Boolean):
        value = c.cast(pl.Int64, strict=False).cast(target, strict=False)
        return Exact(value, c.is_not_null(), no, no)
    if isinstance(dtype, pl.Decimal) and (dtype.scale or 0) <= scale:
        return Exact(c.cast(target, strict=False), c.is_not_null(), no, no)
    if isinstance(dtype, pl.Decimal) or (dtype is not None and dtype.is_float()):
        # (a float beyond 10^18 has no field, and Polars' cast of one past 10^37 raises)
        kept = pl.when(c.abs() < 1e18).then(c) if dtype.is_float() else c
        cast = kept.cast(target, strict=False)
        rounded = (cast != kept).fill_null(value=False)
        no_number = c.is_nan().fill_null(value=False) if dtype.is_float() else no
        return Exact(pl.when(~rounded).then(cast), c.is_not_null(), no_number, rounded)
    text = c.cast(pl.String)
    given = (text.is_not_null() & (text != "")).fill_null(value=False)
    number = text.str.contains(r"^[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)$").fill_null(value=False)
    # the places written, but for trailing zeros (12.00 is 12)
    places = text.str.extract(r"\.([0-9]+)$", 1).str.strip_chars_end("0").str.len_chars()
    rounded = number & (places.fill_null(0) > scale)
    value = pl.when(number & ~rounded).then(text.cast(target, strict=False))
    return Exact(value, given, given & ~number, rounded)


def unscaled(c: pl.Expr, scale: int) -> pl.Expr:
    """A Decimal column as the Int64 of its unscaled digits (12.34 at scale 2 → 1234);
    null where they have no Int64 (19 digits or more), for the caller to refuse: no field
    holds them, and Polars' own error would name no row."""
    scaled: pl.Expr = c.cast(pl.Decimal(38, scale), strict=False)
    if scale:  # (Polars multiplies by 1 too: a third of the time of a scale-0 column)
        scaled = scaled * (10 ** scale)
    return scaled.cast(pl.Int64, strict=False)


def number_checks(f: Field, c: pl.Expr, dtype: pl.DataType | None, too_wide: str
                  ) -> tuple[pl.Expr, pl.Expr, list[FormatCheck]]:
    """Column ``c`` (of type ``dtype``) as number field ``f``'s values, a Decimal(38,
    scale) and the Int64 it holds (a decimal times 10^scale), both null where refused,
    and the checks that refuse them: text
    that is no number, a value that would need rounding (never rounded nor cut), and one
    with no Int64 (19 digits or more; ``too_wide``: the caller's words for its width).
    An integer column bound for an integer field is only cast.

    >>> from chukan.codec._base import _f
    >>> _, ints, checks = number_checks(_f("integer", 5), pl.col("x"), pl.String, "too wide")
    >>> frame = pl.DataFrame({"x": ["12", "1.5", "x", "2.000", None, "1" + "0" * 19]})
    >>> frame.select(ints)["x"].to_list()
    [12, None, None, 2, None, None]
    >>> for _, message, bad in checks:
    ...     print(message, frame.select(bad)["x"].to_list())
    数値ではありません [False, False, True, False, False, False]
    整数ではありません [False, True, False, False, False, False]
    too wide [False, False, False, False, False, True]
    """
    scale = f.scale if f.type == "decimal" else 0
    if not scale and dtype is not None and (dtype.is_integer() or dtype == pl.Boolean):
        ints = c.cast(pl.Int64, strict=False)  # (a UInt64 beyond an Int64: null)
        return ints.cast(pl.Decimal(38, 0)), ints, [
            ("width-overflow", too_wide, ints.is_null() & c.is_not_null())]
    e = exact_number(c, dtype, scale)
    ints = unscaled(e.value, scale)
    code = "not-decimal" if f.type == "decimal" else "not-integer"
    return e.value, ints, [
        (code, "数値ではありません", e.no_number),
        (code, f"小数点以下は{scale}桁までです" if scale else "整数ではありません", e.rounded),
        ("width-overflow", too_wide, ints.is_null() & e.given & ~e.no_number & ~e.rounded)]


def _format_decimal(f: Field, c: pl.Expr, fails: list[FormatCheck],
                    dtype: pl.DataType | None = None) -> tuple[pl.Expr, list[FormatCheck]]:
    """CSV decimals: plain text with a point (``-12.34``); fixed-width storage is
    formatted in numpy by :func:`number_bytes` and :func:`pack_packed`. The column (of
    type ``dtype``) is read by :func:`number_checks`."""
    too_wide = f"{f.precision}桁を超えています"
    exact, v, checks = number_checks(f, c, dtype, too_wide)
    fails += checks
    if not f.signed:
        fails.append(("not-decimal", "負の値は書けません", v < 0))
    # digits of the text: abs() of the Int64 minimum overflows
    fails.append(("width-overflow", too_wide,
                  v.cast(pl.String).str.strip_chars_start("-").str.len_chars() > f.precision))
    return exact.cast(pl.String), fails


def unscaled_values(f: Field, values: pl.Series) -> tuple[pl.Series, list[Failure]]:
    """An integer or decimal column as the Int64 values a field holds (a decimal times
    10^scale), and the rows it cannot hold as they are: text that is no number, values
    that would need rounding (never rounded silently: ``not-decimal`` / ``not-integer``)
    and those of 19 digits or more, which no Int64 and no field holds
    (``width-overflow``); each such row is null in the values.

    >>> from chukan.codec._base import _f
    >>> ints, fails = unscaled_values(_f("decimal", 5, scale=1),
    ...                               pl.Series([1.5, 1.25, 10**20]).cast(pl.Decimal(38, 2)))
    >>> ints.to_list()
    [15, None, None]
    >>> [(x.code, x.mask.tolist()) for x in fails]
    [('not-decimal', [False, True, False]), ('width-overflow', [False, False, True])]
    >>> ints, fails = unscaled_values(_f("integer", 5), pl.Series([1.5, 2.0, None]))
    >>> ints.to_list(), [(x.code, x.mask.tolist()) for x in fails]
    ([None, 2, None], [('not-integer', [True, False, False])])
    """
    # (in the words of the writer's own check of the field's width)
    too_wide = f"{f.precision}桁を超えています" if f.storage == "packed" else \
        f"{f.length}桁に収まりません"
    _, ints, checks = number_checks(f, pl.col("v"), values.dtype, too_wide)
    checked = pl.DataFrame({"v": values}).select(
        ints.alias("i"), *(bad.fill_null(value=False).alias(f"c{k}")
                           for k, (_, _, bad) in enumerate(checks)))
    fails: list[Failure] = []
    for k, (code, message, _) in enumerate(checks):
        _fail(fails, code, message, checked[f"c{k}"].to_numpy())
    return checked["i"], fails


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
    bad_digits = np.asarray((digits > 9).any(axis=1), dtype=bool)
    bad_sign = np.asarray(~np.isin(sign, (0x0C, 0x0D, 0x0F)), dtype=bool)
    powers = 10 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64)
    values: npt.NDArray[np.int64] = np.where(bad_digits[:, None], 0, digits) @ powers
    return np.where(sign == 0x0D, -values, values), bad_digits, bad_sign


def pack_packed(values: npt.NDArray[np.int64], width: int, *, signed: bool,
                positive: str | None = None) -> npt.NDArray[np.uint8]:
    """Encode integers as packed decimal of ``width`` bytes (sign C/D, or F if unsigned;
    ``positive`` chooses the nibble of positive values, "C" or "F").

    >>> pack_packed(np.array([1234, -5]), 3, signed=True).tolist()
    [[1, 35, 76], [0, 0, 93]]
    """
    n_digits = 2 * width - 1
    mag = np.abs(values)
    powers = 10 ** np.arange(n_digits - 1, -1, -1, dtype=np.int64)
    digits = (mag[:, None] // powers) % 10
    nibbles = np.empty((len(values), 2 * width), dtype=np.uint8)
    nibbles[:, :-1] = digits
    plus = {"C": 0x0C, "F": 0x0F}[positive or ("C" if signed else "F")]
    nibbles[:, -1] = np.where(values < 0, 0x0D, plus) if signed else plus
    return ((nibbles[:, 0::2] << 4) | nibbles[:, 1::2]).astype(np.uint8)
