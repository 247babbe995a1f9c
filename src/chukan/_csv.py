"""CSV reading for :mod:`chukan.read`: any encoding, quoted fields, optional header row.

The bytes are cut into rows where a line feed falls outside quotes (a quote byte is never
a trail byte in CP932), decoded once per chunk, and parsed by Polars as all-String
columns; the field types are then applied by the same parsers as fixed-width files.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import polars as pl

from chukan._kernel import UNDEFINED_RE
from chukan.codec import FormatCheck, column_names, parse_expr, parse_field, select_checked
from chukan.layout import UTF8_BOM, codec_name

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy.typing as npt

    from chukan.layout import Field, Layout
    from chukan.read import _Context

_CHUNK = 32 << 20  # bytes decoded at once; rows never straddle two chunks


def iter_csv(fh: BinaryIO, layout: Layout, ctx: _Context, batch_size: int | None,
             wanted: set[str] | None) -> Iterator[pl.DataFrame]:
    """Yield typed DataFrames of at most ``batch_size`` rows."""
    from chukan.read import _problem  # noqa: PLC0415 -- shared helper, avoids a cycle

    enc = codec_name(layout.encoding)
    quote = ord(layout.quote)
    offset, record, carry = 0, 1, b""
    head = fh.read(len(UTF8_BOM))
    if head.startswith(UTF8_BOM):
        if layout.encoding != "utf-8-sig":
            ctx.add(_problem(ctx, "bom-unexpected", record=1, offset=0, raw=UTF8_BOM))
        offset, head = len(UTF8_BOM), head[len(UTF8_BOM):]
    carry = head
    header_pending = layout.header
    seen_any = False
    while True:
        more = fh.read(_CHUNK) if batch_size else fh.read()
        final = not more or not batch_size
        data = carry + more
        if not data:
            break
        arr = np.frombuffer(data, dtype=np.uint8)
        lf = np.flatnonzero(arr == 0x0A)
        quotes = np.flatnonzero(arr == quote)
        # a row ends at a line feed outside quotes: one after an even number of them
        ends = lf[np.searchsorted(quotes, lf) % 2 == 0] if len(quotes) else lf
        cut = int(ends[-1]) + 1 if len(ends) else 0
        if final:
            cut = len(data)
        if cut == 0:
            carry = data
            if final:
                break
            continue
        rows_end = ends[ends < cut] + 1
        if final and (not len(rows_end) or rows_end[-1] < cut):
            rows_end = np.append(rows_end, cut)
        starts = np.concatenate([np.zeros(1, dtype=rows_end.dtype), rows_end[:-1]])
        body = data[:cut]
        if header_pending:
            _check_header(body[: int(rows_end[0])], layout, ctx, enc)
            header_pending = False
            body_start = int(rows_end[0])
            starts, rows_end = starts[1:], rows_end[1:]
        else:
            body_start = 0
        frame, n_rows = _parse_rows(body[body_start:], starts, rows_end, body_start, layout,
                                    ctx, enc, offset, record, wanted)
        seen_any = seen_any or frame.height > 0
        offset += cut
        record += n_rows
        ctx.uncounted += n_rows - frame.height
        carry = data[cut:]
        step = batch_size or max(frame.height, 1)
        for i in range(0, max(frame.height, 1), step):
            part = frame.slice(i, step)
            if part.height:
                yield part
        if final:
            break
    if not seen_any and not ctx.problems:
        ctx.add(_problem(ctx, "empty-file", offset=0))


def _field_counts(body: bytes, starts: npt.NDArray[np.int64], layout: Layout
                  ) -> npt.NDArray[np.int64]:
    """Fields in each row: delimiters outside quotes, plus one (vectorised)."""
    arr = np.frombuffer(body, dtype=np.uint8)
    quotes = np.flatnonzero(arr == ord(layout.quote))
    at = np.flatnonzero(arr == ord(layout.delimiter))
    if len(quotes):  # a delimiter counts outside quotes: after an even number of them
        at = at[np.searchsorted(quotes, at) % 2 == 0]
    row = np.searchsorted(starts, at, side="right") - 1
    return np.bincount(row, minlength=len(starts)).astype(np.int64) + 1


def _rows_slowly(body: bytes, enc: str, layout: Layout
                 ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[list[str]]]:
    """Rare path: let the csv module find the rows (a quote inside an unquoted field is
    a plain character there), and map each back to its bytes through its line numbers."""
    text = body.decode(enc, "replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter,
                        quotechar=layout.quote)
    line_ends = np.concatenate([np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == 0x0A)
                                + 1, [len(body)]])
    rows, lo, hi = [], [], []
    previous = 0
    for row in reader:
        rows.append(row)
        lo.append(int(line_ends[previous - 1]) if previous else 0)
        hi.append(int(line_ends[min(reader.line_num, len(line_ends)) - 1]))
        previous = reader.line_num
    return np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64), rows


def _check_header(raw: bytes, layout: Layout, ctx: _Context, enc: str) -> None:
    from chukan.read import _problem  # noqa: PLC0415

    text = raw.decode(enc, "replace").rstrip("\r\n")
    names = next(csv.reader([text], delimiter=layout.delimiter, quotechar=layout.quote), [])
    expected = [f.name for f in layout.fields if f.type != "filler"]
    labels = [f.label for f in layout.fields if f.type != "filler"]
    if names not in (expected, labels):
        ctx.add(_problem(ctx, "csv-header", record=None, offset=0, raw=raw, raw_limit=64,
                         value=text, message="CSVの見出し行がレイアウトの項目名と一致しません: "
                                             f"期待 {','.join(expected)}"))


def _parse_rows(body: bytes, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64],
                base: int, layout: Layout,
                ctx: _Context, enc: str, offset: int, record: int,
                wanted: set[str] | None) -> tuple[pl.DataFrame, int]:
    """Parse the rows ``[starts[i], ends[i])`` (chunk positions; ``body`` begins at
    ``base``) into typed columns. Rows with the wrong number of fields are reported
    and left out, never padded with nulls or merged."""
    from chukan.read import _problem  # noqa: PLC0415

    fields = [f for f in layout.fields if f.type != "filler"]
    names = [f"c{i}" for i in range(len(fields))]
    schema = dict.fromkeys(names, pl.String)
    lo = np.asarray(starts, dtype=np.int64) - base
    hi = np.asarray(ends, dtype=np.int64) - base
    counts = _field_counts(body, lo, layout)
    keep = np.flatnonzero(counts == len(fields))
    # rows of the wrong width are left out (one join of slices, only when there are any)
    good = body if len(keep) == len(lo) else b"".join(body[lo[i]:hi[i]] for i in keep)
    raw: pl.DataFrame | None = pl.DataFrame(schema=schema)
    quote = layout.quote.encode()
    if any(quote in body[lo[i]:hi[i]] for i in np.flatnonzero(counts != len(fields))):
        raw = None  # a bad row holding a quote: the quote may have misled the splitter
    elif len(keep):
        try:
            # UTF-8 goes to Polars as it is: invalid bytes become U+FFFD there, as in
            # the codec, and are reported below
            data = good if enc == "utf-8" else good.decode(enc, "replace").encode("utf-8")
            raw = pl.read_csv(data, has_header=False, separator=layout.delimiter,
                              quote_char=layout.quote, schema=schema, encoding="utf8-lossy")
        except pl.exceptions.PolarsError:
            raw = None
        if raw is not None and raw.height != len(keep):
            raw = None  # a stray quote: the splitter and the parser disagree
    if raw is None:
        lo, hi, rows = _rows_slowly(body, enc, layout)
        fit = [i for i, row in enumerate(rows) if len(row) == len(fields)]
        counts = np.asarray([len(row) for row in rows], dtype=np.int64)
        raw = pl.DataFrame([rows[i] for i in fit], schema=schema, orient="row")
        keep = np.asarray(fit, dtype=np.int64)
    for i in np.flatnonzero(counts != len(fields)):
        ctx.add(_problem(ctx, "csv-columns", record=record + int(i),
                         offset=offset + base + int(lo[i]), raw=body[lo[i]:hi[i]],
                         raw_limit=64,
                         message=f"列数が{int(counts[i])}です(レイアウトは{len(fields)}列)"))
    raw = raw.with_columns(pl.when(pl.all() != "").then(pl.all()).name.keep())
    rec = keep
    records = record + rec
    offsets = offset + base + lo[rec] if len(rec) else rec
    row_starts, row_ends = lo + base, hi + base
    columns: dict[str, pl.Series] = {}

    def report(f: Field, mask: npt.NDArray[np.bool_], code: str, values: pl.Series,
               message: str | None = None) -> None:
        for i in np.flatnonzero(mask):
            value = values[int(i)]
            if code == "invalid-bytes":  # the decoded value lost them: show the row's bytes
                row = int(rec[i])
                raw = body[row_starts[row] - base:row_ends[row] - base]
            else:
                raw = (value or "").encode(enc, "replace")
            ctx.add(_problem(ctx, code, record=int(records[i]), offset=int(offsets[i]), f=f,
                             raw=raw, raw_limit=64, value=value, message=message))

    # control characters are errors; CR and LF are data inside a quoted value
    ctrl_re = r"[\x00-\x09\x0B\x0C\x0E-\x1F\x7F]"
    suspect = raw.select(pl.all().str.contains(UNDEFINED_RE[:-1] + ctrl_re[1:]).any()).row(0) \
        if raw.width else ()
    chosen = [(f, c) for f, c, odd in zip(fields, names, suspect, strict=True)
              if wanted is None or set(column_names(f)) & wanted]
    unusable: dict[str, npt.NDArray[np.bool_]] = {}  # rows nulled before parsing
    for f, cname, odd in zip(fields, names, suspect, strict=True):
        if not odd or (f, cname) not in chosen:
            continue  # rare from here on: find which values, and say what is wrong
        values = raw[cname]
        bad = values.str.contains(UNDEFINED_RE).fill_null(value=False)
        report(f, bad.to_numpy(), "invalid-bytes", values)
        ctrl = values.str.contains(ctrl_re).fill_null(value=False) & ~bad
        if ctrl.any():
            nul = values.str.contains("\x00", literal=True).fill_null(value=False)
            report(f, (ctrl & nul).to_numpy(), "nul-byte", values)
            report(f, (ctrl & ~nul).to_numpy(), "control-char", values)
            bad = bad | ctrl
        raw = raw.with_columns(values.set(bad, None))
        unusable[cname] = bad.to_numpy()
    # every field but dates parsed in one select (Polars spreads it over its threads);
    # dates are parsed on their bytes, in numpy
    exprs: list[pl.Expr] = []
    checks: list[FormatCheck] = []
    owners: list[tuple[Field, str, bool]] = []  # field, raw column, keep failing values
    for f, cname in chosen:
        if f.type == "date":
            continue
        out, fails, keep_bad = parse_expr(f, pl.col(cname), fixed=False)
        exprs += out
        if f.required:
            fails.append(("required-missing", "", pl.col(cname).is_null()))
        checks += fails
        owners += [(f, cname, keep_bad)] * len(fails)
    parsed, failed = select_checked(raw, exprs, checks)
    nulled: dict[str, npt.NDArray[np.bool_]] = {}  # field → rows whose value failed
    for k, failure in failed.items():
        f, cname, keep_bad = owners[k]
        mask = failure.mask
        if failure.code == "required-missing":  # not the values already found unusable
            report(f, mask & ~unusable.get(cname, np.zeros(len(mask), dtype=bool)),
                   failure.code, raw[cname])
            continue
        report(f, mask, failure.code, raw[cname], failure.message)
        if not keep_bad:
            nulled[f.name] = nulled.get(f.name, np.zeros(len(mask), dtype=bool)) | mask
    for f, cname in chosen:
        if f.type == "date":
            frame, failures = parse_field(f, raw[cname], fixed=False)
            for x in failures:
                report(f, x.mask, x.code, raw[cname], x.message)
            if f.required:
                mask = raw[cname].is_null().to_numpy()
                report(f, mask & ~unusable.get(cname, np.zeros(len(mask), dtype=bool)),
                       "required-missing", raw[cname])
            pieces = {c: frame[c] for c in frame.columns}
        else:
            value = parsed[f.name]
            if f.name in nulled:
                value = value.set(pl.Series(nulled[f.name]), None)
            pieces = {f.name: value}
        columns.update({c: v for c, v in pieces.items() if wanted is None or c in wanted})
    if ctx.locate:
        columns["_record"] = pl.Series(records, dtype=pl.Int64)
        columns["_offset"] = pl.Series(offsets, dtype=pl.Int64)
    return pl.DataFrame(columns), len(lo)
