"""Value codecs: raw field text ⇄ typed Polars columns, eras, packed and zoned decimals,
and CP932's duplicate-code policy.

Every function here works on whole columns: Polars expressions over String series, or
numpy arithmetic over byte matrices. None loops over records in Python.

>>> parse_field(_f("date", 7, format="GYYMMDD"), pl.Series(["4310430", "5010501", "3250000"]))[0]
shape: (3, 2)
┌────────────┬────────────┐
│ d          ┆ d_partial  │
│ ---        ┆ ---        │
│ date       ┆ str        │
╞════════════╪════════════╡
│ 2019-04-30 ┆ null       │
│ 2019-05-01 ┆ null       │
│ null       ┆ 1950-00-00 │
└────────────┴────────────┘
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from chukan._eras import ERA_ENDS, ERA_STARTS
from chukan.spec import MAX_PRECISION, Field, load_code_table

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from chukan.spec import CodeTable

# --------------------------------------------------------------------------------------
# Eras

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


def _era_start_year(era: pl.Expr) -> pl.Expr:
    return era.replace_strict({e: d.year for e, d in ERA_STARTS.items()}, default=None,
                              return_dtype=pl.Int32)


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


# Each character of that table is swapped, before encoding, for a two-character marker:
# one of the control characters U+0001–U+0004 (which data never holds: control
# characters are rejected first) and a printable ASCII character. Encoded, a marker is
# two bytes, as long as the IBM code it stands for, and its first byte can never be a
# trail byte, so the IBM bytes are put in its place in one vectorised pass.
_MARK_FIRST = 0x01
_MARK_SPAN = 94


@cache
def _ibm_markers() -> tuple[list[str], list[str], npt.NDArray[np.uint8]]:
    table = _nec_selected()
    chars = sorted(table)
    markers = [chr(_MARK_FIRST + i // _MARK_SPAN) + chr(0x21 + i % _MARK_SPAN)
               for i in range(len(chars))]
    codes = np.frombuffer(b"".join(table[c] for c in chars), dtype=np.uint8).reshape(-1, 2)
    return chars, markers, codes


def prepare_for_encoding(values: pl.Series, encoding: str, duplicates: str
                         ) -> tuple[pl.Series, bool]:
    r"""Swap characters whose CP932 bytes depend on the duplicate policy for markers that
    :func:`encode_text` turns into the IBM rows (only for ``cp932`` with policy ``ibm``);
    the flag says whether any marker was placed.

    >>> encode_text(*prepare_for_encoding(pl.Series(["髙"]), "cp932", "ibm"), "cp932")
    b'ûü'
    >>> encode_text(*prepare_for_encoding(pl.Series(["髙"]), "cp932", "nec"), "cp932")
    b'îà'
    """
    if not needs_markers(values, encoding, duplicates):
        return values, False
    chars, markers, _ = _ibm_markers()
    return values.str.replace_many(chars, markers), True


#: encodings whose every character is one or two bytes: the compiled core encodes them
CORE_ENCODINGS = ("cp932", "shift_jis")


@cache
def encode_table(encoding: str, duplicates: str) -> npt.NDArray[np.uint16]:
    """Every BMP character's code for the compiled core's encoder: CPython's codec, and
    under ``cp932`` with the ``ibm`` policy the IBM rows for the NEC-selected duplicates,
    exactly as :func:`prepare_for_encoding` and :func:`encode_text` write them. A code
    below 0x100 is one byte; 0xFFFF marks a character the encoding lacks. Built once per
    process, encoding and policy.

    >>> table = encode_table("cp932", "ibm")
    >>> hex(table[ord("髙")]), hex(encode_table("cp932", "nec")[ord("髙")])
    ('0xfbfc', '0xeee0')
    >>> hex(table[ord("A")]), hex(table[ord("\u0100")])
    ('0x41', '0xffff')
    """
    table = np.full(65536, 0xFFFF, dtype=np.uint16)
    for c in range(65536):
        if 0xD800 <= c < 0xE000:
            continue
        try:
            raw = chr(c).encode(encoding)
        except UnicodeEncodeError:
            continue
        table[c] = int.from_bytes(raw, "big") if len(raw) <= 2 else 0xFFFF
    if encoding == "cp932" and duplicates == "ibm":
        for char, raw in _nec_selected().items():
            table[ord(char)] = int.from_bytes(raw, "big")
    return table


#: a :func:`writer_table` entry for a character that would read back as another one
LOOKALIKE_CODE = 0xFFFE


@cache
def writer_table(encoding: str, duplicates: str, *, substitute: bool
                 ) -> npt.NDArray[np.uint16]:
    """:func:`encode_table` as the writer uses it: each of the encoding's
    :data:`LOOKALIKES` marked :data:`LOOKALIKE_CODE` (refused), or with ``substitute``
    (the layout's ``substitute_lookalikes``) given its substitute's code.

    >>> hex(writer_table("cp932", "nec", substitute=False)[0x301C])
    '0xfffe'
    >>> hex(writer_table("cp932", "nec", substitute=True)[0x301C])
    '0x8160'
    """
    table = encode_table(encoding, duplicates).copy()
    for char, instead in LOOKALIKES.get(encoding, {}).items():
        table[ord(char)] = table[ord(instead)] if substitute else LOOKALIKE_CODE
    table.flags.writeable = False
    return table


def needs_markers(values: pl.Series, encoding: str, duplicates: str) -> bool:
    """Whether :func:`prepare_for_encoding` would place a marker in ``values``.

    >>> needs_markers(pl.Series(["髙", "高"]), "cp932", "ibm")
    True
    >>> needs_markers(pl.Series(["髙"]), "cp932", "nec")
    False
    >>> needs_markers(pl.Series(["高"]), "cp932", "ibm")
    False
    """
    if encoding != "cp932" or duplicates != "ibm":
        return False
    chars, _, _ = _ibm_markers()
    return bool(values.str.contains("[" + "".join(chars) + "]").any())


#: Characters that CPython's codecs encode but decode as another character: written,
#: they would come back changed (〜 U+301C is written 81 60, which reads as ～ U+FF5E).
#: Every one of them, per codec (``tests/test_peers.py`` recomputes this from CPython).
LOOKALIKES: dict[str, dict[str, str]] = {
    "cp932": {"\u00a2": "\uffe0", "\u00a3": "\uffe1", "\u00ac": "\uffe2",
              "\u2016": "\u2225", "\u2212": "\uff0d", "\u301c": "\uff5e"},
    "shift_jis": {"\u00a5": "\\", "\u203e": "~"},
    "euc_jp": {"\u00a5": "\\", "\u203e": "~"},
}


def lookalikes(text: pl.Expr, encoding: str, *, substitute: bool
               ) -> tuple[pl.Expr, list[FormatCheck]]:
    """Text bound for ``encoding`` with its :data:`LOOKALIKES` replaced (``substitute``,
    the layout's ``substitute_lookalikes``) or checked: by default a value holding one is
    ``not-representable``, since it would read back as another character.

    >>> frame = pl.DataFrame({"v": ["1〜2", "1～2", None]})
    >>> value, checks = lookalikes(pl.col("v"), "cp932", substitute=False)
    >>> frame.select(checks[0][2].alias("bad"))["bad"].to_list()
    [True, False, None]
    >>> value, _ = lookalikes(pl.col("v"), "cp932", substitute=True)
    >>> frame.select(value)["v"].to_list()
    ['1～2', '1～2', None]
    """
    table = LOOKALIKES.get(encoding)
    if not table:
        return text, []
    if substitute:
        return text.str.replace_many(list(table), list(table.values())), []
    return text, [("not-representable", lookalike_message(encoding),
                   text.str.contains("[" + "".join(table) + "]"))]


def lookalike_message(encoding: str) -> str:
    """What to say of a value holding one of the encoding's :data:`LOOKALIKES`.

    >>> lookalike_message("shift_jis")
    'shift_jisでは別の文字として読み戻される文字があります: ¥(U+00A5) ‾(U+203E)'
    """
    shown = " ".join(f"{c}(U+{ord(c):04X})" for c in LOOKALIKES.get(encoding, {}))
    return f"{encoding}では別の文字として読み戻される文字があります: {shown}"


def encode_text(values: pl.Series | str, marked: bool, encoding: str) -> bytes:
    """Encode text (a str, or a one-value Series) prepared by :func:`prepare_for_encoding`;
    raises UnicodeEncodeError for a character the encoding lacks."""
    text = values if isinstance(values, str) else str(values[0])
    raw = text.encode(encoding)
    if not marked:
        return raw
    buf = np.frombuffer(raw, dtype=np.uint8).copy()
    at = np.flatnonzero((buf >= _MARK_FIRST) & (buf < _MARK_FIRST + 4))
    _, _, codes = _ibm_markers()
    index = (buf[at].astype(np.int64) - _MARK_FIRST) * _MARK_SPAN + buf[at + 1] - 0x21
    buf[at] = codes[index, 0]
    buf[at + 1] = codes[index, 1]
    return buf.tobytes()


# --------------------------------------------------------------------------------------
# Parsing raw text into typed columns


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


def parse_field(f: Field, raw: pl.Series, *, fixed: bool = True
                ) -> tuple[pl.DataFrame, list[Failure]]:
    """Turn a field's raw text (padding removed, null when empty) into typed columns.

    ``fixed`` says whether widths are bytes of a fixed record (digits must fill them) or
    a CSV maximum in characters. Failing rows come back null, listed in the failures.

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


def parse_expr(f: Field, r: pl.Expr, *, fixed: bool = True
               ) -> tuple[list[pl.Expr], list[FormatCheck], bool]:
    """:func:`parse_field` for any type but dates, as expressions over the raw text ``r``,
    so that a reader can parse many fields in one ``select``: the typed column(s), the
    checks, and whether failing values are kept (text) rather than nulled."""
    name = f.name
    fails: list[FormatCheck] = []
    if f.type in ("text", "code"):
        fails.extend(_class_failures(f, r))
        if not fixed:
            fails.append(("width-overflow", f"{f.length}文字を超えています",
                          r.str.len_chars() > f.length))
        if f.type == "code" and f.table is not None:
            fails.append(("unknown-code", unknown_code_message(f.table),
                          r.is_not_null() & ~r.is_in(list(f.table.codes))))
        return [r.alias(name)], fails, True
    if f.type == "digits":
        ok = r.str.contains(r"^[0-9]+$") & (
            (r.str.len_bytes() == f.length) if fixed else (r.str.len_bytes() <= f.length))
        fails.append(("not-digits", CHECK_FAILURES["digits"][1] if fixed
                      else f"{f.length}桁以内の数字ではありません", ~ok))
        return [pl.when(ok).then(r).alias(name)], fails, False
    if f.type == "integer":
        s = r.str.strip_chars(" ")
        pattern = r"^-?[0-9]+$" if f.signed else r"^[0-9]+$"
        digits = s.str.strip_prefix("-").str.len_bytes()
        # in CSV, 桁数 counts digits: the sign is not one of them
        ok = s.str.contains(pattern) & (digits <= min(f.length, MAX_PRECISION))
        fails.append(("not-integer", f"{f.length}桁以内の整数ではありません", ~ok))
        return [pl.when(ok).then(s).cast(pl.Int64, strict=False).alias(name)], fails, False
    if f.type == "decimal":
        return _parse_decimal(f, r, fails)
    msg = f"cannot parse field type {f.type!r}"
    raise ValueError(msg)


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


def _parse_decimal(f: Field, r: pl.Expr, fails: list[FormatCheck]
                   ) -> tuple[list[pl.Expr], list[FormatCheck], bool]:
    """CSV decimals: text with an optional sign and point (``-12.34``); fixed-width
    storage is parsed on bytes by :func:`parse_number` and :func:`unpack_packed`."""
    sign = "[+-]?" if f.signed else "[+]?"
    whole = f.precision - f.scale
    shape = rf"^{sign}[0-9]{{1,{max(whole, 1)}}}(\.[0-9]{{1,{f.scale}}})?$" if f.scale else \
        rf"^{sign}[0-9]{{1,{f.precision}}}$"
    ok = r.str.contains(shape)
    fails.append(("not-decimal", f"{f.precision}桁(小数点以下{f.scale}桁)以内の数値ではありません",
                  ~ok))
    value = r.str.strip_prefix("+").cast(pl.Decimal(f.precision, f.scale), strict=False)
    return [pl.when(ok).then(value).alias(f.name)], fails, False


_EPOCH = np.datetime64("1970-01-01", "D")
_ERA_START_DAY = np.array([(np.datetime64(d, "D") - _EPOCH).astype(np.int64)
                           for d in ERA_STARTS.values()])
_ERA_END_DAY = np.array([(np.datetime64(d, "D") - _EPOCH).astype(np.int64)
                         for d in ERA_ENDS.values()])
_ERA_START_YEAR = np.array([d.year for d in ERA_STARTS.values()])
_ERA_START_YM = np.array([d.year * 12 + d.month - 1 for d in ERA_STARTS.values()])
_ERA_END_YM = np.array([d.year * 12 + d.month - 1 for d in ERA_ENDS.values()])
_DIM = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def _digits_value(d: npt.NDArray[np.int32], a: int, b: int) -> npt.NDArray[np.int32]:
    out = np.zeros(d.shape[0], dtype=np.int32)
    for k in range(a, b):
        out = out * 10 + d[:, k]
    return out


def _days(y: npt.NDArray[np.int32], m: npt.NDArray[np.int32], d: npt.NDArray[np.int32],
          ok: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 for valid (y, m, d); rows not ``ok`` get 2000-01-01."""
    y2, m2, d2 = np.where(ok, y, 2000), np.where(ok, m, 1), np.where(ok, d, 1)
    months = (y2.astype(np.int64) - 1970) * 12 + (m2 - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]")
    return np.asarray((first - _EPOCH).astype(np.int64) + (d2 - 1), dtype=np.int64)


def strings_to_matrix(values: pl.Series, width: int) -> npt.NDArray[np.uint8]:
    """Fixed-width byte matrix of a String column: nulls become spaces, values of another
    byte length become ``?`` (so that they fail their type check)."""
    n = len(values)
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


#: Where the digits of each full-date format sit, read as one 8-digit number
#: (None: a leading "0"), so that one SWAR pass parses them all.
_DIGIT_POSITIONS: dict[str, tuple[int | None, ...]] = {
    "YYYYMMDD": (0, 1, 2, 3, 4, 5, 6, 7),
    "YYYY-MM-DD": (0, 1, 2, 3, 5, 6, 8, 9),
    "YYMMDD": (None, None, 0, 1, 2, 3, 4, 5),
    "GYYMMDD": (None, 0, 1, 2, 3, 4, 5, 6),
    "GGYYMMDD": (0, 1, 2, 3, 4, 5, 6, 7),
}
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


def _civil_days(y: npt.NDArray[np.int64], m: npt.NDArray[np.int64],
                d: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's days_from_civil)."""
    y2 = y - (m <= 2)
    cycle = y2 // 400
    yoe = y2 - cycle * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return np.asarray(cycle * 146097 + doe - 719468, dtype=np.int64)


def era_table() -> list[tuple[int, int, int]]:
    """Each era in order as (first year, first day, last day), days since 1970-01-01: what
    the era indexes of :func:`era_codes` point at.

    >>> era_table()[-1][:2]
    (2019, 18017)
    """
    return [(int(y), int(a), int(b)) for y, a, b in
            zip(_ERA_START_YEAR, _ERA_START_DAY, _ERA_END_DAY, strict=True)]


def era_codes(f: Field) -> tuple[int, ...]:
    """For each era code 0–99 of a ``GYYMMDD`` / ``GGYYMMDD`` field, the index of its era
    in :func:`era_table`, or -1 for a code the field's table lacks (codes of another
    width than the format's are not its codes).

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

    >>> writer_codes(_f("date", 8, format="GGYYMMDD"))
    (1, 2, 3, 4, 5)
    """
    to_code = [-1] * len(_ERA_NAMES)
    for code, name in (f.eras.codes.items() if f.eras else ()):
        i = _ERA_NAMES.index(name) if name in _ERA_NAMES else -1
        if i >= 0 and to_code[i] < 0 and code.isdigit():
            to_code[i] = int(code)
    return tuple(to_code)


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
    days, ok = fast if fast is not None else \
        fast_dates(mat, f.format or "YYYYMMDD", f.pivot or 0, era_codes(f), writer_codes(f))
    date = pl.Series(f.name, days.astype(np.int32)).cast(pl.Date)
    partial = pl.repeat(None, n, dtype=pl.String, eager=True).alias(f"{f.name}_partial")
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
    words[:, 1] = np.where(unscaled_values < 0, -1, 0)  # two's complement sign extension
    validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    arr = pa.Array.from_buffers(pa.decimal128(max(precision, 1), scale), n,
                                [validity, pa.py_buffer(words)])
    series = pl.from_arrow(arr)
    assert isinstance(series, pl.Series)  # noqa: S101
    return series.alias(name)


def _fail(fails: list[Failure], code: str, message: str, mask: npt.NDArray[np.bool_]) -> None:
    if mask.any():
        fails.append(Failure(code, message, mask))


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


def _fixed_strings(text: npt.NDArray[np.uint8], ok: npt.NDArray[np.bool_]) -> pl.Series:
    from chukan._kernel import string_series  # noqa: PLC0415 -- kernel imports codec-free

    n, w = text.shape
    return string_series(n, np.arange(0, n * w + 1, w, dtype=np.int64),
                         np.ascontiguousarray(text).reshape(-1), ok)


# --------------------------------------------------------------------------------------
# Formatting typed columns back into field text


def format_field(f: Field, df: pl.DataFrame, *, fixed: bool = True
                 ) -> tuple[pl.Series, list[Failure]]:
    """Render a field's column(s) as text (null where the field is empty).

    >>> s, _ = format_field(_f("integer", 5), pl.DataFrame({"d": [-12, 7, None]}))
    >>> s.to_list()
    ['-0012', '00007', None]
    """
    text, fails = format_expr(f, df.columns, fixed=fixed)
    return _format_finish(df, text, fails)


def format_expr(f: Field, columns: Sequence[str], *, fixed: bool = True
                ) -> tuple[pl.Expr, list[FormatCheck]]:
    """A field's text as a Polars expression over a frame with ``columns``, and its
    checks, so that a writer can format every field in one ``select``."""
    c = pl.col(f.name)
    fails: list[FormatCheck] = []
    if f.type in ("text", "code"):
        text = _empty_is_null(c)
        fails.extend(_class_failures(f, text))
        if f.type == "code" and f.table is not None:  # never write what reading rejects
            fails.append(("unknown-code", unknown_code_message(f.table),
                          ~text.is_in(list(f.table.codes))))
        return text, fails
    if f.type == "digits":
        text = _empty_is_null(c)
        fails.append(("not-digits", "数字以外の文字があります", ~text.str.contains(r"^[0-9]*$")))
        if fixed:  # leading zeros are data: a shorter value is not filled up silently
            fails.append(("not-digits", f"{f.length}桁ではありません(前ゼロは補いません)",
                          text.str.contains(r"^[0-9]*$") & (text.str.len_bytes() < f.length)))
        return text, fails
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
        return text, fails
    if f.type == "decimal":
        return _format_decimal(f, c, fails)
    if f.type == "date":
        return _format_date(f, columns, fails)
    msg = f"cannot format field type {f.type!r}"
    raise ValueError(msg)


def _empty_is_null(c: pl.Expr) -> pl.Expr:
    """An empty string is the empty field: written as padding, read back as null."""
    text = c.cast(pl.String)
    return pl.when(text != "").then(text)


def _format_finish(df: pl.DataFrame, text: pl.Expr, fails: list[FormatCheck]
                   ) -> tuple[pl.Series, list[Failure]]:
    values, failed = select_checked(df, [text.alias("text")], fails)
    return values["text"], list(failed.values())


def unscaled(c: pl.Expr, scale: int) -> pl.Expr:
    """A Decimal column as the Int64 of its unscaled digits (12.34 at scale 2 → 1234)."""
    scaled: pl.Expr = c.cast(pl.Decimal(38, scale)) * (10 ** scale)
    return scaled.cast(pl.Int64)


def _format_decimal(f: Field, c: pl.Expr, fails: list[FormatCheck]
                    ) -> tuple[pl.Expr, list[FormatCheck]]:
    """CSV decimals: plain text with a point (``-12.34``); fixed-width storage is
    formatted in numpy by :func:`number_bytes` and :func:`pack_packed`."""
    exact = c.cast(pl.Decimal(38, f.scale))
    v = unscaled(c, f.scale)
    if not f.signed:
        fails.append(("not-decimal", "負の値は書けません", v < 0))
    fails.append(("not-decimal", f"小数点以下は{f.scale}桁までです", exact != c))
    fails.append(("width-overflow", f"{f.precision}桁を超えています",
                  # digits of the text: abs() of the Int64 minimum overflows
                  v.cast(pl.String).str.strip_chars_start("-").str.len_chars() > f.precision))
    return exact.cast(pl.String), fails


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
        full = c.dt.to_string(f"%Y{sep}%m{sep}%d")
        part = pl.concat_str([py, pm, pd], separator=sep)
        part_ok = partial.str.contains(iso_shape)
        range_ok = (y >= 0) & (y <= 9999)
    elif fmt == "YYMMDD":
        pivot = f.pivot or 0
        full = pl.concat_str([(y % 100).cast(pl.String).str.zfill(2), two["m"], two["d"]])
        part = pl.concat_str([py.str.slice(2, 2), pm, pd])
        lo = 1900 + pivot
        year = py.cast(pl.Int32, strict=False)
        # a 不詳 value must come back the same: its year inside the pivot's century
        part_ok = partial.str.contains(iso_shape) & (
            (partial == "0000-00-00") | ((year >= lo) & (year < lo + 100)))
        range_ok = (y >= lo) & (y < lo + 100)
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
        full = pl.concat_str([code, eyear, two["m"], two["d"]])
        range_ok = code.is_not_null() & (era_year <= 99)  # 令和100年 has no YY spelling
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


# --------------------------------------------------------------------------------------
# Formatting straight into bytes (fixed-width writing of numbers and dates)


def apply_fumei_flags(frame: pl.DataFrame, fields: Sequence[Field]) -> pl.DataFrame:
    """Dates whose linked ``fumei_flag`` field holds ``1`` are 不詳 whatever digits they
    hold: null in the Date column, the written value (ISO) in ``<name>_partial``.

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


def unscaled_values(f: Field, values: pl.Series) -> tuple[pl.Series, list[Failure]]:
    """An integer or decimal column as the Int64 values a field holds (a decimal times
    10^scale), and the rows that would need rounding: never rounded silently, they are
    ``not-decimal``.

    >>> ints, fails = unscaled_values(_f("decimal", 5, scale=1),
    ...                               pl.Series([1.5, 1.25]).cast(pl.Decimal(10, 2)))
    >>> ints.to_list(), [(x.code, x.mask.tolist()) for x in fails]
    ([15, 12], [('not-decimal', [False, True])])
    """
    if f.type != "decimal":
        return values.cast(pl.Int64), []
    frame = pl.DataFrame({"v": values}).select(
        unscaled(pl.col("v"), f.scale).alias("i"),
        (pl.col("v").cast(pl.Decimal(38, f.scale)) != pl.col("v")).alias("rounded"))
    fails: list[Failure] = []
    _fail(fails, "not-decimal", f"小数点以下は{f.scale}桁までです",
          frame["rounded"].fill_null(value=False).to_numpy())
    return frame["i"], fails


def number_bytes(f: Field, values: pl.Series) -> tuple[npt.NDArray[np.uint8],
                                                        npt.NDArray[np.bool_], list[Failure]]:
    """An ``integer`` or display / zoned ``decimal`` column as field bytes, in numpy:
    ``(matrix, present, failures)``; absent rows (null or failed) are left to padding.

    >>> m, ok, _ = number_bytes(_f("integer", 5, signed=True), pl.Series([-12, 7, None]))
    >>> [bytes(r) for r in m[ok]]
    [b'-0012', b'00007']
    """
    w = f.length
    ints, fails = unscaled_values(f, values)
    present = ints.is_not_null().to_numpy()
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


def date_bytes(f: Field, df: pl.DataFrame) -> tuple[npt.NDArray[np.uint8],
                                                     npt.NDArray[np.bool_], list[Failure]]:
    """A date field (its Date column and ``_partial``) as field bytes, in numpy; 不詳
    values and ``YYYY-MM`` strings go through :func:`format_field` row by subset."""
    fmt = f.format or "YYYYMMDD"
    n = df.height
    if fmt in ("YYYYMM", "YYYY-MM"):
        return _text_bytes_via_format(f, df)
    date = df[f.name].cast(pl.Date)
    present = date.is_not_null().to_numpy()
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
    if pname not in df.columns:
        return fails
    rest = np.flatnonzero(~present & df[pname].fill_null("").ne("").to_numpy()
                          & df[f.name].is_null().to_numpy())
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
    present = text.is_not_null().to_numpy()
    return strings_to_matrix(text, f.length), present, fails


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
