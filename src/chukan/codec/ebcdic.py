r"""The host code pages as Python codecs: IBM's Japanese EBCDIC (``chukan_ibm930``,
``chukan_ibm939``, ``chukan_ibm1390``, ``chukan_ibm1399``), the vendor pages
(``chukan_jef``, ``chukan_keis``, ``chukan_jips``) and the pages users' code-page tables
define (``chukan_jef_3fa2…``); and the byte translations that let numbers, dates and
digits be read and written in ASCII.

The files are read and written by the compiled core, a column at a time. These codecs
are for single values: the text a report shows, a value in an error message. They are
strict both ways and backed by the same tables as the core; a text is one stream, single
bytes first, double-byte runs between the page's shift codes (IBM's SO 0x0E and SI 0x0F).
CPython has no codec for these pages, so chukan registers its own under names no other
package uses.

>>> "ｱｲ山田".encode("chukan_ibm930")
b'\x81\x82\x0eEeEc\x0f'
>>> b"\x81\x82\x0eEeEc\x0f".decode("chukan_ibm930")
'ｱｲ山田'
>>> b"\x0eEe".decode("chukan_ibm930")
Traceback (most recent call last):
UnicodeDecodeError: 'chukan_ibm930' codec can't decode bytes in position 0-2: not ibm930
>>> b"\x0eEe".decode("chukan_ibm930", "replace")
'\ufffd'
>>> chr(to_ascii("ibm930")[0xF7]), hex(from_ascii("ibm930")[ord("-")])
('7', '0x60')
"""

from __future__ import annotations

import codecs
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from chukan import _core
from chukan._arrow import string_series
from chukan.spec._base import is_host

if TYPE_CHECKING:
    import numpy.typing as npt
    import polars as pl
    from typing_extensions import Buffer

_PREFIX = "chukan_"


def _decode(page: str, data: bytes, errors: str) -> str:
    text: str | None = _core.decode_ebcdic(bytes(data), page, "so-si")
    if text is not None:
        return text
    if errors == "strict":
        raise UnicodeDecodeError(_PREFIX + page, bytes(data), 0, len(data),
                                 f"not {page}")  # an undefined code, or a lone shift
    if errors == "ignore":
        return ""
    return "\ufffd"  # a report shows that the value did not decode, never a guess


def _encode(page: str, text: str, errors: str) -> bytes:
    raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    data, _, bad = _core.encode_ebcdic(raw, np.array([0, len(raw)], dtype=np.int64), page,
                                       "so-si")
    if not bad[0]:
        return bytes(data)
    if errors == "strict":
        raise UnicodeEncodeError(_PREFIX + page, text, 0, len(text),
                                 f"a character {page} has no exact code for")
    kept = [c for c in text if not _core.encode_ebcdic(
        np.frombuffer(c.encode("utf-8", "surrogatepass"), dtype=np.uint8),
        np.array([0, len(c.encode("utf-8", "surrogatepass"))], dtype=np.int64), page,
        "so-si")[2][0]]
    return _encode(page, "".join(kept), "strict") if errors == "ignore" else \
        _encode(page, "".join(c if c in kept else "?" for c in text), "strict")


def _codec(page: str) -> codecs.CodecInfo:
    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return _encode(page, text, errors), len(text)

    def decode(data: Buffer, errors: str = "strict", /) -> tuple[str, int]:
        raw = bytes(data)
        return _decode(page, raw, errors), len(raw)

    return codecs.CodecInfo(encode, decode, name=_PREFIX + page)


def _search(name: str) -> codecs.CodecInfo | None:
    page = name.removeprefix(_PREFIX)
    return _codec(page) if name.startswith(_PREFIX) and is_host(page) else None


codecs.register(_search)


def field_text(raw: bytes, codec: str, shift: str = "none") -> str:
    r"""A field's bytes as text for a report, in its shift mode (a graphic field holds
    double bytes with no shift codes); U+FFFD where they do not decode.

    >>> field_text(b"\x45\x65\x40\x40", "chukan_ibm930", "graphic")
    '山\u3000'
    >>> field_text(b"ab", "cp932")
    'ab'
    """
    page = codec.removeprefix(_PREFIX)
    if not is_host(page):
        return raw.decode(codec, "replace")
    text: str | None = _core.decode_ebcdic(raw, page, "so-si" if shift == "so-si" else shift)
    return "\ufffd" if text is None else text


def fields_text(raw: npt.NDArray[np.uint8], codec: str, shift: str = "none") -> pl.Series:
    r""":func:`field_text` of each row of ``raw`` (a value's bytes a row), as a String
    series: decoded in the core, where it has the codec, with the GIL released; only the
    rows that do not decode strictly are read one by one (to show what CPython's codec
    or U+FFFD make of them).

    >>> raw = np.frombuffer(b"12" b"9\x8e" b"\x8eR", np.uint8).reshape(3, 2)
    >>> fields_text(raw, "cp932").to_list()
    ['12', '9\ufffd', '山']
    """
    n, width = raw.shape
    page = codec.removeprefix(_PREFIX)
    host = is_host(page)
    try:
        text, starts, ok = _core.decode_rows(np.ascontiguousarray(raw).reshape(-1), n, width,
                                             page if host else codec,
                                             shift if host else "none")
    except ValueError:  # a codec the core lacks (no layout's): each row in Python
        text, starts, ok = np.zeros(0, np.uint8), np.zeros(n + 1, np.int64), np.zeros(n, bool)
    values = string_series(n, starts, text)
    bad = np.flatnonzero(~ok)
    if len(bad):
        values = values.scatter(bad, [field_text(raw[i].tobytes(), codec, shift) for i in bad])
    return values


def char_span(value: str, k: int, codec: str, shift: str = "none",
              raw: bytes | None = None) -> tuple[int, int]:
    r"""Where ``value[k]`` stands in its field's bytes, in a field of this shift mode:
    byte offset and length (shift codes count in a mixed field, none stand in a graphic
    one); for a report that shows the bytes of one character. Given the field's bytes
    (``raw``), a host field is walked as it is, shift codes the writer would not write
    included; else the value is encoded as the writer would.

    >>> char_span("ｱ山田", 2, "chukan_ibm930", "so-si")
    (4, 2)
    >>> char_span("山田", 1, "chukan_jef", "graphic"), char_span("a山", 1, "cp932")
    ((2, 2), (1, 2))
    >>> char_span("山山", 1, "chukan_jef", "so-si", raw=b"\x28\xbb\xb3\x29\x28\xbb\xb3\x29")
    (5, 2)
    """
    page = codec.removeprefix(_PREFIX)
    if not is_host(page):
        return len(value[:k].encode(codec, "replace")), len(value[k].encode(codec, "replace"))
    mode = shift if shift in ("so-si", "graphic") else "none"
    if raw is not None:
        count = 0
        for offset, width, chars in _codes(raw, page, mode):
            count += chars
            if count > k:
                return offset, width
    double = _field_bytes(value[k], page, "graphic") is not None
    whole = _field_bytes(value[:k + 1], page, mode)
    if whole is None:  # a value the page cannot write: the character's place is unknown
        return len(_field_bytes(value[:k], page, mode) or b""), 0
    si = _core.page_facts(page)[4] if mode == "so-si" and double else b""
    width = 2 if double else 1
    return len(whole) - width - len(si), width


def _codes(raw: bytes, page: str, shift: str) -> list[tuple[int, int, int]]:
    """Each code of a host field's bytes: its offset, its width and how many characters
    it reads as; up to the first that reads as none."""
    _, _, _, shift_out, shift_in = _core.page_facts(page)
    double, i, found = shift == "graphic", 0, []
    while i < len(raw):
        if shift == "so-si":
            code = next((c for c in (shift_in, *shift_out) if raw.startswith(c, i)), None)
            if code is not None:
                double, i = code != shift_in, i + len(code)
                continue
        width = 2 if double else 1
        text = _core.decode_ebcdic(raw[i:i + width], page, "graphic" if double else "none")
        if text is None:
            break
        found.append((i, width, len(text)))
        i += width
    return found


def _field_bytes(text: str, page: str, shift: str) -> bytes | None:
    raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    data, _, bad = _core.encode_ebcdic(raw, np.array([0, len(raw)], dtype=np.int64), page,
                                       shift)
    return None if bad[0] else bytes(data)


@cache
def to_ascii(page: str) -> npt.NDArray[np.uint8]:
    """Each byte's ASCII byte (0 where it stands for no ASCII character): a number,
    date or digits field is translated, then read as in an ASCII file."""
    table = np.frombuffer(_core.ebcdic_ascii(page)[0], dtype=np.uint8).copy()
    table.flags.writeable = False
    return table


@cache
def from_ascii(page: str) -> npt.NDArray[np.uint8]:
    """Each ASCII byte's byte in the page (256 entries; 0 where it has none): what the
    writer's ASCII numbers, dates and digits become."""
    table = np.zeros(256, dtype=np.uint8)
    table[:128] = np.frombuffer(_core.ebcdic_ascii(page)[1], dtype=np.uint8)
    table.flags.writeable = False
    return table


@cache
def control_bytes(codec: str, shift: str = "none") -> npt.NDArray[np.bool_]:
    """Which single bytes are control characters in a Python codec's text: C0 and DEL
    in the ASCII-based encodings; in an EBCDIC page the bytes that decode to a control
    character, and its shift codes outside a ``so-si`` field.

    >>> control_bytes("cp932")[0x0E], control_bytes("chukan_ibm930")[0x0E]
    (np.True_, np.True_)
    >>> control_bytes("chukan_ibm930", "so-si")[0x0E], control_bytes("chukan_ibm930")[0x25]
    (np.False_, np.True_)
    """
    page = codec.removeprefix(_PREFIX)
    if not is_host(page):
        table = np.zeros(256, dtype=bool)
        table[:0x20] = table[0x7F] = True
        return table
    chars = [_core.decode_ebcdic(bytes([b]), page, "none") for b in range(256)]
    table = np.array([c is not None and (ord(c[0]) < 0x20 or 0x7F <= ord(c[0]) < 0xA0)
                      for c in chars], dtype=bool)
    _, _, _, shift_out, shift_in = _core.page_facts(page)
    table[[s[0] for s in (*shift_out, shift_in)]] = shift != "so-si"
    table.flags.writeable = False
    return table
