"""``spark.read.format("chukan")``: a PySpark Python data source over the planner's
ranges and the tasks' decoding.

Options (all strings, as Spark passes them):

- ``layout``: a shipped layout's name or a TOML path the driver can read (required);
- ``record``: the record kind of a multi-record layout;
- ``columns``: comma-separated columns to decode (the Python data source API does not
  push Spark's column pruning down, so the decoder is told here);
- ``mode``: ``strict`` (default: the first problem in the data fails the job, as
  :func:`chukan.read` raises) or ``lenient`` (failing values are null);
- ``locate``: ``true`` adds ``_file``, ``_record`` and ``_offset``;
- ``part_bytes``: bytes per task (default 128 MiB);
- ``paths``: a JSON list of paths, for several files or globs (or ``load(path)``).
"""

from __future__ import annotations

import base64
import json
import pickle
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition
from pyspark.sql.types import (
    DataType,
    DateType,
    DecimalType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from chukan.codec import schema_of
from chukan.errors import DataError, UsageError
from chukan.report import first_error
from chukan.spark._plan import PART_BYTES, FilePlan, Part
from chukan.spark._task import decode_part, task_threads
from chukan.spec import Layout, load_layout

if TYPE_CHECKING:
    from collections.abc import Iterator


def _layout(value: str | None) -> Layout:
    if not value:
        msg = 'give the layout: .option("layout", NAME_OR_PATH)'
        raise UsageError(msg)
    if value.startswith("pickle:"):
        loaded = pickle.loads(base64.b64decode(value[7:]))  # noqa: S301 -- our own option
        assert isinstance(loaded, Layout)  # noqa: S101
        return loaded
    return load_layout(value)


def _spark_type(dtype: pl.DataType) -> DataType:
    if isinstance(dtype, pl.Decimal):
        return DecimalType(dtype.precision or 38, dtype.scale or 0)
    if dtype == pl.Int64:
        return LongType()
    if dtype == pl.Date:
        return DateType()
    return StringType()


class _Range(InputPartition):
    def __init__(self, plan: FilePlan, part: Part) -> None:
        super().__init__((plan.file, part.start))
        self.plan = plan
        self.part = part


class ChukanDataSource(DataSource):
    """Fixed-width and CSV files in a chukan layout, read as Spark DataFrames."""

    @classmethod
    def name(cls) -> str:
        return "chukan"

    def _options(self) -> tuple[Layout, str, list[str] | None, bool]:
        lay = _layout(self.options.get("layout"))
        kind = lay.kind(self.options.get("record"))
        columns = self.options.get("columns")
        wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        return lay, kind.name, wanted, self.options.get("locate", "false").lower() == "true"

    def schema(self) -> StructType:
        lay, kind, wanted, locate = self._options()
        schema = schema_of(lay.kind(kind).fields)
        if lay.is_multi:
            schema["_record"] = pl.Int64()
        if wanted is not None:
            unknown = sorted(set(wanted) - set(schema))
            if unknown:
                msg = f"no column {', '.join(unknown)} in {lay.name}"
                raise UsageError(msg)
            schema = {k: v for k, v in schema.items() if k in wanted}
        if locate:
            schema |= {"_file": pl.String(), "_record": pl.Int64(), "_offset": pl.Int64()}
        return StructType([StructField(k, _spark_type(v), nullable=True)
                           for k, v in schema.items()])

    def reader(self, schema: StructType) -> DataSourceReader:
        lay, kind, wanted, locate = self._options()
        paths = json.loads(self.options["paths"]) if "paths" in self.options else \
            [self.options["path"]] if "path" in self.options else []
        if not paths:
            msg = 'give a file: .load(PATH) or .option("paths", JSON_LIST)'
            raise UsageError(msg)
        mode = self.options.get("mode", "strict").lower()
        if mode not in ("strict", "lenient"):
            msg = f'mode is "strict" or "lenient", not {mode!r}'
            raise UsageError(msg)
        return _Reader(lay, kind, wanted, locate=locate, strict=mode == "strict",
                       paths=paths, part_bytes=int(self.options.get("part_bytes",
                                                                    PART_BYTES)),
                       schema=schema)


class _Reader(DataSourceReader):
    def __init__(self, layout: Layout, kind: str, wanted: list[str] | None, *, locate: bool,
                 strict: bool, paths: list[str], part_bytes: int, schema: StructType) -> None:
        self.layout, self.kind, self.wanted = layout, kind, wanted
        self.locate, self.strict = locate, strict
        self.paths, self.part_bytes = paths, part_bytes
        self.names = [f.name for f in schema.fields]
        self.arrow = pa.schema([(f.name, _arrow_type(f.dataType)) for f in schema.fields])

    def partitions(self) -> list[_Range]:
        from chukan.spark import plan  # noqa: PLC0415 -- the package imports this module

        return [_Range(p, part) for p in plan(self.paths, self.layout,
                                              part_bytes=self.part_bytes)
                for part in p.parts]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        assert isinstance(partition, _Range)  # noqa: S101 -- partitions() made it
        with task_threads():
            for frame in self._frames(partition):
                yield from _batches(frame, self.arrow)

    def _frames(self, partition: _Range) -> Iterator[pl.DataFrame]:
        from chukan.spark import part_bytes_of  # noqa: PLC0415

        data = part_bytes_of(partition.part)
        decode = [c for c in self.names if not c.startswith("_")] \
            if self.wanted is not None else None
        for block in decode_part(partition.plan, partition.part, self.layout, data,
                                 columns=decode):
            first = first_error([block.table]) if self.strict else None
            if first is not None:
                raise DataError(first)
            frame = block.frames.get(self.kind)
            if frame is None or not frame.height:
                continue
            if self.locate:
                frame = frame.with_columns(pl.lit(partition.plan.file).alias("_file"))
            yield frame.select(self.names)


def _arrow_type(t: DataType) -> pa.DataType:
    if isinstance(t, DecimalType):
        return pa.decimal128(t.precision, t.scale)
    if isinstance(t, LongType):
        return pa.int64()
    if isinstance(t, DateType):
        return pa.date32()
    return pa.string()


def _batches(frame: pl.DataFrame, schema: pa.Schema) -> Iterator[Any]:
    """The frame as Arrow batches of exactly the schema Spark expects (plain strings, not
    Polars' views)."""
    table = frame.to_arrow().cast(schema)
    yield from table.to_batches(max_chunksize=65536)
