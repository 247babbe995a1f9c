"""Layouts and files that used to crash later are refused at once, or work (issue 13:
11, 13–15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import chukan
from chukan import LayoutError
from chukan.cli import main
from helpers import FIXTURES, KOJIN

HEAD = '[layout]\nname = "t"\nformat = "{fmt}"\nencoding = "cp932"\nterminator = "lf"\n'


def _layout(fmt: str, extra: str, fields: str) -> str:
    return HEAD.format(fmt=fmt) + extra + "\n" + fields


@pytest.mark.parametrize(("text", "where"), [
    ("a = " + "[" * 600 + "]" * 600 + "\n", "nested too deeply"),
    (_layout("fixed", "record_length = 2147483648",
             '[[field]]\nname = "a"\nlength = 2147483648\ntype = "text"\n'), "at most"),
    (_layout("fixed", "record_length = 300000",
             '[[field]]\nname = "a"\nlength = 300000\ntype = "text"\n') + "", None),
    (_layout("csv", "header = false", '[[field]]\nname = "d"\nlength = 4\ntype = "date"\n'),
     "takes 8 bytes"),
    (_layout("fixed", "record_length = 3", '[[field]]\nname = "_record"\nlength = 3\n'
             'type = "text"\n'), "chukan's own columns"),
    (_layout("fixed", "record_length = 11", '[[field]]\nname = "d"\nlength = 8\n'
             'type = "date"\n[[field]]\nname = "d_partial"\nlength = 3\ntype = "text"\n'),
     "would clash"),
    (_layout("fixed", "record_length = 3", '[[field]]\nname = "a"\nlength = 3\n'
             'type = "text"\ncounts = "x"\n'), "counts"),
    (_layout("csv", 'header = true\nheader_text = "label"',
             '[[field]]\nname = "a"\nlabel = "X"\nlength = 3\ntype = "text"\n'
             '[[field]]\nname = "b"\nlabel = "X"\nlength = 3\ntype = "text"\n'),
     "two fields have the label"),
    # a header the file's encoding cannot hold (髙 is not in JIS X 0208): it used to stop
    # the writer with a UnicodeEncodeError
    (_layout("csv", 'header = true\nheader_text = "label"', '[[field]]\nname = "a"\n'
             'label = "髙橋"\nlength = 3\ntype = "text"\n').replace("cp932", "shift_jis"),
     r"field\[0\]\.label: '髙橋' has a character shift_jis lacks"),
    (_layout("csv", "header = true", '[[field]]\nname = "①"\nlength = 3\ntype = "text"\n')
     .replace("cp932", "shift_jis"), "the CSV header could not be written"),
    (_layout("fixed", "record_length = 3", '[[field]]\nname = "a"\nlength = 3\n'
             f'type = "code"\ntable = "{"x" * 300}"\n'), "no code table named"),
])
def test_hostile_layouts_are_layout_errors_or_work(text: str, where: str | None) -> None:
    if where is None:  # a long record on a small file: memory follows the file
        report = chukan.Report()
        chukan.read(b"abc\n", chukan.loads_layout(text), report=report)
        assert [p.code for p in report] == ["record-length"]
        return
    with pytest.raises(LayoutError, match=where):
        chukan.loads_layout(text)


def test_a_million_layout_problems_are_counted_not_all_printed() -> None:
    fields = "".join(f'[[field]]\nname = "f{i}"\nlength = 1\ntype = "txt"\n'
                     for i in range(2000))
    with pytest.raises(LayoutError) as err:
        chukan.loads_layout(_layout("csv", "header = false", fields))
    assert len(err.value.problems) == 2000
    assert len(str(err.value).splitlines()) == LayoutError.SHOWN + 2
    assert str(err.value).endswith(f"… and {2000 - LayoutError.SHOWN} more")


def test_a_mapping_from_text_to_a_date_is_a_load_error(tmp_path: Path) -> None:
    mapping = (FIXTURES.parent / "layouts" / "examples" / "vendor-a" /
               "kojin-to-kihon.toml").read_text(encoding="utf-8")
    mapping = mapping.replace('target = "seinengappi"\nsource = "seinengappi"',
                              'target = "seinengappi"\nsource = "shimei_kanji"')
    assert 'source = "shimei_kanji"' in mapping
    (tmp_path / "map.toml").write_text(mapping.replace('gaiji_map = "gaiji"', ""),
                                       encoding="utf-8")
    (tmp_path / "zokugara-to-standard.toml").write_bytes(
        (FIXTURES.parent / "layouts" / "examples" / "vendor-a" /
         "zokugara-to-standard.toml").read_bytes())
    with pytest.raises(LayoutError, match="takes a date field"):
        chukan.load_mapping(tmp_path / "map.toml")


@pytest.mark.parametrize("ref", ["/etc/passwd.toml", "../../outside.toml"])
def test_tables_cannot_leave_the_layout_folders(tmp_path: Path, ref: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (tmp_path / "outside.toml").write_text(
        '[code_table]\nname = "x"\n[code_table.codes]\n"1" = "x"\n', encoding="utf-8")
    if ref.startswith("/"):
        ref = str(tmp_path / "outside.toml")
    layout = inner / "l.toml"
    layout.write_text(_layout("fixed", "record_length = 1",
                              f'[[field]]\nname = "a"\nlength = 1\ntype = "code"\n'
                              f"table = '{ref}'\n"), encoding="utf-8")
    with pytest.raises(LayoutError, match="CHUKAN_TRUST_PATHS"):
        chukan.load_layout(layout)
    monkeypatch.setenv("CHUKAN_TRUST_PATHS", "1")  # the explicit option
    assert chukan.load_layout(layout).fields[0].table is not None


def test_a_dos_eof_byte_is_named_and_can_be_part_of_the_format(tmp_path: Path) -> None:
    data = (FIXTURES / "vendor-a" / "juki-kojin.dat").read_bytes() + b"\x1a"
    report = chukan.Report()
    frame = chukan.read(data, KOJIN, report=report)
    assert [(p.code, p.severity) for p in report] == [("eof-marker", "warning")]
    assert frame.height == 5
    text = (FIXTURES.parent / "layouts" / "examples" / "vendor-a" / "juki-kojin.toml"
            ).read_text(encoding="utf-8").replace("[layout]\n", "[layout]\neof_marker = true\n")
    layout = chukan.loads_layout(text, base=FIXTURES.parent / "layouts" / "examples" /
                                 "vendor-a")
    report = chukan.Report()
    frame = chukan.read(data, layout, report=report)
    assert report.problems == []
    chukan.write(frame, tmp_path / "back.dat", layout)
    assert (tmp_path / "back.dat").read_bytes() == data


def test_an_invalid_date_given_to_write_is_a_data_problem(tmp_path: Path) -> None:
    csv = tmp_path / "k.csv"
    assert CliRunner().invoke(main, ["read", str(FIXTURES / "vendor-a" / "juki-kojin.dat"),
                                     "-l", KOJIN, "-o", str(csv)]).exit_code == 0
    text = csv.read_text(encoding="utf-8").replace("1975-04-01", "1975-13-45")
    csv.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["write", str(csv), "-l", KOJIN, "-o",
                                       str(tmp_path / "o.dat")])
    assert result.exit_code == 1, result.output
    assert "record 1" in result.output
    assert "seinengappi" in result.output
    assert not (tmp_path / "o.dat").exists()


@pytest.mark.parametrize("data", [
    b"a,b,c\rd,e,f\r",  # CR-only (old Mac) line ends
    b'a,"b\rc",d\r\n1,2\r3",4\r\n',  # bare CRs with quotes
    "氏名,住所\r\n山田,東京\r\n".encode("utf-16"),  # Excel's "Unicode text"
    "氏名,住所\r\n".encode("utf-16-le"),  # the same without its byte-order mark
])
def test_csv_line_ends_and_utf16_never_crash(data: bytes) -> None:
    layout = chukan.loads_layout(
        '[layout]\nname = "t"\nformat = "csv"\nencoding = "cp932"\nterminator = "crlf"\n'
        'header = true\n[[field]]\nname = "a"\nlength = 10\ntype = "text"\n'
        '[[field]]\nname = "b"\nlength = 10\ntype = "text"\n[[field]]\nname = "c"\n'
        'length = 10\ntype = "text"\n')
    report = chukan.Report()
    chukan.read(data, layout, report=report)
    codes = {p.code for p in report}
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data:
        assert codes == {"wrong-encoding"}
    else:
        assert codes and codes <= {"csv-header", "csv-columns", "csv-quote", "control-char",
                                   "terminator-mixed", "terminator-missing"}
    if data.startswith(b"a,b,c\r"):
        assert "CR" in next(p.message for p in report if p.code == "csv-header")


def test_a_file_in_another_encoding_says_what_it_looks_like() -> None:
    """Issue 8: 9. Most records fail to decode: inspect's guess is said."""
    text = (FIXTURES / "vendor-a" / "juki-kojin.kihon.csv").read_bytes().decode("utf-8")
    data = text.encode("cp932", "replace")
    report = chukan.Report()
    chukan.read(data, "kihon/juki/kojin", report=report)
    (header,) = [p for p in report if p.code == "csv-header"]
    assert "cp932 のようです(レイアウトは utf-8)" in header.message
    fixed = (FIXTURES / "vendor-a" / "juki-kojin.dat").read_bytes()
    utf8 = fixed.decode("cp932").encode("utf-8")
    layout = chukan.load_layout("examples/vendor-a/juki-kojin")
    report = chukan.Report()
    chukan.read(fixed.decode("cp932").encode("euc_jp", "replace"), layout, report=report)
    assert any(p.code == "encoding-hint" and "euc_jp" in p.message for p in report)
    with pytest.raises(chukan.DataError, match="utf-8 のようです"):
        chukan.read(utf8, layout)
