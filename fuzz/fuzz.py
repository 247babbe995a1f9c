"""Long-running fuzzing of every entry point: the data readers, validation, the writer,
convert and the layout loader, on mutated copies of the shipped fixtures and layouts.

Every input must end in a result or a ``ChukanError``; and the invariants must hold:

- convert: records in = records out + records rejected;
- read: the same records and problems whatever the batch size;
- a read that reports nothing, written back, gives the same bytes;
- the compiled core reads what the Python paths (its oracles) read, on a quarter of the
  inputs.

Usage: ``python fuzz/fuzz.py --count 1000000 [--seed N] [--seconds S] [--jobs J]``
(``--jobs 2`` runs two processes, one per core). It prints a line
every 10,000 inputs and, at the end, the count per entry point and every finding (the
entry point, the exception or broken invariant, and the input as hex, so it can be
replayed). ``tests/test_fuzz.py`` runs the same harness on a few hundred inputs in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import chukan
from chukan import ChukanError, _kernel

# the tests' reference kernel, which CHUKAN_KERNEL=python reads with (in tests/, not in
# the package)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reference_kernel import extract_python

_kernel.REFERENCE = extract_python

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SAMPLES = [
    ("vendor-a/juki-kojin.dat", "examples/vendor-a/juki-kojin"),
    ("vendor-a/juki-setai.dat", "examples/vendor-a/juki-setai"),
    ("vendor-a/juki-kojin.csv", "examples/vendor-a/juki-kojin-csv"),
    ("vendor-a/juki-kojin.kihon.csv", "kihon/juki/kojin"),
    ("vendor-a/juki-kojin.chukan.csv", "chukan/juki/kojin"),
    ("mainframe/juki-kojin.dat", "examples/mainframe/juki-kojin"),
    ("mainframe/nouzei.dat", "examples/mainframe/nouzei"),
    ("mainframe/juki-kojin-ibm930.dat", "examples/mainframe/juki-kojin-ibm930"),
    ("mainframe/juki-kojin-jef.dat", "examples/mainframe/juki-kojin-jef"),
]
CONVERSIONS = [
    ("vendor-a/juki-kojin.dat", "examples/vendor-a/kojin-to-kihon", False),
    ("vendor-a/juki-kojin.kihon.csv", "examples/vendor-a/kojin-to-kihon", True),
    ("vendor-a/juki-kojin.chukan.csv", "examples/vendor-a/kojin-to-chukan", True),
    ("mainframe/juki-kojin.dat", "examples/mainframe/kojin-to-chukan", False),
    ("mainframe/juki-kojin.kihon.csv", "examples/mainframe/kojin-to-kihon", True),
    ("mainframe/juki-kojin-ibm930.dat", "examples/mainframe/kojin930-to-chukan", False),
    ("mainframe/juki-kojin-jef.dat", "examples/mainframe/kojinjef-to-chukan", False),
]
LAYOUT_FILES = [p for p in (ROOT / "layouts").rglob("*.toml") if "[layout]" in
                p.read_text(encoding="utf-8")]
INTERESTING = [0x00, 0x0A, 0x0D, 0x0E, 0x1A, 0x20, 0x22, 0x2C, 0x2D, 0x30, 0x39, 0x0C, 0x0F,
               0x28, 0x29, 0x40, 0x7F, 0x80, 0x81, 0x87, 0xA0, 0xED, 0xEE, 0xF0, 0xFA, 0xFC, 0xFF]


class FindingError(Exception):
    """A broken invariant."""


#: the input being tried, for the report of a finding
LAST: dict[str, object] = {}


def mutate(rng: random.Random, data: bytes) -> bytes:
    """A few random edits: byte changes (biased to interesting bytes), insertions,
    deletions, duplicated or cut spans."""
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 8))):
        if not buf:
            buf.append(rng.randrange(256))
            continue
        at = rng.randrange(len(buf))
        op = rng.random()
        byte = rng.choice(INTERESTING) if rng.random() < 0.6 else rng.randrange(256)
        if op < 0.55:
            buf[at] = byte
        elif op < 0.7:
            buf.insert(at, byte)
        elif op < 0.8:
            del buf[at]
        elif op < 0.9:
            end = min(len(buf), at + rng.randrange(1, 64))
            buf[at:at] = buf[at:end]
        else:
            del buf[at:]
    LAST["input"] = bytes(buf)
    return bytes(buf)


def _problems(report: chukan.Report) -> list[tuple[str, int, int]]:
    return sorted((p.code, p.record or 0, p.offset or 0) for p in report.problems)


def fuzz_read(rng: random.Random, work: Path) -> bytes:
    fixture, layout = rng.choice(SAMPLES)
    LAST["what"] = (fixture, layout)
    data = mutate(rng, (FIXTURES / fixture).read_bytes())
    whole = chukan.Report()
    try:
        frame = chukan.read(data, layout, report=whole)
    except ChukanError:
        return data
    batch = rng.randrange(1, 7)
    parts = chukan.Report()
    rows = [r for b in chukan.read_batches(data, layout, report=parts, batch_size=batch)
            for r in b.rows()]
    if rows != frame.rows() or _problems(parts) != _problems(whole) or \
            parts.records_read != whole.records_read:
        msg = f"{fixture}: batch size {batch} reads otherwise than the whole file"
        raise FindingError(msg)
    if not whole.problems:
        out = work / "back"
        chukan.write(frame, out, layout)
        if out.read_bytes() != data:
            msg = f"{fixture}: a read that said nothing was written back otherwise"
            raise FindingError(msg)
    if rng.random() < 0.25:  # the compiled core against the Python paths, its oracles
        oracle = chukan.Report()
        os.environ["CHUKAN_KERNEL"] = "python"
        try:
            python_frame = chukan.read(data, layout, report=oracle)
        finally:
            del os.environ["CHUKAN_KERNEL"]
        if python_frame.rows() != frame.rows() or _problems(oracle) != _problems(whole):
            msg = f"{fixture}: the core reads otherwise than the Python kernel"
            raise FindingError(msg)
    return data


def fuzz_strict(rng: random.Random, work: Path) -> bytes:
    del work
    fixture, layout = rng.choice(SAMPLES)
    LAST["what"] = (fixture, layout)
    data = mutate(rng, (FIXTURES / fixture).read_bytes())
    with contextlib.suppress(ChukanError):
        chukan.read(data, layout)
    return data


def fuzz_validate(rng: random.Random, work: Path) -> bytes:
    fixture, layout = rng.choice(SAMPLES)
    LAST["what"] = (fixture, layout)
    data = mutate(rng, (FIXTURES / fixture).read_bytes())
    path = work / "v.bin"
    path.write_bytes(data)
    chukan.validate([path], layout, mask=rng.random() < 0.5)
    return data


def fuzz_convert(rng: random.Random, work: Path) -> bytes:
    fixture, mapping, reverse = rng.choice(CONVERSIONS)
    LAST["what"] = (fixture, mapping, reverse)
    data = mutate(rng, (FIXTURES / fixture).read_bytes())
    source = work / ("in.csv" if fixture.endswith(".csv") else "in.dat")
    source.write_bytes(data)
    try:
        result = chukan.convert(source, mapping, work / "out", reverse=reverse,
                                batch_size=rng.choice((1, 2, 3, 100_000)))
    except ChukanError:
        return data
    if result.records_in != result.records_out + result.records_rejected:
        msg = f"{fixture}: records in ≠ out + rejected"
        raise FindingError(msg)
    return data


def fuzz_layout(rng: random.Random, work: Path) -> bytes:
    del work
    path = rng.choice(LAYOUT_FILES)
    LAST["what"] = str(path)
    text = mutate(rng, path.read_bytes())
    try:
        layout = chukan.loads_layout(text.decode("utf-8", "replace"))
    except ChukanError:
        return text
    # a layout that loads must read a file without anything but ChukanError
    fixture = next((f for f, name in SAMPLES if (ROOT / "layouts" / f"{name}.toml") == path),
                   None)
    if fixture is not None:
        with contextlib.suppress(ChukanError):
            chukan.read((FIXTURES / fixture).read_bytes(), layout, report=chukan.Report())
    return text


ENTRIES: dict[str, tuple[Callable[[random.Random, Path], bytes], int]] = {
    "read": (fuzz_read, 5), "read-strict": (fuzz_strict, 3), "validate": (fuzz_validate, 2),
    "convert": (fuzz_convert, 1), "layout": (fuzz_layout, 3)}


def run(count: int, seed: int, seconds: float | None = None,
        log: Callable[[str], None] = print) -> tuple[Counter[str], list[str]]:
    """Fuzz ``count`` inputs (or until ``seconds``); the inputs per entry point and the
    findings."""
    rng = random.Random(seed)
    names = [n for n, (_, w) in ENTRIES.items() for _ in range(w)]
    done: Counter[str] = Counter()
    findings: list[str] = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chukan-fuzz-") as tmp:
        work = Path(tmp)
        for i in range(count):
            if seconds is not None and time.monotonic() - start > seconds:
                break
            name = rng.choice(names)
            LAST.clear()
            try:
                ENTRIES[name][0](rng, work)
            except ChukanError:
                pass
            except Exception as exc:
                data = LAST.get("input", b"")
                findings.append(f"{name} #{i} on {LAST.get('what')}: {type(exc).__name__}: "
                                f"{exc}\n{traceback.format_exc(limit=-3)}input: "
                                f"{data.hex() if isinstance(data, bytes) else data}")
                log(f"FINDING {findings[-1]}")
            done[name] += 1
            if (i + 1) % 10_000 == 0:
                log(f"{i + 1} inputs, {len(findings)} findings, "
                    f"{time.monotonic() - start:.0f} s")
    return done, findings


def _worker(job: tuple[int, int, float | None, int]) -> tuple[Counter[str], list[str]]:
    count, seed, seconds, index = job
    return run(count, seed, seconds, log=lambda s: print(f"[{index}] {s}", flush=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--jobs", type=int, default=1,
                        help="processes, each with its own seed (seed, seed + 1, …) and "
                             "its share of --count")
    args = parser.parse_args()
    if args.jobs > 1:
        share = -(-args.count // args.jobs)
        jobs = [(share, args.seed + k, args.seconds, k) for k in range(args.jobs)]
        with multiprocessing.Pool(args.jobs) as pool:
            results = pool.map(_worker, jobs)
        done = sum((d for d, _ in results), Counter())
        findings = [f for _, found in results for f in found]
    else:
        done, findings = run(args.count, args.seed, args.seconds,
                             log=lambda s: print(s, flush=True))
    print(f"inputs: {sum(done.values())} ({dict(done)})")
    print(f"findings: {len(findings)}")
    for f in findings[:50]:
        print(f)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
