"""Generate the core's Japanese EBCDIC code pages from glibc's iconv (run from the
repository root on a machine with glibc's gconv modules: ``python core/gen_ebcdic.py``).
The tables are committed as data; ``tests/test_ebcdic.py`` regenerates them in memory
wherever iconv has the code pages and compares, so a table cannot drift from its oracle.

IBM's Japanese host code pages are one single-byte page and one double-byte page each:

=========  ==========================  ===============================
page       single bytes (CCSID)        double bytes (CCSID)
=========  ==========================  ===============================
ibm930     290: katakana, no a–z       300
ibm939     1027: Latin a–z             300
ibm1390    290 + €                     16684 (300 + JIS X 0213 kanji)
ibm1399    1027 + €                    16684
=========  ==========================  ===============================

Format, one text file per single-byte page (``ibmNNN.sbcs``) and per double-byte page
(``dbcs300.txt``, ``dbcs16684.txt``): a line per code that decodes, ``CODE<TAB>U+…``
(hex; a code may decode to two characters, a base and a combining mark). A code whose
characters the writer writes as another code (a duplicate) ends in ``<TAB>r`` (read
only). Lines starting with ``#`` are comments.

What is left out, so that chukan stays strict where glibc is lenient:

- glibc's 1390 and 1399 decode every single byte that 290/1027 leave undefined to
  U+001A (SUB): a substitution, not a character, so those bytes stay undefined (0x3F,
  EBCDIC's own SUB, keeps its U+001A);
- a character glibc encodes to a code that decodes to another character (a fallback)
  is simply not written by chukan: only exact round trips are in the tables.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from pathlib import Path

#: the pages, their single-byte file and their double-byte file
PAGES = {
    "ibm930": ("IBM930", "ibm930.sbcs", "dbcs300.txt"),
    "ibm939": ("IBM939", "ibm939.sbcs", "dbcs300.txt"),
    "ibm1390": ("IBM1390", "ibm1390.sbcs", "dbcs16684.txt"),
    "ibm1399": ("IBM1399", "ibm1399.sbcs", "dbcs16684.txt"),
}
SO, SI = 0x0E, 0x0F
#: EBCDIC's substitute character, which decodes to U+001A in its own right
EBCDIC_SUB = 0x3F


class Iconv:
    """glibc's iconv through ctypes: one conversion, state reset before each call."""

    def __init__(self, to: str, frm: str) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.iconv_open.restype = ctypes.c_void_p
        libc.iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        ptr, size = ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)
        libc.iconv.restype = ctypes.c_size_t
        libc.iconv.argtypes = [ctypes.c_void_p, ptr, size, ptr, size]
        self._libc = libc
        self._cd = libc.iconv_open(to.encode(), frm.encode())
        if self._cd in (None, ctypes.c_void_p(-1).value):
            msg = f"iconv has no {frm} to {to}"
            raise OSError(msg)

    def __call__(self, data: bytes) -> bytes | None:
        """The converted bytes, or None where iconv refuses any of them."""
        failed = ctypes.c_size_t(-1).value
        self._libc.iconv(self._cd, None, None, None, None)
        inbuf = ctypes.create_string_buffer(data, len(data))
        outbuf = ctypes.create_string_buffer(len(data) * 8 + 16)
        ip, il = ctypes.c_char_p(ctypes.addressof(inbuf)), ctypes.c_size_t(len(data))
        op, ol = ctypes.c_char_p(ctypes.addressof(outbuf)), ctypes.c_size_t(len(outbuf))
        if self._libc.iconv(self._cd, ctypes.byref(ip), ctypes.byref(il), ctypes.byref(op),
                            ctypes.byref(ol)) == failed or il.value:
            return None
        if self._libc.iconv(self._cd, None, None, ctypes.byref(op),
                            ctypes.byref(ol)) == failed:
            return None
        return outbuf.raw[: len(outbuf) - ol.value]


def decoded(page: str) -> tuple[dict[int, str], dict[int, str]]:
    """Every single byte and every double-byte code (0x4040–0xFEFE) iconv decodes."""
    decode = Iconv("UTF-32LE", PAGES[page][0])
    singles: dict[int, str] = {}
    for b in range(256):
        if b in (SO, SI):
            continue
        raw = decode(bytes([b]))
        if raw is None:
            continue
        text = raw.decode("utf-32-le")
        if text == "\x1a" and b != EBCDIC_SUB:
            continue  # glibc's substitution for an undefined byte
        singles[b] = text
    doubles: dict[int, str] = {}
    for lead in range(0x40, 0xFF):
        for trail in range(0x40, 0xFF):
            raw = decode(bytes([SO, lead, trail, SI]))
            if raw is not None:
                doubles[lead << 8 | trail] = raw.decode("utf-32-le")
    return singles, doubles


def written(page: str, singles: dict[int, str], doubles: dict[int, str]
            ) -> dict[str, int]:
    """The code chukan writes for each text the page decodes: iconv's own choice where
    it round-trips, else the lowest code that decodes to it."""
    encode = Iconv(PAGES[page][0], "UTF-32LE")
    by_text: dict[str, list[int]] = {}
    for code, text in (*singles.items(), *doubles.items()):
        by_text.setdefault(text, []).append(code)
    chosen: dict[str, int] = {}
    for text, codes in by_text.items():
        raw = encode(text.encode("utf-32-le"))
        code = None
        if raw is not None and len(raw) == 1:
            code = raw[0]
        elif raw is not None and len(raw) == 4 and raw[0] == SO and raw[3] == SI:
            code = raw[1] << 8 | raw[2]
        chosen[text] = code if code in codes else min(codes)
    return chosen


def render(entries: dict[int, str], chosen: dict[str, int], width: int, title: str) -> str:
    lines = [f"# {title}", "# generated by core/gen_ebcdic.py from glibc iconv; do not edit"]
    for code in sorted(entries):
        text = entries[code]
        chars = " ".join(f"U+{ord(c):04X}" for c in text)
        mark = "" if chosen[text] == code else "\tr"
        lines.append(f"{code:0{width}X}\t{chars}{mark}")
    return "\n".join(lines) + "\n"


def tables() -> dict[str, str]:
    """Every file's text, by name."""
    out: dict[str, str] = {}
    for page, (name, sbcs, dbcs) in PAGES.items():
        singles, doubles = decoded(page)
        chosen = written(page, singles, doubles)
        out[sbcs] = render(singles, chosen, 2, f"{name} single bytes")
        text = render(doubles, chosen, 4, f"{name} double bytes ({dbcs})")
        # the double-byte page is shared: the title names the first page that has it
        out.setdefault(dbcs, text)
    return out


def main() -> None:
    folder = Path(__file__).parent / "tables"
    for name, text in tables().items():
        (folder / name).write_text(text, encoding="ascii", newline="\n")
        print(name, text.count("\n") - 2, "codes", file=sys.stderr)


if __name__ == "__main__":
    main()
