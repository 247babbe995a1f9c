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

from chukan import _core
from chukan._arrow import (
    constant,
    hex_rows,
    owned,
    private_use_columns,
    string_series,
    text_column,
)
from chukan._files import gathered, rereading
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
    encoding_of,
    is_private_use,
    iter_fields,
    load_file_set,
    load_layout,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    import numpy.typing as npt

    from chukan._files import Reread
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
    report.extend(table.masked(MASK) if mask else table)
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
    with rereading(source) as reread:
        for kind_name, frame in located_batches(source, lay, report=found,
                                                batch_size=opts.batch_size):
            if opts.progress is not None:
                opts.progress(frame.height)
            kind = lay.kind(kind_name)
            _characters(frame, kind.fields, lay, opts.repertoire, name, found, report,
                        reread)
            if lay.unique and set(lay.unique) <= set(frame.columns):
                keys.append(frame.select(*lay.unique, "_record", "_offset"))
            if collect and set(collect) <= set(frame.columns):
                kept.append(frame.select(*collect, "_record", "_offset"))
    if keys:
        _duplicates(pl.concat(keys), lay, name, found)
    report.records_read += found.records_read
    problems = found.table().with_file(name).in_file_order()
    report.absorb(found, problems.masked(MASK) if opts.mask else problems, file=name)
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


def _characters(frame: pl.DataFrame, fields: Iterable[Field], layout: Layout,
                repertoire: Repertoire | None, file: str, found: Report,
                report: Report, reread: Reread | None) -> None:
    """外字 (PUA) and characters outside the repertoire, located to the byte, by column:
    the scan finds the values that hold one, their characters are laid out a row each
    and placed (:func:`_placed`), and the inventories and problems are counted from
    them in file order; Python looks only at each distinct character."""
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
    hits = []
    for i, (f, rep) in enumerate(chosen):
        rows = frame.filter(scans[f.name]).select(
            record=pl.col("_record").cast(pl.Int64),
            base=pl.col("_offset").cast(pl.Int64) + (f.offset if layout.format == "fixed"
                                                     else 0),
            value=pl.col(f.name).cast(pl.String))
        if rows.height:
            hits.append(_placed(rows, f, i, rep, layout, reread))
    if not hits:
        return
    # in file order (fields in the layout's order at one place: a CSV record's), so that
    # the inventory's first locations are the file's first ones
    chars = pl.concat(hits).sort("record", "base", "field_at", "k")
    for pua, inventory in ((True, report.gaiji), (False, report.outside)):
        _inventory(chars.filter(pl.col("pua") == pua), inventory, file)
    _char_problems(chars, [f for f, _ in chosen], file, found)


def _placed(rows: pl.DataFrame, f: Field, field_at: int, rep: Repertoire | None,
            layout: Layout, reread: Reread | None) -> pl.DataFrame:
    """The 外字 and characters outside ``rep`` of values of field ``f`` (``rows``: record,
    base offset, value), a row each: its value's row and place (``k``), where it stands
    in the file (``at``) and its bytes there in hex (``raw``; the layout's bytes for it
    where the file's cannot be read again, or in a CSV)."""
    chars = rows.with_row_index("row").with_columns(ch=pl.col("value").str.split("")) \
        .explode("ch").with_columns(k=pl.int_range(pl.len()).over("row"))
    pua = pl.col("ch").str.contains(PUA)
    outside = ~pua & ~pl.col("ch").is_in(_repertoire_series(rep).implode()) & \
        (pl.col("ch") >= " ") & (pl.col("ch") != "\x7f") if rep else pl.lit(False)
    chars = chars.with_columns(pua=pua, outside=outside)
    fixed = layout.format == "fixed"
    raw: npt.NDArray[np.uint8] | None = None  # the fields' bytes, a row each
    if fixed and reread is not None:
        data, at = reread(rows["base"].to_numpy(), np.full(rows.height, f.length, np.int64))
        if (np.diff(at) == f.length).all():
            raw = data.reshape(rows.height, f.length)
    if fixed:
        chars = chars.with_columns(_spans(chars, f, layout, raw))
    else:
        chars = chars.with_columns(offset=pl.lit(0, pl.Int64), width=pl.lit(0, pl.Int64))
    flagged = _unplaced(chars.filter(pl.col("pua") | pl.col("outside")), f, layout)
    # the character's own bytes in the file (CP932 spells some two ways), else the
    # layout's bytes for it
    real = constant(None, flagged.height)
    if raw is not None and flagged.height:
        rows_at = flagged["row"].cast(pl.Int64).to_numpy() * f.length
        data, at = gathered(raw.reshape(-1), rows_at + flagged["offset"].to_numpy(),
                            flagged["width"].to_numpy())
        real = hex_rows(data, at)
    encoded = {c: _raw_of(c, layout) for c in flagged["ch"].unique().to_list()}
    reason = "外字(私用領域)", f"{_REPERTOIRE_NAMES[rep or 'cp932']}にない文字"
    return flagged.select(
        "record", "base", field_at=pl.lit(field_at), field=pl.lit(f.name), k="k", ch="ch",
        pua="pua", at=pl.col("base") + pl.col("offset"),
        raw=pl.when(pl.lit(real) != "").then(pl.lit(real))
        .otherwise(pl.col("ch").replace_strict(encoded, return_dtype=pl.String)),
        value="value", reason=pl.when("pua").then(pl.lit(reason[0])).otherwise(
            pl.lit(reason[1])),
        rep=pl.lit(_REPERTOIRE_NAMES[rep or "cp932"]))


def _spans(chars: pl.DataFrame, f: Field, layout: Layout,
           raw: npt.NDArray[np.uint8] | None) -> list[pl.Expr]:
    """Each character's byte offset and width in its field (:func:`char_span`, by
    column): in a host page from the field's own bytes, where they can be read again
    (null where they do not say: :func:`_unplaced`); else as the layout encodes its
    value."""
    enc = codec_name(layout.encoding)
    if encoding_of(layout.encoding).ebcdic:
        if raw is None:
            return [pl.lit(None, pl.Int64).alias("offset"), pl.lit(None, pl.Int64).alias("width")]
        row, offset, size = _core.char_places(np.ascontiguousarray(raw).reshape(-1),
                                              raw.shape[0], raw.shape[1],
                                              enc.removeprefix("chukan_"), f.shift)
        places = pl.DataFrame({"row": row, "offset": offset, "width": size}).with_columns(
            pl.col("row").cast(pl.UInt32), k=pl.int_range(pl.len()).over("row"))
        placed = chars.select("row", "k").join(places, on=["row", "k"], how="left",
                                                  maintain_order="left")
        return [pl.lit(placed["offset"]).alias("offset"), pl.lit(placed["width"]).alias("width")]
    # a character's bytes do not depend on its neighbours: each distinct one encoded once
    widths = {c: len(c.encode(enc, "replace")) for c in chars["ch"].unique().to_list()}
    width = pl.col("ch").replace_strict(widths, return_dtype=pl.Int64)
    return [(width.cum_sum().over("row") - width).alias("offset"), width.alias("width")]


def _unplaced(flagged: pl.DataFrame, f: Field, layout: Layout) -> pl.DataFrame:
    """Place the characters of a host page's field that its bytes did not (a stream not
    read again; a value beyond its bytes' reading): by encoding their value, as the
    writer would, one by one (none of a file or bytes given whole)."""
    missing = np.flatnonzero(flagged["offset"].is_null().to_numpy())
    if not len(missing):
        return flagged
    enc = codec_name(layout.encoding)
    spans = [char_span(flagged["value"][int(i)], int(flagged["k"][int(i)]), enc, f.shift)
             for i in missing]
    return flagged.with_columns(
        flagged["offset"].scatter(missing, [o for o, _ in spans]),
        flagged["width"].scatter(missing, [w for _, w in spans]))


@cache
def _repertoire_series(rep: Repertoire) -> pl.Series:
    return pl.Series(sorted(repertoire_chars(rep)), dtype=pl.String)


def _inventory(chars: pl.DataFrame, inventory: dict[str, GaijiEntry], file: str) -> None:
    """Count characters (``chars``, in file order) into an inventory: occurrences, byte
    forms and fields in the order first met, and the first locations."""
    if not chars.height:
        return
    forms = chars.group_by("ch", "raw", maintain_order=True).len()
    fields = chars.group_by("ch", "field", maintain_order=True).len()
    first = chars.group_by("ch", maintain_order=True).head(GAIJI_LOCATIONS)
    by_char: dict[str, tuple[list[tuple[str, int]], list[tuple[str, int]],
                             list[tuple[str | None, int, int, str]]]] = {
        c: ([], [], []) for c in chars["ch"].unique(maintain_order=True).to_list()}
    for ch, raw, n in forms.iter_rows():
        by_char[ch][0].append((raw, n))
    for ch, name, n in fields.iter_rows():
        by_char[ch][1].append((name, n))
    for ch, record, at, name in first.select("ch", "record", "at", "field").iter_rows():
        by_char[ch][2].append((file, record, at, name))
    reasons = dict(chars.group_by("ch", maintain_order=True).agg(pl.col("reason").first())
                   .iter_rows())
    for ch, (raws, names, places) in by_char.items():  # (a distinct character each)
        entry = inventory.get(ch)
        if entry is None:
            entry = inventory[ch] = GaijiEntry(char=ch, raw=raws[0][0], reason=reasons[ch])
        entry.forms.update(dict(raws))
        entry.count += sum(n for _, n in raws)
        entry.fields.update(dict(names))
        entry.first += places[:GAIJI_LOCATIONS - len(entry.first)]


def _char_problems(chars: pl.DataFrame, fields: list[Field], file: str,
                   found: Report) -> None:
    """A value's first 外字 and first character outside the repertoire: a problem each
    (its character, place and bytes; the value), a table per field, in file order."""
    first = chars.group_by("record", "base", "field_at", "pua", maintain_order=True) \
        .first().sort("record", "base", "field_at", pl.col("pua").not_())
    points = {c: f"U+{ord(c):04X}" for c in first["ch"].unique().to_list()}
    words = pl.concat_str(
        pl.when("pua").then(pl.lit("外字があります(文字同定が必要です)"))
        .otherwise(pl.col("rep") + "の範囲外の文字があります"),
        pl.lit(": "), pl.col("ch"), pl.lit(" ("),
        pl.col("ch").replace_strict(points, return_dtype=pl.String), pl.lit(")"))
    first = first.with_columns(words=words, order=pl.int_range(pl.len()))
    tables, order = [], []
    for (at,), rows in first.group_by("field_at", maintain_order=True):
        f = fields[int(at)]
        tables.append(ProblemTable.found(
            codes=("outside-repertoire", "gaiji"), code=rows["pua"].cast(pl.Int64).to_numpy()
            .astype(np.intp), record=rows["record"].to_numpy(), offset=rows["at"].to_numpy(),
            detail=_CharBytes(owned(rows.select("value", "raw", "words"))), file=file,
            field=f.name, label=f.label))
        order.append(rows["order"].to_numpy())
    table = ProblemTable.of(tables)
    found.extend(table.take(np.argsort(np.concatenate(order), kind="stable")))


@dataclass(frozen=True, slots=True)
class _CharBytes:
    """Values holding a 外字 or a character outside the repertoire (a row each), that
    character's bytes (hex) and the words: what a problem there shows."""

    rows: pl.DataFrame  # value, raw, words

    def __call__(self, i: int) -> tuple[bytes, str | None, str]:
        value, raw, words = self.rows.row(i)
        return bytes.fromhex(raw), value, words

    def texts(self, rows: npt.NDArray[np.intp]) -> tuple[pl.Series, pl.Series]:
        some = self.rows[rows]
        return some["value"], some["words"]


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
        kind = _SHAPES[_shape_of(ch)]
        runs[kind] = runs.get(kind, 0) + 1
    return "[" + " ".join(f"{k}{n}" for k, n in runs.items()) + "]"


#: the classes of characters a shape counts
_SHAPES = ("数字", "英字", "記号", "半角カナ", "外字", "全角", "その他")


def _shape_of(ch: str) -> int:
    """A character's class in a shape (an index into ``_SHAPES``)."""
    if "0" <= ch <= "9":
        return 0
    if ch.isascii():
        return 1 if ch.isalpha() else 2
    if "\uff61" <= ch <= "\uff9f":
        return 3
    if is_private_use(ch):
        return 4
    return 5 if unicodedata.east_asian_width(ch) in "WF" else 6


def shapes(values: pl.Series) -> pl.Series:
    """:func:`shape` of each value, in the core (a masked reject file's values); null
    stays null.

    >>> shapes(pl.Series(["髙①ｱ9", "", None])).to_list()
    ['[全角1 その他1 半角カナ1 数字1]', '[]', None]
    """
    (text, starts), valid = _core.shapes(text_column(values), len(values), _shape_table(),
                                         list(_SHAPES))
    return string_series(len(values), starts, text, valid)


@cache
def _shape_table() -> npt.NDArray[np.uint8]:
    """Every code point's class (:func:`_shape_of`), for the core: made once, when a
    column is first masked (0.5 s)."""
    table = np.fromiter((_shape_of(chr(c)) if not 0xD800 <= c < 0xE000 else 6
                         for c in range(0x110000)), np.uint8, 0x110000)
    table.flags.writeable = False
    return table


class _Masking:
    """A problem without personal data: values become their shape, raw bytes their
    length (a 外字's own bytes are kept: they identify a character, not a person). A
    table's problems are masked as each is shown (:meth:`ProblemTable.masked`)."""

    def __call__(self, p: Problem, /) -> Problem:
        """The problem masked."""
        if p.code in ("gaiji", "outside-repertoire") or not p.raw:
            raw = p.raw
        else:
            size = sum(1 for part in p.raw.split() if part != "…")
            raw = f"<{size}+ bytes>" if p.raw.endswith("…") else f"<{size} bytes>"
        return replace(p, value=shape(p.value), raw=raw)

    def values(self, values: pl.Series) -> pl.Series:
        """Values as their shapes, in the core."""
        return shapes(values)


#: what ``validate(mask=True)`` shows of each problem
MASK = _Masking()
