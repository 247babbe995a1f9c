"""Mainframe text: read and write an IBM 930 host file against CPython's CP932 codec.

Generates a host person file (the shipped ``examples/mainframe/juki-kojin-ibm930``
layout, 160-byte records: packed and zoned numbers, half-width kana, graphic 氏名 and
住所, a mixed SO/SI 番地) of ``--records`` records in a temporary folder, then times in
one process:

- chukan reading it (``chukan.read``) against ``bytes.decode("cp932")`` of a CP932 text
  file of the same size;
- chukan writing the frame back (``chukan.write``, which formats, checks, writes the
  file, syncs it and renames it into place) against ``str.encode("cp932")`` of that
  text, and against that encode written to a file and synced.

Every case runs once a round, in turn, for ``--repeat`` rounds, and keeps its best
round. Ratios above 1 mean chukan is faster. Run: ``python benchmarks/bench_ebcdic.py``.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

import chukan

LAYOUT = "examples/mainframe/juki-kojin-ibm930"
KANJI = "山田太郎花子鈴木一郎佐藤次郎高橋幸子東京都千代田区大阪府北区梅田丁目番地号"
KANA = "ﾔﾏﾀﾞﾀﾛｳｽｽﾞｷｲﾁﾛｳｻﾄｳﾊﾅｺ"


def frame(n: int, seed: int = 7) -> pl.DataFrame:
    """``n`` synthetic people with varied text (no 外字)."""
    rng = np.random.default_rng(seed)
    kanji = np.array(list(KANJI))
    kana = np.array(list(KANA))

    def words(chars: np.ndarray, lo: int, hi: int) -> list[str]:
        sizes = rng.integers(lo, hi + 1, n)
        picks = chars[rng.integers(0, len(chars), int(sizes.sum()))]
        ends = np.cumsum(sizes)
        return ["".join(picks[e - s:e]) for s, e in zip(sizes, ends, strict=True)]

    days = rng.integers(-20000, 19000, n)
    born = pl.Series(days, dtype=pl.Int32).cast(pl.Date)
    return pl.DataFrame({
        "atena_no": pl.Series(np.arange(1, n + 1)).cast(pl.Decimal(15, 0)),
        "setai_no": pl.Series(rng.integers(1, 10**10, n)).cast(pl.Decimal(11, 0)),
        "kisai_juni": pl.Series(rng.integers(1, 10, n)).cast(pl.Decimal(2, 0)),
        "shimei_kana": words(kana, 4, 12),
        "shimei_kanji": words(kanji, 2, 8),
        "seibetsu": rng.choice(["1", "2"], n).tolist(),
        "seinengappi": born,
        "seinengappi_partial": pl.Series([None] * n, dtype=pl.String),
        "zokugara": rng.choice(["10", "22", "30", "42"], n).tolist(),
        "jumin_jotai": rng.choice(["1", "2", "3"], n).tolist(),
        "ido_ymd": born,
        "ido_ymd_partial": pl.Series([None] * n, dtype=pl.String),
        "yubin_no": [f"{v:07d}" for v in rng.integers(0, 10**7, n)],
        "jusho": words(kanji, 6, 18),
        "banchi": [f"{a}丁目{b}-{c}" for a, b, c in rng.integers(1, 99, (n, 3))],
    })


def timed(fn, before=None) -> float:
    if before is not None:
        before()
    gc.collect()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    layout = chukan.load_layout(LAYOUT)
    df = frame(args.records)
    with tempfile.TemporaryDirectory(prefix="chukan-ebcdic-") as tmp:
        host = Path(tmp) / "host930.dat"
        chukan.write(df, host, layout)
        size = host.stat().st_size
        # a CP932 text of the same size: the same kind of words, one record per line
        line = "".join(df.row(0, named=True)[c] for c in ("shimei_kanji", "jusho")) + \
            "ﾔﾏﾀﾞ 1975-04-01 1000001\r\n"
        unit = line.encode("cp932")
        data = (unit * (size // len(unit) + 1))[:size]
        data = data[:len(data.decode("cp932", "ignore").encode("cp932"))]
        text = data.decode("cp932")

        def encode_and_save() -> None:  # the same file work chukan.write does
            with (Path(tmp) / "text.dat").open("wb") as fh:
                fh.write(text.encode("cp932"))
                fh.flush()
                os.fsync(fh.fileno())

        # each round times every case once, one after the other, and each case keeps
        # its best round: a machine busier in one part of the run than in another
        # weighs on chukan and its baseline alike
        cases = {
            # the baseline encodes in memory: the previous output is removed outside
            # the timing (as in bench_io.py), so that the file system's freeing of it
            # is not counted against the writer
            "write": (lambda: chukan.write(df, host, layout),
                      lambda: host.unlink(missing_ok=True)),
            "encode": (lambda: text.encode("cp932"), None),
            "saved": (encode_and_save,
                      lambda: (Path(tmp) / "text.dat").unlink(missing_ok=True)),
            "read": (lambda: chukan.read(host, layout), None),
            "decode": (lambda: data.decode("cp932"), None),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, (fn, before) in cases.items():
                times[name].append(timed(fn, before))
        write, encode, saved, read, decode = (min(times[name]) for name in cases)
        back = chukan.read(host, layout)
        assert back.equals(df.select(back.columns), null_equal=True)
    mb = size / 1e6
    print(f"IBM 930 host file: {args.records:,} records, {mb:.0f} MB, {os.cpu_count()} cores")
    print(f"read   {read:6.3f} s  {mb / read:7.1f} MB/s   cp932 decode {decode:6.3f} s   "
          f"ratio {decode / read:4.2f}x")
    print(f"write  {write:6.3f} s  {mb / write:7.1f} MB/s   cp932 encode {encode:6.3f} s   "
          f"ratio {encode / write:4.2f}x")
    print(f"  (the encode written to a file and synced, as chukan.write does: {saved:6.3f} s, "
          f"ratio {saved / write:4.2f}x)")


if __name__ == "__main__":
    main()
