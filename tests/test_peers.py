"""chukan against the peers users already trust (test-only dependencies): 和暦 against
japanera on every day from 1873-01-01 to 2100-12-31, width steps against jaconv on every
half-width kana (with each voicing mark), every ASCII character and every digit.

Deliberate differences are listed here, each with its reason, and asserted: a new
difference fails the test, and so does one of these going away unnoticed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jaconv
import polars as pl
import pytest
from japanera import EraDate

import chukan
from chukan.convert import _apply_step
from chukan.layout import load_code_table

FIRST, LAST = dt.date(1873, 1, 1), dt.date(2100, 12, 31)  # the 太陽暦 onwards
DAYS = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]

ERA_LAYOUT = """
[layout]
name = "t/peers"
format = "fixed"
encoding = "cp932"
record_length = 15
terminator = "lf"
[[field]]
name = "one"
length = 7
type = "date"
format = "GYYMMDD"
eras = "eras/1digit"
[[field]]
name = "two"
length = 8
type = "date"
format = "GGYYMMDD"
eras = "eras/2digit"
"""


def test_era_dates_agree_with_japanera_on_every_day(tmp_path: Path) -> None:
    """Both era-code widths, written and read back. japanera, like chukan, puts the two
    shared days (1912-07-30, 1926-12-25) in the new era."""
    codes = {width: {era: code for code, era in load_code_table(f"eras/{width}").codes.items()}
             for width in ("1digit", "2digit")}
    expected = []
    for day in DAYS:
        era = EraDate.from_date(day).era
        year = era.absolute_year_to_relative_year(day.year)
        tail = f"{year:02d}{day:%m%d}"
        expected.append(f"{codes['1digit'][era.kanji]}{tail}{codes['2digit'][era.kanji]}{tail}"
                        .encode())
    layout = chukan.loads_layout(ERA_LAYOUT)
    out = tmp_path / "eras.dat"
    chukan.write(pl.DataFrame({"one": DAYS, "two": DAYS}), out, layout)
    assert out.read_bytes().split(b"\n")[:-1] == expected
    back = chukan.read(out, layout)
    assert back["one"].to_list() == DAYS
    assert back["two"].to_list() == DAYS


def _chukan(step: str, values: list[str]) -> list[str]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(_apply_step(step, pl.col("v"), None))["v"].to_list()


HALF_KANA = [chr(c) for c in range(0xFF61, 0xFFA0)]
#: every half-width kana alone and followed by each voicing mark
KANA_INPUTS = HALF_KANA + [k + mark for k in HALF_KANA for mark in "ﾞﾟ"]
#: chukan composes ﾜﾞ and ｦﾞ into ヷ and ヺ (they exist in CP932's neighbours and in
#: Unicode, and 外国人 names use them); jaconv leaves the pair as it is
COMPOSED = {"ﾜﾞ": "ヷ", "ｦﾞ": "ヺ"}


def _marks_full(text: str) -> str:
    return text.replace("ﾞ", "゛").replace("ﾟ", "゜")


def test_half_to_full_width_kana_agrees_with_jaconv() -> None:
    """One difference besides COMPOSED: a voicing mark that cannot combine (ｱﾞ, or ﾞ alone)
    becomes the full-width mark ゛ / ゜, where jaconv leaves it half-width. A full-width
    field must not keep a half-width character, and ゛ goes back to ﾞ unchanged."""
    ours = _chukan("kana_to_fullwidth", KANA_INPUTS)
    theirs = [jaconv.h2z(v, kana=True, ascii=False, digit=False) for v in KANA_INPUTS]
    differ = {v: (a, b) for v, a, b in zip(KANA_INPUTS, ours, theirs, strict=True) if a != b}
    explained = {v for v, (a, b) in differ.items()
                 if a == COMPOSED.get(v) or a == _marks_full(b)}
    assert set(differ) == explained
    assert set(COMPOSED) <= set(differ)


def test_full_to_half_width_kana_agrees_with_jaconv() -> None:
    full = sorted({*_chukan("kana_to_fullwidth", KANA_INPUTS), *map(chr, range(0x30A1, 0x30FB))})
    ours = _chukan("kana_to_halfwidth", full)
    theirs = [jaconv.z2h(v, kana=True, ascii=False, digit=False) for v in full]
    differ = {v: (a, b) for v, a, b in zip(full, ours, theirs, strict=True) if a != b}
    # ヷ and ヺ: split back into the pair they came from; ゛ and ゜: back to ﾞ and ﾟ
    inverse = {composed: pair for pair, composed in COMPOSED.items()}
    explained = {v for v, (a, b) in differ.items()
                 if a == inverse.get(v) or a == b.replace("゛", "ﾞ").replace("゜", "ﾟ")}
    assert set(differ) == explained
    assert set(inverse) <= set(differ)


@pytest.mark.parametrize(("forward", "backward", "chars", "switch"), [
    ("ascii_to_fullwidth", "ascii_to_halfwidth",
     [chr(c) for c in range(0x20, 0x7F) if not chr(c).isdigit()], "ascii"),
    ("digits_to_fullwidth", "digits_to_halfwidth", [str(d) for d in range(10)], "digit"),
])
def test_ascii_and_digits_agree_with_jaconv(forward: str, backward: str, chars: list[str],
                                            switch: str) -> None:
    """No difference: space becomes U+3000 in both, and back."""
    options = {"kana": False, "ascii": switch == "ascii", "digit": switch == "digit"}
    full = _chukan(forward, chars)
    assert full == [jaconv.h2z(c, **options) for c in chars]
    assert _chukan(backward, full) == [jaconv.z2h(c, **options) for c in full] == chars


def test_wave_dash_is_never_normalised() -> None:
    """jaconv.normalize turns 〜 (U+301C) into ー: a different character, and the cp932
    round trip relies on 〜 staying itself. No chukan step touches it."""
    assert jaconv.normalize("〜") == "ー"
    steps = ["kana_to_fullwidth", "kana_to_halfwidth", "ascii_to_fullwidth",
             "ascii_to_halfwidth", "digits_to_fullwidth", "digits_to_halfwidth"]
    assert {_chukan(step, ["〜"])[0] for step in steps} == {"〜"}
