"""Reading fixed-width and CSV files into Polars, byte-exactly, in bounded memory.

>>> from chukan.layout import load_layout
>>> layout = load_layout("examples/vendor-a/juki-kojin")
>>> df = read("fixtures/vendor-a/juki-kojin.dat", layout)
>>> df.select("atena_no", "shimei_kanji").head(2)
shape: (2, 2)
┌────────────┬──────────────┐
│ atena_no   ┆ shimei_kanji │
│ ---        ┆ ---          │
│ str        ┆ str          │
╞════════════╪══════════════╡
│ 0000000001 ┆ 山田　太郎   │
│ 0000000002 ┆ 山田　花子   │
└────────────┴──────────────┘

Reading leniently collects problems instead of raising:

>>> report = Report()
>>> df = read("fixtures/bad/not-digits.dat", layout, report=report)
>>> [(p.code, p.record, p.field) for p in report]
[('not-digits', 2, 'atena_no')]
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import polars as pl

from chukan import _core
from chukan._arrow import constant, text_column
from chukan._context import (
    _SUSPECT_LEADS,
    EOF_MARKER,
    Dropped,
    _Context,
    _problem,
    duplicate_suspects,
    eof_marker,
    line_problems,
)
from chukan._files import open_input
from chukan._kernel import ColumnKind, ColumnSpec, extract, flat_rows
from chukan._threads import submit, using_threads
from chukan.codec import (
    CHECK_FAILURES,
    FAST_DATE_FORMATS,
    UNREADABLE,
    apply_fumei_flags,
    column_names,
    control_bytes,
    date_bytes,
    decimal_series,
    encode_text,
    era_codes,
    field_text,
    fields_text,
    number_bytes,
    number_form,
    parse_date,
    parse_number,
    prepare_for_encoding,
    schema_of,
    text_check,
    to_ascii,
    undefined_re,
    unknown_code_message,
    unpack_packed,
    writer_codes,
)
from chukan.errors import DataError, UsageError
from chukan.report import Problem, ProblemTable, Report, by_place, first_error
from chukan.spec import (
    UTF8_BOM,
    Field,
    Layout,
    RecordKind,
    codec_name,
    iter_fields,
    load_layout,
    starts_with_bom,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import numpy.typing as npt

    from chukan._codes import Severity
    from chukan._csv import Span
    from chukan.codec import Failure
    from chukan.report import Findings

Source = str | Path | bytes | BinaryIO
#: Records per batch when nothing else is said: about 30 MB of a 300-byte layout.
DEFAULT_BATCH = 100_000
_RAW_MAX = 64  # bytes of raw hex kept in a problem about a whole record

# --------------------------------------------------------------------------------------
# Sources and chunks


def _open(source: Source) -> tuple[BinaryIO, str | None]:
    if isinstance(source, bytes):
        return io.BytesIO(source), None
    if isinstance(source, str | Path):
        return open_input(source), str(source)
    return source, getattr(source, "name", None)


@dataclass(slots=True)
class _Cursor:
    """Where the next chunk starts: file offset and 1-based record number."""

    offset: int = 0
    record: int = 1
    counters: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Block:
    """Records of the right length from one chunk, as a matrix, with where they came from."""

    matrix: npt.NDArray[np.uint8]
    records: npt.NDArray[np.int64]
    offsets: npt.NDArray[np.int64]


def _split_fixed(data: bytes, ctx: _Context, cur: _Cursor, *, final: bool
                 ) -> tuple[_Block, int, int]:
    """Cut a chunk into records: the block of well-formed records, the bytes consumed and
    the number of records (good or bad) they held."""
    layout = ctx.layout
    size, term = layout.record_length, layout.terminator_bytes
    stride = size + len(term)
    arr = np.frombuffer(data, dtype=np.uint8)
    n_whole = len(arr) // stride
    if term:
        # Fast path: every terminator is where it should be and there is no other LF
        # (so no short records hide in pairs). Layouts with packed fields may hold 0x0A
        # as data: for them the terminator positions alone decide.
        if n_whole and (len(arr) % stride == 0 or not final) and \
                _core.intact(arr, n_whole, size, term, not has_binary(layout)):
            body = arr[: n_whole * stride].reshape(n_whole, stride)
            return _block(body[:, :size], cur, n_whole, stride), n_whole * stride, n_whole
        if has_binary(layout):
            # binary fields forbid splitting on LF: cut by length and report the rest
            return _split_by_length(data, ctx, cur, n_whole, stride, final=final)
        return _split_terminated(data, ctx, cur, final=final)
    consumed = n_whole * stride
    if final and consumed < len(arr):
        _truncated(ctx, cur, n_whole, consumed, data[consumed:])
    body = arr[:consumed].reshape(n_whole, stride)
    short = 1 if final and consumed < len(arr) else 0
    return _block(body, cur, n_whole, stride), len(arr) if final else consumed, n_whole + short


def _block(matrix: npt.NDArray[np.uint8], cur: _Cursor, n: int, stride: int) -> _Block:
    idx = np.arange(n, dtype=np.int64)
    return _Block(matrix, cur.record + idx, cur.offset + idx * stride)


def has_binary(layout: Layout) -> bool:
    """Whether a record may hold any byte (packed decimals): its terminator is then
    found by length, never by looking for LF."""
    return any(f.type == "decimal" and f.storage == "packed" for _, f in iter_fields(layout))


def _split_by_length(data: bytes, ctx: _Context, cur: _Cursor, n_whole: int, stride: int,
                     *, final: bool) -> tuple[_Block, int, int]:
    """Records with binary fields and a terminator: cut every ``stride`` bytes; records
    whose terminator is not where it belongs are reported, never re-split on LF."""
    size = ctx.layout.record_length
    arr = np.frombuffer(data, dtype=np.uint8)
    body = arr[: n_whole * stride].reshape(n_whole, stride)
    term = np.frombuffer(ctx.layout.terminator_bytes, dtype=np.uint8)
    ok = (body[:, size:] == term).all(axis=1)
    bad = np.flatnonzero(~ok).astype(np.int64)
    ctx.drop_lines(cur.record + bad, data, bad * stride, (bad + 1) * stride, cur.offset)
    if len(bad):
        at = bad * stride + size  # where each one's terminator should be
        ctx.add(line_problems(ctx, data, codes=("terminator-mixed",),
                              code=np.zeros(len(bad), np.intp), record=cur.record + bad,
                              offset=cur.offset + at, start=at, stop=at + len(term),
                              number=np.zeros(len(bad), np.int64), limit=_RAW_MAX,
                              words=("レコードの終わりに改行がありません",)))
    rows = np.flatnonzero(ok)
    idx = np.arange(n_whole, dtype=np.int64)
    block = _Block(body[rows, :size], cur.record + idx[rows], cur.offset + idx[rows] * stride)
    consumed, count = n_whole * stride, n_whole
    if final and consumed < len(data):
        _truncated(ctx, cur, n_whole, consumed, data[consumed:])
        consumed, count = len(data), n_whole + 1
    return block, consumed, count


def _truncated(ctx: _Context, cur: _Cursor, n_whole: int, consumed: int, tail: bytes) -> None:
    """Report the short last record of a file cut by length."""
    ctx.drop(cur.record + n_whole, tail, cur.offset + consumed)
    ctx.add(_problem(ctx, "truncated-record", record=cur.record + n_whole,
                     offset=cur.offset + consumed, raw=tail, raw_limit=_RAW_MAX,
                     message=f"最終レコードが{len(tail)}バイトしかありません"
                             f"(レコード長 {ctx.layout.record_length})"))


#: Bytes kept waiting for a terminator before they are reported as one bad record: a
#: file with no LF at all (CR-only, or no terminator) must not grow memory.
_MAX_UNTERMINATED = 1 << 20


def _split_terminated(data: bytes, ctx: _Context, cur: _Cursor, *, final: bool
                      ) -> tuple[_Block, int, int]:
    """Slow path: split on LF (never a trail byte), so one bad record shifts nothing."""
    layout = ctx.layout
    size, crlf = layout.record_length, layout.terminator == "crlf"
    arr = np.frombuffer(data, dtype=np.uint8)
    lf = _core.byte_places(arr, 0x0A)
    if not len(lf) and not final and len(data) > max(_MAX_UNTERMINATED, 4 * layout.stride):
        ctx.add(_problem(ctx, "record-length", record=cur.record, offset=cur.offset,
                         raw=data, raw_limit=_RAW_MAX,
                         message=f"{len(data)}バイトにわたって改行がありません"))
        return _Block(np.empty((0, size), dtype=np.uint8), np.empty(0, dtype=np.int64),
                      np.empty(0, dtype=np.int64)), len(data), 1
    starts = np.concatenate(([0], lf[:-1] + 1)).astype(np.int64) if len(lf) else \
        np.empty(0, dtype=np.int64)
    ends = lf.astype(np.int64)
    consumed = int(lf[-1]) + 1 if len(lf) else 0
    tail = data[consumed:]
    has_cr = (arr[np.maximum(ends - 1, 0)] == 0x0D) & (ends > starts)
    content_end = ends - (has_cr if crlf else 0)
    lengths = content_end - starts
    good = lengths == size
    mixed = ~has_cr if crlf else has_cr & (lengths == size + 1)
    good &= ~mixed
    rec_no = cur.record + np.arange(len(starts), dtype=np.int64)
    bad = np.flatnonzero(~good)
    ctx.drop_lines(rec_no[bad], data, starts[bad], ends[bad] + 1, cur.offset)
    if len(bad):
        # one table for the lot (a file read with the wrong layout has a bad length in
        # every record): a mixed line end shows its last two bytes, a length its line's
        is_mixed = mixed[bad]
        ctx.add(line_problems(
            ctx, data, codes=("record-length", "terminator-mixed"),
            code=is_mixed.astype(np.intp), record=rec_no[bad],
            offset=cur.offset + np.where(is_mixed, ends[bad], starts[bad]),
            start=np.where(is_mixed, np.maximum(starts[bad], ends[bad] - 1), starts[bad]),
            stop=ends[bad] + 1, number=lengths[bad], limit=_RAW_MAX,
            words=(f"レコード長が{{}}バイトです(レイアウトは{size}バイト)",
                   f"改行コードが{'CRLF' if crlf else 'LF'}ではありません")))
    extra_rows: list[npt.NDArray[np.uint8]] = []
    if final and tail:
        tail_no = cur.record + len(starts)
        if len(tail) == size:
            ctx.add(_problem(ctx, "terminator-missing", record=tail_no,
                             offset=cur.offset + consumed + size, raw=tail[-8:]))
            extra_rows.append(np.frombuffer(tail, dtype=np.uint8).reshape(1, size))
        else:
            ctx.drop(tail_no, tail, cur.offset + consumed)
            ctx.add(_problem(ctx, "truncated-record", record=tail_no,
                             offset=cur.offset + consumed, raw=tail, raw_limit=_RAW_MAX,
                             message=f"最終レコードが{len(tail)}バイトで改行がありません"
                                     f"(レコード長 {size})"))
        consumed = len(data)
    ok = np.flatnonzero(good)
    # (the core copies each record from where its line starts)
    matrix = _core.gather_records(arr, np.ascontiguousarray(starts[ok]), size)
    records, offsets = rec_no[ok], cur.offset + starts[ok]
    if extra_rows:
        matrix = np.concatenate([matrix, *extra_rows])
        records = np.append(records, cur.record + len(starts))
        offsets = np.append(offsets, cur.offset + consumed - len(tail))
    return _Block(matrix, records, offsets), consumed, len(starts) + (1 if final and tail else 0)


# --------------------------------------------------------------------------------------
# Fields


def _spec_of(f: Field) -> ColumnSpec | None:
    """How the kernel reads a field, or None for the fields read from the byte matrix
    (fillers, packed decimals, the date and number forms without a short path)."""
    if f.type in ("text", "code", "digits"):
        kind: ColumnKind = "fullwidth" if f.type == "text" and f.chars == "fullwidth" else \
            "text" if f.type in ("text", "code") else "ascii"
        return ColumnSpec(f.offset, f.length, kind, f.pad, check=text_check(f),
                          shift=f.shift)
    if f.type == "date" and f.format in FAST_DATE_FORMATS:
        return ColumnSpec(f.offset, f.length, "date", date=(
            f.format or "YYYYMMDD", f.pivot or 0, era_codes(f), writer_codes(f)))
    form = number_form(f) if f.type in ("integer", "decimal") and f.storage != "packed" \
        else None
    return ColumnSpec(f.offset, f.length, form) if form else None


def _decode_fields(block: _Block, fields: Sequence[Field], ctx: _Context,
                   wanted: set[str] | None) -> pl.DataFrame:
    """Turn a block's matrix into the typed columns of ``fields`` (only ``wanted`` ones)."""
    layout = ctx.layout
    chosen = [f for f in fields if wanted is None or set(column_names(f)) & wanted
              or f.type == "filler"]
    # EBCDIC numbers, dates, digits and fillers are read in ASCII (the core translates
    # its own; these are for the parsers here); the reports show the file's bytes
    m = block.matrix
    in_ascii = _in_ascii(m, chosen, layout) if layout.charset.ebcdic else {}
    specs = {f.name: spec for f in chosen if (spec := _spec_of(f)) is not None}
    raws = dict(zip(specs, extract(m, list(specs.values()), layout.encoding,
                                   rewritten_pairs(layout.cp932_duplicates)
                                   if layout.encoding == "cp932" else None), strict=True))
    columns: dict[str, pl.Series] = {}
    for f in chosen:
        span = in_ascii.get(f.name, m[:, f.offset:f.end])
        if f.type == "filler":
            expected = np.frombuffer(f.fill.encode("ascii"), dtype=np.uint8)[0]
            bad = (span != expected).any(axis=1)
            _report_rows(ctx, block, f, bad, "filler-mismatch")
            continue
        if f.type == "decimal" and f.storage == "packed":
            columns[f.name] = _packed(ctx, block, f)
            continue
        raw = raws.get(f.name)
        if f.type in ("date", "integer", "decimal"):
            fast = (raw.numbers, raw.taken) if raw is not None and raw.numbers is not None \
                and raw.taken is not None else None
            frame, failures = parse_date(f, span, fast=fast) if f.type == "date" else \
                parse_number(f, span, fast=fast)
            _report_failures(ctx, block, f, failures)
            _report_rows(ctx, block, f, _noncanonical(f, span, frame, failures, fast),
                         "noncanonical",
                         message="値は読めますが、書き戻すと別のバイトになります"
                                 "(前ゼロ・空白・符号の形がレイアウトと異なります)")
            if f.required:  # (in ASCII, an EBCDIC one too)
                blank = (span == 0x20).all(axis=1)
                _report_rows(ctx, block, f, blank, "required-missing")
            for name in frame.columns:
                if wanted is None or name in wanted:
                    columns[name] = frame[name]
            continue
        assert raw is not None  # noqa: S101 -- every text, code and digits field has a spec
        _report_rows(ctx, block, f, raw.control, "control-char")
        _report_rows(ctx, block, f, raw.invalid, "invalid-bytes")
        # the core marks them as it decodes; the Python kernel's rows are found here
        duplicate = raw.duplicate if raw.duplicate is not None else \
            _other_duplicates(m, f, raw.values, layout)
        _report_rows(ctx, block, f, duplicate & (specs[f.name].kind != "ascii"),
                     "noncanonical",
                     message="重複コードの文字、または空のシフト(SO SI)です。書き戻すと"
                             "バイトが変わります" if layout.charset.ebcdic else
                     "CP932の重複文字が、レイアウトの cp932_duplicates と異なる"
                     "コードで書かれています。書き戻すとバイトが変わります")
        if raw.padding is not None:
            pad = "全角空白" if f.pad == "\u3000" else "半角空白"
            _report_rows(ctx, block, f, raw.padding & ~raw.invalid, "noncanonical",
                         message=f"埋め文字が{pad}だけではありません。書き戻すとバイトが"
                                 "変わります(レイアウトの pad で指定します)")
        values = raw.values
        if raw.failed is not None and raw.failed.any():
            code, message = CHECK_FAILURES[specs[f.name].check]
            _report_rows(ctx, block, f, raw.failed, code, message=message)
            if f.type == "digits":  # a digits value that is not digits is not kept
                values = values.set(pl.Series(raw.failed), None)
        if f.type == "code" and f.table is not None:
            unknown = _core.outside_codes(text_column(values), len(values), f.table.utf8_codes)
            _report_rows(ctx, block, f, unknown, "unknown-code",
                         message=unknown_code_message(f.table))
        if f.required:
            empty = raw.values.is_null().to_numpy() & ~raw.control & ~raw.invalid
            _report_rows(ctx, block, f, empty, "required-missing")
        if wanted is None or f.name in wanted:
            columns[f.name] = values.alias(f.name)
    return pl.DataFrame(columns)


def _in_ascii(matrix: npt.NDArray[np.uint8], fields: Sequence[Field], layout: Layout
              ) -> dict[str, npt.NDArray[np.uint8]]:
    """An EBCDIC block's numbers, dates and fillers in ASCII, by field, for the parsers
    here (digits are the core's alone): a byte that stands for no ASCII character becomes 0,
    which no parser takes. Zoned signs come out as the ASCII overpunch letters ({ A–I,
    } J–R) that EBCDIC's zones are."""
    chosen = [f for f in fields if f.type in ("integer", "date", "filler")
              or (f.type == "decimal" and f.storage != "packed")]
    n = matrix.shape[0]
    if not chosen or not n:
        return {f.name: matrix[:, f.offset:f.end] for f in chosen}
    flat, stride = flat_rows(matrix)
    spans = [(f.offset, f.length) for f in chosen]
    columns = _core.translated_columns(np.ascontiguousarray(flat), n, stride, spans,
                                       to_ascii(layout.encoding).tobytes())
    return {f.name: c.reshape(n, f.length) for f, c in zip(chosen, columns, strict=True)}


def _packed(ctx: _Context, block: _Block, f: Field) -> pl.Series:
    """A packed decimal field's values, its bad nibbles and unwritable signs reported."""
    span = block.matrix[:, f.offset:f.end]
    if os.environ.get("CHUKAN_KERNEL") == "python":
        values, bad_digits, bad_sign = unpack_packed(np.ascontiguousarray(span))
    else:  # the core, on the field's bytes where they are in the records
        flat, stride = flat_rows(block.matrix)
        values, bad_digits, bad_sign = _core.unpack_packed(flat, span.shape[0], stride,
                                                           f.offset, f.length)
    _report_rows(ctx, block, f, bad_digits, "bad-digit-nibble")
    _report_rows(ctx, block, f, bad_sign & ~bad_digits, "bad-sign-nibble")
    bad = bad_digits | bad_sign
    if not f.signed:
        neg = values < 0
        _report_rows(ctx, block, f, neg & ~bad, "bad-sign-nibble",
                     message="符号なし項目に負の符号があります")
        bad |= neg
    # what the writer would not give back: the other positive nibble (C for F), and a
    # negative zero
    sign = span[:, -1] & 0x0F
    want = 0x0C if f.positive_sign == "C" else 0x0F
    other = (sign != want) & ((sign == 0x0C) | (sign == 0x0F)) & ~bad
    _report_rows(ctx, block, f, other, "bad-sign-nibble",
                 message=f"正の符号が{'F' if want == 0x0C else 'C'}です(レイアウトは"
                         f"{f.positive_sign}: positive_sign で指定します)")
    minus_zero = (sign == 0x0D) & (values == 0) & ~bad
    _report_rows(ctx, block, f, minus_zero, "bad-sign-nibble",
                 message="負のゼロ(符号D)は書き戻せません")
    bad |= other | minus_zero
    return decimal_series(f.name, values, ~bad, f.precision, f.scale)


def rewritten_pairs(duplicates: str) -> npt.NDArray[np.bool_]:
    """The CP932 two-byte sequences (lead bytes 0x80–0xFF × every trail byte, flat) that
    the writer, under the ``duplicates`` policy, writes as other bytes: each pair's
    character encoded by the writer's own functions, once per process and policy.

    >>> table = rewritten_pairs("ibm")
    >>> bool(table[(0xEE - 0x80) * 256 + 0xE0]), bool(table[(0xFB - 0x80) * 256 + 0xFC])
    (True, False)
    """
    # the two decode workers ask for it at once on a first read: made by one, while the
    # other waits (a cache alone let both make it, 0.14 s of Python each)
    with _PAIRS_LOCK:
        return _rewritten_pairs(duplicates)


_PAIRS_LOCK = threading.Lock()


@cache
def _rewritten_pairs(duplicates: str) -> npt.NDArray[np.bool_]:
    table = np.zeros(128 * 256, dtype=bool)
    index: list[int] = []
    chars: list[str] = []
    for k in range(128 * 256):
        pair = bytes((0x80 + k // 256, k % 256))
        try:
            char = pair.decode("cp932")
        except UnicodeDecodeError:
            continue
        if len(char) == 1 and char not in UNREADABLE["cp932"]:
            index.append(k)
            chars.append(char)
    prepared, marked = prepare_for_encoding(pl.Series(chars), "cp932", duplicates)
    written = encode_text(prepared.str.join("\n"), marked, "cp932").split(b"\n")
    for k, out in zip(index, written, strict=True):
        table[k] = out != bytes((0x80 + k // 256, k % 256))
    return table


def _other_duplicates(m: npt.NDArray[np.uint8], f: Field, values: pl.Series,
                      layout: Layout) -> npt.NDArray[np.bool_]:
    """Rows of a CP932 text field holding a duplicated character in the bytes the
    layout's ``cp932_duplicates`` policy does not write (髙 as EE E0 under ``ibm``): read
    as the same character, written back as the other bytes. The rows holding such a
    lead byte are encoded again in one call, as the writer does, and compared byte for
    byte (duplicates are two bytes either way, so the bytes line up)."""
    n = m.shape[0]
    out = np.zeros(n, dtype=bool)
    if layout.encoding != "cp932" or not n:
        return out
    span = m[:, f.offset:f.end]
    # one lookup pass for the lead bytes that can start a suspect, then the exact pairs
    leads = _SUSPECT_LEADS[layout.cp932_duplicates]
    rows = np.flatnonzero(leads[span].any(axis=1))
    if len(rows):
        rows = rows[duplicate_suspects(span[rows], layout.cp932_duplicates).any(axis=1)]
    if not len(rows):
        return out
    text = values.gather(rows).fill_null("")
    # a value whose bytes did not decode (reported as such) is left out: empty here
    text = text.set(text.str.contains(undefined_re("cp932")[:-1] + "\n]"), "")
    prepared, marked = prepare_for_encoding(text, "cp932", layout.cp932_duplicates)
    try:
        raw = encode_text(prepared.str.join("\n"), marked, "cp932")
    except UnicodeEncodeError:  # rare: a character CP932 lacks; nothing to compare
        return out
    buf = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(buf == 0x0A)
    lengths = np.diff(np.concatenate(([-1], ends, [len(buf)]))) - 1
    width = span.shape[1]
    fits = lengths <= width
    written = np.full((len(rows), width), 0x20, dtype=np.uint8)
    keep = np.repeat(fits, lengths)  # bytes of the values that fit the field
    placed = np.arange(width) < np.where(fits, lengths, 0)[:, None]
    written[placed] = buf[buf != 0x0A][keep]
    differs = ((written != span[rows]) & placed).any(axis=1) & (lengths > 0)
    out[rows] = differs
    return out


def _noncanonical(f: Field, span: npt.NDArray[np.uint8], frame: pl.DataFrame,
                  failures: Sequence[Failure],
                  fast: tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]] | None = None
                  ) -> npt.NDArray[np.bool_]:
    """Rows of a number or date field read without a problem whose bytes the writer
    would not give back (``  12`` in a zero-padded field, ``-0000``, a zoned sign in
    another form): the writer's own formatter decides, so the two never disagree.
    ``fast`` marks the rows the kernel's short path took: plain digits there need no
    second look."""
    none = np.zeros(span.shape[0], dtype=bool)
    if any(c not in frame.columns for c in column_names(f)):
        return none  # not all decoded (a column subset)
    if f.type == "date":
        # a western date has one spelling per value (不詳 parts included): only era
        # formats can be read in a form the writer does not give back
        if f.format not in ("GYYMMDD", "GGYYMMDD"):
            return none
        # the short path takes only what is written back as read
        rows = np.flatnonzero(~fast[1]) if fast is not None else np.arange(span.shape[0])
        if not len(rows):
            return none
        written, present, _ = date_bytes(f, frame[rows])
        differs = none.copy()
        differs[rows] = present & (written != span[rows]).any(axis=1)
    else:
        rows = np.arange(span.shape[0])
        # zero-padded, and no overpunched sign: all digits is what the writer writes
        if f.pad != " " and not (f.storage == "zoned" and f.signed):
            if fast is not None:
                # taken: plain digits after a sign byte where the form has one, as the
                # writer writes them, but for a minus zero (written back unsigned or +)
                values, taken = fast
                rows = np.flatnonzero(~taken | ((values == 0) & (span[:, 0] == 0x2D)))
            sub = span[rows]
            rows = rows[~((sub >= 0x30) & (sub <= 0x39)).all(axis=1)]
            if not len(rows):
                return none
        written, present, _ = number_bytes(f, frame[f.name].gather(rows))
        differs = none.copy()
        differs[rows] = present & (written != span[rows]).any(axis=1)
    for x in failures:
        differs &= ~x.mask
    return np.asarray(differs, dtype=bool)


def _report_rows(ctx: _Context, block: _Block, f: Field, mask: npt.NDArray[np.bool_],
                 code: str, *, message: str | None = None,
                 severity: Severity | None = None) -> None:
    """Turn a row mask into a table of problems: places and codes by column (Python runs
    only where a place needs decoding to be found), words and values made only for the
    problems a report shows."""
    if not mask.any():
        return
    enc = codec_name(ctx.layout.encoding)
    rows = np.flatnonzero(mask)
    raw = block.matrix[rows, f.offset:f.end]
    where, which, codes = _locate_rows(code, raw, f, enc)
    packed = f.type == "decimal" and f.storage == "packed"
    ctx.add(ProblemTable.found(
        codes=codes, code=which, record=block.records[rows].astype(np.int64),
        offset=block.offsets[rows].astype(np.int64) + f.offset + where,
        detail=_FieldBytes(raw, None if packed else enc, f.shift), file=ctx.file,
        field=f.name, label=f.label, message=message, severity=severity))


@dataclass(frozen=True, slots=True)
class _FieldBytes:
    """The bytes of a field in some records (a row each), and their text in a codec
    (None: none, as for a packed decimal): what a problem there shows."""

    raw: npt.NDArray[np.uint8]
    codec: str | None
    shift: str

    def __call__(self, i: int) -> tuple[bytes, str | None, None]:
        raw = self.raw[i].tobytes()
        text = None if self.codec is None else field_text(raw, self.codec, self.shift)
        return raw, text, None

    def texts(self, rows: npt.NDArray[np.intp]) -> tuple[pl.Series, None]:
        if self.codec is None:
            return constant(None, len(rows)), None
        return fields_text(self.raw[rows], self.codec, self.shift), None


#: encodings whose digits are single bytes that no other character's bytes include
_DIGITS_ALONE = frozenset({"cp932", "shift_jis", "euc_jp", "utf-8", "ascii"})
#: codes whose place in a field takes decoding to find (:func:`_locate`)
_DECODED_PLACE = frozenset({"invalid-bytes", "halfwidth-in-fullwidth",
                            "fullwidth-in-halfwidth", "not-digits"})


def _locate_rows(code: str, raw: npt.NDArray[np.uint8], f: Field, enc: str
                 ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp], tuple[str, ...]]:
    r""":func:`_locate` for the rows of ``raw``: each one's place in the field and code
    (an index into the codes returned), by column where bytes alone tell.

    >>> from chukan.spec import Field
    >>> raw = np.frombuffer(b"12A4" b"1\x003 " b"0000", np.uint8).reshape(3, 4)
    >>> where, which, codes = _locate_rows("not-digits", raw,
    ...     Field(name="n", label="番号", type="digits", length=4), "cp932")
    >>> where.tolist(), [codes[i] for i in which]
    ([2, 1, 0], ['not-digits', 'nul-byte', 'not-digits'])
    """
    codes = (code, "control-char", "nul-byte", "dbcs-split")
    n = raw.shape[0]
    which = np.zeros(n, np.intp)
    where = np.zeros(n, np.int64)
    rest = np.ones(n, bool)
    if not (f.type == "decimal" and f.storage == "packed") and raw.shape[1]:
        control = control_bytes(enc, f.shift)[raw]
        first = control.argmax(axis=1)
        rest = ~control[np.arange(n), first]
        where[~rest] = first[~rest]
        which[~rest] = np.where(raw[~rest, first[~rest]] == 0, 2, 1)
    if code == "not-digits" and enc in _DIGITS_ALONE and raw.shape[1]:
        # the digits before the first other byte are that many characters
        where[rest] = ((raw[rest] < 0x30) | (raw[rest] > 0x39)).argmax(axis=1)
    elif code in _DECODED_PLACE:
        for i in np.flatnonzero(rest):
            at, found = _locate(code, raw[i].tobytes(), f, enc)
            where[i], which[i] = at, codes.index(found)
    return where, which, codes


def _is_half(ch: str) -> bool:
    return (" " <= ch <= "~") or ("\uff61" <= ch <= "\uff9f")


def _locate(code: str, raw: bytes, f: Field, enc: str) -> tuple[int, str]:
    """Byte offset inside the field of what went wrong, refining the code where the
    bytes tell more (a NUL is a ``nul-byte``; a lead byte at the end is a ``dbcs-split``)."""
    binary = f.type == "decimal" and f.storage == "packed"
    controls = control_bytes(enc, f.shift)
    control = next((k for k, b in enumerate(raw) if controls[b]), None)
    if control is not None and not binary:
        return control, "nul-byte" if raw[control] == 0 else "control-char"
    if code == "invalid-bytes":
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError as exc:
            if exc.start == len(raw) - 1 and exc.reason.startswith(("incomplete",
                                                                    "unexpected end")):
                return exc.start, "dbcs-split"
            return exc.start, code
        # decoded, but to a character that marks bytes that did not decode (in CP932,
        # 0x80, 0xA0 and 0xFD–0xFF, which it leaves undefined)
        found = re.search(undefined_re(enc), text)
        bad = found.start() if found else 0
        return len(text[:bad].encode(enc)), code
    checks: dict[str, Callable[[str], bool]] = {
        "halfwidth-in-fullwidth": lambda ch: ch != " " and _is_half(ch),
        "fullwidth-in-halfwidth": lambda ch: not _is_half(ch),
        "not-digits": lambda ch: not ("0" <= ch <= "9"),
    }
    if code in checks:
        text = raw.decode(enc, "replace")
        k = next((k for k, ch in enumerate(text) if checks[code](ch)), 0)
        return len(text[:k].encode(enc, "replace")), code
    return 0, code


def _report_failures(ctx: _Context, block: _Block, f: Field, failures: Sequence[Failure]) -> None:
    for x in failures:
        _report_rows(ctx, block, f, x.mask, x.code, message=x.message)


# --------------------------------------------------------------------------------------
# Public API


def read(source: Source, layout: Layout | str | Path, *, report: Report | None = None,
         record: str | None = None, columns: Sequence[str] | None = None,
         threads: int | None = None) -> pl.DataFrame:
    """Read a whole file into one DataFrame.

    Without ``report``, the first problem in the data raises :class:`~chukan.DataError`
    (strict); with one, problems are collected there and reading goes on (lenient), the
    failing values being null. ``record`` picks a record kind of a multi-record layout
    (see :func:`read_records` for all of them); ``columns`` decodes only those columns.
    ``threads`` bounds the compiled core's threads (default: ``CHUKAN_THREADS``, else one
    per core).
    """
    with using_threads(threads):
        frames = list(read_batches(source, layout, report=report, record=record,
                                   columns=columns, batch_size=None))
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]


def read_records(source: Source, layout: Layout | str | Path, *, report: Report | None = None
                 ) -> dict[str, pl.DataFrame]:
    """Read a multi-record file: one DataFrame per record kind, each with ``_record``,
    the 1-based record number in the file (so that writing keeps the order).

    >>> frames = read_records("fixtures/zengin/kouza-furikae.dat", "zengin/kouza-furikae")
    >>> {k: v.height for k, v in frames.items()}
    {'header': 1, 'data': 3, 'trailer': 1, 'end': 1}
    """
    lay = load_layout(layout) if not isinstance(layout, Layout) else layout
    parts: dict[str, list[pl.DataFrame]] = {k.name: [] for k in lay.kinds}
    for kind_name, frame in _iter_blocks(source, lay, report=report, kinds=None, columns=None,
                                         batch_size=None):
        parts[kind_name].append(frame)
    return {name: pl.concat(fs) if fs else pl.DataFrame(schema=_schema(lay, lay.kind(name)))
            for name, fs in parts.items()}


def _schema(layout: Layout, kind: RecordKind) -> dict[str, pl.DataType]:
    schema = schema_of(kind.fields)
    if layout.is_multi:
        schema["_record"] = pl.Int64()
    return schema


def read_batches(source: Source, layout: Layout | str | Path, *, batch_size: int | None =
                 DEFAULT_BATCH, report: Report | None = None, record: str | None = None,
                 columns: Sequence[str] | None = None) -> Iterator[pl.DataFrame]:
    """Yield DataFrames of at most ``batch_size`` records, so memory stays bounded
    whatever the file's size (``None``: the whole file at once).

    >>> sizes = [b.height for b in read_batches("fixtures/vendor-a/juki-kojin.dat",
    ...                                         "examples/vendor-a/juki-kojin", batch_size=2)]
    >>> sizes
    [2, 2, 1]
    """
    lay = load_layout(layout) if not isinstance(layout, Layout) else layout
    kind = lay.kind(record)
    empty = True
    for _, frame in _iter_blocks(source, lay, report=report, kinds={kind.name},
                                 columns=columns, batch_size=batch_size):
        empty = False
        # only what was asked for (multi-record blocks also decode their trailer counts)
        yield frame if columns is None else frame.select([c for c in frame.columns
                                                          if c in columns])
    if empty:
        schema = _schema(lay, kind)
        if columns is not None:
            schema = {k: v for k, v in schema.items() if k in columns}
        yield pl.DataFrame(schema=schema)


def located_batches(source: Source, layout: Layout, *, report: Report,
                    batch_size: int | None = DEFAULT_BATCH,
                    dropped: Dropped | None = None,
                    columns: Sequence[str] | None = None, span: Span | None = None
                    ) -> Iterator[tuple[str, pl.DataFrame]]:
    """For validation: (record kind, frame) batches read leniently, each frame carrying
    ``_record`` (1-based record number) and ``_offset`` (byte offset of the record or
    CSV row; CSV rows also ``_length``, their bytes) so that findings in the values can
    be located in the file. ``dropped`` receives the records left out whole (wrong
    length, wrong number of columns).
    ``span`` reads one range of a CSV file (``source`` holds its bytes), as a Spark task
    does."""
    return _iter_blocks(source, layout, report=report, kinds=None, columns=columns,
                        batch_size=batch_size, locate=True, dropped=dropped, span=span)


def _iter_blocks(source: Source, layout: Layout, *, report: Report | None,
                 kinds: set[str] | None, columns: Sequence[str] | None,
                 batch_size: int | None, locate: bool = False,
                 dropped: Dropped | None = None, span: Span | None = None
                 ) -> Iterator[tuple[str, pl.DataFrame]]:
    """Typed batches; a date whose 不詳 flag holds 1 is 不詳 (its flag is decoded with it)."""
    for kind, frame in _decode_blocks(source, layout, report=report, kinds=kinds,
                                      columns=_with_flags(layout, columns),
                                      batch_size=batch_size, locate=locate, dropped=dropped,
                                      span=span):
        yield kind, _flagged(layout, kind, frame)


def _with_flags(layout: Layout, columns: Sequence[str] | None) -> Sequence[str] | None:
    """The columns to decode: a date asked for brings its 不詳 flag."""
    if columns is None:
        return None
    return [*columns, *(f.fumei_flag for _, f in iter_fields(layout) if f.fumei_flag and
                        (f.name in columns or f"{f.name}_partial" in columns))]


def _flagged(layout: Layout, kind: str, frame: pl.DataFrame) -> pl.DataFrame:
    """A kind's frame with its dates whose 不詳 flag holds 1 made 不詳."""
    fields = layout.kind(kind).fields
    return apply_fumei_flags(frame, fields) if any(f.fumei_flag for f in fields) else frame


def _decode_blocks(source: Source, layout: Layout, *, report: Report | None,
                   kinds: set[str] | None, columns: Sequence[str] | None,
                   batch_size: int | None, locate: bool, dropped: Dropped | None,
                   span: Span | None = None) -> Iterator[tuple[str, pl.DataFrame]]:
    fh, name = _open(source)
    ctx = _Context(layout=layout, file=name, locate=locate, dropped=dropped)
    since = (len(report), report.records_read) if report is not None else (0, 0)
    wanted = set(columns) if columns is not None else None
    try:
        if layout.format == "csv":
            from chukan._csv import iter_csv  # noqa: PLC0415 -- CSV reading kept apart

            for frame in iter_csv(fh, layout, ctx, batch_size, wanted, span):
                _flush(ctx, report, frame.height)
                yield layout.kind().name, frame
            _flush(ctx, report, 0)
            if span is None:  # (a range's reader has not seen the whole file)
                _say_encoding(ctx, report, since)
            _flush(ctx, report, 0)
            return
        cur = _Cursor()
        if layout.is_multi:
            # trailer counts run across blocks: decode them in order, in this thread
            for block, split_problems in _fixed_blocks(fh, ctx, cur,
                                                       batch_size or _WORK_BATCH):
                ctx.problems.extend(split_problems)
                frames = list(_decode_block(block, layout, ctx, kinds, wanted, cur))
                # a block's problems are reported before its frames come, as in the
                # single-kind reader: a caller's own findings on them follow its own
                _flush(ctx, report, block.matrix.shape[0])
                yield from frames
            _check_final_counts(layout, ctx, cur)
        else:
            # decoded in small units (memory stays low while two are in flight), yielded
            # in the batches asked for
            unit = min(batch_size or _WORK_UNIT, _WORK_UNIT)
            yield from _decode_parallel(_fixed_blocks(fh, ctx, cur, unit), layout, ctx,
                                        report, wanted, batch=batch_size)
        if cur.record == 1 and not ctx.problems:
            ctx.add(_problem(ctx, "empty-file", record=None, offset=0))
        _flush(ctx, report, 0)
        _say_encoding(ctx, report, since)
        _flush(ctx, report, 0)
    finally:
        if isinstance(source, str | Path):
            fh.close()


#: Records of a multi-record file decoded at once when the caller did not ask for
#: batches.
_WORK_BATCH = 100_000
#: Records decoded per unit of work in a single-record file: small enough that the
#: blocks in flight hold little memory, large enough that per-call overheads do not show.
_WORK_UNIT = 50_000


def _fixed_blocks(fh: BinaryIO, ctx: _Context, cur: _Cursor, batch: int
                  ) -> Iterator[tuple[_Block, Findings]]:
    """Cut the file into blocks of records; each comes with the problems found in
    splitting it (record length, terminators), in file order."""
    layout = ctx.layout
    # what is read at once follows the file, never the declared sizes alone: at most
    # 64 MiB (or one record), in whole records
    stride = layout.stride
    chunk = max(stride, min(batch * stride, (64 << 20) // stride * stride))
    # the head that says what the file looks like is the same whatever the batch size
    # (found by fuzz/fuzz.py: one record of EBCDIC can pass for CP932)
    first = fh.read(max(chunk, 1 << 16))
    ctx.head = first[:1 << 16]
    _check_start(first, ctx, cur)
    # the first bytes, less a BOM, in chunks; after them chunks line up with records, so
    # the carry is usually empty and joining it costs nothing
    queued: bytes | None = first[cur.offset:]
    carry = b""
    while True:
        if queued is None:
            more = fh.read(chunk)
        elif len(queued) <= chunk:
            more, queued = queued, None
        else:  # (only when a chunk is smaller than the head)
            more, queued = queued[:chunk], queued[chunk:]
        final = not more
        data = carry + more if carry else more
        if not data:
            break
        if final and data.endswith(EOF_MARKER) and (data == EOF_MARKER or (
                layout.terminator_bytes and data[:-1].endswith(
                    layout.terminator_bytes if has_binary(layout) else b"\n"))):
            # the DOS end-of-file byte after the last record: after its terminator, or
            # after any LF where records end at LFs (what is left after the last whole
            # stride may hold a short record, whose LF ends it all the same)
            data = data[:-1]
            eof_marker(ctx, cur.offset + len(data))
            if not data:
                break
        before = len(ctx.problems)
        block, consumed, n_records = _split_fixed(data, ctx, cur, final=final)
        split_problems = ctx.problems[before:]
        del ctx.problems[before:]
        carry = data[consumed:]
        cur.offset += consumed
        cur.record += n_records
        if block.matrix.shape[0] or split_problems:
            # records of the wrong length count as read: they were, and were reported
            ctx.uncounted += n_records - block.matrix.shape[0]
            yield block, split_problems
        if final:
            break


def _decode_parallel(blocks: Iterator[tuple[_Block, Findings]], layout: Layout,
                     ctx: _Context, report: Report | None, wanted: set[str] | None, *,
                     batch: int | None) -> Iterator[tuple[str, pl.DataFrame]]:
    """Decode blocks two at a time: while one thread is in Python (which holds the
    GIL), the other runs the core, numpy and Polars (which do not). Results keep file
    order, gathered into frames of ``batch`` rows (the rows of ``batch`` records when
    none is left out), or with no ``batch`` into one DataFrame."""
    kind = layout.kind()

    def work(block: _Block) -> tuple[pl.DataFrame, Findings]:
        sub = _Context(layout=layout, file=ctx.file, locate=ctx.locate)
        return _decode_kind(block, kind.fields, sub, wanted), sub.problems

    frames: list[pl.DataFrame] = []
    pending: deque[tuple[Future[tuple[pl.DataFrame, Findings]],
                         Findings, int]]
    pending = deque()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="chukan") as pool:
        def finish() -> Iterator[tuple[str, pl.DataFrame]]:
            fut, split_problems, n = pending.popleft()
            frame, problems = fut.result()
            ctx.problems.extend(split_problems)
            ctx.problems.extend(problems)
            _flush(ctx, report, n)
            frames.append(frame)
            if batch is not None and sum(f.height for f in frames) >= batch:
                yield kind.name, _joined(frames)
                frames.clear()

        for block, split_problems in blocks:
            pending.append((submit(pool, work, block), split_problems,
                            block.matrix.shape[0]))
            if len(pending) > 2:
                yield from finish()
        while pending:
            yield from finish()
    if frames:
        yield kind.name, _joined(frames)


def _joined(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Frames of consecutive blocks as one (their columns' chunks kept, not copied)."""
    return pl.concat(frames, rechunk=False) if len(frames) > 1 else frames[0]


def _check_start(first: bytes, ctx: _Context, cur: _Cursor) -> None:
    if starts_with_bom(first, ctx.layout.encoding):
        if ctx.layout.encoding != "utf-8-sig":
            ctx.add(_problem(ctx, "bom-unexpected", record=1, offset=0, raw=UTF8_BOM))
        cur.offset = len(UTF8_BOM)


_UNDECODED = ("invalid-bytes", "dbcs-split")
#: what a file in another encoding shows: bytes that do not decode, lengths that differ
_MISREAD = (*_UNDECODED, "record-length", "csv-columns")


def _flush(ctx: _Context, report: Report | None, n_records: int) -> None:
    """Hand problems to the report (lenient) or raise the first one (strict); a file in
    another encoding than its layout's is said with what it looks like."""
    if report is not None:
        report.records_read += n_records + ctx.uncounted
        ctx.uncounted = 0
        report.extend(by_place(ctx.problems))
        ctx.problems.clear()
        return
    first = first_error(ctx.problems)
    if first is not None:
        hint = _encoding_hint(ctx) if first.code in _MISREAD else None
        raise DataError(replace(first, message=f"{first.message}({hint})") if hint
                        else first)


def _encoding_hint(ctx: _Context) -> str | None:
    from chukan._inspect import encoding_hint  # noqa: PLC0415 -- only when it is needed

    return encoding_hint(ctx.head, ctx.layout) if ctx.head else None


def _say_encoding(ctx: _Context, report: Report | None, since: tuple[int, int]) -> None:
    """Most records of this read (the report's problems and records after ``since``) did
    not decode: say what the file looks like, once, at the end."""
    if report is None:
        return
    say_encoding(ctx, misread(report, since=since[0]), report.records_read - since[1])


def misread(report: Report, *, since: int = 0) -> int:
    """How many records the problems kept in ``report`` (from the ``since``-th on) say
    could not be read as the layout's encoding."""
    return report.records_with(_MISREAD, since=since)


def say_encoding(ctx: _Context, bad: int, seen: int) -> None:
    """When most of a file's ``seen`` records were misread (``bad``), say once what the
    file looks like (from ``ctx.head``)."""
    hint = _encoding_hint(ctx) if seen and bad * 2 > seen else None
    if hint:
        ctx.add(_problem(ctx, "encoding-hint", record=None, offset=0,
                         message=f"{bad}/{seen}件のレコードが読めません。{hint}"))


def _decode_kind(block: _Block, fields: Sequence[Field], ctx: _Context,
                 wanted: set[str] | None) -> pl.DataFrame:
    """One kind's records of a block as a frame, located (``_record``, ``_offset``) where
    the context says so: the per-block engine of the single-kind reader and of
    :func:`decode_block`."""
    frame = _decode_fields(block, fields, ctx, wanted)
    if ctx.locate:
        frame = frame.with_columns(pl.Series("_record", block.records),
                                   pl.Series("_offset", block.offsets))
    return frame


@dataclass(frozen=True, slots=True)
class DecodedBlock:
    """What :func:`decode_block` made of a run of records."""

    #: a frame per record kind (the one kind of a single-record layout), each with
    #: ``_record`` (1-based record number) and ``_offset`` (byte offset in the file)
    frames: dict[str, pl.DataFrame]
    #: the problems found in these records, in file order, as columns: a Problem object
    #: is made of a row only when asked for (:attr:`problems`)
    table: ProblemTable
    #: the bytes of ``data`` used: all of it when ``final``, else up to the last whole
    #: record (the rest belongs with the next block)
    consumed: int
    #: the records in those bytes, read or reported
    records: int
    #: multi-record layouts: the trailer counts running at the block's end, to pass to
    #: the next block's ``counters`` (None where they were not checked)
    counters: dict[str, int] | None = None

    @property
    def problems(self) -> list[Problem]:
        """The problems found in these records, in file order, each made a
        :class:`Problem` (at each call: a caller with many keeps ``table``)."""
        return self.table.problems()


def decode_block(data: bytes, layout: Layout | str | Path, *, record: int = 1,
                 offset: int = 0, final: bool = True, columns: Sequence[str] | None = None,
                 counters: dict[str, int] | None = None,
                 dropped: dict[int, bytes] | None = None) -> DecodedBlock:
    """Decode a run of whole records of a fixed-width layout: the per-block engine under
    :func:`read`, for callers that cut a file themselves (a Spark task reading one byte
    range). ``record`` and ``offset`` say where ``data`` starts in the file, so that
    problems point at their place in it. With ``final`` a short last record is reported
    (``truncated-record``); without, it is left for the next block (``consumed``).

    What only the whole file shows is not looked for here: a BOM or an EOF byte at its
    ends, an empty file, a trailer missing after the last records. Trailer counts are
    checked only given ``counters`` (``{}`` for the file's first block, then the last
    block's ``DecodedBlock.counters``): a block read on its own cannot know the records
    before it. ``dropped`` receives the bytes of records left out whole (wrong length),
    by record number, as :func:`located_batches` gives them.

    >>> data = Path("fixtures/vendor-a/juki-kojin.dat").read_bytes()
    >>> block = decode_block(data, "examples/vendor-a/juki-kojin", columns=["atena_no"])
    >>> [(kind, frame.columns) for kind, frame in block.frames.items()], block.records
    ([('examples/vendor-a/juki-kojin', ['atena_no', '_record', '_offset'])], 5)
    """
    lay = layout if isinstance(layout, Layout) else load_layout(layout)
    if lay.format != "fixed":
        msg = f"decode_block reads fixed-width layouts; {lay.name} is {lay.format}"
        raise UsageError(msg)
    ctx = _Context(layout=lay, file=None, locate=True,
                   dropped=Dropped(held=dropped) if dropped is not None else None)
    cur = _Cursor(offset=offset, record=record, counters=dict(counters or {}))
    block, consumed, count = _split_fixed(data, ctx, cur, final=final)
    columns = _with_flags(lay, columns)
    wanted = set(columns) if columns is not None else None
    if lay.is_multi:
        frames = dict(_decode_block(block, lay, ctx, None, wanted, cur,
                                    count_trailers=counters is not None))
    else:
        frames = {lay.kind().name: _decode_kind(block, lay.kind().fields, ctx, wanted)}
    frames = {kind: _flagged(lay, kind, frame) for kind, frame in frames.items()}
    return DecodedBlock(frames, ProblemTable.of(ctx.problems).in_file_order(), consumed, count,
                        cur.counters if counters is not None else None)


def _decode_block(block: _Block, layout: Layout, ctx: _Context, kinds: set[str] | None,
                  wanted: set[str] | None, cur: _Cursor, *, count_trailers: bool = True
                  ) -> Iterator[tuple[str, pl.DataFrame]]:
    """Split a multi-record block by record type, decode each kind, check the trailers."""
    assert layout.record_type is not None  # noqa: S101 -- guaranteed by the loader
    if wanted is not None:  # trailer counts are checked whatever the caller selected
        wanted = wanted | {f.name for k in layout.records for f in k.fields if f.counts}
    rs, rl = layout.record_type
    tag = block.matrix[:, rs - 1:rs - 1 + rl]
    which = np.full(block.matrix.shape[0], -1, dtype=np.int64)
    for i, k in enumerate(layout.records):
        hit = (tag == np.frombuffer(k.match.encode("ascii"), dtype=np.uint8)).all(axis=1)
        which[hit] = i
    unknown = np.flatnonzero(which < 0)
    if len(unknown):
        ctx.add(ProblemTable.found(
            codes=("unknown-record-type",), code=np.zeros(len(unknown), np.intp),
            record=block.records[unknown].astype(np.int64),
            offset=block.offsets[unknown].astype(np.int64) + rs - 1,
            detail=_FieldBytes(np.ascontiguousarray(tag[unknown]), None, "none"),
            file=ctx.file, field=None, label=None))
    frames = {}
    for i, k in enumerate(layout.records):
        rows = np.flatnonzero(which == i)
        sub = _Block(block.matrix[rows], block.records[rows], block.offsets[rows])
        frame = _decode_fields(sub, k.fields, ctx, wanted)
        numbers = pl.Series("_record", sub.records)
        frame = frame.with_columns(numbers) if frame.width else numbers.to_frame()
        if ctx.locate:
            frame = frame.with_columns(pl.Series("_offset", sub.offsets))
        frames[k.name] = frame
    if count_trailers:
        _check_counts(layout, block, which, frames, ctx, cur)
    for k in layout.records:
        if (kinds is None or k.name in kinds) and frames[k.name].height:
            yield k.name, frames[k.name]


def _check_final_counts(layout: Layout, ctx: _Context, cur: _Cursor) -> None:
    """Records counted by a trailer but not followed by one: the trailer is missing."""
    for k in layout.records:
        for f in k.fields:
            left = cur.counters.get(f"{k.name}.{f.name}", 0) if f.counts else 0
            if left:
                ctx.add(_problem(ctx, "trailer-count", record=cur.record, offset=cur.offset,
                                 f=f, message=f"{f.counts}レコード{left}件の後に"
                                              f"{k.label or k.name}がありません"))


def _check_counts(layout: Layout, block: _Block, which: npt.NDArray[np.int64],
                  frames: dict[str, pl.DataFrame], ctx: _Context, cur: _Cursor) -> None:
    """A trailer field with ``counts = "data"`` must equal the records of that kind since
    the previous record of the trailer's kind (or the start of the file)."""
    names = [k.name for k in layout.records]
    for ti, k in enumerate(layout.records):
        for f in k.fields:
            if f.counts is None:
                continue
            ci = names.index(f.counts)
            key = f"{k.name}.{f.name}"
            running = cur.counters.get(key, 0)
            counted = np.cumsum(which == ci)
            trailer_rows = np.flatnonzero(which == ti)
            values = frames[k.name][f.name].to_list()
            before = 0
            for j, row in enumerate(trailer_rows):
                seen = running + int(counted[row]) - before
                before = int(counted[row])
                running = 0
                declared = values[j]
                if declared is not None and int(declared) != seen:
                    raw = block.matrix[row, f.offset:f.end].tobytes()
                    ctx.add(_problem(ctx, "trailer-count", record=int(block.records[row]),
                                     offset=int(block.offsets[row]) + f.offset, f=f, raw=raw,
                                     value=str(declared),
                                     message=f"件数{int(declared)}に対し{f.counts}レコードは"
                                             f"{seen}件です"))
            cur.counters[key] = running + int(counted[-1]) - before if len(counted) else running


def scan(source: str | Path, layout: Layout | str | Path, *, record: str | None = None,
         batch_size: int = DEFAULT_BATCH) -> pl.LazyFrame:
    """A LazyFrame over a file: only the columns a query selects are decoded, in batches.

    >>> lf = scan("fixtures/vendor-a/juki-kojin.dat", "examples/vendor-a/juki-kojin")
    >>> lf.select("atena_no").head(1).collect().item()
    '0000000001'
    """
    from polars.io.plugins import register_io_source  # noqa: PLC0415 -- optional API

    lay = load_layout(layout) if not isinstance(layout, Layout) else layout
    schema = _schema(lay, lay.kind(record))

    def source_gen(with_columns: list[str] | None, predicate: pl.Expr | None,
                   n_rows: int | None, size: int | None) -> Iterator[pl.DataFrame]:
        produced = 0
        for frame in read_batches(source, lay, record=record, columns=with_columns,
                                  batch_size=size or batch_size):
            out = frame.filter(predicate) if predicate is not None else frame
            if n_rows is not None:
                out = out.head(n_rows - produced)
                produced += out.height
            yield out
            if n_rows is not None and produced >= n_rows:
                return

    return register_io_source(source_gen, schema=schema)


def check_columns(df: pl.DataFrame, layout: Layout, kind: RecordKind) -> None:
    """Raise :class:`~chukan.errors.UsageError` when ``df`` lacks a column of ``kind``."""
    missing = [c for f in kind.fields for c in column_names(f)[:1] if c not in df.columns]
    if missing:
        msg = f"DataFrame lacks column(s) {', '.join(missing)} of layout {layout.name!r}"
        raise UsageError(msg)
