"""The MJ side of 文字同定: IPAmj明朝's glyphs by their MJ 文字図形名, each with the
Unicode sequence that selects it (a code point, and an IVS for a variant), and a
worksheet's decisions turned into a 外字 map.

IPAmj明朝 names each glyph by its MJ 文字図形名 (``mj030244``); its format-12 cmap gives a
glyph's code point and its format-14 cmap a variant's ideographic variation sequence.
The font is never shipped: Debian's ``fonts-ipamj-mincho`` is found where it installs,
or a path is given.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chukan.errors import UsageError
from chukan.gaiji._font import font_sequences, reading_font

if TYPE_CHECKING:
    from collections.abc import Mapping

#: where Debian's fonts-ipamj-mincho puts the font, and other usual places
MJ_FONT_PLACES = ("/usr/share/fonts/truetype/ipamj/ipamjm.ttf",
                  "/usr/share/fonts/opentype/ipamj/ipamjm.ttf",
                  "C:/Windows/Fonts/ipamjm.ttf")
_MJ_NAME = re.compile(r"^mj\d{6}$", re.IGNORECASE)
_CODES = re.compile(r"^(?:U\+[0-9A-F]{4,6})(?:[\s_+]+U\+[0-9A-F]{4,6})*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MjFont:
    """An MJ font, read: each glyph name's Unicode sequence, and every sequence it draws."""

    path: str
    sequence: Mapping[str, str]  # MJ 文字図形名 (lower case) → its Unicode sequence
    drawn: frozenset[str]  # every code point and variation sequence the font maps


def find_mj_font(path: str | Path | None = None) -> Path:
    """The MJ font: ``path``, or IPAmj明朝 where Debian installs it."""
    if path is not None:
        return Path(path)
    for place in MJ_FONT_PLACES:
        if Path(place).is_file():
            return Path(place)
    msg = ("IPAmj明朝が見つかりません: --mj-font でフォントファイルを指定するか、"
           "fonts-ipamj-mincho を入れてください")
    raise UsageError(msg)


def load_mj_font(path: str | Path | None = None, data: bytes | None = None) -> MjFont:
    """Read an MJ font's cmaps (format 12 and 14) into names and sequences (``data``:
    the file's bytes, when already read)."""
    where = find_mj_font(path)
    with reading_font(where, "MJフォント", data) as font:
        drawn = font_sequences(font)
    # a glyph's sequence names its IVS where it has one (the lowest), the default
    # glyph's too: the variant is then chosen in any font, not only in one whose plain
    # glyph it is; else a standardized variation sequence (U+FE00…, for compatibility
    # ideographs); else the lowest plain character
    def preferred(item: tuple[str, str]) -> tuple[int, str]:
        seq = item[0]
        if len(seq) == 1:
            return 2, seq
        return (0 if "\U000e0100" <= seq[-1] <= "\U000e01ef" else 1), seq

    sequence: dict[str, str] = {}
    for seq, name in sorted(drawn.items(), key=preferred):
        sequence.setdefault(name.lower(), seq)
    return MjFont(str(where), sequence, frozenset(drawn))


def decided(text: str, mj: MjFont) -> str:
    """A worksheet decision as a Unicode sequence: an MJ 文字図形名 (``mj030244``), code
    points (``U+8FBB U+E0101``), or the characters themselves. A decision the MJ font
    does not draw is an error: nothing is guessed."""
    text = text.strip()
    if _MJ_NAME.match(text):
        found = mj.sequence.get(text.lower())
        if found is None:
            msg = f"{text}: MJフォントにない文字図形名です"
            raise UsageError(msg)
        return found
    if _CODES.match(text):
        codes = [int(code, 16) for code in re.findall(r"U\+([0-9A-F]+)", text, re.IGNORECASE)]
        if any(code > 0x10FFFF for code in codes):
            msg = f"{text}: Unicode にないコードポイントです"
            raise UsageError(msg)
        seq = "".join(map(chr, codes))
    else:
        seq = text
    if seq not in mj.drawn:
        shown = " ".join(f"U+{ord(c):04X}" for c in seq)
        msg = f"{text}: MJフォントにない文字です({shown})"
        raise UsageError(msg)
    return seq


def _invisible(c: str) -> bool:
    """A character that shows nothing where it stands: a control, a variation selector,
    a private-use character."""
    return unicodedata.category(c) in ("Cc", "Cf", "Co", "Cn") or \
        0xFE00 <= ord(c) <= 0xFE0F or 0xE0100 <= ord(c) <= 0xE01EF


#: the worksheet's columns: the 外字 (its code point) and the decision
CODE_COLUMNS = ("コードポイント", "code_point")
DECISION_COLUMNS = ("決定", "decision")


def sheet_rows(path: str | Path) -> list[dict[str, str]]:
    """The rows of a worksheet: ``.xlsx`` (its first sheet) or CSV (UTF-8, a BOM allowed,
    or CP932 as Excel saves it on a Japanese PC), each as column → text."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        try:
            import openpyxl  # noqa: PLC0415 -- an optional extra
        except ImportError:
            msg = "xlsx を読むには openpyxl が必要です: pip install 'chukan[gaiji]'"
            raise UsageError(msg) from None
        try:
            book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True,
                                          data_only=True)
            values = [["" if v is None else str(v) for v in row]
                      for row in book.worksheets[0].iter_rows(values_only=True)]
        except OSError:
            raise
        except Exception as exc:  # openpyxl raises many kinds on a file that is no book
            msg = f"{path}: xlsx として読めません ({type(exc).__name__}: {exc})"
            raise UsageError(msg) from None
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp932")
            except UnicodeDecodeError:
                msg = f"{path}: UTF-8 でも CP932 でも読めません"
                raise UsageError(msg) from None
        values = list(csv.reader(io.StringIO(text, newline="")))
    if not values:
        return []
    header = [h.strip() for h in values[0]]
    return [dict(zip(header, row, strict=False)) for row in values[1:] if any(row)]


@dataclass(slots=True)
class Decisions:
    """A worksheet read: the 外字 map it decides, and the 外字 still without a decision."""

    chars: dict[str, str]  # 外字 → Unicode sequence
    undecided: list[str]  # code points (U+E001), in sheet order


def decisions(path: str | Path, mj: MjFont) -> Decisions:
    """Each row's 外字 and its decision (rows left empty are undecided, never guessed).
    Every bad decision is reported at once."""
    rows = sheet_rows(path)
    header = set(rows[0]) if rows else set()
    code = next((c for c in CODE_COLUMNS if c in header), None)
    choice = next((c for c in DECISION_COLUMNS if c in header), None)
    if code is None or choice is None:
        msg = (f"{path}: 列「{CODE_COLUMNS[0]}」と「{DECISION_COLUMNS[0]}」が必要です"
               f"(見出し: {', '.join(sorted(header)) or 'なし'})")
        raise UsageError(msg)
    out = Decisions({}, [])
    errors: list[str] = []
    for number, row in enumerate(rows, 2):
        key = row.get(code, "").strip()
        match = re.fullmatch(r"U\+([0-9A-F]{4,6})", key, re.IGNORECASE)
        if match is None or int(match.group(1), 16) > 0x10FFFF:
            errors.append(f"{number}行目: {code} {key!r} は U+XXXX ではありません")
            continue
        char = chr(int(match.group(1), 16))
        text = row.get(choice, "").strip()
        if not text:
            out.undecided.append(key.upper())
            continue
        if re.fullmatch(r"[0-9０-９]{1,2}", text):  # a candidate's number (full width too)
            column = f"候補{int(text)}"  # its name is the first line of that column
            text = row.get(column, "").strip().split("\n")[0].strip()
            if not text:
                shown = sum(1 for h in row if re.fullmatch(r"候補\d+", h))
                errors.append(f"{number}行目 {key.upper()}: {column} がありません"
                              f"(候補の番号は 1〜{shown})")
                continue
        try:
            out.chars[char] = decided(text, mj)
        except UsageError as exc:
            errors.append(f"{number}行目 {key.upper()}: {exc}")
    if errors:
        raise UsageError("\n".join(errors))
    return out


def gaiji_toml(chars: Mapping[str, str], *, name: str, source: str) -> str:
    r"""A 外字 map file (``[gaiji_map]``) for a mapping's ``gaiji_map``: keys as U+XXXX,
    values as written, but an invisible character (a variation selector, a private-use
    one, a control) as an escape, so that an IVS stays visible in the file.

    >>> print(gaiji_toml({"\ue000": "辻\U000e0101"}, name="town", source="sheet.xlsx"))
    [gaiji_map]
    name = "town"
    source = "sheet.xlsx"
    <BLANKLINE>
    [gaiji_map.chars]
    "U+E000" = "辻\U000e0101"  # 辻 + VS18
    <BLANKLINE>
    """
    def escaped(text: str) -> str:
        return "".join(f"\\U{ord(c):08x}" if ord(c) > 0xFFFF and _invisible(c) else
                       f"\\u{ord(c):04x}" if _invisible(c) or c in '"\\' else c
                       for c in text)

    def shown(seq: str) -> str:
        base = "".join(c for c in seq if not 0xE0100 <= ord(c) <= 0xE01EF)
        marks = [f"VS{ord(c) - 0xE0100 + 17}" for c in seq if 0xE0100 <= ord(c) <= 0xE01EF]
        return " + ".join([base, *marks])

    lines = ["[gaiji_map]", f'name = "{escaped(name)}"', f'source = "{escaped(source)}"', "",
             "[gaiji_map.chars]"]
    lines += [f'"U+{ord(k):04X}" = "{escaped(v)}"  # {shown(v)}' for k, v in sorted(chars.items())]
    return "\n".join(lines) + "\n"
