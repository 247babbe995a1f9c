r"""Code-page tables: what a user knows of a vendor's host code page (Fujitsu JEF, Hitachi
KEIS, NEC JIPS) that chukan cannot ship, because the vendors never published it.

chukan ships each vendor page's structure (its shift codes, spaces and digits) and what
can be derived honestly: JIS X 0208 at its place and the single bytes every EBCDIC page
agrees on. A vendor's extension kanji, a municipality's own 外字 and the katakana single
bytes come from a table the user writes, usually from the vendor's conversion list:

.. code-block:: toml

    [code_page]
    name = "city-jef"
    base = "jef"               # jef, keis or jips
    title = "○○市 JEF 外字"
    csv = ["city-gaiji.csv"]   # optional: more rows, ``code,unicode`` (UTF-8)

    [single]                   # optional single bytes (two hex digits)
    "81" = "ｱ"

    [double]                   # double bytes (four hex digits)
    "80A1" = "髙"
    "80A2" = "U+845B U+E0100"  # characters, or code points (a base and a selector)

A layout names the table in ``[layout] encoding`` (a path, or a name on the search
path). Loading it defines a page in the core, named by its base and its content
(``jef_3fa2…``): two layouts naming the same table share it, and an edited table is a
new page. A double-byte code that neither chukan nor the table maps reads as U+F0000
plus the code (0x80A3 as U+F80A3): a 外字 to identify, never a guess.

>>> page = loads_code_page('''
... [code_page]
... name = "t"
... base = "jef"
... [double]
... "80A1" = "髙"
... ''')
>>> page.base, page.encoding.startswith("jef_"), page.doubles[0x80A1]
('jef', True, '髙')
>>> "髙".encode(page.codec), b"(\x80\xa3)".decode(page.codec)
(b'(\x80\xa1)', '\U000f80a3')
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from chukan import _core
from chukan.spec._base import (
    VENDOR_ENCODINGS,
    Frozen,
    _Checker,
    codec_name,
    find_file,
    load_spec,
    loads_spec,
    outside_reason,
)
from chukan.spec.encoding import encoding_of, register_encoding

if TYPE_CHECKING:
    from collections.abc import Mapping

_KEYS = ("name", "base", "title", "description", "csv")
#: where an unmapped double-byte code reads: U+F0000 plus the code
CARRIER = 0xF0000
_POINTS = re.compile(r"U\+([0-9A-Fa-f]{4,6})(?: U\+([0-9A-Fa-f]{4,6}))?")


@dataclass(frozen=True, slots=True, kw_only=True)
class CodePage(Frozen):
    """A user's table for a vendor page, and the page it defines in the core."""

    name: str
    base: str
    title: str = ""
    singles: Mapping[int, str] = field(default_factory=dict)
    doubles: Mapping[int, str] = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        """Freeze the tables and define the page (again, after unpickling: a Spark
        worker's process has its own core)."""
        object.__setattr__(self, "singles", MappingProxyType(dict(self.singles)))
        object.__setattr__(self, "doubles", MappingProxyType(dict(self.doubles)))
        _core.define_page(self.encoding, self.base, self.lines)
        # the defined page's own facts (a table may give U+3000 another code)
        space, zero, ideographic, shift_out, shift_in = _core.page_facts(self.encoding)
        register_encoding(replace(encoding_of(self.base), name=self.encoding,
                                  space=bytes([space]), zero=bytes([zero]),
                                  ideographic_space=ideographic,
                                  shift=(shift_out[0], shift_in)))

    @property
    def lines(self) -> str:
        """The entries in the core's table format (``CODE<TAB>U+XXXX``)."""
        rows = [f"{code:02X}\t{_points(text)}" for code, text in sorted(self.singles.items())]
        rows += [f"{code:04X}\t{_points(text)}" for code, text in sorted(self.doubles.items())]
        return "".join(f"{row}\n" for row in rows)

    @property
    def encoding(self) -> str:
        """The encoding name layouts carry: the base and the content's digest."""
        digest = hashlib.sha256(f"{self.base}\n{self.lines}".encode()).hexdigest()[:12]
        return f"{self.base}_{digest}"

    @property
    def codec(self) -> str:
        """The Python codec of the page (strict both ways, backed by the core)."""
        return codec_name(self.encoding)


def _points(text: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in text)


def load_code_page(name_or_path: str | Path, *, beside: Path | None = None) -> CodePage:
    """Load a code-page table by path or by name on the search path; every problem is
    reported at once (:class:`~chukan.errors.LayoutError`)."""
    return load_spec(find_file(str(name_or_path), beside=beside), _parse)


def loads_code_page(text: str, *, base: Path | None = None) -> CodePage:
    """Parse a code-page table from a TOML string (CSV files resolve beside ``base``)."""
    return loads_spec(text, base, _parse)


def _parse(doc: Mapping[str, Any], checker: _Checker, path: Path | None) -> CodePage | None:
    checker.unknown_keys(doc, ("code_page", "single", "double"), "(top)")
    meta = checker.get(doc, "code_page", dict, "(top)", required=True)
    if meta is None:
        return None
    checker.unknown_keys(meta, _KEYS, "code_page")
    name = checker.get(meta, "name", str, "code_page", "", required=True)
    base = checker.choice(meta, "base", VENDOR_ENCODINGS, "code_page", None,
                          what="vendor page")
    title = checker.get(meta, "title", str, "code_page", "")
    rows: list[tuple[str, str, str, Any]] = []  # where, key, code, value
    for table, width in (("single", 2), ("double", 4)):
        entries = checker.get(doc, table, dict, "(top)", {})
        for code, value in entries.items():
            if len(code) != width:
                checker.add(table, code, f"a {table}-byte code is {width} hex digits")
                continue
            rows.append((table, code, code, value))
    for name_of_csv in checker.get(meta, "csv", list, "code_page", []):
        rows += _csv_rows(name_of_csv, checker, path)
    singles, doubles = _entries(rows, base, checker)
    if base is None or checker.problems:
        return None
    try:
        return CodePage(name=name, base=base, title=title, singles=singles,
                        doubles=doubles, path=path)
    except ValueError as exc:  # the core's own check of the lines: a defect if reached
        checker.add("code_page", None, str(exc))
        return None


def _csv_rows(name: Any, checker: _Checker, path: Path | None  # noqa: ANN401
              ) -> list[tuple[str, str, str, Any]]:
    """A CSV file's rows (``code,unicode``; more columns are notes), UTF-8 with or
    without a byte-order mark."""
    where = f"code_page.csv[{name!r}]"
    if not isinstance(name, str):
        checker.add("code_page", "csv", "a list of CSV file names")
        return []
    folder = path.parent if path else Path()
    file = folder / name
    outside = outside_reason(file, folder)
    if outside is not None:
        checker.add(where, None, outside)
        return []
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        checker.add(where, None, f"cannot be read: {exc.strerror or exc}")
        return []
    except UnicodeDecodeError:
        checker.add(where, None, "not UTF-8: save it from Excel as 「CSV UTF-8」")
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    head = next(reader, [])
    if [h.strip().lower() for h in head[:2]] != ["code", "unicode"]:
        checker.add(where, None, "its first row names the columns: code,unicode")
        return []
    return [(f"{name}:{line}", row[0].strip(), row[0].strip(), row[1] if len(row) > 1 else "")
            for line, row in enumerate(reader, start=2) if row and any(row)]


def _entries(rows: list[tuple[str, str, str, Any]], base: str | None, checker: _Checker
             ) -> tuple[dict[int, str], dict[int, str]]:
    """Codes and their characters, every problem reported with its place (what depends
    on the base only where the base is known)."""
    shift_first: set[int] = set()
    kept: set[int] = set()
    spaces = -1
    if base is not None:
        space, zero, _, shift_out, shift_in = _core.page_facts(base)
        shift_first = {s[0] for s in (*shift_out, shift_in)}
        kept = {space, *range(zero, zero + 10)}
        spaces = space << 8 | space
    singles: dict[int, str] = {}
    doubles: dict[int, str] = {}
    first_of: dict[str, str] = {}
    for where, key, code, value in rows:
        if not re.fullmatch(r"[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}", code):
            checker.add(where, key, f"{code!r} is not a code: two or four hex digits")
            continue
        n = int(code, 16)
        text = _characters(value)
        problem = _problem(n, len(code) == 2, text, shift_first, kept)
        if problem is None and len(code) == 4 and n == spaces and text != "\u3000":
            # two spaces end a field as its padding: only U+3000 may be them
            problem = f"{code.upper()} is two spaces, which pad a field: only U+3000 can be it"
        if problem is None and text in first_of:
            problem = f"{_shown(text)} is already the character of {first_of[text]}"
        if problem is not None:
            checker.add(where, key, problem)
            continue
        assert text is not None  # noqa: S101 -- _problem said so
        into = singles if len(code) == 2 else doubles
        if n in into:
            checker.add(where, key, f"{code.upper()} is given twice")
            continue
        into[n] = text
        first_of[text] = code.upper()
    return singles, doubles


def _problem(code: int, single: bool, text: str | None, shift_first: set[int],
             kept: set[int]) -> str | None:
    if text is None or (len(text) == 2 and not _joins(text[1])):
        return ("not characters: one, or a base and its combining mark or variation "
                "selector, as characters or code points such as U+9AD9 or U+845B U+E0100")
    if (code if single else code >> 8) in shift_first:
        return f"{code:X} starts a shift code of the page"
    if single and code in kept:
        return f"{code:02X} is the page's space or a digit, which numbers and padding use"
    if not single and code >> 8 < 0x21:
        return f"{code:04X}: a double-byte code's first byte is 21 or above"
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text):
        return "a control character is no character of a code page"
    if any(ord(c) >= CARRIER for c in text):
        return "U+F0000 and above is where unmapped codes read: give the real character"
    return None


def _joins(ch: str) -> bool:
    """A combining mark or a variation selector: what a code's second character is."""
    return unicodedata.combining(ch) > 0 or unicodedata.category(ch) in ("Mn", "Mc", "Me") \
        or "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef"


def _characters(value: Any) -> str | None:  # noqa: ANN401 -- a TOML or CSV value
    """A table value as its characters: literal, or ``U+XXXX[ U+YYYY]``.

    >>> _characters("髙"), _characters("U+845B U+E0100"), _characters("abc")
    ('髙', '葛\U000e0100', None)
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    found = _POINTS.fullmatch(value)
    if found:
        points = [int(g, 16) for g in found.groups() if g]
        if any(p > 0x10FFFF or 0xD800 <= p < 0xE000 for p in points):
            return None
        value = "".join(map(chr, points))
    return value if 1 <= len(value) <= 2 else None


def _shown(text: str) -> str:
    return f"{text} ({_points(text)})"

