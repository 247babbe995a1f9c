"""Writing: byte-exact round trips, padding by bytes, overflow never truncated, the CP932
duplicate policy, and atomic output."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import chukan
from chukan import DataError, Report, UsageError, loads_layout
from helpers import FIXTURES, KOJIN, KOJIN_CSV, NOUZEI, ZENGIN

TINY = """
[layout]
name = "t/tiny"
format = "fixed"
encoding = "{enc}"
record_length = 10
terminator = "lf"
cp932_duplicates = "{dup}"
[[field]]
name = "code"
length = 4
type = "digits"
[[field]]
name = "name"
length = 6
type = "text"
chars = "{chars}"
"""


def tiny(enc: str = "cp932", dup: str = "ibm", chars: str = "any") -> chukan.Layout:
    return loads_layout(TINY.format(enc=enc, dup=dup, chars=chars))


@pytest.mark.parametrize(("fixture", "layout"), [
    ("vendor-a/juki-kojin.dat", KOJIN),
    ("mainframe/nouzei.dat", NOUZEI),
    ("vendor-a/juki-kojin.csv", KOJIN_CSV),
    ("vendor-a/juki-setai.dat", "examples/vendor-a/juki-setai"),
])
def test_reading_then_writing_gives_the_same_bytes(fixture: str, layout: str,
                                                   tmp_path: Path) -> None:
    src = FIXTURES / fixture
    out = tmp_path / "out"
    chukan.write(chukan.read(src, layout), out, layout)
    assert out.read_bytes() == src.read_bytes()


def test_multi_record_round_trip_keeps_record_order(tmp_path: Path) -> None:
    src = FIXTURES / "zengin" / "kouza-furikae.dat"
    out = tmp_path / "out.dat"
    chukan.write_records(chukan.read_records(src, ZENGIN), out, ZENGIN)
    assert out.read_bytes() == src.read_bytes()


def test_multi_record_layout_needs_write_records(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        chukan.write(pl.DataFrame(), tmp_path / "x", ZENGIN)


def test_values_are_padded_by_bytes_in_the_target_encoding(tmp_path: Path) -> None:
    df = pl.DataFrame({"code": ["0012"], "name": ["山A"]})
    out = tmp_path / "o"
    chukan.write(df, out, tiny())
    assert out.read_bytes() == b"0012" + "山A".encode("cp932") + b"   \n"
    chukan.write(df, out, tiny("euc_jp"))
    assert out.read_bytes() == b"0012" + "山A".encode("euc_jp") + b"   \n"
    chukan.write(df, out, tiny("utf-8"))
    assert out.read_bytes() == b"0012" + "山A".encode() + b"  \n"


def test_full_width_padding_is_u3000_then_a_space_for_an_odd_byte(tmp_path: Path) -> None:
    layout = loads_layout(TINY.format(enc="cp932", dup="ibm", chars="fullwidth")
                          .replace("length = 6", "length = 5").replace("= 10", "= 9"))
    out = tmp_path / "o"
    chukan.write(pl.DataFrame({"code": ["0001"], "name": ["山"]}), out, layout)
    assert out.read_bytes() == b"0001" + "山\u3000".encode("cp932") + b" \n"
    assert chukan.read(out, layout)["name"].to_list() == ["山"]


def test_overflow_is_an_error_never_a_truncation(tmp_path: Path) -> None:
    out = tmp_path / "o"
    df = pl.DataFrame({"code": ["0001", "0002"], "name": ["山田A", "山田太"]})  # 5 and 6 bytes
    chukan.write(df.head(1), out, tiny())
    df2 = pl.DataFrame({"code": ["0001", "0002"], "name": ["山田", "山田太A"]})  # 7 bytes
    with pytest.raises(DataError) as info:
        chukan.write(df2, out, tiny())
    p = info.value.problem
    assert (p.code, p.record, p.field, p.offset) == ("width-overflow", 2, "name", 11 + 4)
    assert "7バイト" in p.message


def test_overflow_of_one_byte_in_a_double_byte_character_is_not_split(tmp_path: Path) -> None:
    report = Report()
    out = tmp_path / "o"
    chukan.write(pl.DataFrame({"code": ["0001"], "name": ["ABCDE山"]}), out, tiny(),
                 report=report)
    assert [p.code for p in report] == ["width-overflow"]
    assert out.read_bytes() == b"0001" + b" " * 6 + b"\n"  # padding, never half a 山


def test_failed_strict_write_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.write_bytes(b"previous")
    with pytest.raises(DataError):
        chukan.write(pl.DataFrame({"code": ["123456"], "name": ["x"]}), out, tiny())
    assert out.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize(("dup", "expected"), [("ibm", b"\xfb\xfc"), ("nec", b"\xee\xe0")])
def test_cp932_duplicate_policy(dup: str, expected: bytes, tmp_path: Path) -> None:
    out = tmp_path / "o"
    layout = tiny(dup=dup)
    chukan.write(pl.DataFrame({"code": ["0001"], "name": ["髙﨑"]}), out, layout)
    data = out.read_bytes()
    assert data[4:6] == expected
    # both byte sequences read as the same character, and each policy round-trips
    assert chukan.read(out, layout)["name"].to_list() == ["髙﨑"]
    for raw in (b"\xfb\xfc", b"\xee\xe0"):
        assert chukan.read(b"0001" + raw + b"    \n", layout)["name"].to_list() == ["髙"]


def _all_double_byte_characters() -> dict[str, list[bytes]]:
    """Every character CP932 encodes in two bytes, with all its byte sequences in
    code order (the WHATWG index order)."""
    found: dict[str, list[bytes]] = {}
    for lead in (*range(0x81, 0xA0), *range(0xE0, 0xFD)):
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFD)):
            raw = bytes((lead, trail))
            try:
                found.setdefault(raw.decode("cp932"), []).append(raw)
            except UnicodeDecodeError:
                continue
    return found


@pytest.mark.parametrize("dup", ["ibm", "nec"])
def test_duplicate_policy_on_every_cp932_character(dup: str, tmp_path: Path) -> None:
    """Oracle: "ibm" writes what the WHATWG encoder writes (the first byte sequence
    outside the NEC-selected rows ED/EE, as Windows and Java's MS932 do); "nec" writes
    what CPython's cp932 codec writes."""
    chars = _all_double_byte_characters()
    layout = loads_layout(TINY.format(enc="cp932", dup=dup, chars="any")
                          .replace("length = 6", "length = 2").replace("= 10", "= 6"))
    names = sorted(chars)
    out = tmp_path / "all.dat"
    chukan.write(pl.DataFrame({"code": ["0001"] * len(names), "name": names}), out, layout)
    data = out.read_bytes()
    got = [data[i * 7 + 4:i * 7 + 6] for i in range(len(names))]
    if dup == "ibm":
        expected = [next(r for r in chars[c] if r[0] not in (0xED, 0xEE)) for c in names]
    else:
        expected = [c.encode("cp932") for c in names]
    assert got == expected
    assert sum(len(v) > 1 for v in chars.values()) > 350  # the duplicates are in there
    assert chukan.read(out, layout)["name"].to_list() == names


def test_character_the_encoding_cannot_represent(tmp_path: Path) -> None:
    report = Report()
    chukan.write(pl.DataFrame({"code": ["0001"], "name": ["𠮷"]}), tmp_path / "o", tiny(),
                 report=report)
    assert [(p.code, p.field) for p in report] == [("not-representable", "name")]


def test_typed_values_are_formatted_back(tmp_path: Path) -> None:
    df = chukan.read(FIXTURES / "mainframe" / "nouzei.dat", NOUZEI)
    df = df.with_columns(pl.Series("kanpu_gaku", [Decimal("-0.01"), Decimal("1.00"),
                                                  Decimal("0.00")], dtype=pl.Decimal(7, 2)))
    out = tmp_path / "n.dat"
    chukan.write(df, out, NOUZEI)
    assert chukan.read(out, NOUZEI)["kanpu_gaku"].to_list() == [Decimal("-0.01"),
                                                                Decimal("1.00"),
                                                                Decimal("0.00")]
    assert out.read_bytes()[55:62] == b"000000J"  # -0.01 overpunched


def test_dates_are_written_in_the_new_era_on_a_shared_day(tmp_path: Path) -> None:
    df = chukan.read(FIXTURES / "vendor-a" / "juki-kojin.dat", KOJIN).head(1)
    df = df.with_columns(pl.lit(dt.date(1926, 12, 25)).alias("seinengappi"))
    out = tmp_path / "o"
    chukan.write(df, out, KOJIN)
    assert out.read_bytes()[81:88] == b"3011225"  # 昭和元年, not 大正15年


def test_missing_column_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="name"):
        chukan.write(pl.DataFrame({"code": ["0001"]}), tmp_path / "o", tiny())


def test_csv_written_in_cp932_with_quotes(tmp_path: Path) -> None:
    df = chukan.read(FIXTURES / "vendor-a" / "juki-kojin.csv", KOJIN_CSV)
    out = tmp_path / "o.csv"
    chukan.write(df, out, KOJIN_CSV)
    text = out.read_bytes().decode("cp932")
    assert text.startswith("宛名番号,氏名,氏名カナ")
    assert '"""愛称"" あり"' in text


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6])
def test_slices_formatted_in_turn_into_two_buffers_give_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.setattr(sys.modules["chukan.write"], "_SLICE", size)
    original = (FIXTURES / "vendor-a" / "juki-kojin.dat").read_bytes()
    df = chukan.read(FIXTURES / "vendor-a" / "juki-kojin.dat", KOJIN)
    assert chukan.write(df, tmp_path / "o", KOJIN) == 5
    assert (tmp_path / "o").read_bytes() == original
    # a converter's batch, in a slice or in several
    found: list[object] = []
    assert bytes(sys.modules["chukan.write"].format_batch(df, chukan.load_layout(KOJIN),
                                                          found)) == original


def test_progress_is_reported_per_slice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules["chukan.write"], "_SLICE", 2)
    seen: list[int] = []
    df = chukan.read(FIXTURES / "vendor-a" / "juki-kojin.dat", KOJIN)
    chukan.write(df, tmp_path / "o", KOJIN, progress=seen.append)
    assert seen == [2, 2, 1]
    assert (tmp_path / "o").read_bytes() == (FIXTURES / "vendor-a" / "juki-kojin.dat").read_bytes()


def test_a_cp932_csv_header_follows_the_duplicate_policy_whatever_the_values(
        tmp_path: Path) -> None:
    """From review: the header was encoded without the IBM rows when no value needed them."""
    layout = loads_layout("""
[layout]
name = "t/label"
format = "csv"
encoding = "cp932"
header = true
header_text = "label"
cp932_duplicates = "ibm"
[[field]]
name = "name"
label = "氏名（髙）"
length = 10
type = "text"
""")
    for value in ("高橋", "髙橋"):
        out = tmp_path / "h.csv"
        chukan.write(pl.DataFrame({"name": [value]}), out, layout)
        header = out.read_bytes().split(b"\r\n")[0]
        assert b"\xfb\xfc" in header and b"\xee\xe0" not in header, (value, header)
