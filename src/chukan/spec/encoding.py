r"""Encodings as objects: what the readers and writers need to know of an encoding beyond
its codec. A fixed-width field is padded with the encoding's space, a full-width one with
its U+3000; numbers and dates are spelled with its digits; a full-width field is cut on
character pairs only where every full-width character is one pair. Each of these used to
be a literal (``0x20``, ``b"\x81\x40"``) or a list of codec names at the place that
needed it. The compiled core decodes every one of them.

The compiled core holds the same facts for the encodings it decodes;
``tests/test_encodings.py`` checks the two against each other and both against
CPython's codecs. IBM's Japanese EBCDIC pages (930, 939, 1390, 1399) are here too:
their space is 0x40, their digits 0xF0–0xF9, and their double-byte text sits between
shift codes (SO 0x0E, SI 0x0F) or fills a graphic field. CPython has no codec for them:
chukan registers its own (``chukan_ibm930`` and so on, :mod:`chukan.codec.ebcdic`),
backed by the core's tables.

>>> enc = encoding_of("cp932")
>>> enc.space, enc.zero, enc.ideographic_space, enc.paired
(b' ', b'0', b'\x81@', True)
>>> encoding_of("utf-8-sig").codec, encoding_of("utf-8-sig").bom
('utf-8', b'\xef\xbb\xbf')
>>> ibm = encoding_of("CCSID930")
>>> ibm.name, ibm.space, ibm.zero, ibm.ideographic_space, ibm.shift, ibm.ebcdic
('ibm930', b'@', b'\xf0', b'@@', (b'\x0e', b'\x0f'), True)
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from chukan.errors import UsageError
from chukan.spec._base import (
    _ENCODING_ALIASES,
    EBCDIC_ENCODINGS,
    ENCODINGS,
    UTF8_BOM,
    codec_name,
    is_host,
    register_host_page,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class Encoding:
    """One encoding, as a layout names it."""

    #: the name a layout gives it (``cp932``, ``utf-8-sig``)
    name: str
    #: the CPython codec that encodes and decodes its text
    codec: str
    #: a half-width space: what pads text, codes and space-padded numbers
    space: bytes
    #: the digit zero; the digits are it and the nine bytes after it
    zero: bytes
    #: U+3000 (the ideographic space): what pads a full-width field
    ideographic_space: bytes
    #: every full-width character is one two-byte pair, so that a full-width field's
    #: padding is found on pairs, before decoding
    paired: bool
    #: the bytes a file in it starts with
    bom: bytes = b""
    #: the shift-out and shift-in codes around double-byte text, for encodings whose
    #: bytes mean different characters in either state (EBCDIC)
    shift: tuple[bytes, bytes] | None = None

    @property
    def ebcdic(self) -> bool:
        """A host code page (IBM's EBCDIC, JEF, KEIS, JIPS): numbers, dates and digits
        are read and written through ASCII, translated at the edge."""
        return self.shift is not None


def _host(name: str, *, space: bytes = b"\x40", zero: bytes = b"\xf0",
          ideographic_space: bytes = b"\x40\x40",
          shift: tuple[bytes, bytes] = (b"\x0e", b"\x0f")) -> Encoding:
    return Encoding(name, codec_name(name), space, zero, ideographic_space, paired=False,
                    shift=shift)


def _ascii_based(name: str, *, ideographic_space: bytes, paired: bool,
                 bom: bytes = b"") -> Encoding:
    return Encoding(name, codec_name(name), b" ", b"0", ideographic_space, paired, bom)


#: Every encoding a layout may name.
ENCODING_FACTS: Mapping[str, Encoding] = MappingProxyType({
    "cp932": _ascii_based("cp932", ideographic_space=b"\x81\x40", paired=True),
    "shift_jis": _ascii_based("shift_jis", ideographic_space=b"\x81\x40", paired=True),
    # JIS X 0212 characters are three bytes (8F xx xx): no pairs; the core decodes them
    "euc_jp": _ascii_based("euc_jp", ideographic_space=b"\xa1\xa1", paired=False),
    "utf-8": _ascii_based("utf-8", ideographic_space="\u3000".encode(), paired=False),
    "utf-8-sig": _ascii_based("utf-8-sig", ideographic_space="\u3000".encode(),
                              paired=False, bom=UTF8_BOM),
    **{name: _host(name) for name in EBCDIC_ENCODINGS},
    # the vendor pages: JEF writes U+3000 as 0x4040 like IBM, KEIS as JIS's 0xA1A1;
    # JIPS(J)'s single bytes are JIS X 0201, its double bytes JIS X 0208 as it stands
    "jef": _host("jef", shift=(b"\x28", b"\x29")),
    "keis": _host("keis", ideographic_space=b"\xa1\xa1", shift=(b"\x0a\x42", b"\x0a\x41")),
    "jips": _host("jips", space=b" ", zero=b"0", ideographic_space=b"!!",
                  shift=(b"\x1a\x70", b"\x1a\x71")),
})
#: Pages defined from users' code-page tables, by the name layouts carry.
_DEFINED: dict[str, Encoding] = {}


def register_encoding(enc: Encoding) -> None:
    """Add the facts of a page defined from a user's code-page table (a host page: its
    codec is chukan's, named after it)."""
    register_host_page(enc.name)
    _DEFINED[enc.name] = replace(enc, codec=codec_name(enc.name))
assert set(ENCODING_FACTS) == set(ENCODINGS)  # noqa: S101 -- one list of encodings


def encoding_of(name: str) -> Encoding:
    """The encoding a layout names, by any spelling the loader accepts (a layout made or
    changed in code may keep one).

    >>> encoding_of("MS932").name
    'cp932'
    >>> encoding_of("ebcdic")
    Traceback (most recent call last):
    chukan.errors.UsageError: no encoding 'ebcdic'; chukan has cp932, shift_jis, euc_jp, \
utf-8, utf-8-sig, ibm930, ibm939, ibm1390, ibm1399, jef, keis, jips
    """
    found = ENCODING_FACTS.get(name) or _DEFINED.get(name) or ENCODING_FACTS.get(
        _ENCODING_ALIASES.get(name.lower(), ""))
    if found is None:
        msg = f"no encoding {name!r}; chukan has {', '.join(ENCODING_FACTS)}"
        raise UsageError(msg)
    return found


#: Characters that CPython's codec encodes into bytes the readers take for bytes that
#: did not decode (``invalid-bytes``): CP932's 0x80, 0xA0 and 0xFD–0xFF, which Windows
#: leaves undefined and CPython decodes as U+0080 and U+F8F0–U+F8F3. The writers refuse
#: them as ``not-representable`` (``tests/test_lossless.py`` finds them again from the
#: readers). U+FFFD, the character of bytes that did not decode, is refused apart (see
#: ``chukan.codec.REPLACEMENT_MESSAGE``): only UTF-8 can write it.
UNREADABLE: dict[str, str] = {"cp932": "\x80\uf8f0\uf8f1\uf8f2\uf8f3"}


def undefined_re(encoding: str) -> str:
    """A pattern of the characters that mark bytes a reader could not decode in text
    decoded from ``encoding`` (a Python codec): U+FFFD, and its :data:`UNREADABLE`.

    >>> [hex(ord(c)) for c in undefined_re("utf-8")], len(undefined_re("cp932"))
    (['0x5b', '0xfffd', '0x5d'], 8)
    """
    return f"[\ufffd{UNREADABLE.get(encoding, '')}]"


def encodable(text: str, encoding: str) -> bool:
    """Whether ``text`` can be written in ``encoding`` (a Python codec) and read back:
    CPython's codec has every character, and none is :data:`UNREADABLE`.

    >>> encodable("山田", "cp932"), encodable(chr(0x80), "cp932"), encodable(chr(0x80), "utf-8")
    (True, False, True)
    """
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return not any(c in text for c in UNREADABLE.get(encoding, ""))


def starts_with_bom(head: bytes, encoding: str) -> bool:
    r"""Whether a file in the layout encoding ``encoding`` begins with a UTF-8 BOM, which
    the readers read past (and report where the layout has none): only where those bytes
    are no text of the encoding. In CP932 and Shift_JIS 0xEF leads no character, so
    they are the sign of a UTF-8 file; in EUC-JP, EF BB BF and the byte after it may be
    鏤拭; in an EBCDIC page they are the page's characters.

    >>> starts_with_bom(b"\xef\xbb\xbfa", "cp932"), starts_with_bom(b"\xef\xbb\xbfa", "euc_jp")
    (True, True)
    >>> starts_with_bom("鏤拭".encode("euc_jp"), "euc_jp")
    False
    >>> starts_with_bom("\ufeffＡＢ".encode(), "euc_jp")  # (EF BB BF EF BC A1 EF BC A2)
    True
    >>> starts_with_bom(b"\xef\xbb\xbf", "ibm930")
    False
    """
    if not head.startswith(UTF8_BOM) or is_host(encoding):
        return False
    rest = head[len(UTF8_BOM):]
    if encoding != "euc_jp" or not rest or not 0xA1 <= rest[0] <= 0xFE:
        return True
    # 鏤 and a character whose first byte is BF, or a UTF-8 file whose text may pair
    # up as EUC-JP too (ＡＢ…, found by a review): UTF-8 after the three bytes says which
    # (EUC-JP text there is no UTF-8: BF's second byte would stand alone)
    try:
        # (a few kilobytes tell: EUC-JP text stops being UTF-8 within a few characters)
        codecs.getincrementaldecoder("utf-8")().decode(rest[:4096], final=False)
    except UnicodeDecodeError:
        return False
    return True
