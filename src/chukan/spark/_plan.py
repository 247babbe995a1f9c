"""Where each Spark task's records are: a file cut into byte ranges that start at
record starts, each knowing the number of its first record, so that every task reports
records and offsets exactly as :func:`chukan.read` does for the whole file.

No Spark here: the planner and the tasks are plain functions on bytes, tested without a
session. Files are read by byte range through :mod:`pyarrow.fs` (local paths, ``file://``,
``s3://``, ``gs://``, ``hdfs://``, ``abfs://``): PySpark's Arrow transfer needs pyarrow
anyway, and its file systems read a range with one ranged request, where a whole-file
download would defeat the split.

How records start, by layout (the same rules as the single-process reader):

- no terminator, or a terminator with packed fields (binary bytes may be 0x0A): every
  ``stride`` bytes, so a cut is found by arithmetic;
- a terminator and no binary field: after every LF, so the planner reads the file once,
  counting LFs (at memory speed), to give each range its first record's number;
- CSV: after a line feed that follows an even number of quotes, as the reader ends its
  rows, so the planner reads the file once, counting rows. Where a quote stands where
  RFC 4180 puts none (``ab"c``), counting quotes no longer tells a quoted newline from a
  row's end: the rest of the file is one range, and the planner says so.

>>> from chukan.spec import load_layout
>>> lay = load_layout("examples/vendor-a/juki-kojin")
>>> data = Path("fixtures/vendor-a/juki-kojin.dat").read_bytes()
>>> plan = plan_bytes(data, lay, "k.dat", 1, part_bytes=300)  # 202-byte records
>>> [(p.start, p.end, p.record) for p in plan.parts]
[(0, 404, 1), (404, 606, 3), (606, 1010, 4)]
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chukan._context import EOF_MARKER, _Context
from chukan._csv import _check_header, _split_rows, looks_utf16, row_cuts
from chukan.read import has_binary
from chukan.spec import UTF8_BOM, encoding_of, starts_with_bom

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pyarrow.fs import FileSystem

    from chukan.spec import Layout

_log = logging.getLogger(__name__)

#: Default bytes per task: Spark's own default split size.
PART_BYTES = 128 << 20
#: Bytes the planner reads at once while counting LFs.
_SCAN = 32 << 20
#: What is read first: enough to say which encoding a file looks like.
HEAD = 1 << 16


@dataclass(frozen=True, slots=True)
class Part:
    """One task's byte range of one file: ``[start, end)`` holds whole records, the
    first of them record number ``record``; ``last`` when it ends the file's records."""

    file: str  # the path or URI as given (or as a glob found it): opened and named by it
    number: int  # the file's place among the inputs, from 1
    start: int
    end: int
    record: int
    last: bool


@dataclass(frozen=True, slots=True)
class FilePlan:
    """A file's ranges and what only its ends show (said once, by the driver)."""

    file: str
    number: int
    size: int
    bom: bool  # starts with a UTF-8 BOM (the records start after it)
    eof: int | None  # offset of a DOS end-of-file byte after the last record, dropped
    head: bytes  # the first bytes, to say which encoding the file looks like
    parts: tuple[Part, ...]
    header: bytes | None = None  # a CSV file's header row: its later ranges' columns


def splits_by_lf(layout: Layout) -> bool:
    """Whether records end at every LF (a terminator and no binary field)."""
    return bool(layout.terminator_bytes) and not has_binary(layout)


def plan_file(read_at: Callable[[int, int], bytes], size: int, layout: Layout,
              file: str, number: int, *, part_bytes: int = PART_BYTES) -> FilePlan:
    """Cut a file of ``size`` bytes, read through ``read_at(offset, n)``, into ranges of
    about ``part_bytes`` (at least one record each), at record starts."""
    head = read_at(0, min(size, HEAD))
    step = max(1, part_bytes)
    if layout.format != "fixed":
        return _plan_csv(read_at, size, layout, file, number, head, step)
    start = len(UTF8_BOM) if starts_with_bom(head, layout.encoding) else 0
    end, eof = size, None
    if size > start and read_at(size - 1, 1) == EOF_MARKER:
        term, rest = layout.terminator_bytes, (size - start) % layout.stride
        before = read_at(max(start, size - 1 - len(term)), min(size - 1 - start, len(term)))
        # the reader drops it when it is all that follows the last record: after the
        # last LF, or after the last whole stride (as read._fixed_blocks says)
        if size - 1 == start or (before.endswith(b"\n") if splits_by_lf(layout) else
                                 rest == 1 or (bool(term) and rest > len(term) and
                                               before == term)):
            end, eof = size - 1, size - 1
    if splits_by_lf(layout):
        cuts = _lf_cuts(read_at, start, end, step)
    else:
        stride = layout.stride
        first = [-(-k * step // stride) for k in range(-(-(end - start) // step))]
        cuts = [(start + i * stride, i + 1) for i in dict.fromkeys(first)
                if start + i * stride < end]
    cuts = [(at, record) for at, record in cuts if at < end] or [(start, 1)]
    # (a file with no record bytes still gets one empty range: its task says so)
    parts = tuple(Part(file, number, at, cuts[k + 1][0] if k + 1 < len(cuts) else end,
                       record, k + 1 == len(cuts)) for k, (at, record) in enumerate(cuts))
    return FilePlan(file, number, size, start > 0, eof, head, parts)


def _plan_csv(read_at: Callable[[int, int], bytes], size: int, layout: Layout, file: str,
              number: int, head: bytes, step: int) -> FilePlan:
    """A CSV file's ranges, cut where rows end (:func:`chukan._csv.row_cuts`). The first
    range starts at 0 and the last ends at the file's end: their readers see the BOM and
    the end-of-file byte as the single-process reader does. A file whose header refuses
    it, or whose bytes are not ASCII-based, is one range: its reader says why."""
    start = len(UTF8_BOM) if starts_with_bom(head, layout.encoding) else 0
    # the reader looks at the file's first bytes after a BOM to name its encoding
    head = read_at(start, min(size - start, HEAD)) if start else head
    whole = FilePlan(file, number, size, False, None, head,
                     (Part(file, number, 0, size, 1, True),))
    if size - start <= step:
        return whole
    why = None
    header: bytes | None = None
    if looks_utf16(head) or encoding_of(layout.encoding).ebcdic:
        why = f"its encoding ({layout.encoding}) is not split by line"
    elif layout.header:
        # the header row, from the first bytes already read (a longer one: read on)
        first = head
        rows, _ = _split_rows(first, layout, final=False)
        if not len(rows) and len(head) < size - start:
            first = read_at(start, min(size - start, _SCAN))
            rows, _ = _split_rows(first, layout, final=False)
        if not len(rows):
            why = f"its header row has no end within {_SCAN} bytes"
        else:
            raw = first[int(rows.start[0]):int(rows.end[0])]
            if _check_header(raw, layout, _Context(layout, file)) is None:
                why = "its header row does not match the layout"
            header = raw
    cuts: list[tuple[int, int]] = []
    if why is None:
        found, why = row_cuts(read_at, start, size, step, delimiter=ord(layout.delimiter),
                              quote=ord(layout.quote), scan=_SCAN)
        skip = 1 if layout.header else 0  # the header row is no record
        last = 1
        for at, rows_before in found:  # every range holds at least one record
            if rows_before - skip + 1 > last:
                cuts.append((at, rows_before - skip + 1))
                last = cuts[-1][1]
    if why is not None and cuts:
        _log.info("%s: the rest of this CSV file, from byte %d, is read by one task (%s)",
                  file, cuts[-1][0], why)
    elif why is not None:
        _log.info("%s: this CSV file is read by one task (%s)", file, why)
    if not cuts:
        return whole
    bounds = [(0, 1), *cuts]
    parts = tuple(Part(file, number, at, bounds[k + 1][0] if k + 1 < len(bounds) else size,
                       record, k + 1 == len(bounds)) for k, (at, record) in enumerate(bounds))
    return FilePlan(file, number, size, False, None, head, parts, header)


def _lf_cuts(read_at: Callable[[int, int], bytes], start: int, end: int, step: int
             ) -> list[tuple[int, int]]:
    """Record starts at or after every ``step`` bytes (after the first LF at or past
    the nominal cut, less one), with their record numbers, from one pass that counts
    LFs (``bytes.find`` and ``bytes.count``: memchr's speed, no index of every LF)."""
    cuts = [(start, 1)]
    target = start + step
    lfs = 0  # LFs before ``at``
    at = start
    while at < end and target < end:
        chunk = read_at(at, min(_SCAN, end - at))
        counted = 0  # the chunk's bytes whose LFs are in ``lfs``
        while target - 1 < at + len(chunk):
            lf = chunk.find(b"\n", max(target - 1 - at, 0))
            if lf < 0:
                break
            cut = at + lf + 1
            if cut >= end:
                target = end
                break
            lfs += chunk.count(b"\n", counted, lf + 1)
            counted = lf + 1
            cuts.append((cut, 1 + lfs))
            # the next range starts a whole step on, past this cut however long the
            # record that ends there
            target += step
            while target <= cut:
                target += step
        lfs += chunk.count(b"\n", counted)
        at += len(chunk)
    return cuts


def plan_bytes(data: bytes, layout: Layout, file: str, number: int, *,
               part_bytes: int = PART_BYTES) -> FilePlan:
    """:func:`plan_file` for bytes in memory (the tests' way in)."""
    return plan_file(lambda at, n: data[at:at + n], len(data), layout, file, number,
                     part_bytes=part_bytes)


def sub_blocks(data: bytes, layout: Layout, unit: int) -> Iterator[tuple[int, int]]:
    """A range's bytes in blocks of about ``unit`` bytes that end where records end, so
    that a task never holds more than one block's frames."""
    if layout.format != "fixed":
        yield 0, len(data)
        return
    if not splits_by_lf(layout):
        step = max(1, unit // layout.stride) * layout.stride
        for at in range(0, len(data), step):
            yield at, min(at + step, len(data))
        return
    at = 0
    while at < len(data):
        cut = data.rfind(b"\n", at, at + unit) + 1
        if cut <= at:  # one record longer than the unit: to its end
            cut = data.find(b"\n", at + unit) + 1 or len(data)
        if len(data) - cut < unit // 4:  # no small block at the end
            cut = len(data)
        yield at, cut
        at = cut


# --------------------------------------------------------------------------------------
# Files, by path or URI

_GLOB = re.compile(r"[*?\[]")


def open_fs(path: str) -> tuple[FileSystem, str]:
    """The pyarrow file system holding ``path`` (a local path or a URI), and the path in
    it."""
    from pyarrow import fs  # noqa: PLC0415 -- pyarrow.fs loads its cloud libraries late

    if "://" not in path:
        return fs.LocalFileSystem(), str(Path(path).resolve())
    return fs.FileSystem.from_uri(path)  # type: ignore[no-any-return]


def expand(paths: list[str]) -> list[str]:
    """Every file the paths name, each glob's matches in sorted order (``*`` and ``?``
    within one folder, ``**`` across folders, as :func:`glob.glob` with ``recursive``).
    A path that names nothing is an error, as for the single-process reader."""
    from pyarrow import fs  # noqa: PLC0415 -- see open_fs

    from chukan.errors import FileError  # noqa: PLC0415 -- only on this path

    out: list[str] = []
    for given in paths:
        filesystem, inner = open_fs(given)
        pattern = _GLOB.search(inner)
        if pattern is not None and filesystem.get_file_info(inner).type == fs.FileType.File:
            pattern = None  # a file whose name holds [, * or ?: itself, as open() reads it
        if pattern is None:
            if filesystem.get_file_info(inner).type != fs.FileType.File:
                raise FileError(given, FileNotFoundError(2, "no such file"))
            out.append(given)
            continue
        if "://" not in given:  # names as the user wrote them: relative stays relative
            # (glob.glob, not Path.glob: a pattern may climb out with "..")
            found = sorted(p for p in glob.glob(given, recursive=True)  # noqa: PTH207
                           if Path(p).is_file())
        else:
            root = inner[:pattern.start()].rpartition("/")[0] or "/"
            scheme = given[:len(given) - len(inner)]
            found = sorted(scheme + i.path for i in filesystem.get_file_info(
                fs.FileSelector(root, recursive=True))
                if i.type == fs.FileType.File and _matches(i.path.split("/"),
                                                           inner.split("/")))
        if not found:
            raise FileError(given, FileNotFoundError(2, "no file matches"))
        out += found
    return out


def _matches(parts: list[str], pattern: list[str]) -> bool:
    """Whether a path's folders and name match a glob's, one by one (``**``: any
    number of folders)."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_matches(parts[k:], pattern[1:]) for k in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and \
        _matches(parts[1:], pattern[1:])


@contextlib.contextmanager
def range_reader(path: str) -> Iterator[tuple[Callable[[int, int], bytes], int]]:
    """``read_at(offset, n)`` for a file, and its size, while the file is open."""
    filesystem, inner = open_fs(path)
    with filesystem.open_input_file(inner) as handle:
        yield (lambda at, n: bytes(handle.read_at(n, at)) if n > 0 else b""), int(handle.size())
