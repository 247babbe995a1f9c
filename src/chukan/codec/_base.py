"""What every field type's codec shares: failures and checks, a field's columns and
dtypes, the character classes, and digits read from byte matrices."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from chukan import _core
from chukan._arrow import string_series, text_column
from chukan._threads import thread_count
from chukan.spec import Field, load_code_table

if TYPE_CHECKING:
    import numpy.typing as npt

    from chukan.spec import CodeTable


@dataclass(frozen=True, slots=True)
class Failure:
    """Rows of a column that failed one check: ``mask`` is True where the check failed."""

    code: str
    message: str
    mask: npt.NDArray[np.bool_]


#: A check of a parsing or formatting expression: problem code, message, and the rows
#: (True) that fail it.
FormatCheck = tuple[str, str, pl.Expr]


_HALF = r"\x20-\x7E\x{FF61}-\x{FF9F}"


#: what a ``halfwidth`` text field holds (a regex character range): ASCII and half-width
#: kana; a ``fullwidth`` one holds none of them
HALF_CHARS = _HALF


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

    >>> from chukan.spec import load_layout
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


def unknown_code_message(table: CodeTable) -> str:
    """What to say of a code the table lacks; for a table that public sources give only
    in part, which meanings it lacks the codes of, so that a clerk adds their own.

    >>> from chukan.spec import load_code_table
    >>> unknown_code_message(load_code_table("codes/juki/seibetsu"))
    'コード表「性別」にないコードです'
    """
    text = f"コード表「{table.label or table.name}」にないコードです"
    if table.missing:
        shown = "・".join(list(table.missing)[:6]) + ("など" if len(table.missing) > 6 else "")
        text += (f"(このコード表は公開資料にある値だけです。{shown}のコードは公開されて"
                 "いないため入っていません: 自治体のコード表で補ってください)")
    return text


#: The character check of a text or digits field: problem code and message, by the name
#: :func:`text_check` gives it (the kernel makes it as it decodes).
CHECK_FAILURES = {
    "fullwidth": ("halfwidth-in-fullwidth", "全角項目に半角文字があります"),
    "halfwidth": ("fullwidth-in-halfwidth", "半角項目に全角文字があります"),
    "digits": ("not-digits", "数字以外の文字があります"),
}


def text_check(f: Field) -> str:
    """The character check a field's values get: ``fullwidth`` (no half-width
    character), ``halfwidth`` (only half-width characters), ``digits``, or ``""``.

    >>> text_check(_f("text", 4, chars="fullwidth")), text_check(_f("code", 2))
    ('fullwidth', '')
    """
    if f.type == "digits":
        return "digits"
    if f.type == "text" and f.chars in ("fullwidth", "halfwidth"):
        return f.chars
    return ""


def _class_failures(f: Field, text: pl.Expr) -> list[FormatCheck]:
    """The character-class checks of a text field (全角 only, or 半角 only)."""
    check = text_check(f)
    if check == "fullwidth":
        return [(*CHECK_FAILURES[check], text.str.contains(f"[{_HALF}]"))]
    if check == "halfwidth":
        return [(*CHECK_FAILURES[check], text.str.contains(f"[^{_HALF}]"))]
    return []


def select_checked(frame: pl.DataFrame, values: list[pl.Expr], checks: list[FormatCheck]
                   ) -> tuple[pl.DataFrame, dict[int, Failure]]:
    """Evaluate value expressions and checks in one Polars pass (Polars spreads the
    columns over its threads): the values, and by their index the checks that failed on
    some row, with the rows as a numpy mask.

    >>> frame = pl.DataFrame({"v": ["1", "x", None]})
    >>> values, failed = select_checked(frame, [pl.col("v").alias("w")],
    ...     [("a", "", pl.col("v") == "x"), ("b", "", pl.col("v") == "y")])
    >>> values.columns, {k: x.mask.tolist() for k, x in failed.items()}
    (['w'], {0: [False, True, False]})
    """
    masks = [m.fill_null(value=False).alias(f"\x00m{k}") for k, (_, _, m) in enumerate(checks)]
    out = frame.select(*values, *masks) if values or masks else pl.DataFrame()
    hits = out.select(pl.col(m.meta.output_name()).any() for m in masks).row(0) \
        if masks else ()
    failed = {k: Failure(checks[k][0], checks[k][1], out[f"\x00m{k}"].to_numpy())
              for k, hit in enumerate(hits) if hit}
    return out.select(v.meta.output_name() for v in values), failed


def _finish(frame: pl.DataFrame, out: list[pl.Expr], fails: list[FormatCheck],
            *, keep_bad: bool = False) -> tuple[pl.DataFrame, list[Failure]]:
    """Evaluate value and failure expressions in one Polars pass; failing values are
    nulled unless ``keep_bad``."""
    values, failed = select_checked(frame, out, fails)
    failures = list(failed.values())
    if failures and not keep_bad:
        bad = pl.Series(np.logical_or.reduce([x.mask for x in failures]))
        values = pl.DataFrame({c: values[c].set(bad, None)
                               for c in values.columns})
    return values, failures


_DIM = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def _digits_value(d: npt.NDArray[np.int32], a: int, b: int) -> npt.NDArray[np.int32]:
    out = np.zeros(d.shape[0], dtype=np.int32)
    for k in range(a, b):
        out = out * 10 + d[:, k]
    return out


def strings_to_matrix(values: pl.Series, width: int) -> npt.NDArray[np.uint8]:
    """Fixed-width byte matrix of a String column: nulls become spaces, values of another
    byte length become ``?`` (so that they fail their type check). The core copies the
    values from their Arrow views, in parallel; ``CHUKAN_KERNEL=python`` has numpy do it
    (the oracle of the tests).

    >>> strings_to_matrix(pl.Series(["2024", None, "24"]), 4).tobytes()
    b'2024    ????'
    """
    n = len(values)
    if os.environ.get("CHUKAN_KERNEL") != "python":
        text = values.cast(pl.String)
        flat = _core.views_matrix(text_column(text), n, width, thread_count())
        return flat.reshape(n, width)
    arr = values.cast(pl.String).to_arrow()
    if hasattr(arr, "combine_chunks"):
        arr = arr.combine_chunks()
    arr = arr.cast("large_string")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] else \
        np.zeros(1, dtype=np.uint8)
    lengths = np.diff(offsets)
    nulls = values.is_null().to_numpy()
    ok = (lengths == width) & ~nulls
    out = np.full((n, width), 0x3F, dtype=np.uint8)
    out[nulls] = 0x20
    rows = np.flatnonzero(ok)
    if len(rows):
        out[rows] = data[offsets[rows][:, None] + np.arange(width)]
    return out


_ZEROS = np.uint64(0x3030303030303030)


_NIBBLE_HI = np.uint64(0xF0F0F0F0F0F0F0F0)


def _eight_digits(mat: npt.NDArray[np.uint8], positions: tuple[int | None, ...]
                  ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Eight ASCII digits per row as one number, eight bytes at a time (SWAR), and
    whether every one of them was a digit."""
    n = mat.shape[0]
    buf = np.full((n, 8), 0x30, dtype=np.uint8)
    for k, p in enumerate(positions):
        if p is not None:
            buf[:, k] = mat[:, p]
    x = buf.view("<u8").reshape(n)
    ok = ((x & _NIBBLE_HI) == _ZEROS) & (((x + np.uint64(0x0606060606060606)) & _NIBBLE_HI)
                                         == _ZEROS)
    x = x - _ZEROS  # the first digit is the lowest byte (little-endian view)
    x = ((x * np.uint64(10)) + (x >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    x = ((x * np.uint64(100)) + (x >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    x = (x * np.uint64(10000)) + (x >> np.uint64(32))
    return (x & np.uint64(0xFFFFFFFF)).astype(np.int64), ok


def _fail(fails: list[Failure], code: str, message: str, mask: npt.NDArray[np.bool_]) -> None:
    if mask.any():
        fails.append(Failure(code, message, mask))


def _fixed_strings(text: npt.NDArray[np.uint8], ok: npt.NDArray[np.bool_]) -> pl.Series:
    n, w = text.shape
    return string_series(n, np.arange(0, n * w + 1, w, dtype=np.int64),
                         np.ascontiguousarray(text).reshape(-1), ok)


def _empty_is_null(c: pl.Expr) -> pl.Expr:
    """An empty string is the empty field: written as padding, read back as null."""
    text = c.cast(pl.String)
    return pl.when(text != "").then(text)


def _format_finish(df: pl.DataFrame, text: pl.Expr, fails: list[FormatCheck]
                   ) -> tuple[pl.Series, list[Failure]]:
    values, failed = select_checked(df, [text.alias("text")], fails)
    return values["text"], list(failed.values())
