"""Writing DataFrames as fixed-width or CSV files, byte-exactly and never truncating.

Values are padded by *bytes in the target encoding*; a value that does not fit is a
``width-overflow`` problem (raised, or collected in a report), never cut, so a
double-byte character is never split. Output goes to a temporary file that replaces the
target only when everything was written (see :mod:`chukan._files`).

>>> import tempfile, pathlib
>>> from chukan.read import read
>>> src = "fixtures/vendor-a/juki-kojin.dat"
>>> out = pathlib.Path(tempfile.mkdtemp()) / "copy.dat"
>>> write(read(src, "examples/vendor-a/juki-kojin"), out, "examples/vendor-a/juki-kojin")
5
>>> out.read_bytes() == pathlib.Path(src).read_bytes()
True
"""

from __future__ import annotations

import io
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import numpy as np
import polars as pl

from chukan import _core
from chukan._arrow import as_text, owned, present_rows, text_column, true_rows
from chukan._csv import BARE_CR_RE, CONTROL_RE
from chukan._files import OutputSet, sync_so_far
from chukan._formula import GUARDED_TYPES, guard
from chukan._threads import submit, thread_count
from chukan.codec import (
    CHECK_FAILURES,
    CORE_ENCODINGS,
    FAST_DATE_FORMATS,
    HALF_CHARS,
    LOOKALIKES,
    REPLACEMENT_MESSAGE,
    Failure,
    FormatCheck,
    date_bytes,
    encodable,
    encode_table,
    encode_text,
    era_codes,
    era_table,
    fill_partial,
    format_expr,
    from_ascii,
    lookalike_message,
    lookalikes,
    needs_markers,
    number_bytes,
    pack_packed,
    prepare_for_encoding,
    select_checked,
    text_check,
    unknown_code_message,
    unscaled_values,
    writer_codes,
    writer_table,
)
from chukan.errors import DataError, UsageError
from chukan.read import check_columns
from chukan.report import Problem, ProblemTable, Report, by_place, first_error
from chukan.spec import (
    UTF8_BOM,
    Encoding,
    Field,
    Layout,
    RecordKind,
    codec_name,
    encoding_of,
    load_layout,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import numpy.typing as npt

    from chukan._core import Refused
    from chukan.report import Findings

#: Rows formatted at once: bounds memory on large frames.
_SLICE = 200_000
#: Rows of a UTF-8 CSV formatted at once by the core.
_CSV_SLICE = 50_000
#: The most rows a CSV writer formats at once as it checks them (a converter's batch):
#: their text is held whole before it is written.
_ONE_PASS_ROWS = 100_000


def write(df: pl.DataFrame, path: str | Path, layout: Layout | str | Path, *,
          record: str | None = None, report: Report | None = None,
          progress: Callable[[int], None] | None = None) -> int:
    """Write ``df`` to ``path`` in ``layout``; returns the number of records written.

    Without ``report`` the first problem raises :class:`~chukan.DataError` and nothing is
    written; with one, problems are collected and offending values written as padding.
    ``progress`` is called with the number of records of each slice written.
    """
    lay = load_layout(layout) if not isinstance(layout, Layout) else layout
    if lay.is_multi and record is None:
        msg = "a multi-record layout is written with write_records()"
        raise UsageError(msg)
    kind = lay.kind(record)
    check_columns(df, lay, kind)
    problems: Findings = []
    df = _as_dates(df, lay, kind, problems)
    with OutputSet([path]) as (fh,):
        if lay.encoding == "utf-8-sig":
            fh.write(UTF8_BOM)
        if lay.format == "csv":
            _write_csv(df, fh, lay, problems)
        else:
            _write_fixed(df, fh, lay, kind, problems, progress)
        if lay.eof_marker:
            fh.write(b"\x1a")
        _settle(problems, report, df.height)
    return df.height


def _write_fixed(df: pl.DataFrame, fh: BinaryIO, layout: Layout, kind: RecordKind,
                 problems: Findings, progress: Callable[[int], None] | None, *,
                 at_start: bool = True) -> None:
    """Format slices of rows one after the other on a worker thread, while this one
    writes the slice before and syncs it to disk (the core spreads each slice over every
    core: two slices at once only made them wait for each other). ``at_start``: the
    first row is the file's first record (see :func:`_leading_bom`)."""
    starts = iter(range(0, max(df.height, 1), _SLICE))
    # two slices' records, formatted into in turn: one is written while the other is
    # formatted. Fresh memory for each slice cost the kernel's zeroing of every page
    # (a tenth of writing), and a worker running ahead held every slice at once
    buffers = [np.empty((min(_SLICE, df.height), layout.stride), dtype=np.uint8)
               for _ in range(2 if df.height > _SLICE else 1)]

    def work(start: int, out: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], Findings]:
        found: Findings = []
        part = df.slice(start, _SLICE)
        return _fixed_matrix(part, layout, kind, start, found, out[:part.height],
                             opening=0 if start == 0 and at_start and part.height else None
                             ), found

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chukan-write") as pool:
        # (the buffers first: zip then takes no start it cannot pair)
        pending = deque((submit(pool, work, start, out), out)
                        for out, start in zip(buffers, starts, strict=False))
        try:
            while pending:
                future, out = pending.popleft()
                matrix, found = future.result()
                problems.extend(found)
                fh.write(matrix.data)
                sync_so_far(fh)
                if progress is not None:
                    progress(matrix.shape[0])
                start = next(starts, None)
                if start is not None:  # into the buffer just written
                    pending.append((submit(pool, work, start, out), out))
        finally:  # on an error (or Ctrl-C) the slice not yet started is not started
            for future, _ in pending:
                future.cancel()


def write_records(frames: Mapping[str, pl.DataFrame], path: str | Path,
                  layout: Layout | str | Path, *, report: Report | None = None) -> int:
    """Write a multi-record file from one DataFrame per record kind.

    Records are written in the order of their ``_record`` column when every frame has
    one (as :func:`chukan.read_records` gives them), otherwise kind after kind.
    """
    lay = load_layout(layout) if not isinstance(layout, Layout) else layout
    names = [k.name for k in lay.kinds]
    unknown = sorted(set(frames) - set(names))
    if unknown:
        msg = f"no record kind named {', '.join(unknown)} in {lay.name} ({', '.join(names)})"
        raise UsageError(msg)
    problems: Findings = []
    parts = [(kind, frames[kind.name]) for kind in lay.kinds
             if kind.name in frames and frames[kind.name].height]
    # where each record lands in the file: by _record when every frame has it
    ordered = bool(parts) and all("_record" in df.columns for _, df in parts)
    keys = np.concatenate([df["_record"].to_numpy() if ordered else
                           np.zeros(df.height, dtype=np.int64) for _, df in parts]) \
        if parts else np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    mats: list[npt.NDArray[np.uint8]] = []
    done = 0
    for kind, given in parts:
        check_columns(given, lay, kind)
        found: Findings = []
        df = _as_dates(given, lay, kind, found)
        # the row of this kind that is the file's first record, if one is
        opening = np.flatnonzero(position[done:done + df.height] == 0)
        mats.append(_fixed_matrix(df, lay, kind, 0, found,
                                  opening=int(opening[0]) if len(opening) else None))
        _check_record_type(df, lay, kind, found)
        # problems name the record's place in the file, not its row in the kind's frame
        at = position[done:done + df.height]
        problems.extend(_moved(p, at, lay.stride) for p in found)
        done += df.height
    matrix = np.concatenate(mats)[order] if mats else \
        np.empty((0, lay.stride), dtype=np.uint8)
    with OutputSet([path]) as (fh,):
        fh.write(np.ascontiguousarray(matrix).data)
        if lay.eof_marker:
            fh.write(b"\x1a")
        _settle(problems, report, matrix.shape[0])
    return int(matrix.shape[0])


def _moved(p: Problem | ProblemTable, at: npt.NDArray[np.int64], stride: int
           ) -> Problem | ProblemTable:
    """A problem (or a table of them) at a row of a kind's frame, at its record in the
    file: the ``at[row]``-th."""
    if isinstance(p, Problem):
        return p if p.record is None else replace(
            p, record=int(at[p.record - 1]) + 1,
            offset=int(at[p.record - 1]) * stride + (p.offset or 0) % stride)
    has = p.record > 0
    where = at[np.where(has, p.record - 1, 0)]
    return p.moved(np.where(has, where + 1, p.record),
                   np.where(has, where * stride + np.maximum(p.offset, 0) % stride, p.offset))


def _as_dates(df: pl.DataFrame, layout: Layout, kind: RecordKind, problems: Findings
              ) -> pl.DataFrame:
    r"""``df`` with a Date column for each date field: a Datetime's date where it has no
    time of day (a time would be lost: ``bad-date``), a text's ``YYYY-MM-DD`` (anything
    else is ``bad-date``); each refused value becomes null, to be written as padding.
    Another type is a :class:`~chukan.UsageError`: nothing in it is a date.

    >>> from chukan.spec import loads_layout
    >>> lay = loads_layout('[layout]\nname = "t"\nformat = "csv"\nencoding = "utf-8"\n'
    ...                    '[[field]]\nname = "d"\nlength = 8\ntype = "date"')
    >>> from chukan.report import made
    >>> found = []
    >>> _as_dates(pl.DataFrame({"d": ["2024-01-05", "5/1/2024", None]}), lay, lay.kind(),
    ...           found)["d"].to_list()
    [datetime.date(2024, 1, 5), None, None]
    >>> [(p.record, p.code, p.value) for p in made(found)]
    [(2, 'bad-date', '5/1/2024')]
    """
    changed: list[pl.Series] = []
    for f in kind.fields:
        if f.type != "date" or f.format in ("YYYYMM", "YYYY-MM"):  # (those are text)
            continue
        values = df[f.name]
        if values.dtype == pl.Date:
            continue
        if values.dtype == pl.Null:  # all null: a Date column, as every kernel takes it
            changed.append(values.cast(pl.Date))
            continue
        if isinstance(values.dtype, pl.Datetime):
            dates = values.dt.date()
            # (truncated in its own time zone: a Tokyo midnight is no time of day)
            bad = values != values.dt.truncate("1d")
            message = "時刻のある値は日付項目に書けません"
        elif values.dtype == pl.String:
            dates = values.str.to_date("%Y-%m-%d", strict=False)
            bad = dates.is_null() & values.is_not_null() & (values != "")
            message = "日付(YYYY-MM-DD)ではありません"
        else:
            msg = (f"{f.label or f.name} ({f.name}) は日付項目です: Date 型の列を渡してください"
                   f" ({values.dtype} が渡されました)")
            raise UsageError(msg)
        mask = true_rows(bad)
        _report(problems, f, layout, layout.stride, 0, mask, "bad-date", message, values)
        changed.append(dates.set(pl.Series(mask), None) if mask.any() else dates)
    return df.with_columns(changed) if changed else df


def _check_record_type(df: pl.DataFrame, layout: Layout, kind: RecordKind,
                       problems: Findings) -> None:
    """The record-type field of every row must hold its kind's value, or the file would
    read back as another kind."""
    assert layout.record_type is not None  # noqa: S101 -- multi-record layouts have one
    start, length = layout.record_type
    tag = next(f for f in kind.fields if f.start == start and f.length == length)
    values = df[tag.name].cast(pl.String)
    wrong = (values != kind.match).fill_null(value=True).to_numpy()
    message = f"レコード区分は{kind.match!r}({kind.label or kind.name})でなければなりません"
    problems.extend(Problem(code="unknown-record-type", record=int(i) + 1,
                            offset=int(i) * layout.stride + tag.offset, field=tag.name,
                            label=tag.label, value=values[int(i)], message=message)
                    for i in np.flatnonzero(wrong))


def _settle(problems: Findings, report: Report | None, n: int) -> None:
    if report is not None:
        report.records_written += n
        report.extend(by_place(problems))
        return
    first = first_error(problems)
    if first is not None:
        raise DataError(first)


# --------------------------------------------------------------------------------------
# Fixed width


def _pad_bytes(f: Field, encoding: str) -> bytes:
    """The padding of a field, repeated to its width (U+3000 then a space for full-width)."""
    if f.type == "filler":
        return (f.fill * f.length).encode("ascii")
    enc = encoding_of(encoding)
    if enc.ebcdic and f.type in _IN_ASCII:
        return b" " * f.length  # written in ASCII, then translated (_to_ebcdic)
    if f.type == "text" and f.chars == "fullwidth" and f.pad == "\u3000":
        unit = enc.ideographic_space
        whole = unit * (f.length // len(unit))
        return whole + enc.space * (f.length - len(whole))
    return enc.space * f.length


def _fixed_matrix(df: pl.DataFrame, layout: Layout, kind: RecordKind, first_row: int,
                  problems: Findings, out: npt.NDArray[np.uint8] | None = None, *,
                  opening: int | None = None) -> npt.NDArray[np.uint8]:
    """The records of ``df`` as a ``(rows, record + terminator)`` byte matrix (``out``,
    where given): a template row of padding is broadcast, then each field's bytes are
    copied into their columns. ``opening``: the row that is the file's first record
    (see :func:`_leading_bom`)."""
    n, stride = df.height, layout.stride
    template = b"".join(_pad_bytes(f, layout.encoding) for f in kind.fields) + \
        layout.terminator_bytes
    if out is None:
        out = np.empty((n, stride), dtype=np.uint8)
    out[:] = np.frombuffer(template, dtype=np.uint8)
    enc = codec_name(layout.encoding)
    text_fields = [f for f in kind.fields if f.type in ("text", "code", "digits")]
    composed = (enc in CORE_ENCODINGS or layout.charset.ebcdic) and \
        os.environ.get("CHUKAN_KERNEL") != "python"
    if composed:
        # the compiled core checks, encodes and places every text field in one pass
        _compose_texts(df, text_fields, layout, out, first_row, problems)
    else:
        # text, code and digit fields formatted in one select (Polars spreads the columns
        # over its threads); numbers and dates go straight to bytes below
        texts = _formatted(df, text_fields, layout)
    for f in kind.fields:
        if f.type == "filler":
            continue
        if f.required:
            _report(problems, f, layout, stride, first_row, _missing(df, f), "required-missing",
                    "必須項目が空です", df[f.name])
        if composed and f.type in ("text", "code", "digits"):
            continue
        # (an EBCDIC layout's numbers and dates too: spelled in ASCII, then translated)
        if composed and (f.type == "integer" or (f.type == "decimal" and f.storage != "packed")):
            _compose_number(df, f, layout, out, first_row, problems)
            continue
        if composed and f.type == "date" and f.format in FAST_DATE_FORMATS:
            _compose_date(df, f, layout, out, first_row, problems)
            continue
        region = out[:, f.offset:f.end]
        if f.type == "decimal" and f.storage == "packed":
            shown = df[f.name]
            # rounding and 19 digits or more are refused first, as for the other numbers
            values, fails = unscaled_values(f, shown)
            limit = 10 ** f.precision
            fails += [Failure(code, message, mask) for mask, code, message in (
                # a packed field has no empty form: a null would silently become zero
                # (a required one was reported just above)
                (~present_rows(shown) & (not f.required), "required-missing",
                 "パック10進数は空にできません"),
                # both bounds, not abs(): the Int64 minimum has no Int64 magnitude
                (true_rows((values >= limit) | (values <= -limit)), "width-overflow",
                 f"{f.precision}桁を超えています"),
                (true_rows(values < 0) & (not f.signed), "not-decimal", "負の値は書けません"),
            ) if mask.any()]
            for x in fails:
                _report(problems, f, layout, stride, first_row, x.mask, x.code, x.message,
                        shown)
            ok = values.fill_null(0).to_numpy().astype(np.int64)
            if fails:  # a refused value is written as zero (a packed field has no padding)
                ok[np.logical_or.reduce([x.mask for x in fails])] = 0
            if composed:  # in place, by the core
                _core.pack_packed(out.reshape(-1), stride, f.offset, f.length, ok, f.signed,
                                  0x0C if (f.positive_sign or "C") == "C" else 0x0F,
                                  thread_count())
            else:
                region[:] = pack_packed(ok, f.length, signed=f.signed,
                                        positive=f.positive_sign)
            continue
        if f.type in ("integer", "decimal", "date"):
            # numbers and dates are formatted straight into ASCII bytes
            mat, present, failures = number_bytes(f, df[f.name]) if f.type != "date" else \
                date_bytes(f, df)
            shown = df[f.name]
            if f.type == "date" and f"{f.name}_partial" in df.columns:  # 不詳: as written
                shown = df.select(pl.coalesce(pl.col(f.name).cast(pl.String),
                                              pl.col(f"{f.name}_partial"))).to_series()
            for x in failures:
                _report(problems, f, layout, stride, first_row, x.mask, x.code, x.message,
                        shown)
            if present.all():
                region[:] = mat
            else:
                region[present] = mat[present]
            continue
        text, failures = texts[f.name]
        text = _drop_failures(text, failures, f, layout, stride, first_row, problems)
        data, lengths = _encode_column(text, f, enc, layout, stride, first_row, problems)
        over = lengths > f.length
        if over.any():
            _report(problems, f, layout, stride, first_row, over, "width-overflow",
                    f"{f.length}バイトに収まりません", text, lengths=lengths)
            keep = np.repeat(~over, lengths)
            data, lengths = data[keep], np.where(over, 0, lengths)
        # the core copies each value into its field, with the GIL released
        _core.place(out.reshape(-1), stride, f.offset, f.length,
                    np.ascontiguousarray(data, dtype=np.uint8),
                    np.ascontiguousarray(lengths, dtype=np.int64))
        if _padded_after(f, layout):
            _pad_after(region, lengths, layout.charset)
    if layout.charset.ebcdic:
        _to_ebcdic(out, kind.fields, layout.encoding)
    if opening is not None and _leading_bom(out[opening].tobytes(), layout):
        # the field at the record's start, whose value begins with U+FEFF: written as
        # padding instead
        f = next(f for f in kind.fields if f.offset == 0)
        _report(problems, f, layout, stride, first_row, np.arange(n) == opening,
                "not-representable", LEADING_BOM_MESSAGE, df[f.name].cast(pl.String))
        out[opening, :f.length] = np.frombuffer(_pad_bytes(f, layout.encoding),
                                                dtype=np.uint8)
    return out


#: why the writer refuses a value that would begin a UTF-8 file with U+FEFF
LEADING_BOM_MESSAGE = ("UTF-8のファイルの先頭にU+FEFFは書けません"
                       "(読み戻すとBOMとみなされ、値から消えます)")


def leading_bom_rows(df: pl.DataFrame, layout: Layout) -> tuple[int, Field | None]:
    r"""How many rows from the start of ``df`` each hold a value that would begin the file
    with U+FEFF (see :func:`_leading_bom`), and in which field, for a writer that
    leaves a refused record out (a conversion), so that the next one begins the file.

    >>> from chukan.spec import loads_layout
    >>> lay = loads_layout('[layout]\nname = "t"\nformat = "csv"\nencoding = "utf-8"\n'
    ...                    'header = false\n[[field]]\nname = "a"\nlength = 4\n'
    ...                    'type = "text"\n')
    >>> values = pl.DataFrame({"a": ["\ufeffx", "\ufeff", "y", "\ufeff"]})
    >>> n, f = leading_bom_rows(values, lay)
    >>> n, f.name
    (2, 'a')
    """
    if layout.encoding != "utf-8" or (layout.format == "csv" and layout.header):
        return 0, None
    fields = [f for f in layout.kind().fields if f.type != "filler"]
    first = fields[0] if layout.format == "csv" and fields else \
        next((f for f in fields if f.offset == 0), None)
    if first is None or first.type not in ("text", "code", "digits") or \
            first.name not in df.columns:
        return 0, None
    lead = df[first.name].cast(pl.String).str.starts_with("\ufeff").fill_null(value=False)
    return (int(lead.arg_min() or 0) if not lead.all() else len(lead)), first


def _leading_bom(start: bytes, layout: Layout) -> bool:
    r"""Whether the bytes that begin a file would read back as a BOM where the layout
    has none: a value at the file's very start beginning with U+FEFF (the readers take
    those bytes for the BOM of a ``utf-8-sig`` file, report ``bom-unexpected``, and
    drop them). A ``utf-8-sig`` file has its own BOM before them, which the readers
    take off alone.

    >>> from chukan.spec import loads_layout
    >>> lay = loads_layout('[layout]\nname = "t"\nformat = "csv"\nencoding = "utf-8"\n'
    ...                    'header = false\n[[field]]\nname = "a"\nlength = 4\n'
    ...                    'type = "text"\n')
    >>> _leading_bom("\ufeffa,1".encode(), lay), _leading_bom(b"a,1", lay)
    (True, False)
    """
    return layout.encoding == "utf-8" and start.startswith(UTF8_BOM)


#: the fields the writer spells in ASCII (and an EBCDIC layout's writer then translates)
_IN_ASCII = ("integer", "decimal", "date", "filler")


def _to_ebcdic(out: npt.NDArray[np.uint8], fields: Sequence[Field], page: str) -> None:
    """Numbers, dates and fillers, spelled in ASCII, into the page's bytes (zoned signs
    too: the ASCII overpunch letters are EBCDIC's zoned bytes)."""
    spans = [(f.offset, f.length) for f in fields
             if f.type in _IN_ASCII and not (f.type == "decimal" and f.storage == "packed")]
    if spans and out.size:  # one pass over the records, in the core
        _core.translate_columns(out.reshape(-1), out.shape[1], spans,
                                from_ascii(page).tobytes(), thread_count())


def _compose_texts(df: pl.DataFrame, fields: list[Field], layout: Layout,
                   out: npt.NDArray[np.uint8], first_row: int, problems: Findings
                   ) -> None:
    """Text, code and digits fields into ``out`` (padding already there) by the core,
    and what it refused reported, each row with the first reason the Python writer
    would give: the character check, a code the table lacks, a lookalike, a control
    character, a character the encoding lacks, too many bytes."""
    enc, stride = codec_name(layout.encoding), layout.stride
    texts = [df[f.name].cast(pl.String) for f in fields]
    specs = [(f.offset, f.length, text_check(f), f.type == "digits") for f in fields]
    # never write a code that reading rejects: the core looks each value up
    codes = [f.table.utf8_codes if f.type == "code" and f.table is not None else None
             for f in fields]
    columns = [text_column(text) for text in texts]
    # an EBCDIC page has its own encoder, with each field's shift mode; the others the
    # writer's table
    ebcdic = layout.charset.ebcdic
    table = None if ebcdic else writer_table(enc, layout.cp932_duplicates,
                                              substitute=layout.substitute_lookalikes)
    # full-width padding counted from each value's end where a character may be longer
    # or shorter than U+3000 (EUC-JP's three-byte characters), as _pad_after pads
    charset = layout.charset
    repads = [(charset.ideographic_space, charset.space[0])
              if not ebcdic and _padded_after(f, layout) else None for f in fields]
    written = _core.compose_text(out.reshape(-1), stride, df.height, specs, columns, table,
                                 page=layout.encoding if ebcdic else None,
                                 shifts=[f.shift for f in fields] if ebcdic else None,
                                 codes=codes, threads=thread_count(), repads=repads)
    for f, w, text in zip(fields, written, texts, strict=True):
        check = text_check(f)
        refused = _refusals(w, df.height)
        # each row with the reasons the Python writer gives, in its order
        reasons = [
            (refused.get("class"), *CHECK_FAILURES.get(check, ("", ""))),
            (refused.get("short"), "not-digits", f"{f.length}桁ではありません(前ゼロは補いません)"),
            (refused.get("unknown"), "unknown-code",
             unknown_code_message(f.table) if f.table is not None else ""),
            # (a digits value holding one has failed its check: that is its reason)
            (refused.get("lookalike") if f.type != "digits" else None, "not-representable",
             lookalike_message(enc)),
            (refused.get("control"), "control-char", "制御文字は書けません"),
            (refused.get("unencodable"), "not-representable", _unencodable_message(f, layout)),
        ]
        for mask, code, message in reasons:
            if mask is not None and mask.any():
                _report(problems, f, layout, stride, first_row, mask, code, message, text)
        if "overflow" in refused:
            lengths = np.zeros(df.height, dtype=np.int64)
            lengths[w["rows"]] = w["lengths"]
            _report(problems, f, layout, stride, first_row, refused["overflow"],
                    "width-overflow", f"{f.length}バイトに収まりません", text, lengths=lengths)


#: the bits of the core's reasons for a row it did not write (``compose::reason``)
_REFUSALS = {"class": 1, "short": 2, "lookalike": 4, "control": 8, "unencodable": 16,
             "overflow": 32, "unknown": 64}


def _refusals(written: _core.Written, n: int) -> dict[str, npt.NDArray[np.bool_]]:
    """The core's refused rows as a mask per reason, for the reasons some row has: the
    core returns only those rows, so that a clean column costs nothing here.

    >>> rows, reasons = np.array([1, 3]), np.array([1 | 32, 8], dtype=np.uint8)
    >>> found = _refusals({"rows": rows, "reasons": reasons, "lengths": rows}, 4)
    >>> {k: m.tolist() for k, m in found.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'class': [False, True, False, False], 'control': [False, False, False, True],
     'overflow': [False, True, False, False]}
    """
    masks = {}
    for name, bit in _REFUSALS.items():
        hit = (written["reasons"] & bit) != 0
        if hit.any():
            mask = np.zeros(n, dtype=np.bool_)
            mask[written["rows"][hit]] = True
            masks[name] = mask
    return masks


def _unencodable_message(f: Field, layout: Layout) -> str:
    """What to say of a value holding a character the encoding cannot write (in an
    EBCDIC field, a character of the wrong width counts too)."""
    kind = ""
    if layout.charset.ebcdic:
        kind = "(グラフィック項目は全角文字のみ)" if f.shift == "graphic" else \
            "(シフトのない項目は1バイト文字のみ)" if f.shift == "none" else ""
    return f"{layout.encoding}で表せない文字があります{kind}"


def _compose_number(df: pl.DataFrame, f: Field, layout: Layout, out: npt.NDArray[np.uint8],
                    first_row: int, problems: Findings) -> None:
    """An integer or display / zoned decimal field written into ``out`` by the core, and
    its refused rows reported as the Python writer (:func:`number_bytes`) reports them."""
    values = df[f.name]
    ints, fails = unscaled_values(f, values)  # (the rows it refuses are null: padding)
    present = present_rows(ints)
    style = ("spaced" if f.pad == " " else "zero-padded") if f.type == "integer" else \
        "signed-display" if f.signed and f.storage == "display" else \
        "zoned" if f.signed else "digits"
    w = _core.compose_numbers(out.reshape(-1), layout.stride, f.offset, f.length, style,
                              f.signed, ints.fill_null(0).to_numpy().astype(np.int64),
                              present, thread_count())
    too_many = f"{f.length}桁に収まりません"
    fails += [Failure(code, message, mask) for mask, code, message in (
        (w["lowest"], "width-overflow", too_many),
        (w["negative"], "not-integer" if f.type == "integer" else "not-decimal",
         "負の値は書けません"),
        (w["overflow"], "width-overflow", too_many)) if mask.any()]
    for x in fails:
        _report(problems, f, layout, layout.stride, first_row, x.mask, x.code, x.message,
                values)


def _compose_date(df: pl.DataFrame, f: Field, layout: Layout, out: npt.NDArray[np.uint8],
                  first_row: int, problems: Findings) -> None:
    """A date field written into ``out`` by the core (its 不詳 values by
    :func:`fill_partial`), its refused rows reported as :func:`date_bytes` reports them."""
    date = df[f.name].cast(pl.Date)
    present = present_rows(date)
    failed = _core.compose_dates(
        out.reshape(-1), layout.stride, f.offset,
        (f.format or "YYYYMMDD", f.pivot or 0, list(era_codes(f)), list(writer_codes(f))),
        era_table(), date.cast(pl.Int32).fill_null(0).to_numpy().astype(np.int64), present,
        thread_count())
    fails = [Failure("era-range" if f.format in ("GYYMMDD", "GGYYMMDD") else "bad-date",
                     "この形式で書けない日付です", failed)] if failed.any() else []
    # 不詳 values into the rows the core left (their field of ``out``, through a view)
    fails += fill_partial(f, df, out[:, f.offset:f.end], present & ~failed)
    fails = [x for x in fails if x.mask.any()]
    if not fails:
        return  # (the values shown are made only for a report: a cast of every date)
    shown = df[f.name]
    if f"{f.name}_partial" in df.columns:  # 不詳: as written
        shown = df.select(pl.coalesce(pl.col(f.name).cast(pl.String),
                                      pl.col(f"{f.name}_partial"))).to_series()
    for x in fails:
        _report(problems, f, layout, layout.stride, first_row, x.mask, x.code, x.message,
                shown)


def _with_values(df: pl.DataFrame, fields: list[Field]) -> list[str]:
    """The columns of ``df`` but the 不詳 parts of dates (``<date>_partial``) that hold no
    value in it: a date's format then has nothing to check or write from one (a batch
    seldom has any, and Polars worked through each row of the 不詳 branches even so).

    >>> from chukan.codec._base import _f
    >>> df = pl.DataFrame({"d": [None], "d_partial": [None], "x_partial": [None]},
    ...                   schema_overrides={"d": pl.Date})
    >>> _with_values(df, [_f("date", 8)]), _with_values(df[:0], [_f("date", 8)])
    (['d', 'x_partial'], ['d', 'x_partial'])
    >>> _with_values(df.with_columns(d_partial=pl.lit("1950-00-00")), [_f("date", 8)])
    ['d', 'd_partial', 'x_partial']
    """
    empty = {f"{f.name}_partial" for f in fields if f.type == "date"} & {
        c for c, n in zip(df.columns, df.null_count().row(0), strict=True) if n == df.height}
    return [c for c in df.columns if c not in empty]


def _formatted(df: pl.DataFrame, fields: list[Field], layout: Layout
               ) -> dict[str, tuple[pl.Series, list[Failure]]]:
    """Each field's fixed-width text and the checks it failed, from one ``select``."""
    exprs: list[pl.Expr] = []
    checks: list[FormatCheck] = []
    owners: list[str] = []  # the field of each check
    columns = _with_values(df, fields)
    for f in fields:
        text, fails = _text_expr(f, columns, layout, fixed=True, dtype=df.schema.get(f.name))
        exprs.append(text.alias(f.name))
        checks += fails
        owners += [f.name] * len(fails)
    out, failed = select_checked(df, exprs, checks)
    found: dict[str, tuple[pl.Series, list[Failure]]] = {f.name: (out[f.name], [])
                                                          for f in fields}
    for k, failure in failed.items():
        found[owners[k]][1].append(failure)
    return found


def _text_expr(f: Field, columns: list[str], layout: Layout, *, fixed: bool,
               classes: bool = True, dtype: pl.DataType | None = None
               ) -> tuple[pl.Expr, list[FormatCheck]]:
    """A field's text as written and its checks (the character check only with
    ``classes``); text that the encoding would read back as another character (〜 in
    CP932) is refused or, if the layout says so, substituted."""
    text, fails = format_expr(f, columns, fixed=fixed, classes=classes, dtype=dtype)
    if f.type in ("text", "code"):
        text, more = lookalikes(text, codec_name(layout.encoding),
                                substitute=layout.substitute_lookalikes)
        fails = [*fails, *more]
    return text, fails


def _missing(df: pl.DataFrame, f: Field) -> npt.NDArray[np.bool_]:
    """Rows where a field is empty: null, an empty string, or a date with no 不詳 value."""
    return true_rows(df.select(_missing_expr(df, f)).to_series())


def _missing_expr(df: pl.DataFrame, f: Field) -> pl.Expr:
    """:func:`_missing` as an expression, for writers that check in one ``select``."""
    value = pl.col(f.name)
    empty = value.is_null()
    if df.schema[f.name] == pl.String:
        empty |= value == ""
    partial = f"{f.name}_partial"
    if f.type == "date" and partial in df.columns:
        empty &= pl.col(partial).is_null() | (pl.col(partial) == "")
    return empty.fill_null(value=True)


def _padded_after(f: Field, layout: Layout) -> bool:
    """Whether a field's padding is counted from its value's end: a full-width field
    padded with U+3000 in an encoding whose characters are not all as long as it."""
    return f.type == "text" and f.chars == "fullwidth" and f.pad == "\u3000" and \
        not layout.charset.paired and f.shift != "graphic"


def _pad_after(region: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int64],
               enc: Encoding) -> None:
    """Full-width padding counted from each value's end, for encodings whose characters
    are not all as long as U+3000 (UTF-8: × is two bytes; EUC-JP: 丂 is three): as many
    whole U+3000 as fit, then spaces."""
    unit = enc.ideographic_space
    w, size = region.shape[1], len(unit)
    pos = np.arange(w) - lengths[:, None]  # position from each value's end
    room = (w - lengths) // size * size
    region[(pos >= 0)] = enc.space[0]
    for k, byte in enumerate(unit):
        region[(pos >= 0) & (pos < room[:, None]) & (pos % size == k)] = byte


def _drop_failures(text: pl.Series, failures: list[Failure], f: Field, layout: Layout,
                   stride: int, first_row: int, problems: Findings) -> pl.Series:
    for x in failures:
        _report(problems, f, layout, stride, first_row, x.mask, x.code, x.message, text)
        text = text.set(pl.Series(x.mask), None)
    return text


def _encode_column(text: pl.Series, f: Field, enc: str, layout: Layout, stride: int,
                   first_row: int, problems: Findings
                   ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Bytes of every value (concatenated) and each value's byte length."""
    text = text.fill_null("")
    data, offsets = _utf8_buffers(text)
    # control characters are not data (and 0x01–0x04 would pass for duplicate markers)
    if len(data) and (data.min() < 0x20 or (data == 0x7F).any()):
        return _encode_column(_drop_control(text, f, layout, stride, first_row, problems),
                              f, enc, layout, stride, first_row, problems)
    if layout.charset.ebcdic:
        # the core, from its tables: shift codes placed, a graphic field in double bytes
        buf, lengths, bad = _core.encode_ebcdic(np.ascontiguousarray(data), offsets,
                                                layout.encoding, f.shift)
        if bad.any():
            _report(problems, f, layout, stride, first_row, bad, "not-representable",
                    _unencodable_message(f, layout), text)
        return buf, lengths
    if not len(data) or data.max() < 0x80:
        # ASCII: the UTF-8 bytes Polars already holds are the output bytes
        return data, np.diff(offsets)
    # (the core's encodings never come here: their fields are composed in the core)
    if enc == "utf-8":  # the one encoding that has U+FFFD, which reads as invalid bytes
        replaced = text.str.contains("\ufffd", literal=True)
        if replaced.any():
            _report(problems, f, layout, stride, first_row, replaced.to_numpy(),
                    "not-representable", REPLACEMENT_MESSAGE, text)
            return _encode_column(text.set(replaced, ""), f, enc, layout, stride, first_row,
                                  problems)
    prepared, marked = prepare_for_encoding(text, enc, layout.cp932_duplicates)
    try:
        raw = encode_text(prepared.str.join("\n"), marked, enc)
    except UnicodeEncodeError:
        bad = _unencodable(text, enc)
        _report(problems, f, layout, stride, first_row, bad, "not-representable",
                f"{enc}で表せない文字があります", text)
        return _encode_column(text.set(pl.Series(bad), ""),
                              f, enc, layout, stride, first_row, problems)
    buf = np.frombuffer(raw, dtype=np.uint8)
    # LF separates values (never a trail byte); any other control byte is in the data
    if np.count_nonzero(buf < 0x20) != len(text) - 1 or (buf == 0x7F).any():
        return _encode_column(_drop_control(text, f, layout, stride, first_row, problems),
                              f, enc, layout, stride, first_row, problems)
    ends = np.flatnonzero(buf == 0x0A)
    bounds = np.concatenate(([-1], ends, [len(buf)]))
    lengths = np.diff(bounds) - 1
    return buf[buf != 0x0A], lengths.astype(np.int64)


def _utf8_buffers(text: pl.Series) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The UTF-8 bytes and offsets under a String series (no copy of the text)."""
    arr = text.to_arrow()
    if hasattr(arr, "combine_chunks"):
        arr = arr.combine_chunks()
    arr = arr.cast("large_string")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset +
                                                                len(arr) + 1]
    raw = arr.buffers()[2]
    data = np.frombuffer(raw, dtype=np.uint8)[offsets[0]:offsets[-1]] if raw is not None \
        else np.zeros(0, dtype=np.uint8)
    return data, offsets - offsets[0]


def _drop_control(text: pl.Series, f: Field, layout: Layout, stride: int, first_row: int,
                  problems: Findings) -> pl.Series:
    """Slow path: report values holding control characters, and write them as padding."""
    ctrl = text.str.contains(r"[\x00-\x1F\x7F]")
    _report(problems, f, layout, stride, first_row, ctrl.to_numpy(), "control-char",
            "制御文字は書けません", text)
    return text.set(ctrl, "")


def _unencodable(values: pl.Series, enc: str) -> npt.NDArray[np.bool_]:
    """Which values the encoding cannot represent (or would not read back: see
    :func:`~chukan.codec.encodable`): one encode of the whole column, and a
    value-by-value pass only when that fails."""
    out = np.zeros(len(values), dtype=bool)
    if encodable("\n".join(v or "" for v in values.to_list()), enc):
        return out
    for i, v in enumerate(values.to_list()):
        out[i] = not encodable(v or "", enc)
    return out


def _report(problems: Findings, f: Field, layout: Layout, stride: int, first_row: int,
            mask: npt.NDArray[np.bool_], code: str, message: str, values: pl.Series, *,
            lengths: npt.NDArray[np.int64] | None = None) -> None:
    rows = np.flatnonzero(mask)
    if not len(rows):
        return
    rows = rows.astype(np.int64)
    records = first_row + rows + 1
    offsets = (records - 1) * stride + f.offset if layout.format == "fixed" else \
        np.full(len(rows), -1, np.int64)
    problems.append(ProblemTable.found(
        codes=(code,), code=np.zeros(len(rows), np.intp), record=records, offset=offsets,
        detail=_Refused(owned(values.gather(rows)), None if lengths is None else lengths[rows],
                        message),
        file=None, field=f.name, label=f.label, message=message, severity="error"))


@dataclass(frozen=True, slots=True)
class _Refused:
    """Values the writer refused (a row each), with their lengths in bytes where those
    are the trouble: what a problem there shows."""

    values: pl.Series
    lengths: npt.NDArray[np.int64] | None
    message: str

    def __call__(self, i: int) -> tuple[bytes, str | None, str | None]:
        value = self.values[i]
        words = None if self.lengths is None else \
            f"{self.message} ({int(self.lengths[i])}バイト)"
        return b"", None if value is None else str(value), words

    def texts(self, rows: npt.NDArray[np.intp]) -> tuple[pl.Series, pl.Series | None]:
        values = as_text(self.values.gather(rows))
        if self.lengths is None:
            return values, None
        lengths = pl.Series(self.lengths[rows]).cast(pl.String)
        return values, pl.select(pl.concat_str(pl.lit(f"{self.message} ("), pl.lit(lengths),
                                               pl.lit("バイト)"))).to_series()


# --------------------------------------------------------------------------------------
# CSV


def format_batch(df: pl.DataFrame, layout: Layout, problems: Findings, *,
                 header: bool = True, at_start: bool = True) -> memoryview:
    """The bytes of ``df`` in a single-record ``layout`` (no BOM; a CSV header only with
    ``header``), for writers that stream batches into one file; problems are appended
    with record numbers counted from the first row of ``df``. ``at_start``: these bytes
    begin the file. A view of the buffer they were written to: a batch's bytes are never
    held twice."""
    if layout.format == "fixed" and df.height <= _SLICE:
        # one slice: its records are the batch's bytes, not copied into a buffer after
        return _fixed_matrix(df, layout, layout.kind(), 0, problems,
                             opening=0 if at_start and df.height else None).reshape(-1).data
    buf = io.BytesIO()
    if layout.format == "csv":
        _write_csv(df, buf, layout, problems, header=header, at_start=at_start)
    else:
        _write_fixed(df, buf, layout, layout.kind(), problems, None, at_start=at_start)
    return buf.getbuffer()


def _write_csv(df: pl.DataFrame, fh: BinaryIO, layout: Layout, problems: Findings, *,
               header: bool = True, at_start: bool = True) -> None:
    """Format every field in one ``select`` (Polars spreads the columns over its threads),
    report what failed, then write the rows (the core for UTF-8, else Polars and the
    encoder). ``at_start``: the bytes written begin the file."""
    enc = codec_name(layout.encoding)
    fields = [f for f in layout.fields if f.type != "filler"]
    exprs: list[pl.Expr] = []
    # the core checks the characters of the text written, unless lookalikes are
    # substituted in it (then the check judges the text before, as Polars does)
    core = os.environ.get("CHUKAN_KERNEL") != "python" and not (
        layout.substitute_lookalikes and LOOKALIKES.get(enc))
    classes = [text_check(f) if core else "" for f in fields]
    # every check has a number, in the order its failures are reported: each field's
    # own (made by Polars, but for the character check the core makes), then the
    # _WRITTEN ones, made on the text written (by _refused)
    checks: list[FormatCheck] = []
    at: list[int] = []  # the number of each of `checks`
    class_at: list[int] = []  # the number of each field's character check (if the core's)
    last: list[int] = []  # the number of each field's first check of its text written
    owners: list[int] = []  # the field (index) of each check, by number
    columns = _with_values(df, fields)
    for i, f in enumerate(fields):
        text, fails = _text_expr(f, columns, layout, fixed=False, classes=not classes[i],
                                 dtype=df.schema.get(f.name))
        exprs.append(text.alias(f"t{i}"))
        if f.required:
            fails.insert(0, ("required-missing", "必須項目が空です", _missing_expr(df, f)))
        mine = len(fails) + bool(classes[i])  # the core's character check comes first
        class_at.append(len(owners) + f.required)
        at += [k for k in range(len(owners), len(owners) + mine)
               if not (classes[i] and k == class_at[-1])]
        last.append(len(owners) + mine)
        owners += [i] * (mine + len(_WRITTEN))
        checks += fails
    out, made = select_checked(df, exprs, checks)
    failed = {at[k]: failure for k, failure in made.items()}
    # 桁数 counts characters of text (numbers and dates are checked by their format)
    limits = [f.length if f.type in ("text", "code", "digits") else 0 for f in fields]
    texts = [out[f"t{i}"] for i in range(len(fields))]
    # a batch's rows formatted as they are checked, in one pass over the text (written
    # as they are unless something was refused); a larger frame is checked first, then
    # formatted in slices, so that its text is never held whole
    # CP932, Shift_JIS and EUC-JP: the rows the UTF-8 writer formats, then encoded by the
    # core
    transcoded = enc in CORE_ENCODINGS and os.environ.get("CHUKAN_KERNEL") != "python"
    rows = _checked_rows(texts, limits, classes, layout) if enc == "utf-8" or transcoded \
        else None
    refused = rows[1] if rows is not None else _refused(texts, limits, classes)
    failed |= {(last[j] + _WRITTEN.index(kind) if kind != "class" else class_at[j]): failure
               for (j, kind), failure in refused.items()}
    written = {k + t for k in last for t in range(len(_WRITTEN))}
    cols = {f.name: out[f"t{i}"] for i, f in enumerate(fields)}
    dropped: dict[int, npt.NDArray[np.bool_]] = {}
    for k, failure in sorted(failed.items()):  # rare: each check that failed, in order
        i, code, message, mask = owners[k], failure.code, failure.message, failure.mask
        before = dropped.get(i, np.zeros(len(mask), dtype=np.bool_))
        if code == "width-overflow" or k in written:  # checked on what is still there
            mask = mask & ~before
        if code != "required-missing":
            dropped[i] = before | mask
        f = fields[i]
        # a number as it was given: its text as written would show 1.234 as 1.23, the
        # very rounding refused
        shown = df[f.name] if f.type in ("integer", "decimal") and f.name in df.columns \
            else cols[f.name]
        _report(problems, f, layout, 0, 0, mask, code, message, shown)
    first = fields[0].name if fields and df.height else None
    if first is not None and at_start and not (layout.header and header) and \
            not dropped.get(0, [False])[0] and \
            _leading_bom((cols[first][0] or "").encode(), layout):
        # (refused even where the cell is quoted for another reason, and the file then
        # begins with the quote: one rule for CSV and fixed width alike)
        mask = np.arange(df.height) == 0
        _report(problems, fields[0], layout, 0, 0, mask, "not-representable",
                LEADING_BOM_MESSAGE, cols[first])
        dropped[0] = dropped.get(0, mask) | mask
    for i, mask in dropped.items():
        name = fields[i].name
        cols[name] = cols[name].set(pl.Series(mask), None)
    if layout.formula_guard:  # after the width check: the apostrophe is not the value's
        guarded = [f.name for f in fields if f.type in GUARDED_TYPES]
        cols.update(pl.DataFrame({n: cols[n] for n in guarded})
                    .select(guard(pl.col(n)) for n in guarded).to_dict())
    formatted = rows[0] if rows is not None and not dropped else None
    if enc == "utf-8":  # no round trip through a str
        _utf8_csv(_csv_frame(cols, fields, layout), fh, layout, header=header, rows=formatted)
        return
    if transcoded:
        sink = _Encoding(encode_table(enc, layout.cp932_duplicates))
        # (a binary file as far as the writer and Polars go: they only call write)
        _utf8_csv(_csv_frame(cols, fields, layout), cast("BinaryIO", sink), layout,
                  header=header, rows=formatted)
        encoded = sink.finish()
        if encoded is not None:
            for part in encoded:
                fh.write(part.data)
            return
        # (a character the encoding lacks: found and reported below, as CPython finds it)
    try:
        data = _encode_csv(cols, fields, layout, enc, header=header)
    except UnicodeEncodeError:  # rare: find the values, written empty as padding would be
        for f in fields:
            bad = _unencodable(cols[f.name].fill_null(""), enc)
            if bad.any():
                _report(problems, f, layout, 0, 0, bad, "not-representable",
                        f"{enc}で表せない文字があります", cols[f.name])
                cols[f.name] = cols[f.name].set(pl.Series(bad), None)
        data = _encode_csv(cols, fields, layout, enc, header=header)
    fh.write(data)


class _Encoding(io.RawIOBase):
    r"""A sink for UTF-8 CSV text that the core encodes (CP932, Shift_JIS, EUC-JP) with the
    layout's duplicate policy, whole lines at a time (a line feed is never inside a
    character); :meth:`finish` gives the parts, or None where a character the encoding
    lacks was met (nothing has been written then: the caller finds and reports it).

    >>> from chukan.codec import encode_table
    >>> sink = _Encoding(encode_table("cp932", "ibm"))
    >>> sink.write("山田,1\n".encode()), sink.write("髙".encode())
    (9, 3)
    >>> b"".join(sink.finish())
    b'\x8eR\x93c,1\n\xfb\xfc'
    """

    def __init__(self, table: npt.NDArray[np.uint16]) -> None:
        """Encode with ``table`` (:func:`~chukan.codec.encode_table`)."""
        super().__init__()
        self._table = table
        self._held = b""  # the bytes after the last line feed so far
        self._parts: list[npt.NDArray[np.uint8]] | None = []

    def writable(self) -> bool:
        """Polars writes a header into it."""
        return True

    def write(self, data: Any) -> int:  # noqa: ANN401 -- any buffer, as io's signature has
        """Encode the whole lines of what came so far."""
        data = bytes(data)
        cut = data.rfind(b"\n") + 1
        if cut:
            self._encode(self._held + data[:cut])
            self._held = data[cut:]
        else:
            self._held += data
        return len(data)

    def finish(self) -> list[npt.NDArray[np.uint8]] | None:
        """The encoded parts, in order; None where one could not be encoded."""
        if self._held:
            self._encode(self._held)
            self._held = b""
        return self._parts

    def _encode(self, text: bytes) -> None:
        if self._parts is None or not text:
            return
        buf = _core.encode_lines(np.frombuffer(text, dtype=np.uint8), self._table,
                                 thread_count())
        if buf is None:
            self._parts = None
        else:
            self._parts.append(buf)


#: what a CSV writer checks on the text it writes (by :func:`_refused`, beside each
#: field's character check), in the order it reports them
_WRITTEN = ("over", "control", "replacement")


def _refused(texts: list[pl.Series], limits: list[int], classes: list[str]
             ) -> dict[tuple[int, str], Failure]:
    """What a CSV writer refuses in the text it would write, so that what it writes reads
    back, by column and reason: the rows of more characters than the column's limit
    (``over``; 0: no limit), the rows holding a control character the reader refuses
    (``control``: :data:`~chukan._csv.CONTROL_RE`, :data:`~chukan._csv.BARE_CR_RE`), the
    rows failing the column's character check (``class``; see :func:`text_check`,
    ``""``: none), and the rows holding U+FFFD (``replacement``); only the checks some
    row failed. The core scans every column at once; ``CHUKAN_KERNEL=python`` has Polars
    do it (the oracle of the tests).

    >>> found = _refused([pl.Series(["山田", "abc"])], [2], ["fullwidth"])
    >>> {k: x.mask.tolist() for k, x in found.items()}
    {(0, 'class'): [False, True], (0, 'over'): [False, True]}
    """
    if not texts or not len(texts[0]):
        return {}
    if os.environ.get("CHUKAN_KERNEL") == "python":
        names = [f"t{j}" for j in range(len(texts))]
        checked = [(j, check) for j, check in enumerate(classes) if check]
        masks = pl.DataFrame(texts, schema=names).select(
            *((pl.col(f"t{j}").str.len_chars() > (limit or 2 ** 62)).fill_null(value=False)
              .alias(f"o{j}") for j, limit in enumerate(limits)),
            *((pl.col(f"t{j}").str.contains(CONTROL_RE) |
               pl.col(f"t{j}").str.contains(BARE_CR_RE)).fill_null(value=False)
              .alias(f"c{j}") for j in range(len(texts))),
            *(pl.col(f"t{j}").str.contains(_CLASS_RE[check]).fill_null(value=False)
              .alias(f"k{j}") for j, check in checked),
            *(pl.col(f"t{j}").str.contains("\ufffd", literal=True).fill_null(value=False)
              .alias(f"r{j}") for j in range(len(texts))))
        def hit(name: str) -> npt.NDArray[np.bool_] | None:
            return masks[name].to_numpy() if name in masks.columns and masks[name].any() \
                else None

        marks: list[Refused] = [{"over": hit(f"o{j}"), "control": hit(f"c{j}"),
                                 "class": hit(f"k{j}"), "replacement": hit(f"r{j}")}
                                for j in range(len(texts))]
    else:
        marks = _core.csv_refused([text_column(t) for t in texts], len(texts[0]), limits,
                                  classes, thread_count())
    return _failures(marks, limits, classes)


def _checked_rows(texts: list[pl.Series], limits: list[int], classes: list[str],
                  layout: Layout) -> tuple[npt.NDArray[np.uint8],
                                           dict[tuple[int, str], Failure]] | None:
    """The UTF-8 CSV rows of ``texts`` as the core formats them (see :func:`_utf8_csv`),
    and what :func:`_refused` finds in them, from one pass of the core over the text;
    None where the core does not write the rows, where the text written would not be
    the text checked (a formula guard puts an apostrophe before some values), and for
    more than :data:`_ONE_PASS_ROWS` rows."""
    style = _core_style(layout)
    if style is None or not texts or not 0 < len(texts[0]) <= _ONE_PASS_ROWS or \
            layout.formula_guard:
        return None
    data, marks = _core.format_csv_checked([text_column(t) for t in texts], len(texts[0]),
                                           *style, limits, classes, thread_count())
    return data, _failures(marks, limits, classes)


def _failures(marks: list[Refused], limits: list[int], classes: list[str]
              ) -> dict[tuple[int, str], Failure]:
    """The core's or Polars' refusals (see :func:`_refused`) as failures to report."""
    found: dict[tuple[int, str], Failure] = {}
    for j, (mark, limit, check) in enumerate(zip(marks, limits, classes, strict=True)):
        if mark["class"] is not None:
            found[j, "class"] = Failure(*CHECK_FAILURES[check], mark["class"])
        if mark["over"] is not None:
            found[j, "over"] = Failure("width-overflow", f"{limit}文字を超えています",
                                       mark["over"])
        if mark["control"] is not None:
            found[j, "control"] = Failure("control-char", "制御文字は書けません",
                                          mark["control"])
        if mark["replacement"] is not None:
            found[j, "replacement"] = Failure("not-representable", REPLACEMENT_MESSAGE,
                                              mark["replacement"])
    return found


#: a character each check refuses, for the Polars path of :func:`_refused`
_CLASS_RE = {"fullwidth": f"[{HALF_CHARS}]", "halfwidth": f"[^{HALF_CHARS}]",
             "digits": "[^0-9]"}


def _utf8_csv(frame: pl.DataFrame, fh: BinaryIO, layout: Layout, *, header: bool,
              rows: npt.NDArray[np.uint8] | None = None) -> None:
    """A frame of text columns as UTF-8 CSV: its rows formatted by the core (quoted as
    Polars quotes them, in parallel, with the GIL released), its header by Polars.
    ``rows``: the rows, formatted already (by :func:`_checked_rows`)."""
    options = _csv_options(layout, header=header)
    style = _core_style(layout)
    if rows is None and (style is None or not frame.width):
        frame.write_csv(fh, **options)
        return
    if options["include_header"]:
        frame.clear().write_csv(fh, **options)
    if rows is not None:
        fh.write(rows.data)
        return
    assert style is not None  # noqa: S101 -- checked above, with no rows given
    # in slices, each written as soon as it is formatted: memory stays flat
    for start in range(0, frame.height, _CSV_SLICE):
        part = frame.slice(start, _CSV_SLICE)
        columns = [text_column(column) for column in part.get_columns()]
        fh.write(_core.format_csv(columns, part.height, *style, thread_count()).data)


def _core_style(layout: Layout) -> tuple[int, int, bytes] | None:
    """The delimiter, the quote and the line terminator with which the core writes a
    UTF-8 CSV's rows; None where Polars writes them (a delimiter or quote of more than
    one byte, or ``CHUKAN_KERNEL=python``: the oracle of the tests)."""
    delimiter, quote = layout.delimiter.encode(), layout.quote.encode()
    if os.environ.get("CHUKAN_KERNEL") == "python" or len(delimiter) != 1 or \
            len(quote) != 1:
        return None
    return delimiter[0], quote[0], _csv_options(layout, header=False)["line_terminator"] \
        .encode()


def _csv_frame(cols: dict[str, pl.Series], fields: list[Field], layout: Layout
               ) -> pl.DataFrame:
    frame = pl.DataFrame(cols)
    if layout.header_text == "label":
        frame = frame.rename({f.name: f.label or f.name for f in fields})
    return frame


def _csv_options(layout: Layout, *, header: bool) -> dict[str, Any]:
    return {"include_header": layout.header and header, "separator": layout.delimiter,
            "quote_char": layout.quote,
            "line_terminator": "\r\n" if layout.terminator == "crlf" else "\n"}


def _encode_csv(cols: dict[str, pl.Series], fields: list[Field], layout: Layout, enc: str,
                *, header: bool) -> bytes:
    """The CSV in a non-Unicode encoding; raises UnicodeEncodeError for a character the
    encoding lacks."""
    frame = _csv_frame(cols, fields, layout)
    body: str = frame.write_csv(**_csv_options(layout, header=header))
    texts = [*cols.values(), pl.Series(frame.columns)] if layout.header and header else \
        list(cols.values())  # a label may hold 髙 too
    if not any(needs_markers(t, enc, layout.cp932_duplicates) for t in texts):
        return encode_text(body, False, enc)
    # markers go into the whole text, not the columns: a marker's printable half may be
    # a quote or a delimiter, which the CSV writer would quote
    prepared, marked = prepare_for_encoding(pl.Series([body]), enc, layout.cp932_duplicates)
    return encode_text(prepared, marked, enc)
