"""Validation: one pass over one or more files that says what is wrong, to the byte.

Everything the lenient reader reports (structure, encoding, types, widths, classes,
codes, dates, fillers, record types, trailer counts), plus:

- characters: the 外字 inventory (every character of the Private Use Area, with its
  bytes, count, fields and first locations) and, when a repertoire is set, every
  character outside it (``jisx0208``: JIS X 0208 and half-width kana; ``cp932``: with the
  NEC/IBM extensions; ``jisx0213``);
- records: the layout's ``unique`` key, within each file.

>>> report = validate(["fixtures/vendor-a/juki-kojin.dat"], "examples/vendor-a/juki-kojin",
...                   repertoire="jisx0208")
>>> report.ok, report.counts_by_code()
(False, {'outside-repertoire': 2, 'gaiji': 1})
>>> p = report.problems[0]
>>> p.code, p.record, p.offset, p.label, p.raw
('outside-repertoire', 4, 656, '氏名', 'fb fc')
>>> [(g.code_point, g.raw, g.count) for g in report.gaiji.values()]
[('U+9AD9', 'fb fc', 2), ('U+E000', 'f0 40', 1)]
"""

from __future__ import annotations

import contextlib
import unicodedata
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from chukan.codec import encode_text, prepare_for_encoding
from chukan.layout import Field, Layout, Repertoire, codec_name, load_layout
from chukan.read import DEFAULT_BATCH, located_batches
from chukan.report import GAIJI_LOCATIONS, GaijiEntry, Problem, Report

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

    from chukan.read import Source

_PUA = "[\ue000-\uf8ff]"
_REPERTOIRE_NAMES = {"jisx0208": "JIS X 0208", "cp932": "CP932", "jisx0213": "JIS X 0213"}


@cache
def repertoire_chars(name: Repertoire) -> frozenset[str]:
    """Every character of a repertoire: all that its codec decodes from one or two bytes
    (the Private Use Area left out: those are 外字, reported on their own). A JIS code
    counts under both of its Unicode readings, so CP932's ～ (0x8160) is JIS X 0208 as
    Shift_JIS's 〜 is.

    >>> "髙" in repertoire_chars("cp932"), "髙" in repertoire_chars("jisx0208")
    (True, False)
    >>> "～" in repertoire_chars("jisx0208"), "〜" in repertoire_chars("jisx0208")
    (True, True)
    """
    codec = {"jisx0208": "shift_jis", "cp932": "cp932", "jisx0213": "shift_jis_2004"}[name]
    found = {chr(c) for c in range(0x20, 0x7F)}
    for byte in range(0xA1, 0xE0):
        found.add(bytes((byte,)).decode(codec))
    for lead in (*range(0x81, 0xA0), *range(0xE0, 0xFD)):
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFD)):
            code = bytes((lead, trail))
            try:
                found.update(code.decode(codec))
            except UnicodeDecodeError:
                continue
            if codec != "cp932" and lead < 0xED:  # JIS X 0208 rows: CP932's reading too
                with contextlib.suppress(UnicodeDecodeError):
                    found.update(code.decode("cp932"))
    return frozenset(c for c in found if not "\ue000" <= c <= "\uf8ff")


@cache
def _outside_pattern(name: Repertoire) -> str:
    """A regex class matching any character outside the repertoire and the PUA."""
    points = sorted({ord(c) for c in repertoire_chars(name)} | set(range(0xE000, 0xF900)))
    ranges: list[str] = []
    start = prev = points[0]
    for p in [*points[1:], -1]:
        if p == prev + 1:
            prev = p
            continue
        ranges.append(f"\\x{{{start:X}}}" if start == prev else
                      f"\\x{{{start:X}}}-\\x{{{prev:X}}}")
        start = prev = p
    return "[^" + "".join(ranges) + "]"


def validate(sources: Source | Sequence[Source], layout: Layout | str | Path, *,
             repertoire: Repertoire | None = None, mask: bool = False,
             max_errors: int | None = None, batch_size: int = DEFAULT_BATCH,
             progress: Callable[[int], None] | None = None) -> Report:
    """Check files against a layout; every finding ends in the returned report.

    ``repertoire`` applies to text and code fields that do not name their own (layout
    key ``repertoire``); ``mask`` replaces personal values by their length and character
    class; ``max_errors`` caps the problems kept in detail, never the counts;
    ``progress`` is called with the number of records of each batch read.
    """
    lay = load_layout(layout) if not isinstance(layout, Layout) else layout
    report = Report(max_problems=max_errors)
    if isinstance(sources, str | bytes) or not hasattr(sources, "__iter__"):
        sources = [sources]
    for source in sources:
        name = str(source) if not isinstance(source, bytes) else "<bytes>"
        report.files.append(name)
        found = Report()
        keys: list[pl.DataFrame] = []
        for kind_name, frame in located_batches(source, lay, report=found,
                                                batch_size=batch_size):
            if progress is not None:
                progress(frame.height)
            kind = lay.kind(kind_name)
            _characters(frame, kind.fields, lay, repertoire, name, found, report)
            if lay.unique and set(lay.unique) <= set(frame.columns):
                keys.append(frame.select(*lay.unique, "_record", "_offset"))
        if keys:
            _duplicates(pl.concat(keys), lay, name, found)
        report.records_read += found.records_read
        problems = sorted((p if p.file else replace(p, file=name) for p in found.problems),
                          key=Problem.sort_key)
        report.extend(_masked(p) for p in problems) if mask else report.extend(problems)
    return report


def _characters(frame: pl.DataFrame, fields: Iterable[Field], layout: Layout,
                repertoire: Repertoire | None, file: str, found: Report,
                report: Report) -> None:
    """外字 (PUA) and characters outside the repertoire, located to the byte: the regex
    scan is whole-column; Python looks only at the values it flags."""
    enc = codec_name(layout.encoding)
    for f in fields:
        if f.type not in ("text", "code") or f.name not in frame.columns:
            continue
        rep = f.repertoire or repertoire or layout.repertoire
        col = frame[f.name]
        flagged = col.str.contains(_PUA).fill_null(value=False)
        if rep:
            flagged |= col.str.contains(_outside_pattern(rep)).fill_null(value=False)
        rows = np.flatnonzero(flagged.to_numpy())
        if not len(rows):
            continue
        allowed = repertoire_chars(rep) if rep else None
        values = col.gather(rows).to_list()
        records = frame["_record"].gather(rows).to_list()
        starts = frame["_offset"].gather(rows).to_list()
        for value, record, start in zip(values, records, starts, strict=True):
            base = start + (f.offset if layout.format == "fixed" else 0)
            _one_value(value, f, rep, allowed, base, record, file, enc, layout, found, report)


def _one_value(value: str, f: Field, rep: Repertoire | None, allowed: frozenset[str] | None,
               base: int, record: int, file: str, enc: str, layout: Layout, found: Report,
               report: Report) -> None:
    gaiji_at = outside_at = None
    for k, ch in enumerate(value):
        pua = "\ue000" <= ch <= "\uf8ff"
        if not pua and (allowed is None or ch in allowed):
            continue
        at = base + (len(value[:k].encode(enc, "replace")) if layout.format == "fixed" else 0)
        reason = "外字(私用領域)" if pua else f"{_REPERTOIRE_NAMES[rep or 'cp932']}にない文字"
        entry = report.gaiji.get(ch)
        if entry is None:
            entry = report.gaiji[ch] = GaijiEntry(char=ch, raw=_bytes_of(ch, layout),
                                                  reason=reason)
        entry.count += 1
        entry.fields[f.name] += 1
        if len(entry.first) < GAIJI_LOCATIONS:
            entry.first.append((file, record, at, f.name))
        if pua and gaiji_at is None:
            gaiji_at = (at, ch)
        if not pua and outside_at is None:
            outside_at = (at, ch)
    for where, code, severity, text in (
            (gaiji_at, "gaiji", "warning", "外字があります(文字同定が必要です)"),
            (outside_at, "outside-repertoire", "error",
             f"{_REPERTOIRE_NAMES[rep or 'cp932']}の範囲外の文字があります")):
        if where is not None:
            at, ch = where
            found.add(Problem(code=code, severity=severity,  # type: ignore[arg-type]
                              message=f"{text}: {ch} (U+{ord(ch):04X})", file=file,
                              record=record, offset=at, field=f.name, label=f.label,
                              raw=_bytes_of(ch, layout), value=value))


def _bytes_of(ch: str, layout: Layout) -> str:
    """A character's bytes in the file's encoding (the layout's duplicate policy)."""
    enc = codec_name(layout.encoding)
    try:
        return encode_text(*prepare_for_encoding(pl.Series([ch]), enc,
                                                 layout.cp932_duplicates), enc).hex(" ")
    except UnicodeEncodeError:
        return ch.encode("utf-8").hex(" ")


def _duplicates(keys: pl.DataFrame, layout: Layout, file: str, found: Report) -> None:
    """The layout's ``unique`` key must not repeat within a file."""
    cols = list(layout.unique)
    complete = keys.filter(pl.all_horizontal(pl.col(cols).is_not_null()))
    marked = complete.with_columns(
        pl.col("_record").first().over(cols).alias("_first"),
        pl.struct(cols).is_first_distinct().alias("_is_first"))
    labels = "+".join(next((f.label or f.name for k in layout.kinds for f in k.fields
                            if f.name == c), c) for c in cols)
    for row in marked.filter(~pl.col("_is_first")).iter_rows(named=True):
        value = " ".join(str(row[c]) for c in cols)
        found.add(Problem(code="duplicate-key", message=f"{labels}が記録{row['_first']}と"
                                                        "重複しています",
                          file=file, record=row["_record"], offset=row["_offset"],
                          field=cols[0], label=labels, value=value))


def shape(value: str | None) -> str:
    """A personal value replaced by its length and character classes.

    >>> shape("山田　太郎"), shape("ﾔﾏﾀﾞ"), shape("0001"), shape("A-1号")
    ('[全角5]', '[半角カナ4]', '[数字4]', '[英字1 記号1 数字1 全角1]')
    """
    if value is None:
        return ""
    runs: dict[str, int] = {}
    for ch in value:
        if "0" <= ch <= "9":
            kind = "数字"
        elif ch.isascii() and ch.isalpha():
            kind = "英字"
        elif ch.isascii():
            kind = "記号"
        elif "\uff61" <= ch <= "\uff9f":
            kind = "半角カナ"
        elif "\ue000" <= ch <= "\uf8ff":
            kind = "外字"
        elif unicodedata.east_asian_width(ch) in "WF":
            kind = "全角"
        else:
            kind = "その他"
        runs[kind] = runs.get(kind, 0) + 1
    return "[" + " ".join(f"{k}{n}" for k, n in runs.items()) + "]"


def _masked(p: Problem) -> Problem:
    """The problem without personal data: values become their shape, raw bytes their
    length (a 外字's own bytes are kept: they identify a character, not a person)."""
    raw = p.raw if p.code in ("gaiji", "outside-repertoire") else \
        (f"<{len(p.raw.split())} bytes>" if p.raw else "")
    return replace(p, value=shape(p.value), raw=raw)
