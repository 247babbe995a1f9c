"""Hypothesis strategies generated from layouts, for round-trip property tests.

``frames(layout)`` draws DataFrames that a layout can hold exactly: every value fits its
byte width in the layout's encoding, and every value is in the *canonical* form that
reading gives back (digits fill their width, text carries no padding, 不詳 dates are
spelled as the reader spells them). So for any drawn ``df``,
``read(write(df)) == df`` must hold, and writing what was read gives the same bytes.

``layouts()`` draws whole random layouts, to test the engine beyond the shipped ones.

>>> from hypothesis import given, settings
>>> from chukan.layout import load_layout
>>> layout = load_layout("examples/vendor-a/juki-kojin")
>>> @settings(max_examples=5, deadline=None)
... @given(frames(layout))
... def check(df):
...     assert df.columns[0] == "atena_no"
>>> check()

Requires the ``hypothesis`` package (the ``test`` extra).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast, get_args

import polars as pl
from hypothesis import strategies as st

from chukan._eras import ERA_STARTS
from chukan.codec import apply_fumei_flags, column_names, dtype_of, era_of
from chukan.spec import (
    DATE_WIDTHS,
    EBCDIC_ENCODINGS,
    MAX_PRECISION,
    VENDOR_ENCODINGS,
    Chars,
    CodeTable,
    DateFormat,
    Field,
    Format,
    Layout,
    RecordKind,
    Shift,
    Storage,
    Terminator,
    codec_name,
    encoding_of,
    is_host,
    load_code_table,
)

if TYPE_CHECKING:
    from hypothesis.strategies import DrawFn, SearchStrategy

__all__ = ["field_values", "frames", "layouts", "record_frames"]

# Characters drawn for text fields. Full-width: kana, kanji (including the IBM/NEC
# extension kanji whose bytes depend on the duplicate policy), full-width digits and
# letters, symbols such as ～ and ①; U+3000 only inside a value, never at its end.
_FULL_COMMON = ("あいうえおかきくけこがぎぱぴゃゅょアイウエオガギパピャヴー亜唖娃阿哀愛挨姶逢葵茜"
                "山田太郎花子髙橋﨑德彅渡邉斉藤東京都千代田区丁目番地号１２３ＡＢＣｘｙｚ～－"
                "①②㈱㈲№※〒々〆ヶ×α°±§")  # the last five are two bytes in UTF-8 too
_FULL_CP932_ONLY = "髙﨑德彅①②㈱㈲№"
_JIS_X_0212 = "丂丄丅"  # three bytes in EUC-JP (and in UTF-8); not in CP932 or Shift_JIS
_GAIJI = "\ue000\ue001\ue0ff\ue757"  # CP932 user-defined area: its first, last and two more
#: unmapped double-byte codes of the vendor pages (U+F0000 + the code): JEF's and KEIS's
#: user-defined area, a JIS row with no characters (JIPS's G0), JIPS's G1
_CARRIED = "\U000f80a1\U000fa0fe\U000f2921\U000fa1a1"
_HALF = ("ABCXYZabcxyz0123456789-.,()/&'#ｱｲｳｴｵｶﾞﾊﾟﾔﾕﾖｯｰﾞﾟｦﾝ｡｢｣､･")
_HALF_KANA = "ｱｲｳｴｵｶﾞﾊﾟﾔﾕﾖｯｰﾞﾟｦﾝ｡｢｣､･"
#: the host pages random layouts are drawn in
HOST_PAGES = (*EBCDIC_ENCODINGS, *VENDOR_ENCODINGS)


def _alphabet(f: Field, encoding: str) -> str:
    full = _FULL_COMMON
    if encoding == "cp932":
        full += _GAIJI
    elif encoding not in ("utf-8", "utf-8-sig"):
        full = "".join(c for c in full if c not in _FULL_CP932_ONLY)
    if encoding in ("euc_jp", "utf-8", "utf-8-sig"):
        full += _JIS_X_0212
    half = _HALF if encoding in ("cp932", "shift_jis", "utf-8", "utf-8-sig", "euc_jp") else \
        _HALF.translate({ord(c): None for c in _HALF_KANA})
    if encoding in EBCDIC_ENCODINGS:
        full += _GAIJI  # the pages' user-defined area starts at U+E000 too
    elif is_host(encoding):
        full += _CARRIED  # a vendor page's unmapped codes read in plane 15
    chosen = {"fullwidth": full, "halfwidth": half}.get(f.chars, full + half)
    codec = codec_name(encoding)
    kept = "".join(c for c in chosen if _encodes(c, codec))
    if f.shift == "none" and is_host(encoding):
        return "".join(c for c in kept if len(c.encode(codec)) == 1)
    if f.shift == "graphic":  # double bytes only: between shift codes in a stream
        so, si = encoding_of(encoding).shift or (b"", b"")
        return "".join(c for c in kept if len(c.encode(codec)) == len(so) + 2 + len(si))
    return kept


def _encodes(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _byte_len(text: str, encoding: str, f: Field | None = None) -> int:
    if f is not None and f.shift == "graphic":
        return 2 * len(text)  # no shift codes in a graphic field
    return len(text.encode(codec_name(encoding)))


def _text(f: Field, layout: Layout) -> SearchStrategy[str]:
    alphabet = _alphabet(f, layout.encoding)
    single_only = f.shift == "none" and is_host(layout.encoding)
    inner = "\u3000" if f.chars != "halfwidth" and not single_only else " "
    if f.shift == "graphic":
        inner = "\u3000"
    fixed = layout.format == "fixed"

    def fits(s: str) -> bool:
        if fixed:
            return _byte_len(s, layout.encoding, f) <= f.length
        return len(s) <= f.length

    body = st.text(alphabet=alphabet + inner, min_size=1,
                   max_size=f.length if not fixed else max(1, f.length))
    # values are never empty (that is null) and never end in padding; in fixed files
    # they fit the byte width, in CSV the character count
    return body.map(lambda s: s.rstrip(" \u3000")).filter(
        lambda s: bool(s) and fits(s) and (f.chars != "fullwidth" or s[0] != " "))


def field_values(f: Field, layout: Layout) -> SearchStrategy[Any]:
    """Values of one field's main column (dates: ``(date, partial)`` pairs)."""
    fixed = layout.format == "fixed"
    if f.type == "text":
        base: SearchStrategy[Any] = _text(f, layout)
    elif f.type == "code":
        if f.table is not None and f.table.codes:
            base = st.sampled_from(sorted(c for c in f.table.codes
                                          if len(c.encode()) <= f.length))
        else:
            base = st.text(alphabet="ABCDEFXYZ0123456789", min_size=1, max_size=f.length)
    elif f.type == "digits":
        base = st.text(alphabet="0123456789", min_size=f.length if fixed else 1,
                       max_size=f.length)
    elif f.type == "integer":
        digits = min(f.length, MAX_PRECISION)
        low = -(10 ** (digits - 1) - 1) if f.signed else 0
        base = st.integers(low, 10 ** digits - 1)
    elif f.type == "decimal":
        p = f.precision
        bound = 10 ** p - 1
        base = st.integers(-bound if f.signed else 0, bound).map(
            lambda v: Decimal(v).scaleb(-f.scale))
    elif f.type == "date":
        return _dates(f)
    else:
        msg = f"no values for {f.type}"
        raise ValueError(msg)
    if f.required or (f.type == "decimal" and f.storage == "packed"):
        return base  # packed decimals have no empty form
    return st.one_of(st.none(), base)


def _date_range(f: Field) -> tuple[dt.date, dt.date]:
    if f.format == "YYMMDD":
        lo = 1900 + (f.pivot or 0)
        return dt.date(lo, 1, 1), dt.date(lo + 99, 12, 31)
    if f.format in ("GYYMMDD", "GGYYMMDD"):
        eras = set(f.eras.codes.values()) if f.eras else set()
        firsts = [ERA_STARTS[e] for e in ERA_STARTS if e in eras]
        start = min(firsts) if firsts else dt.date(1989, 1, 8)
        # era years have two digits: stop before year 100 of the last era
        last = max((ERA_STARTS[e] for e in eras), default=start)
        return start, dt.date(last.year + 98, 12, 31)
    return dt.date(1800, 1, 1), dt.date(2200, 12, 31)


def _era_ok(f: Field, day: dt.date) -> bool:
    if f.format not in ("GYYMMDD", "GGYYMMDD"):
        return True
    era, _ = era_of(day)
    return f.eras is not None and era in f.eras.codes.values()


def _partials(f: Field) -> SearchStrategy[str]:
    """不詳 values in the canonical spelling the reader gives."""
    lo, hi = _date_range(f)
    iso_years = st.integers(max(lo.year + 1, 1), hi.year - 1)
    era_fmt = f.format in ("GYYMMDD", "GGYYMMDD")
    if era_fmt:
        # years strictly inside an era, so that the ISO spelling names one era only
        inner = [y for y in range(lo.year + 1, hi.year)
                 if y not in {d.year for d in ERA_STARTS.values()}]
        iso_years = st.sampled_from(inner) if inner else st.just(lo.year + 1)
    month_known = st.builds(lambda y, m: f"{y:04d}-{m:02d}-00", iso_years, st.integers(1, 12))
    # in YYMMDD, 000000 is the wholly unknown date, so year 00 needs a known month
    year_only = iso_years.filter(lambda y: f.format != "YYMMDD" or y % 100 != 0).map(
        lambda y: f"{y:04d}-00-00")
    options = [month_known, year_only, st.just("0000-00-00")]
    if era_fmt and f.eras is not None:
        eras = sorted(set(f.eras.codes.values()) - {"明治"})
        if eras:
            options.append(st.sampled_from(eras).map(lambda e: f"{e}00-00-00"))
        if "昭和" in eras:
            options.append(st.just("昭和64-00-00"))
    return st.one_of(*options)


def _dates(f: Field) -> SearchStrategy[Any]:
    if f.format in ("YYYYMM", "YYYY-MM"):
        value = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1, 9999),
                          st.integers(0, 12))
        return value if f.required else st.one_of(st.none(), value)
    lo, hi = _date_range(f)
    full = st.dates(lo, hi).filter(lambda d: _era_ok(f, d)).map(lambda d: (d, None))
    partial = _partials(f).map(lambda p: (None, p))
    options = [full, partial]
    if not f.required:
        options.append(st.just((None, "")))
    return st.one_of(*options)


@st.composite
def record_frames(draw: DrawFn, layout: Layout, kind: RecordKind | None = None,
                  max_rows: int = 8) -> pl.DataFrame:
    """A DataFrame of one record kind (the layout's only kind by default)."""
    k = kind or layout.kind()
    n = draw(st.integers(1, max_rows))  # no records at all is an "empty-file" problem
    columns: dict[str, list[Any]] = {}
    schema: dict[str, pl.DataType] = {}
    for f in k.fields:
        if f.type == "filler":
            continue
        if layout.record_type is not None and f.start == layout.record_type[0] and \
                f.length == layout.record_type[1]:
            columns[f.name] = [k.match] * n
            schema[f.name] = pl.String()
            continue
        values = draw(st.lists(field_values(f, layout), min_size=n, max_size=n))
        names = column_names(f)
        if f.type == "date" and len(names) == 2:
            columns[names[0]] = [v[0] for v in values]
            columns[names[1]] = [v[1] for v in values]
            schema[names[0]], schema[names[1]] = pl.Date(), pl.String()
        else:
            columns[f.name] = values
            schema[f.name] = dtype_of(f)
    # a date under a 不詳 flag of 1 is 不詳: the form reading gives back
    return apply_fumei_flags(pl.DataFrame(columns, schema=schema), k.fields)


def frames(layout: Layout, *, max_rows: int = 8) -> SearchStrategy[pl.DataFrame]:
    """DataFrames of a single-record layout (see the module docstring)."""
    return record_frames(layout, None, max_rows)


# --------------------------------------------------------------------------------------
# Random layouts


@st.composite
def _random_field(draw: DrawFn, i: int, fmt: str) -> Field:
    kind = draw(st.sampled_from(["text", "text", "digits", "code", "integer", "decimal",
                                 "date"]))
    name = f"f{i}"
    required = draw(st.booleans())
    if kind == "text":
        chars: Chars = draw(st.sampled_from(["fullwidth", "halfwidth", "any"]))
        return Field(name=name, label=f"項目{i}", type="text", length=draw(st.integers(1, 24)),
                     chars=chars, required=required)
    if kind == "digits":
        return Field(name=name, label=f"項目{i}", type="digits",
                     length=draw(st.integers(1, 12)), required=required)
    if kind == "code":
        width = draw(st.integers(1, 3))
        codes = draw(st.lists(st.text("0123456789", min_size=width, max_size=width),
                              min_size=1, max_size=5, unique=True))
        table = CodeTable(name=f"t{i}", codes={c: f"値{c}" for c in codes})
        return Field(name=name, label=f"項目{i}", type="code", length=width, table=table,
                     required=required)
    if kind == "integer":
        return Field(name=name, label=f"項目{i}", type="integer",
                     length=draw(st.integers(1, MAX_PRECISION)), signed=draw(st.booleans()),
                     pad=draw(st.sampled_from(["0", " "])), required=required)
    if kind == "decimal":
        storage: Storage = draw(st.sampled_from(["display", "zoned", "packed"]
                                                if fmt == "fixed" else ["display"]))
        length = draw(st.integers(2, 9))
        precision = 2 * length - 1 if storage == "packed" else length
        signed = draw(st.booleans())
        if storage == "display" and signed:
            precision -= 1
        return Field(name=name, label=f"項目{i}", type="decimal", length=length,
                     storage=storage, signed=signed, required=required,
                     scale=draw(st.integers(0, min(3, precision))))
    date_format: DateFormat = draw(st.sampled_from(get_args(DateFormat)))
    eras = None
    if date_format in ("GYYMMDD", "GGYYMMDD"):
        eras = load_code_table("eras/1digit" if date_format == "GYYMMDD" else "eras/2digit")
    return Field(name=name, label=f"項目{i}", type="date", length=DATE_WIDTHS[date_format],
                 format=date_format, eras=eras, pivot=50 if date_format == "YYMMDD" else None,
                 required=required)


@st.composite
def layouts(draw: DrawFn, *, formats: tuple[str, ...] = ("fixed", "csv")) -> Layout:
    """Random valid layouts: fixed (any terminator) or CSV, in any supported encoding."""
    fmt: Format = draw(st.sampled_from([f for f in get_args(Format) if f in formats]))
    encoding = draw(st.sampled_from(["cp932", "shift_jis", "euc_jp", "utf-8", "utf-8-sig",
                                     *(HOST_PAGES if fmt == "fixed" else ())]))
    # a one-column CSV cannot tell a row holding one empty value from a blank line
    n = draw(st.integers(1 if fmt == "fixed" else 2, 8))
    fields: list[Field] = []
    start = 1
    for i in range(n):
        f = draw(_random_field(i, fmt))
        if is_host(encoding) and f.type == "text":
            f = _ebcdic_text(f, draw(st.sampled_from(["none", "so-si", "graphic"])))
        if fmt == "fixed" and draw(st.integers(0, 5)) == 0:
            filler = Field(name=f"filler_{i}", label="", type="filler", start=start,
                           length=draw(st.integers(1, 4)))
            fields.append(filler)
            start += filler.length
        if fmt == "fixed":
            f = _with_start(f, start)
            start += f.length
        fields.append(f)
    terminator: Terminator = draw(st.sampled_from(
        ["none"] if is_host(encoding) else
        ["crlf", "lf", "none"] if fmt == "fixed" else ["crlf", "lf"]))
    return Layout(name="random", format=fmt, encoding=encoding, record_length=start - 1,
                  terminator=terminator, header=draw(st.booleans()) if fmt == "csv" else
                  False, fields=tuple(fields),
                  cp932_duplicates=draw(st.sampled_from(["ibm", "nec"])))


def _ebcdic_text(f: Field, shift: str) -> Field:
    """A text field of an EBCDIC layout in one of its shift modes (a graphic one is
    full-width, of an even length, padded with U+3000; a mixed one pads with spaces)."""
    from dataclasses import replace  # noqa: PLC0415

    if shift == "graphic":
        return replace(f, shift="graphic", chars="fullwidth", pad="\u3000",
                       length=max(2, f.length // 2 * 2))
    return replace(f, shift=cast("Shift", shift),
                   pad=" " if shift == "so-si" and f.chars == "fullwidth" else f.pad)


def _with_start(f: Field, start: int) -> Field:
    from dataclasses import replace  # noqa: PLC0415

    return replace(f, start=start)
