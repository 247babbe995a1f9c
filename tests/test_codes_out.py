"""Convert never writes a code its own target rejects; code maps are checked when loaded
(issue 8: 3, 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

import chukan
from chukan import LayoutError
from helpers import FIXTURES

KOJIN_DAT = FIXTURES / "vendor-a" / "juki-kojin.dat"
MAPPING = (Path(__file__).resolve().parent.parent / "layouts" / "examples" / "vendor-a" /
           "kojin-to-kihon.toml").read_text(encoding="utf-8")
CODE_MAP = """
[code_map]
name = "t/zokugara"
source = "examples/vendor-a/zokugara"
target = "{target}"
[code_map.codes]
{codes}
"""


def _mapping(folder: Path, codes: str, *, target: str = "codes/juki/zokugara",
             unmapped: str = "reject") -> Path:
    (folder / "zokugara-to-standard.toml").write_text(
        CODE_MAP.format(target=target, codes=codes), encoding="utf-8")
    path = folder / "map.toml"
    gaiji = FIXTURES.parent / "layouts" / "examples" / "vendor-a" / "gaiji.toml"
    path.write_text(MAPPING.replace('unmapped = "reject"', f'unmapped = "{unmapped}"')
                    .replace('gaiji_map = "gaiji"', f"gaiji_map = '{gaiji.as_posix()}'"),
                    encoding="utf-8")
    return path


def test_a_typo_in_a_code_maps_table_is_a_load_error(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, '"01" = "02"', target="codes/juki/zokugra")
    with pytest.raises(LayoutError, match="zokugra"):
        chukan.load_mapping(mapping)


@pytest.mark.parametrize(("codes", "bad"), [('"01" = "03"', "'03'"), ('"07" = "02"', "'07'")])
def test_a_code_outside_the_maps_tables_is_a_load_error(tmp_path: Path, codes: str,
                                                        bad: str) -> None:
    with pytest.raises(LayoutError, match=bad):
        chukan.load_mapping(_mapping(tmp_path, codes))


def test_kept_codes_the_target_table_lacks_are_rejected_not_written(tmp_path: Path) -> None:
    # 01 → 02 (世帯主); 04 (子) is kept as it is, and 04 is no standard 続柄
    mapping = _mapping(tmp_path, '"01" = "02"\n"02" = "12"', unmapped="keep")
    result = chukan.convert(KOJIN_DAT, mapping, tmp_path / "o.csv")
    assert (result.records_out, result.records_rejected) == (4, 1)
    assert result.rejects_by_reason == {"unknown-code": 1}
    written = chukan.read(tmp_path / "o.csv", "kihon/juki/kojin")
    assert "04" not in written["zokugara"].to_list()


def test_a_code_of_the_source_table_without_a_row_is_unmapped_code(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, '"01" = "02"\n"02" = "12"')  # no row for 04 (子)
    result = chukan.convert(KOJIN_DAT, mapping, tmp_path / "o.csv")
    assert result.rejects_by_reason == {"unmapped-code": 1}


def test_the_writer_checks_code_tables_too(tmp_path: Path) -> None:
    frame = chukan.read(KOJIN_DAT, "examples/vendor-a/juki-kojin")
    bad = frame.with_columns(frame["zokugara"].set(frame["atena_no"] == "0000000002", "77"))
    report = chukan.Report()
    chukan.write(bad, tmp_path / "o.dat", "examples/vendor-a/juki-kojin", report=report)
    assert [(p.code, p.record) for p in report] == [("unknown-code", 2)]
