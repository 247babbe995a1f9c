"""chukan on Spark against the single-process core, on one machine (issue #11).

Generates the municipal-like fixed-width CP932 file of ``bench_io.py`` (302-byte CRLF
records; by default 3,300,000 of them, about 1 GB: one million generated, written over
again), then in one process times:

- ``chukan.read_batches`` over the whole file (single process, the core on every core);
- ``spark.read.format("chukan")`` in ``local[N]``, every column materialised (Spark's
  ``noop`` sink: no output cost);
- the same ranges decoded by the tasks' own function in this process, one after
  another, with no JVM: what Spark adds on top of decoding (planning, Python workers,
  Arrow transfer to the JVM) is the difference, per core;
- ``chukan.convert`` to the standard-style CSV, against ``chukan.spark.convert``.

It prints records/s, the ratios, the rate per core, and a paper estimate for 125 M
records on a cluster. Quote ratios: these machines are shared.

    python benchmarks/bench_spark.py [--records N] [--cores N] [--part-mb M]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

import bench_io
import chukan
import chukan.spark
from chukan._threads import using_threads
from chukan.spark._source import _arrow_type, _batches
from chukan.spark._task import decode_part

HERE = Path(__file__).resolve().parent
_T = TypeVar("_T")


def generate(path: Path, n: int) -> None:
    """``n`` records: a million generated, written again until there are enough."""
    unit = min(n, 1_000_000)
    bench_io.generate(path, unit)
    block = path.read_bytes()
    stride = len(block) // unit
    with path.open("ab") as fh:
        left = n - unit
        while left > 0:
            take = min(left, unit)
            fh.write(block[:take * stride])
            left -= take


def timed(fn: Callable[[], _T]) -> tuple[float, _T]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _arrow_schema(frame: DataFrame) -> pa.Schema:
    """The Arrow schema the data source hands Spark for ``frame``'s columns."""
    return pa.schema([(f.name, _arrow_type(f.dataType)) for f in frame.schema.fields])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=3_300_000)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--part-mb", type=int, default=64, help="bytes per task, in MiB")
    args = ap.parse_args()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    bench_io.write_layout()
    _, mapping = bench_io.write_mapping()
    layout = chukan.load_layout(bench_io.LAYOUT)
    tmp = Path(tempfile.mkdtemp(prefix="chukan-spark-bench-"))
    path = tmp / "municipal.dat"
    t, _ = timed(lambda: generate(path, args.records))
    size = path.stat().st_size
    n = args.records
    print(f"{n:,} records, {size / 1e9:.2f} GB, generated in {t:.1f} s; "
          f"{args.cores} cores, tasks of {args.part_mb} MiB")
    part_bytes = args.part_mb << 20

    t_read, _ = timed(lambda: sum(f.height for f in chukan.read_batches(path, layout)))
    spark = (SparkSession.builder.master(f"local[{args.cores}]").appName("chukan-bench")
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    chukan.spark.register(spark)
    frame = (spark.read.format("chukan").option("layout", str(bench_io.LAYOUT))
             .option("part_bytes", str(part_bytes)).load(str(path)))
    frame.write.format("noop").mode("overwrite").save()  # a first run starts the workers
    t_spark, _ = timed(lambda: frame.write.format("noop").mode("overwrite").save())
    t_plan, plans = timed(lambda: chukan.spark.plan(str(path), layout, part_bytes=part_bytes))

    arrow = _arrow_schema(frame)

    def decode_all(*, batches: bool) -> int:
        """The tasks' work in this process, on one thread (a Spark task has one core)."""
        count = 0
        with using_threads(1):
            for p in plans:
                for part in p.parts:
                    data = chukan.spark.part_bytes_of(part)
                    for block in decode_part(p, part, layout, data):
                        for f in block.frames.values():
                            count += f.height
                            if batches:  # and the Arrow batches handed to Spark
                                count += 0 * sum(b.num_rows for b in
                                                 _batches(f.select(arrow.names), arrow))
        return count

    t_tasks, decoded = timed(lambda: decode_all(batches=False))
    assert decoded == n, decoded
    t_arrow, _ = timed(lambda: decode_all(batches=True))
    out = tmp / "converted.csv"
    t_conv, _ = timed(lambda: chukan.convert(path, mapping, out))
    t_sconv, res = timed(lambda: chukan.spark.convert(spark, str(path), str(mapping),
                                                      str(tmp / "spark-out"),
                                                      part_bytes=part_bytes))
    assert res.records_out == n
    spark.stop()

    def line(what: str, seconds: float, base: float | None = None) -> None:
        ratio = f"  {base / seconds:5.2f}x of the single process" if base else ""
        print(f"{what:<52} {seconds:7.2f} s {n / seconds / 1e3:9.0f} k rec/s{ratio}")

    print()
    line("chukan.read_batches (single process, core)", t_read)
    line(f"spark.read.format('chukan'), local[{args.cores}]", t_spark, t_read)
    line("  its ranges decoded here, on one thread", t_tasks)
    line("  … and made into the Arrow batches Spark takes", t_arrow)
    line("  planning (LFs counted on the driver)", t_plan)
    line("chukan.convert → CSV (single process)", t_conv)
    line(f"chukan.spark.convert → part files, local[{args.cores}]", t_sconv, t_conv)
    per_core_read = n / t_spark / args.cores
    per_core_conv = n / t_sconv / args.cores
    print(f"\nper core on Spark: read {per_core_read / 1e3:.0f} k rec/s, convert "
          f"{per_core_conv / 1e3:.0f} k rec/s. Core for core, Spark's read takes "
          f"{t_spark * args.cores / t_tasks:.1f}x the decoding alone and "
          f"{t_spark * args.cores / t_arrow:.1f}x the decoding with its Arrow batches: the "
          "rest is Spark's (Python workers, Arrow into the JVM, rows)")
    records = 125e6
    for nodes, cores in ((100, 16),):
        total = nodes * cores
        print(f"paper estimate, {records / 1e6:.0f} M records: "
              f"{records / per_core_read:,.0f} core-seconds to read, "
              f"{records / per_core_conv:,.0f} to convert; on {nodes} nodes × {cores} cores "
              f"{records / per_core_read / total:.1f} s and "
              f"{records / per_core_conv / total:.1f} s, linear in cores (plus the job's "
              "start, storage throughput, and the driver's planning pass over LF files: "
              f"{size / t_plan / 1e9:.1f} GB/s here)")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
