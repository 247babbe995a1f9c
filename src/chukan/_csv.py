r"""CSV reading for :mod:`chukan.read`: any encoding, quoted fields, optional header row.

Rows are found on the bytes, so that every chunk starts at a true row start and the
result does not depend on the batch size. Where every quote stands where RFC 4180 puts
it (opening a field, doubled inside one, closing it before a delimiter or a line end),
a line feed ends a row when an even number of quotes precede it: whole-array numpy
work. Otherwise :func:`_scan` walks the quotes, delimiters and line feeds one by
one (a rare path) and says where each stray quote is. Rows are parsed per batch (Polars
reads the well-formed ones), so a batch carries its own problems; field types are then
applied by the same parsers as fixed-width files.

>>> split_cells(b'a,"b""c",d\r\n', ord(","), ord('"'))[0]
[(b'a', False), (b'b"c', True), (b'd', False)]
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, partial
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import polars as pl

from chukan import _core
from chukan._arrow import owned, text_column, view_series
from chukan._context import (
    EOF_MARKER,
    Tally,
    _Context,
    _problem,
    add_tallies,
    duplicate_suspects,
    eof_marker,
    line_problems,
)
from chukan._formula import GUARDED_TYPES, unguard, unguarded
from chukan._threads import submit, thread_count
from chukan.codec import (
    FormatCheck,
    column_names,
    csv_number_failure,
    csv_whole_digits,
    decimal_series,
    encode_text,
    format_expr,
    parse_expr,
    parse_field,
    prepare_for_encoding,
    select_checked,
    text_check,
    undefined_re,
)
from chukan.report import ProblemTable
from chukan.spec import MAX_PRECISION, UTF8_BOM, codec_name, starts_with_bom

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import numpy.typing as npt

    from chukan._codes import Severity
    from chukan.spec import Field, Layout

_CHUNK = 16 << 20  # bytes read at once; rows never straddle two chunks
#: The types whose values' length the reader checks in characters (``parse_expr``; a
#: digits value over its length fails its check, whose digits are one byte each).
_LIMITED = ("text", "code", "digits")
#: A row still open after this many bytes (a CR-only file, a quote never closed) is
#: cut there and reported, so that memory does not grow with the file
_MAX_ROW = 64 << 20

#: Control characters a CSV value may not hold, quoted or not (a tab too, in a
#: tab-delimited file): all but LF and CR. Read, they are ``control-char`` (or
#: ``nul-byte``); the writers refuse them.
CONTROL_RE = r"[\x00-\x09\x0B\x0C\x0E-\x1F\x7F]"

#: A CR that no LF follows: CR LF (and LF alone) inside quotes is a value's, a CR alone
#: would be read back as a line end by other tools.
BARE_CR_RE = r"\r(?:[^\n]|$)"

_LF, _CR = 0x0A, 0x0D
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def looks_utf16(head: bytes) -> bool:
    r"""A UTF-16 CSV: a UTF-16 byte-order mark, or NUL bytes beside its delimiters and
    line ends (UTF-16 without a BOM; in an 8-bit encoding a NUL is a rare error, and
    never beside several of them).

    >>> looks_utf16("氏名,住所".encode("utf-16")), looks_utf16(b"a,b")
    (True, False)
    >>> looks_utf16("氏名,住所\r\n".encode("utf-16-le")), looks_utf16(b"1,\x00,2\n")
    (True, False)
    """
    if head.startswith(UTF16_BOMS):
        return True
    sample = head[:400]
    nul = sample.count(0)
    beside = sum(sample.count(bytes(pair)) for c in b',\r\n"' for pair in ((c, 0), (0, c)))
    return nul * 10 >= len(sample) and beside >= 3


@dataclass(frozen=True, slots=True)
class _Rows:
    """Rows of a chunk: where each starts, where its content ends (before CR LF or LF)
    and where the next one starts; with the slow path, each row's cells too."""

    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    stop: npt.NDArray[np.int64]
    cells: list[list[tuple[int, int, bool]]] | None = None  # (start, end, quoted)
    #: row → (offset of its first misplaced quote, whether the value is in doubt)
    bad_quote: dict[int, tuple[int, bool]] | None = None

    def take(self, lo: int, hi: int) -> _Rows:
        bad = None if self.bad_quote is None else \
            {r - lo: at for r, at in self.bad_quote.items() if lo <= r < hi}
        return _Rows(self.start[lo:hi], self.end[lo:hi], self.stop[lo:hi],
                     None if self.cells is None else self.cells[lo:hi], bad)

    def __len__(self) -> int:
        return len(self.start)


def _content_end(arr: npt.NDArray[np.uint8], lf: npt.NDArray[np.int64],
                 start: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Where each row's content ends: before its CR LF, or its LF."""
    cr = (lf > start) & (arr[np.maximum(lf - 1, 0)] == _CR)
    return np.asarray(lf - cr, dtype=np.int64)


def _row_ends(arr: npt.NDArray[np.uint8], delim: int, quote: int, enc: str = ""
              ) -> tuple[npt.NDArray[np.int64], int, int]:
    r"""The line feeds that end rows (those after an even number of quotes), how many
    quotes there are, and where the first stands that RFC 4180 puts nowhere there (-1:
    none), so that counting the quotes before it tells inside from outside: the core's
    one pass; ``CHUKAN_KERNEL=python`` has numpy do it (the oracle of the tests).

    >>> ends, quotes, misplaced = _row_ends(np.frombuffer(b'"a\nb",c\nd"e\n', np.uint8),
    ...                                     ord(","), ord('"'))
    >>> ends.tolist(), quotes, misplaced
    ([7], 3, 9)

    In ``enc``, a quote after a delimiter that may be a character's second byte (CP932
    ``竹"``, 0x92 0x7C 0x22) counts as misplaced too: the chunk is then walked
    character by character (:func:`_scan`), where it may be no delimiter at all.
    """
    ends, n_quotes, misplaced = _row_ends_on_bytes(arr, delim, quote)
    if enc in _SJIS_FAMILY and 0x40 <= delim <= 0x7E:
        q = _places(arr, quote)
        after = q[(q >= 2) & (arr[np.maximum(q - 1, 0)] == delim) &
                  (arr[np.maximum(q - 2, 0)] >= 0x81)]
        if len(after) and (misplaced < 0 or after[0] < misplaced):
            misplaced = int(after[0])
    return ends, n_quotes, misplaced


def _row_ends_on_bytes(arr: npt.NDArray[np.uint8], delim: int, quote: int
                       ) -> tuple[npt.NDArray[np.int64], int, int]:
    """:func:`_row_ends`, every quote after a delimiter taken for one that opens a cell."""
    if os.environ.get("CHUKAN_KERNEL") != "python":
        return _core.csv_row_ends(arr, delim, quote)
    quotes = _places(arr, quote)
    lf = _places(arr, _LF)
    ends = lf[np.searchsorted(quotes, lf) % 2 == 0] if len(quotes) else lf
    misplaced = _misplaced_quote(arr, quotes, delim, len(arr))
    return ends, len(quotes), -1 if misplaced is None else misplaced


def _misplaced_quote(arr: npt.NDArray[np.uint8], quotes: npt.NDArray[np.int64], delim: int,
                     limit: int) -> int | None:
    """Where the first quote before ``limit`` stands that RFC 4180 puts nowhere there
    (vectorised). An even-numbered quote opens a field (at its start) or is the second
    of a doubled one; an odd-numbered one closes a field (before a delimiter, CR or LF,
    or at the end) or starts a doubled one."""
    q = quotes[quotes < limit]
    if not len(q):
        return None
    n = len(arr)
    k = np.arange(len(q))
    prev = arr[np.maximum(q - 1, 0)]
    nxt = arr[np.minimum(q + 1, n - 1)]
    pair_before = np.zeros(len(q), dtype=bool)
    pair_before[1:] = q[1:] == q[:-1] + 1
    pair_after = np.zeros(len(q), dtype=bool)
    pair_after[:-1] = q[:-1] + 1 == q[1:]
    opening = (q == 0) | (prev == delim) | (prev == _LF) | pair_before
    closing = (q == n - 1) | (nxt == delim) | (nxt == _LF) | (nxt == _CR) | pair_after
    # a CR after a closing quote must end the row
    cr_next = (nxt == _CR) & ~pair_after & (q + 1 < n - 1)
    cr_ok = ~cr_next | (arr[np.minimum(q + 2, n - 1)] == _LF)
    bad = np.flatnonzero(~np.where(k % 2 == 0, opening, closing & cr_ok))
    return int(q[bad[0]]) if len(bad) else None


@cache
def _pairs(enc: str) -> npt.NDArray[np.bool_]:
    """Which two bytes ``enc`` (CP932, Shift_JIS) decodes as one character, by lead byte
    0x80–0xFF and second byte (128 × 256), as CPython's codec decodes them: a lead byte
    before a byte it does not pair with is an error of one byte, and that byte is read
    on its own."""
    table = np.zeros(128 * 256, dtype=bool)
    for k in range(128 * 256):
        text = bytes((0x80 + k // 256, k % 256)).decode(enc, "replace")
        table[k] = len(text) == 1 and text != "\ufffd"
    return table


def second_bytes(data: bytes, delim: int, enc: str) -> npt.NDArray[np.int64]:
    r"""Where a delimiter byte in ``data`` is the second byte of a CP932 or Shift_JIS
    character (``|`` is 0x7C, and 0x83 0x7C is ポ, 0x92 0x7C 竹): that character's, not
    a delimiter, as every reader of the encoding reads it. A lead byte before a byte it
    does not pair with (0x85 0x7C) leaves the delimiter one. Empty for other encodings
    and for delimiters no character ends with (a comma, a tab).

    >>> second_bytes("竹|ポ|x".encode("cp932"), ord("|"), "cp932").tolist()
    [1, 4]
    >>> second_bytes(b"\x85|\x81|", ord("|"), "cp932").tolist()
    [3]
    """
    none = np.zeros(0, dtype=np.int64)
    if enc not in _SJIS_FAMILY or not 0x40 <= delim <= 0x7E:
        return none
    arr = np.frombuffer(data, dtype=np.uint8)
    at = np.flatnonzero(arr[1:] == delim) + 1
    at = at[arr[at - 1] >= 0x81]  # (a lead byte before it: rare)
    if not len(at):
        return none
    pairs = _pairs(enc)
    # a byte below 0x40 is never a second byte: a character starts after it, and the
    # bytes from there to the delimiter are walked, character by character, on from
    # where the walk to the last one stopped where that is further (each byte is walked
    # once: a row of 竹|竹|… had been walked again from its start for each |)
    starts = np.flatnonzero(arr < 0x40)
    found: list[int] = []
    i = 0
    for p in at.tolist():
        k = int(np.searchsorted(starts, p)) - 1
        i = max(i, int(starts[k]) + 1 if k >= 0 else 0)
        while i < p:
            b = data[i]
            i += 2 if b >= 0x80 and pairs[(b - 0x80) * 256 + data[i + 1]] else 1
        if i > p:
            found.append(p)
    return np.asarray(found, dtype=np.int64)


def split_cells(data: bytes, delim: int, quote: int, enc: str = ""
                ) -> list[list[tuple[bytes, bool]]]:
    r"""The cells of each row of ``data`` (in ``enc``, a Python codec), as (bytes,
    quoted), found by :func:`_scan`.

    >>> split_cells("竹|x".encode("cp932"), ord("|"), ord('"'), "cp932")[0]
    [(b'\x92|', False), (b'x', False)]
    """
    rows, _ = _scan(data, delim, quote, final=True, enc=enc)
    return [[(_cell_value(data, c, quote), c[2]) for c in cells] for cells in rows.cells or []]


def _scan(data: bytes, delim: int, quote: int, *, final: bool, enc: str = ""
          ) -> tuple[_Rows, int]:
    """Rare path: walk the quotes, delimiters and line feeds of ``data`` one by one, as a
    CSV reader does (a quote not at a field's start is a plain character, and is noted);
    the rows, with their cells, and the bytes they cover. In ``enc`` (a Python codec), a
    delimiter that is a character's second byte is the character's (see
    :func:`second_bytes`)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    n = len(arr)
    found = np.flatnonzero((arr == quote) | (arr == delim) | (arr == _LF))
    seconds = second_bytes(data, delim, enc)
    if len(seconds):
        found = np.setdiff1d(found, seconds, assume_unique=True)
    events: list[int] = found.tolist()
    starts: list[int] = []
    ends: list[int] = []
    stops: list[int] = []
    all_cells: list[list[tuple[int, int, bool]]] = []
    bad: dict[int, tuple[int, bool]] = {}
    row_start = field_start = 0
    cells: list[tuple[int, int, bool]] = []
    in_quotes = quoted = False
    closed_at = -1  # where the current field's closing quote stands
    skip = -1

    def misplaced(at: int, *, doubt: bool) -> None:
        """A quote where a field cannot have one: read as a plain character inside an
        unquoted field (``ab"c``); after a closing quote or never closed, the value
        itself is in doubt."""
        if len(starts) not in bad or (doubt and not bad[len(starts)][1]):
            bad[len(starts)] = (at, doubt)

    def end_field(at: int) -> None:
        nonlocal field_start, quoted, closed_at
        if quoted and closed_at >= 0 and at != closed_at + 1:
            misplaced(closed_at + 1, doubt=True)  # something after the closing quote
        cells.append((field_start, at, quoted))
        field_start, quoted, closed_at = at + 1, False, -1

    for p in events:
        if p == skip:
            continue
        b = data[p]
        if in_quotes:
            if b == quote:
                if p + 1 < n and data[p + 1] == quote:
                    skip = p + 1  # a doubled quote: data
                else:
                    in_quotes, closed_at = False, p
            continue
        if b == quote:
            if p == field_start and not quoted:
                in_quotes = quoted = True
            else:
                misplaced(p, doubt=False)
        elif b == delim:
            end_field(p)
        else:  # LF: the row ends
            end = p - 1 if p > row_start and data[p - 1] == _CR else p
            end_field(end)
            starts.append(row_start)
            ends.append(end)
            stops.append(p + 1)
            all_cells.append(cells)
            cells = []
            row_start = field_start = p + 1
    cut = row_start
    if final and row_start < n:  # a last row without a line feed
        if in_quotes:
            misplaced(field_start, doubt=True)  # a quote never closed
        end_field(n)
        starts.append(row_start)
        ends.append(n)
        stops.append(n)
        all_cells.append(cells)
        cut = n
    # a stray quote of a row not yet ended is that row's: said when its end is read
    bad = {row: at for row, at in bad.items() if row < len(starts)}
    as_array = np.asarray
    return _Rows(as_array(starts, dtype=np.int64), as_array(ends, dtype=np.int64),
                 as_array(stops, dtype=np.int64), all_cells, bad), cut


def _walked(data: bytes, rows: _Rows, layout: Layout) -> _Rows:
    r"""The same rows, each walked on its own for its cells (a rare path): the rows stay
    where they were found, whatever the batch, so the results do not depend on it. A
    row the walk ends early (a line feed the row finder took for quoted) keeps every
    cell of what follows, and its quotes are in doubt: it is reported, and left out
    with its bytes, never cut to its first line.

    >>> from chukan.spec import load_layout
    >>> lay = load_layout("examples/vendor-a/juki-kojin-csv")
    >>> one = _Rows(np.array([0]), np.array([7]), np.array([8]))
    >>> walked = _walked(b'a,b\nc,d\n', one, lay)
    >>> walked.cells, walked.bad_quote
    ([[(0, 1, False), (2, 3, False), (4, 5, False), (6, 7, False)]], {0: (3, True)})
    """
    delim, quote = ord(layout.delimiter), ord(layout.quote)
    enc = codec_name(layout.encoding)
    cells: list[list[tuple[int, int, bool]]] = []
    bad: dict[int, tuple[int, bool]] = dict(rows.bad_quote or {})
    for i, (start, end) in enumerate(zip(rows.start.tolist(), rows.end.tolist(),
                                         strict=True)):
        one, _ = _scan(data[start:end], delim, quote, final=True, enc=enc)
        found = [c for row in one.cells for c in row] if one.cells else [(0, 0, False)]
        cells.append([(start + a, start + b, q) for a, b, q in found])
        if len(one.start) > 1:
            bad[i] = (start + int(one.stop[0]) - 1, True)
        elif one.bad_quote and 0 in one.bad_quote and i not in bad:
            at, doubt = one.bad_quote[0]
            bad[i] = (start + at, doubt)
    return _Rows(rows.start, rows.end, rows.stop, cells, bad)


def _cell_value(data: bytes, cell: tuple[int, int, bool], quote: int) -> bytes:
    """A cell's bytes: a quoted one without its ``quote`` characters and with doubled ones
    undone (the layout's quote: a ``'`` had been taken for data, the value kept with it).

    >>> _cell_value(b"'O''Neil'", (0, 9, True), ord("'"))
    b"O'Neil"
    """
    start, end, quoted = cell
    raw = data[start:end]
    if not quoted:
        return raw
    mark = bytes((quote,))
    inner = raw[1:-1] if len(raw) >= 2 and raw.endswith(mark) else raw[1:]
    return inner.replace(mark * 2, mark)


def _places(arr: npt.NDArray[np.uint8], byte: int) -> npt.NDArray[np.int64]:
    r"""Where ``byte`` stands in ``arr``: found by the core with SIMD (numpy compared
    every byte, then gathered the hits: three times as long); ``CHUKAN_KERNEL=python``
    has numpy do it.

    >>> _places(np.frombuffer(b'a,"b"\n', dtype=np.uint8), ord('"')).tolist()
    [2, 4]
    """
    if os.environ.get("CHUKAN_KERNEL") == "python":
        return np.flatnonzero(arr == byte).astype(np.int64)
    return _core.byte_places(arr, byte)


def _split_rows(data: bytes, layout: Layout, *, final: bool) -> tuple[_Rows, int]:
    """The whole rows of ``data`` and how many bytes they cover (the rest waits for the
    next chunk; with ``final``, the rest is the last row)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    quote, delim = ord(layout.quote), ord(layout.delimiter)
    # a row ends at a line feed outside quotes: one after an even number of them
    ends, n_quotes, misplaced = _row_ends(arr, delim, quote, codec_name(layout.encoding))
    cut = int(ends[-1]) + 1 if len(ends) else 0
    if final:
        cut = len(data)
    elif not cut and len(data) > _MAX_ROW:
        cut = len(data)  # no row end in sight: reported as one row without terminator
        final = True
    # a CR that ends no row sits in a value: a control character there, which only the
    # walk below locates
    cr = _places(arr[:cut], _CR)
    bare_cr = bool(len(cr)) and bool(
        ((cr + 1 >= len(arr)) | (arr[np.minimum(cr + 1, len(arr) - 1)] != _LF)).any())
    unclosed = final and n_quotes % 2 == 1  # (then every quote is before the cut)
    if bare_cr or unclosed or 0 <= misplaced < cut:
        return _scan(data[:cut] if final else data, delim, quote, final=final,
                     enc=codec_name(layout.encoding))
    ends = ends[ends < cut]
    stop = (ends + 1).astype(np.int64)
    start = np.concatenate([np.zeros(min(len(stop), 1), dtype=np.int64), stop[:-1]]
                           ).astype(np.int64)
    end = _content_end(arr, ends.astype(np.int64), start)
    if final and (not len(stop) or stop[-1] < cut):  # a last row without a line feed
        start = np.append(start, stop[-1] if len(stop) else 0)
        end = np.append(end, cut)
        stop = np.append(stop, cut)
    return _Rows(start, end, stop), cut


@dataclass(frozen=True, slots=True)
class Span:
    """A range of a CSV file read on its own (a Spark task's), from ``offset``, where a
    row starts, to its end, where one ends (or the file ends). Its first row
    is record ``record``; ``header``, the file's header row, names a later range's
    columns. What only the whole file shows is left to whoever joins the ranges: the
    problems counted over the file (in ``tallies``, to add up), an empty file, and which
    encoding a misread file looks like."""

    offset: int
    record: int
    header: bytes | None = None
    tallies: dict[str, Tally] = field(default_factory=dict)


#: where the single-process reader's reads end, past its first 400 bytes: a range read
#: on its own reads to the same places, so that even a row too long to wait for is cut
#: where that reader cuts it
_HEAD_READ = 400


def row_cuts(read_at: Callable[[int, int], bytes], start: int, end: int, step: int, *,
             delimiter: int, quote: int, scan: int) -> tuple[list[tuple[int, int]], str | None]:
    r"""Where a CSV file (its rows from ``start`` to ``end``, read through ``read_at``) may
    be cut into ranges read on their own: the first row start at or after every ``step``
    bytes, with the number of rows before it. Rows end where :func:`iter_csv` ends them
    (a line feed after an even number of quotes, read ``scan`` bytes at a time); past a
    quote that RFC 4180 does not put there, or a row longer than ``scan``, no more cuts
    are made, and the reason is returned (only a read from the file's start tells rows
    apart there).

    >>> data = b'a,b\n"1\n2",3\n4,5\n6,7\n'
    >>> def cuts(scan):
    ...     return row_cuts(lambda at, n: data[at:at + n], 0, len(data), 5,
    ...                     delimiter=ord(","), quote=ord('"'), scan=scan)
    >>> cuts(1 << 20)
    ([(12, 2), (16, 3)], None)
    >>> cuts(8)
    ([(12, 2), (16, 3)], None)
    >>> cuts(4)
    ([], 'a row is longer than 4 bytes')
    """
    cuts: list[tuple[int, int]] = []
    rows = 0  # rows ending before ``at``, a row start
    at, target = start, start + step
    while target < end:
        data = read_at(at, min(scan, end - at))
        ends, _, bad = _row_ends(np.frombuffer(data, dtype=np.uint8), delimiter, quote)
        if not len(ends):
            return cuts, f"a row is longer than {scan} bytes"
        upto = int(ends[-1]) + 1
        why = None
        if 0 <= bad < upto:  # the rows before it are still told apart by counting
            why = f"a quote at byte {at + bad} stands where RFC 4180 puts none"
            ends = ends[ends < bad]
            upto = int(ends[-1]) + 1 if len(ends) else 0
        while target - 1 - at < upto:
            i = int(np.searchsorted(ends, target - 1 - at))  # the first row end from there
            if i == len(ends):
                break
            cut = at + int(ends[i]) + 1
            if cut >= end - 1:  # (nothing, or only an end-of-file byte, after it)
                return cuts, None
            cuts.append((cut, rows + i + 1))
            # the next a whole step on, however long this row
            target += step * ((cut - target) // step + 1)
        if why is not None:
            return cuts, why
        rows += len(ends)
        at += upto
    return cuts, None


def iter_csv(fh: BinaryIO, layout: Layout, ctx: _Context, batch_size: int | None,
             wanted: set[str] | None, span: Span | None = None) -> Iterator[pl.DataFrame]:
    """Yield typed DataFrames of at most ``batch_size`` rows, each with the problems of
    its own rows in ``ctx`` when it is yielded; with ``span``, of that range only."""
    enc = codec_name(layout.encoding)
    offset, record = 0, 1
    header_pending = layout.header
    columns = _Columns.plain(layout)
    first_read = _CHUNK
    if span is not None and span.offset:
        offset, record, header_pending = span.offset, span.record, False
        if layout.header:  # the file's columns, as its first range found them
            found = _check_header(span.header or b"", layout, _Context(layout, ctx.file))
            if found is None:  # (the planner does not cut such a file)
                return
            columns = found
        carry, start = b"", -1
        first_read = _HEAD_READ + _CHUNK - offset if offset < _HEAD_READ + _CHUNK else \
            _CHUNK - (offset - _HEAD_READ) % _CHUNK
    else:
        head = fh.read(_HEAD_READ)
        ctx.head = head
        if looks_utf16(head):
            ctx.add(_problem(ctx, "wrong-encoding", offset=0, raw=head[:4],
                             message=f"UTF-16のファイルです(レイアウトの文字コードは"
                                     f"{layout.encoding})。UTF-8かCP932で書き出してください"))
            return
        if starts_with_bom(head, layout.encoding):
            if layout.encoding != "utf-8-sig":
                ctx.add(_problem(ctx, "bom-unexpected", record=1, offset=0, raw=UTF8_BOM))
            offset, head = len(UTF8_BOM), head[len(UTF8_BOM):]
        carry = head
        start = offset  # where the data starts (after a BOM)
    seen_any = False
    # a batch's rows are parsed on a thread of their own while the caller works on the
    # batch before (a conversion maps and writes it: reading the CSV in the caller's
    # thread alone was two thirds of converting back); each batch's problems are found
    # in a context of its own and joined to ``ctx``, in order, as the batch is yielded
    pending: deque[tuple[Future[tuple[pl.DataFrame, _Context]], int]] = deque()

    def parse(data: bytes, part: _Rows, offset: int, record: int, *, final: bool
              ) -> tuple[pl.DataFrame, _Context]:
        own = _Context(layout, ctx.file, locate=ctx.locate, dropped=ctx.dropped,
                       head=ctx.head)
        frame = _parse_rows(data, part, layout, own, enc, offset, record, wanted,
                            columns, final=final)
        return frame, own

    def finish() -> Iterator[pl.DataFrame]:
        done, n = pending.popleft()
        frame, own = done.result()
        ctx.problems.extend(own.problems)
        add_tallies(ctx.tallies, own.tallies)
        ctx.uncounted += n - frame.height
        if frame.height:
            yield frame

    pool = ThreadPoolExecutor(1, thread_name_prefix="chukan-csv")
    try:
        while True:
            more = fh.read(first_read) if batch_size else fh.read()
            first_read = _CHUNK
            final = not more or not batch_size
            data = carry + more
            if not data:
                break
            if final and data.endswith(EOF_MARKER) and (len(data) == 1 or
                                                         data[-2:-1] == b"\n"):
                data = data[:-1]  # the DOS end-of-file byte after the last row
                while pending:  # (said after the rows before it)
                    yield from finish()
                eof_marker(ctx, offset + len(data))
            if not data:  # it was all that followed the last chunk's rows
                break
            if offset == start and len(ctx.head) < 1 << 16:  # the file's start, once
                ctx.head = data[:1 << 16]
            rows, cut = _split_rows(data, layout, final=final)
            carry = data[cut:]
            if header_pending and len(rows):
                found = _check_header(data[rows.start[0]:rows.end[0]], layout, ctx)
                if found is None:
                    return  # the columns are in doubt: nothing more is read
                columns = found
                header_pending = False
                _check_terminators(data, rows.take(0, 1), layout, ctx, offset, None,
                                   final=final and len(rows) == 1)
                rows = rows.take(1, len(rows))
            step = batch_size or max(len(rows), 1)
            for lo in range(0, len(rows), step):
                part = rows.take(lo, lo + step)
                last = final and lo + step >= len(rows)
                if batch_size:
                    done = submit(pool, parse, data, part, offset, record, final=last)
                else:  # (the whole file at once, as read() asks: nothing to overlap)
                    done = Future()
                    done.set_result(parse(data, part, offset, record, final=last))
                pending.append((done, len(part)))
                record += len(part)
                seen_any = seen_any or len(part) > 0
                if len(pending) > 1:
                    yield from finish()
            offset += cut
            if final:
                break
        while pending:
            yield from finish()
    finally:  # (a caller that stops early waits for the batch being parsed)
        pool.shutdown(wait=True, cancel_futures=True)
    if span is not None:
        add_tallies(span.tallies, ctx.tallies)
        ctx.tallies.clear()
        return
    ctx.say_tallies()
    if not seen_any and not ctx.problems:
        ctx.add(_problem(ctx, "empty-file", offset=0))


def _field_counts(data: bytes, rows: _Rows, layout: Layout) -> npt.NDArray[np.int64]:
    """Fields in each row: delimiters outside quotes, plus one (vectorised)."""
    if rows.cells is not None:
        return np.asarray([len(c) for c in rows.cells], dtype=np.int64)
    lo, hi = int(rows.start[0]), int(rows.stop[-1])
    arr = np.frombuffer(data, dtype=np.uint8)[lo:hi]
    quotes = np.flatnonzero(arr == ord(layout.quote))
    at = np.flatnonzero(arr == ord(layout.delimiter))
    if len(quotes):  # a delimiter counts outside quotes: after an even number of them
        at = at[np.searchsorted(quotes, at) % 2 == 0]
    row = np.searchsorted(rows.start - lo, at, side="right") - 1
    return np.bincount(row, minlength=len(rows)).astype(np.int64) + 1


def _cell_starts(data: bytes, rows: _Rows, keep: npt.NDArray[np.int64], layout: Layout,
                 n_fields: int) -> npt.NDArray[np.int64]:
    """Where each cell of the kept rows starts (rows × fields, chunk positions)."""
    out = np.empty((len(keep), n_fields), dtype=np.int64)
    if rows.cells is not None:
        for j, i in enumerate(keep):
            out[j] = [c[0] for c in rows.cells[int(i)]]
        return out
    if not len(keep):
        return out
    lo, hi = int(rows.start[0]), int(rows.stop[-1])
    arr = np.frombuffer(data, dtype=np.uint8)[lo:hi]
    quotes = np.flatnonzero(arr == ord(layout.quote))
    at = np.flatnonzero(arr == ord(layout.delimiter))
    if len(quotes):
        at = at[np.searchsorted(quotes, at) % 2 == 0]
    at = at + lo
    first = np.searchsorted(at, rows.start[keep])
    out[:, 0] = rows.start[keep]
    for k in range(1, n_fields):
        out[:, k] = at[first + k - 1] + 1
    return out


@dataclass(frozen=True, slots=True)
class _Columns:
    """Where the layout's fields stand in the file: ``order[k]`` is the file column of
    field ``k`` (-1: not in the file), ``width`` the file's number of columns."""

    order: tuple[int, ...]
    width: int

    @classmethod
    def plain(cls, layout: Layout) -> _Columns:
        n = sum(1 for f in layout.fields if f.type != "filler")
        return cls(tuple(range(n)), n)


def header_cells(raw: bytes, layout: Layout) -> list[str]:
    """The cells of a header row, decoded."""
    enc = codec_name(layout.encoding)
    cells = _scan(raw, ord(layout.delimiter), ord(layout.quote), final=True,
                  enc=enc)[0].cells
    return [_cell_value(raw, c, ord(layout.quote)).decode(enc, "replace")
            for c in (cells[0] if cells else [])]


def match_header(names: list[str], layout: Layout) -> tuple[list[int], list[str]]:
    """Each field's column among the header ``names`` (by name, or by label: whichever
    finds more; -1 where neither does), and the header's columns no field takes."""
    fields = [f for f in layout.fields if f.type != "filler"]
    position = {n: i for i, n in reversed(list(enumerate(names)))}
    by_name = [position.get(f.name, -1) for f in fields]
    by_label = [position.get(f.label, -1) if f.label else -1 for f in fields]
    prefer_label = layout.header_text == "label"
    score = (sum(i >= 0 for i in by_name), sum(i >= 0 for i in by_label))
    order = by_label if score[1] > score[0] or (score[1] == score[0] and prefer_label) \
        else by_name
    taken = set(order)
    return order, [n for i, n in enumerate(names) if i not in taken]


def _first_difference(names: list[str], layout: Layout) -> str:
    """Where the header first departs from the layout's own, for the message.

    >>> from chukan.spec import load_layout
    >>> lay = load_layout("examples/vendor-a/juki-kojin-csv")
    >>> _first_difference(["宛名番号", "氏 名"], lay)
    '。最初に異なる列: 2列目 "氏 名"(レイアウトでは "氏名" shimei_kanji)'
    """
    fields = [f for f in layout.fields if f.type != "filler"]
    for j, f in enumerate(fields):
        expected = f.label if layout.header_text == "label" and f.label else f.name
        if j >= len(names):
            return f"。最初に異なる列: {j + 1}列目がありません(レイアウトでは \"{expected}\")"
        if names[j] != expected:
            return (f"。最初に異なる列: {j + 1}列目 \"{names[j]}\"(レイアウトでは "
                    f"\"{expected}\" {f.name})")
    return ""


def _check_header(raw: bytes, layout: Layout, ctx: _Context) -> _Columns | None:
    """The file's columns found by the header (any order); None when the file cannot be
    read: a required field's column missing, or columns the layout does not allow."""
    names = header_cells(raw, layout)
    fields = [f for f in layout.fields if f.type != "filler"]
    order, extra = match_header(names, layout)
    missing = [f for f, i in zip(fields, order, strict=True) if i < 0]
    text = raw.decode(codec_name(layout.encoding), "replace")
    hint = "(改行コードがCRだけのファイルです)" if b"\r" in raw else ""
    if "\ufffd" in text:  # the header itself does not decode: say what it looks like
        from chukan._inspect import encoding_hint  # noqa: PLC0415 -- only when needed

        found = encoding_hint(ctx.head or raw, layout)
        hint += f"({found})" if found else ""
    shown = "、".join(extra[:10]) + (f" ほか{len(extra) - 10}列" if len(extra) > 10 else "")

    def refuse(message: str) -> None:  # the header itself is the problem's value
        where = _first_difference(names, layout)
        ctx.add(_problem(ctx, "csv-header", record=None, offset=0, raw=raw, raw_limit=64,
                         value=text, message=f"CSVの見出し行がレイアウトと一致しません"
                                             f"{hint}: {message}{where}"))

    required = [f for f in missing if f.required]
    if required or (missing and len(missing) == len(fields)):
        gone = required or missing
        refuse("必要な列がありません: " + "、".join(
            f"{f.label or f.name}({f.name})" for f in gone))
        return None
    if extra and not layout.extra_columns:
        refuse(f"レイアウトにない列があります: {shown}"
               "(レイアウトの extra_columns = true で読み飛ばせます)")
        return None
    if extra:  # said once: these columns are not read
        ctx.add(_problem(ctx, "csv-extra-columns", record=None, offset=0,
                         message=f"レイアウトにない{len(extra)}列を読み飛ばしました: {shown}"))
    if missing:
        ctx.add(_problem(ctx, "csv-missing-columns", record=None, offset=0,
                         message="ファイルにない列は空として読みました: " + "、".join(
                             f"{f.label or f.name}({f.name})" for f in missing)))
    present = [i for i in order if i >= 0]
    if present != sorted(present):
        ctx.add(_problem(ctx, "csv-column-order", record=None, offset=0,
                         message="列の順番がレイアウトと異なります(見出しで読みました。"
                                 "書き出すとレイアウトの順になります)"))
    return _Columns(tuple(order), len(names))


def _raw_frame(data: bytes, rows: _Rows, keep: npt.NDArray[np.int64], enc: str,
               layout: Layout, names: list[str]) -> pl.DataFrame:
    """The kept rows' cells as String columns ``names``."""
    schema = dict.fromkeys(names, pl.String)
    if not len(keep):
        return pl.DataFrame(schema=schema)
    if rows.cells is not None:  # the slow path has its cells already
        quote = ord(layout.quote)
        values = [[_cell_value(data, c, quote).decode(enc, "replace")
                   for c in rows.cells[int(i)]] for i in keep]
        return pl.DataFrame(values, schema=schema, orient="row")
    lo, hi = int(rows.start[0]), int(rows.stop[-1])
    # rows of the wrong width are left out (one join of slices, only when there are any)
    good = data[lo:hi] if len(keep) == len(rows) else \
        b"".join(data[rows.start[i]:rows.stop[i]] for i in keep)
    if not good.endswith(b"\n"):
        good += b"\n"
    # UTF-8 goes to Polars as it is: invalid bytes become U+FFFD there, as in the codec,
    # and are reported below
    if enc == "utf-8":
        text = good
    elif os.environ.get("CHUKAN_KERNEL") != "python":
        text = _core.transcode(good, enc)  # as CPython's decode(enc, "replace"), compiled
    else:
        text = good.decode(enc, "replace").encode("utf-8")
    # Polars reads data that starts as compressed data does (x 0x01 is zlib's mark) as
    # compressed, and takes a BOM off the start (a value's U+FEFF after a utf-8-sig
    # file's own BOM): then a first row of empty cells goes before it, and is dropped
    guarded = text.startswith((*_COMPRESSED, UTF8_BOM))
    if guarded:
        text = layout.delimiter.encode() * (len(names) - 1) + b"\n" + text
    frame = pl.read_csv(text, has_header=False, separator=layout.delimiter,
                        quote_char=layout.quote, schema=schema, encoding="utf8-lossy")
    return frame.slice(1) if guarded else frame


#: The marks of gzip, zlib and zstd data, which Polars' CSV reader decompresses.
_COMPRESSED = (b"\x1f\x8b", b"x\x01", b"x\x5e", b"x\x9c", b"x\xda", b"\x28\xb5\x2f\xfd")


#: Shift_JIS-family encodings, whose trail bytes include some ASCII (0x40–0x7E)
_SJIS_FAMILY = ("cp932", "shift_jis")


def _paired_across(data: bytes, rows: _Rows, layout: Layout, enc: str) -> bool:
    r"""Whether a possible lead byte stands just before a delimiter or quote that is also
    a trail byte (``|`` is 0x7C): such rows are walked (:func:`_scan`), which takes a
    delimiter for the character's where the encoding pairs the two (0x83 0x7C is ポ:
    :func:`second_bytes`) and cuts the cells there otherwise, as the core does; each
    cell is then decoded alone, so that a lead byte left unpaired is an error of its
    own cell.

    >>> from chukan.spec import load_layout
    >>> lay = load_layout("examples/vendor-a/juki-kojin-csv")
    >>> rows = _Rows(np.array([0]), np.array([3]), np.array([3]))
    >>> _paired_across(b"a\x81,", rows, lay, "cp932")  # a comma is no trail byte
    False
    """
    trail = [b for b in (ord(layout.delimiter), ord(layout.quote)) if 0x40 <= b <= 0x7E]
    if enc not in _SJIS_FAMILY or not trail or not len(rows):
        return False
    arr = np.frombuffer(data, dtype=np.uint8)[int(rows.start[0]):int(rows.stop[-1])]
    lead = ((arr[:-1] >= 0x81) & (arr[:-1] <= 0x9F)) | (arr[:-1] >= 0xE0)
    return bool((lead & np.isin(arr[1:], trail)).any())


def _core_cells(data: bytes, rows: _Rows, layout: Layout, enc: str, names: list[str],
                checks: list[str], limits: list[int]
                ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], pl.DataFrame,
                           npt.NDArray[np.int64], list[bool], bool, list[bool]] | None:
    """The rows' cells by the core, where it can cut them (rows whose quotes all stand
    where RFC 4180 puts them, an encoding it decodes, one-byte delimiter and quote):
    fields per row, the rows of the right width, their values as String columns
    ``names`` (null where a cell is empty; decoded as ``decode(enc, "replace")``, so
    every undecodable byte shows), where their cells start, which columns may hold a
    control character or an undecodable byte (never fewer than do), whether a cell of
    those rows was quoted, and which columns have a value failing its check in
    ``checks`` (by :func:`text_check`'s names) or holding more characters than its limit
    in ``limits`` (0: none). None where the Python path reads them."""
    delimiter, quote = layout.delimiter.encode(), layout.quote.encode()
    if rows.cells is not None or len(delimiter) != 1 or len(quote) != 1 or \
            os.environ.get("CHUKAN_KERNEL") == "python":
        return None
    cut = _core.csv_cells(np.frombuffer(data, dtype=np.uint8), rows.start, rows.end,
                          len(names), delimiter[0], quote[0], enc, thread_count(), checks,
                          limits)
    keep = cut["kept"]
    # an empty cell is no value (null), read from the length each view starts with
    raw = pl.DataFrame([view_series(len(keep), views, buffers,
                                    views.view("<u4")[::4] != 0).alias(name)
                        for name, (views, buffers) in zip(names, cut["columns"], strict=True)])
    return (cut["counts"], keep, raw, cut["starts"].reshape(len(keep), len(names)),
            cut["suspect"], cut["quoted"], cut["failing"])


def _parse_rows(data: bytes, rows: _Rows, layout: Layout, ctx: _Context, enc: str,
                offset: int, record: int, wanted: set[str] | None, columns_at: _Columns,
                *, final: bool) -> pl.DataFrame:
    """Parse ``rows`` (chunk positions; the chunk starts at file ``offset``) into typed
    columns. Rows with the wrong number of fields are reported and left out, never
    padded with nulls or merged; misplaced quotes and terminators are reported."""
    fields = [f for f in layout.fields if f.type != "filler"]
    names = [f"c{i}" for i in range(len(fields))]
    width, order = columns_at.width, columns_at.order
    file_names = [f"x{j}" for j in range(width)]
    # each file column's character check and length (in characters), judged by the
    # core as it cuts the cells
    char_checks, limits = [""] * width, [0] * width
    for f, j in zip(fields, order, strict=True):
        if j >= 0:
            char_checks[j] = text_check(f)
            limits[j] = f.length if f.type in _LIMITED else 0
    cut = _core_cells(data, rows, layout, enc, file_names, char_checks, limits)
    marked: list[bool] | None = None  # by the core: the file's columns to look into
    quoted = True  # whether a kept row has a quoted cell (only the core says it has not)
    failing = [True] * width  # the file's columns with a value failing a check above
    if cut is not None:
        counts, keep, raw, starts_in_chunk, marked, quoted, failing = cut
    else:
        counts = _field_counts(data, rows, layout)
        keep = np.flatnonzero(counts == width)
        try:
            parsed: pl.DataFrame | None = _raw_frame(data, rows, keep, enc, layout,
                                                     file_names)
        except pl.exceptions.PolarsError:
            parsed = None
        if parsed is None or (rows.cells is None and (
                parsed.height != len(keep) or _paired_across(data, rows, layout, enc))):
            # the parser disagrees, or could pair a byte with a delimiter: walk each row
            # (rows with cells were walked already, by _scan)
            rows = _walked(data, rows, layout)
            counts = _field_counts(data, rows, layout)
            keep = np.flatnonzero(counts == width)
            parsed = _raw_frame(data, rows, keep, enc, layout, file_names)
        raw = parsed
        starts_in_chunk = _cell_starts(data, rows, keep, layout, width)
    _report_rows(data, rows, layout, ctx, offset, record, counts, width, final=final)
    # the layout's fields from the file's columns, by the header (absent ones empty)
    raw = raw.select(pl.col(f"x{j}").alias(c) if j >= 0 else pl.lit(None, pl.String).alias(c)
                     for c, j in zip(names, order, strict=True))
    if cut is None:  # the core's columns have no empty values: they are null already
        raw = raw.with_columns(pl.when(pl.all() != "").then(pl.all()).name.keep())
    records = record + keep
    row_offsets = offset + rows.start[keep]
    if quoted:
        _quoted_needlessly(data, rows, keep, starts_in_chunk, layout, ctx, offset, records)
    _other_duplicates(data, rows, keep, layout, ctx, starts_in_chunk, order, offset, records)
    columns: dict[str, pl.Series] = {}

    def report(f: Field, mask: npt.NDArray[np.bool_], code: str, values: pl.Series,
               message: str | None = None, severity: Severity = "error") -> None:
        k = fields.index(f)
        column = order[k] + 1  # the file's column number, as a person counts
        # where its cells start, looked up for the rows reported alone (every cell's
        # place taken at once was a copy of the chunk's table of starts, 4% of reading)
        at = starts_in_chunk[:, max(order[k], 0)]
        hit = np.flatnonzero(mask)
        if not len(hit):
            return
        # the decoded value lost the bytes that did not decode: show the row's
        lines = [data[rows.start[r]:rows.end[r]] for r in keep[hit]] \
            if code == "invalid-bytes" else None
        ctx.add(ProblemTable.found(
            codes=(code,), code=np.zeros(len(hit), np.intp),
            record=records[hit].astype(np.int64), offset=offset + at[hit].astype(np.int64),
            detail=_CellBytes(owned(values.gather(hit)), enc, lines), file=ctx.file, field=f.name,
            label=f.label, message=f"{message}({column}列目)" if message else None,
            severity=severity, raw_limit=64))

    if layout.formula_guard:  # take the apostrophe off; a bare formula is not canonical
        for f, cname in zip(fields, names, strict=True):
            if f.type in GUARDED_TYPES:
                bare = raw.select(unguarded(pl.col(cname)).fill_null(value=False)).to_series()
                if bare.any():
                    report(f, bare.to_numpy(), "noncanonical", raw[cname],
                           "数式として開かれる値に ' が付いていません", "warning")
        raw = raw.with_columns(unguard(pl.col(names[k])).alias(names[k])
                               for k, f in enumerate(fields) if f.type in GUARDED_TYPES)
    undefined = undefined_re(enc)
    if marked is not None:  # the core looked as it cut the cells
        suspect: tuple[bool, ...] = tuple(j >= 0 and marked[j] for j in order)
    else:
        suspect = raw.select(pl.all().str.contains(
            undefined[:-1] + CONTROL_RE[1:] + "|" + BARE_CR_RE).any()).row(0) if raw.width \
            else ()
    chosen = [(f, c) for f, c in zip(fields, names, strict=True)
              if wanted is None or set(column_names(f)) & wanted]
    unusable: dict[str, npt.NDArray[np.bool_]] = {}  # rows nulled before parsing
    for f, cname, odd in zip(fields, names, suspect, strict=True):
        if not odd or (f, cname) not in chosen:
            continue  # rare from here on: find which values, and say what is wrong
        values = raw[cname]
        bad = values.str.contains(undefined).fill_null(value=False)
        report(f, bad.to_numpy(), "invalid-bytes", values)
        ctrl = (values.str.contains(CONTROL_RE) | values.str.contains(BARE_CR_RE)
                ).fill_null(value=False) & ~bad
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
    # the fields whose every value the core found to pass their character check and to
    # fit their length
    clean = {f.name for f, j in zip(fields, order, strict=True) if j >= 0 and not failing[j]}
    # integers and decimals are read by the core, in one pass a column (an integer
    # column of the benchmark's CSV: 3 ms for 100,000 cells, where Polars' strip, pattern
    # and cast took 34 ms); the Python kernel keeps the expressions, the oracle of the
    # tests
    by_core = {f.name for f, _ in chosen if f.type in ("integer", "decimal")} \
        if os.environ.get("CHUKAN_KERNEL") != "python" else set()
    for f, cname in chosen:
        if f.type == "date" or f.name in by_core:
            continue
        out, fails, keep_bad = parse_expr(f, pl.col(cname), fixed=False,
                                          clean=f.name in clean)
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
    if by_core:
        numbers = {f.name: _core_numbers(f, raw[cname], unusable.get(cname), nulled, report)
                   for f, cname in chosen if f.name in by_core}
        # (a layout of numbers alone has no other column to add them to)
        parsed = parsed.with_columns(**numbers) if parsed.width else pl.DataFrame(numbers)
    _respelled(parsed, raw, chosen, nulled, report)
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
        columns["_offset"] = pl.Series(row_offsets, dtype=pl.Int64)
        columns["_length"] = pl.Series(rows.stop[keep] - rows.start[keep], dtype=pl.Int64)
    return pl.DataFrame(columns) if columns else pl.DataFrame(
        schema={"_record": pl.Int64} if ctx.locate else {}).clear(len(keep))


def _core_numbers(f: Field, raw: pl.Series, unusable: npt.NDArray[np.bool_] | None,
                  nulled: dict[str, npt.NDArray[np.bool_]],
                  report: Callable[..., None]) -> pl.Series:
    """An integer or decimal field's values, read by the core as ``parse_expr`` reads
    them (an integer: the spaces around taken off, digits, ``-`` if signed, 桁数
    counting digits; a decimal: a sign, digits, a point and at most ``scale`` digits),
    with its problems reported as that path reports them; the rows of values that are
    not numbers go into ``nulled``."""
    if f.type == "integer":
        values, bad = _core.csv_integers(text_column(raw), len(raw), f.signed,
                                         min(f.length, MAX_PRECISION))
        empty = bad
    else:
        values, state = _core.csv_decimals(text_column(raw), len(raw), f.signed,
                                           csv_whole_digits(f), f.scale, f.precision)
        bad, empty = state == 1, state != 0  # 2: a decimal the precision cannot hold
    if bad.any():
        code, message = csv_number_failure(f)
        report(f, bad, code, raw, message)
        nulled[f.name] = bad
    missing = raw.is_null().to_numpy()
    if f.required:  # not the values already found unusable
        report(f, missing & ~unusable if unusable is not None else missing,
               "required-missing", raw)
    if f.type == "integer":
        return pl.Series(f.name, values, dtype=pl.Int64).set(pl.Series(empty | missing), None)
    return decimal_series(f.name, values, ~(empty | missing), f.precision, f.scale)


def _respelled(parsed: pl.DataFrame, raw: pl.DataFrame, chosen: list[tuple[Field, str]],
               nulled: dict[str, npt.NDArray[np.bool_]],
               report: Callable[..., None]) -> None:
    """Values read without a problem that the writer spells otherwise (``-00``, ``12 ``
    in a number column): ``noncanonical``, decided by the writer's own formatter. Text,
    codes and digits are read as they stand, and dates are checked by their own parser."""
    # numbers alone: a code or digits field is read as its text stands (digits that fail
    # are null) and written as it was read, so neither can differ (formatting and
    # comparing the benchmark's nine took 0.14 s of the 0.33 s a million CSV rows)
    plain = [(f, c) for f, c in chosen if f.type in ("integer", "decimal") and f.name in
             parsed.columns]
    if not plain:
        return
    written = parsed.select(format_expr(f, parsed.columns, fixed=False,
                                        dtype=parsed.schema.get(f.name))[0].alias(c)
                            for f, c in plain)
    for f, cname in plain:
        differs = (written[cname] != raw[cname]).fill_null(value=False).to_numpy()
        if f.name in nulled:
            differs &= ~nulled[f.name]
        if differs.any():
            report(f, differs, "noncanonical", raw[cname],
                   "値は読めますが、書き戻すと別の形になります(前ゼロ・空白・符号など)",
                   "warning")


def _quoted_needlessly(data: bytes, rows: _Rows, keep: npt.NDArray[np.int64],
                       starts: npt.NDArray[np.int64], layout: Layout, ctx: _Context,
                       offset: int, records: npt.NDArray[np.int64]) -> None:
    """Quoted cells that hold no delimiter, quote or line break: read the same, but
    written back without their quotes. Said once per batch, with how many (vectorised:
    counts of those bytes between each cell's boundaries). A delimiter byte that is a
    character's second byte (竹 is 0x92 0x7C) is the character's, as the cells were cut
    (:func:`second_bytes`)."""
    if not len(keep) or not starts.size:
        return
    arr = np.frombuffer(data, dtype=np.uint8)
    quote, delim = ord(layout.quote), ord(layout.delimiter)
    enc = codec_name(layout.encoding)
    if os.environ.get("CHUKAN_KERNEL") != "python":  # the core, one pass over the cells
        n, first = _core.needless_quotes(arr, np.ascontiguousarray(starts, dtype=np.int64)
                                         .reshape(-1), starts.shape[1],
                                         np.ascontiguousarray(rows.end[keep], dtype=np.int64),
                                         delim, quote, enc, thread_count())
        if n:
            i, k = divmod(first, starts.shape[1])
            ctx.tally("quoted", _problem(ctx, "noncanonical", record=int(records[i]),
                                         offset=offset + int(starts[i, k])),
                      n, partial(_quoted_words, k + 1))
        return
    # (an empty last cell starts at its row's end, which may be the data's end)
    inside = starts < rows.end[keep][:, None]
    quoted = inside & (arr[np.minimum(starts, len(arr) - 1)] == quote)
    if not quoted.any():
        return
    ends = np.empty_like(starts)  # each cell's end: the next one's start less 1, or the row's
    ends[:, :-1] = starts[:, 1:] - 1
    ends[:, -1] = rows.end[keep]
    lo, hi = int(rows.start[keep[0]]), int(rows.stop[keep[-1]])
    special = np.setdiff1d(np.flatnonzero(np.isin(arr[lo:hi], [quote, delim, _LF, _CR])),
                           second_bytes(data[lo:hi], delim, enc), assume_unique=True) + lo
    q = np.flatnonzero(arr[lo:hi] == quote) + lo
    held = np.searchsorted(special, ends) - np.searchsorted(special, starts)
    quotes = np.searchsorted(q, ends) - np.searchsorted(q, starts)
    # a quoted cell is its two quotes and nothing else special
    needless = quoted & (held - quotes == 0) & (quotes == 2)
    rows_hit = np.flatnonzero(needless.any(axis=1))
    if not len(rows_hit):
        return
    i = int(rows_hit[0])
    k = int(np.flatnonzero(needless[i])[0])
    ctx.tally("quoted", _problem(ctx, "noncanonical", record=int(records[i]),
                                 offset=offset + int(starts[i, k])),
              int(needless.sum()), partial(_quoted_words, k + 1))


def _quoted_words(column: int, n: int) -> str:
    return (f"引用符で囲む必要のない値が引用符で囲まれています({column}列目"
            + (f"ほか、このファイルで{n}か所" if n > 1 else "") + ")。書き戻すと引用符が外れます")


def _other_duplicates(data: bytes, rows: _Rows, keep: npt.NDArray[np.int64],
                      layout: Layout, ctx: _Context, starts: npt.NDArray[np.int64],
                      order: tuple[int, ...], offset: int,
                      records: npt.NDArray[np.int64]) -> None:
    """CP932 duplicates written in the bytes the layout's policy does not write (the
    same check as fixed-width fields): the batch's bytes are decoded and encoded back
    once, as the CSV writer encodes its whole body, and compared (a duplicate is two
    bytes either way, so the bytes line up). A batch with bytes that do not decode is
    left to those errors."""
    if layout.encoding != "cp932" or not len(keep):
        return
    lo, hi = int(rows.start[keep[0]]), int(rows.stop[keep[-1]])
    body = data[lo:hi]
    if not duplicate_suspects(np.frombuffer(body, dtype=np.uint8),
                              layout.cp932_duplicates).any():
        return
    at = _differing(body, layout.cp932_duplicates)
    if at is None:
        # rare: bytes that do not decode shift what follows them; each kept row that
        # holds a suspect alone (so that the result does not depend on the batch)
        found: list[npt.NDArray[np.int64]] = []
        for r in keep:
            line = data[int(rows.start[r]):int(rows.end[r])]
            if duplicate_suspects(np.frombuffer(line, dtype=np.uint8),
                                  layout.cp932_duplicates).any():
                where = _differing(line, layout.cp932_duplicates)
                if where is not None:
                    found.append(where + int(rows.start[r]))
        at = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    else:
        at = at + lo
    if not len(at):
        return
    row = np.searchsorted(rows.start[keep], at, side="right") - 1
    inside = at < rows.end[keep][row]  # not in a row left out between two kept ones
    at, row = at[inside], row[inside]
    fields = [f for f in layout.fields if f.type != "filler"]
    column_of = {j: k for k, j in enumerate(order) if j >= 0}
    for i in np.unique(row):
        first = int(at[row == i][0])
        column = int(np.searchsorted(starts[i], first, side="right")) - 1
        k = column_of.get(column)
        ctx.add(_problem(ctx, "noncanonical", record=int(records[i]), offset=offset + first,
                         f=fields[k] if k is not None else None,
                         raw=data[first:first + 2],
                         message="CP932の重複文字が、レイアウトの cp932_duplicates と異なる"
                                 "コードで書かれています。書き戻すとバイトが変わります"
                                 f"({column + 1}列目)"))


_NO_MARKERS = bytes.maketrans(b"\x01\x02\x03\x04", b"????")


def _differing(body: bytes, duplicates: str) -> npt.NDArray[np.int64] | None:
    """Where ``body`` differs from its own text encoded back under the policy; None
    where it does not decode whole (those bytes are reported as such)."""
    # 0x01–0x04 are the encoder's own duplicate markers: a control character in the data
    # (reported as such) must not read as one; each is one byte, never a trail byte
    body = body.translate(_NO_MARKERS)
    text = body.decode("cp932", "replace")
    if "\ufffd" in text:
        return None
    # (a byte CP932 leaves undefined, 0x80 say, decodes and encodes back as itself: it
    # is reported as invalid-bytes, and is no duplicate)
    written = encode_text(*prepare_for_encoding(pl.Series([text]), "cp932", duplicates),
                          "cp932", unreadable=True)
    if written == body or len(written) != len(body):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.frombuffer(body, dtype=np.uint8) !=
                          np.frombuffer(written, dtype=np.uint8)).astype(np.int64)


def _report_rows(data: bytes, rows: _Rows, layout: Layout, ctx: _Context, offset: int,
                 record: int, counts: npt.NDArray[np.int64], n_fields: int, *,
                 final: bool) -> None:
    """Row-level problems: the number of columns, a misplaced quote, the terminator."""
    bad = np.flatnonzero(counts != n_fields)
    ctx.drop_lines(record + bad, data, rows.start[bad], rows.stop[bad], offset)
    if len(bad):  # one table for the lot (a file read with the wrong layout)
        start = rows.start[bad].astype(np.int64)
        ctx.add(line_problems(ctx, data, codes=("csv-columns",),
                              code=np.zeros(len(bad), np.intp), record=record + bad,
                              offset=offset + start, start=start,
                              stop=rows.end[bad].astype(np.int64),
                              number=counts[bad].astype(np.int64), limit=64,
                              words=(f"列数が{{}}です(レイアウトは{n_fields}列)",)))
    for row, (at, doubt) in (rows.bad_quote or {}).items():
        ctx.add(_problem(ctx, "csv-quote", record=record + row, offset=offset + at,
                         raw=data[at:at + 16], raw_limit=16,
                         severity="error" if doubt else "warning",
                         message="引用符が閉じられていないか、閉じた後に文字があります" if doubt
                         else "引用符で囲まれていない値に引用符があります(文字として読みました。"
                              "書き戻すと値が引用符で囲まれます)"))
    _check_terminators(data, rows, layout, ctx, offset, record, final=final)


def _check_terminators(data: bytes, rows: _Rows, layout: Layout, ctx: _Context,
                       offset: int, record: int | None, *, final: bool) -> None:
    """Each row's line end against the layout's, and the last row ends with one too
    (``record`` None: the header row)."""

    def number(i: int) -> int | None:
        return None if record is None else record + i

    width = rows.stop - rows.end
    has_lf = (width > 0) & (np.frombuffer(data, dtype=np.uint8)[
        np.maximum(rows.stop - 1, 0)] == _LF)
    crlf = has_lf & (width == 2)
    wrong = has_lf & (crlf != (layout.terminator == "crlf"))
    # the values are whole either way, so these are warnings: said once per file, at
    # the first such row, with how many there are (a file written with the other line
    # end must not make a million problems, nor a different one per batch size)
    want = "CRLF" if layout.terminator == "crlf" else "LF"
    odd = np.flatnonzero(wrong)
    if len(odd):
        first = int(odd[0])
        ctx.tally("terminator", _problem(ctx, "terminator-mixed", record=number(first),
                                         offset=offset + int(rows.end[first]),
                                         raw=data[rows.end[first]:rows.stop[first]],
                                         severity="warning"), len(odd),
                  partial(_terminator_words, want))
    if final and len(rows) and not has_lf[-1]:
        last = len(rows) - 1
        ctx.add(_problem(ctx, "terminator-missing", record=number(last),
                         offset=offset + int(rows.stop[last]), severity="warning",
                         # the row's own last bytes (a range read alone has no others)
                         raw=data[max(int(rows.stop[last]) - 8,
                                      int(rows.start[last])):rows.stop[last]],
                         message="最終行に改行がありません。書き戻すと改行が付きます"))



@dataclass(frozen=True, slots=True)
class _CellBytes:
    """Cells' values (in some rows, one each) and their bytes in a codec, or the rows'
    own bytes where given: what a problem there shows."""

    values: pl.Series
    codec: str
    lines: list[bytes] | None

    def __call__(self, i: int) -> tuple[bytes, str | None, None]:
        value: str | None = self.values[i]
        raw = self.lines[i] if self.lines is not None else \
            (value or "").encode(self.codec, "replace")
        return raw, value, None

    def texts(self, rows: npt.NDArray[np.intp]) -> tuple[pl.Series, None]:
        return self.values.gather(rows), None


def _terminator_words(want: str, n: int) -> str:
    return (f"改行コードがレイアウトの{want}ではありません"
            + (f"(このファイルの{n}行)" if n > 1 else "") + "。書き戻すと改行コードが変わります")


__all__ = ["Span", "header_cells", "iter_csv", "looks_utf16", "match_header", "row_cuts",
           "split_cells"]
