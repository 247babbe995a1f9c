"""chukan on Spark gives the single-process answer: the same records, values, problems
and counts, wherever the ranges cut the files.

The planner and the tasks are checked first without Spark (every cut, mutated files);
then a real local Spark session (``local[2]``, one per test run) reads and validates the
shipped fixtures and defective files through ``spark.read.format("chukan")`` and
:func:`chukan.spark.validate`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chukan
import chukan.spark
from chukan.spark._plan import plan_bytes, splits_by_lf
from chukan.spec import load_layout
from helpers import kojin_records, put

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pyspark.sql import SparkSession

ROOT = Path(__file__).resolve().parents[1]
FIXED = [
    ("fixtures/vendor-a/juki-kojin.dat", "examples/vendor-a/juki-kojin"),  # CRLF
    ("fixtures/vendor-a/juki-setai.dat", "examples/vendor-a/juki-setai"),
    ("fixtures/zengin/kouza-furikae.dat", "zengin/kouza-furikae"),  # multi-record
    ("fixtures/mainframe/juki-kojin.dat", "examples/mainframe/juki-kojin"),  # packed
    ("fixtures/mainframe/juki-kojin-ibm930.dat", "examples/mainframe/juki-kojin-ibm930"),
    ("fixtures/mainframe/juki-kojin-jef.dat", "examples/mainframe/juki-kojin-jef"),
    ("fixtures/mainframe/nouzei.dat", "examples/mainframe/nouzei"),
    ("fixtures/bad/truncated-last-record.dat", "examples/vendor-a/juki-kojin"),
    ("fixtures/bad/not-digits.dat", "examples/vendor-a/juki-kojin"),
    ("fixtures/bad/bad-sign-nibble.dat", "examples/mainframe/juki-kojin"),
]
#: every shipped CSV fixture and its layout (the standard CSVs are conversions' outputs)
CSV_FILES = {"fixtures/vendor-a/juki-kojin.csv": "examples/vendor-a/juki-kojin-csv",
             "fixtures/vendor-a/juki-kojin.chukan.csv": "chukan/juki/kojin",
             "fixtures/vendor-a/juki-kojin.kihon.csv": "kihon/juki/kojin",
             "fixtures/mainframe/juki-kojin.chukan.csv": "chukan/juki/kojin",
             "fixtures/mainframe/juki-kojin.kihon.csv": "kihon/juki/kojin"}
CSV = list(CSV_FILES.items())


def _mutated(original: bytes, edits: list[tuple[str, int, bytes]], terms: list[bytes]
             ) -> bytes:
    """``original`` with hypothesis's edits: bytes cut (del) or added (ins), a quote or
    one of ``terms`` inserted, the start repeated at the end (dup), a BOM put first, an
    EOF byte put last, a byte changed (flip)."""
    data = bytearray(original)
    for op, at, raw in edits:
        i = at % (len(data) + 1)
        if op == "del":
            del data[i:i + len(raw)]
        elif op == "ins":
            data[i:i] = raw
        elif op == "quote":
            data[i:i] = b'"'
        elif op == "term":
            data[i:i] = terms[raw[0] % len(terms)]
        elif op == "dup":
            data += data[:i]
        elif op == "bom":
            data[0:0] = b"\xef\xbb\xbf"
        elif op == "eof":
            data += b"\x1a"
        elif data:
            data[i % len(data)] = raw[0]
    return bytes(data)


def _same(got: chukan.Report, want: chukan.Report) -> None:
    assert got.problems == want.problems
    assert got.records_read == want.records_read
    # (in the same order too: ties are not left to the order the counts came in)
    assert list(got.counts_by_code().items()) == list(want.counts_by_code().items())
    assert list(got.counts_by_field().items()) == list(want.counts_by_field().items())
    assert got.records_with_errors == want.records_with_errors
    assert got.total == want.total
    assert got.gaiji == want.gaiji
    assert got.outside == want.outside
    assert got.files == want.files


def _local(paths: list[str], layout: str, part_bytes: int, **kw: object) -> chukan.Report:
    lay = load_layout(layout)
    return chukan.spark.validate_plans(chukan.spark.plan(paths, lay, part_bytes=part_bytes),
                                       lay, **kw)


# --------------------------------------------------------------------------------------
# The planner and the tasks, without Spark


@pytest.mark.parametrize(("path", "layout"), FIXED)
def test_ranges_start_where_records_start(path: str, layout: str) -> None:
    """Whatever the nominal size, ranges tile the records' bytes and start at records,
    numbered as the reader numbers them."""
    lay = load_layout(layout)
    data = (ROOT / path).read_bytes()
    whole = chukan.decode_block(data, lay)
    starts = {int(o): int(r) for f in whole.frames.values()
              for o, r in zip(f["_offset"], f["_record"], strict=True)}
    for size in [*range(1, 2 * lay.stride + 2), 10**9]:
        parts = plan_bytes(data, lay, path, 1, part_bytes=size).parts
        assert parts[0].start == 0
        assert parts[-1].last
        assert all(a.end == b.start for a, b in itertools.pairwise(parts))
        for p in parts:
            if p.start in starts:  # (a record reported whole may start a range too)
                assert starts[p.start] == p.record
        if size >= len(data):
            assert len(parts) == 1


def test_lf_split_layouts_are_told_apart() -> None:
    assert splits_by_lf(load_layout("examples/vendor-a/juki-kojin"))
    assert not splits_by_lf(load_layout("examples/mainframe/juki-kojin"))  # packed bytes


@pytest.mark.parametrize(("path", "layout"), FIXED + CSV)
@pytest.mark.parametrize("part_bytes", [1, 97, 203, 1000, 10**9])
def test_validation_of_ranges_is_the_file_validation(path: str, layout: str,
                                                      part_bytes: int) -> None:
    want = chukan.validate([path], layout, repertoire="jisx0208")
    _same(_local([path], layout, part_bytes, repertoire="jisx0208"), want)


MUTATIONS = st.lists(st.tuples(st.sampled_from(["del", "ins", "term", "dup", "bom", "eof",
                                                "flip"]),
                               st.integers(0, 10**6), st.binary(min_size=1, max_size=3)),
                     max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(FIXED[:7]), edits=MUTATIONS, part_bytes=st.integers(1, 400))
def test_mutated_files_validate_the_same_in_ranges(tmp_path_factory: pytest.TempPathFactory,
                                                   case: tuple[str, str],
                                                   edits: list[tuple[str, int, bytes]],
                                                   part_bytes: int) -> None:
    """Injected defects (cut or added bytes, stray terminators, records repeated, a BOM,
    an EOF byte, changed bytes) are reported the same, range by range."""
    path, layout = case
    data = _mutated((ROOT / path).read_bytes(), edits,
                    [b"\n", b"\r\n", b"\x1a", b"\x0e", b"\x0f"])
    file = tmp_path_factory.mktemp("mutated") / "x.dat"
    file.write_bytes(data)
    _same(_local([str(file)], layout, part_bytes), chukan.validate([str(file)], layout))


def test_capped_details_are_the_first_in_the_file(tmp_path: Path) -> None:
    """With max_errors, each file keeps its first problems by place, so the details are
    the same read in any batches or ranges (they were the first found), and every count
    stays whole."""
    file = tmp_path / "bad.dat"
    file.write_bytes((ROOT / FIXED[0][0]).read_bytes() +
                     (ROOT / "fixtures/bad/not-digits.dat").read_bytes() * 30)
    for cap in (0, 1, 2, 3, 40):
        want = chukan.validate([str(file)], FIXED[0][1], max_errors=cap, repertoire="jisx0208")
        assert len(want.problems) == min(cap, want.total)
        whole = chukan.validate([str(file)], FIXED[0][1], repertoire="jisx0208")
        assert want.problems == whole.problems[:cap]
        assert chukan.validate([str(file)], FIXED[0][1], max_errors=cap, repertoire="jisx0208",
                               batch_size=2).problems == want.problems
        for size in (300, 10**9):
            _same(_local([str(file)], FIXED[0][1], size, max_errors=cap,
                         repertoire="jisx0208"), want)


def test_globs_name_files_in_order(tmp_path: Path) -> None:
    for name in ("b.dat", "a.dat"):
        (tmp_path / name).write_bytes((ROOT / FIXED[0][0]).read_bytes())
    plans = chukan.spark.plan(str(tmp_path / "*.dat"), FIXED[0][1])
    assert [Path(p.file).name for p in plans] == ["a.dat", "b.dat"]
    assert [p.number for p in plans] == [1, 2]
    uri = chukan.spark.plan(f"file://{tmp_path}/a.dat", FIXED[0][1])
    assert uri[0].size == (ROOT / FIXED[0][0]).stat().st_size
    with pytest.raises(chukan.ChukanError):
        chukan.spark.plan(str(tmp_path / "*.csv"), FIXED[0][1])


# --------------------------------------------------------------------------------------
# On a real Spark session


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    os.environ["PYSPARK_PYTHON"] = sys.executable  # tasks run this interpreter's chukan
    from pyspark.sql import SparkSession  # noqa: PLC0415 -- only for these tests

    session = (SparkSession.builder.master("local[2]").appName("chukan-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .getOrCreate())
    chukan.spark.register(session)
    yield session
    session.stop()


def _read(spark: SparkSession, path: str, layout: str, **options: str) -> pl.DataFrame:
    reader = spark.read.format("chukan").option("layout", layout)
    for key, value in options.items():
        reader = reader.option(key, value)
    frame = pl.from_arrow(reader.load(path).toArrow())
    assert isinstance(frame, pl.DataFrame)
    return frame


@pytest.mark.parametrize(("path", "layout"), [c for c in FIXED if c[1] != "zengin/kouza-furikae"])
def test_spark_reads_what_read_reads(spark: SparkSession, path: str, layout: str) -> None:
    lay = load_layout(layout)
    want = chukan.read(path, lay, report=chukan.Report())
    got = _read(spark, path, layout, mode="lenient", part_bytes=str(lay.stride + 1))
    assert got.equals(want)  # in file order too: ranges are read in order


@pytest.mark.parametrize("quoted", [False, True])
def test_spark_reads_a_csv_in_ranges_as_read_reads(spark: SparkSession, tmp_path: Path,
                                                  quoted: bool) -> None:
    file = tmp_path / "k.csv"
    file.write_bytes(_with_quoted_newlines(40) if quoted else (ROOT / KIHON).read_bytes())
    want = chukan.read(file, KIHON_LAYOUT, report=chukan.Report())
    got = _read(spark, str(file), KIHON_LAYOUT, mode="lenient", part_bytes="150")
    assert got.equals(want)
    assert len(chukan.spark.plan(str(file), KIHON_LAYOUT, part_bytes=150)[0].parts) > 3


def test_spark_finds_repeated_keys_of_a_csv_across_ranges(spark: SparkSession,
                                                          tmp_path: Path) -> None:
    """The standard CSV's rows twice: every key repeats, in ranges far apart."""
    data = (ROOT / KIHON).read_bytes()
    file = tmp_path / "d.csv"
    file.write_bytes(data + data[data.index(b"\r\n") + 2:])
    want = chukan.validate([str(file)], KIHON_LAYOUT)
    assert want.counts_by_code().get("duplicate-key", 0) >= 2
    _same(chukan.spark.validate(spark, [str(file)], KIHON_LAYOUT, part_bytes=120), want)


SET = "examples/vendor-a/juki-set"
#: kojin records changed (record, 1-based position, bytes), and a household added
SET_DEFECTS = [
    ([], False, set()),
    ([(4, 11, b"0000000300"), (4, 89, b"01"), (4, 187, b"01")], False,
     {"missing-reference"}),  # no such household
    ([(1, 89, b"01"), (3, 89, b"02")], False, {"group-count"}),  # two heads, and none
    ([(2, 187, b"04")], True, {"group-count", "sequence"}),  # 1, 2, 4; nobody at home
    # a household number the reader rejects: its neighbours' groups are not judged
    ([(2, 11, b"00000001x0"), (0, 187, b"09")], False, set()),
]


@pytest.mark.parametrize(("edits", "household", "codes"), SET_DEFECTS)
def test_spark_validates_a_file_set_as_validate_set(spark: SparkSession, tmp_path: Path,
                                                    edits: list[tuple[int, int, bytes]],
                                                    household: bool, codes: set[str]) -> None:
    """References as a Spark join, group counts and sequences on the columns they read:
    the report of ``chukan.validate_set``."""
    recs = kojin_records()
    for rec, at, raw in edits:
        put(recs[rec], at, raw)
    setai = (ROOT / "fixtures/vendor-a/juki-setai.dat").read_bytes()
    if household:
        setai += bytes(put(bytearray(setai[:102]), 1, b"0000000300"))
    files = {"kojin": str(tmp_path / "kojin.dat"), "setai": str(tmp_path / "setai.dat")}
    Path(files["kojin"]).write_bytes(b"".join(recs))
    Path(files["setai"]).write_bytes(setai)
    want = chukan.validate_set(SET, files, repertoire="jisx0208")
    assert {"missing-reference", "group-count", "sequence"} & set(want.counts_by_code()) == \
        codes
    for size in (150, 10**9):
        _same(chukan.spark.validate_set(spark, SET, files, repertoire="jisx0208",
                                        part_bytes=size), want)
    masked = chukan.spark.validate_set(spark, SET, files, mask=True, max_errors=2)
    _same(masked, chukan.validate_set(SET, files, mask=True, max_errors=2))


def test_spark_validates_a_set_with_a_multi_record_member(spark: SparkSession,
                                                          tmp_path: Path) -> None:
    """A member of several record kinds: the kinds holding the checked column are read
    (found by the review: the data source was asked for no record kind, and refused)."""
    fileset = tmp_path / "set.toml"
    fileset.write_text('[file_set]\nname = "z"\n[[file]]\nname = "z"\nlayout = '
                       '"zengin/kouza-furikae"\n[[file]]\nname = "k"\nlayout = '
                       f'"{FIXED[0][1]}"\n[[check]]\ntype = "reference"\nlabel = "顧客番号"\n'
                       'field = "z.kokyaku_no"\ntarget = "k.atena_no"\n', encoding="utf-8")
    files = {"z": FIXED[2][0], "k": FIXED[0][0]}
    want = chukan.validate_set(fileset, files)
    assert want.counts_by_code().get("missing-reference", 0) > 0
    _same(chukan.spark.validate_set(spark, fileset, files, part_bytes=300), want)


def test_spark_locates_records(spark: SparkSession) -> None:
    path, layout = FIXED[0]
    want = chukan.read(path, layout)
    got = _read(spark, path, layout, locate="true", part_bytes="1").sort("_record")
    assert got["_record"].to_list() == [1, 2, 3, 4, 5]
    assert got["_offset"].to_list() == [0, 202, 404, 606, 808]
    assert set(got["_file"]) == {path}
    assert got.drop("_file", "_record", "_offset").equals(want)


def test_spark_reads_a_record_kind(spark: SparkSession) -> None:
    path, layout = FIXED[2]
    want = chukan.read_records(path, layout)["data"]
    got = _read(spark, path, layout, record="data", part_bytes="100").sort("_record")
    assert got.equals(want)


def test_spark_decodes_only_the_columns_asked_for(spark: SparkSession) -> None:
    path, layout = FIXED[0]
    got = _read(spark, path, layout, columns="atena_no,seinengappi", part_bytes="300")
    assert got.columns == ["atena_no", "seinengappi"]
    assert got.sort("atena_no").equals(chukan.read(path, layout, columns=["atena_no",
                                                                          "seinengappi"]))


def test_spark_strict_read_fails_on_a_problem(spark: SparkSession) -> None:
    path, layout = FIXED[7]
    with pytest.raises(Exception, match="truncated-record"):
        _read(spark, path, layout, part_bytes="300")


@pytest.mark.parametrize(("path", "layout"), FIXED + CSV)
def test_spark_validates_as_validate(spark: SparkSession, path: str, layout: str) -> None:
    want = chukan.validate([path], layout, repertoire="jisx0208")
    _same(chukan.spark.validate(spark, [path], layout, repertoire="jisx0208",
                                part_bytes=150), want)


def test_a_reports_problems_are_a_spark_dataframe(spark: SparkSession) -> None:
    path, layout = FIXED[8]  # not-digits
    report = chukan.spark.validate(spark, [path], layout, part_bytes=150)
    frame = chukan.spark.problems(spark, report)
    got = pl.from_arrow(frame.toArrow())
    assert isinstance(got, pl.DataFrame)
    assert got.height == len(report.problems) > 0
    assert got.equals(report.to_frame())
    assert frame.where("code = 'not-digits'").count() == report.counts_by_code()["not-digits"]


def test_spark_validates_defects_across_files(spark: SparkSession, tmp_path: Path) -> None:
    """Repeated keys (a Spark aggregation), a wrong trailer count (carried across ranges),
    a BOM, an EOF byte and a cut record, in two files read through one glob."""
    kojin = (ROOT / FIXED[0][0]).read_bytes()
    (tmp_path / "a.dat").write_bytes(b"\xef\xbb\xbf" + kojin + kojin[:202] + b"\x1a")
    (tmp_path / "b.dat").write_bytes(kojin[:500])
    paths = [str(tmp_path / "*.dat")]
    want = chukan.validate(sorted(str(p) for p in tmp_path.glob("*.dat")), FIXED[0][1])
    assert {"duplicate-key", "bom-unexpected", "eof-marker", "truncated-record"} <= \
        set(want.counts_by_code())
    _same(chukan.spark.validate(spark, paths, FIXED[0][1], part_bytes=250), want)
    twice = [FIXED[0][0], FIXED[0][0]]  # one file named twice: its keys are its own
    _same(chukan.spark.validate(spark, twice, FIXED[0][1], part_bytes=250),
          chukan.validate(twice, FIXED[0][1]))
    zengin = bytearray((ROOT / FIXED[2][0]).read_bytes())
    zengin[-2 * 122 + 1:-2 * 122 + 7] = b"000009"  # the trailer's count, one record off
    (tmp_path / "z.dat").write_bytes(bytes(zengin))
    want = chukan.validate([str(tmp_path / "z.dat")], FIXED[2][1])
    assert "trailer-count" in want.counts_by_code()
    _same(chukan.spark.validate(spark, [str(tmp_path / "z.dat")], FIXED[2][1],
                                part_bytes=130), want)


# --------------------------------------------------------------------------------------
# Conversion

CONVERSIONS = [
    ("fixtures/vendor-a/juki-kojin.dat", "examples/vendor-a/kojin-to-chukan", False),
    ("fixtures/vendor-a/juki-kojin.dat", "examples/vendor-a/kojin-to-kihon", False),
    ("fixtures/mainframe/juki-kojin.dat", "examples/mainframe/kojin-to-chukan", False),
    ("fixtures/mainframe/juki-kojin-ibm930.dat", "examples/mainframe/kojin930-to-chukan",
     False),  # a 外字 rejected
    ("fixtures/mainframe/juki-kojin-jef.dat", "examples/mainframe/kojinjef-to-chukan", False),
    ("fixtures/bad/truncated-last-record.dat", "examples/vendor-a/kojin-to-chukan", False),
    ("fixtures/bad/not-digits.dat", "examples/vendor-a/kojin-to-chukan", False),
    ("fixtures/vendor-a/juki-kojin.chukan.csv", "examples/vendor-a/kojin-to-chukan", True),
]


def _joined(directory: Path, names: list[str]) -> bytes:
    return b"".join((directory / name).read_bytes() for name in names)


def _same_conversion(got: chukan.spark.SparkConvertResult, want: chukan.ConvertResult,
                     directory: Path) -> None:
    assert _joined(directory, got.parts) == Path(str(want.output)).read_bytes()
    assert _joined(directory, got.rejects) == Path(str(want.rejects)).read_bytes()
    assert (got.records_in, got.records_out, got.records_rejected) == \
        (want.records_in, want.records_out, want.records_rejected)
    assert got.rejects_by_reason == want.rejects_by_reason
    assert [(p.code, p.message) for p in got.file_problems] == \
        [(p.code, p.message) for p in want.file_problems]


@pytest.mark.parametrize(("path", "mapping", "reverse"), CONVERSIONS)
def test_ranges_convert_into_slices_of_the_one_output(tmp_path: Path, path: str,
                                                      mapping: str, reverse: bool) -> None:
    """Parts joined in order are the single-process output and rejects, byte for byte,
    wherever the ranges cut (run here, range after range, without a session)."""
    want = chukan.convert(path, mapping, tmp_path / "want", reverse=reverse)
    for size in (1, 150, 203, 10**9):
        out = tmp_path / f"parts-{size}"
        got = chukan.spark.convert(None, path, mapping, str(out), reverse=reverse,
                                   part_bytes=size)
        _same_conversion(got, want, out)
        single = tmp_path / f"single-{size}"
        chukan.spark.convert(None, path, mapping, str(single), reverse=reverse,
                             part_bytes=size, single="one")
        assert (single / "one").read_bytes() == (tmp_path / "want").read_bytes()
        assert (single / "one.rejects.csv").read_bytes() == \
            (tmp_path / "want.rejects.csv").read_bytes()


def test_the_manifest_names_every_part_with_its_hash(tmp_path: Path) -> None:
    path, mapping, _ = CONVERSIONS[3]
    out = tmp_path / "out"
    got = chukan.spark.convert(None, path, mapping, str(out), part_bytes=200)
    manifest = json.loads((out / "manifest.json").read_bytes())
    assert manifest["inputs"] == [{"path": path, "records": 4, "sha256": hashlib.sha256(
        (ROOT / path).read_bytes()).hexdigest()}]
    assert [o["path"] for o in manifest["outputs"]] == got.parts
    assert len(got.parts) > 1
    for entry in manifest["outputs"] + manifest["rejects"]:
        assert entry["sha256"] == hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest()
    assert sum(o["records"] for o in manifest["outputs"]) == got.records_out == 3
    assert sum(o["records"] for o in manifest["rejects"]) == got.records_rejected == 1
    assert manifest["rejects_by_reason"] == {"unmapped-gaiji": 1}
    assert manifest["complete"] == "_SUCCESS" and (out / "_SUCCESS").exists()


def test_the_output_directory_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    path, mapping, _ = CONVERSIONS[0]
    out = tmp_path / "out"
    chukan.spark.convert(None, path, mapping, str(out))
    with pytest.raises(chukan.UsageError, match="exists"):
        chukan.spark.convert(None, path, mapping, str(out))
    before = sorted(p.name for p in tmp_path.iterdir())
    bad = tmp_path.parent / f"{tmp_path.name}-bad.csv"  # a header of other columns
    bad.write_bytes(b"x,y\r\n1,2\r\n")
    with pytest.raises(chukan.DataError):
        chukan.spark.convert(None, str(bad), mapping, str(out), reverse=True, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (out / "_SUCCESS").exists()  # the old directory stands
    got = chukan.spark.convert(None, path, "examples/vendor-a/kojin-to-kihon", str(out),
                               overwrite=True, single="kihon.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # replaced, nothing left
    assert sorted(p.name for p in out.iterdir()) == ["_SUCCESS", "kihon.csv",
                                                     "kihon.csv.rejects.csv", "manifest.json"]
    want = chukan.convert(path, "examples/vendor-a/kojin-to-kihon", bad.with_suffix(".out"))
    assert (out / "kihon.csv").read_bytes() == Path(str(want.output)).read_bytes()
    assert got.parts == ["kihon.csv"]


def test_spark_converts_as_convert_and_back(spark: SparkSession, tmp_path: Path) -> None:
    """Through a real session: the single-process bytes forward, and the original bytes
    after converting back."""
    path, mapping, _ = CONVERSIONS[0]
    want = chukan.convert(path, mapping, tmp_path / "want")
    got = chukan.spark.convert(spark, path, mapping, str(tmp_path / "fwd"), part_bytes=300,
                               single="kojin.csv")
    assert (tmp_path / "fwd" / "kojin.csv").read_bytes() == (tmp_path / "want").read_bytes()
    assert got.records_out == want.records_out == 5
    back = chukan.spark.convert(spark, str(tmp_path / "fwd" / "kojin.csv"), mapping,
                                str(tmp_path / "back"), reverse=True, part_bytes=200)
    assert len(back.parts) > 3  # the CSV cut by rows
    assert _joined(tmp_path / "back", back.parts) == (ROOT / path).read_bytes()
    for path, mapping, reverse in CONVERSIONS[3:6]:
        want = chukan.convert(path, mapping, tmp_path / "w", reverse=reverse)
        out = tmp_path / Path(path).name
        _same_conversion(chukan.spark.convert(spark, path, mapping, str(out),
                                              reverse=reverse, part_bytes=161), want, out)


@settings(max_examples=8, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(edits=MUTATIONS, part_bytes=st.integers(1, 400))
def test_spark_validates_generated_files_as_validate(spark: SparkSession, tmp_path: Path,
                                                     edits: list[tuple[str, int, bytes]],
                                                     part_bytes: int) -> None:
    """Hypothesis-made files through the session itself."""
    data = bytearray((ROOT / FIXED[0][0]).read_bytes())
    for op, at, raw in edits:
        i = at % (len(data) + 1)
        data[i:i] = raw if op != "del" else b""
        if op == "del":
            del data[i:i + len(raw)]
    file = tmp_path / "gen.dat"
    file.write_bytes(bytes(data))
    _same(chukan.spark.validate(spark, [str(file)], FIXED[0][1], part_bytes=part_bytes),
          chukan.validate([str(file)], FIXED[0][1]))


@pytest.mark.usefixtures("spark")
def test_cli_runs_on_spark(tmp_path: Path) -> None:
    """``--spark``: the session already running is used (a new one would start with the
    given master)."""
    from click.testing import CliRunner  # noqa: PLC0415

    from chukan.cli import main  # noqa: PLC0415

    path, mapping, _ = CONVERSIONS[3]
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", path, "-m", mapping, "-o", str(out),
                                       "--spark", "--single", "kojin.csv"])
    assert result.exit_code == 1, result.output  # one record rejected: its 外字
    assert "4 in, 3 out, 1 rejected" in result.stdout
    want = chukan.convert(path, mapping, tmp_path / "want")
    assert (out / "kojin.csv").read_bytes() == Path(str(want.output)).read_bytes()
    result = CliRunner().invoke(main, ["validate", FIXED[0][0], "-l", FIXED[0][1], "--spark",
                                       "local[1]", "--repertoire", "jisx0208"])
    assert result.exit_code == 1, result.output
    assert "outside-repertoire" in result.stdout
    recs = kojin_records()
    put(recs[2], 187, b"09")
    (tmp_path / "kojin.dat").write_bytes(b"".join(recs))
    result = CliRunner().invoke(main, ["validate", "--set", SET, f"kojin={tmp_path}/kojin.dat",
                                       "setai=fixtures/vendor-a/juki-setai.dat", "--spark",
                                       "--format", "json"])
    assert result.exit_code == 1, result.output
    assert [p["code"] for p in json.loads(result.stdout)["problems"]] == ["gaiji", "sequence"]


@pytest.mark.parametrize("scan", [1, 7, 202, 203, 1000])
def test_the_planner_reads_in_pieces_without_losing_count(monkeypatch: pytest.MonkeyPatch,
                                                          scan: int) -> None:
    """LFs counted piece by piece (32 MiB at a time on real files) give the same cuts."""
    from chukan.spark import _plan  # noqa: PLC0415

    path, layout = FIXED[0]
    data = (ROOT / path).read_bytes() * 3 + b"short\r\n" + (ROOT / path).read_bytes()
    lay = load_layout(layout)
    want = [plan_bytes(data, lay, path, 1, part_bytes=size).parts for size in range(1, 700, 7)]
    monkeypatch.setattr(_plan, "_SCAN", scan)
    assert [plan_bytes(data, lay, path, 1, part_bytes=size).parts
            for size in range(1, 700, 7)] == want


def test_a_value_with_two_problems_lists_them_as_every_reader_does(tmp_path: Path) -> None:
    """A 外字 in a half-width field of a multi-record file: the reader's finding, then
    validation's, at the same byte. The multi-record reader used to report its block's
    problems after handing out the block, so its order differed from the single-kind
    reader's and from the ranges'."""
    data = bytearray((ROOT / FIXED[2][0]).read_bytes())
    data[294] = 0xF0  # a lead byte of CP932's user-defined area
    file = tmp_path / "z.dat"
    file.write_bytes(bytes(data))
    want = chukan.validate([str(file)], FIXED[2][1])
    assert [p.code for p in want.problems if p.offset == 294] == ["fullwidth-in-halfwidth",
                                                                   "gaiji"]
    _same(_local([str(file)], FIXED[2][1], 1), want)


#: what reading and validating the fixed-width fixtures can say, each reached below
READER_CODES = {
    "bad-date", "bad-digit-nibble", "bad-sign-nibble", "bom-unexpected", "control-char",
    "dbcs-split", "duplicate-key", "empty-file", "encoding-hint", "eof-marker",
    "filler-mismatch", "fullwidth-in-halfwidth", "gaiji", "halfwidth-in-fullwidth",
    "impossible-date", "invalid-bytes", "noncanonical", "not-decimal", "not-digits",
    "not-integer", "nul-byte", "outside-repertoire", "record-length", "terminator-missing",
    "terminator-mixed", "trailer-count", "truncated-record", "unknown-code",
    "unknown-record-type",
}


def test_every_problem_code_is_reported_the_same_in_ranges(tmp_path: Path) -> None:
    """A seeded corpus of defective files (bytes changed, cut, added; digits, controls,
    shift codes and terminators put in; records repeated), the files' edges (a BOM, an
    EOF byte, no last terminator, nothing at all), a bare LF and a duplicate in the
    code the layout does not write between them reach every code of READER_CODES; each
    file validates the same in ranges."""
    rng = random.Random(5)  # noqa: S311 -- a seeded corpus, not a secret
    seen: set[str] = set()
    files: list[tuple[bytes, str]] = []
    for trial in range(210):
        path, layout = FIXED[trial % 7]
        data = bytearray((ROOT / path).read_bytes())
        for _ in range(rng.randint(1, 3)):
            i, op = rng.randrange(len(data)), rng.random()
            if op < 0.5:
                data[i] = rng.randrange(256)
            elif op < 0.6:
                data[i] = rng.choice(b"0123456789 \x00\x1f\x7f\x0e\x0f")
            elif op < 0.7:
                del data[i]
            elif op < 0.8:
                data[i:i] = b"\r\n"
            else:
                data += data[:len(data) // 2]
        files.append((bytes(data), layout))
    kojin = (ROOT / FIXED[0][0]).read_bytes()
    files += [(b"\xef\xbb\xbf" + kojin + b"\x1a", FIXED[0][1]), (kojin[:-2], FIXED[0][1]),
              (b"", FIXED[0][1]), (kojin.replace(b"\r\n", b"\n", 1), FIXED[0][1]),
              (kojin.replace(b"\xfb\xfc", b"\xee\xe0", 1), FIXED[0][1])]  # 髙, NEC's code
    for k, (data, layout) in enumerate(files):
        file = tmp_path / f"{k}.dat"
        file.write_bytes(data)
        want = chukan.validate([str(file)], layout, repertoire="jisx0208")
        seen |= set(want.counts_by_code())
        _same(_local([str(file)], layout, 1 + k * 37 % 500, repertoire="jisx0208"), want)
    assert seen >= READER_CODES, sorted(READER_CODES - seen)


KIHON = "fixtures/vendor-a/juki-kojin.kihon.csv"
KIHON_LAYOUT = "kihon/juki/kojin"


def _with_quoted_newlines(times: int) -> bytes:
    """The standard CSV's rows repeated, a different cell of each quoted around a line
    end (LF, CR LF) or a doubled quote: rows that only a reader from the start tells."""
    lines = (ROOT / KIHON).read_bytes().split(b"\r\n")
    header, rows = lines[0], [r for r in lines[1:] if r]
    out = [header]
    for k in range(times):
        cells = rows[k % len(rows)].split(b",")
        i = k * 7 % len(cells)
        inner = [b"\n", b"\r\n", b'""', b""][k % 4]
        cells[i] = b'"' + cells[i][:1] + inner + cells[i][1:] + b'"'
        out.append(b",".join(cells))
    return b"\r\n".join(out) + b"\r\n"


def _row_starts(file: Path, lay: str) -> dict[int, int]:
    """Each row's offset → its record number, as the single-process reader says."""
    report = chukan.Report()
    from chukan.read import located_batches  # noqa: PLC0415 -- the reader's own places

    return {int(o): int(r) for _, f in located_batches(file, load_layout(lay), report=report)
            for o, r in zip(f["_offset"], f["_record"], strict=True)}


def test_csv_ranges_start_where_rows_start(tmp_path: Path) -> None:
    """Every cut of a CSV with quoted line ends falls where a row starts (never inside
    a quoted value), numbered as the reader numbers it, and validation is the same."""
    lay = KIHON_LAYOUT
    data = _with_quoted_newlines(24)
    file = tmp_path / "q.csv"
    file.write_bytes(data)
    starts = _row_starts(file, lay)
    want = chukan.validate([str(file)], lay)
    for size in [*range(1, 400, 3), 10**9]:
        parts = plan_bytes(data, load_layout(lay), str(file), 1, part_bytes=size).parts
        assert parts[0].start == 0 and parts[-1].last and parts[-1].end == len(data)
        assert all(a.end == b.start and a.record < b.record for a, b in itertools.pairwise(parts))
        assert all(starts[p.start] == p.record for p in parts[1:])
        if size < 200:
            assert len(parts) > 10
        if size % 30 == 1:
            _same(_local([str(file)], lay, size), want)


def test_a_csv_with_misplaced_quotes_is_cut_only_before_them(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A quote inside an unquoted value (ab"c) is read as a character, so counting
    quotes no longer finds rows: no cut is made past it, and the planner says why."""
    lay = KIHON_LAYOUT
    data = _with_quoted_newlines(30)
    at = data.index(b"\r\n", len(data) // 2) + 5
    file = tmp_path / "m.csv"
    file.write_bytes(data[:at] + b'x"y' + data[at:])
    with caplog.at_level("INFO", logger="chukan.spark._plan"):
        parts = chukan.spark.plan(str(file), lay, part_bytes=100)[0].parts
    assert len(parts) > 1 and parts[-1].start < at
    assert "RFC 4180" in caplog.text
    _same(_local([str(file)], lay, 100), chukan.validate([str(file)], lay))


def test_a_csv_that_cannot_be_cut_is_one_range_and_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A header that does not match the layout: the reader reads nothing past it, so the
    file is one range."""
    file = tmp_path / "h.csv"
    file.write_bytes(b"a,b,c\r\n" + (ROOT / KIHON).read_bytes())
    with caplog.at_level("INFO", logger="chukan.spark._plan"):
        plans = chukan.spark.plan(str(file), KIHON_LAYOUT, part_bytes=100)
    assert len(plans[0].parts) == 1
    assert "header row does not match" in caplog.text


CSV_EDITS = st.lists(st.tuples(
    st.sampled_from(["del", "ins", "quote", "term", "dup", "bom", "eof", "flip"]),
    st.integers(0, 10**6), st.binary(min_size=1, max_size=3)), max_size=5)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=CSV_EDITS, part_bytes=st.integers(1, 500), small=st.booleans(),
       case=st.sampled_from(["quoted", *CSV_FILES]))
def test_mutated_csv_files_validate_the_same_in_ranges(
        tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[str, int, bytes]],
        part_bytes: int, small: bool, case: str) -> None:
    """Injected defects in CSV files (quotes, line ends, a BOM, an EOF byte, rows cut or
    repeated) are reported the same range by range; with ``small``, the reader's reads
    and its longest row are a few dozen bytes, so rows too long to wait for are cut
    where the single-process reader cuts them."""
    if case == "quoted":
        original, lay = _with_quoted_newlines(12), KIHON_LAYOUT
    else:
        original, lay = (ROOT / case).read_bytes(), CSV_FILES[case]
    data = _mutated(original, edits, [b"\n", b"\r\n", b"\r", b"\x1a", b","])
    file = tmp_path_factory.mktemp("csv") / "x.csv"
    file.write_bytes(data)
    with pytest.MonkeyPatch.context() as mp:
        if small:
            mp.setattr("chukan._csv._CHUNK", 61)
            mp.setattr("chukan._csv._MAX_ROW", 150)
            mp.setattr("chukan.spark._plan._SCAN", 97)
        want = chukan.validate([str(file)], lay, batch_size=7)
        _same(_local([str(file)], lay, part_bytes), want)


def test_a_row_too_long_to_wait_for_is_cut_where_the_reader_cuts_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quote never closed makes the rest of the file one row; past ``_MAX_ROW`` bytes
    the reader cuts it where its reads end. A range read alone reads to the same places
    (the reads made a few dozen bytes here), so its pieces are numbered the same."""
    monkeypatch.setattr("chukan._csv._CHUNK", 61)
    monkeypatch.setattr("chukan._csv._MAX_ROW", 500)
    monkeypatch.setattr("chukan.spark._plan._SCAN", 400)
    data = (ROOT / KIHON).read_bytes()
    file = tmp_path / "long.csv"
    file.write_bytes(data + b'"' + data * 3)
    want = chukan.validate([str(file)], KIHON_LAYOUT)
    assert len(chukan.spark.plan(str(file), KIHON_LAYOUT, part_bytes=150)[0].parts) > 3
    for size in range(20, 400, 7):
        _same(_local([str(file)], KIHON_LAYOUT, size), want)


def test_a_misplaced_quote_is_said_once_wherever_the_reads_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stray quote in a row that a read ends inside was said for that read and again
    for the next (found by the review): said once, by the single-process reader at any
    read size, and by ranges."""
    header = (ROOT / KIHON).read_bytes().split(b"\r\n")[0]
    small = tmp_path / "small.csv"
    small.write_bytes(header + b'\r\n1\r\n"x"1\r\nab"c')
    want = chukan.validate([str(small)], KIHON_LAYOUT)
    assert want.counts_by_code()["csv-quote"] == 2  # records 2 and 3, once each
    _same(_local([str(small)], KIHON_LAYOUT, 1), want)
    body = (ROOT / KIHON).read_bytes()
    big = tmp_path / "big.csv"
    big.write_bytes(body + body.split(b"\r\n", 1)[1].replace(b"\xe5\xb1\xb1", b'\xe5\xb1\xb1a"b')
                    * 3 + b"x\ry\r\n")
    whole = chukan.validate([str(big)], KIHON_LAYOUT)
    monkeypatch.setattr("chukan._csv._CHUNK", 64)
    for size in (50, 300, 10**9):
        _same(_local([str(big)], KIHON_LAYOUT, size), whole)
    assert chukan.validate([str(big)], KIHON_LAYOUT).problems == whole.problems


def test_a_csv_with_a_bom_looks_at_the_same_bytes_for_its_encoding(tmp_path: Path) -> None:
    """The bytes that say which encoding a misread file looks like start after its BOM,
    as the reader takes them (found by the review: three bytes short)."""
    data = b"\xef\xbb\xbf" + (ROOT / KIHON).read_bytes() * 60  # past the 64 KiB looked at
    plan = chukan.spark.plan(_write(tmp_path / "b.csv", data), KIHON_LAYOUT, part_bytes=100)[0]
    assert plan.head == data[3:3 + (1 << 16)]


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def test_problems_counted_over_a_csv_file_add_up_across_ranges(tmp_path: Path) -> None:
    """LF rows where the layout says CR LF, and needlessly quoted values: said once per
    file with how many, whatever the ranges."""
    lay = KIHON_LAYOUT
    rows = (ROOT / KIHON).read_bytes().replace(b",1,", b',"1",')
    file = tmp_path / "t.csv"
    file.write_bytes(rows.replace(b"\r\n", b"\n"))
    want = chukan.validate([str(file)], lay)
    assert {"terminator-mixed", "noncanonical"} <= set(want.counts_by_code())
    for size in (1, 50, 200):
        _same(_local([str(file)], lay, size), want)


# --------------------------------------------------------------------------------------
# Found by an independent review (each seen failing before its mend)


def test_an_eof_byte_after_a_short_last_record_is_dropped_whatever_the_reads(
        tmp_path: Path) -> None:
    """A short last record ended by a bare LF, then 0x1A: the reader dropped the byte or
    not depending on where its reads fell; now the byte after any LF is the file's end,
    for the reader (in every batch size) and for the ranges alike."""
    kojin = (ROOT / FIXED[0][0]).read_bytes()
    file = tmp_path / "x.dat"
    file.write_bytes(kojin[:202] + b"abc\n\x1a")
    want = chukan.validate([str(file)], FIXED[0][1])
    assert want.counts_by_code() == {"terminator-mixed": 1, "eof-marker": 1}
    small = chukan.Report()
    for _ in chukan.read_batches(str(file), FIXED[0][1], batch_size=1, report=small):
        pass
    assert [p.code for p in small.problems] == ["eof-marker", "terminator-mixed"]
    for size in (1, 50, 10**9):
        _same(_local([str(file)], FIXED[0][1], size), want)


@pytest.mark.parametrize("edge", [b"\xef\xbb\xbf", b"\x1a"])
def test_a_csv_file_reaches_its_reader_whole(tmp_path: Path, edge: bytes) -> None:
    """A BOM or an EOF byte of a CSV file is the CSV reader's to judge, not cut off: the
    first range holds the BOM, the last the EOF byte."""
    path, layout = CSV[0]
    data = (ROOT / path).read_bytes()
    file = tmp_path / "x.csv"
    file.write_bytes(edge + data if edge.startswith(b"\xef") else data + edge)
    for size in (1, 100, 10**9):
        _same(_local([str(file)], layout, size), chukan.validate([str(file)], layout))
    if edge.startswith(b"\xef"):  # converting back from it, as chukan convert does
        source = (ROOT / "fixtures/vendor-a/juki-kojin.chukan.csv").read_bytes()
        file.write_bytes(edge + source)
        want = chukan.convert(file, CONVERSIONS[-1][1], tmp_path / "w", reverse=True)
        for size in (1, 100, 10**9):
            got = chukan.spark.convert(None, str(file), CONVERSIONS[-1][1],
                                       str(tmp_path / f"o{size}"), reverse=True, part_bytes=size)
            _same_conversion(got, want, tmp_path / f"o{size}")


def test_globs_keep_to_their_folders_and_names(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("a.dat", "sub/b.dat"):
        (tmp_path / name).write_bytes((ROOT / FIXED[0][0]).read_bytes())
    names = [p.file for p in chukan.spark.plan(str(tmp_path / "*.dat"), FIXED[0][1])]
    assert names == [str(tmp_path / "a.dat")]  # "*" stays in its folder
    uri = [p.file for p in chukan.spark.plan(f"file://{tmp_path}/**/*.dat", FIXED[0][1])]
    assert uri == [f"file://{tmp_path}/a.dat", f"file://{tmp_path}/sub/b.dat"]
    assert [p.file for p in chukan.spark.plan(f"file://{tmp_path}/*.dat", FIXED[0][1])] == \
        [f"file://{tmp_path}/a.dat"]
    monkeypatch.chdir(tmp_path / "sub")
    assert [p.file for p in chukan.spark.plan("../*.dat", FIXED[0][1])] == ["../a.dat"]


def test_an_output_directory_never_replaces_its_source(tmp_path: Path) -> None:
    path, mapping, _ = CONVERSIONS[0]
    source = tmp_path / "in.dat"
    source.write_bytes((ROOT / path).read_bytes())
    with pytest.raises(chukan.UsageError, match="source"):
        chukan.spark.convert(None, str(source), mapping, str(source), overwrite=True)
    with pytest.raises(chukan.UsageError, match="source"):
        chukan.spark.convert(None, str(source), mapping, str(tmp_path), overwrite=True)
    other = tmp_path / "file.csv"
    other.write_bytes(b"x")
    with pytest.raises(chukan.UsageError, match="exists"):
        chukan.spark.convert(None, str(source), mapping, str(other), overwrite=True)
    assert source.read_bytes() == (ROOT / path).read_bytes() and other.read_bytes() == b"x"


@pytest.mark.parametrize("name", ["part-00000.csv", "part-00001.csv"])
def test_a_single_file_may_take_a_parts_name(tmp_path: Path, name: str) -> None:
    path, mapping, _ = CONVERSIONS[0]
    want = chukan.convert(path, mapping, tmp_path / "want")
    chukan.spark.convert(None, path, mapping, str(tmp_path / "o"), part_bytes=300,
                         single=name)
    assert (tmp_path / "o" / name).read_bytes() == Path(str(want.output)).read_bytes()


@pytest.mark.parametrize("name", ["manifest.json", "_SUCCESS", "rejects", "a/b.csv", ""])
def test_a_single_file_keeps_off_the_directorys_own_names(tmp_path: Path, name: str) -> None:
    path, mapping, _ = CONVERSIONS[0]
    with pytest.raises(chukan.UsageError, match="file name"):
        chukan.spark.convert(None, path, mapping, str(tmp_path / "o"), single=name)
    assert list(tmp_path.iterdir()) == []


def test_a_bom_with_no_record_after_it_is_the_files_problem(tmp_path: Path) -> None:
    """Converting back a UTF-8 CSV that is a BOM and its header: no record was read, so
    none is rejected (the count check refused the conversion), in one process or in
    ranges; the BOM is said as the file's."""
    header = (ROOT / "fixtures/vendor-a/juki-kojin.chukan.csv").read_bytes().split(b"\r\n")[0]
    file = tmp_path / "x.csv"
    file.write_bytes(b"\xef\xbb\xbf" + header + b"\r\n")
    mapping = CONVERSIONS[-1][1]
    want = chukan.convert(file, mapping, tmp_path / "w", reverse=True)
    assert (want.records_in, want.records_rejected) == (0, 0)
    assert [p.code for p in want.file_problems] == ["bom-unexpected"]
    got = chukan.spark.convert(None, str(file), mapping, str(tmp_path / "o"), reverse=True)
    _same_conversion(got, want, tmp_path / "o")


def test_a_csv_range_reads_in_the_single_process_batches(tmp_path: Path) -> None:
    """LF rows where the layout says CRLF, then an EOF byte: the file's problems in the
    order chukan convert says them."""
    path, mapping = "fixtures/mainframe/juki-kojin.chukan.csv", "examples/mainframe/kojin-to-chukan"
    file = tmp_path / "x.csv"
    file.write_bytes((ROOT / path).read_bytes().replace(b"\r\n", b"\n") + b"\x1a")
    want = chukan.convert(file, mapping, tmp_path / "w", reverse=True)
    assert [p.code for p in want.file_problems] == ["terminator-mixed", "eof-marker"]
    got = chukan.spark.convert(None, str(file), mapping, str(tmp_path / "o"), reverse=True)
    _same_conversion(got, want, tmp_path / "o")


def test_a_mapped_gaiji_is_not_rejected_for_its_neighbours(tmp_path: Path) -> None:
    """Converting back: 𠮷 becomes the vendor's 外字 F040 through the 外字 map, and is
    kept; a raw private-use character no map names is rejected. Each record is judged by
    its own value (found by the review: a raw one anywhere in a batch rejected the
    mapped one too, so the answer depended on the batch size, and on the ranges)."""
    rows = (ROOT / "fixtures/vendor-a/juki-kojin.chukan.csv").read_bytes().split(b"\r\n")
    first, second = rows[1].split(b","), rows[2].split(b",")
    first[5], second[5] = "吉\U00020bb7".encode(), "\ue000".encode()
    file = tmp_path / "x.csv"
    file.write_bytes(b"\r\n".join([rows[0], b",".join(first), b",".join(second)]) + b"\r\n")
    mapping = "examples/vendor-a/kojin-to-chukan"
    want = chukan.convert(file, mapping, tmp_path / "w", reverse=True)
    assert (want.records_in, want.records_out, want.records_rejected) == (2, 1, 1)
    assert want.rejects_by_reason == {"unmapped-gaiji": 1}
    one = chukan.convert(file, mapping, tmp_path / "w1", reverse=True, batch_size=1)
    assert Path(str(one.output)).read_bytes() == Path(str(want.output)).read_bytes()
    got = chukan.spark.convert(None, str(file), mapping, str(tmp_path / "o"), reverse=True,
                               part_bytes=1)
    _same_conversion(got, want, tmp_path / "o")


def test_a_file_named_like_a_glob_is_itself(tmp_path: Path) -> None:
    file = tmp_path / "kojin[1].dat"
    file.write_bytes((ROOT / FIXED[0][0]).read_bytes())
    assert [p.file for p in chukan.spark.plan(str(file), FIXED[0][1])] == [str(file)]


def test_a_failed_rename_puts_the_old_directory_back() -> None:
    """Replacing a directory: when the new one cannot be moved in, the old one is moved
    back, and the error said is the rename's."""
    from chukan.spark._convert import _commit  # noqa: PLC0415

    class Moves:
        def __init__(self) -> None:
            self.where = {"out": "old", "new.tmp": "new"}

        def move(self, a: str, b: str) -> None:
            if a == "new.tmp":
                raise OSError(28, "no space left")
            self.where[b] = self.where.pop(a)

        def delete_dir(self, path: str) -> None:
            del self.where[path]

    fs = Moves()
    with pytest.raises(OSError, match="no space"):
        _commit(fs, "new.tmp", "out", replace=True)
    assert fs.where == {"out": "old", "new.tmp": "new"}
