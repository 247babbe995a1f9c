"""chukan on Spark: the same reader and checks, with the same answers as one process.

``pip install chukan[spark]`` (Spark ≥ 4.0). Tasks run over byte ranges of the files::

    import chukan.spark

    chukan.spark.register(spark)
    df = (spark.read.format("chukan").option("layout", "examples/vendor-a/juki-kojin")
          .load("exports/kojin.dat"))
    report = chukan.spark.validate(spark, ["exports/*.dat"], "examples/vendor-a/juki-kojin")

Each task decodes whole records of one range through :func:`chukan.decode_block`; the
planner (:mod:`chukan.spark._plan`) cuts the ranges where records start and numbers
them, so records, byte offsets and problems are the file's own. What needs the whole
file is done across tasks: trailer counts are carried from range to range, repeated
keys are found by a Spark aggregation, and the driver says what only the file's ends
show. ``docs/spark.md`` has the details.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pickle
import sys
from typing import TYPE_CHECKING, Any

from chukan.errors import UsageError
from chukan.spark._convert import SparkConvertResult, convert_plan
from chukan.spark._plan import PART_BYTES, FilePlan, Part, expand, plan_file, range_reader
from chukan.spark._task import (
    Checked,
    TrailerCounts,
    carried,
    in_task,
    tally_part,
    validate_part,
)
from chukan.spark._validate import combine
from chukan.spec import Layout, MappingSpec, load_layout, load_mapping

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from pathlib import Path

    import polars as pl
    from pyspark.sql import DataFrame, SparkSession

    from chukan.report import Report
    from chukan.spec import Repertoire
    from chukan.spec.fileset import FileSet

__all__ = ["PART_BYTES", "FilePlan", "Part", "SparkConvertResult", "convert", "plan",
           "problems", "register", "session", "validate", "validate_plans", "validate_set"]


def plan(paths: str | Sequence[str], layout: Layout | str | Path, *,
         part_bytes: int = PART_BYTES) -> list[FilePlan]:
    """The files ``paths`` name (globs expanded) cut into ranges of about ``part_bytes``
    that start where records start, each with its first record's number."""
    lay = layout if isinstance(layout, Layout) else load_layout(layout)
    files = expand([paths] if isinstance(paths, str) else list(paths))
    out = []
    for number, path in enumerate(files, 1):
        with range_reader(path) as (read_at, size):
            out.append(plan_file(read_at, size, lay, path, number, part_bytes=part_bytes))
    return out


def part_bytes_of(part: Part) -> bytes:
    """A range's bytes, read by range."""
    with range_reader(part.file) as (read_at, _):
        return read_at(part.start, part.end - part.start)


@contextlib.contextmanager
def session(master: str = "local[*]") -> Iterator[SparkSession]:
    """A Spark session with chukan registered, its tasks running this interpreter (and so
    this chukan); stopped at the end unless it was already running (the CLI's
    ``--spark MASTER``)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession  # noqa: PLC0415 -- pyspark is an extra

    running = SparkSession.getActiveSession()
    spark = running or SparkSession.builder.master(master).appName("chukan").getOrCreate()
    if running is None:
        spark.sparkContext.setLogLevel("ERROR")
    register(spark)
    try:
        yield spark
    finally:
        if running is None:
            spark.stop()


def register(spark: SparkSession) -> None:
    """Make ``spark.read.format("chukan")`` available in this session."""
    from chukan.spark._source import ChukanDataSource  # noqa: PLC0415 -- needs pyspark

    spark.dataSource.register(ChukanDataSource)


def layout_option(layout: Layout) -> str:
    """A loaded layout as one option string, for a layout that is not a file the
    driver can name (read back by the data source)."""
    return "pickle:" + base64.b64encode(pickle.dumps(layout)).decode("ascii")


def validate(spark: SparkSession, paths: str | Sequence[str], layout: Layout | str | Path, *,
             repertoire: Repertoire | None = None, mask: bool = False,
             max_errors: int | None = None, part_bytes: int = PART_BYTES) -> Report:
    """:func:`chukan.validate` as Spark jobs: the same report, to the byte. Each range
    is a task; trailer counts are carried from range to range by a first, light job;
    repeated keys are found by a Spark aggregation."""
    lay = layout if isinstance(layout, Layout) else load_layout(layout)
    plans = plan(paths, lay, part_bytes=part_bytes)
    sc = spark.sparkContext

    def run(fn: Callable[[Item], Any], items: list[Item]) -> list[Any]:
        return sc.parallelize(items, len(items)).map(lambda it: in_task(fn, it)).collect() \
            if items else []

    return validate_plans(plans, lay, run,
                          lambda: _duplicate_rows(spark, plans, lay, part_bytes),
                          repertoire=repertoire, mask=mask, max_errors=max_errors)


def problems(spark: SparkSession, report: Report) -> DataFrame:
    """A report's problems (those it keeps in detail) as a Spark DataFrame: one row each,
    in file order, with the columns of :meth:`chukan.Report.to_frame` (code, severity,
    message, file, record, offset, field, label, raw, value), to join, filter or write
    where the cluster's other tables are."""
    import polars as pl  # noqa: PLC0415 -- polars is imported by chukan anyway

    return spark.createDataFrame(report.to_frame().to_arrow(
        compat_level=pl.CompatLevel.oldest()))


Item = tuple["FilePlan", "Part", "dict[str, int] | None"]


def validate_plans(plans: list[FilePlan], layout: Layout,
                   run: Callable[[Callable[[Item], Any], list[Item]], list[Any]] | None = None,
                   duplicates: Callable[[], list[pl.DataFrame | None]] | None = None, *,
                   repertoire: Repertoire | None = None, mask: bool = False,
                   max_errors: int | None = None) -> Report:
    """Validate planned ranges with ``run`` (which maps a function over items, in order:
    a Spark job; by default a plain loop) and ``duplicates`` (each file's records whose
    key repeats: a Spark aggregation; by default found here).

    >>> lay = load_layout("examples/vendor-a/juki-kojin")
    >>> plans = plan("fixtures/vendor-a/juki-kojin.dat", lay, part_bytes=300)
    >>> [len(p.parts) for p in plans], validate_plans(plans, lay).ok
    ([3], True)
    """
    if run is None:
        def run(fn: Callable[[Item], Any], items: list[Item]) -> list[Any]:
            return [fn(item) for item in items]
    if duplicates is None:
        def duplicates() -> list[pl.DataFrame | None]:
            return [_local_duplicates(p, layout) for p in plans]
    items: list[Item] = [(p, part, None) for p in plans for part in p.parts]
    if layout.is_multi and any(f.counts for k in layout.kinds for f in k.fields):
        tallies: list[TrailerCounts] = run(lambda it: tally_part(it[0], it[1], layout,
                                                         part_bytes_of(it[1])), items)
        starts: list[dict[str, int] | None] = []
        at = 0
        for p in plans:
            starts += carried(tallies[at:at + len(p.parts)])[:-1]
            at += len(p.parts)
        items = [(p, part, start) for (p, part, _), start in zip(items, starts, strict=True)]

    def check(it: Item) -> Checked:
        p, part, counters = it
        return validate_part(p, part, layout, part_bytes_of(part), repertoire=repertoire,
                             max_errors=max_errors, counters=counters)

    checks: list[Checked] = run(check, items)
    grouped, at = [], 0
    for p in plans:
        grouped.append(checks[at:at + len(p.parts)])
        at += len(p.parts)
    dups = duplicates() if layout.unique else [None] * len(plans)
    return combine(plans, grouped, layout, dups, mask=mask, max_errors=max_errors)


def validate_set(spark: SparkSession, file_set: FileSet | str | Path, files: Mapping[str, str],
                 *, repertoire: Repertoire | None = None, mask: bool = False,
                 max_errors: int | None = None, part_bytes: int = PART_BYTES) -> Report:
    """:func:`chukan.validate_set` as Spark jobs: the same report. Each member is
    validated as :func:`validate` does; a reference check is a Spark join that brings
    back only the records whose value its target lacks; a group check (one record per
    group, a sequence) runs on the driver over the group and value columns alone."""
    from chukan.report import ProblemTable  # noqa: PLC0415
    from chukan.report import Report as _Report  # noqa: PLC0415
    from chukan.spark import _fileset  # noqa: PLC0415 -- needs pyspark
    from chukan.validate import (  # noqa: PLC0415 -- validation's own steps
        MASK,
        _run_check,
        file_set_for,
        missing_references,
        set_columns,
    )

    fs = file_set_for(file_set, files)
    report = _Report(max_problems=max_errors)
    for name, lay in fs.files.items():
        _fileset.absorb(report, validate(spark, [files[name]], lay, repertoire=repertoire,
                                         mask=mask, max_errors=max_errors,
                                         part_bytes=part_bytes), files[name])
    wanted = set_columns(fs)
    names = {name: str(files[name]) for name in fs.files}
    frames = {name: _fileset.columns(spark, files[name], lay, sorted(wanted[name]),
                                     part_bytes)
              for name, lay in fs.files.items() if wanted[name]}
    held: dict[str, pl.DataFrame] = {}  # members' columns brought to the driver
    found: list[ProblemTable] = []
    for check in fs.checks:
        if check.type == "reference":
            found.append(missing_references(check, _fileset.unreferenced(frames, check), fs,
                                            names))
            continue
        for member in _fileset.group_members(fs, check) - set(held):
            held[member] = _fileset.collect(frames[member])
        found += _run_check(check, held, names, fs,
                            {name: frame.height > 0 for name, frame in held.items()})
    table = ProblemTable.of(found).in_file_order(by_file=True)
    report.extend(table.masked(MASK) if mask else table)
    return report


def convert(spark: SparkSession | None, source: str, mapping: MappingSpec | str | Path,
            output_dir: str, *, reverse: bool = False, single: str | None = None,
            mask: bool = False, overwrite: bool = False, part_bytes: int = PART_BYTES
            ) -> SparkConvertResult:
    """:func:`chukan.convert` as Spark tasks: ``output_dir`` gets the output as part files
    (``part-00000.csv``, … ; joined in order they are the single-process output, byte
    for byte), the rejects under ``rejects/`` the same way, ``manifest.json`` (the input's
    SHA-256, every part's, the counts, ``records in = out + rejected`` checked over all
    tasks) and ``_SUCCESS``. With ``single``, the parts are joined into that one file
    (and its ``.rejects.csv``). The directory is written beside its place and renamed
    into it last. Without a session (``None``), the ranges run one after another here.
    """
    spec = mapping if isinstance(mapping, MappingSpec) else load_mapping(mapping)
    layout = spec.target if reverse else spec.source
    plans = plan(source, layout, part_bytes=part_bytes)
    if len(plans) != 1:
        msg = f"convert takes one source file; {source} names {len(plans)}"
        raise UsageError(msg)

    def run(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        if spark is None:
            return [fn(item) for item in items]
        return spark.sparkContext.parallelize(items, len(items)).map(
            lambda it: in_task(fn, it)).collect()

    return convert_plan(spec, plans[0], output_dir, run, reverse=reverse, single=single,
                        mask=mask, overwrite=overwrite)


def _local_duplicates(plan: FilePlan, layout: Layout) -> pl.DataFrame | None:
    """A file's records whose unique key repeats, found in this process."""
    import polars as pl  # noqa: PLC0415 -- polars is imported by chukan anyway

    from chukan.spark._task import decode_part  # noqa: PLC0415

    keys = list(layout.unique)
    frames = [f.select(*keys, "_record", "_offset") for part in plan.parts
              for block in decode_part(plan, part, layout, part_bytes_of(part), columns=keys)
              for f in block.frames.values() if set(keys) <= set(f.columns)]
    if not frames:
        return None
    complete = pl.concat(frames).filter(pl.all_horizontal(pl.col(keys).is_not_null()))
    return complete.filter(pl.len().over(keys) > 1)


def _duplicate_rows(spark: SparkSession, plans: list[FilePlan], layout: Layout,
                    part_bytes: int) -> list[pl.DataFrame | None]:
    """Per file, the records whose unique key another record of the file has too: a
    Spark aggregation over the key columns alone."""
    import polars as pl  # noqa: PLC0415
    from pyspark.sql import Window  # noqa: PLC0415
    from pyspark.sql import functions as F  # noqa: N812, PLC0415 -- pyspark's idiom

    register(spark)
    keys = list(layout.unique)
    df = (spark.read.format("chukan").option("layout", layout_option(layout))
          .option("mode", "lenient").option("locate", "true").option("columns", ",".join(keys))
          .option("part_bytes", str(part_bytes))
          # a file named twice is read once: its keys are its own either time
          .option("paths", json.dumps(list(dict.fromkeys(p.file for p in plans)))).load())
    complete = df.where(F.expr(" AND ".join(f"`{k}` IS NOT NULL" for k in keys)))
    many = complete.withColumn("_n", F.count("*").over(Window.partitionBy("_file", *keys)))
    rows = many.where("_n > 1").drop("_n").toArrow()
    frame = pl.from_arrow(rows)
    assert isinstance(frame, pl.DataFrame)  # noqa: S101 -- a table gives a frame
    return [frame.filter(pl.col("_file") == p.file).drop("_file").sort("_record")
            for p in plans]
