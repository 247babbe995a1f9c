"""EUC-JP: read and write a fixed-width and a CSV file through the core, and through the
Python paths it replaced, against CPython's ``bytes.decode("euc_jp")`` and
``str.encode("euc_jp")``.

Generates ``--records`` synthetic people (full-width names and addresses with some JIS X
0212 kanji, which EUC-JP writes in three bytes, half-width kana, which it writes in two,
codes, dates, a mixed memo) in a temporary folder, written by chukan as a fixed-width
file (110-byte records) and as a CSV file, then times in one process, once each a round
for ``--repeat`` rounds, keeping each case's best:

- ``bytes.decode("euc_jp")`` of each file, and ``str.encode("euc_jp")`` of its text (the
  ceilings);
- ``chukan.read`` of each file, and ``chukan.write`` of its frame (the compiled core);
- the same with ``CHUKAN_KERNEL=python`` (numpy, Polars and CPython's codec: how EUC-JP
  was read and written before the core did it, kept as the core's oracle in the tests).

Ratios above 1 mean chukan is faster. Run: ``python benchmarks/bench_eucjp.py``.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

import chukan
from chukan import _kernel

# the tests' reference kernel, which CHUKAN_KERNEL=python reads with (in tests/, not in
# the package)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reference_kernel import extract_python

_kernel.REFERENCE = extract_python

FIELDS = """
[[field]]
name = "id"
length = 10
type = "digits"
[[field]]
name = "name"
length = 20
type = "text"
chars = "fullwidth"
[[field]]
name = "kana"
length = 20
type = "text"
chars = "halfwidth"
[[field]]
name = "address"
length = 40
type = "text"
chars = "fullwidth"
[[field]]
name = "code"
length = 2
type = "code"
[[field]]
name = "birth"
length = 8
type = "date"
format = "YYYYMMDD"
[[field]]
name = "memo"
length = 10
type = "text"
"""
FIXED = ('[layout]\nname = "bench/eucjp"\nformat = "fixed"\nencoding = "euc_jp"\n'
         'record_length = 110\nterminator = "lf"\n' + FIELDS)
CSV = ('[layout]\nname = "bench/eucjp-csv"\nformat = "csv"\nencoding = "euc_jp"\n'
       'terminator = "lf"\n' + FIELDS)
# 丂 丄 丅 丌 are JIS X 0212 (three bytes in EUC-JP); the rest JIS X 0208
KANJI = "山田太郎花子鈴木一郎佐藤高橋渡辺美咲丂丄丅丌"
PLACES = ["東京都千代田区千代田一丁目", "大阪府大阪市北区梅田", "北海道札幌市中央区",
          "福岡県福岡市博多区", "宮城県仙台市青葉区本町丂"]
KANA = ["ﾔﾏﾀﾞﾀﾛｳ", "ｻﾄｳﾊﾅｺ", "ｽｽﾞｷ", "ﾀｶﾊｼ ｲﾁﾛｳ"]
MEMO = ["", "A1", "備考", "ok 済"]


def frame(n: int, seed: int = 11) -> pl.DataFrame:
    """``n`` synthetic people (no 外字: EUC-JP has no user-defined area CPython maps)."""
    rng = np.random.default_rng(seed)
    kanji = np.array(list(KANJI))
    sizes = rng.integers(2, 7, n)  # (at most 18 bytes, were all of them three)
    picks = kanji[rng.integers(0, len(kanji), int(sizes.sum()))]
    ends = np.cumsum(sizes)
    names = ["".join(picks[e - s:e]) for s, e in zip(sizes, ends, strict=True)]

    def pick(pool: list[str]) -> pl.Series:
        return pl.Series(pool).gather(rng.integers(0, len(pool), n))

    return pl.DataFrame({
        "id": pl.Series(np.arange(n)).cast(pl.String).str.zfill(10),
        "name": names, "kana": pick(KANA), "address": pick(PLACES),
        "code": pick(["01", "02", "10"]),
        "birth": pl.Series(rng.integers(-20000, 19000, n), dtype=pl.Int32).cast(pl.Date),
        "memo": pick(MEMO),
    })


def timed(work: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    layouts = {"fixed-width": chukan.loads_layout(FIXED), "CSV": chukan.loads_layout(CSV)}
    with tempfile.TemporaryDirectory() as tmp:
        df = frame(args.records)
        paths = {kind: Path(tmp) / f"people.{kind}" for kind in layouts}
        for kind, layout in layouts.items():
            chukan.write(df, paths[kind], layout)
        print(f"{args.records:,} records, {os.cpu_count()} cores")
        for kind, layout in layouts.items():
            path = paths[kind]
            data = path.read_bytes()
            text = data.decode("euc_jp")
            out = Path(tmp) / f"out.{kind}"
            cases: dict[str, Callable[[], object]] = {
                "decode": lambda data=data: data.decode("euc_jp"),
                "read": lambda path=path, layout=layout: chukan.read(path, layout),
                "encode": lambda text=text: text.encode("euc_jp"),
                "write": lambda out=out, layout=layout: chukan.write(df, out, layout),
            }
            best = dict.fromkeys([*cases, "read python", "write python"], float("inf"))
            for _ in range(args.repeat):
                for name, work in cases.items():
                    best[name] = min(best[name], timed(work))
                    if name in ("read", "write"):
                        os.environ["CHUKAN_KERNEL"] = "python"
                        try:
                            best[f"{name} python"] = min(best[f"{name} python"], timed(work))
                        finally:
                            del os.environ["CHUKAN_KERNEL"]
            print(f"{kind} ({len(data) / 1e6:.0f} MB):")
            for name, base in (("read", "decode"), ("write", "encode")):
                core, python = best[name], best[f"{name} python"]
                print(f"  {name}: {core:.3f} s, {best[base] / core:.2f}× {base} "
                      f"({best[base]:.3f} s); the Python path {python:.3f} s "
                      f"({best[base] / python:.2f}×): the core {python / core:.1f}× as fast")


if __name__ == "__main__":
    main()
