"""Validation: one pass over one or more files that says what is wrong, to the byte.

Everything the lenient reader reports (structure, encoding, types, widths, classes,
codes, dates, fillers, record types, trailer counts), plus:

- characters: the 外字 inventory (every character of the Private Use Area, with its
  bytes, count, fields and first locations) and, when a repertoire is set, a separate
  inventory of every other character outside it (``jisx0208``: JIS X 0208 and half-width
  kana; ``cp932``: with the NEC/IBM extensions; ``jisx0213``);
- records: the layout's ``unique`` key, within each file.

>>> report = validate(["fixtures/vendor-a/juki-kojin.dat"], "examples/vendor-a/juki-kojin",
...                   repertoire="jisx0208")
>>> report.ok, report.counts_by_code()
(False, {'outside-repertoire': 2, 'gaiji': 1})
>>> p = report.problems[0]
>>> p.code, p.record, p.offset, p.label, p.raw
('outside-repertoire', 4, 656, '氏名', 'fb fc')
>>> [(g.code_point, g.raw, g.count) for g in report.gaiji.values()]
[('U+E000', 'f0 40', 1)]
>>> [(g.code_point, g.raw, g.count) for g in report.outside.values()]
[('U+9AD9', 'fb fc', 2)]
"""

from __future__ import annotations

import contextlib
import unicodedata
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from chukan._arrow import owned, private_use_columns
from chukan._threads import using_threads
from chukan.codec import char_span, encode_text, prepare_for_encoding, schema_of
from chukan.errors import UsageError
from chukan.read import DEFAULT_BATCH, located_batches
from chukan.report import GAIJI_LOCATIONS, GaijiEntry, Problem, ProblemTable, Report
from chukan.spec import (
    ENCODINGS,
    PUA,
    Field,
    FileSet,
    Layout,
    Repertoire,
    SetCheck,
    codec_name,
    is_private_use,
    iter_fields,
    load_file_set,
    load_layout,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from typing import BinaryIO

    import numpy.typing as npt

    from chukan.read import Source

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
            if lead < 0xED:  # JIS X 0208 rows: both the CP932 and the Shift_JIS reading
                for other in ("cp932", "shift_jis"):
                    with contextlib.suppress(UnicodeDecodeError):
                        found.update(code.decode(other))
    return frozenset(c for c in found if not is_private_use(c))


@cache
def _outside_pattern(name: Repertoire) -> str:
    """A regex class matching any character outside the repertoire and the PUA."""
    # control characters are the reader's business (and CR LF are data in quoted CSV)
    points = sorted({ord(c) for c in repertoire_chars(name)} | set(range(0xE000, 0xF900))
                    | set(range(0xF0000, 0xFFFFE)) | set(range(0x20)) | {0x7F})
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
             progress: Callable[[int], None] | None = None,
             threads: int | None = None) -> Report:
    """Check files against a layout; every finding ends in the returned report.

    ``repertoire`` applies to text and code fields that do not name their own (layout
    key ``repertoire``); ``mask`` replaces personal values by their length and character
    class; ``max_errors`` caps the problems kept in detail (each file's first by record
    and offset), never the counts; ``progress`` is called with the number of records of
    each batch read; ``threads`` bounds the compiled core's threads (default:
    ``CHUKAN_THREADS``, else one per core).
    """
    with using_threads(threads):
        return _validate(sources, layout, repertoire=repertoire, mask=mask,
                         max_errors=max_errors, batch_size=batch_size, progress=progress)


def _validate(sources: Source | Sequence[Source], layout: Layout | str | Path, *,
              repertoire: Repertoire | None, mask: bool, max_errors: int | None,
              batch_size: int, progress: Callable[[int], None] | None) -> Report:
    lay = load_layout(layout) if not isinstance(layout, Layout) else layout
    report = Report(max_problems=max_errors)
    if isinstance(sources, str | bytes) or hasattr(sources, "read") or \
            not hasattr(sources, "__iter__"):
        sources = [sources]  # type: ignore[list-item] # one path, bytes or open binary file
    opts = _Options(repertoire, mask, batch_size, progress)
    for number, source in enumerate(sources, 1):
        _validate_file(source, lay, report, opts, collect=(), number=number)
    return report


def validate_set(file_set: FileSet | str | Path, files: Mapping[str, Source], *,
                 repertoire: Repertoire | None = None, mask: bool = False,
                 max_errors: int | None = None, batch_size: int = DEFAULT_BATCH,
                 progress: Callable[[int], None] | None = None) -> Report:
    """Validate every file of a set against its layout, then the checks that join them
    (references, one record per group, sequences); ``files`` maps member names to paths.

    >>> report = validate_set("examples/vendor-a/juki-set",
    ...                       {"kojin": "fixtures/vendor-a/juki-kojin.dat",
    ...                        "setai": "fixtures/vendor-a/juki-setai.dat"})
    >>> report.ok
    True
    """
    fs = file_set_for(file_set, files)
    report = Report(max_problems=max_errors)
    opts = _Options(repertoire, mask, batch_size, progress)
    wanted = set_columns(fs)
    frames = {name: _validate_file(files[name], layout, report, opts,
                                   collect=tuple(sorted(wanted[name])), number=number)
              for number, (name, layout) in enumerate(fs.files.items(), 1)}
    names = {name: _name_of(files[name], i) for i, name in enumerate(fs.files, 1)}
    found: list[ProblemTable] = []
    read = {name: frame.height > 0 for name, frame in frames.items()}
    for check in fs.checks:
        found += _run_check(check, frames, names, fs, read)
    table = ProblemTable.of(found).in_file_order(by_file=True)
    report.extend(_masked(p) for p in table.problems()) if mask else report.extend(table)
    return report


def file_set_for(file_set: FileSet | str | Path, files: Mapping[str, object]) -> FileSet:
    """The file set, its members each given a file (or a usage error that says which)."""
    fs = load_file_set(file_set) if not isinstance(file_set, FileSet) else file_set
    missing = sorted(set(fs.files) - set(files))
    unknown = sorted(set(files) - set(fs.files))
    if missing or unknown:
        msg = f"file set {fs.name}: give a path for each of {', '.join(fs.files)}" + \
            (f" (missing {', '.join(missing)})" if missing else "") + \
            (f" (unknown {', '.join(unknown)})" if unknown else "")
        raise UsageError(msg)
    return fs


def set_columns(fs: FileSet) -> dict[str, set[str]]:
    """The columns of each member that the set's checks read."""
    wanted: dict[str, set[str]] = {name: set() for name in fs.files}
    for check in fs.checks:
        for ref in (check.field, check.target, check.group, check.groups):
            if ref is not None:
                wanted[ref[0]].add(ref[1])
    return wanted


@dataclass(frozen=True, slots=True)
class _Options:
    repertoire: Repertoire | None
    mask: bool
    batch_size: int
    progress: Callable[[int], None] | None


def _name_of(source: Source, number: int) -> str:
    if isinstance(source, bytes):
        return f"<bytes #{number}>"  # distinct per source: problems keep their file
    if hasattr(source, "read"):  # an open file: its name, when it has one
        return str(getattr(source, "name", f"<file #{number}>"))
    return str(source)


def _validate_file(source: Source, lay: Layout, report: Report, opts: _Options, *,
                   collect: tuple[str, ...], number: int) -> pl.DataFrame:
    """Validate one file into ``report``; returns the ``collect`` columns (with
    ``_record`` and ``_offset``) for checks across files."""
    name = _name_of(source, number)
    report.labels.update({f.name: f.label for k in lay.kinds for f in k.fields if f.label})
    report.files.append(name)
    # details beyond the cap are not kept even here (memory); their counts are
    found = Report(max_problems=report.max_problems, in_file_order=True)
    keys: list[pl.DataFrame] = []
    kept: list[pl.DataFrame] = []
    with _peeking(source) as peek:
        for kind_name, frame in located_batches(source, lay, report=found,
                                                batch_size=opts.batch_size):
            if opts.progress is not None:
                opts.progress(frame.height)
            kind = lay.kind(kind_name)
            _characters(frame, kind.fields, lay, opts.repertoire, name, found, report,
                        peek)
            if lay.unique and set(lay.unique) <= set(frame.columns):
                keys.append(frame.select(*lay.unique, "_record", "_offset"))
            if collect and set(collect) <= set(frame.columns):
                kept.append(frame.select(*collect, "_record", "_offset"))
    if keys:
        _duplicates(pl.concat(keys), lay, name, found)
    report.records_read += found.records_read
    # (the problems stay a table unless they are masked, one by one)
    problems = found.table().with_file(name).in_file_order()
    report.absorb(found, [_masked(p) for p in problems.problems()] if opts.mask else problems,
                  file=name)
    if kept:
        return pl.concat(kept)
    # nothing read: the columns still exist, so the checks see an empty file
    schema = {name: dtype for k in lay.kinds for name, dtype in schema_of(k.fields).items()}
    return pl.DataFrame(schema={**{c: schema[c] for c in collect},
                                "_record": pl.Int64(), "_offset": pl.Int64()})


def _field_of(fs: FileSet, ref: tuple[str, str]) -> Field:
    return next(f for _, f in iter_fields(fs.files[ref[0]]) if f.name == ref[1])


def _run_check(check: SetCheck, frames: Mapping[str, pl.DataFrame], names: Mapping[str, str],
               fs: FileSet, layouts_ok: Mapping[str, bool]) -> list[ProblemTable]:
    """One check across files, in Polars; a problem for every record that breaks it, once.

    Values the reader already rejected (null here) take no part, so one defect is not
    reported again by every check it touches. Messages name groups by position, never
    by value: the values are in the problems' ``value`` (masked with ``--mask``).
    """
    member, col = check.field
    f = _field_of(fs, check.field)
    data = frames[member].with_columns(pl.col(col).cast(pl.String))
    out: list[ProblemTable] = []

    def problem(code: str, rows: pl.DataFrame, message: pl.Expr | str, at: Field = f,
                where: str = member) -> None:
        if rows.height:
            out.append(_set_rows(check, fs, names, code, rows, message, at, where))

    if check.type == "reference":
        assert check.target is not None  # noqa: S101 -- the loader requires it
        known = frames[check.target[0]][check.target[1]].cast(pl.String)
        return [missing_references(check, data.filter(
            pl.col(col).is_not_null() & ~pl.col(col).is_in(known.implode())), fs, names)]
    assert check.group is not None  # noqa: S101 -- the loader requires it
    group = check.group[1]
    data = data.with_columns(pl.col(group).cast(pl.String))
    # a record whose group key the reader rejected belongs to no known group: groups next
    # to it in the file are not judged, rather than blamed for its absence
    unknown = data.filter(pl.col(group).is_null())["_record"]
    data = data.filter(pl.col(group).is_not_null())
    if len(unknown):
        spans = data.group_by(group).agg(pl.col("_record").min().alias("_lo"),
                                         pl.col("_record").max().alias("_hi"))
        near = spans.filter(pl.any_horizontal(
            [(pl.col("_lo") - 1 <= r) & (r <= pl.col("_hi") + 1) for r in unknown]))[group]
        data = data.filter(~pl.col(group).is_in(near.implode()))
    # groups that do not exist at all are the business of a reference check
    targets = [check.groups] + [c.target for c in fs.checks
                                if c.type == "reference" and c.field == check.group]
    for ref in targets:
        if ref is not None:
            known = frames[ref[0]][ref[1]].cast(pl.String)
            data = data.filter(pl.col(group).is_in(known.implode()))
    if check.type == "one-per-group":
        marked = data.with_columns((pl.col(col) == check.value).fill_null(value=False)
                                   .alias("_hit"))
        hits = marked.filter("_hit").with_columns(pl.len().over(group).alias("_n"),
                                                  pl.int_range(pl.len()).over(group)
                                                  .alias("_i"))
        # (words around a count by concatenation: a label may hold braces)
        problem("group-count", hits.filter(pl.col("_i") > 0), pl.concat_str(
            pl.lit(f"同じ{check.group and _field_of(fs, check.group).label}に"),
            pl.col("_n").cast(pl.String), pl.lit("件あります(1件のはず)")))
        lacking = marked.filter(~pl.col(group).is_in(hits[group].unique().implode())
                                & pl.col(col).is_not_null()).group_by(
            group, maintain_order=True).agg(pl.col("_record").first(),
                                            pl.col("_offset").first(), pl.col(col).first())
        problem("group-count", lacking, "このグループに1件もありません")
        # with keys the reader rejected, an empty group may be theirs: not judged
        if check.groups is not None and layouts_ok.get(member, True) and not len(unknown):
            others = frames[check.groups[0]].with_columns(pl.col(check.groups[1])
                                                          .cast(pl.String))
            gf = _field_of(fs, check.groups)
            alone = others.filter(pl.col(check.groups[1]).is_not_null() &
                                  ~pl.col(check.groups[1]).is_in(data[group].implode()))
            problem("group-count", alone, f"{names[member]}に1件もありません", at=gf,
                    where=check.groups[0])
        return out
    # sequence: sorted within the group, the values are 1, 2, …, n (values the reader
    # rejected are left out, so they do not shift the others)
    ranked = data.with_columns(pl.col(col).cast(pl.Int64, strict=False).alias("_v")).filter(
        pl.col("_v").is_not_null()).sort(group, "_v", "_record").with_columns(
        pl.int_range(1, pl.len() + 1).over(group).alias("_expected"))
    problem("sequence", ranked.filter(pl.col("_v") != pl.col("_expected")),
            pl.concat_str(pl.lit("グループ内の"), pl.col("_expected").cast(pl.String),
                          pl.lit("番目の値が順番どおりではありません")))
    return out


def _set_rows(check: SetCheck, fs: FileSet, names: Mapping[str, str], code: str,
              rows: pl.DataFrame, message: pl.Expr | str, at: Field, where: str
              ) -> ProblemTable:
    """A set check's problems at records of member ``where`` (``rows``: their values,
    ``_record``, ``_offset``), on field ``at``: a table (a check that fails on every
    record, a reference to the wrong file, made a Problem and an encoding per record:
    250 µs each), its words ``message`` (an expression on ``rows``, or the same for
    all)."""
    shift = at.offset if fs.files[where].format == "fixed" else 0
    value = pl.col(at.name).cast(pl.String) if at.name in rows.columns else \
        pl.lit(None, pl.String)
    words = message if isinstance(message, pl.Expr) else pl.lit(message)
    return ProblemTable.found(
        codes=(code,), code=np.zeros(rows.height, np.intp),
        record=rows["_record"].cast(pl.Int64).to_numpy(),
        offset=rows["_offset"].cast(pl.Int64).to_numpy() + shift,
        detail=_Values.of(rows, value, value, pl.concat_str(pl.lit(f"{check.label}: "), words),
                          fs.files[where]),
        file=names[where], field=at.name, label=at.label, severity="error")


@dataclass(frozen=True, slots=True)
class _Values:
    """Values (a row each) of records a check on values found: each one's text, the text
    whose bytes are shown, and its words; what a problem there shows."""

    rows: pl.DataFrame  # value, shown, words
    layout: Layout  # whose bytes the values are shown in

    @classmethod
    def of(cls, rows: pl.DataFrame, value: pl.Expr, shown: pl.Expr, words: pl.Expr,
           layout: Layout) -> _Values:
        """The three, each an expression on ``rows``, copied out of them."""
        return cls(owned(rows.select(value.alias("value"), shown.alias("shown"),
                                     words.cast(pl.String).alias("words"))), layout)

    def __call__(self, i: int) -> tuple[bytes, str | None, str]:
        value, shown, words = self.rows.row(i)
        return _bytes_of(shown, self.layout), value, words

    def texts(self, rows: npt.NDArray[np.intp]) -> tuple[pl.Series, pl.Series]:
        some = self.rows[rows]
        return some["value"], some["words"]


def missing_references(check: SetCheck, rows: pl.DataFrame, fs: FileSet,
                       names: Mapping[str, str]) -> ProblemTable:
    """A reference check's problems: ``rows`` are the records of its field whose value the
    target does not hold (found here, or by a Spark join)."""
    assert check.target is not None  # noqa: S101 -- the loader requires it
    target = _field_of(fs, check.target)
    return _set_rows(check, fs, names, "missing-reference", rows,
                     f"{target.label or target.name}にない値です", _field_of(fs, check.field),
                     check.field[0])


def _raw_of(value: str | None, layout: Layout) -> str:
    """The hex of a value as the layout writes it (for problems found on values)."""
    return _bytes_of(value, layout).hex(" ")


def _bytes_of(value: str | None, layout: Layout) -> bytes:
    """A value's bytes as the layout writes it (UTF-8 where it cannot)."""
    if not value:
        return b""
    # one character (a 外字) at each of its places: remembered, for the built-in
    # encodings (a page defined by a user may be defined again); never a value, which
    # is personal data
    if len(value) == 1 and layout.encoding in ENCODINGS:
        return _remembered(value, layout.encoding, layout.cp932_duplicates)
    return _encoded(value, layout.encoding, layout.cp932_duplicates)


def _encoded(value: str, encoding: str, duplicates: str) -> bytes:
    enc = codec_name(encoding)
    try:
        return encode_text(*prepare_for_encoding(pl.Series([value]), enc, duplicates), enc)
    except UnicodeEncodeError:
        return value.encode("utf-8")


#: the same 外字 of a CSV file is encoded again at each of its places (the writer's
#: encoding of one character, through Polars, took 30 µs)
_remembered = lru_cache(maxsize=4096)(_encoded)


@contextlib.contextmanager
def _peeking(source: Source) -> Iterator[Callable[[int, int], bytes | None]]:
    """Read bytes back from a path or a bytes source (an open file cannot be reread):
    a path is opened at the first look, and stays open for the next (opening it for
    each of 70,000 外字 took two thirds of validating the file that held them)."""
    if isinstance(source, bytes):
        yield lambda at, size: source[at:at + size]
        return
    if not isinstance(source, str | Path):
        yield lambda _at, _size: None
        return
    handle: list[BinaryIO] = []

    def peek(at: int, size: int) -> bytes | None:
        if not handle:
            handle.append(Path(source).open("rb"))  # noqa: SIM115 -- closed below
        handle[0].seek(at)
        return handle[0].read(size)

    try:
        yield peek
    finally:
        for fh in handle:
            fh.close()


def _characters(frame: pl.DataFrame, fields: Iterable[Field], layout: Layout,
                repertoire: Repertoire | None, file: str, found: Report,
                report: Report, peek: Callable[[int, int], bytes | None]) -> None:
    """外字 (PUA) and characters outside the repertoire, located to the byte: the regex
    scan is whole-column; Python looks only at the values it flags."""
    enc = codec_name(layout.encoding)
    hits: list[tuple[int, int, Field, str, Repertoire | None]] = []
    chosen = [(f, f.repertoire or layout.repertoire or repertoire) for f in fields
              if f.type in ("text", "code") and f.name in frame.columns]
    # the core says in bulk which columns may hold a 外字 (nearly none do): the regular
    # expression, which finds the rows, scans those alone (it took 0.68 s of the 1.67 s
    # validating the benchmark's million records, each of its 13 text columns scanned)
    held = private_use_columns(frame, [f.name for f, _ in chosen])
    chosen = [(f, rep) for f, rep in chosen if rep or f.name in held]
    # every column's scan in one select, which Polars spreads over its threads
    scans = frame.select(
        ((pl.col(f.name).str.contains(PUA) if f.name in held else pl.lit(value=False)) | (
            pl.col(f.name).str.contains(_outside_pattern(rep)) if rep else pl.lit(False)))
        .fill_null(value=False).alias(f.name) for f, rep in chosen)
    for f, rep in chosen:
        rows = np.flatnonzero(scans[f.name].to_numpy())
        if not len(rows):
            continue
        col = frame[f.name]
        values = col.gather(rows).to_list()
        records = frame["_record"].gather(rows).to_list()
        starts = frame["_offset"].gather(rows).to_list()
        shift = f.offset if layout.format == "fixed" else 0
        hits += [(record, start + shift, f, value, rep)
                 for value, record, start in zip(values, records, starts, strict=True)]
    # in file order, so that the inventory's first locations are the file's first ones
    for record, base, f, value, rep in sorted(hits, key=lambda h: (h[0], h[1])):
        allowed = repertoire_chars(rep) if rep else None
        _one_value(value, f, rep, allowed, base, record, file, enc, layout, found, report,
                   peek)


def _one_value(value: str, f: Field, rep: Repertoire | None, allowed: frozenset[str] | None,
               base: int, record: int, file: str, enc: str, layout: Layout, found: Report,
               report: Report, peek: Callable[[int, int], bytes | None]) -> None:
    gaiji_at = outside_at = None
    field_bytes: bytes | None = None  # read once, at the value's first hit
    for k, ch in enumerate(value):
        pua = is_private_use(ch)
        if not pua and (allowed is None or ch in allowed or ch < " " or ch == "\x7f"):
            continue
        if layout.format == "fixed" and field_bytes is None:
            field_bytes = peek(base, f.length)
        offset, width = char_span(value, k, enc, f.shift, field_bytes) \
            if layout.format == "fixed" else (0, 0)
        at = base + offset
        reason = "外字(私用領域)" if pua else f"{_REPERTOIRE_NAMES[rep or 'cp932']}にない文字"
        # the bytes as they are in the file (CP932 has two spellings of some characters)
        real = field_bytes[offset:offset + width] if field_bytes is not None and width \
            else None
        raw = real.hex(" ") if real else _raw_of(ch, layout)
        # true 外字 (to identify) and characters outside the repertoire (to replace or
        # accept) are different work: two inventories
        inventory = report.gaiji if pua else report.outside
        entry = inventory.get(ch)
        if entry is None:
            entry = inventory[ch] = GaijiEntry(char=ch, raw=raw, reason=reason)
        entry.forms[raw] += 1
        entry.count += 1
        entry.fields[f.name] += 1
        if len(entry.first) < GAIJI_LOCATIONS:
            entry.first.append((file, record, at, f.name))
        if pua and gaiji_at is None:
            gaiji_at = (at, ch, raw)
        if not pua and outside_at is None:
            outside_at = (at, ch, raw)
    for where, code, severity, text in (
            (gaiji_at, "gaiji", "warning", "外字があります(文字同定が必要です)"),
            (outside_at, "outside-repertoire", "error",
             f"{_REPERTOIRE_NAMES[rep or 'cp932']}の範囲外の文字があります")):
        if where is not None:
            at, ch, raw = where
            found.add(Problem(code=code, severity=severity,  # type: ignore[arg-type]
                              message=f"{text}: {ch} (U+{ord(ch):04X})", file=file,
                              record=record, offset=at, field=f.name, label=f.label,
                              raw=raw, value=value))


def _duplicates(keys: pl.DataFrame, layout: Layout, file: str, found: Report) -> None:
    """The layout's ``unique`` key must not repeat within a file."""
    cols = list(layout.unique)
    complete = keys.filter(pl.all_horizontal(pl.col(cols).is_not_null()))
    marked = complete.with_columns(
        pl.col("_record").first().over(cols).alias("_first"),
        pl.struct(cols).is_first_distinct().alias("_is_first"))
    labels = "+".join(next((f.label or f.name for k in layout.kinds for f in k.fields
                            if f.name == c), c) for c in cols)
    first = next(f for k in layout.kinds for f in k.fields if f.name == cols[0])
    shift = first.offset if layout.format == "fixed" else 0
    repeated = marked.filter(~pl.col("_is_first"))
    if not repeated.height:
        return
    # a table: a key declared wrongly repeats in most records (a Problem and an encoding
    # each took 250 µs: 200,000 repeats took 50 s)
    found.extend(ProblemTable.found(
        codes=("duplicate-key",), code=np.zeros(repeated.height, np.intp),
        record=repeated["_record"].cast(pl.Int64).to_numpy(),
        offset=repeated["_offset"].cast(pl.Int64).to_numpy() + shift,
        detail=_Values.of(repeated, pl.concat_str([pl.col(c).cast(pl.String) for c in cols],
                                                  separator=" "),
                          pl.col(cols[0]).cast(pl.String),
                          pl.concat_str(pl.lit(f"{labels}が記録"), pl.col("_first").cast(pl.String),
                                        pl.lit("と重複しています")), layout),
        file=file, field=cols[0], label=labels, severity="error"))


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
        elif is_private_use(ch):
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
    if p.code in ("gaiji", "outside-repertoire") or not p.raw:
        raw = p.raw
    else:
        size = sum(1 for part in p.raw.split() if part != "…")
        raw = f"<{size}+ bytes>" if p.raw.endswith("…") else f"<{size} bytes>"
    return replace(p, value=shape(p.value), raw=raw)
