"""The vendor host pages (Fujitsu JEF, Hitachi KEIS, NEC JIPS(J)): JIS X 0208 against
CPython's euc_jp for every code, the shift sequences, a user's code-page table (every
problem at once, CSV rows, pickling), unmapped codes carried as plane-15 外字, and the
shipped JEF example read, validated, converted and written back byte for byte."""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import chukan
from chukan import _core
from chukan.spec import loads_code_page, loads_layout

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures/mainframe/juki-kojin-jef.dat"
LAYOUT = "examples/mainframe/juki-kojin-jef"
#: each page's offset from the JIS row-cell code to its double-byte code
OFFSETS = {"jef": 0x8080, "keis": 0x8080, "jips": 0}


@pytest.mark.parametrize("page", list(OFFSETS))
def test_every_jis_x_0208_code_reads_as_cpython_euc_jp_reads_it(page: str) -> None:
    """An independent oracle: EUC-JP's two-byte codes are the row-cell codes + 0x8080."""
    mapped = 0
    for row in range(0x21, 0x7F):
        for cell in range(0x21, 0x7F):
            euc = bytes([row | 0x80, cell | 0x80])
            try:
                want = euc.decode("euc_jp")
            except UnicodeDecodeError:
                want = None
            code = ((row << 8 | cell) + OFFSETS[page]).to_bytes(2, "big")
            got = _core.decode_ebcdic(code, page, "graphic")
            if want is None:  # no character: a 外字 to identify, carried in plane 15
                assert got == chr(0xF0000 + int.from_bytes(code, "big")), code.hex()
                continue
            mapped += 1
            if page == "jef" and want == "\u3000":
                continue  # JEF writes U+3000 as 0x4040, and reads JIS's as a duplicate
            assert got == want, code.hex()
            assert want.encode(f"chukan_{page}")[len(_shift_out(page)):-len(_shift_in(page))] \
                == code
    assert mapped == 6879


def _shift_out(page: str) -> bytes:
    return _core.page_facts(page)[3][0]


def _shift_in(page: str) -> bytes:
    return _core.page_facts(page)[4]


def test_each_page_shifts_with_the_codes_its_vendor_documents() -> None:
    """KI/KO: JEF 28/29 (38 for 9-point kanji, read only), KEIS 0A42/0A41, JIPS(J)
    1A70/1A71 (Wikipedia ja, 漢字シフトコード)."""
    assert "A山".encode("chukan_jef") == b"\xc1\x28\xbb\xb3\x29"
    assert "A山".encode("chukan_keis") == b"\xc1\x0a\x42\xbb\xb3\x0a\x41"
    assert "A山".encode("chukan_jips") == b"A\x1a\x70\x3b\x33\x1a\x71"
    assert b"\x38\xbb\xb3\x29".decode("chukan_jef") == "山"
    # JIS X 0208 is JIS's: the wave dash and the minus sign, not CP932's look-alikes
    assert "〜−".encode("chukan_keis") == b"\x0a\x42\xa1\xc1\xa1\xdd\x0a\x41"
    with pytest.raises(UnicodeEncodeError):
        "～".encode("chukan_jef")
    # the single bytes every EBCDIC page agrees on, and no more: lowercase is the
    # vendor's to say (930 has katakana there)
    assert "AZ09 .-".encode("chukan_jef") == b"\xc1\xe9\xf0\xf9\x40\x4b\x60"
    with pytest.raises(UnicodeEncodeError):
        "a".encode("chukan_keis")


_TABLE = """
[code_page]
name = "t"
base = "jef"
[single]
"81" = "ｱ"
[double]
"80A1" = "髙"
"80A2" = "U+845B U+E0100"
"""


def test_a_users_table_adds_characters_and_a_layout_names_it(tmp_path: Path) -> None:
    (tmp_path / "town.toml").write_text(_TABLE, encoding="utf-8")
    layout = loads_layout('[layout]\nname = "x"\nformat = "fixed"\nencoding = "town.toml"\n'
                          'record_length = 8\n'
                          '[[field]]\nname = "a"\ntype = "graphic"\nlength = 8\n',
                          base=tmp_path)
    assert layout.code_page is not None
    assert layout.encoding == layout.code_page.encoding
    assert layout.encoding.startswith("jef_")
    data = b"\x80\xa1\x80\xa2\x80\xa3\x40\x40"
    report = chukan.Report()
    df = chukan.read(data, layout, report=report)
    assert df["a"].to_list() == ["髙葛\U000e0100\U000f80a3"]
    assert [(p.code, p.raw) for p in report.problems] == []
    found = chukan.validate(data, layout)
    assert [(e.char, e.raw) for e in found.gaiji.values()] == [("\U000f80a3", "80 a3")]
    out = tmp_path / "back.dat"
    chukan.write(df, out, layout)
    assert out.read_bytes() == data


def test_every_problem_of_a_table_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_bytes("code,unicode\r\n8A1,髙\r\n80A5,ab c\r\n"
                                        .encode("utf-8-sig"))
    (tmp_path / "sjis.csv").write_bytes("code,unicode\r\n80A6,髙\r\n".encode("cp932"))
    text = """
[code_page]
name = "t"
base = "jef"
csv = ["rows.csv", "sjis.csv", "missing.csv"]
[single]
"28" = "x"
"F1" = "1"
[double]
"80A1" = "U+F80A1"
"80A2" = "\\u0001"
"2A41" = "髙"
"""
    with pytest.raises(chukan.LayoutError) as info:
        loads_code_page(text, base=tmp_path)
    said = str(info.value)
    for expected in ("rows.csv:2", "two or four hex digits", "rows.csv:3",
                     "not characters", "CSV UTF-8", "missing.csv",
                     "code_page.csv", "28 starts a shift code",
                     "F1 is the page's space or a digit", "U+F0000 and above",
                     "a control character"):
        assert expected in said, (expected, said)
    # with no base known, what does not depend on it is still said
    with pytest.raises(chukan.LayoutError) as info:
        loads_code_page(text.replace('"jef"', '"jeff"'), base=tmp_path)
    said = str(info.value)
    for expected in ("unknown vendor page 'jeff'", "(did you mean 'jef'?)", "rows.csv:3",
                     "U+F0000 and above"):
        assert expected in said, (expected, said)
    # the same characters for two codes: the writer could not choose
    twice = '[code_page]\nname = "t"\nbase = "keis"\n[double]\n"80A1" = "髙"\n"80A2" = "髙"\n'
    with pytest.raises(chukan.LayoutError, match="already the character of 80A1"):
        loads_code_page(twice)


def test_a_layout_that_names_no_table_says_what_it_accepts() -> None:
    with pytest.raises(chukan.LayoutError, match=r"encoding 'jeff'.*did you mean 'jef'"):
        loads_layout('[layout]\nname = "x"\nformat = "fixed"\nencoding = "jeff"\n'
                     'record_length = 1\n'
                     '[[field]]\nname = "a"\nlength = 1\n')
    with pytest.raises(chukan.LayoutError, match="unsupported encoding"):
        # a file on the search path, but a layout, not a code-page table
        loads_layout('[layout]\nname = "x"\nformat = "fixed"\n'
                     'encoding = "examples/mainframe/juki-kojin-jef"\n'
                     'record_length = 1\n[[field]]\nname = "a"\nlength = 1\n')


def test_a_layout_with_a_table_survives_pickling_into_a_new_process() -> None:
    """A Spark task is another process: its core learns the page when the layout, and
    the table in it, arrive."""
    layout = chukan.load_layout(LAYOUT)
    code = ("import pickle, sys, chukan\n"
            "layout = pickle.loads(sys.stdin.buffer.read())\n"
            f"df = chukan.read({str(FIXTURE)!r}, layout)\n"
            "print(layout.encoding, df['shimei_kanji'][1].encode('unicode_escape').decode())\n")
    got = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(layout),
                         capture_output=True, check=True).stdout.decode().split()
    assert got == [layout.encoding, "\\u9ad9\\u6a4b\\u3000\\u845b\\U000e0100\\u7537"]


def test_every_shipped_spec_pickles_to_its_equal() -> None:
    from chukan.spec import catalogue, load_file_set, load_mapping  # noqa: PLC0415

    loaders = {"layout": chukan.load_layout, "mapping": load_mapping,
               "file_set": load_file_set, "code_page": chukan.load_code_page}
    kinds = set()
    for entry in catalogue():
        load = loaders.get(entry.kind)
        if load is None:
            continue
        spec = load(entry.name)
        back = pickle.loads(pickle.dumps(spec))  # noqa: S301 -- our own bytes
        assert back == spec, entry.name
        kinds.add(entry.kind)
    assert kinds == set(loaders)


def test_the_jef_example_reads_with_the_towns_table() -> None:
    report = chukan.Report()
    df = chukan.read(FIXTURE, LAYOUT, report=report)
    assert df["shimei_kanji"].to_list() == ["山田\u3000太郎", "髙橋\u3000葛\U000e0100男",
                                            "高橋\u3000\U000f80a3"]
    assert df["shimei_kana"].to_list() == ["ﾔﾏﾀﾞ ﾀﾛｳ", "ﾀｶﾊｼ ｶｽﾞｵ", "ﾀｶﾊｼ ﾊﾅ"]
    assert df["banchi"].to_list() == ["１丁目１番１号", "２丁目３ﾋﾞﾙ4F", "２丁目３"]
    assert report.problems == []
    # the one 外字 no table maps, with its bytes and its place
    found = chukan.validate(FIXTURE, LAYOUT)
    (entry,) = found.gaiji.values()
    assert (entry.char, entry.raw, entry.first[0][1:]) == \
        ("\U000f80a3", "80 a3", (3, 320 + 40 + 6, "shimei_kanji"))


def test_the_jef_example_writes_back_and_converts(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes()
    chukan.write(chukan.read(data, LAYOUT), tmp_path / "back.dat", LAYOUT)
    assert (tmp_path / "back.dat").read_bytes() == data
    got = chukan.convert(FIXTURE, "examples/mainframe/kojinjef-to-chukan", tmp_path / "k.csv")
    # the unidentified 外字 is held back; 髙 goes to the standard's CP932 as itself
    assert (got.records_out, got.rejects_by_reason) == (2, {"unmapped-gaiji": 1})
    out = chukan.read(tmp_path / "k.csv", "chukan/juki/kojin")
    assert out["shimei"].to_list() == ["山田\u3000太郎", "髙橋\u3000葛\U000e0100男"]


_SHIFTY = st.lists(st.sampled_from([0x28, 0x29, 0x38, 0x40, 0xBB, 0xB3, 0x80, 0xA1, 0xC1,
                                    0x0A, 0x42, 0x41, 0x1A, 0x70, 0x71, 0x3B, 0x33, 0x21,
                                    0x20, 0xFF]),
                   min_size=12, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(OFFSETS)), st.sampled_from(["so-si", "graphic"]),
       st.lists(_SHIFTY, min_size=1, max_size=4))
@example("keis", "so-si", [[0x0A, 0x42, 0xBB, 0xB3] + [0x40] * 8])  # ends in double bytes
@example("keis", "so-si", [[0x0A, 0xC1] + [0x40] * 10])  # a prefix that starts no shift code
@example("jef", "so-si", [[0x38, 0xBB, 0xB3, 0x29] + [0x40] * 8])  # 9-point KI
@example("jef", "so-si", [[0x28, 0x29] + [0x40] * 10])  # an empty pair, the whole value
@example("jef", "so-si", [[0x28, 0xBB, 0xB3, 0x29, 0x28, 0xBB, 0xB3, 0x29, 0x40, 0x40,
                           0x40, 0x40]])  # two runs back to back
@example("keis", "graphic", [[0xBB, 0xB3] + [0x40] * 10])  # padded with single spaces
@example("jips", "graphic", [[0x20] * 12])  # blank, in single spaces
def test_random_shift_codes_never_panic_or_change_a_record_unsaid(
        page: str, shift: str, rows: list[list[int]]) -> None:
    """Every record read from random bytes either writes back as its bytes, or is
    reported (an error, or a noncanonical warning): nothing changes unsaid."""
    kind = 'type = "graphic"' if shift == "graphic" else 'type = "text"\nshift = "so-si"'
    layout = loads_layout(f'[layout]\nname = "s"\nformat = "fixed"\nencoding = "{page}"\n'
                          f'record_length = 12\n[[field]]\nname = "t"\n{kind}\nlength = 12\n')
    data = bytes(b for row in rows for b in row)
    report = chukan.Report()
    df = chukan.read(data, layout, report=report)
    assert df.height == len(rows)
    flagged = {p.record for p in report.problems}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "back.dat"
        chukan.write(df, out, layout, report=chukan.Report())
        back = out.read_bytes()
    for i, row in enumerate(rows, start=1):
        if i not in flagged:
            assert back[12 * (i - 1):12 * i] == bytes(row), (i, bytes(row).hex(" "))


def test_what_the_writer_would_not_give_back_is_said() -> None:
    """The review's cases, each once: read with a noncanonical warning."""
    for page, shift, raw in [
            ("ibm930", "so-si", b"\x0e\x0f" + b"\x40" * 4),  # an empty pair, all of it
            ("jef", "so-si", b"\x28\xbb\xb3\x29\x28\xbb\xb3\x29"),  # runs back to back
            ("keis", "graphic", b"\xbb\xb3\x40\x40"),  # U+3000 is A1A1 here
            ("jips", "graphic", b"\x20\x20\x20\x20")]:
        kind = 'type = "graphic"' if shift == "graphic" else 'type = "text"\nshift = "so-si"'
        layout = loads_layout(f'[layout]\nname = "s"\nformat = "fixed"\nencoding = "{page}"\n'
                              f'record_length = {len(raw)}\n[[field]]\nname = "t"\n{kind}\n'
                              f"length = {len(raw)}\n")
        report = chukan.Report()
        chukan.read(raw, layout, report=report)
        assert [p.code for p in report.problems] == ["noncanonical"], (page, raw)


def test_a_gaiji_is_placed_by_the_files_own_bytes() -> None:
    """After shift codes the writer would not write, the 外字's bytes and offset are
    still its own (the value is walked, not re-encoded)."""
    layout = loads_layout('[layout]\nname = "s"\nformat = "fixed"\nencoding = "keis"\n'
                          'record_length = 10\n[[field]]\nname = "t"\ntype = "text"\n'
                          'shift = "so-si"\nlength = 10\n')
    found = chukan.validate(b"\x0a\x42\x0a\x41\x0a\x42\x80\xa3\x0a\x41", layout)
    (entry,) = found.gaiji.values()
    assert (entry.raw, entry.first[0][2]) == ("80 a3", 6)


@pytest.mark.parametrize(("table", "said"), [
    ('[double]\n"4040" = "髙"\n', "4040 is two spaces"),
    ('[double]\n"80A1" = "AB"\n', "not characters"),
    ('[single]\n"38" = "ｱ"\n', "38 starts a shift code"),
    ('[double]\n"38A1" = "髙"\n', "38A1 starts a shift code"),
    ('[code_page]\nname = "t"\nbase = "jef"\ncsv = ["../outside.csv"]\n', "outside the folder"),
])
def test_a_table_is_refused_where_it_would_lose_or_reach_out(tmp_path: Path, table: str,
                                                               said: str) -> None:
    (tmp_path / "outside.csv").write_text("code,unicode\n80A1,髙\n", encoding="utf-8")
    (tmp_path / "in").mkdir()
    text = table if table.startswith("[code_page]") else \
        f'[code_page]\nname = "t"\nbase = "jef"\n{table}'
    with pytest.raises(chukan.LayoutError, match=said):
        loads_code_page(text, base=tmp_path / "in")


def test_a_broken_or_missing_table_is_said_as_such(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text('[code_page]\nname = "t"\nbase =\n', encoding="utf-8")
    for name, said in [("broken.toml", "not valid TOML"), ("missing.toml", "no code-page table")]:
        with pytest.raises(chukan.LayoutError, match=said):
            loads_layout(f'[layout]\nname = "x"\nformat = "fixed"\nencoding = "{name}"\n'
                         'record_length = 2\n[[field]]\nname = "a"\ntype = "graphic"\n'
                         "length = 2\n", base=tmp_path)


def test_a_vendor_gaiji_does_not_cross_to_another_page(tmp_path: Path) -> None:
    """U+F80A3 is JEF's 0x80A3 for this town only: into KEIS it is held back."""
    field = '[[field]]\nname = "t"\ntype = "graphic"\nlength = 4\n'
    for page in ("jef", "keis"):
        (tmp_path / f"{page}.toml").write_text(
            f'[layout]\nname = "{page}"\nformat = "fixed"\nencoding = "{page}"\n'
            f"record_length = 4\n{field}", encoding="utf-8")
    (tmp_path / "m.toml").write_text('[mapping]\nname = "m"\nsource = "jef.toml"\n'
                                     'target = "keis.toml"\n[[rule]]\ntarget = "t"\n'
                                     'source = "t"\n', encoding="utf-8")
    (tmp_path / "in.dat").write_bytes(b"\xbb\xb3\x80\xa3" + b"\xbb\xb3\xbb\xb3")
    got = chukan.convert(tmp_path / "in.dat", tmp_path / "m.toml", tmp_path / "out.dat")
    assert (got.records_out, got.rejects_by_reason) == (1, {"unmapped-gaiji": 1})
    assert (tmp_path / "out.dat").read_bytes() == b"\xbb\xb3\xbb\xb3"
