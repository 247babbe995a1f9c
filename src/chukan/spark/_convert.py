"""A conversion as Spark tasks: each range of the source is mapped by the single-process
pipeline (:func:`chukan.convert`'s own ``_run``) into its slice of the one output, a
part file; the driver checks that every record is accounted for, says what only the
whole file shows, and writes one manifest. Parts concatenated in order are, byte for
byte, the file ``chukan convert`` writes (the first holds the BOM and CSV header, the
last the EOF byte), and so are the reject parts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from chukan._context import Dropped, Tally, _Context, _problem, add_tallies, said
from chukan._files import gathered
from chukan.convert import (
    ConvertResult,
    _behind,
    _Hashing,
    _plan,
    _Rejects,
    _rejects_csv,
    _run,
    _style,
)
from chukan.errors import ChukanError, UsageError
from chukan.read import misread, say_encoding
from chukan.report import Problem, Report, made
from chukan.spark._plan import FilePlan, Part, open_fs
from chukan.spark._task import decode_part

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import polars as pl
    from pyarrow.fs import FileSystem

    from chukan.spec import Layout, MappingSpec

#: Part files are named by their range's place: part-00000, part-00001, …
PART = "part-{:05d}{}"
#: The file whose presence says the directory is complete (named in the manifest).
SUCCESS = "_SUCCESS"


@dataclass(slots=True)
class PartResult:
    """One range converted: its counts (as ``chukan.convert`` gives them), its part
    files and their SHA-256."""

    counts: ConvertResult
    misread: int = 0  # records the reader could not read as the layout's encoding
    problems: int = 0  # every problem the reader found (an empty file has none)
    output: str = ""
    output_sha: str = ""
    rejects: str | None = None
    rejects_sha: str = ""
    #: problems a CSV reader counts over the file, added up across ranges
    tallies: dict[str, Tally] = field(default_factory=dict)


def _batches(plan: FilePlan, part: Part, layout: Layout, data: bytes, report: Report,
             dropped: dict[int, bytes], tallies: dict[str, Tally]
             ) -> Iterator[tuple[str, pl.DataFrame]]:
    """A range's frames, their problems put in ``report`` first, as the located reader
    gives them to a conversion (the problems counted over the file in ``tallies``)."""
    kind = layout.kind().name
    for block in decode_part(plan, part, layout, data, dropped=dropped):
        add_tallies(tallies, block.tallies)
        report.extend(block.table)
        report.records_read += block.records
        frame = block.frames.get(kind)
        if frame is not None and frame.height:
            yield kind, frame


def convert_part(spec: MappingSpec, plan: FilePlan, part: Part, index: int, data: bytes,
                 staging: str, *, reverse: bool, mask: bool) -> PartResult:
    """Convert a range's records into ``staging/part-NNNNN<ext>`` (and its rejects into
    ``staging/rejects/``); a task retried writes the same bytes again."""
    mapping = _plan(spec, reverse=reverse)
    # a range's records left out are held as bytes: the range is in memory already
    dropped: dict[int, bytes] = {}
    report, rejected = Report(), _Rejects(dropped=Dropped(held=dropped))
    result = ConvertResult()
    tallies: dict[str, Tally] = {}
    filesystem, root = open_fs(staging)
    ext = ".csv" if mapping.target.format == "csv" else ".dat"
    name = PART.format(index, ext)
    with filesystem.open_output_stream(f"{root}/{name}") as out, _Hashing(
            out, behind=_behind(mapping.target)) as hashed:
        _run(mapping, _batches(plan, part, mapping.source, data, report, dropped, tallies),
             report, rejected, hashed, result, None, first=part.record == 1, last=part.last,
             first_record=part.record)
    done = PartResult(result, misread(report), report.total, name,
                      hashed.digest.hexdigest(), tallies=tallies)
    start = part.start
    held = np.frombuffer(data, np.uint8)
    rejects = _rejects_csv(rejected, lambda offsets, lengths: gathered(held, offsets - start,
                                                                       lengths), mask=mask)
    if part.record != 1:  # the header once, in the first part: parts join into one file
        rejects = rejects[rejects.index(b"\n") + 1:]
    if rejects:
        done.rejects = f"rejects/{name}"
        with filesystem.open_output_stream(f"{root}/{done.rejects}") as out:
            out.write(rejects)
        done.rejects_sha = hashlib.sha256(rejects).hexdigest()
    return done


@dataclass(slots=True)
class SparkConvertResult:
    """What a conversion on Spark did: the counts of :class:`chukan.ConvertResult`, and
    the directory with its part files and manifest."""

    records_in: int = 0
    records_out: int = 0
    records_rejected: int = 0
    rejects_by_reason: Counter[str] = field(default_factory=Counter)
    file_problems: list[Problem] = field(default_factory=list)
    output_dir: str = ""
    parts: list[str] = field(default_factory=list)  # output files, in order
    rejects: list[str] = field(default_factory=list)
    manifest: str = ""


def convert_plan(spec: MappingSpec, plan: FilePlan, output_dir: str,
                 run: Callable[[Callable[[tuple[int, Part]], Any], list[tuple[int, Part]]],
                               list[Any]], *,
                 reverse: bool = False, single: str | None = None, mask: bool = False,
                 overwrite: bool = False) -> SparkConvertResult:
    """Convert one planned file into ``output_dir`` with ``run`` (which maps a function
    over items in order: a Spark job, or a loop). The directory appears whole or not at
    all: everything is written beside it, and renamed into place last (on object stores,
    where a rename is a copy, ``_SUCCESS`` says it is complete)."""
    from chukan import __version__  # noqa: PLC0415 -- the package imports chukan.spark

    if single is not None and (not single or "/" in single or "\\" in single or
                               single in ("manifest.json", SUCCESS, "rejects") or
                               single.startswith(".")):
        msg = f"--single {single!r}: give a file name, not manifest.json, _SUCCESS or rejects"
        raise UsageError(msg)
    filesystem, target = open_fs(output_dir)
    _, source = open_fs(plan.file)
    if source == target or source.startswith(target.rstrip("/") + "/"):
        msg = f"{output_dir} would replace the source {plan.file}: give another directory"
        raise UsageError(msg)
    exists = filesystem.get_file_info(target).type
    if exists.name == "File" or (exists.name != "NotFound" and not overwrite):
        msg = f"{output_dir} exists: give another directory" + \
            ("" if exists.name == "File" else ", or overwrite=True")
        raise UsageError(msg)
    staging = f"{output_dir.rstrip('/')}.chukan-{uuid.uuid4().hex[:12]}.tmp"
    _, staged = open_fs(staging)
    if "://" not in staging:  # tasks may run elsewhere than here: no relative path
        staging = staged
    filesystem.create_dir(f"{staged}/rejects")
    digest: dict[str, str] = {}
    hashing = threading.Thread(target=lambda: digest.update(sha=_sha256(plan.file)))
    hashing.start()  # the input's SHA-256, read on the driver while the tasks run
    try:
        parts: list[PartResult] = run(
            lambda item: convert_part(spec, plan, item[1], item[0], _bytes(item[1]), staging,
                                      reverse=reverse, mask=mask),
            list(enumerate(plan.parts)))
        hashing.join()
        result = _total(parts, plan, _plan(spec, reverse=reverse).source)
        if result.records_in != result.records_out + result.records_rejected:
            msg = (f"records in {result.records_in} ≠ out {result.records_out} + rejected "
                   f"{result.records_rejected}")
            raise ChukanError(msg)
        outputs = [(p.output, p.output_sha, p.counts.records_out) for p in parts]
        rejects = [(p.rejects, p.rejects_sha, p.counts.records_rejected) for p in parts
                   if p.rejects]
        if single is not None:
            outputs = [_join(filesystem, staged, [o for o, _, _ in outputs], single,
                             result.records_out)]
            rejects = [_join(filesystem, staged, [r for r, _, _ in rejects],
                             f"{single}.rejects.csv", result.records_rejected)] \
                if rejects else []
            filesystem.delete_dir(f"{staged}/rejects")  # joined: the folder of parts goes
        manifest = {
            "chukan": __version__, "mapping": spec.name, "reverse": reverse,
            "inputs": [{"path": plan.file, "sha256": digest["sha"],
                        "records": result.records_in}],
            "outputs": [{"path": o, "sha256": h, "records": n} for o, h, n in outputs],
            "rejects": [{"path": r, "sha256": h, "records": n, "role": "rejects"}
                        for r, h, n in rejects],
            "output_layout": _style(spec.source if reverse else spec.target),
            "rejects_by_reason": dict(result.rejects_by_reason),
            "file_problems": [{"code": p.code, "message": p.message}
                              for p in result.file_problems],
            "tasks": len(parts), "complete": SUCCESS,
        }
        with filesystem.open_output_stream(f"{staged}/manifest.json") as out:
            out.write(json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
        with filesystem.open_output_stream(f"{staged}/{SUCCESS}"):
            pass
        _commit(filesystem, staged, target, replace=exists.name != "NotFound")
    except BaseException:
        hashing.join()
        with contextlib.suppress(OSError):  # (gone if the rename failed half-way)
            filesystem.delete_dir(staged)
        raise
    result.output_dir = output_dir
    result.parts = [o for o, _, _ in outputs]
    result.rejects = [r for r, _, _ in rejects]
    result.manifest = "manifest.json"
    return result


def _bytes(part: Part) -> bytes:
    from chukan.spark import part_bytes_of  # noqa: PLC0415 -- the package imports this

    return part_bytes_of(part)


def _sha256(path: str) -> str:
    from chukan.spark._plan import range_reader  # noqa: PLC0415

    digest = hashlib.sha256()
    with range_reader(path) as (read_at, size):
        for at in range(0, size, 8 << 20):
            digest.update(read_at(at, min(8 << 20, size - at)))
    return digest.hexdigest()


def _total(parts: list[PartResult], plan: FilePlan, layout: Layout) -> SparkConvertResult:
    """The parts' counts summed, with what only the whole file shows."""
    out = SparkConvertResult()
    tallies: dict[str, Tally] = {}
    for p in parts:
        add_tallies(tallies, p.tallies)
        out.records_in += p.counts.records_in
        out.records_out += p.counts.records_out
        out.records_rejected += p.counts.records_rejected
        out.rejects_by_reason.update(p.counts.rejects_by_reason)
        out.file_problems += p.counts.file_problems
    # counted over the file's ranges: the file's own when first seen in a header row
    out.file_problems += [p for p in said(tallies) if p.record is None]
    ctx = _Context(layout=layout, file=plan.file, head=plan.head)
    if not out.records_in and not sum(p.problems for p in parts) and not tallies:
        ctx.add(_problem(ctx, "empty-file", record=None, offset=0))
    say_encoding(ctx, sum(p.misread for p in parts), out.records_in)
    out.file_problems += made(ctx.problems)
    out.file_problems.sort(key=Problem.sort_key)  # in file order, as chukan convert's
    return out


def _join(filesystem: FileSystem, root: str, names: list[str], single: str, records: int
          ) -> tuple[str, str, int]:
    """Parts joined into one file, in order, the parts removed."""
    digest = hashlib.sha256()
    joining = f"{root}/.{single}.joining"  # (the name may be a part's own)
    with filesystem.open_output_stream(joining) as out:
        for name in names:
            with filesystem.open_input_stream(f"{root}/{name}") as src:
                while chunk := src.read(8 << 20):
                    digest.update(chunk)
                    out.write(chunk)
            filesystem.delete_file(f"{root}/{name}")
    filesystem.move(joining, f"{root}/{single}")
    return single, digest.hexdigest(), records


def _commit(filesystem: FileSystem, staged: str, target: str, *, replace: bool) -> None:
    """The staged directory into place: the old one, if replaced, moved aside first and
    removed after."""
    if replace:
        old = f"{target}.chukan-old-{uuid.uuid4().hex[:12]}"
        filesystem.move(target, old)
        try:
            filesystem.move(staged, target)
        except BaseException:
            filesystem.move(old, target)  # the old directory back where it was
            raise
        filesystem.delete_dir(old)
    else:
        filesystem.move(staged, target)
