"""Every rule runs backwards exactly, or the mapping is refused before anything is written
(issue 8: 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

import chukan
from chukan import NotInvertibleError

SOURCE = """
[layout]
name = "t/addr"
format = "csv"
encoding = "utf-8"
terminator = "lf"
header = true
[[field]]
name = "addr"
length = 40
type = "text"
"""
TARGET = """
[layout]
name = "t/std"
format = "csv"
encoding = "utf-8"
terminator = "lf"
header = true
[[field]]
name = "banchi"
length = 40
type = "text"
[[field]]
name = "katagaki"
length = 40
type = "text"
"""


def _mapping(folder: Path, banchi: list[str], katagaki: list[str]) -> Path:
    (folder / "addr.toml").write_text(SOURCE, encoding="utf-8")
    (folder / "std.toml").write_text(TARGET, encoding="utf-8")
    path = folder / "map.toml"
    path.write_text(f"""
[mapping]
name = "t/map"
source = "addr.toml"
target = "std.toml"
[[rule]]
target = "banchi"
source = "addr"
steps = {banchi!r}
[[rule]]
target = "katagaki"
source = "addr"
steps = {katagaki!r}
""".replace("'", '"'), encoding="utf-8")
    return path


def test_a_split_with_steps_on_both_sides_runs_back_to_the_same_bytes(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, ["ascii_to_fullwidth", "first_part", "ascii_to_halfwidth"],
                       ["ascii_to_fullwidth", "rest_part", "ascii_to_halfwidth",
                        "kana_to_fullwidth"])
    source = tmp_path / "in.csv"
    source.write_bytes("addr\n26-17-20 ﾊｲﾂ508\n1-2-3\n".encode())
    out = tmp_path / "std.csv"
    chukan.convert(source, mapping, out)
    assert out.read_bytes().decode() == "banchi,katagaki\n26-17-20,ハイツ508\n1-2-3,\n"
    back = tmp_path / "back.csv"
    result = chukan.convert(out, mapping, back, reverse=True)
    assert (result.records_out, result.records_rejected) == (2, 0)
    assert back.read_bytes() == source.read_bytes()


def test_a_split_whose_halves_disagree_before_it_is_refused_naming_the_rule(
        tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, ["ascii_to_fullwidth", "first_part"], ["rest_part"])
    out = tmp_path / "back.csv"
    (tmp_path / "std.csv").write_bytes(b"banchi,katagaki\n1,2\n")
    with pytest.raises(NotInvertibleError, match=r"katagaki.*rest_part.*banchi"):
        chukan.convert(tmp_path / "std.csv", mapping, out, reverse=True)
    assert not out.exists()


def test_a_step_that_cannot_run_backwards_is_named(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, ["first_part", "trim"], ["rest_part"])
    (tmp_path / "std.csv").write_bytes(b"banchi,katagaki\n1,2\n")
    with pytest.raises(NotInvertibleError, match=r"banchi.*'trim'"):
        chukan.convert(tmp_path / "std.csv", mapping, tmp_path / "o.csv", reverse=True)


LEGACY = """
[layout]
name = "t/legacy"
format = "csv"
encoding = "utf-8"
terminator = "lf"
header = true
[[field]]
name = "addr"
length = 40
type = "text"
[[field]]
name = "biko"
label = "備考"
length = 40
type = "text"
[[field]]
name = "tanto"
label = "担当"
length = 10
type = "text"
[[field]]
name = "kubun"
length = 2
type = "text"
"""


def _dropping(folder: Path, back: str) -> Path:
    (folder / "legacy.toml").write_text(LEGACY, encoding="utf-8")
    (folder / "std.toml").write_text(TARGET, encoding="utf-8")
    path = folder / "drop.toml"
    path.write_text(f"""
[mapping]
name = "t/drop"
source = "legacy.toml"
target = "std.toml"
[[rule]]
target = "banchi"
source = "addr"
[[rule]]
target = "katagaki"
constant = ""
{back}
""", encoding="utf-8")
    return path


def test_a_migration_that_drops_fields_lists_all_of_them_at_once(tmp_path: Path) -> None:
    mapping = _dropping(tmp_path, "")
    (tmp_path / "std.csv").write_bytes(b"banchi,katagaki\n1-2-3,\n")
    with pytest.raises(NotInvertibleError) as err:
        chukan.convert(tmp_path / "std.csv", mapping, tmp_path / "o.csv", reverse=True)
    assert all(name in str(err.value) for name in ("biko (備考)", "tanto (担当)", "kubun"))


def test_back_entries_say_what_dropped_fields_get(tmp_path: Path) -> None:
    mapping = _dropping(tmp_path, """
[[back]]
field = "biko"
constant = ""
[[back]]
field = "tanto"
constant = "移行"
[[back]]
field = "kubun"
source = "katagaki"
""")
    (tmp_path / "std.csv").write_bytes(b"banchi,katagaki\n1-2-3,A1\n")
    result = chukan.convert(tmp_path / "std.csv", mapping, tmp_path / "o.csv", reverse=True)
    assert result.records_out == 1
    assert (tmp_path / "o.csv").read_bytes().decode() == "addr,biko,tanto,kubun\n1-2-3,,移行,A1\n"


def test_back_entries_are_checked_when_the_mapping_loads(tmp_path: Path) -> None:
    mapping = _dropping(tmp_path, """
[[back]]
field = "bikou"
constant = ""
[[back]]
field = "tanto"
source = "katagak"
[[back]]
field = "kubun"
""")
    with pytest.raises(chukan.LayoutError) as err:
        chukan.load_mapping(mapping)
    text = str(err.value)
    assert "did you mean 'biko'" in text
    assert "did you mean 'katagaki'" in text
    assert "give either constant" in text
