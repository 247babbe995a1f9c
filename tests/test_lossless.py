"""Nothing changes silently on the way through (issue 13: 3–5).

The central property: a read that reports no problem at all, written back with the same
layout, gives the input's bytes. Inputs are the shipped fixtures with bytes changed by
Hypothesis, biased to the bytes that matter (padding, digits, sign nibbles, CP932 lead
bytes)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import chukan
from chukan.codec import LOOKALIKES, UNREADABLE, encode_text, prepare_for_encoding
from chukan.read import duplicate_suspects
from helpers import FIXTURES

#: (fixture, layout) for every shipped sample
SAMPLES = [
    ("vendor-a/juki-kojin.dat", "examples/vendor-a/juki-kojin"),
    ("vendor-a/juki-setai.dat", "examples/vendor-a/juki-setai"),
    ("vendor-a/juki-kojin.csv", "examples/vendor-a/juki-kojin-csv"),
    ("vendor-a/juki-kojin.kihon.csv", "kihon/juki/kojin"),
    ("vendor-a/juki-kojin.chukan.csv", "chukan/juki/kojin"),
    ("mainframe/juki-kojin.dat", "examples/mainframe/juki-kojin"),
    ("mainframe/nouzei.dat", "examples/mainframe/nouzei"),
    ("zengin/kouza-furikae.dat", "zengin/kouza-furikae"),
]
#: bytes worth trying: padding, digits, signs and nibbles, CP932 U+3000, lead bytes
BYTES = st.one_of(st.sampled_from([0x20, 0x30, 0x31, 0x39, 0x0C, 0x0D, 0x0F, 0x1C, 0x3C,
                                   0x81, 0x40, 0x82, 0xA0, 0xFB, 0xFC, 0x2C, 0x22, 0x0A,
                                   0x0D, 0x00, 0x7B, 0x7D, 0x2D, 0xF0]),
                  st.integers(0, 255))


def _round_trip(data: bytes, layout_name: str) -> bytes | None:
    """The bytes written back after a read that found nothing; None when it found
    something (then the read said why)."""
    layout = chukan.load_layout(layout_name)
    report = chukan.Report()
    out = Path(tempfile.mkdtemp()) / "back"
    if layout.is_multi:
        frames = chukan.read_records(data, layout, report=report)
        if report.problems:
            return None
        chukan.write_records(frames, out, layout)
    else:
        frame = chukan.read(data, layout, report=report)
        if report.problems:
            return None
        # the strict read agrees that nothing is wrong
        assert chukan.read(data, layout).equals(frame)
        chukan.write(frame, out, layout)
    return out.read_bytes()


@pytest.mark.parametrize(("fixture", "layout"), SAMPLES)
def test_every_sample_round_trips(fixture: str, layout: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    assert _round_trip(data, layout) == data


@given(sample=st.sampled_from(SAMPLES), data=st.data())
def test_a_read_that_says_nothing_writes_the_same_bytes(sample: tuple[str, str],
                                                       data: st.DataObject) -> None:
    fixture, layout = sample
    raw = bytearray((FIXTURES / fixture).read_bytes())
    changes = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), BYTES),
                                 min_size=1, max_size=4))
    for at, byte in changes:
        raw[at] = byte
    note(f"{fixture}: {changes}")
    back = _round_trip(bytes(raw), layout)
    if back is not None:
        assert back == bytes(raw)


# --------------------------------------------------------------------------------------
# The three silent changes the review found


def _layout(field: str, length: int, fmt: str = "fixed") -> chukan.Layout:
    head = f'[layout]\nname = "t"\nformat = "{fmt}"\nencoding = "cp932"\nterminator = "lf"\n'
    head += f"record_length = {length}\n" if fmt == "fixed" else "header = false\n"
    return chukan.loads_layout(head + f'[[field]]\nname = "v"\nlength = {length}\n{field}')


@pytest.mark.parametrize(("field", "length", "raw", "code"), [
    ('type = "decimal"\nstorage = "packed"', 2, b"\x12\x3c", "bad-sign-nibble"),
    ('type = "decimal"\nstorage = "packed"\nsigned = true', 2, b"\x12\x3f",
     "bad-sign-nibble"),
    ('type = "decimal"\nstorage = "packed"\nsigned = true', 2, b"\x00\x0d",
     "bad-sign-nibble"),  # a negative zero
    ('type = "text"\nchars = "fullwidth"', 10, "　　  　　".encode("cp932"),
     "noncanonical"),
    ('type = "text"\nchars = "fullwidth"', 10, "山田  　　".encode("cp932"),
     "noncanonical"),
    ('type = "text"\nchars = "fullwidth"', 10, b" " * 10, "noncanonical"),
    ('type = "text"\nchars = "fullwidth"\npad = " "', 10, "山田　　　".encode("cp932"),
     "noncanonical"),
    ('type = "digits"', 5, b"123  ", "not-digits"),
    # a minus zero, read as 0 on the short path, is written back without its minus
    ('type = "integer"\nsigned = true', 5, b"-0000", "noncanonical"),
    ('type = "decimal"\nscale = 2\nsigned = true', 5, b"-0000", "noncanonical"),
])
def test_bytes_that_would_not_come_back_are_reported(field: str, length: int, raw: bytes,
                                                     code: str) -> None:
    layout = _layout(field, length)
    report = chukan.Report()
    chukan.read(raw + b"\n", layout, report=report)
    assert [p.code for p in report.problems] == [code]


@pytest.mark.parametrize(("field", "raw"), [
    ('type = "decimal"\nstorage = "packed"\npositive_sign = "C"', b"\x12\x3c"),
    ('type = "decimal"\nstorage = "packed"\nsigned = true\npositive_sign = "F"',
     b"\x12\x3f"),
    ('type = "text"\nchars = "fullwidth"\npad = " "', "山田      ".encode("cp932")),
    ('type = "text"\nchars = "fullwidth"\npad = " "', b" " * 10),
])
def test_a_layout_can_say_how_its_file_writes_them(field: str, raw: bytes) -> None:
    layout = _layout(field, len(raw))
    report = chukan.Report()
    frame = chukan.read(raw + b"\n", layout, report=report)
    assert report.problems == []
    out = Path(tempfile.mkdtemp()) / "o"
    chukan.write(frame, out, layout)
    assert out.read_bytes() == raw + b"\n"


@pytest.mark.parametrize("char", list(LOOKALIKES["cp932"]))
def test_characters_cp932_reads_back_as_others_are_not_written(char: str) -> None:
    layout = _layout('type = "text"', 6)
    report = chukan.Report()
    out = Path(tempfile.mkdtemp()) / "o"
    chukan.write(pl.DataFrame({"v": [f"A{char}B", "AB"]}), out, layout, report=report)
    assert [(p.code, p.record) for p in report.problems] == [("not-representable", 1)]
    with pytest.raises(chukan.DataError, match="not-representable"):
        chukan.write(pl.DataFrame({"v": [char]}), out, layout)
    csv = _layout('type = "text"', 6, fmt="csv")
    with pytest.raises(chukan.DataError, match="not-representable"):
        chukan.write(pl.DataFrame({"v": [char]}), out, csv)


def test_substituting_them_is_a_choice_the_layout_makes() -> None:
    layout = chukan.loads_layout(
        '[layout]\nname = "t"\nformat = "fixed"\nencoding = "cp932"\nrecord_length = 6\n'
        'terminator = "lf"\nsubstitute_lookalikes = true\n'
        '[[field]]\nname = "v"\nlength = 6\ntype = "text"\n')
    out = Path(tempfile.mkdtemp()) / "o"
    chukan.write(pl.DataFrame({"v": ["1〜2"]}), out, layout)
    assert chukan.read(out, layout)["v"].to_list() == ["1～2"]


def test_a_utf8_to_cp932_migration_rejects_the_wave_dash(tmp_path: Path) -> None:
    source = FIXTURES / "vendor-a" / "juki-kojin.kihon.csv"
    text = source.read_bytes().decode("utf-8").replace("千代田", "千代田〜", 1)
    changed = tmp_path / "in.csv"
    changed.write_bytes(text.encode("utf-8"))
    result = chukan.convert(changed, "examples/vendor-a/kojin-to-kihon", tmp_path / "o.dat",
                            reverse=True)
    assert result.rejects_by_reason["not-representable"] == 1


@pytest.mark.parametrize(("field", "length"), [
    ('type = "integer"\nsigned = true', 18), ('type = "integer"\nsigned = true', 5),
    ('type = "integer"\nsigned = true\npad = " "', 18),
    ('type = "decimal"\nstorage = "packed"\nsigned = true', 8),
    ('type = "decimal"\nstorage = "zoned"\nsigned = true', 18)])
def test_the_int64_minimum_is_never_written_as_minus_zero(field: str, length: int) -> None:
    layout = _layout(field, length)
    lowest = -(2 ** 63)
    value = pl.Series("v", [lowest, -5])
    if "decimal" in field:
        value = value.cast(pl.Decimal(38, 0))
    report = chukan.Report()
    out = Path(tempfile.mkdtemp()) / "o"
    chukan.write(value.to_frame(), out, layout, report=report)
    assert [(p.code, p.record) for p in report.problems] == [("width-overflow", 1)]
    assert b"-0\n" not in out.read_bytes()


def test_lookalikes_are_every_one_way_character_of_cpythons_codecs() -> None:
    """A differential test: the table is what CPython's codecs do, on the whole BMP."""
    for codec in ("cp932", "shift_jis", "euc_jp"):
        found = {}
        for code in range(0x80, 0x10000):
            char = chr(code)
            if 0xD800 <= code < 0xE000:
                continue
            try:
                back = char.encode(codec).decode(codec)
            except UnicodeEncodeError:
                continue
            if back != char:
                found[char] = back
        assert found == LOOKALIKES[codec], codec


def test_a_digits_value_shorter_than_its_field_is_not_zero_filled() -> None:
    """Leading zeros are data: 12 is not 0012 (the mapping step zero_fill says so)."""
    layout = _layout('type = "digits"', 4)
    out = Path(tempfile.mkdtemp()) / "o"
    with pytest.raises(chukan.DataError, match="not-digits"):
        chukan.write(pl.DataFrame({"v": ["12"]}), out, layout)
    chukan.write(pl.DataFrame({"v": ["0012"]}), out, layout)
    assert out.read_bytes() == b"0012\n"


def test_quotes_a_value_does_not_need_are_said_once_per_batch() -> None:
    """Found by the fuzz run: written back, "転入 2020年" loses its quotes."""
    layout = chukan.loads_layout(
        '[layout]\nname = "t"\nformat = "csv"\nencoding = "utf-8"\nterminator = "lf"\n'
        '[[field]]\nname = "a"\nlength = 20\ntype = "text"\n'
        '[[field]]\nname = "b"\nlength = 20\ntype = "text"\n')
    report = chukan.Report()
    frame = chukan.read('"転入 2020年","x"\n"a,b",""\n'.encode(), layout, report=report)
    assert frame.rows() == [("転入 2020年", "x"), ("a,b", None)]
    (problem,) = report.problems
    assert (problem.code, problem.record, problem.offset) == ("noncanonical", 1, 0)
    assert "3か所" in problem.message  # "転入 2020年", "x" and "" (not "a,b")
    report = chukan.Report()
    chukan.read(b'"a,b","c""d"\n', layout, report=report)
    assert report.problems == []


@pytest.mark.parametrize("policy", ["ibm", "nec"])
def test_every_cp932_code_the_policy_does_not_write_is_a_suspect(policy: str) -> None:
    """The reader re-encodes only rows holding a suspect byte pair: every double-byte
    code that the writer would write otherwise must be one (checked on all of them)."""
    missed = []
    for lead in [*range(0x81, 0xA0), *range(0xE0, 0xFD)]:
        for trail in range(0x40, 0xFD):
            code = bytes((lead, trail))
            try:
                char = code.decode("cp932")
            except UnicodeDecodeError:
                continue
            if "\ue000" <= char <= "\uf8ff":
                continue  # 外字: one spelling
            written = encode_text(*prepare_for_encoding(pl.Series([char]), "cp932", policy),
                                  "cp932")
            if written != code and not duplicate_suspects(
                    np.frombuffer(code, dtype=np.uint8), policy)[0]:
                missed.append(code.hex())
    assert missed == []


@pytest.mark.parametrize("cell", [b"-00", b"123456 ", b"+5", b"007"])
def test_a_csv_number_the_writer_spells_otherwise_is_noncanonical(cell: bytes) -> None:
    """Found by the fuzz run: `-00` and `123456 ` in a CSV integer column read as 0 and
    123456 without a word, and were written back as `0` and `123456`."""
    layout = chukan.loads_layout(
        '[layout]\nname = "t"\nformat = "csv"\nencoding = "utf-8"\nterminator = "lf"\n'
        '[[field]]\nname = "n"\nlength = 9\ntype = "integer"\nsigned = true\n')
    report = chukan.Report()
    chukan.read(b"12\n" + cell + b"\n", layout, report=report)
    if not report.ok:  # not a number at all (+5): the read said so
        return
    found = [(p.code, p.record, p.severity) for p in report.problems]
    out = Path(tempfile.mkdtemp()) / "n.csv"
    chukan.write(chukan.read(b"12\n" + cell + b"\n", layout, report=chukan.Report()),
                 out, layout)
    changed = out.read_bytes() != b"12\n" + cell + b"\n"
    assert found == ([("noncanonical", 2, "warning")] if changed else [])


def test_a_control_character_is_not_read_as_a_duplicate_marker() -> None:
    """Found by the fuzz run (the input as it found it): 0x01 before 愛 in a CP932 CSV
    value was taken for the encoder's own duplicate marker, and said as a CP932
    duplicate (bytes 01 88) when the whole file was read, not in batches of 3."""
    data = bytes.fromhex(
        "88b696bc94d48d862c8e8196bc2c8e8196bc834a83692c90b6944e8c8e93fa2c91b195bf2c89"
        "db90c58a7a2c94f58d6c0d0a303030303030303030312c8e529363814091be98592cd4cfc0de"
        "20c0dbb32c313937352d30342d30312c30312c313233343536372c22935d93fc2c2032303230"
        "94ee220d0a303030303030303030322c8e529363814089d48e712cd4cfc0de20cac5ba2c310d"
        "397f372d30382d31352c30322c2d3530302c2222220188a48fcc22222082a082e8220d0a7f30"
        "30303030303040342cfbfc8bb481408e9f98592cc0b62cfbfc8bb481408e9f98592cc0b6cabc"
        "20bcdedbb32c313935302d30302d30302c30312c2c2289fc8d7382f00d0a8adc82de94f58d6c"
        "220d0a303030303030303030352c2c2c2c2c302c81600d0a"
    )
    found = []
    for batch_size in (None, 3):
        report = chukan.Report()
        for _ in chukan.read_batches(data, "examples/vendor-a/juki-kojin-csv", report=report,
                                     batch_size=batch_size):
            pass
        found.append(sorted((p.code, p.record or 0, p.offset or 0) for p in report.problems))
    assert found[0] == found[1]
    assert ("noncanonical", 2, 173) not in found[0]


# --------------------------------------------------------------------------------------
# The converse: what a writer writes without a problem reads back as it was


#: characters worth trying: every control character, CR and LF apart and together, the
#: characters that mark bytes that did not decode, lookalikes, kana, kanji, JIS X 0212,
#: full-width space, quotes and delimiters, a C1 control and private use, U+FEFF (a BOM
#: where it begins a file), and characters whose second byte in CP932 is a delimiter
#: (竹 and ポ end in |, ソ in \)
CHARS = st.one_of(
    st.sampled_from(["\r", "\n", "\r\n", "\t", "\x00", "\x1a", "\x7f", "\ufffd", "\x80",
                     "\uf8f0", "\uf8f3", "\x85", "\ue000", "\ufeff", "〜", "～", "髙", "丂", "ｱ",
                     "山", "\u3000", ",", '"', "'", "a", "1", "-", "|", "竹", "ポ", "ソ"]),
    st.characters(max_codepoint=0x7F),
    st.characters(min_codepoint=0x80, exclude_categories=("Cs",)))  # (no str holds one)
ROUND_TRIP_LAYOUTS = [(fmt, encoding, delimiter, header, quote)
                      for encoding in ("cp932", "shift_jis", "euc_jp", "utf-8", "utf-8-sig")
                      for fmt, delimiter, header, quote in (
                          ("csv", ",", True, '"'), ("csv", ",", False, '"'),
                          ("csv", "\t", True, '"'), ("csv", "|", False, '"'),
                          ("csv", "|", False, "'"), ("fixed", "", False, '"'))]


def _written_layout(fmt: str, encoding: str, delimiter: str, header: bool = True,
                    quote: str = '"') -> chukan.Layout:
    head = f'[layout]\nname = "t"\nformat = "{fmt}"\nencoding = "{encoding}"\n' \
        'terminator = "crlf"\n'
    head += "record_length = 28\n" if fmt == "fixed" else \
        f"header = {str(header).lower()}\ndelimiter = {delimiter!r}\n".replace("'", '"') + \
        (f"quote = {quote!r}\n" if quote == '"' else f'quote = "{quote}"\n')
    return chukan.loads_layout(
        head + '[[field]]\nname = "a"\nlabel = "氏名"\ntype = "text"\nlength = 20\n'
        '[[field]]\nname = "n"\nlabel = "数"\ntype = "integer"\nsigned = true\nlength = 8\n')


@given(layout=st.sampled_from(ROUND_TRIP_LAYOUTS),
       texts=st.lists(st.lists(CHARS, max_size=6).map("".join), min_size=1, max_size=8),
       numbers=st.lists(st.integers(-(10 ** 9), 10 ** 9), min_size=8, max_size=8))
def test_what_is_written_without_a_problem_reads_back_as_it_was(
        layout: tuple[str, str, str, bool, str], texts: list[str], numbers: list[int]
) -> None:
    """The writers refuse what the readers would refuse (a control character, a CR
    alone, U+FFFD, CP932's undefined single bytes as CPython writes them, an integer of
    more digits than its length): every value written without a problem reads back
    unchanged, with no problem."""
    lay = _written_layout(*layout)
    frame = pl.DataFrame({"a": texts, "n": numbers[:len(texts)]})
    out = Path(tempfile.mkdtemp()) / "o"
    written = chukan.Report()
    chukan.write(frame, out, lay, report=written)
    refused = {(p.record, p.field) for p in written.problems}
    read = chukan.Report()
    back = chukan.read(out, lay, report=read)
    found = {(p.record, p.field): p.code for p in read.problems}
    for row in range(frame.height):
        for name in ("a", "n"):
            if (row + 1, name) in refused:
                continue
            value = frame[name][row]
            if name == "a":  # fixed-width padding is spaces after the value
                value = (value.rstrip(" ") if layout[0] == "fixed" else value) or None
            note(f"record {row + 1} {name}: {value!r}")
            assert (row + 1, name) not in found
            assert back[name][row] == value


@pytest.mark.parametrize(("fmt", "encoding", "value", "code"), [
    *[("csv", "cp932", v, "control-char")
      for v in ["a\tb", "\r", "a\rb", "a\r\r\n", "x\x7f", "nul\x00", "\x1b", "\x1a"]],
    ("csv", "cp932", "a\r\nb\nc", None),  # line ends inside quotes are the value's
    ("csv", "utf-8", "\ufffd", "not-representable"),
    ("fixed", "utf-8", "a\ufffd", "not-representable"),
    ("csv", "utf-8", "\x80\uf8f0\uf8f3", None),  # UTF-8 has them: they read back
    ("fixed", "utf-8", "\x80\uf8f0\uf8f3", None),
    *[(fmt, "cp932", v, "not-representable")
      for fmt in ("csv", "fixed") for v in ["\x80", "a\uf8f0", "\uf8f3"]],
])
def test_a_value_that_would_not_read_back_is_refused(fmt: str, encoding: str, value: str,
                                                     code: str | None) -> None:
    """Found by a review of the CSV writer: it wrote a tab, a lone CR or DEL with no
    problem, and the reader refused them; CPython's cp932 writes U+0080 and
    U+F8F0–U+F8F3 as bytes that CP932 leaves undefined."""
    lay = _written_layout(fmt, encoding, ",")
    out = Path(tempfile.mkdtemp()) / "o"
    report = chukan.Report()
    chukan.write(pl.DataFrame({"a": [value, "ok"], "n": [1, 2]}), out, lay, report=report)
    assert [(p.code, p.record, p.field) for p in report.problems] == \
        ([(code, 1, "a")] if code else [])
    back = chukan.read(out, lay)  # strict: the file holds nothing the reader refuses
    assert back["a"].to_list() == [None if code else value, "ok"]


@pytest.mark.parametrize("kernel", ["core", "python"])
@pytest.mark.parametrize(("fmt", "encoding", "header", "refused"), [
    ("csv", "utf-8", False, True), ("fixed", "utf-8", False, True),
    ("csv", "utf-8", True, False),  # the header begins the file
    ("csv", "utf-8-sig", False, False), ("fixed", "utf-8-sig", False, False),
])
def test_a_value_that_would_begin_a_utf8_file_as_a_bom_is_refused(
        fmt: str, encoding: str, header: bool, refused: bool, kernel: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a review: a UTF-8 file whose first value began with U+FEFF was written
    with no problem, and read back as a BOM (``bom-unexpected``, the character gone; in
    fixed width every field of the record moved). After a ``utf-8-sig`` file's own BOM
    it is a value's, and the Python path's Polars took it off too."""
    monkeypatch.setenv("CHUKAN_KERNEL", kernel)
    lay = _written_layout(fmt, encoding, ",", header)
    out = Path(tempfile.mkdtemp()) / "o"
    values = ["\ufeff山田", "\ufeff"]  # the second row's begins no file
    report = chukan.Report()
    chukan.write(pl.DataFrame({"a": values, "n": [1, 2]}), out, lay, report=report)
    assert [(p.code, p.record, p.field) for p in report.problems] == \
        ([("not-representable", 1, "a")] if refused else [])
    back = chukan.read(out, lay)  # strict: the file holds nothing the reader refuses
    assert back["a"].to_list() == [None if refused else values[0], values[1]]
    if refused:
        with pytest.raises(chukan.DataError, match="U\\+FEFF"):
            chukan.write(pl.DataFrame({"a": values, "n": [1, 2]}), out, lay)


@pytest.mark.parametrize(("values", "rejected"), [
    (["\ufeffa", "b"], 1), (["b", "\ufeffa"], 0),
    # each record left out makes the next one begin the output (found by a review:
    # the second pass over the batch raised DataError)
    (["\ufeffa", "\ufeffb", "c", "\ufeffd"], 2), (["toolongvalue", "\ufeffb", "c"], 2)])
@pytest.mark.parametrize("batch_size", [1, 3, 100])
def test_a_conversion_rejects_a_record_that_would_begin_its_utf8_output_as_a_bom(
        tmp_path: Path, values: list[str], rejected: int, batch_size: int) -> None:
    """The same refusal on the way out of a conversion, for the record that begins the
    output, whichever batch it is in, and only there."""
    for name, encoding, header in (("s", "utf-8-sig", "true"), ("t", "utf-8", "false")):
        (tmp_path / f"{name}.toml").write_text(
            f'[layout]\nname = "{name}"\nformat = "csv"\nencoding = "{encoding}"\n'
            f'header = {header}\n[[field]]\nname = "v"\ntype = "text"\nlength = 8\n',
            encoding="utf-8")
    (tmp_path / "m.toml").write_text('[mapping]\nname = "t/m"\nsource = "s.toml"\n'
                                     'target = "t.toml"\n[[rule]]\ntarget = "v"\n'
                                     'source = "v"\n', encoding="utf-8")
    src = tmp_path / "in.csv"
    src.write_bytes(("\ufeffv\n" + "".join(f"{v}\n" for v in values)).encode())
    result = chukan.convert(src, tmp_path / "m.toml", tmp_path / "out.csv",
                            batch_size=batch_size)
    assert (result.records_out, result.records_rejected) == \
        (len(values) - rejected, rejected)
    out = (tmp_path / "out.csv").read_bytes()
    assert out == "".join(f"{v}\r\n" for v in values[rejected:]).encode()
    assert chukan.read(out, tmp_path / "t.toml")["v"].to_list() == values[rejected:]


@pytest.mark.parametrize("kernel", ["core", "python"])
@pytest.mark.parametrize(("encoding", "fmt", "data", "first"), [
    # EF BB BF A1 is 鏤拭 in EUC-JP, and in JEF's and KEIS's double bytes
    ("euc_jp", "csv", "鏤拭\nx\n".encode("euc_jp"), "鏤拭"),
    ("euc_jp", "fixed", "鏤拭\nx   \n".encode("euc_jp"), "鏤拭"),
    ("jef", "fixed", b"\xef\xbb\xbf\xa1\xa4\xa2\xa4\xa4", "鏤拭"),
    ("keis", "fixed", b"\xef\xbb\xbf\xa1\xa4\xa2\xa4\xa4", "鏤拭"),
])
def test_a_file_that_begins_with_text_spelled_as_a_bom_reads_as_text(
        encoding: str, fmt: str, data: bytes, first: str, kernel: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The readers read past EF BB BF at a file's start in any encoding, and lost the
    record (found by a review): only where the bytes are no text of the encoding (a
    UTF-8 file read as CP932 is still said, ``bom-unexpected``)."""
    monkeypatch.setenv("CHUKAN_KERNEL", kernel)
    host = encoding in ("jef", "keis")
    field = 'type = "graphic"\nlength = 4\n' if host else 'type = "text"\nlength = 4\n'
    layout = chukan.loads_layout(
        f'[layout]\nname = "t"\nformat = "{fmt}"\nencoding = "{encoding}"\n'
        + ("record_length = 4\n" if fmt == "fixed" else "header = false\n")
        + ("" if host else 'terminator = "lf"\n') + f'[[field]]\nname = "a"\n{field}')
    report = chukan.Report()
    assert chukan.read(data, layout, report=report)["a"].to_list()[0] == first
    assert report.problems == []
    csv = _written_layout("csv", encoding if not host else "cp932", ",", header=False)
    # a UTF-8 file is said, even where its text pairs up as EUC-JP too (ＡＢ is EF BC A1
    # EF BC A2, which are EUC-JP characters: found by a review)
    for utf8 in (b"\xef\xbb\xbfab\n", "\ufeffＡＢ,1\nＣＤ,2\n".encode()):
        report = chukan.Report()
        chukan.read(utf8, csv, report=report)
        assert "bom-unexpected" in [p.code for p in report.problems]


def test_write_records_refuses_the_value_that_begins_the_file_whichever_row_it_is(
        tmp_path: Path) -> None:
    """The file's first record is the kind's row whose ``_record`` comes first, not its
    first row (found by a review: a BOM was written first, and the record lost)."""
    layout = chukan.loads_layout(
        '[layout]\nname = "t"\nformat = "fixed"\nencoding = "utf-8"\nterminator = "lf"\n'
        'record_length = 8\nrecord_type = { start = 8, length = 1 }\n'
        + "".join(f'[[record]]\nname = "{k}"\nmatch = "{k.upper()}"\n'
                  f'[[record.field]]\nname = "v"\nlength = 7\ntype = "text"\n'
                  f'[[record.field]]\nname = "t"\nlength = 1\ntype = "code"\n'
                  for k in "hd"))
    frames = {"h": pl.DataFrame({"v": ["y", "\ufeffx"], "t": ["H", "H"], "_record": [2, 1]}),
              "d": pl.DataFrame({"v": ["\ufeffz"], "t": ["D"], "_record": [3]})}
    report = chukan.Report()
    chukan.write_records(frames, tmp_path / "o", layout, report=report)
    assert [(p.code, p.record) for p in report.problems] == [("not-representable", 1)]
    back = chukan.read_records(tmp_path / "o", layout)  # strict: nothing refused
    assert back["h"]["v"].to_list() == [None, "y"]
    assert back["d"]["v"].to_list() == ["\ufeffz"]


@pytest.mark.parametrize(("value", "refused"), [(99999999, False), (-99999999, False),
                                                (100000000, True), (-100000000, True)])
def test_a_csv_integer_of_more_digits_than_its_length_is_refused(value: int,
                                                                 refused: bool) -> None:
    """The reader counts an integer's digits, not its sign, against ``length``; the
    writer wrote 99999 into a length of 4 with no problem."""
    lay = _written_layout("csv", "utf-8", ",")  # n: a signed integer of length 8
    out = Path(tempfile.mkdtemp()) / "o"
    report = chukan.Report()
    chukan.write(pl.DataFrame({"a": ["x"], "n": [value]}), out, lay, report=report)
    assert [(p.code, p.field) for p in report.problems] == \
        ([("width-overflow", "n")] if refused else [])
    assert chukan.read(out, lay)["n"].to_list() == [None if refused else value]


def test_the_characters_cp932_would_not_read_back_are_found_from_the_reader() -> None:
    """A differential test: every character CPython's cp932 writes and the reader then
    reports as ``invalid-bytes`` is in UNREADABLE, and no other."""
    chars = [chr(c) for c in range(0x20, 0x10000)
             if not 0xD800 <= c < 0xE000 and chr(c).encode("cp932", "ignore")]
    lay = chukan.loads_layout(
        '[layout]\nname = "t"\nformat = "fixed"\nencoding = "cp932"\nrecord_length = 2\n'
        'terminator = "none"\n[[field]]\nname = "v"\nlength = 2\ntype = "text"\n')
    data = b"".join(c.encode("cp932").ljust(2, b" ") for c in chars)
    report = chukan.Report()
    chukan.read(data, lay, report=report)
    found = {chars[p.record - 1] for p in report.problems if p.code == "invalid-bytes"}
    assert found == set(UNREADABLE["cp932"])


def test_a_cp932_csv_with_an_undefined_byte_and_a_duplicate_still_reads() -> None:
    """Found by a review of the writers' refusals: the CSV reader's duplicate check
    encodes back what it decoded, and raised once the encoder refused CPython's
    U+0080 (from the undefined byte 0x80)."""
    lay = chukan.loads_layout('[layout]\nname = "t"\nformat = "csv"\nencoding = "cp932"\n'
                              'header = false\n[[field]]\nname = "a"\ntype = "text"\n'
                              'length = 20\n')
    report = chukan.Report()
    frame = chukan.read(b"\x80\r\n\xfa\x55\r\n", lay, report=report)
    assert frame["a"].to_list() == [None, "￤"]
    assert [(p.code, p.record) for p in report.problems] == [("invalid-bytes", 1)]


def test_a_header_label_cp932_would_not_read_back_is_a_layout_error() -> None:
    with pytest.raises(chukan.LayoutError, match="CSV header"):
        chukan.loads_layout('[layout]\nname = "t"\nformat = "csv"\nencoding = "cp932"\n'
                            'header = true\nheader_text = "label"\n[[field]]\nname = "a"\n'
                            'label = "氏\uf8f0"\ntype = "text"\nlength = 20\n')
