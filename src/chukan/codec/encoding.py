"""Text into bytes: CP932's duplicate-code policy, the writer's encode tables, and the
characters an encoding would read back as others (lookalikes)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from chukan.spec.encoding import UNREADABLE

if TYPE_CHECKING:
    import numpy.typing as npt
    import polars as pl

    from chukan.codec._base import FormatCheck


#: CP932 characters that CPython encodes in the NEC-selected IBM rows (lead bytes ED/EE)
#: but Windows, Java's MS932 and WHATWG encode in the IBM rows (FA–FC).
@cache
def _nec_selected() -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for lead in (0xFA, 0xFB, 0xFC):
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFD)):
            raw = bytes((lead, trail))
            try:
                ch = raw.decode("cp932")
            except UnicodeDecodeError:
                continue
            if ch.encode("cp932")[0] in (0xED, 0xEE):
                found[ch] = raw
    return found


# Each character of that table is swapped, before encoding, for a two-character marker:
# one of the control characters U+0001–U+0004 (which data never holds: control
# characters are rejected first) and a printable ASCII character. Encoded, a marker is
# two bytes, as long as the IBM code it stands for, and its first byte can never be a
# trail byte, so the IBM bytes are put in its place in one vectorised pass.
_MARK_FIRST = 0x01


_MARK_SPAN = 94


@cache
def _ibm_markers() -> tuple[list[str], list[str], npt.NDArray[np.uint8]]:
    table = _nec_selected()
    chars = sorted(table)
    markers = [chr(_MARK_FIRST + i // _MARK_SPAN) + chr(0x21 + i % _MARK_SPAN)
               for i in range(len(chars))]
    codes = np.frombuffer(b"".join(table[c] for c in chars), dtype=np.uint8).reshape(-1, 2)
    return chars, markers, codes


def prepare_for_encoding(values: pl.Series, encoding: str, duplicates: str
                         ) -> tuple[pl.Series, bool]:
    r"""Swap characters whose CP932 bytes depend on the duplicate policy for markers that
    :func:`encode_text` turns into the IBM rows (only for ``cp932`` with policy ``ibm``);
    the flag says whether any marker was placed.

    >>> import polars as pl
    >>> encode_text(*prepare_for_encoding(pl.Series(["髙"]), "cp932", "ibm"), "cp932")
    b'ûü'
    >>> encode_text(*prepare_for_encoding(pl.Series(["髙"]), "cp932", "nec"), "cp932")
    b'îà'
    """
    if not needs_markers(values, encoding, duplicates):
        return values, False
    chars, markers, _ = _ibm_markers()
    return values.str.replace_many(chars, markers), True


#: what a writer says of a value holding U+FFFD
REPLACEMENT_MESSAGE = "置換文字(U+FFFD)は書けません(読み戻すと、読めなかったバイトの印になります)"


#: encodings the compiled core encodes, from :func:`encode_table`
CORE_ENCODINGS = ("cp932", "shift_jis", "euc_jp")

#: EUC-JP's lead byte of three-byte characters (JIS X 0212)
_THREE = 0x8F


@cache
def encode_table(encoding: str, duplicates: str) -> npt.NDArray[np.uint16]:
    """Every BMP character's code for the compiled core's encoder: CPython's codec, and
    under ``cp932`` with the ``ibm`` policy the IBM rows for the NEC-selected duplicates,
    exactly as :func:`prepare_for_encoding` and :func:`encode_text` write them. A code
    below 0x100 is one byte, one from 0x8000 two; EUC-JP's three bytes ``8F xx yy`` are
    ``(xx - 0x80) << 8 | yy`` (from 0x2100 to 0x7EFF: apart from both). 0xFFFF marks a
    character the encoding lacks or would not read back (:data:`UNREADABLE`). Built once
    per process, encoding and policy.

    >>> table = encode_table("cp932", "ibm")
    >>> hex(table[ord("髙")]), hex(encode_table("cp932", "nec")[ord("髙")])
    ('0xfbfc', '0xeee0')
    >>> hex(table[ord("A")]), hex(table[ord("\u0100")])
    ('0x41', '0xffff')
    >>> hex(encode_table("euc_jp", "nec")[ord("丂")])  # 8F B0 A1
    '0x30a1'
    """
    table = np.full(65536, 0xFFFF, dtype=np.uint16)
    for c in range(65536):
        if 0xD800 <= c < 0xE000:
            continue
        try:
            raw = chr(c).encode(encoding)
        except UnicodeEncodeError:
            continue
        if len(raw) <= 2:
            table[c] = int.from_bytes(raw, "big")
        elif len(raw) == 3 and raw[0] == _THREE:
            table[c] = (raw[1] - 0x80) << 8 | raw[2]
    if encoding == "cp932" and duplicates == "ibm":
        for char, raw in _nec_selected().items():
            table[ord(char)] = int.from_bytes(raw, "big")
    for char in UNREADABLE.get(encoding, ""):
        table[ord(char)] = 0xFFFF
    return table


#: a :func:`writer_table` entry for a character that would read back as another one
LOOKALIKE_CODE = 0xFFFE


@cache
def writer_table(encoding: str, duplicates: str, *, substitute: bool
                 ) -> npt.NDArray[np.uint16]:
    """:func:`encode_table` as the writer uses it: each of the encoding's
    :data:`LOOKALIKES` marked :data:`LOOKALIKE_CODE` (refused), or with ``substitute``
    (the layout's ``substitute_lookalikes``) given its substitute's code.

    >>> hex(writer_table("cp932", "nec", substitute=False)[0x301C])
    '0xfffe'
    >>> hex(writer_table("cp932", "nec", substitute=True)[0x301C])
    '0x8160'
    """
    table = encode_table(encoding, duplicates).copy()
    for char, instead in LOOKALIKES.get(encoding, {}).items():
        table[ord(char)] = table[ord(instead)] if substitute else LOOKALIKE_CODE
    table.flags.writeable = False
    return table


def needs_markers(values: pl.Series, encoding: str, duplicates: str) -> bool:
    """Whether :func:`prepare_for_encoding` would place a marker in ``values``.

    >>> import polars as pl
    >>> needs_markers(pl.Series(["髙", "高"]), "cp932", "ibm")
    True
    >>> needs_markers(pl.Series(["髙"]), "cp932", "nec")
    False
    >>> needs_markers(pl.Series(["高"]), "cp932", "ibm")
    False
    """
    if encoding != "cp932" or duplicates != "ibm":
        return False
    chars, _, _ = _ibm_markers()
    return bool(values.str.contains("[" + "".join(chars) + "]").any())


#: Characters that CPython's codecs encode but decode as another character: written,
#: they would come back changed (〜 U+301C is written 81 60, which reads as ～ U+FF5E).
#: Every one of them, per codec (``tests/test_peers.py`` recomputes this from CPython).
LOOKALIKES: dict[str, dict[str, str]] = {
    "cp932": {"\u00a2": "\uffe0", "\u00a3": "\uffe1", "\u00ac": "\uffe2",
              "\u2016": "\u2225", "\u2212": "\uff0d", "\u301c": "\uff5e"},
    "shift_jis": {"\u00a5": "\\", "\u203e": "~"},
    "euc_jp": {"\u00a5": "\\", "\u203e": "~"},
}


def lookalikes(text: pl.Expr, encoding: str, *, substitute: bool
               ) -> tuple[pl.Expr, list[FormatCheck]]:
    """Text bound for ``encoding`` with its :data:`LOOKALIKES` replaced (``substitute``,
    the layout's ``substitute_lookalikes``) or checked: by default a value holding one is
    ``not-representable``, since it would read back as another character.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"v": ["1〜2", "1～2", None]})
    >>> value, checks = lookalikes(pl.col("v"), "cp932", substitute=False)
    >>> frame.select(checks[0][2].alias("bad"))["bad"].to_list()
    [True, False, None]
    >>> value, _ = lookalikes(pl.col("v"), "cp932", substitute=True)
    >>> frame.select(value)["v"].to_list()
    ['1～2', '1～2', None]
    """
    table = LOOKALIKES.get(encoding)
    if not table:
        return text, []
    if substitute:
        return text.str.replace_many(list(table), list(table.values())), []
    return text, [("not-representable", lookalike_message(encoding),
                   text.str.contains("[" + "".join(table) + "]"))]


def lookalike_message(encoding: str) -> str:
    """What to say of a value holding one of the encoding's :data:`LOOKALIKES`.

    >>> lookalike_message("shift_jis")
    'shift_jisでは別の文字として読み戻される文字があります: ¥(U+00A5) ‾(U+203E)'
    """
    shown = " ".join(f"{c}(U+{ord(c):04X})" for c in LOOKALIKES.get(encoding, {}))
    return f"{encoding}では別の文字として読み戻される文字があります: {shown}"


def encode_text(values: pl.Series | str, marked: bool, encoding: str, *,
                unreadable: bool = False) -> bytes:
    """Encode text (a str, or a one-value Series) prepared by :func:`prepare_for_encoding`;
    raises UnicodeEncodeError for a character the encoding lacks or would not read back
    (:data:`UNREADABLE`; with ``unreadable``, those are encoded as CPython encodes them,
    for a reader that encodes back what it decoded)."""
    text = values if isinstance(values, str) else str(values[0])
    raw = text.encode(encoding)
    for char in "" if unreadable else UNREADABLE.get(encoding, ""):
        place = text.find(char)
        if place >= 0:
            raise UnicodeEncodeError(encoding, text, place, place + 1,
                                     "read back as invalid bytes")
    if not marked:
        return raw
    buf = np.frombuffer(raw, dtype=np.uint8).copy()
    at = np.flatnonzero((buf >= _MARK_FIRST) & (buf < _MARK_FIRST + 4))
    _, _, codes = _ibm_markers()
    index = (buf[at].astype(np.int64) - _MARK_FIRST) * _MARK_SPAN + buf[at + 1] - 0x21
    buf[at] = codes[index, 0]
    buf[at + 1] = codes[index, 1]
    return buf.tobytes()
