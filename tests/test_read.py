"""Reading fixed-width files: golden values, and every kind of bad input reported once,
at the right record, byte offset and field, with its raw bytes; strict mode raises."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

import chukan
from chukan import DataError, Report
from helpers import FIXTURES, KOJIN, NOUZEI, ZENGIN, kojin_bytes, kojin_records, put

STRIDE = 202


def lenient(data: bytes, layout: str = KOJIN) -> tuple[pl.DataFrame, Report]:
    report = Report()
    df = chukan.read(data, layout, report=report)
    return df, report


def only(report: Report) -> chukan.Problem:
    assert len(report.problems) == 1, [str(p) for p in report.problems]
    return report.problems[0]


def test_golden_person_file() -> None:
    df = chukan.read(FIXTURES / "vendor-a" / "juki-kojin.dat", KOJIN)
    assert df.height == 5
    first = df.row(0, named=True)
    assert first["atena_no"] == "0000000001"  # leading zeros are data
    assert first["shimei_kana"] == "ﾔﾏﾀﾞ ﾀﾛｳ"
    assert first["shimei_kanji"] == "山田　太郎"  # inner U+3000 kept, padding gone
    assert first["seinengappi"] == dt.date(1975, 4, 1)  # 昭和50年
    assert first["banchi"] == "１丁目１番１号"
    rows = df.to_dicts()
    assert rows[2]["seinengappi"] == dt.date(2019, 5, 1)  # 令和元年5月1日
    assert rows[2]["ido_ymd"] is None
    assert rows[2]["ido_ymd_partial"] == "2019-05-00"  # 不詳 day, kept
    assert rows[3]["seinengappi_partial"] == "1950-00-00"  # 昭和25年, month/day 不詳
    assert rows[3]["shimei_kanji"] == "髙橋　次郎"  # IBM-row 髙 (FB FC)
    assert rows[4]["shimei_kanji"] == "髙橋　\ue000子"  # 外字 kept as its code point
    assert rows[4]["banchi"] == "～３０１号"  # CP932 81 60 is U+FF5E, not U+301C
    assert rows[4]["ido_ymd"] is None
    assert rows[4]["ido_ymd_partial"] == ""  # all spaces


def test_golden_mainframe_file() -> None:
    df = chukan.read(FIXTURES / "mainframe" / "nouzei.dat", NOUZEI)
    assert df["kazei_gaku"].to_list() == [Decimal(1234567), Decimal(-500),
                                          Decimal(98765432101)]
    assert df["nofu_gaku"].to_list() == [Decimal(1234567), Decimal(0), Decimal(999999999)]
    assert df["kanpu_gaku"].to_list() == [Decimal("0.00"), Decimal("-123.45"),
                                          Decimal("99999.99")]
    assert df["nofu_kigen"].to_list() == [dt.date(2025, 5, 31), dt.date(2025, 6, 30),
                                          dt.date(2049, 12, 31)]
    assert df["kensu"].to_list() == [4, 12, 1]
    assert df.schema["kazei_gaku"] == pl.Decimal(11, 0)


def test_golden_multi_record_file() -> None:
    frames = chukan.read_records(FIXTURES / "zengin" / "kouza-furikae.dat", ZENGIN)
    assert frames["data"]["hikiotoshi_kingaku"].to_list() == [1200, 35000, 800]
    assert frames["data"]["_record"].to_list() == [2, 3, 4]
    assert frames["trailer"]["gokei_kensu"].to_list() == [3]
    assert chukan.read(FIXTURES / "zengin" / "kouza-furikae.dat", ZENGIN,
                       record="header")["itakusha_mei"].to_list() == ["ﾁﾕｳｶﾝｼ ｾﾞｲﾑｶ"]


# --------------------------------------------------------------------------------------
# Bad input, one defect at a time


def test_strict_mode_raises_the_first_problem_with_its_code() -> None:
    with pytest.raises(DataError) as info:
        chukan.read(FIXTURES / "bad" / "not-digits.dat", KOJIN)
    assert info.value.code == "not-digits"
    assert info.value.problem.record == 2
    assert "宛名番号" in str(info.value)


def test_non_digit_in_digits_field() -> None:
    df, report = lenient((FIXTURES / "bad" / "not-digits.dat").read_bytes())
    p = only(report)
    assert (p.code, p.record, p.field, p.label) == ("not-digits", 2, "atena_no", "宛名番号")
    assert p.offset == STRIDE + 5  # the byte of the 'A' itself
    assert p.raw == "30 30 30 30 30 41 30 30 30 32"
    assert df["atena_no"].to_list() == ["0000000001", None, "0000000003"]
    assert report.records_read == 3


def test_truncated_last_record_with_terminator() -> None:
    data = kojin_bytes()[:-50]
    df, report = lenient(data)
    p = only(report)
    assert (p.code, p.record, p.offset) == ("truncated-record", 5, 4 * STRIDE)
    assert df.height == 4


def test_truncated_last_record_without_terminator() -> None:
    data = (FIXTURES / "mainframe" / "nouzei.dat").read_bytes()[:-10]
    df, report = lenient(data, NOUZEI)
    p = only(report)
    assert (p.code, p.record, p.offset) == ("truncated-record", 3, 160)
    assert df.height == 2


def test_missing_final_terminator_keeps_the_record() -> None:
    df, report = lenient(kojin_bytes()[:-2])
    p = only(report)
    assert (p.code, p.record) == ("terminator-missing", 5)
    assert df.height == 5


def test_mixed_terminator() -> None:
    recs = kojin_records()
    recs[2] = recs[2][:-2] + b"\n"
    df, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.record) == ("terminator-mixed", 3)
    assert df.height == 4  # the record is reported, the others are read unshifted
    assert df["atena_no"].to_list() == ["0000000001", "0000000002", "0000000004",
                                        "0000000005"]


def test_record_of_wrong_length_does_not_shift_the_rest() -> None:
    recs = kojin_records()
    recs[1] = recs[1][:100] + recs[1][101:]
    df, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.record, p.offset) == ("record-length", 2, STRIDE)
    assert df["atena_no"].to_list() == ["0000000001", "0000000003", "0000000004",
                                        "0000000005"]


def test_invalid_bytes_in_encoding() -> None:
    recs = kojin_records()
    put(recs[3], 151, b"\xff")  # 番地: 0xFF is not CP932
    df, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.record, p.field, p.offset) == ("invalid-bytes", 4, "banchi",
                                                     3 * STRIDE + 150)
    assert p.raw.startswith("ff")
    assert df["banchi"][3] is None


def test_double_byte_character_cut_by_field_boundary() -> None:
    recs = kojin_records()
    # 氏名 (51-80) ends with the lead byte of 山 (8E 52) whose trail byte is the 性別 byte
    put(recs[0], 51, "山田".encode("cp932") + "\u3000".encode("cp932") * 12 + b" \x8e")
    put(recs[0], 81, b"R")
    _, report = lenient(b"".join(recs))
    codes = {(p.code, p.field) for p in report}
    assert ("dbcs-split", "shimei_kanji") in codes
    p = next(p for p in report if p.code == "dbcs-split")
    assert (p.record, p.offset) == (1, 79)


def test_half_width_character_in_full_width_field() -> None:
    recs = kojin_records()
    put(recs[1], 51, "山田".encode("cp932") + b"A " + "\u3000".encode("cp932") * 12)
    _, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.record, p.field) == ("halfwidth-in-fullwidth", 2, "shimei_kanji")
    assert p.offset == STRIDE + 50 + 4  # the 'A'


def test_full_width_character_in_half_width_field() -> None:
    recs = kojin_records()
    put(recs[0], 21, "ﾔﾏﾀﾞ".encode("cp932") + "山".encode("cp932"))
    _, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.record, p.field, p.offset) == ("fullwidth-in-halfwidth", 1,
                                                     "shimei_kana", 24)


@pytest.mark.parametrize(("raw", "code"), [
    (b"4310501", "era-range"),  # 平成31年5月1日 does not exist
    (b"5010430", "era-range"),  # 令和元年4月30日 neither
    (b"3640108", "era-range"),  # 昭和64年1月8日: 平成 had begun
    (b"3500230", "impossible-date"),
    (b"3501301", "impossible-date"),
    (b"9500401", "unknown-era"),
    (b"35O0401", "bad-date"),
])
def test_bad_era_dates(raw: bytes, code: str) -> None:
    recs = kojin_records()
    put(recs[0], 82, raw)
    df, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.record, p.field, p.offset) == (code, 1, "seinengappi", 81)
    assert p.raw == raw.hex(" ")
    assert df["seinengappi"][0] is None
    assert df["seinengappi_partial"][0] is None


@pytest.mark.parametrize(("raw", "code"), [
    (b"20230230", "impossible-date"),
    (b"20231301", "impossible-date"),
    (b"2023-1-1", "bad-date"),
])
def test_bad_western_dates(raw: bytes, code: str) -> None:
    recs = kojin_records()
    put(recs[1], 178, raw)
    _, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.record, p.field, p.offset) == (code, 2, "ido_ymd", STRIDE + 177)


@pytest.mark.parametrize(("raw", "date", "partial"), [
    (b"1450730", dt.date(1912, 7, 30), None),  # 明治45年7月30日 = 大正元年7月30日
    (b"2010730", dt.date(1912, 7, 30), None),
    (b"2151225", dt.date(1926, 12, 25), None),  # 大正15年12月25日 = 昭和元年12月25日
    (b"3011225", dt.date(1926, 12, 25), None),
    (b"3640107", dt.date(1989, 1, 7), None),
    (b"4010108", dt.date(1989, 1, 8), None),
    (b"3640000", None, "昭和64-00-00"),  # ISO 1989 would be written back as 平成
    (b"4000000", None, "平成00-00-00"),  # era known, year 不詳
    (b"0000000", None, "0000-00-00"),
    (b"4310400", None, "2019-04-00"),  # April 2019 was all 平成: a writer picks it back
    (b"3640100", None, "昭和64-01-00"),  # January 1989 is 平成 to a writer: era form stays
    (b"1450100", None, "1912-01-00"),  # 明治45年1月: 明治 by its month
    (b"2010700", None, "1912-07-00"),  # 大正元年7月: 大正 by its month (began 7/30)
    (b"3501000", None, "1975-10-00"),
])
def test_era_boundaries_and_unknown_parts(raw: bytes, date: dt.date | None,
                                          partial: str | None) -> None:
    recs = kojin_records()
    put(recs[0], 82, raw)
    df, report = lenient(b"".join(recs))
    # a first day under the old era reads, but is written under the new one: said
    old_era = raw in (b"1450730", b"2151225")
    assert [(p.code, p.severity) for p in report] == \
        ([("noncanonical", "warning")] if old_era else []), [str(p) for p in report]
    assert df["seinengappi"][0] == date
    assert df["seinengappi_partial"][0] == partial


def test_bad_sign_nibble() -> None:
    df, report = lenient((FIXTURES / "bad" / "bad-sign-nibble.dat").read_bytes(), NOUZEI)
    p = only(report)
    assert (p.code, p.record, p.field, p.offset) == ("bad-sign-nibble", 2, "kazei_gaku", 124)
    assert p.raw == "00 00 00 00 50 0a"
    assert df["kazei_gaku"][1] is None


def test_bad_zoned_overpunch() -> None:
    data = bytearray((FIXTURES / "mainframe" / "nouzei.dat").read_bytes())
    data[80 + 61] = ord("X")  # last byte of 還付額 (56-62) is not an overpunch
    df, report = lenient(bytes(data), NOUZEI)
    p = only(report)
    assert (p.code, p.record, p.field) == ("not-decimal", 2, "kanpu_gaku")
    assert df["kanpu_gaku"][1] is None


def test_utf8_bom_where_none_is_expected() -> None:
    df, report = lenient(b"\xef\xbb\xbf" + kojin_bytes())
    p = only(report)
    assert (p.code, p.record, p.offset, p.raw) == ("bom-unexpected", 1, 0, "ef bb bf")
    assert df.height == 5  # the BOM is reported, then skipped


def test_nul_byte() -> None:
    recs = kojin_records()
    put(recs[2], 155, b"\x00")
    df, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.record, p.field, p.offset) == ("nul-byte", 3, "banchi", 2 * STRIDE + 154)
    assert df["banchi"][2] is None


def test_nul_byte_in_a_digits_field_is_a_nul_byte() -> None:
    recs = kojin_records()
    put(recs[2], 3, b"\x00")
    _, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.field, p.offset) == ("nul-byte", "atena_no", 2 * STRIDE + 2)


def test_empty_file() -> None:
    _, report = lenient(b"")
    assert only(report).code == "empty-file"
    with pytest.raises(DataError, match="empty-file"):
        chukan.read(b"", KOJIN)


def test_required_field_empty() -> None:
    recs = kojin_records()
    put(recs[4], 51, "\u3000".encode("cp932") * 15)
    _, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.record, p.field) == ("required-missing", 5, "shimei_kanji")


def test_code_outside_its_table() -> None:
    recs = kojin_records()
    put(recs[0], 89, b"77")
    df, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.field, p.value) == ("unknown-code", "zokugara", "77")
    assert df["zokugara"][0] == "77"  # kept, so nothing is lost


def test_filler_with_unexpected_bytes() -> None:
    recs = kojin_records()
    put(recs[0], 190, b"X")
    _, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.record, p.offset) == ("filler-mismatch", 1, 188)


def test_unknown_record_type_and_trailer_count() -> None:
    data = bytearray((FIXTURES / "zengin" / "kouza-furikae.dat").read_bytes())
    data[122 * 2] = ord("7")  # the second data record gets an unknown type
    report = Report()
    frames = chukan.read_records(bytes(data), ZENGIN, report=report)
    codes = sorted((p.code, p.record) for p in report)
    assert codes == [("trailer-count", 5), ("unknown-record-type", 3)]
    assert frames["data"].height == 2


def test_control_character_in_text() -> None:
    recs = kojin_records()
    put(recs[1], 152, b"\t")
    _, report = lenient(b"".join(recs))
    p = only(report)
    assert (p.code, p.field, p.offset) == ("control-char", "banchi", STRIDE + 151)


def test_every_problem_has_location_and_code() -> None:
    recs = kojin_records()
    put(recs[0], 1, b"12345X7890")
    put(recs[1], 82, b"4310501")
    put(recs[2], 151, b"\xff")
    _, report = lenient(b"".join(recs))
    assert len(report) == 3
    for p in report:
        assert p.record is not None and p.offset is not None
        assert p.field and p.label and p.raw and p.code in chukan.report.CODES
    frame = report.to_frame()
    assert frame["record"].to_list() == [1, 2, 3]


def test_read_selected_columns_only() -> None:
    df = chukan.read(FIXTURES / "vendor-a" / "juki-kojin.dat", KOJIN,
                     columns=["atena_no", "seinengappi_partial"])
    assert df.columns == ["atena_no", "seinengappi_partial"]


def test_the_table_of_rewritten_pairs_is_made_once_when_two_workers_ask_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the two decode workers of a first read ask for it together; a cache alone let
    # both make it (0.14 s of Python each, on every CLI run)
    import sys  # noqa: PLC0415 -- chukan.read the module, not the function
    import threading  # noqa: PLC0415

    read_module = sys.modules["chukan.read"]
    made = []
    real = read_module.prepare_for_encoding

    def counted(*args: object, **kwargs: object) -> object:
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(read_module, "prepare_for_encoding", counted)
    read_module._rewritten_pairs.cache_clear()
    start = threading.Barrier(2)
    tables = []

    def ask() -> None:
        start.wait()
        tables.append(read_module.rewritten_pairs("nec"))

    workers = [threading.Thread(target=ask) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    read_module._rewritten_pairs.cache_clear()  # (the next caller makes it unpatched)
    assert len(made) == 1
    assert tables[0] is tables[1]
