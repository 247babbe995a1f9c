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

The vendor pages (Fujitsu JEF, Hitachi KEIS, NEC JIPS) have no public tables. What can
be derived honestly is generated here too, and the rest comes from a user's code-page
table (``docs/encodings.md``):

- ``jisx0208.txt``: JIS X 0208, one line per row-cell code (2121–7E7E), from glibc's
  EUC-JP (whose two-byte codes are the row-cell code + 0x8080, as JEF's and KEIS's are);
- ``ebcdic-invariant.sbcs``: the single bytes every Japanese EBCDIC page agrees on: the
  characters of IBM's invariant set (CS 640: A–Z, 0–9, space and ``+<=>%&*"'(),_-./:;?``)
  where IBM 930 and IBM 939 put them at the same byte. Lowercase Latin is left out (930
  has katakana there), and so is everything a vendor's page may place differently;
- ``jisx0201.sbcs``: JIS X 0201 (ASCII's printable half and the half-width katakana at
  A1–DF), the single bytes of JIPS(J), from CPython's ``shift_jis`` (glibc has no JIS X
  0201 module), which reads 0x5C and 0x7E as ASCII's backslash and tilde.
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
    singles, decode = decoded_singles(page)
    doubles: dict[int, str] = {}
    for lead in range(0x40, 0xFF):
        for trail in range(0x40, 0xFF):
            raw = decode(bytes([SO, lead, trail, SI]))
            if raw is not None:
                doubles[lead << 8 | trail] = raw.decode("utf-32-le")
    return singles, doubles


def decoded_singles(page: str) -> tuple[dict[int, str], Iconv]:
    """Every single byte iconv decodes (and the decoder)."""
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
    return singles, decode


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


def render(entries: dict[int, str], chosen: dict[str, int], width: int, title: str,
           source: str = "glibc iconv") -> str:
    lines = [f"# {title}", f"# generated by core/gen_ebcdic.py from {source}; do not edit"]
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


#: IBM's invariant character set (CS 640) beyond letters and digits
INVARIANT = " +<=>%&*\"'(),_-./:;?"


def jisx0208() -> dict[int, str]:
    """JIS X 0208 by row-cell code (0x2121–0x7E7E), from glibc's EUC-JP."""
    decode = Iconv("UTF-32LE", "EUC-JP")
    found: dict[int, str] = {}
    for lead in range(0xA1, 0xFF):
        for trail in range(0xA1, 0xFF):
            raw = decode(bytes([lead, trail]))
            if raw is not None:
                found[(lead << 8 | trail) - 0x8080] = raw.decode("utf-32-le")
    return found


def invariant() -> dict[int, str]:
    """The invariant set's characters at the byte where IBM 930 and 939 both have them."""
    (s930, _), (s939, _) = (decoded_singles(page) for page in ("ibm930", "ibm939"))
    wanted = set(INVARIANT) | {chr(c) for c in range(0x30, 0x3A)} | \
        {chr(c) for c in range(0x41, 0x5B)}
    return {b: t for b, t in s930.items() if t in wanted and s939.get(b) == t}


def jisx0201() -> dict[int, str]:
    """ASCII's printable characters and the half-width katakana, as single bytes."""
    return {b: bytes([b]).decode("shift_jis") for b in (*range(0x20, 0x7F), *range(0xA1, 0xE0))}


def vendor_tables() -> dict[str, str]:
    """The vendor pages' derivable parts, by file name."""
    def one(entries: dict[int, str], width: int, title: str, source: str) -> str:
        return render(entries, {t: c for c, t in entries.items()}, width, title, source)

    return {
        "jisx0208.txt": one(jisx0208(), 4, "JIS X 0208 by row-cell code", "glibc iconv"),
        "ebcdic-invariant.sbcs": one(invariant(), 2, "EBCDIC invariant single bytes",
                                     "glibc iconv"),
        "jisx0201.sbcs": one(jisx0201(), 2, "JIS X 0201 single bytes", "CPython"),
    }


def main() -> None:
    folder = Path(__file__).parent / "tables"
    for name, text in {**tables(), **vendor_tables()}.items():
        (folder / name).write_text(text, encoding="ascii", newline="\n")
        print(name, text.count("\n") - 2, "codes", file=sys.stderr)


if __name__ == "__main__":
    main()
