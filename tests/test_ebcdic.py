"""Japanese EBCDIC (IBM 930, 939, 1390, 1399): the core against glibc's iconv for every
code, strictness where glibc substitutes, the layout rules, the shipped IBM 930 example
read, converted and written back byte for byte, and random shift placement."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import chukan
from chukan import _core
from chukan.spec import EBCDIC_ENCODINGS, loads_layout
from chukan.testing import frames

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures/mainframe/juki-kojin-ibm930.dat"
LAYOUT = "examples/mainframe/juki-kojin-ibm930"


@cache
def _generator() -> ModuleType:
    """core/gen_ebcdic.py, which asks glibc's iconv (libc6's gconv modules)."""
    spec = importlib.util.spec_from_file_location("gen_ebcdic", ROOT / "core/gen_ebcdic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_ebcdic"] = module
    spec.loader.exec_module(module)
    return module


@cache
def _iconv(page: str) -> tuple[dict[int, str], dict[int, str]]:
    singles, doubles = _generator().decoded(page)
    return singles, doubles


def test_the_committed_tables_are_what_iconv_gives() -> None:
    gen = _generator()
    for name, text in {**gen.tables(), **gen.vendor_tables()}.items():
        assert (ROOT / "core/tables" / name).read_text(encoding="ascii") == text, name


@pytest.mark.parametrize("page", EBCDIC_ENCODINGS)
def test_every_code_decodes_in_the_core_as_iconv_decodes_it(page: str) -> None:
    singles, doubles = _iconv(page)
    for b in range(256):
        if b in (0x0E, 0x0F):
            continue
        assert _core.decode_ebcdic(bytes([b]), page, "none") == singles.get(b), hex(b)
    for lead in range(0x40, 0xFF):
        for trail in range(0x40, 0xFF):
            code = lead << 8 | trail
            got = _core.decode_ebcdic(bytes([lead, trail]), page, "graphic")
            assert got == doubles.get(code), hex(code)
            # the same pair in a mixed field, between SO and SI
            mixed = _core.decode_ebcdic(bytes([0x0E, lead, trail, 0x0F]), page, "so-si")
            assert mixed == got, hex(code)


@pytest.mark.parametrize("page", EBCDIC_ENCODINGS)
def test_every_character_is_written_as_iconv_writes_it_or_refused(page: str) -> None:
    """Each character a page decodes is written as iconv writes it where that reads back
    as the same character; iconv's substitutions (a character written as a code that
    reads as another) are refused: chukan writes exact round trips only."""
    gen = _generator()
    singles, doubles = _iconv(page)
    chosen = gen.written(page, singles, doubles)
    encode = gen.Iconv(gen.PAGES[page][0], "UTF-32LE")
    decoded = {**singles, **doubles}
    texts = sorted(set(decoded.values()))
    substituted = 0
    for code in range(0x20, 0x30000):
        if 0xD800 <= code < 0xE000 or chr(code) in chosen:
            continue
        raw = encode(chr(code).encode("utf-32-le"))
        if raw is None:
            continue
        substituted += 1
        with pytest.raises(UnicodeEncodeError):
            chr(code).encode(f"chukan_{page}")
    for text in texts:
        code = chosen[text]
        want = bytes([code]) if code < 0x100 else b"\x0e" + code.to_bytes(2, "big") + b"\x0f"
        assert text.encode(f"chukan_{page}") == want, (text, hex(code))
        assert decoded[code] == text
    assert substituted > 0  # glibc does substitute (～ － ∥ and others): they are refused


def test_the_layout_rules_for_shift_modes() -> None:
    def problems(body: str, encoding: str = "ibm930", fmt: str = "fixed") -> str:
        text = (f'[layout]\nname = "x"\nformat = "{fmt}"\nencoding = "{encoding}"\n'
                f"record_length = 10\n{body}")
        with pytest.raises(chukan.LayoutError) as info:
            loads_layout(text)
        return str(info.value)

    assert "host pages', not cp932's" in problems(
        '[[field]]\nname = "a"\ntype = "graphic"\nlength = 10\n', encoding="cp932")
    assert "even length" in problems('[[field]]\nname = "a"\ntype = "graphic"\nlength = 9\n'
                                     '[[field]]\ntype = "filler"\nlength = 1\n')
    assert "fixed-width files only" in problems(
        '[[field]]\nname = "a"\ntype = "text"\nlength = 10\n', fmt="csv")
    assert "no terminator" in problems(
        'terminator = "crlf"\n[[field]]\nname = "a"\ntype = "text"\nlength = 10\n')
    assert "only for text / code fields" in problems(
        '[[field]]\nname = "a"\ntype = "integer"\nshift = "so-si"\nlength = 10\n')
    assert "did you mean" in problems(
        '[[field]]\nname = "a"\ntype = "text"\nshift = "so_si"\nlength = 10\n').lower()


def test_the_ibm930_example_reads_as_its_cp932_copy() -> None:
    """The host file holds four of the people of the CP932 copy (fixtures/make_fixtures.py
    builds both, the host one with iconv); where the text differs, it is what IBM 930
    holds: 外字 at 0x6941 (U+E000), and the 番地 iconv wrote with its own substitution
    (－ written as 0x4260, which is − U+2212)."""
    report = chukan.Report()
    host = chukan.read(FIXTURE, LAYOUT, report=report)
    copy = chukan.read(ROOT / "fixtures/mainframe/juki-kojin.dat",
                       "examples/mainframe/juki-kojin")[[0, 1, 3, 4]]
    same = [c for c in host.columns if c not in ("shimei_kanji", "banchi")]
    assert host.select(same).equals(copy.select(same), null_equal=True)
    assert host["shimei_kanji"].to_list() == ["山田\u3000太郎", "山田\u3000花子",
                                              "\ue000橋\u3000次郎", "髙橋\u3000幸子"]
    assert host["banchi"].to_list() == ["１丁目１番１号", "１\u2212１\u3000ﾒｿﾞﾝ101",
                                        "３\u2212１\u2212１", "301"]
    assert report.problems == []


def test_the_ibm930_example_writes_back_byte_for_byte(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes()
    chukan.write(chukan.read(data, LAYOUT), tmp_path / "back.dat", LAYOUT)
    assert (tmp_path / "back.dat").read_bytes() == data


def test_the_ibm930_example_converts_to_the_standard_and_back(tmp_path: Path) -> None:
    """Its 外字 record is held back (no 外字 map); the others go to the 中間標準レイアウト
    CSV and come back as the host's bytes."""
    got = chukan.convert(FIXTURE, "examples/mainframe/kojin930-to-chukan", tmp_path / "k.csv")
    assert (got.records_out, got.rejects_by_reason) == (3, {"unmapped-gaiji": 1})
    chukan.convert(tmp_path / "k.csv", "examples/mainframe/kojin930-to-chukan",
                   tmp_path / "back.dat", reverse=True)
    data = FIXTURE.read_bytes()
    kept = data[:320] + data[480:]
    assert (tmp_path / "back.dat").read_bytes() == kept
    kihon = chukan.convert(FIXTURE, "examples/mainframe/kojin930-to-kihon", tmp_path / "b.csv")
    assert kihon.records_out == 3


def test_the_mainframe_text_problems_are_reported_at_their_field() -> None:
    data = bytearray(FIXTURE.read_bytes())
    data[146] = 0x40  # 番地 of record 1 loses its SI: it ends inside double-byte mode
    data[160 + 143] = 0x0E  # 番地 of record 2: an SO inside double-byte mode
    data[40:42] = b"\x41\x0e"  # a shift code in the graphic 氏名: no character
    data[17] = 0x05  # a tab in カナ氏名: it decodes, but a control character is no data
    report = chukan.Report()
    df = chukan.read(bytes(data), LAYOUT, report=report)
    found = {(p.record, p.field, p.code) for p in report.problems}
    assert (1, "shimei_kana", "control-char") in found
    assert df["shimei_kana"][0] is None
    assert (1, "banchi", "invalid-bytes") in found
    assert (2, "banchi", "invalid-bytes") in found
    assert (1, "shimei_kanji", "control-char") in found  # no shift code in PIC G
    assert df["banchi"].to_list()[:3] == [None, None, "３\u2212１\u2212１"]


MIXED = loads_layout('[layout]\nname = "m"\nformat = "fixed"\nencoding = "ibm1390"\n'
                     "record_length = 36\n"
                     '[[field]]\nname = "t"\ntype = "text"\nshift = "so-si"\nlength = 12\n'
                     '[[field]]\nname = "g"\ntype = "graphic"\nlength = 8\n'
                     '[[field]]\nname = "k"\ntype = "text"\nchars = "halfwidth"\nlength = 6\n'
                     '[[field]]\nname = "z"\ntype = "decimal"\nstorage = "zoned"\n'
                     "signed = true\nlength = 4\n"
                     '[[field]]\nname = "d"\ntype = "date"\nformat = "YYMMDD"\npivot = 30\n')


@settings(max_examples=60, deadline=None)
@given(frames(MIXED))
def test_mixed_and_graphic_fields_round_trip(df: pl.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.dat"
        chukan.write(df, path, MIXED)
        data = path.read_bytes()
    back = chukan.read(data, MIXED)
    assert back.select(df.columns).equals(df, null_equal=True)
    with tempfile.TemporaryDirectory() as tmp:  # and what was read writes the same bytes
        chukan.write(back, Path(tmp) / "y.dat", MIXED)
        assert (Path(tmp) / "y.dat").read_bytes() == data


_SHIFTY = st.lists(st.sampled_from([0x0E, 0x0F, 0x40, 0x45, 0x41, 0xC1, 0x69, 0x00, 0xFF,
                                    0x81]), min_size=12, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SHIFTY, min_size=1, max_size=5))
@example([[0x0E, 0x45, 0x41] + [0x40] * 9])  # ends inside double-byte mode
@example([[0xC1, 0x0E, 0x0F] + [0x40] * 9])  # an empty shift pair: read, but reported
@example([[0x0F, 0xC1] + [0x40] * 10])  # an SI with no SO
def test_random_shift_placement_never_panics_or_loses_a_record(rows: list[list[int]]) -> None:
    """Every record either reads to a value that writes back as its bytes, or is
    reported with its bytes: nothing is dropped, nothing is guessed."""
    layout = loads_layout('[layout]\nname = "s"\nformat = "fixed"\nencoding = "ibm930"\n'
                          "record_length = 12\n"
                          '[[field]]\nname = "t"\ntype = "text"\nshift = "so-si"\n'
                          "length = 12\n")
    data = bytes(b for row in rows for b in row)
    report = chukan.Report()
    df = chukan.read(data, layout, report=report)
    assert df.height == len(rows)
    flagged = {p.record for p in report.problems}
    for i, (row, value) in enumerate(zip(rows, df["t"].to_list(), strict=True), start=1):
        raw = bytes(row)
        if i in flagged:
            continue
        text = value or ""
        assert raw.rstrip(b"\x40") == (text.encode("chukan_ibm930") if text else b""), raw


def test_the_core_refuses_what_the_python_side_never_sends() -> None:
    with pytest.raises(ValueError, match="no EBCDIC page"):
        _core.decode_ebcdic(b"", "ibm037", "none")
    with pytest.raises(ValueError, match="no shift mode"):
        _core.encode_ebcdic(np.zeros(0, np.uint8), np.zeros(1, np.int64), "ibm930", "x")


#: a mutated IBM 930 file (found by fuzz/fuzz.py): its first record alone passes for
#: CP932, its first two for EBCDIC
_MUTATED = bytes.fromhex(
    "0000000000001f00000000100ff0f1a9a491be4091bb834040404040404040400ff0f1a9a491be4091bb8340"
    "40404040404040404040404040404045654563404045ab456e4040404040404040404040404040f1f1f9f7f5"
    "f0f4f0f1f1f0f1f2f0f2f0f0f4f0f1f1f0f0f0f0f0f145574575454f454c459a45634554454c459a45634040"
    "4040404040404040404040404040404040400e42f14bce467542f148b942f148e20f40404040404040404040"
    "404040000000000000002f00000000100ff0f2a9a491be409d968a4040404040404040404040404040404565"
    "4563404046d945644040404040404040404040404040f2f1f9f7f7f0f8f1f5f2f2f1f2f0f2f0f0f4f0f1a0f0"
    "f0f0f0f0f145574575454f454c459a45634554454c459a456340404040404040404040404040404040404040"
    "400e42f1426042f140400fa790bebdf1f0f1404040404040404040404040000000000000004f00000000200f"
    "f0f191869d8d408dbebb83404040404040404040404040404040"
)


@pytest.mark.parametrize("batch", [1, 2, 3, 1000])
def test_what_the_file_looks_like_does_not_depend_on_the_batch_size(batch: int) -> None:
    whole = chukan.Report()
    chukan.read(_MUTATED, LAYOUT, report=whole)
    parts = chukan.Report()
    for _ in chukan.read_batches(_MUTATED, LAYOUT, report=parts, batch_size=batch):
        pass
    assert sorted(str(p) for p in parts.problems) == sorted(str(p) for p in whole.problems)


_REFUSING = loads_layout('[layout]\nname = "r"\nformat = "fixed"\nencoding = "ibm930"\n'
                         "record_length = 16\n"
                         '[[field]]\nname = "z"\ntype = "digits"\nlength = 4\n'
                         '[[field]]\nname = "t"\ntype = "text"\nchars = "fullwidth"\n'
                         'shift = "so-si"\npad = " "\nlength = 8\n'
                         '[[field]]\nname = "k"\ntype = "text"\nchars = "halfwidth"\n'
                         "length = 4\n")


def test_a_value_encoded_then_refused_leaves_its_field_as_padding(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The core encodes a value straight into its field: where the value is then
    refused (too few digits, a half-width character in a full-width field) the field is
    padding again, as the Python kernel (the oracle) writes it."""
    df = pl.DataFrame({"z": ["12", "1234", "123"], "t": ["山A", "山田", "ｱ"],
                       "k": ["ab", "ｱｲ", "c"]})
    written = {}
    for kernel in ("core", "python"):
        monkeypatch.setenv("CHUKAN_KERNEL", kernel)
        report = chukan.Report()
        chukan.write(df, tmp_path / f"{kernel}.dat", _REFUSING, report=report)
        written[kernel] = ((tmp_path / f"{kernel}.dat").read_bytes(),
                           sorted((p.record, p.field, p.code) for p in report.problems))
    data, problems = written["core"]
    assert problems == [(1, "t", "halfwidth-in-fullwidth"), (1, "z", "not-digits"),
                        (3, "t", "halfwidth-in-fullwidth"), (3, "z", "not-digits")]
    assert data[:12] == b"\x40" * 12  # record 1's refused fields
    assert written["core"] == written["python"]
