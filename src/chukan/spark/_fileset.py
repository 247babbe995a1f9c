"""A file set's checks on Spark (:func:`chukan.spark.validate_set`): each member's columns
that the checks read, decoded by the cluster; a reference check as a Spark join that
brings back only the records whose value the target lacks; a group check (one per
group, a sequence) on the group and value columns alone, by the single-process code.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import polars as pl

from chukan.spark._task import merge_inventory

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyspark.sql import DataFrame, SparkSession

    from chukan.report import Report
    from chukan.spec import Layout
    from chukan.spec.fileset import FileSet, SetCheck


def absorb(report: Report, member: Report, file: str) -> None:
    """A member's own validation into the set's report, as :func:`chukan.validate_set`
    adds each file's."""
    report.labels.update(member.labels)
    report.files += member.files
    report.records_read += member.records_read
    report.absorb(member, member.problems, file=file)
    merge_inventory(report.gaiji, member.gaiji)
    merge_inventory(report.outside, member.outside)


def columns(spark: SparkSession, path: str, layout: Layout, wanted: list[str],
            part_bytes: int) -> DataFrame:
    """A member's columns ``wanted``, with ``_record`` and ``_offset``, read leniently
    (values the reader rejects are null and take no part in the checks)."""
    from chukan.codec import schema_of  # noqa: PLC0415
    from chukan.spark import layout_option, register  # noqa: PLC0415 -- the package's

    register(spark)
    # the record kinds that hold every column wanted (a multi-record layout's), each read
    # on its own, as the single-process check keeps the frames that hold them all
    kinds = [k for k in layout.kinds if set(wanted) <= set(schema_of(k.fields))]
    frames = [spark.read.format("chukan").option("layout", layout_option(layout))
              .option("record", k.name).option("mode", "lenient").option("locate", "true")
              .option("columns", ",".join(wanted)).option("part_bytes", str(part_bytes))
              .option("paths", json.dumps([path])).load().drop("_file")
              .select(*wanted, "_record", "_offset") for k in kinds]
    if not frames:  # no kind holds them all: the checks see no record
        schema = {name: dtype for k in layout.kinds
                  for name, dtype in schema_of(k.fields).items() if name in wanted}
        empty = pl.DataFrame(schema={**{c: schema[c] for c in wanted},
                                     "_record": pl.Int64(), "_offset": pl.Int64()})
        return spark.createDataFrame(empty.to_arrow(compat_level=pl.CompatLevel.oldest()))
    out = frames[0]
    for more in frames[1:]:
        out = out.unionByName(more)
    return out


def unreferenced(frames: Mapping[str, DataFrame], check: SetCheck) -> pl.DataFrame:
    """The records of a reference check's field whose value its target does not hold: a
    left anti join on the values as text (as the single-process check compares them)."""
    from pyspark.sql import functions as F  # noqa: N812, PLC0415 -- pyspark's idiom

    assert check.target is not None  # noqa: S101 -- the loader requires it
    member, col = check.field
    source = frames[member].where(F.col(f"`{col}`").isNotNull())
    known = frames[check.target[0]].select(
        F.col(f"`{check.target[1]}`").cast("string").alias("_known")).distinct()
    missing = source.join(known, F.col(f"`{col}`").cast("string") == F.col("_known"),
                          "left_anti")
    return collect(missing)


def collect(frame: DataFrame) -> pl.DataFrame:
    """A Spark DataFrame on the driver, in file order."""
    out = pl.from_arrow(frame.toArrow())
    assert isinstance(out, pl.DataFrame)  # noqa: S101 -- a table gives a frame
    return out.sort("_record")


def group_members(fs: FileSet, check: SetCheck) -> set[str]:
    """The members whose columns a group check reads."""
    out = {check.field[0]}
    if check.groups is not None:
        out.add(check.groups[0])
    out |= {c.target[0] for c in fs.checks
            if c.type == "reference" and c.field == check.group and c.target is not None}
    return out
