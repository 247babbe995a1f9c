"""Validation: every kind of defect injected into otherwise clean files is reported
exactly once, at the right record, field and byte; clean files give no errors; the
reports render."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

import chukan
from chukan.cli import main
from chukan.layout import load_file_set
from chukan.report import REPORT_SCHEMA, to_dict, to_html, to_json, to_text
from chukan.testing import frames
from chukan.validate import repertoire_chars, shape, shapes, validate, validate_set
from helpers import FIXTURES, KOJIN, KOJIN_CSV, NOUZEI, kojin_records, put

STRIDE = 202
N = 40


def clean_file() -> list[bytearray]:
    """N records built from the golden ones, each with its own 宛名番号."""
    base = kojin_records()
    recs = []
    for i in range(N):
        rec = bytearray(base[i % len(base)])
        put(rec, 1, f"{i + 1:010d}".encode())
        recs.append(rec)
    return recs


def only_errors(report: chukan.Report) -> list[chukan.Problem]:
    return [p for p in report.problems if p.severity == "error"]


def test_clean_file_has_no_errors_and_its_gaiji_are_warnings() -> None:
    report = validate([b"".join(clean_file())], KOJIN)
    assert report.ok
    assert report.records_read == N
    gaiji = [p for p in report.problems if p.code == "gaiji"]
    # record 5 of the golden file holds 外字 U+E000 in 氏名: every fifth record here
    assert [p.record for p in gaiji] == list(range(5, N + 1, 5))
    assert all(p.severity == "warning" and p.field == "shimei_kanji" for p in gaiji)
    entry = report.gaiji["\ue000"]
    assert (entry.code_point, entry.raw, entry.count) == ("U+E000", "f0 40", N // 5)
    assert entry.first[0][1:] == (5, 4 * STRIDE + 50 + 6, "shimei_kanji")


@given(frames(chukan.load_layout(KOJIN), max_rows=12))
def test_no_false_positives_on_generated_files(df: pl.DataFrame) -> None:
    """Whatever the writer produces from valid values validates clean (the layout's
    unique key aside, which random values may repeat)."""
    df = df.with_columns(pl.Series("atena_no", [f"{i:010d}" for i in range(df.height)]))
    layout = chukan.load_layout(KOJIN)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g.dat"
        chukan.write(df, path, layout)
        report = validate(path, layout)
    assert report.ok, [str(p) for p in report.problems]
    with_gaiji = {i + 1 for i, row in enumerate(df.iter_rows(named=True))
                  if any("\ue000" <= ch <= "\uf8ff" for v in row.values()
                         if isinstance(v, str) for ch in v)}
    assert {p.record for p in report.problems} == with_gaiji


ZEN = "\u3000".encode("cp932")

#: defect name → (1-based start, bytes to put there, code, field, offset in record)
DEFECTS = {
    "not-digits": (3, b"X", "not-digits", "atena_no", 2),
    "required-missing": (1, b" " * 10, "required-missing", "atena_no", 0),
    "halfwidth-in-fullwidth": (51, "山".encode("cp932") + b"A ", "halfwidth-in-fullwidth",
                               "shimei_kanji", 52),
    "fullwidth-in-halfwidth": (25, "山".encode("cp932"), "fullwidth-in-halfwidth",
                               "shimei_kana", 24),
    "unknown-code": (89, b"77", "unknown-code", "zokugara", 88),
    "impossible-date": (82, b"3500230", "impossible-date", "seinengappi", 81),
    "era-range": (82, b"4310501", "era-range", "seinengappi", 81),
    "unknown-era": (82, b"8500401", "unknown-era", "seinengappi", 81),
    "bad-date": (178, b"2020-4-1", "bad-date", "ido_ymd", 177),
    "invalid-bytes": (155, b"\xff", "invalid-bytes", "banchi", 154),
    "control-char": (155, b"\t", "control-char", "banchi", 154),
    "nul-byte": (156, b"\x00", "nul-byte", "banchi", 155),
    "dbcs-split": (79, b" \x88", "dbcs-split", "shimei_kanji", 79),
    "filler-mismatch": (190, b"Z", "filler-mismatch", None, 188),
    "gaiji": (51, "山".encode("cp932") + b"\xf0\x41", "gaiji", "shimei_kanji", 52),
}


@pytest.mark.parametrize("name", sorted(DEFECTS))
@pytest.mark.parametrize("where", [1, 17, N])
def test_each_defect_is_reported_once_at_its_place(name: str, where: int) -> None:
    start, raw, code, field, at = DEFECTS[name]
    recs = clean_file()
    if name == "dbcs-split":  # the field's last byte is a lead byte
        put(recs[where - 1], 51, ZEN * 14)
    if name == "gaiji" and where % 5 == 0:
        where -= 1  # records 5, 10, … already hold a 外字
    put(recs[where - 1], start, raw)
    report = validate([b"".join(recs)], KOJIN, repertoire=None)
    found = [p for p in report.problems if p.record == where
             and (p.code != "gaiji" or name == "gaiji")]  # every fifth record has a 外字
    assert len(found) == 1, [str(p) for p in found]
    p = found[0]
    assert (p.code, p.field) == (code, field or p.field)
    assert p.offset == (where - 1) * STRIDE + at
    assert p.raw
    others = [q for q in only_errors(report) if q.record != where]
    assert not others


@pytest.mark.parametrize(("mutate", "code", "record"), [
    (lambda data: data[:-30], "truncated-record", N),
    (lambda data: data[:STRIDE * 9] + data[STRIDE * 9:STRIDE * 10 - 2] + b"\n"
     + data[STRIDE * 10:], "terminator-mixed", 10),
    (lambda data: data[:STRIDE * 3 + 100] + data[STRIDE * 3 + 101:], "record-length", 4),
    (lambda data: b"\xef\xbb\xbf" + data, "bom-unexpected", 1),
    (lambda data: data[:-2], "terminator-missing", N),
])
def test_structural_defects(mutate, code: str, record: int) -> None:
    report = validate([mutate(b"".join(clean_file()))], KOJIN)
    errors = only_errors(report)
    assert [(p.code, p.record) for p in errors] == [(code, record)]


def test_duplicate_key_names_the_first_record() -> None:
    recs = clean_file()
    put(recs[29], 1, b"0000000007")
    errors = only_errors(validate([b"".join(recs)], KOJIN))
    assert [(p.code, p.record, p.offset) for p in errors] == [("duplicate-key", 30,
                                                               29 * STRIDE)]
    assert "記録7" in errors[0].message


def test_packed_sign_and_zoned_defects_in_a_mainframe_file() -> None:
    data = bytearray((FIXTURES / "mainframe" / "nouzei.dat").read_bytes() * 4)
    data[80 * 5 + 49] = 0x0A  # 課税額 of record 6: sign nibble A
    data[80 * 9 + 61] = ord("X")  # 還付額 of record 10: not an overpunch
    errors = only_errors(validate([bytes(data)], NOUZEI))
    assert [(p.code, p.record, p.field) for p in errors] == [
        ("bad-sign-nibble", 6, "kazei_gaku"), ("not-decimal", 10, "kanpu_gaku")]


def test_characters_outside_the_repertoire() -> None:
    report = validate([b"".join(clean_file())], KOJIN, repertoire="jisx0208")
    outside = [p for p in report.problems if p.code == "outside-repertoire"]
    # 髙 (IBM extension) sits in 氏名 of golden records 4 and 5
    assert {p.record % 5 for p in outside} == {4, 0}
    assert all(p.raw == "fb fc" for p in outside)
    assert report.outside["髙"].count == len(outside)
    assert "髙" not in report.gaiji  # a known character outside JIS X 0208 is no 外字
    assert validate([b"".join(clean_file())], KOJIN, repertoire="cp932").ok


def test_max_errors_caps_details_never_counts() -> None:
    recs = clean_file()
    for r in recs:
        put(r, 3, b"X")
    report = validate([b"".join(recs)], KOJIN, max_errors=5)
    assert len(report.problems) == 5
    assert report.total >= N
    assert report.counts_by_code()["not-digits"] == N
    assert report.records_with_errors == N


def test_mask_removes_personal_values() -> None:
    recs = clean_file()
    put(recs[2], 155, b"\xff")
    put(recs[3], 51, "山".encode("cp932") + b"A ")
    report = validate([b"".join(recs)], KOJIN, mask=True)
    text = to_json(report) + to_text(report) + to_html(report)
    for personal in ("山田", "東京都", "ﾔﾏﾀﾞ", "8e 52"):
        assert personal not in text
    assert "[全角" in text
    assert shape("ﾀｶﾊｼ 1") == "[半角カナ4 記号1 数字1]"


def test_json_report_schema() -> None:
    recs = clean_file()
    put(recs[0], 3, b"X")
    data = json.loads(to_json(validate([b"".join(recs)], KOJIN), layout=KOJIN))
    assert data["schema"] == REPORT_SCHEMA
    assert set(data) == {"schema", "chukan", "layout", "files", "summary", "problems",
                         "gaiji", "outside_repertoire"}
    assert data["summary"]["by_code"]["not-digits"] == 1
    problem = data["problems"][0]
    assert set(problem) == {"code", "severity", "message", "file", "record", "offset",
                            "field", "label", "raw", "value"}
    assert data["gaiji"][0]["code_point"] == "U+E000"
    assert to_dict(validate([b"".join(clean_file())], KOJIN))["summary"]["ok"] is True


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_report_is_self_contained_and_complete() -> None:
    recs = clean_file()
    put(recs[0], 3, b"X")
    put(recs[1], 89, b"77")
    page = to_html(validate([b"".join(recs)], KOJIN), layout=KOJIN)
    parser = _Collect()
    parser.feed(page)
    text = "".join(parser.text)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "script" not in parser.tags and "link" not in parser.tags
    assert not [v for k, v in parser.attrs if k in ("src", "href")]
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)
    # summary first, then two bar charts (by field, by code), 外字, problems
    assert text.index("概要") < text.index("項目別の件数") < text.index("種類別の件数") \
        < text.index("外字一覧") < text.index("問題の一覧")
    assert parser.tags.count("svg") == 2
    assert parser.tags.count("rect") == 3 + 3  # 3 fields with problems, 3 codes
    assert "宛名番号 (atena_no)" in text and "not-digits" in text
    assert page.count("<tr>") >= 1 + 6  # summary rows and the problem rows


def test_cli_validate_exit_codes_and_formats(tmp_path: Path) -> None:
    clean = tmp_path / "clean.dat"
    clean.write_bytes(b"".join(clean_file()))
    bad = tmp_path / "bad.dat"
    recs = clean_file()
    put(recs[5], 3, b"X")
    bad.write_bytes(b"".join(recs))
    runner = CliRunner()
    assert runner.invoke(main, ["validate", str(clean), "-l", KOJIN]).exit_code == 0
    result = runner.invoke(main, ["validate", str(clean), str(bad), "-l", KOJIN, "--format",
                                  "json", "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 1
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["files"] == [str(clean), str(bad)]
    errors = [p for p in data["problems"] if p["severity"] == "error"]
    assert [(p["file"], p["record"], p["code"]) for p in errors] == [(str(bad), 6,
                                                                      "not-digits")]
    assert runner.invoke(main, ["validate", str(clean), "-l", "no/such"]).exit_code == 2
    result = runner.invoke(main, ["validate", str(bad), "-l", KOJIN, "--format", "html",
                                  "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_progress_is_reported_per_batch() -> None:
    seen: list[int] = []
    validate([b"".join(clean_file())], KOJIN, batch_size=7, progress=seen.append)
    assert sum(seen) == N
    assert max(seen) <= 7


@given(st.integers(1, N), st.sampled_from(sorted(DEFECTS)))
def test_any_defect_anywhere(where: int, name: str) -> None:
    test_each_defect_is_reported_once_at_its_place(name, where)


# --------------------------------------------------------------------------------------
# File sets: checks across files

SET = "examples/vendor-a/juki-set"


def household_files(tmp_path: Path, kojin: list[bytearray] | None = None,
                    setai: bytes | None = None) -> dict[str, Path]:
    k, s = tmp_path / "kojin.dat", tmp_path / "setai.dat"
    k.write_bytes(b"".join(kojin if kojin is not None else kojin_records()))
    s.write_bytes(setai if setai is not None else
                  (FIXTURES / "vendor-a" / "juki-setai.dat").read_bytes())
    return {"kojin": k, "setai": s}


def set_errors(files: dict[str, Path]) -> list[tuple[str, str, int, str | None]]:
    report = validate_set(SET, files)
    return [(p.code, Path(p.file or "").stem, p.record or 0, p.field)
            for p in report.problems if p.severity == "error"]


def test_a_consistent_set_is_valid(tmp_path: Path) -> None:
    assert set_errors(household_files(tmp_path)) == []


def test_person_in_a_household_that_does_not_exist(tmp_path: Path) -> None:
    recs = kojin_records()
    put(recs[4], 11, b"0000000300")
    put(recs[4], 89, b"01")  # the head of the new household …
    put(recs[4], 187, b"01")  # … first in it
    assert set_errors(household_files(tmp_path, recs)) == [
        ("missing-reference", "kojin", 5, "setai_no")]


def test_household_with_two_heads_and_one_with_none(tmp_path: Path) -> None:
    recs = kojin_records()
    put(recs[1], 89, b"01")  # a second 世帯主 in household 100
    put(recs[3], 89, b"02")  # household 200 loses its 世帯主
    # each once: the extra head, and the first person of the household without one
    assert set_errors(household_files(tmp_path, recs)) == [
        ("group-count", "kojin", 2, "zokugara"), ("group-count", "kojin", 4, "zokugara")]


def test_household_without_any_person(tmp_path: Path) -> None:
    setai = (FIXTURES / "vendor-a" / "juki-setai.dat").read_bytes()
    extra = bytearray(setai[:102])
    put(extra, 1, b"0000000300")
    found = set_errors(household_files(tmp_path, setai=setai + bytes(extra)))
    assert found == [("group-count", "setai", 3, "setai_no")]


def test_kisai_juni_must_run_from_one(tmp_path: Path) -> None:
    recs = kojin_records()
    put(recs[2], 187, b"04")  # 1, 2, 4 in household 100
    assert set_errors(household_files(tmp_path, recs)) == [("sequence", "kojin", 3,
                                                            "kisai_juni")]


def test_each_set_checks_problem_says_its_words_value_and_bytes(tmp_path: Path) -> None:
    recs = kojin_records()
    put(recs[1], 89, b"01")  # a second 世帯主 in household 100
    put(recs[2], 187, b"04")  # 1, 2, 4 in household 100
    put(recs[4], 11, b"0000000300")  # a household that does not exist
    setai = (FIXTURES / "vendor-a" / "juki-setai.dat").read_bytes()
    extra = put(bytearray(setai[:102]), 1, b"0000000400")  # a household without anyone
    report = validate_set(SET, household_files(tmp_path, recs, setai + bytes(extra)))
    found = [(Path(p.file or "").stem, p.code, p.record, p.offset, p.value, p.raw,
              p.message.split(": ", 1)[1].replace(f"{tmp_path}{os.sep}", ""))
             for p in report.problems if p.severity == "error"]
    assert found == [
        ("kojin", "group-count", 2, 202 + 88, "01", "30 31",
         "同じ世帯番号に2件あります(1件のはず)"),
        ("kojin", "sequence", 3, 404 + 186, "04", "30 34",
         "グループ内の3番目の値が順番どおりではありません"),
        ("kojin", "missing-reference", 5, 808 + 10, "0000000300", "30 " * 7 + "33 30 30",
         "世帯番号にない値です"),
        ("setai", "group-count", 3, 204, "0000000400", "30 " * 7 + "34 30 30",
         "kojin.datに1件もありません")]


def test_set_needs_every_file(tmp_path: Path) -> None:
    files = household_files(tmp_path)
    with pytest.raises(chukan.UsageError, match="missing setai"):
        validate_set(SET, {"kojin": files["kojin"]})


def test_file_set_problems_are_all_reported_at_load(tmp_path: Path) -> None:
    bad = tmp_path / "s.toml"
    bad.write_text('[file_set]\nname = "x"\n[[file]]\nname = "k"\nlayout = "'
                   f'{KOJIN}"\n[[check]]\ntype = "refrence"\nfield = "k.setai"\n',
                   encoding="utf-8")
    with pytest.raises(chukan.LayoutError) as info:
        load_file_set(bad)
    text = str(info.value)
    assert "did you mean 'reference'" in text and "did you mean 'setai_no'" in text


def test_cli_validate_with_a_set(tmp_path: Path) -> None:
    files = household_files(tmp_path)
    args = ["validate", "--set", SET, *(f"{k}={v}" for k, v in files.items())]
    assert CliRunner().invoke(main, args).exit_code == 0
    recs = kojin_records()
    put(recs[2], 187, b"09")
    files = household_files(tmp_path, recs)
    result = CliRunner().invoke(main, ["validate", "--set", SET,
                                       *(f"{k}={v}" for k, v in files.items())])
    assert result.exit_code == 1
    assert "sequence" in result.stdout
    assert CliRunner().invoke(main, ["validate", "--set", SET, "kojin"]).exit_code == 2


# --------------------------------------------------------------------------------------
# From review


def test_mask_keeps_values_out_of_set_messages(tmp_path: Path) -> None:
    recs = kojin_records()
    put(recs[4], 11, b"0000000999")
    put(recs[2], 187, b"07")
    files = household_files(tmp_path, recs)
    report = validate_set(SET, files, mask=True)
    text = to_json(report) + to_text(report) + to_html(report)
    assert "0000000999" not in text and "07" not in [p.value for p in report.problems]
    assert {p.code for p in report.problems} >= {"missing-reference", "sequence"}


def test_rejected_values_do_not_cascade_into_set_checks(tmp_path: Path) -> None:
    recs = kojin_records()
    put(recs[2], 187, b"0X")  # a bad 記載順位: not-digits only
    put(recs[0], 11, b"00000001X0")  # a bad 世帯番号: not-digits only
    found = set_errors(household_files(tmp_path, recs))
    assert sorted(found) == [("not-digits", "kojin", 1, "setai_no"),
                             ("not-digits", "kojin", 3, "kisai_juni")]


def test_dangling_reference_is_reported_once(tmp_path: Path) -> None:
    recs = kojin_records()
    put(recs[4], 11, b"0000000999")
    assert set_errors(household_files(tmp_path, recs)) == [
        ("missing-reference", "kojin", 5, "setai_no")]


def test_an_empty_member_file(tmp_path: Path) -> None:
    files = household_files(tmp_path, setai=b"")
    found = set_errors(files)
    assert ("empty-file", "setai", 0, None) in found
    assert ("missing-reference", "kojin", 1, "setai_no") in found


def test_file_set_loader_rejects_mismatched_groups_and_duplicates(tmp_path: Path) -> None:
    bad = tmp_path / "s.toml"
    bad.write_text(f'''[file_set]
name = "x"
[[file]]
name = "k"
layout = "{KOJIN}"
[[file]]
name = "k"
layout = "{KOJIN}"
[[file]]
name = "s"
layout = "examples/vendor-a/juki-setai"
[[check]]
type = "sequence"
group = "s.setai_no"
field = "k.kisai_juni"
''', encoding="utf-8")
    with pytest.raises(chukan.LayoutError) as info:
        load_file_set(bad)
    text = str(info.value)
    assert "a second file named 'k'" in text
    assert "group: must be a field of 'k'" in text


def test_open_files_and_several_byte_sources() -> None:
    data = b"".join(clean_file())
    with (FIXTURES / "vendor-a" / "juki-kojin.dat").open("rb") as fh:
        report = validate(fh, KOJIN)
    assert report.files == [str(FIXTURES / "vendor-a" / "juki-kojin.dat")]
    assert [p.record for p in report.problems] == [5]
    recs = clean_file()
    put(recs[0], 3, b"X")
    report = validate([b"".join(recs), b"".join(recs)], KOJIN)
    assert report.records_with_errors == 2
    assert validate([data], KOJIN).files == ["<bytes #1>"]


def test_records_of_the_wrong_length_count_as_read() -> None:
    recs = [r[:150] + b"\r\n" for r in kojin_records()]
    report = validate([b"".join(recs)], KOJIN)
    assert (report.records_read, report.records_with_errors) == (5, 5)
    empty = validate([b""], KOJIN)
    assert (empty.records_read, empty.records_with_errors, empty.ok) == (0, 0, False)


def test_cp932_repertoire_holds_jisx0208_and_csv_line_breaks_are_data() -> None:
    assert repertoire_chars("jisx0208") <= repertoire_chars("cp932")
    report = validate(FIXTURES / "vendor-a" / "juki-kojin.csv", "examples/vendor-a/juki-kojin-csv",
                      repertoire="jisx0208")
    assert {g.char for g in report.outside.values()} == {"髙"}


def test_duplicate_key_points_at_its_field() -> None:
    recs = clean_file()
    put(recs[9], 1, b"0000000002")
    p = only_errors(validate([b"".join(recs)], KOJIN))[0]
    assert (p.code, p.offset, p.raw) == ("duplicate-key", 9 * STRIDE, "30" + " 30" * 8 + " 32")


def test_missing_trailer_is_reported() -> None:
    data = (FIXTURES / "zengin" / "kouza-furikae.dat").read_bytes()
    without = data[:4 * 122] + data[5 * 122:]
    errors = only_errors(validate([without], "zengin/kouza-furikae"))
    assert [(p.code, p.field) for p in errors] == [("trailer-count", "gokei_kensu")]


def test_gaiji_locations_are_in_file_order() -> None:
    recs = clean_file()[:5]
    for r in recs:
        put(r, 91, b"\xf0\x40")  # 住所 starts with the same 外字 in every record
    entry = validate([b"".join(recs)], KOJIN).gaiji["\ue000"]
    assert [loc[1:3] for loc in entry.first] == [(1, 90), (2, STRIDE + 90), (3, 2 * STRIDE + 90),
                                                 (4, 3 * STRIDE + 90), (5, 4 * STRIDE + 56)]


def test_a_files_gaiji_are_read_back_through_one_handle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = clean_file() * 400
    for r in recs:
        put(r, 91, b"\xf0\x40")  # a 外字 in every record's 住所
    path = tmp_path / "g.dat"
    path.write_bytes(b"".join(recs))
    opened = []
    real_open = Path.open

    def counted(self: Path, *args: object, **kwargs: object) -> object:
        opened.append(self)
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", counted)
    report = validate([path], KOJIN)
    assert report.gaiji["\ue000"].count >= len(recs)  # (and the file's own)
    assert report.gaiji["\ue000"].raw == "f0 40"
    assert [p.raw for p in report if p.code == "gaiji"][:2] == ["f0 40"] * 2
    assert opened.count(path) <= 2  # the reader's, and the one reading back 外字 bytes


def test_a_csv_files_gaiji_are_encoded_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    head, body = (FIXTURES / "vendor-a" / "juki-kojin.csv").read_bytes().split(b"\n", 1)
    row = body.split(b"\n", 1)[0]
    cells = row.split(b",")
    cells[1] = b"\xf0\x40" + cells[1]  # a 外字 before the 氏名
    module = sys.modules["chukan.validate"]
    encoded = []
    real = module.encode_text
    monkeypatch.setattr(module, "encode_text", lambda *a: encoded.append(a) or real(*a))
    report = validate([head + b"\n" + (b",".join(cells) + b"\n") * 2000], KOJIN_CSV)
    assert report.gaiji["\ue000"].count == 2000
    assert [p.raw for p in report if p.code == "gaiji"][:2] == ["f0 40"] * 2
    assert len(encoded) <= 1


def test_layout_repertoire_wins_over_the_default(tmp_path: Path) -> None:
    toml = (Path("layouts") / "examples" / "vendor-a" / "juki-kojin.toml").read_text(
        encoding="utf-8").replace('unique = ["atena_no"]', 'unique = ["atena_no"]\n'
                                  'repertoire = "cp932"')
    (tmp_path / "k.toml").write_text(toml.replace("examples/vendor-a/", "examples/vendor-a/"),
                                     encoding="utf-8")
    layout = chukan.loads_layout(toml, base=Path("layouts") / "examples" / "vendor-a" / "x")
    report = validate([b"".join(clean_file())], layout, repertoire="jisx0208")
    assert report.ok


def test_cli_report_to_a_missing_folder_exits_2(tmp_path: Path) -> None:
    clean = tmp_path / "clean.dat"
    clean.write_bytes(b"".join(clean_file()))
    result = CliRunner().invoke(main, ["validate", str(clean), "-l", KOJIN, "-o",
                                       str(tmp_path / "no" / "r.html")])
    assert result.exit_code == 2


def test_raw_bytes_are_those_in_the_file() -> None:
    recs = clean_file()[:3]
    put(recs[0], 51, b"\xed\x40")  # 纊 in its NEC-selected spelling
    put(recs[1], 51, b"\xfa\x5c")  # the same character in its IBM spelling
    report = validate([b"".join(recs)], KOJIN, repertoire="jisx0208")
    outside = [p for p in report.problems if p.code == "outside-repertoire"]
    assert [(p.record, p.raw) for p in outside] == [(1, "ed 40"), (2, "fa 5c")]
    entry = report.outside["纊"]
    assert dict(entry.forms) == {"ed 40": 1, "fa 5c": 1}


def test_html_labels_come_from_the_layout_even_without_details() -> None:
    recs = clean_file()
    put(recs[0], 3, b"X")
    page = to_html(validate([b"".join(recs)], KOJIN, max_errors=0), layout=KOJIN)
    assert "宛名番号 (atena_no)" in page


def test_capped_and_uncapped_reports_count_alike() -> None:
    recs = clean_file()
    for r in recs:
        put(r, 3, b"X")
        put(r, 89, b"77")
    data = b"".join(recs)
    capped = validate([data, data], KOJIN, max_errors=3)
    full = validate([data, data], KOJIN)
    assert len(capped.problems) == 3
    assert (capped.total, capped.counts_by_code(), capped.counts_by_field(),
            capped.records_with_errors, capped.ok) == \
        (full.total, full.counts_by_code(), full.counts_by_field(),
         full.records_with_errors, full.ok)
    assert full.records_with_errors == 2 * N


def test_gaiji_and_characters_outside_the_repertoire_are_kept_apart() -> None:
    """Issue 8, item 16: 髙 against JIS X 0208 is not a 外字; every summary, count and
    section says which is which, and the HTML report has Japanese axes and severities."""
    report = validate(FIXTURES / "vendor-a" / "juki-kojin.dat", KOJIN, repertoire="jisx0208")
    assert [g.char for g in report.gaiji.values()] == ["\ue000"]
    assert [g.char for g in report.outside.values()] == ["髙"]
    summary = report.summary()
    assert "外字 (characters to identify): 1" in summary
    assert "文字集合外の文字 (outside the repertoire, not 外字): 1" in summary
    text = to_text(report)
    gaiji_part, outside_part = text.split("文字集合外の文字 / outside")[0:2]
    gaiji_part = gaiji_part.split("外字 inventory")[1]
    assert "U+E000" in gaiji_part and "U+9AD9" not in gaiji_part
    assert "U+9AD9" in outside_part
    data = to_dict(report)
    assert [g["code_point"] for g in data["gaiji"]] == ["U+E000"]  # type: ignore[index,union-attr]
    assert [g["code_point"] for g in data["outside_repertoire"]] == ["U+9AD9"]  # type: ignore[index,union-attr]
    page = to_html(report, layout=KOJIN)
    assert "<h2>外字一覧(1字)</h2>" in page and "<h2>文字集合外の文字(1字)</h2>" in page
    gaiji_table = page.split("<h2>外字一覧")[1].split("<h2>")[0]
    assert "U+9AD9" not in gaiji_table
    assert ">問題の種類</text>" in page and ">件数</text>" in page and ">項目</text>" in page
    assert "<th>重大度</th>" in page and ">警告</td>" in page and ">エラー</td>" in page


@pytest.mark.parametrize(("name", "layout"), [
    ("mainframe/juki-kojin-ibm930.dat", "examples/mainframe/juki-kojin-ibm930"),
    ("mainframe/juki-kojin-jef.dat", "examples/mainframe/juki-kojin-jef"),
    ("vendor-a/juki-kojin.dat", KOJIN)])
def test_many_gaiji_are_placed_by_column_not_one_by_one(
        monkeypatch: pytest.MonkeyPatch, name: str, layout: str) -> None:
    """Each value holding a 外字 was looked at in Python, each of its characters placed
    by encoding the value (30 µs a value): now by column, a distinct character each."""
    module = sys.modules["chukan.validate"]
    placed, encoded = [], []
    span, raw_of = module.char_span, module._raw_of
    monkeypatch.setattr(module, "char_span", lambda *a: placed.append(a) or span(*a))
    monkeypatch.setattr(module, "_raw_of", lambda *a: encoded.append(a) or raw_of(*a))
    data = (FIXTURES / name).read_bytes()
    one = validate([data], layout)
    many = validate([data * 2000], layout)
    assert many.counts_by_code()["gaiji"] == 2000 * one.counts_by_code()["gaiji"] > 0
    assert [(c, e.raw, e.count, e.first[:1]) for c, e in many.gaiji.items()] == \
        [(c, e.raw, 2000 * e.count, e.first[:1]) for c, e in one.gaiji.items()]
    assert not placed
    assert len(encoded) <= 10


def test_a_host_streams_gaiji_are_placed_as_in_its_file() -> None:
    """A stream cannot be read again: its 外字 are placed by encoding their values, as the
    writer would (for a well-formed field, where they are), and shown in the layout's
    bytes for them, shift codes and all."""
    path = FIXTURES / "mainframe" / "juki-kojin-ibm930.dat"
    layout = "examples/mainframe/juki-kojin-ibm930"
    from_file = validate([path], layout)
    with path.open("rb") as fh:
        from_stream = validate([fh], layout)
    gaiji = [(p.record, p.offset, p.raw) for p in from_file if p.code == "gaiji"]
    assert gaiji == [(3, 360, "69 41")]
    assert [(p.record, p.offset, p.raw) for p in from_stream if p.code == "gaiji"] == \
        [(3, 360, "0e 69 41 0f")]


def _shape_one_by_one(value: str) -> str:
    """The oracle: each character's class, counted in the order first met."""
    runs: dict[str, int] = {}
    for ch in value:
        if "0" <= ch <= "9":
            kind = "数字"
        elif ch.isascii() and ch.isalpha():
            kind = "英字"
        elif ch.isascii():
            kind = "記号"
        elif "\uff61" <= ch <= "\uff9f":
            kind = "半角カナ"
        elif "\ue000" <= ch <= "\uf8ff" or "\U000f0000" <= ch <= "\U000ffffd":
            kind = "外字"
        elif unicodedata.east_asian_width(ch) in "WF":
            kind = "全角"
        else:
            kind = "その他"
        runs[kind] = runs.get(kind, 0) + 1
    return "[" + " ".join(f"{k}{n}" for k, n in runs.items()) + "]"


_EDGES = "09AZaz!~\x00\x7f\u00e9\uff61\uff9f\uff60\uffa0\ue000\uf8ff\uf900\U000f0000" \
    "\U000ffffd\U000ffffe\ud7fb\u3000山髙①ｱ\U00020b9f\U0010ffff"


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.none() | st.text(
    alphabet=st.sampled_from(_EDGES) | st.characters(exclude_categories=("Cs",)),
    max_size=8), max_size=10))
@example(values=["\ue000\ud7fc", "", None, "A-1号", "山" * 20])
def test_shapes_in_the_core_are_shapes_one_by_one(values: list[str | None]) -> None:
    """A masked reject file's values, in the core: each as its shape one by one."""
    got = shapes(pl.Series(values, dtype=pl.String)).to_list()
    assert got == [None if v is None else _shape_one_by_one(v) for v in values]
    assert [shape(v) for v in values] == [v or "" for v in got]
