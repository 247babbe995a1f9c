"""Mappings and conversion: golden files both ways, rejects with reasons, manifests, and
mappings that cannot run backwards refused."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tempfile
import threading
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import chukan
from chukan.cli import main
from chukan.convert import (
    NotInvertibleError,
    _apply_step,
    _Hashing,
    _kana_pairs,
    _plan,
    _sha256_of,
    _undone,
    convert,
)
from chukan.errors import FileError
from chukan.layout import GaijiMap, MappingSpec, load_mapping
from chukan.spec import STEPS
from chukan.testing import frames
from helpers import FIXTURES, KOJIN, kojin_records, put

MAPPING = "examples/vendor-a/kojin-to-kihon"
CHUKAN_MAPPING = "examples/vendor-a/kojin-to-chukan"
LEGACY = FIXTURES / "vendor-a" / "juki-kojin.dat"
STANDARD = FIXTURES / "vendor-a" / "juki-kojin.kihon.csv"
HOST_KIHON = "examples/mainframe/kojin-to-kihon"
HOST_CHUKAN = "examples/mainframe/kojin-to-chukan"
HOST = FIXTURES / "mainframe" / "juki-kojin.dat"


@pytest.mark.parametrize(("mapping", "legacy", "golden"), [
    # vendor A (fixed CP932, 1-digit 和暦) → 基本データリスト style: 西暦, 不詳フラグ, 氏 and 名
    (MAPPING, LEGACY, STANDARD),
    # vendor A → 中間標準: 2-digit eras
    (CHUKAN_MAPPING, LEGACY, FIXTURES / "vendor-a" / "juki-kojin.chukan.csv"),
    # vendor B (mainframe: packed and zoned numbers, 西暦, no terminator) → both standards
    (HOST_KIHON, HOST, FIXTURES / "mainframe" / "juki-kojin.kihon.csv"),
    (HOST_CHUKAN, HOST, FIXTURES / "mainframe" / "juki-kojin.chukan.csv"),
])
def test_golden_legacy_to_standard_and_back(tmp_path: Path, mapping: str, legacy: Path,
                                            golden: Path) -> None:
    out = tmp_path / "kojin.csv"
    result = convert(legacy, mapping, out)
    assert out.read_bytes() == golden.read_bytes()
    assert (result.records_in, result.records_out, result.records_rejected) == (5, 5, 0)
    back = tmp_path / "kojin.dat"
    convert(out, mapping, back, reverse=True)
    assert back.read_bytes() == legacy.read_bytes()


def test_numbers_that_do_not_fit_the_host_field_are_rejected_never_rounded(tmp_path: Path
                                                                           ) -> None:
    df = pl.read_csv(FIXTURES / "mainframe" / "juki-kojin.kihon.csv", infer_schema=False)
    df = df.with_columns(
        # 世帯番号: 12 significant digits, the host keeps 11; 記載順位: 3 digits, host 2
        pl.when(pl.col("宛名番号") == "000000000000002").then(pl.lit("100000000000100"))
        .otherwise(pl.col("世帯番号")).alias("世帯番号"),
        pl.when(pl.col("宛名番号") == "000000000000003").then(pl.lit("100"))
        .otherwise(pl.col("記載順位")).alias("記載順位"))
    src = tmp_path / "std.csv"
    src.write_bytes(df.write_csv().encode("utf-8"))
    result = convert(src, HOST_KIHON, tmp_path / "back.dat", reverse=True)
    assert (result.records_out, result.records_rejected) == (3, 2)
    rejects = pl.read_csv(result.rejects, infer_schema=False)
    assert rejects["reasons"].to_list() == ["not-decimal:setai_no", "not-decimal:kisai_juni"]


def test_unknown_code_is_rejected_with_its_reason(tmp_path: Path) -> None:
    recs = kojin_records()
    put(recs[1], 89, b"07")  # not in the vendor's 続柄 map
    src = tmp_path / "in.dat"
    src.write_bytes(b"".join(recs))
    out = tmp_path / "out.csv"
    result = convert(src, MAPPING, out)
    assert (result.records_in, result.records_out, result.records_rejected) == (5, 4, 1)
    rejects = pl.read_csv(result.rejects, infer_schema=False)
    assert rejects["record"].to_list() == ["2"]
    assert "unknown-code:zokugara" in rejects["reasons"][0]
    assert result.rejects_by_reason == {"unknown-code": 1}


def test_records_the_reader_rejects_end_in_the_reject_file(tmp_path: Path) -> None:
    recs = kojin_records()
    put(recs[3], 82, b"4310501")  # 平成31年5月1日
    src = tmp_path / "in.dat"
    src.write_bytes(b"".join(recs))
    result = convert(src, MAPPING, tmp_path / "out.csv")
    assert (result.records_out, result.records_rejected) == (4, 1)
    rejects = pl.read_csv(result.rejects, infer_schema=False)
    assert rejects["reasons"][0] == "era-range:seinengappi"
    assert rejects.select("record", "key", "fields", "values").row(0) == (
        "4", "atena_no=0000000004", "生年月日(seinengappi)", "4310501")
    assert "元号" in rejects["message_ja"][0]
    assert "era" in rejects["message_en"][0]
    assert bytes.fromhex(rejects["raw"][0]) == bytes(recs[3])  # the whole record


def test_values_too_long_for_the_target_are_rejected_never_cut(tmp_path: Path) -> None:
    df = pl.read_csv(STANDARD, infer_schema=False)
    df = df.with_columns(pl.when(pl.col("宛名番号") == "000000000000003").then(pl.lit("ヤマダ" * 9))
                         .otherwise(pl.col("氏名_フリガナ")).alias("氏名_フリガナ"))
    # a 15-digit 宛名番号 whose leading digits are not zeros cannot be cut back to 10
    df = df.with_columns(pl.col("宛名番号").str.replace("^000000000000004$", "100000000000004"))
    src = tmp_path / "std.csv"
    src.write_bytes(df.write_csv().encode("utf-8"))
    result = convert(src, MAPPING, tmp_path / "back.dat", reverse=True)
    assert (result.records_out, result.records_rejected) == (3, 2)
    assert result.rejects_by_reason == {"width-overflow": 2}
    rejects = (tmp_path / "back.dat.rejects.csv").read_text(encoding="utf-8")
    assert "atena_no" in rejects


@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_batches_stream_into_one_file_as_if_read_at_once(tmp_path: Path, batch_size: int
                                                         ) -> None:
    recs = kojin_records()
    put(recs[1], 89, b"07")  # rejected by the mapping (unknown 続柄)
    put(recs[3], 82, b"4310501")  # rejected by the reader (平成31年5月1日)
    src = tmp_path / "in.dat"
    src.write_bytes(b"".join(recs))
    whole = convert(src, MAPPING, tmp_path / "whole.csv")
    parts = convert(src, MAPPING, tmp_path / "parts.csv", batch_size=batch_size)
    assert (tmp_path / "parts.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert (parts.records_out, parts.records_rejected) == (whole.records_out, 2) == (3, 2)
    assert Path(parts.rejects or "").read_bytes() == Path(whole.rejects or "").read_bytes()
    # and back, with a record too long for the legacy layout in the middle batch
    df = pl.read_csv(STANDARD, infer_schema=False).with_columns(
        pl.col("宛名番号").str.replace("^000000000000003$", "100000000000003"))
    std = tmp_path / "std.csv"
    std.write_bytes(df.write_csv().encode("utf-8"))
    back_whole = convert(std, MAPPING, tmp_path / "whole.dat", reverse=True)
    back_parts = convert(std, MAPPING, tmp_path / "parts.dat", reverse=True,
                         batch_size=batch_size)
    assert (tmp_path / "parts.dat").read_bytes() == (tmp_path / "whole.dat").read_bytes()
    assert (back_parts.records_out, back_parts.records_rejected) == (4, 1)
    assert back_whole.rejects_by_reason == back_parts.rejects_by_reason == {"width-overflow": 1}


def test_a_source_with_no_records_gives_a_header_only_csv_and_says_so(tmp_path: Path
                                                                       ) -> None:
    src = tmp_path / "empty.dat"
    src.write_bytes(b"")
    out = tmp_path / "out.csv"
    result = convert(src, MAPPING, out)
    assert (result.records_in, result.records_out, result.records_rejected) == (0, 0, 0)
    assert out.read_bytes() == STANDARD.read_bytes().split(b"\n")[0] + b"\n"
    assert [p.code for p in result.file_problems] == ["empty-file"]
    manifest = json.loads(Path(result.manifest or "").read_text(encoding="utf-8"))
    assert [p["code"] for p in manifest["file_problems"]] == ["empty-file"]
    cli = CliRunner().invoke(main, ["convert", str(src), "-m", MAPPING, "-o", str(out)])
    assert cli.exit_code == 1
    assert "empty-file" in cli.output


def test_csv_columns_are_read_by_header_in_any_order(tmp_path: Path) -> None:
    """Issue 8: 5. Before, columns in another order were refused (csv-header); a real
    export's order is its own, so they are read by the header, and said once."""
    df = pl.read_csv(STANDARD, infer_schema=False)
    src = tmp_path / "swapped.csv"
    src.write_bytes(df.select(df.columns[1], df.columns[0], *df.columns[2:])
                    .write_csv(line_terminator="\r\n").encode("utf-8"))
    out = tmp_path / "back.dat"
    result = convert(src, MAPPING, out, reverse=True)
    assert out.read_bytes() == (FIXTURES / "vendor-a" / "juki-kojin.dat").read_bytes()
    assert [p.code for p in result.file_problems] == ["csv-column-order"]


def test_a_csv_without_a_required_column_is_refused_naming_them_all(tmp_path: Path) -> None:
    df = pl.read_csv(STANDARD, infer_schema=False)
    src = tmp_path / "lacking.csv"
    src.write_bytes(df.drop("宛名番号", "世帯番号").write_csv().encode("utf-8"))
    out = tmp_path / "back.dat"
    with pytest.raises(chukan.DataError) as info:
        convert(src, MAPPING, out, reverse=True)
    assert info.value.code == "csv-header"
    assert "宛名番号(atena_no)" in str(info.value)  # the one required field
    assert not out.exists()
    cli = CliRunner().invoke(main, ["convert", str(src), "-m", MAPPING, "-o", str(out),
                                    "--reverse"])
    assert cli.exit_code == 1
    assert "csv-header" in cli.output
    assert not out.exists()


def test_extra_columns_are_read_past_where_the_layout_allows_them(tmp_path: Path) -> None:
    """The shipped standard layouts allow them (a real export has 122 columns)."""
    src = tmp_path / "extra.csv"
    src.write_bytes(STANDARD.read_bytes().replace(b"\r\n", b",extra\r\n"))
    result = convert(src, MAPPING, tmp_path / "back.dat", reverse=True)
    assert (result.records_out, result.records_rejected) == (5, 0)
    assert [p.code for p in result.file_problems] == ["csv-extra-columns"]
    assert "extra" in result.file_problems[0].message


def test_a_header_refused_before_any_batch_leaves_the_old_output_alone(tmp_path: Path
                                                                        ) -> None:
    """From review: the header problem must stop the run before the output is replaced."""
    src = tmp_path / "lacking.csv"
    src.write_bytes(STANDARD.read_bytes().replace("宛名番号".encode(), b"x"))
    out = tmp_path / "back.dat"
    out.write_bytes(b"previous output")
    with pytest.raises(chukan.DataError, match="csv-header"):
        convert(src, MAPPING, out, reverse=True)
    assert out.read_bytes() == b"previous output"


class _FailingFile(io.BytesIO):
    """A file whose ``n``-th write fails as a full disk does."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def write(self, data: object) -> int:
        self.n -= 1
        if not self.n:
            raise OSError(28, "No space left on device")
        return super().write(data)  # type: ignore[arg-type]


def test_the_disk_thread_writes_and_hashes_every_batch_in_order() -> None:
    """The output is hashed and written on a thread of its own: every batch lands, in
    the order given, and the digest is the file's."""
    out = io.BytesIO()
    parts = [bytes([k]) * (k * 1000) for k in range(1, 40)]
    with _Hashing(out, behind=True) as hashed:
        for part in parts:
            hashed.write(memoryview(part))
    assert out.getvalue() == b"".join(parts)
    assert hashed.digest.hexdigest() == hashlib.sha256(b"".join(parts)).hexdigest()


@pytest.mark.parametrize("behind", [True, False])
@pytest.mark.parametrize("failing", [0, 1, 2])  # the last of three batches: at the end
def test_a_write_that_fails_on_the_disk_thread_fails_the_conversion(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: int, behind: bool) -> None:
    """A full disk on the disk thread is raised, by a later batch's write or at the end
    (the last batch's), and the old output stays: a conversion never ends as if the
    file were whole."""
    def three_writes() -> None:
        with _Hashing(_FailingFile(failing + 1), behind=behind) as hashed:
            for _ in range(3):
                hashed.write(b"x" * 10)

    with pytest.raises(OSError, match="No space"):
        three_writes()
    out = tmp_path / "out.csv"
    out.write_bytes(b"previous output")
    real = _Hashing._put
    calls = iter(range(10 ** 6))

    def put_failing(self: _Hashing, data: bytes) -> None:
        if next(calls) == failing:
            raise OSError(28, "No space left on device")
        real(self, data)

    monkeypatch.setattr(_Hashing, "_put", put_failing)
    with pytest.raises(FileError, match="No space"):
        convert(LEGACY, MAPPING, out, batch_size=2)
    assert out.read_bytes() == b"previous output"
    back = tmp_path / "back.dat"  # a fixed-width target: written inline
    back.write_bytes(b"previous output")
    calls = iter(range(10 ** 6))
    with pytest.raises(FileError, match="No space"):
        convert(STANDARD, MAPPING, back, batch_size=2, reverse=True)
    assert back.read_bytes() == b"previous output"


def _number_layout(name: str, field: str) -> str:
    return f"""[layout]
name = "t/{name}"
format = "csv"
encoding = "utf-8"
header = true
[[field]]
name = "v"
{field}
"""


def _numbers(tmp_path: Path, values: list[str], source: str, target: str,
             steps: str = "") -> tuple[list[str | None], dict[str, int]]:
    """Convert one column ``v`` between two tiny CSV layouts (``source`` and ``target``
    are the field's TOML lines); the values that came out (None where the record was
    rejected) and the rejects by reason."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "s.toml").write_text(_number_layout("s", source), encoding="utf-8")
    (tmp_path / "t.toml").write_text(_number_layout("t", target), encoding="utf-8")
    (tmp_path / "m.toml").write_text(f"""[mapping]
name = "t/m"
source = "s.toml"
target = "t.toml"
[[rule]]
target = "v"
source = "v"
{steps}
""", encoding="utf-8")
    src = tmp_path / "in.csv"
    src.write_text("v\n" + "".join(f"{v}\n" for v in values), encoding="utf-8")
    result = convert(src, tmp_path / "m.toml", tmp_path / "out.csv")
    kept = iter(pl.read_csv(tmp_path / "out.csv", infer_schema=False)["v"].to_list())
    rejected = set(_rejected(result))
    return ([None if i + 1 in rejected else next(kept) for i in range(len(values))],
            dict(result.rejects_by_reason))


def test_numbers_go_into_number_fields_exactly_or_not_at_all(tmp_path: Path) -> None:
    """From review: a Decimal(p, 2) source spells 5 as 5.00, which fits an integer; what
    would lose a digit is rejected, never rounded."""
    dec2 = 'type = "decimal"\nlength = 7\nscale = 2\nsigned = true'
    dec1 = 'type = "decimal"\nlength = 7\nscale = 1\nsigned = true'
    integer = 'type = "integer"\nlength = 5\nsigned = true'
    values = ["5", "-12.5", "1.25", "-0.1"]
    assert _numbers(tmp_path / "i", values, dec2, integer) == (
        ["5", None, None, None], {"not-integer": 3})
    assert _numbers(tmp_path / "d", values, dec2, dec1) == (
        ["5.0", "-12.5", None, "-0.1"], {"not-decimal": 1})


def test_zero_steps_count_the_whole_digits_of_a_decimal(tmp_path: Path) -> None:
    digits = 'type = "digits"\nlength = 15'
    dec = 'type = "decimal"\nlength = 11\nscale = 2'
    assert _numbers(tmp_path, ["000000000001250", "000000000000001", "100000000000000"],
                    digits, dec, 'steps = ["zero_trim"]') == (
        ["1250.00", "1.00", None], {"not-decimal": 1})


def test_progress_is_told_every_batch(tmp_path: Path) -> None:
    seen: list[int] = []
    convert(LEGACY, MAPPING, tmp_path / "out.csv", batch_size=2, progress=seen.append)
    assert seen == [2, 2, 1]


def test_manifest_counts_and_hashes(tmp_path: Path) -> None:
    out = tmp_path / "kojin.csv"
    result = convert(LEGACY, MAPPING, out)
    data = json.loads(Path(result.manifest or "").read_text(encoding="utf-8"))
    assert data["mapping"] == MAPPING and data["reverse"] is False
    assert data["inputs"][0]["records"] == 5
    assert data["outputs"][0]["records"] + data["outputs"][1]["records"] == 5
    assert data["outputs"][0]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    # the source is hashed on a thread of its own, while the conversion runs
    assert data["inputs"][0]["sha256"] == \
        hashlib.sha256(LEGACY.read_bytes()).hexdigest()


def test_the_source_hash_stops_with_the_conversion() -> None:
    stop = threading.Event()
    stop.set()
    assert _sha256_of(LEGACY, stop) is None  # asked to stop: no partial hash
    assert _sha256_of(LEGACY) == hashlib.sha256(LEGACY.read_bytes()).hexdigest()
    assert _sha256_of(io.BytesIO(b"x")) is None  # a stream is not read twice


def test_mapping_problems_are_reported_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "m.toml"
    bad.write_text(f'''[mapping]
name = "x"
source = "{KOJIN}"
target = "kihon/juki/kojin"
[[rule]]
target = "atena_nr"
source = "atena_no"
steps = ["kana_to_fulwidth"]
[[rule]]
target = "shimei"
source = "shimei_kanjj"
''', encoding="utf-8")
    with pytest.raises(chukan.LayoutError) as info:
        load_mapping(bad)
    text = str(info.value)
    assert "did you mean 'atena_no'" in text
    assert "did you mean 'kana_to_fullwidth'" in text
    assert "did you mean 'shimei_kanji'" in text
    assert "target field 'setai_no' has no rule" in text


def _example_mapping_text() -> str:
    return Path("layouts/examples/vendor-a/kojin-to-kihon.toml").read_text(encoding="utf-8")


def _mapping_copy(tmp_path: Path, text: str) -> Path:
    """The example mapping, edited, beside copies of the tables it names."""
    folder = tmp_path / "examples" / "vendor-a"
    folder.mkdir(parents=True)
    for name in ("zokugara-to-standard.toml", "gaiji.toml"):
        (folder / name).write_bytes((Path("layouts/examples/vendor-a") / name).read_bytes())
    (folder / "m.toml").write_text(text, encoding="utf-8")
    return folder / "m.toml"


def test_a_mapping_that_cannot_run_backwards_is_refused(tmp_path: Path) -> None:
    text = Path("layouts/examples/vendor-a/kojin-to-kihon.toml").read_text(encoding="utf-8")
    text = text.replace('"ascii_to_fullwidth", "digits_to_fullwidth"]', '"trim"]')
    m = _mapping_copy(tmp_path, text)
    with pytest.raises(NotInvertibleError, match="step 'trim'"):
        convert(STANDARD, m, tmp_path / "x.dat", reverse=True)


def test_width_steps_are_exact_inverses_on_every_half_width_kana() -> None:
    halves = "".join(h for h, _ in _kana_pairs())
    frame = pl.DataFrame({"v": [halves]})
    full = frame.select(_apply_step("kana_to_fullwidth", pl.col("v"), None))
    back = full.select(_apply_step("kana_to_halfwidth", pl.col("v"), None))
    assert back["v"][0] == halves
    assert "ｶﾞ" not in full["v"][0] and "ガ" in full["v"][0]


def _round_trip(df: pl.DataFrame, mapping: str) -> None:
    """legacy → standard → legacy, byte for byte, with nothing rejected; records holding a
    外字 the mapping's 外字 map does not identify (vendor A's only entry is U+E000; vendor B
    has no map) are rejected by design and left out."""
    spec = load_mapping(mapping)
    known = "".join(spec.gaiji_map.chars) if spec.gaiji_map else ""
    text = pl.col(pl.String).fill_null("")
    if known:
        text = text.str.replace_all(f"[{known}]", "")
    df = df.filter(~pl.any_horizontal(text.str.contains("[\ue000-\uf8ff]")))
    if df.is_empty():
        return
    zokugara = next(r for r in spec.rules if r.target == "zokugara")
    codes = list(zokugara.code_map.codes)  # type: ignore[union-attr]
    n = df.height
    # unique keys: the layouts say no two records share a 宛名番号
    ids = pl.Series("atena_no", [f"{i:010d}" for i in range(n)]) \
        if df.schema["atena_no"] == pl.String else \
        pl.Series("atena_no", range(n)).cast(df.schema["atena_no"])
    df = df.with_columns(pl.Series("zokugara", [codes[i % len(codes)]
                                                for i in range(n)]), ids)
    with tempfile.TemporaryDirectory() as tmp:
        src, mid, back = Path(tmp) / "a.dat", Path(tmp) / "b.csv", Path(tmp) / "c.dat"
        chukan.write(df, src, spec.source)
        forward = convert(src, mapping, mid)
        assert forward.records_rejected == 0, forward.rejects_by_reason
        backward = convert(mid, mapping, back, reverse=True)
        assert backward.records_rejected == 0, (backward.rejects_by_reason,
                                                backward.rejects.read_text(encoding="utf-8"))
        got, want = back.read_bytes(), src.read_bytes()
        assert [(i, got[i:i + 12], want[i:i + 12]) for i in range(len(want))
                if got[i:i + 1] != want[i:i + 1]][:1] == []


def _spellable_in_eras(*names: str) -> pl.Expr:
    """西暦 dates (and 不詳 parts) that 和暦 can spell: 明治元年 to 令和99年."""
    ok = pl.lit(value=True)
    for name in names:
        year = pl.col(name).dt.year()
        partial_year = pl.col(f"{name}_partial").str.slice(0, 4).cast(pl.Int32, strict=False)
        ok &= (year.is_null() | year.is_between(1868, 2117)) & (
            partial_year.is_null() | (partial_year == 0) | partial_year.is_between(1868, 2117))
    return ok


@given(frames(chukan.load_layout("examples/mainframe/juki-kojin"), max_rows=6))
def test_random_host_records_survive_both_round_trips(df: pl.DataFrame) -> None:
    """Vendor B's packed/zoned numbers and 西暦 dates, through both standards. 中間標準
    spells dates in 和暦: one before 明治 or after 令和99年 is rejected there (era-range),
    so such records go through the 西暦 standard only."""
    _round_trip(df, HOST_KIHON)
    _round_trip(df.filter(_spellable_in_eras("seinengappi", "ido_ymd")), HOST_CHUKAN)


@given(frames(chukan.load_layout(KOJIN), max_rows=6))
def test_random_legacy_records_survive_the_round_trip(df: pl.DataFrame) -> None:
    """Through the 西暦 standard. An era-form 不詳 date (昭和64-00-00, 平成00-00-00) has no
    西暦 spelling: such records are rejected, with their reason, and left out here."""
    _round_trip(df.filter(~pl.col("seinengappi_partial").fill_null("").str.contains(r"^\D")),
                MAPPING)


@given(frames(chukan.load_layout(KOJIN), max_rows=6))
def test_random_legacy_records_survive_the_chukan_round_trip(df: pl.DataFrame) -> None:
    """Through 中間標準 (2-digit 年号コード): every era-form 不詳 date goes through as it is.
    The vendor's 異動日 is 西暦: one before 明治 or after 令和99年 has no 和暦 spelling and is
    rejected (era-range, bad-date), so such records are left out here."""
    _round_trip(df.filter(_spellable_in_eras("ido_ymd")), CHUKAN_MAPPING)


def test_cli_convert(tmp_path: Path) -> None:
    out = tmp_path / "k.csv"
    result = CliRunner().invoke(main, ["convert", str(LEGACY), "-m", MAPPING, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == STANDARD.read_bytes()
    back = tmp_path / "k.dat"
    assert CliRunner().invoke(main, ["convert", str(out), "-m", MAPPING, "-o", str(back),
                                     "--reverse"]).exit_code == 0
    assert back.read_bytes() == LEGACY.read_bytes()
    assert CliRunner().invoke(main, ["convert", str(LEGACY), "-m", "no/such", "-o",
                                     str(out)]).exit_code == 2


@pytest.mark.parametrize("text", ["ﾔﾏﾀﾞ ﾀﾛｳ", "ｳﾞｧｲｵﾘﾝ", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "ｶｯﾌﾟ･ｹｰｷ"])
def test_kana_examples(text: str) -> None:
    frame = pl.DataFrame({"v": [text]})
    full = frame.select(_apply_step("kana_to_fullwidth", pl.col("v"), None)
                        ).select(_apply_step("ascii_to_fullwidth", pl.col("v"), None))
    assert not any("\uff61" <= ch <= "\uff9f" for ch in full["v"][0])
    back = full.select(_apply_step("ascii_to_halfwidth", pl.col("v"), None)).select(
        _apply_step("kana_to_halfwidth", pl.col("v"), None))
    assert back["v"][0] == text


def test_name_split_on_its_full_width_space_and_joined_back(tmp_path: Path) -> None:
    text = Path("layouts/examples/vendor-a/kojin-to-kihon.toml").read_text(encoding="utf-8")
    # without the copy of 氏名, only 氏 and 名 can give it back: by joining them
    text = text.replace('target = "shimei"\nsource = "shimei_kanji"',
                        'target = "shimei"\nconstant = ""')
    folder = _mapping_copy(tmp_path, text).parent
    mid, back = tmp_path / "k.csv", tmp_path / "k.dat"
    convert(LEGACY, folder / "m.toml", mid)
    table = pl.read_csv(mid, infer_schema=False)
    assert table["氏_日本人"].to_list()[:2] == ["山田", "山田"]
    assert table["名_日本人"].to_list()[:2] == ["太郎", "花子"]
    assert table["氏名"].to_list() == [None] * 5
    convert(mid, folder / "m.toml", back, reverse=True)
    assert back.read_bytes() == LEGACY.read_bytes()
    # keeping 氏 alone cannot give 氏名 back
    only_first = text.replace('target = "mei"\nsource = "shimei_kanji"\nsteps = ["rest_part"]',
                              'target = "mei"\nconstant = ""')
    (folder / "m.toml").write_text(only_first, encoding="utf-8")
    with pytest.raises(NotInvertibleError, match="shimei_kanji"):
        convert(mid, folder / "m.toml", back, reverse=True)


def test_joined_name_splits_back(tmp_path: Path) -> None:
    """The other direction: a mapping whose rule joins 氏 and 名 into 氏名 (here, the split
    mapping run backwards, taken as a mapping of its own) is split back when reversed."""
    text = Path("layouts/examples/vendor-a/kojin-to-kihon.toml").read_text(encoding="utf-8")
    text = text.replace('target = "shimei"\nsource = "shimei_kanji"',
                        'target = "shimei"\nconstant = ""')
    folder = _mapping_copy(tmp_path, text).parent
    split = load_mapping(folder / "m.toml")
    mid = tmp_path / "k.csv"
    convert(LEGACY, split, mid)
    backwards = _plan(split, reverse=True)
    join = next(r for r in backwards.rules if r.target == "shimei_kanji")
    assert (join.sources, join.steps) == (("shi", "mei"), ("join_space",))
    joining = MappingSpec(name="join", source=backwards.source, target=backwards.target,
                          rules=backwards.rules,
                          gaiji_map=GaijiMap(name="back", chars=backwards.gaiji))
    legacy, again = tmp_path / "k.dat", tmp_path / "k2.csv"
    convert(mid, joining, legacy)
    assert legacy.read_bytes() == LEGACY.read_bytes()
    # reversed, the join becomes the split: 氏 and 名 come back from 氏名 (the constants
    # of the first mapping are gone, so the whole of `joining` cannot run backwards)
    undone = {r.target: r for r in _undone(joining)}
    assert [(undone[n].source, undone[n].steps) for n in ("shi", "mei")] == [
        ("shimei_kanji", ("first_part",)), ("shimei_kanji", ("rest_part",))]
    split_back = MappingSpec(name="split", source=joining.target, target=joining.source,
                             gaiji_map=split.gaiji_map,
                             rules=(*(r for r in split.rules if r.target not in undone),
                                    *undone.values()))
    convert(legacy, split_back, again)
    table = pl.read_csv(again, infer_schema=False)
    assert table["氏_日本人"].to_list()[:2] == ["山田", "山田"]
    assert table["名_日本人"].to_list()[:2] == ["太郎", "花子"]
    assert again.read_bytes() == mid.read_bytes()


def test_unidentified_gaiji_are_rejected_identified_ones_mapped(tmp_path: Path) -> None:
    """F040 is in the example's 外字 map (𠮷); F041 is not: a Unicode layout cannot carry
    it, so its record is rejected, naming the fields."""
    recs = kojin_records()
    put(recs[0], 51, "山田　".encode("cp932") + b"\xf0\x41")  # 山田　<外字 F041>
    put(recs[1], 51, "山田　".encode("cp932") + b"\xf0\x40")  # 山田　<外字 F040>
    src = tmp_path / "in.dat"
    src.write_bytes(b"".join(recs))
    result = convert(src, MAPPING, tmp_path / "out.csv")
    assert (result.records_in, result.records_out, result.records_rejected) == (5, 4, 1)
    assert result.rejects_by_reason == {"unmapped-gaiji": 1}
    rejects = pl.read_csv(result.rejects, infer_schema=False)
    assert rejects["record"].to_list() == ["1"]
    assert set(rejects["reasons"][0].split()) == {
        "unmapped-gaiji:shimei", "unmapped-gaiji:mei"}
    table = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert table["名_日本人"][0].startswith("𠮷")


def test_a_gaiji_in_a_later_batch_is_judged_whatever_the_batches_before_held(
        tmp_path: Path) -> None:
    """The mapping's expressions are built once for batches alike: a batch whose text
    holds a 外字 is not alike one whose text holds none (it needs the 外字 check)."""
    recs = kojin_records()
    put(recs[4], 51, "山田　".encode("cp932") + b"\xf0\x41")  # the last: 山田　<外字 F041>
    src = tmp_path / "in.dat"
    src.write_bytes(b"".join(recs))
    result = convert(src, MAPPING, tmp_path / "out.csv", batch_size=1)
    assert (result.records_out, result.records_rejected) == (4, 1)
    assert result.rejects_by_reason == {"unmapped-gaiji": 1}
    assert pl.read_csv(result.rejects, infer_schema=False)["record"].to_list() == ["5"]


def test_gaiji_map_with_an_ivs_runs_both_ways(tmp_path: Path) -> None:
    m = _mapping_copy(tmp_path, _example_mapping_text())
    (m.parent / "gaiji.toml").write_text(
        '[gaiji_map]\nname = "g"\n[gaiji_map.chars]\n"U+E000" = "葛\\U000E0100"\n',
        encoding="utf-8")
    mid, back = tmp_path / "k.csv", tmp_path / "k.dat"
    convert(LEGACY, m, mid)
    assert "葛\U000E0100" in mid.read_text(encoding="utf-8")
    convert(mid, m, back, reverse=True)
    assert back.read_bytes() == LEGACY.read_bytes()


def test_gaiji_map_to_an_ordinary_character_cannot_run_backwards(tmp_path: Path) -> None:
    """髙 is a CP932 character (FB FC): backwards, every 髙 would become the 外字."""
    m = _mapping_copy(tmp_path, _example_mapping_text())
    (m.parent / "gaiji.toml").write_text(
        '[gaiji_map]\nname = "g"\n[gaiji_map.chars]\n"F040" = "髙"\n', encoding="utf-8")
    convert(LEGACY, m, tmp_path / "k.csv")
    with pytest.raises(NotInvertibleError, match="髙"):
        convert(tmp_path / "k.csv", m, tmp_path / "k.dat", reverse=True)


def test_gaiji_map_problems_are_reported_at_once(tmp_path: Path) -> None:
    m = _mapping_copy(tmp_path, _example_mapping_text())
    (m.parent / "gaiji.toml").write_text(
        '[gaiji_map]\nname = "g"\ncolour = "red"\n[gaiji_map.chars]\n'
        '"F040" = "𠮷"\n"U+E000" = "吉"\n"3042" = "あ"\n"F07F" = "x"\n"F041" = ""\n',
        encoding="utf-8")
    with pytest.raises(chukan.LayoutError) as err:
        load_mapping(m)
    text = str(err.value)
    for expected in ("colour", "mapped twice", "chars.3042: not a 外字", "chars.F07F: not a 外字",
                     "chars.F041: must be a non-empty string"):
        assert expected in text, expected


@pytest.mark.parametrize("mapping", [MAPPING, HOST_KIHON])
@given(df=frames(chukan.load_layout("kihon/juki/kojin"), max_rows=6))
def test_random_standard_records_survive_the_round_trip(mapping: str, df: pl.DataFrame
                                                        ) -> None:
    """standard → legacy → standard is the identity on every field the legacy layout
    carries (a rule copying a source field; constants, 不詳 flags and the 氏/名 split are
    made again from what the legacy file holds). Records the legacy layout cannot hold —
    too long, not CP932, a 続柄 the vendor has no code for, a number with more digits than
    the host field — are rejected, never cut; the rest must come back as they were, up to
    the spelling the legacy field gives them: vendor A's digit fields come back zero-filled
    to its width ("1" → "01"), a number without a zero-fill step without leading zeros
    ("007" → "7"), one with it zero-filled to the standard's width."""
    spec = load_mapping(mapping)
    zokugara = next(r for r in spec.rules if r.target == "zokugara")
    codes = list(zokugara.code_map.codes.values())  # type: ignore[union-attr]
    n = df.height
    # identifiers the vendor's fields can hold, and 続柄 it has codes for, so more
    # records get through instead of being rejected for what is tested elsewhere
    df = df.with_columns(pl.Series("atena_no", [f"{i + 1:015d}" for i in range(n)]),
                         pl.Series("setai_no", [f"{i:010d}" for i in range(n)]),
                         pl.Series("zokugara", [codes[i % len(codes)] for i in range(n)]),
                         pl.col("shimei").fill_null("山田　花子"))  # 氏名 is required there
    legacy = {f.name: f for f in spec.source.kind().fields}
    standard = {f.name: f for f in spec.target.kind().fields}
    spelled: dict[str, pl.Expr] = {}
    for r in spec.rules:
        if r.source is None or legacy[r.source].type not in ("digits", "decimal"):
            continue
        value = pl.col(r.target)
        if "zero_fill" in r.steps:
            spelled[r.target] = value.str.pad_start(standard[r.target].length, "0")
        elif legacy[r.source].type == "digits":
            spelled[r.target] = value.str.pad_start(legacy[r.source].length, "0")
        else:
            spelled[r.target] = value.cast(pl.Int64).cast(pl.String)
    carried = [r.target for r in spec.rules
               if r.source is not None and not {"first_part", "rest_part", "fumei_flag"}
               & set(r.steps)]
    with tempfile.TemporaryDirectory() as tmp:
        src, mid, back = Path(tmp) / "a.csv", Path(tmp) / "b.dat", Path(tmp) / "c.csv"
        chukan.write(df, src, "kihon/juki/kojin")
        backwards = convert(src, mapping, mid, reverse=True)
        if backwards.records_out == 0:
            return  # all rejected: nothing to carry back (an empty file reads as a problem)
        forwards = convert(mid, mapping, back)
        assert forwards.records_rejected == 0, forwards.rejects_by_reason
        kept = chukan.read(src, "kihon/juki/kojin").filter(
            ~pl.int_range(1, n + 1).is_in(_rejected(backwards))).with_columns(
            expr.alias(name) for name, expr in spelled.items())
        again = chukan.read(back, "kihon/juki/kojin")
        pairs = zip(again.select(carried).to_dicts(), kept.select(carried).to_dicts(),
                    strict=True)
        for a, b in pairs:
            assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]}


def _rejected(result: chukan.ConvertResult) -> list[int]:
    rejects = pl.read_csv(result.rejects, infer_schema=False)
    return [int(r) for r in rejects["record"]]


WIDTH_STEPS = [s for s in STEPS if "_to_" in s]
# half- and full-width kana with their marks (ｳﾞ is one ヴ, ﾜﾞ has no one character),
# ASCII, digits, the ideographic space, and characters no step touches
WIDTH_TEXT = st.text(st.sampled_from(list("ｱｳｶﾊﾜｦﾞﾟ｡ｰアヴガパ゛゜。ーA z~0９Ａ\u3000山\ue000")),
                     max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(WIDTH_TEXT | st.none(), max_size=30),
       st.lists(st.sampled_from(WIDTH_STEPS), min_size=1, max_size=4))
def test_width_steps_in_the_core_are_polars_steps_one_after_another(
        values: list[str | None], steps: list[str]) -> None:
    """Width steps as the mapping runs them (runs merged into one pass, each pass by the
    core) give the text that each step's own ``replace_many``, in turn, gives."""
    convert_module = sys.modules["chukan.convert"]
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    expr = pl.col("v")
    for pairs in convert_module._merged([convert_module._width_pairs(s) for s in steps]):
        expr = convert_module._replace(expr, pairs)
    want = pl.col("v")
    for step in steps:
        pairs = convert_module._width_pairs(step)
        want = want.str.replace_many([p[0] for p in pairs], [p[1] for p in pairs],
                                     leftmost=True)
    got = frame.select(expr.alias("v"))["v"].to_list()
    assert got == frame.select(want.alias("v"))["v"].to_list()
