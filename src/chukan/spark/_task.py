"""What one Spark task does with its byte range: the single-process reader's per-block
engine (:func:`chukan.decode_block`) over the range's blocks, and validation's character
checks on each. Plain functions, no Spark: the tests run them without a session too.
"""

from __future__ import annotations

import io
import os
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import polars as pl

from chukan._context import Dropped, Tally, _Context, _problem, add_tallies, eof_marker
from chukan._csv import Span
from chukan._files import gathered
from chukan._threads import using_threads
from chukan.read import decode_block, located_batches
from chukan.report import GAIJI_LOCATIONS, GaijiEntry, Problem, ProblemTable, Report, made
from chukan.spark._plan import sub_blocks
from chukan.spec import UTF8_BOM

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import numpy.typing as npt

    from chukan.spark._plan import FilePlan, Part
    from chukan.spec import Layout, Repertoire

_T = TypeVar("_T")
_R = TypeVar("_R")

#: Bytes decoded at once inside a range: the frames of one block are what a task holds.
UNIT = 16 << 20


def task_threads() -> AbstractContextManager[None]:
    """The core's threads in a Spark task: one (a task has one core, ``spark.task.cpus``,
    and Spark runs a task per core), unless ``CHUKAN_THREADS`` says otherwise."""
    env = os.environ.get("CHUKAN_THREADS", "")
    return using_threads(int(env) if env.isdigit() and int(env) > 0 else 1)


def in_task(fn: Callable[[_T], _R], item: _T) -> _R:
    """``fn(item)`` as a Spark task runs it (:func:`task_threads`)."""
    with task_threads():
        return fn(item)


class _Named(io.BytesIO):
    """Bytes read like the file they came from (problems carry its name)."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


@dataclass(slots=True)
class Decoded:
    """One block of a range: a frame per record kind (with ``_record`` and ``_offset``),
    its problems in file order, and the records it held (read or reported)."""

    frames: dict[str, pl.DataFrame]
    table: ProblemTable
    records: int
    counters: dict[str, int] | None = None  # trailer counts running after it
    #: problems a CSV reader counts over the file, to add up across its ranges
    tallies: dict[str, Tally] = field(default_factory=dict)


@dataclass(slots=True)
class TrailerCounts:
    """A range's trailer counts (multi-record layouts): the counted records after its
    last trailer (all of them when it has none), and whether it has one, per count."""

    running: dict[str, int] = field(default_factory=dict)
    trailed: set[str] = field(default_factory=set)


def edge_problems(plan: FilePlan, part: Part, layout: Layout) -> list[Problem]:
    """What the ends of the file show, said by the range that holds them: a BOM before
    the first record, a DOS end-of-file byte after the last."""
    ctx = _Context(layout=layout, file=part.file)
    if plan.bom and part.start == len(UTF8_BOM) and layout.encoding != "utf-8-sig":
        ctx.add(_problem(ctx, "bom-unexpected", record=1, offset=0, raw=UTF8_BOM))
    if part.last and plan.eof is not None:
        eof_marker(ctx, plan.eof)
    return made(ctx.problems)


def decode_part(plan: FilePlan, part: Part, layout: Layout, data: bytes, *,
                columns: Sequence[str] | None = None, counters: dict[str, int] | None = None,
                dropped: dict[int, bytes] | None = None, unit: int = UNIT
                ) -> Iterator[Decoded]:
    """Decode a range's bytes (``data``, read from ``part.start``) block by block, as the
    single-process reader does: records, offsets and problems are the file's own.
    ``counters`` carries trailer counts in from the ranges before (None: not checked);
    ``dropped`` receives the bytes of records left out whole."""
    if layout.format != "fixed":
        yield _csv_part(plan, part, layout, data, columns, dropped)
        return
    record, first = part.record, True
    edges = edge_problems(plan, part, layout)
    blocks = list(sub_blocks(data, layout, unit)) or [(0, 0)]
    pieces = [(lo, hi, part.last and k + 1 == len(blocks)) for k, (lo, hi) in enumerate(blocks)]
    while pieces:
        lo, hi, final = pieces.pop(0)
        block = decode_block(data[lo:hi], layout, record=record, offset=part.start + lo,
                             final=final, columns=columns, counters=counters,
                             dropped=dropped)
        if block.consumed < hi - lo:
            # whole strides first, a short record after them left for more bytes that
            # a range ending at a record's end will not bring: decode the rest
            if not block.consumed:  # the planner cut where records end: never here
                msg = f"{part.file}: a range at {part.start + lo} did not end at a record"
                raise AssertionError(msg)
            pieces.insert(0, (lo + block.consumed, hi, final))
        counters = block.counters
        found: list[Problem | ProblemTable] = [block.table.with_file(part.file)]
        if first:
            found = [*(e for e in edges if e.code != "eof-marker"), *found]
        if not pieces:
            found += [e for e in edges if e.code == "eof-marker"]
        first = False
        record += block.records
        yield Decoded(block.frames, ProblemTable.of(found), block.records, counters)


def _csv_part(plan: FilePlan, part: Part, layout: Layout, data: bytes,
              columns: Sequence[str] | None, dropped: dict[int, bytes] | None) -> Decoded:
    """A range of a CSV file: the single-process reader on its rows (the first range
    sees the BOM and the header, the last the end-of-file byte)."""
    report = Report()
    span = Span(part.start, part.record, plan.header)
    frames = [frame for _, frame in located_batches(
        _Named(data, part.file), layout, report=report, columns=columns, span=span,
        dropped=Dropped(held=dropped) if dropped is not None else None)]
    frame = pl.concat(frames) if frames else pl.DataFrame()
    return Decoded({layout.kind().name: frame}, report.table().with_file(part.file),
                   report.records_read,
                   tallies=span.tallies)


def tally_part(plan: FilePlan, part: Part, layout: Layout, data: bytes) -> TrailerCounts:
    """A range's trailer counts from zero: what the next ranges need to check theirs.
    Only the fields that count are decoded."""
    tally = TrailerCounts()
    trailers = {f"{k.name}.{f.name}": k.name for k in layout.kinds for f in k.fields
                if f.counts}
    for block in decode_part(plan, part, layout, data, columns=[], counters={}):
        tally.trailed |= {key for key, kind in trailers.items()
                          if kind in block.frames and block.frames[kind].height}
        tally.running = block.counters or {}
    return tally


def carried(tallies: Sequence[TrailerCounts]) -> list[dict[str, int]]:
    """Each range's incoming counters, from the tallies of the ranges before it."""
    out: list[dict[str, int]] = []
    running: dict[str, int] = {}
    for t in tallies:
        out.append(dict(running))
        running = {key: t.running.get(key, 0) + (0 if key in t.trailed else running.get(key, 0))
                   for key in {*running, *t.running}}
    out.append(running)
    return out


@dataclass(slots=True)
class Checked:
    """A range's validation: its problems (details capped, counts whole), the 外字 and
    out-of-repertoire characters it holds, its records, and its trailer counts out."""

    report: Report
    records: int
    counters: dict[str, int] | None
    tallies: dict[str, Tally] = field(default_factory=dict)


def validate_part(plan: FilePlan, part: Part, layout: Layout, data: bytes, *,
                  repertoire: Repertoire | None, max_errors: int | None,
                  counters: dict[str, int] | None) -> Checked:
    """Validate a range as :func:`chukan.validate` validates the file's records there:
    the lenient reader's problems, then each block's characters."""
    from chukan.validate import _characters  # noqa: PLC0415 -- validation's own check

    found = Report(max_problems=max_errors, in_file_order=True)
    inventory = Report()
    records = 0
    out = counters
    held = np.frombuffer(data, np.uint8)

    def reread(offsets: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
               ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        return gathered(held, offsets - part.start, lengths)

    tallies: dict[str, Tally] = {}
    for block in decode_part(plan, part, layout, data, counters=counters):
        found.extend(block.table)
        records += block.records
        out = block.counters
        add_tallies(tallies, block.tallies)
        for kind, frame in block.frames.items():
            _characters(frame, layout.kind(kind).fields, layout, repertoire, part.file,
                        found, inventory, reread)
    found.gaiji, found.outside = inventory.gaiji, inventory.outside
    return Checked(found, records, out, tallies)


def merge_inventory(into: dict[str, GaijiEntry], more: dict[str, GaijiEntry]) -> None:
    """Add a later range's inventory to the file's so far (first places in file order)."""
    for ch, entry in more.items():
        have = into.get(ch)
        if have is None:
            into[ch] = entry
            continue
        have.count += entry.count
        have.forms.update(entry.forms)
        have.fields.update(entry.fields)
        have.first.extend(entry.first[:GAIJI_LOCATIONS - len(have.first)])


