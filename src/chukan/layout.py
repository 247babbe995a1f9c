"""The layout model: frozen dataclasses parsed once from TOML, with every problem reported.

A layout describes one physical file: its format (fixed-width or CSV), encoding, record
length and terminator, and its fields. Multi-record files (header / data / trailer) have
several record kinds told apart by a record-type field.

>>> layout = loads_layout('''
... [layout]
... name = "example/tiny"
... format = "fixed"
... encoding = "cp932"
... record_length = 12
... terminator = "crlf"
... [[field]]
... name = "atena_no"
... label = "宛名番号"
... length = 6
... type = "digits"
... [[field]]
... name = "shimei"
... label = "氏名"
... length = 6
... type = "text"
... chars = "fullwidth"
... ''')
>>> [(f.name, f.start, f.length) for f in layout.fields]
[('atena_no', 1, 6), ('shimei', 7, 6)]

Every problem is reported at once, with a "did you mean" hint:

>>> loads_layout('''
... [layout]
... name = "x"
... format = "fixed"
... encoding = "cp932"
... record_length = 4
... terminator = "crlf"
... [[field]]
... name = "a"
... label = "宛名"
... length = 4
... type = "digit"
... lenght = 4
... ''')
Traceback (most recent call last):
...
chukan.errors.LayoutError: 2 layout problem(s):
  - <string>: 1番目「宛名」(a) field[0].lenght: unknown key (did you mean 'length'?)
  - <string>: 1番目「宛名」(a) field[0].type: unknown field type 'digit' (did you mean 'digits'?)
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, get_args

from chukan._eras import ERA_STARTS
from chukan.errors import LayoutError, LayoutNotFoundError, LayoutProblem, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

FieldType = Literal["text", "digits", "code", "integer", "decimal", "date", "filler"]
Chars = Literal["fullwidth", "halfwidth", "any"]
Storage = Literal["display", "zoned", "packed"]
Format = Literal["fixed", "csv"]
Terminator = Literal["crlf", "lf", "none"]
Duplicates = Literal["ibm", "nec"]
Repertoire = Literal["jisx0208", "cp932", "jisx0213"]
REPERTOIRES: tuple[str, ...] = ("jisx0208", "cp932", "jisx0213")
DateFormat = Literal["YYYYMMDD", "YYYY-MM-DD", "GYYMMDD", "GGYYMMDD", "YYMMDD", "YYYYMM", "YYYY-MM"]

FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
DATE_FORMATS: tuple[str, ...] = get_args(DateFormat)
#: Byte width of each date format (fixed layouts must use exactly this length).
DATE_WIDTHS: Mapping[str, int] = MappingProxyType(
    {
        "YYYYMMDD": 8,
        "YYYY-MM-DD": 10,
        "GYYMMDD": 7,
        "GGYYMMDD": 8,
        "YYMMDD": 6,
        "YYYYMM": 6,
        "YYYY-MM": 7,
    }
)
ENCODINGS: tuple[str, ...] = ("cp932", "shift_jis", "euc_jp", "utf-8", "utf-8-sig")
#: Accepted spellings of each encoding, mapped to the name chukan uses.
_ENCODING_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "cp932": "cp932",
        "ms932": "cp932",
        "windows-31j": "cp932",
        "shift_jis": "shift_jis",
        "shift-jis": "shift_jis",
        "sjis": "shift_jis",
        "euc_jp": "euc_jp",
        "euc-jp": "euc_jp",
        "utf-8": "utf-8",
        "utf8": "utf-8",
        "utf-8-sig": "utf-8-sig",
        "utf_8_sig": "utf-8-sig",
    }
)
TERMINATOR_BYTES: Mapping[str, bytes] = MappingProxyType(
    {"crlf": b"\r\n", "lf": b"\n", "none": b""})
#: The UTF-8 byte-order mark: expected (and written) by ``utf-8-sig`` layouts only.
UTF8_BOM = b"\xef\xbb\xbf"


def codec_name(encoding: str) -> str:
    """The Python codec for a layout encoding: ``utf-8-sig`` files are UTF-8 once chukan
    has dealt with their BOM.

    >>> codec_name("utf-8-sig"), codec_name("cp932")
    ('utf-8', 'cp932')
    """
    return "utf-8" if encoding == "utf-8-sig" else encoding


#: Longest record a fixed layout may declare (1 MiB): far beyond any municipal export,
#: and small enough that reading buffers stay bounded by the file.
MAX_RECORD_LENGTH = 1 << 20

#: Largest decimal precision: values are carried as 64-bit integers internally.
MAX_PRECISION = 18

_LAYOUT_KEYS = (
    "name", "title", "description", "sources", "format", "encoding", "record_length",
    "terminator", "header", "header_text", "delimiter", "quote", "cp932_duplicates",
    "substitute_lookalikes", "eof_marker", "extra_columns", "formula_guard", "record_type",
    "unique", "repertoire",
)  # fmt: skip
_FIELD_KEYS = (
    "name", "label", "start", "length", "type", "required", "chars", "table", "storage",
    "scale", "signed", "positive_sign", "format", "eras", "pivot", "fumei_flag", "pad", "fill",
    "counts", "description",
    "repertoire",
)  # fmt: skip
_RECORD_KEYS = ("name", "label", "match", "field")
_TABLE_KEYS = ("name", "label", "source", "description", "codes", "missing")


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeTable:
    """A code table: code (a string, leading zeros kept) → meaning.

    >>> t = CodeTable(name="seibetsu", label="性別", codes={"1": "男", "2": "女"})
    >>> "1" in t.codes, t.width
    (True, 1)
    """

    name: str
    label: str = ""
    source: str = ""
    description: str = ""
    codes: Mapping[str, str] = field(default_factory=dict)
    #: meanings known to belong in the table whose codes no public source gives
    #: (孫 in 続柄): said with an unknown code, never invented
    missing: Mapping[str, str] = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        """Freeze the mapping so the table stays immutable."""
        object.__setattr__(self, "codes", MappingProxyType(dict(self.codes)))
        object.__setattr__(self, "missing", MappingProxyType(dict(self.missing)))

    @property
    def width(self) -> int:
        """The longest code's length in characters."""
        return max((len(c) for c in self.codes), default=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One field of a record. ``start`` is 1-based (fixed layouts); ``length`` is bytes
    in fixed layouts and the maximum number of characters (桁数) in CSV layouts."""

    name: str
    label: str
    type: FieldType
    length: int
    start: int = 0
    required: bool = False
    chars: Chars = "any"
    table: CodeTable | None = None
    storage: Storage = "display"
    scale: int = 0
    signed: bool = False
    #: packed decimals: the sign nibble of positive values, "C" or "F" (unsigned)
    positive_sign: Literal["C", "F"] = "C"
    format: DateFormat | None = None
    eras: CodeTable | None = None
    pivot: int | None = None
    #: dates: the field of the same record whose value ``1`` says this date is 不詳
    fumei_flag: str | None = None
    pad: str = "0"
    fill: str = " "
    counts: str | None = None
    description: str = ""
    repertoire: Repertoire | None = None

    @property
    def offset(self) -> int:
        """0-based byte offset of the field inside its record."""
        return self.start - 1

    @property
    def end(self) -> int:
        """0-based byte offset just after the field."""
        return self.start - 1 + self.length

    @property
    def display_name(self) -> str:
        """``label (name)``, or the name alone: what reports and messages show."""
        return f"{self.label} ({self.name})" if self.label else self.name

    @property
    def precision(self) -> int:
        """Decimal digits the field holds (packed: ``2 × length − 1``)."""
        if self.type != "decimal":
            return self.length
        return decimal_precision(self.length, self.storage, signed=self.signed)


def decimal_precision(length: int, storage: Storage, *, signed: bool) -> int:
    """Digits a decimal field holds: packed ``2 × length − 1``; signed display
    ``length − 1`` (its first byte is the sign); otherwise ``length``.

    >>> decimal_precision(5, "packed", signed=True), decimal_precision(5, "display", signed=True)
    (9, 4)
    """
    if storage == "packed":
        return 2 * length - 1
    if storage == "display" and signed:
        return length - 1
    return length


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordKind:
    """One kind of record in a multi-record file, chosen by its record-type value."""

    name: str
    label: str = ""
    match: str = ""
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    """A whole layout. Single-record layouts have ``fields``; multi-record layouts have
    ``records`` and a ``record_type`` field position ``(start, length)``."""

    name: str
    title: str = ""
    description: str = ""
    sources: tuple[str, ...] = ()
    format: Format = "fixed"
    encoding: str = "cp932"
    record_length: int = 0
    terminator: Terminator = "crlf"
    header: bool = False
    header_text: Literal["name", "label"] = "name"
    delimiter: str = ","
    quote: str = '"'
    cp932_duplicates: Duplicates = "ibm"
    #: write 〜 ‖ − ¢ £ ¬ (and ¥ ‾ in Shift_JIS/EUC-JP) as the characters the encoding
    #: reads back (～ ∥ － ￠ ￡ ￢, backslash, tilde); by default ``not-representable``
    substitute_lookalikes: bool = False
    #: the file ends with the DOS end-of-file byte 0x1A: read past, written back
    eof_marker: bool = False
    #: CSV with a header: columns the layout does not name are read past (a notice)
    extra_columns: bool = False
    #: CSV: text values Excel would run as a formula (``= + - @``) carry an apostrophe
    #: in the file, taken off on reading (see ``chukan._formula``)
    formula_guard: bool = False
    fields: tuple[Field, ...] = ()
    record_type: tuple[int, int] | None = None
    records: tuple[RecordKind, ...] = ()
    unique: tuple[str, ...] = ()
    repertoire: Repertoire | None = None
    path: Path | None = None

    @property
    def is_multi(self) -> bool:
        """True for a multi-record (header / data / trailer) layout."""
        return bool(self.records)

    @property
    def kinds(self) -> tuple[RecordKind, ...]:
        """The record kinds; a single-record layout has one, named after the layout."""
        if self.records:
            return self.records
        return (RecordKind(name=self.name, label=self.title, fields=self.fields),)

    @property
    def terminator_bytes(self) -> bytes:
        """The terminator as bytes (empty for ``none``)."""
        return TERMINATOR_BYTES[self.terminator]

    def for_excel(self, *, bom: bool = False, labels: bool = False,
                  guard: bool = False) -> Layout:
        """The same CSV layout as a file for Excel: a UTF-8 byte-order mark (Excel then reads
        UTF-8, not the PC's code page), the header in labels, and the formula guard.

        >>> lay = load_layout("kihon/juki/kojin").for_excel(bom=True, guard=True)
        >>> lay.encoding, lay.formula_guard
        ('utf-8-sig', True)
        """
        if not (bom or labels or guard):
            return self
        if self.format != "csv":
            msg = f"{self.name}: the Excel options are for CSV output; this layout is fixed-width"
            raise UsageError(msg)
        if bom and codec_name(self.encoding) != "utf-8":
            msg = (f"{self.name}: a byte-order mark is for UTF-8 output; this layout is "
                   f"{self.encoding}")
            raise UsageError(msg)
        labels_of = [f.label or f.name for f in self.fields if f.type != "filler"]
        twice = sorted({x for x in labels_of if labels_of.count(x) > 1})
        if labels and twice:
            msg = f"{self.name}: a header of labels could not tell apart {', '.join(twice)}"
            raise UsageError(msg)
        return replace(self, encoding="utf-8-sig" if bom else self.encoding,
                       header_text="label" if labels else self.header_text,
                       formula_guard=guard or self.formula_guard)

    @property
    def stride(self) -> int:
        """Bytes from one record's start to the next (record + terminator)."""
        return self.record_length + len(self.terminator_bytes)

    def kind(self, name: str | None = None) -> RecordKind:
        """The record kind called ``name`` (the only one when ``name`` is None); raises
        :class:`~chukan.errors.UsageError` naming the kinds there are."""
        kinds = self.kinds
        names = ", ".join(k.name for k in kinds)
        if name is None:
            if len(kinds) == 1:
                return kinds[0]
            msg = f"layout {self.name!r} has several record kinds ({names}): name one"
            raise UsageError(msg)
        for k in kinds:
            if k.name == name:
                return k
        msg = f"layout {self.name!r} has no record kind {name!r} ({names})"
        raise UsageError(msg)

    def field(self, name: str) -> Field:
        """The field called ``name`` in a single-record layout."""
        for f in self.kind().fields:
            if f.name == name:
                return f
        raise KeyError(name)


# --------------------------------------------------------------------------------------
# Finding files


def _shipped_dirs() -> list[Path]:
    """Where the package's own layouts live: inside the wheel, or the repository's
    top-level ``layouts/`` when running from a source checkout (editable install)."""
    here = Path(__file__).resolve().parent
    found: list[Path] = []
    for p in (here / "layouts", here.parent.parent / "layouts"):
        # in a source checkout src/chukan/layouts links to layouts/: one folder, once
        if p.is_dir() and p.resolve() not in {f.resolve() for f in found}:
            found.append(p)
    return found


def search_path(extra: tuple[Path, ...] = ()) -> list[Path]:
    """The folders searched for a layout name: ``extra``, ``CHUKAN_LAYOUT_PATH``, shipped.

    >>> search_path()[-1].name
    'layouts'
    """
    env = os.environ.get("CHUKAN_LAYOUT_PATH", "")
    env_dirs = [Path(p) for p in env.split(os.pathsep) if p]
    return [*extra, *env_dirs, *_shipped_dirs()]


def find_file(name: str, *, beside: Path | None = None) -> Path:
    """Resolve a layout or table name (``vendor-a/kojin``) or a path to a TOML file.

    A file named by another (``beside`` given: a layout's ``table``, a mapping's layouts)
    must lie in that file's folder or below it, or in a folder of the search path: a
    layout from another vendor cannot make chukan read ``/etc/…`` or ``../../`` files.
    ``CHUKAN_TRUST_PATHS=1`` lifts this for layouts one trusts.
    """
    direct = Path(name)
    dirs = search_path((beside,) if beside else ())
    found: Path | None = None
    if direct.suffix == ".toml":  # a path: as given, or beside the file naming it
        candidates: list[Path] = [*([beside / direct] if beside else []), direct]
        found = next((c for c in candidates if _is_file(c)), None)
    if found is None:
        found = next((d / f"{name}.toml" for d in dirs if _is_file(d / f"{name}.toml")), None)
    if found is None:
        raise LayoutNotFoundError(name, searched=[str(d) for d in dirs])
    if beside is not None and os.environ.get("CHUKAN_TRUST_PATHS") != "1":
        where = found.resolve()
        if not any(where.is_relative_to(d.resolve()) for d in dirs):
            msg = (f"{name!r} resolves to {where}, outside the folder of the file naming it "
                   "and the layout search path (set CHUKAN_TRUST_PATHS=1 to allow it)")
            raise LayoutNotFoundError(name, searched=[str(d) for d in dirs], reason=msg)
    return found


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; a name the OS refuses (too long) is none."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


#: what a TOML file on the search path can be: its top table names its kind
KINDS: tuple[str, ...] = ("layout", "mapping", "code_table", "code_map", "file_set",
                          "gaiji_map")


@dataclass(frozen=True, slots=True)
class Entry:
    """A file on the layout search path: its kind, name, title and path."""

    kind: str
    name: str
    title: str
    path: Path


def kind_of(path: Path) -> str | None:
    """The kind of a TOML file (``layout``, ``mapping``, ``code_table`` …), or None.

    >>> kind_of(find_file("examples/vendor-a/kojin-to-kihon"))
    'mapping'
    """
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    return next((k for k in KINDS if isinstance(doc.get(k), dict)), None)


def catalogue(kind: str | None = None) -> list[Entry]:
    """Every layout, mapping, code table, code map, file set and 外字 map on the search
    path (of one ``kind`` if given), by kind then name; the first file of a name wins.

    >>> [e.name for e in catalogue("file_set")]
    ['examples/vendor-a/juki-set']
    """
    found: dict[tuple[str, str], Entry] = {}
    for d in search_path():
        for p in sorted(d.rglob("*.toml")):
            try:
                doc = tomllib.loads(p.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            for k in KINDS if kind is None else (kind,):
                meta = doc.get(k)
                if isinstance(meta, dict) and isinstance(meta.get("name"), str):
                    title = meta.get("title", meta.get("label", ""))
                    found.setdefault((k, meta["name"]), Entry(
                        k, meta["name"], title if isinstance(title, str) else "", p))
    return sorted(found.values(), key=lambda e: (KINDS.index(e.kind), e.name))


def available_layouts() -> dict[str, Path]:
    """Every layout name found on the search path, mapped to its file (first one wins)."""
    return {e.name: e.path for e in catalogue("layout")}


# --------------------------------------------------------------------------------------
# Parsing


def _subject(index: int, table: Mapping[str, Any]) -> str:
    """A table of an array as a person names it: its 1-based position, its label and
    its name (or a rule's target), as far as the table has them.

    >>> _subject(1, {"name": "shimei", "label": "氏名"})
    '2番目「氏名」(shimei)'
    """
    label, name = table.get("label"), table.get("name", table.get("target"))
    return (f"{index + 1}番目" + (f"「{label}」" if isinstance(label, str) and label else "")
            + (f"({name})" if isinstance(name, str) and name else ""))


class _Checker:
    """Collects problems while a TOML document is turned into the model."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[LayoutProblem] = []
        #: path → how a person names that table (``2番目「氏名」(shimei)``)
        self.subjects: dict[str, str] = {}

    def add(self, where: str, key: str | None, message: str, hint: str | None = None) -> None:
        self.problems.append(LayoutProblem(file=self.file, where=where, key=key,
                                           message=message, hint=hint,
                                           subject=self.subjects.get(where)))

    def tables(self, items: list[Any], prefix: str
               ) -> Iterator[tuple[int, str, dict[str, Any]]]:
        """The tables of an array of tables, each with its index and path (``field[3]``);
        anything else is reported and skipped."""
        for i, item in enumerate(items):
            where = f"{prefix}[{i}]"
            if isinstance(item, dict):
                self.subjects[where] = _subject(i, item)
                yield i, where, item
            else:
                self.add(where, None, "must be a table")

    def unknown_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in allowed:
                self.add(where, key, "unknown key", _closest(key, allowed))

    def get(self, table: Mapping[str, Any], key: str, kind: type | tuple[type, ...],
            where: str, default: Any = None, *, required: bool = False) -> Any:  # noqa: ANN401
        if key not in table:
            if required:
                self.add(where, key, "missing required key")
            return default
        value = table[key]
        # bool is an int in Python; a boolean where a number is expected is a mistake
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            self.add(where, key, f"expected {_kind_name(kind)}, got a boolean")
            return default
        if not isinstance(value, kind):
            self.add(where, key, f"expected {_kind_name(kind)}, got {type(value).__name__}")
            return default
        return value

    def choice(self, table: Mapping[str, Any], key: str, choices: tuple[str, ...], where: str,
               default: str | None, *, what: str) -> str | None:
        value = self.get(table, key, str, where, default, required=default is None)
        if value is not None and value not in choices:
            self.add(where, key, f"unknown {what} {value!r}", _closest(value, choices))
            return default
        return cast("str | None", value)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "an integer", bool: "true or false", list: "an array",
             dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _closest(word: str, choices: tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


def _read_toml(path: Path, checker: _Checker) -> dict[str, Any]:
    try:
        # binary read: TOML is UTF-8 by definition, whatever the Windows locale says
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        checker.add("(file)", None, f"not valid TOML: {exc}")
    except UnicodeDecodeError as exc:
        checker.add("(file)", None, f"not UTF-8: {exc}")
    except RecursionError:  # tomllib recurses once per level of nesting
        checker.add("(file)", None, "nested too deeply to be a layout")
    except OSError as exc:
        checker.add("(file)", None, f"cannot be read: {exc.strerror or exc}")
    return {}


def load_code_table(name_or_path: str | Path, *, beside: Path | None = None) -> CodeTable:
    """Load a code table by path or name (looked up beside ``beside`` first).

    >>> load_code_table("eras/1digit").codes["4"]
    '平成'
    """
    path = find_file(str(name_or_path), beside=beside)
    checker = _Checker(str(path))
    table = _parse_code_table(_read_toml(path, checker), checker, path)
    if checker.problems or table is None:
        raise LayoutError(checker.problems)
    return table


def _parse_code_table(doc: Mapping[str, Any], checker: _Checker, path: Path) -> CodeTable | None:
    checker.unknown_keys(doc, ("code_table",), "(top)")
    meta = checker.get(doc, "code_table", dict, "(top)", required=True)
    if meta is None:
        return None
    checker.unknown_keys(meta, _TABLE_KEYS, "code_table")
    name = checker.get(meta, "name", str, "code_table", required=True)
    codes = checker.get(meta, "codes", dict, "code_table", {}, required=True)
    clean: dict[str, str] = {}
    for code, meaning in codes.items():
        if not isinstance(meaning, str):
            checker.add("code_table.codes", code, "a code's meaning must be a string")
        else:
            clean[code] = meaning
    missing = checker.get(meta, "missing", dict, "code_table", {})
    for meaning, why in missing.items():
        if not isinstance(why, str):
            checker.add("code_table.missing", meaning, "say where the meaning is known from "
                                                       "(a string)")
        if meaning in clean.values():
            checker.add("code_table.missing", meaning, "has a code in [code_table.codes]")
    return CodeTable(
        name=name or path.stem,
        label=checker.get(meta, "label", str, "code_table", ""),
        source=checker.get(meta, "source", str, "code_table", ""),
        description=checker.get(meta, "description", str, "code_table", ""),
        codes=clean,
        missing={k: v for k, v in missing.items() if isinstance(v, str)},
        path=path,
    )


def load_layout(name_or_path: str | Path) -> Layout:
    """Load a layout by file path or by name (``CHUKAN_LAYOUT_PATH``, then shipped ones).

    Raises :class:`~chukan.errors.LayoutError` listing *every* problem in the file, and
    :class:`~chukan.errors.LayoutNotFoundError` when nothing of that name exists.

    >>> load_layout("examples/vendor-a/juki-kojin").record_length
    200
    """
    if isinstance(name_or_path, Layout):  # already loaded: be forgiving in the API
        return name_or_path
    path = find_file(str(name_or_path))
    checker = _Checker(str(path))
    doc = _read_toml(path, checker)
    layout = _parse_layout(doc, checker, path) if doc else None
    if checker.problems or layout is None:
        raise LayoutError(checker.problems)
    return layout


def loads_layout(text: str, *, base: Path | None = None) -> Layout:
    """Parse a layout from a TOML string; names of tables resolve beside ``base``."""
    checker = _Checker("<string>")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError([LayoutProblem(file="<string>", where="(file)", key=None,
                                         message=f"not valid TOML: {exc}")]) from exc
    except RecursionError as exc:  # tomllib recurses once per level of nesting
        raise LayoutError([LayoutProblem(file="<string>", where="(file)", key=None,
                                         message="nested too deeply to be a layout")]
                          ) from exc
    layout = _parse_layout(doc, checker, base / "<string>" if base else None)
    if checker.problems or layout is None:
        raise LayoutError(checker.problems)
    return layout


def _parse_layout(doc: Mapping[str, Any], checker: _Checker, path: Path | None) -> Layout | None:
    checker.unknown_keys(doc, ("layout", "field", "record"), "(top)")
    meta = checker.get(doc, "layout", dict, "(top)", required=True)
    if meta is None:
        return None
    w = "layout"
    checker.unknown_keys(meta, _LAYOUT_KEYS, w)
    name = checker.get(meta, "name", str, w, "", required=True)
    fmt = checker.choice(meta, "format", ("fixed", "csv"), w, None, what="format") or "fixed"
    encoding = _parse_encoding(meta, checker)
    terminator = checker.choice(meta, "terminator", ("crlf", "lf", "none"), w,
                                "crlf", what="terminator")
    record_length = checker.get(meta, "record_length", int, w, 0, required=fmt == "fixed")
    if fmt == "fixed" and record_length is not None and record_length <= 0 and \
            "record_length" in meta:
        checker.add(w, "record_length", "must be a positive number of bytes")
    if record_length is not None and record_length > MAX_RECORD_LENGTH:
        checker.add(w, "record_length", f"at most {MAX_RECORD_LENGTH} bytes")
    if fmt == "csv":
        for key in ("record_length", "record_type"):
            if key in meta:
                checker.add(w, key, "only for fixed layouts")
        if terminator == "none":
            checker.add(w, "terminator", "a CSV file needs a terminator (crlf or lf)")
    else:
        for key in ("header", "header_text", "delimiter", "quote", "extra_columns",
                    "formula_guard"):
            if key in meta:
                checker.add(w, key, "only for CSV layouts")
    delimiter = checker.get(meta, "delimiter", str, w, ",")
    quote = checker.get(meta, "quote", str, w, '"')
    for key, value in (("delimiter", delimiter), ("quote", quote)):
        if len(value) != 1 or not value.isascii():
            checker.add(w, key, "must be one ASCII character")
    duplicates = checker.choice(meta, "cp932_duplicates", ("ibm", "nec"), w, "ibm",
                                what="duplicate policy")
    sources = checker.get(meta, "sources", list, w, [])
    base = path.parent if path else None

    fields: tuple[Field, ...] = ()
    records: tuple[RecordKind, ...] = ()
    record_type: tuple[int, int] | None = None
    has_fields, has_records = "field" in doc, "record" in doc
    if has_fields and has_records:
        checker.add("(top)", "record", "a layout has either [[field]] or [[record]], not both")
    elif has_records:
        if fmt != "fixed":
            checker.add("(top)", "record", "multi-record layouts must be fixed-width")
        rt = checker.get(meta, "record_type", dict, w, required=True)
        if rt is not None:
            checker.unknown_keys(rt, ("start", "length"), "layout.record_type")
            rs = checker.get(rt, "start", int, "layout.record_type", 1)
            rl = checker.get(rt, "length", int, "layout.record_type", 1, required=True)
            record_type = (rs, rl)
        records = _parse_records(doc, checker, fmt, record_length, record_type, base)
    else:
        if "record_type" in meta:
            checker.add(w, "record_type", "only for layouts with [[record]] kinds")
        raw_fields = checker.get(doc, "field", list, "(top)", [], required=True)
        fields = _parse_fields(raw_fields, "field", checker, fmt, record_length, base)

    header_text = checker.choice(meta, "header_text", ("name", "label"), w, "name",
                                 what="header text")
    if fmt == "csv" and header_text == "label":  # the header names the columns
        labels = [f.label for f in fields if f.type != "filler"]
        for label in sorted({x for x in labels if labels.count(x) > 1}):
            checker.add(w, "header_text", f"two fields have the label {label!r}: a header "
                                          "of labels could not tell them apart")
    unique = tuple(checker.get(meta, "unique", list, w, []))
    known = {f.name for f in fields} | {f.name for k in records for f in k.fields}
    for key in unique:
        if key not in known:
            checker.add(w, "unique", f"no field named {key!r}",
                        _closest(str(key), tuple(sorted(known))))
    repertoire = checker.choice(meta, "repertoire", REPERTOIRES, w, "", what="repertoire") \
        if "repertoire" in meta else None
    return Layout(
        unique=unique,
        repertoire=cast("Repertoire | None", repertoire or None),
        name=name,
        title=checker.get(meta, "title", str, w, ""),
        description=checker.get(meta, "description", str, w, ""),
        sources=tuple(str(s) for s in sources),
        format=cast("Format", fmt),
        encoding=encoding,
        record_length=record_length or 0,
        terminator=cast("Terminator", terminator),
        header=checker.get(meta, "header", bool, w, False),
        header_text=cast("Literal['name', 'label']", header_text),
        delimiter=delimiter,
        quote=quote,
        cp932_duplicates=cast("Duplicates", duplicates),
        substitute_lookalikes=checker.get(meta, "substitute_lookalikes", bool, w, False),
        eof_marker=checker.get(meta, "eof_marker", bool, w, False),
        extra_columns=checker.get(meta, "extra_columns", bool, w, False),
        formula_guard=checker.get(meta, "formula_guard", bool, w, False),
        fields=fields,
        record_type=record_type,
        records=records,
        path=path,
    )


def _parse_encoding(meta: Mapping[str, Any], checker: _Checker) -> str:
    raw = checker.get(meta, "encoding", str, "layout", "cp932", required=True)
    enc = _ENCODING_ALIASES.get(raw.lower())
    if enc is None:
        checker.add("layout", "encoding", f"unsupported encoding {raw!r}",
                    _closest(raw.lower(), tuple(_ENCODING_ALIASES)))
        return "cp932"
    return enc


def _parse_records(doc: Mapping[str, Any], checker: _Checker, fmt: str, record_length: int,
                   record_type: tuple[int, int] | None, base: Path | None
                   ) -> tuple[RecordKind, ...]:
    raw = checker.get(doc, "record", list, "(top)", [])
    kinds: list[RecordKind] = []
    seen_match: dict[str, str] = {}
    for i, where, rec in checker.tables(raw, "record"):
        checker.unknown_keys(rec, _RECORD_KEYS, where)
        name = checker.get(rec, "name", str, where, f"record{i}", required=True)
        match = checker.get(rec, "match", str, where, "", required=True)
        if record_type and match and len(match.encode("ascii", "replace")) != record_type[1]:
            checker.add(where, "match", f"must be {record_type[1]} character(s) long")
        if match in seen_match:
            checker.add(where, "match", f"same value as record {seen_match[match]!r}")
        seen_match[match] = name
        raw_fields = checker.get(rec, "field", list, where, [], required=True)
        fields = _parse_fields(raw_fields, f"{where}.field", checker, fmt, record_length, base)
        if record_type and fields:
            rs, rl = record_type
            if not any(f.start == rs and f.length == rl for f in fields):
                checker.add(where, "field",
                            f"no field covers the record type at start={rs}, length={rl}")
        kinds.append(RecordKind(name=name, label=checker.get(rec, "label", str, where, ""),
                                match=match, fields=fields))
    names = [k.name for k in kinds]
    for i, k in enumerate(kinds):
        for j, f in enumerate(k.fields):
            if f.counts is not None and f.counts not in names:
                checker.add(f"record[{i}].field[{j}]", "counts",
                            f"no record kind named {f.counts!r}", _closest(f.counts, tuple(names)))
    return tuple(kinds)


def _parse_fields(raw: list[Any], prefix: str, checker: _Checker, fmt: str,
                  record_length: int, base: Path | None) -> tuple[Field, ...]:
    fields: list[Field] = []
    names: set[str] = set()
    next_start = 1
    # positions are only checked when every field could be read
    complete = all(isinstance(item, dict) for item in raw)
    for _, where, item in checker.tables(raw, prefix):
        f = _parse_field(item, where, checker, fmt, next_start, base)
        if f is None:
            complete = False
            continue
        if f.name in names:
            checker.add(where, "name", f"duplicate field name {f.name!r}")
        names.add(f.name)
        if fmt == "fixed":
            if f.start < next_start:
                checker.add(where, "start",
                            f"overlaps the previous field (starts at {f.start}, "
                            f"previous ends at {next_start - 1})")
            elif f.start > next_start:
                checker.add(where, "start",
                            f"gap of {f.start - next_start} byte(s) before this field: "
                            "cover it with a filler")
            next_start = f.start + f.length
        fields.append(f)
    by_name = {f.name: f for f in fields}
    for i, f in enumerate(fields):
        if f.type == "date" and f"{f.name}_partial" in by_name:
            checker.add(f"{prefix}[{i}]", "name", f"the field {f.name}_partial would clash "
                        f"with the 不詳 column of date {f.name!r}: rename it")
        if f.counts is not None and f.type not in ("integer", "digits"):
            checker.add(f"{prefix}[{i}]", "counts", "only an integer or digits field counts")
    for i, f in enumerate(fields):  # a 不詳 flag is a one-character field of this record
        flag = by_name.get(f.fumei_flag or "")
        if f.fumei_flag is None:
            continue
        if flag is None:
            checker.add(f"{prefix}[{i}]", "fumei_flag", f"no field named {f.fumei_flag!r}",
                        _closest(f.fumei_flag, tuple(by_name)))
        elif flag.type not in ("code", "digits", "text") or flag.length != 1:
            checker.add(f"{prefix}[{i}]", "fumei_flag", f"{f.fumei_flag!r} must be a code, "
                        "digits or text field of length 1 (1: 不詳)")
    if fmt == "fixed" and record_length and fields and complete:
        end = next_start - 1
        if end > record_length:
            checker.add(prefix, None, f"fields run to byte {end}, past record_length "
                                      f"{record_length}")
        elif end < record_length:
            checker.add(prefix, None, f"fields end at byte {end}, short of record_length "
                                      f"{record_length}: add a filler")
    return tuple(fields)


def _parse_field(item: Mapping[str, Any], where: str, checker: _Checker, fmt: str,
                 next_start: int, base: Path | None) -> Field | None:
    checker.unknown_keys(item, _FIELD_KEYS, where)
    ftype = checker.choice(item, "type", FIELD_TYPES, where, None, what="field type")
    default_name = "filler_" + "_".join(re.findall(r"\d+", where)) if ftype == "filler" else None
    name = checker.get(item, "name", str, where, default_name, required=ftype != "filler")
    if name is not None and not (name.isascii() and name.replace("_", "a").isalnum()
                                 and not name[0].isdigit()):
        checker.add(where, "name", f"{name!r} is not an ASCII identifier (letters, digits, _)")
    elif name is not None and name.startswith("_"):
        checker.add(where, "name", f"{name!r}: names starting with _ are chukan's own "
                                   "columns (_record, _offset)")
    length = checker.get(item, "length", int, where, None,
                         required=not (ftype == "date" and "format" in item))
    start = checker.get(item, "start", int, where, next_start)
    if fmt == "csv" and "start" in item:
        checker.add(where, "start", "only for fixed layouts")
    if ftype is None or name is None:
        return None
    fmt_ = checker.choice(item, "format", DATE_FORMATS, where, "YYYYMMDD",
                          what="date format") if ftype == "date" else None
    if ftype != "date" and "format" in item:
        checker.add(where, "format", "only for date fields")
    if length is None and fmt_ is not None:
        length = DATE_WIDTHS[fmt_]
    if length is None:
        return None
    if length <= 0:
        checker.add(where, "length", "must be positive")
    if start <= 0:
        checker.add(where, "start", "must be 1 or more (1-based byte position)")

    def only(key: str, *types: str) -> None:
        if key in item and ftype not in types:
            checker.add(where, key, f"only for {' / '.join(types)} fields")

    only("chars", "text")
    only("table", "code")
    only("storage", "decimal")
    only("scale", "decimal")
    only("signed", "decimal", "integer")
    only("eras", "date")
    only("pivot", "date")
    only("fumei_flag", "date")
    only("pad", "integer", "text")
    only("positive_sign", "decimal")
    only("fill", "filler")
    chars = checker.choice(item, "chars", ("fullwidth", "halfwidth", "any"), where, "any",
                           what="character class")
    storage = checker.choice(item, "storage", ("display", "zoned", "packed"), where, "display",
                             what="storage")
    if storage == "packed" and fmt == "csv":
        checker.add(where, "storage", "packed decimals exist only in fixed layouts")
    scale = checker.get(item, "scale", int, where, 0)
    signed = checker.get(item, "signed", bool, where, ftype == "integer")
    fullwidth = ftype == "text" and chars == "fullwidth"
    pad = checker.get(item, "pad", str, where, "\u3000" if fullwidth else "0")
    if ftype == "text" and "pad" in item and not fullwidth:
        checker.add(where, "pad", "only for full-width text (chars = \"fullwidth\")")
    elif fullwidth and pad not in ("\u3000", " "):
        checker.add(where, "pad", "must be '\u3000' (全角空白) or ' '")
    elif ftype != "text" and pad not in ("0", " "):
        checker.add(where, "pad", "must be '0' or ' '")
    positive_sign = checker.choice(item, "positive_sign", ("C", "F"), where,
                                   "C" if signed else "F", what="sign nibble")
    if "positive_sign" in item and storage != "packed":
        checker.add(where, "positive_sign", "only for packed decimals (storage = \"packed\")")
    fill = checker.get(item, "fill", str, where, " ")
    if len(fill) != 1 or not fill.isascii():
        checker.add(where, "fill", "must be one ASCII character")
    pivot = checker.get(item, "pivot", int, where, None)
    table = eras = None
    if ftype == "code":
        table = _load_ref(item, "table", where, checker, base, required=False)
    if ftype == "date" and fmt_ is not None:
        if fmt_ in ("GYYMMDD", "GGYYMMDD"):
            eras = _load_ref(item, "eras", where, checker, base, required=True)
            if eras is not None:
                _check_eras(eras, fmt_, where, checker)
        elif "eras" in item:
            checker.add(where, "eras", "only for era formats (GYYMMDD, GGYYMMDD)")
        if fmt_ == "YYMMDD" and pivot is None:
            checker.add(where, "pivot", "YYMMDD needs pivot = NN (years below NN are 20NN)")
        if length != DATE_WIDTHS[fmt_]:  # CSV too: the value is the format's width
            checker.add(where, "length", f"format {fmt_} takes {DATE_WIDTHS[fmt_]} bytes")
    if ftype == "decimal":
        precision = decimal_precision(length, cast("Storage", storage), signed=signed)
        if precision > MAX_PRECISION:
            checker.add(where, "length", f"at most {MAX_PRECISION} digits are supported")
        if not 0 <= scale <= precision:
            checker.add(where, "scale", f"must be between 0 and the precision ({precision})")
        if precision < 1:
            checker.add(where, "length", "leaves no room for a digit")
    if ftype == "integer" and length > MAX_PRECISION:
        checker.add(where, "length", f"integers hold at most {MAX_PRECISION} digits "
                                     "(64-bit values)")
    counts = checker.get(item, "counts", str, where, None)
    repertoire = checker.choice(item, "repertoire", REPERTOIRES, where, "",
                                what="repertoire") if "repertoire" in item else None
    if repertoire and ftype not in ("text", "code"):
        checker.add(where, "repertoire", "only for text and code fields")
    return Field(
        repertoire=cast("Repertoire | None", repertoire or None),
        name=name,
        label=checker.get(item, "label", str, where, ""),
        type=cast("FieldType", ftype),
        length=length,
        start=start if fmt == "fixed" else 0,
        required=checker.get(item, "required", bool, where, False),
        chars=cast("Chars", chars),
        table=table,
        storage=cast("Storage", storage),
        scale=scale,
        signed=signed,
        positive_sign=cast("Literal['C', 'F']", positive_sign),
        format=cast("DateFormat | None", fmt_),
        eras=eras,
        pivot=pivot,
        fumei_flag=checker.get(item, "fumei_flag", str, where, None),
        pad=pad,
        fill=fill,
        counts=counts,
        description=checker.get(item, "description", str, where, ""),
    )


def _load_ref(item: Mapping[str, Any], key: str, where: str, checker: _Checker,
              base: Path | None, *, required: bool) -> CodeTable | None:
    ref = checker.get(item, key, str, where, None, required=required)
    if ref is None:
        return None
    try:
        return load_code_table(ref, beside=base)
    except LayoutNotFoundError as exc:
        checker.add(where, key, exc.reason or f"no code table named {ref!r} (searched "
                                              f"{', '.join(exc.searched)})")
    except LayoutError as exc:
        for p in exc.problems:
            checker.add(where, key, f"in table {ref!r}: {p}")
    return None


def _check_eras(eras: CodeTable, fmt: str, where: str, checker: _Checker) -> None:
    width = 1 if fmt == "GYYMMDD" else 2
    for code, era in eras.codes.items():
        if len(code) != width or not code.isdigit():
            checker.add(where, "eras", f"era code {code!r} must be {width} digit(s) for {fmt}")
        if era not in ERA_STARTS:
            checker.add(where, "eras", f"unknown era name {era!r}",
                        _closest(era, tuple(ERA_STARTS)))


def iter_fields(layout: Layout) -> Iterator[tuple[RecordKind, Field]]:
    """Every (record kind, field) pair of a layout."""
    for kind in layout.kinds:
        for f in kind.fields:
            yield kind, f


# --------------------------------------------------------------------------------------
# File sets: several files checked against each other (validation)

CheckType = Literal["reference", "one-per-group", "sequence"]
_SET_KEYS = ("name", "title", "description")
_MEMBER_KEYS = ("name", "layout", "label")
_CHECK_KEYS = ("type", "label", "field", "target", "group", "value", "groups")


@dataclass(frozen=True, slots=True, kw_only=True)
class SetCheck:
    """One check across the files of a set. Field references are ``file.field``.

    - ``reference``: every value of ``field`` exists in ``target``;
    - ``one-per-group``: within each ``group``, exactly one record has ``field`` equal
      to ``value`` (and, with ``groups``, every group listed there has one);
    - ``sequence``: within each ``group``, ``field`` runs 1, 2, …, n.
    """

    type: CheckType
    label: str
    field: tuple[str, str]
    target: tuple[str, str] | None = None
    group: tuple[str, str] | None = None
    value: str | None = None
    groups: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FileSet:
    """Named files, each with its layout, and the checks that join them."""

    name: str
    title: str = ""
    files: Mapping[str, Layout] = field(default_factory=dict)
    checks: tuple[SetCheck, ...] = ()
    path: Path | None = None


def load_file_set(name_or_path: str | Path) -> FileSet:
    """Load a file set by path or name; every problem is reported at once.

    >>> fs = load_file_set("examples/vendor-a/juki-set")
    >>> sorted(fs.files), [c.type for c in fs.checks]
    (['kojin', 'setai'], ['reference', 'one-per-group', 'sequence'])
    """
    path = find_file(str(name_or_path))
    checker = _Checker(str(path))
    doc = _read_toml(path, checker)
    checker.unknown_keys(doc, ("file_set", "file", "check"), "(top)")
    meta = checker.get(doc, "file_set", dict, "(top)", {}, required=True)
    checker.unknown_keys(meta, _SET_KEYS, "file_set")
    files: dict[str, Layout] = {}
    broken: set[str] = set()
    for _, where, item in checker.tables(
            checker.get(doc, "file", list, "(top)", [], required=True), "file"):
        checker.unknown_keys(item, _MEMBER_KEYS, where)
        member = checker.get(item, "name", str, where, None, required=True)
        ref = checker.get(item, "layout", str, where, None, required=True)
        if member is None or ref is None:
            continue
        if member in files or member in broken:
            checker.add(where, "name", f"a second file named {member!r}")
            continue
        try:
            files[member] = load_layout(find_file(ref, beside=path.parent))
        except LayoutNotFoundError as exc:
            checker.add(where, "layout", str(exc))
            broken.add(member)
        except LayoutError as exc:
            for p in exc.problems:
                checker.add(where, "layout", f"in layout {ref!r}: {p}")
            broken.add(member)
    checks = [c for i, item in enumerate(checker.get(doc, "check", list, "(top)", []))
              if (c := _parse_check(item, f"check[{i}]", checker, files, broken)) is not None]
    if checker.problems:
        raise LayoutError(checker.problems)
    return FileSet(name=checker.get(meta, "name", str, "file_set", path.stem),
                   title=checker.get(meta, "title", str, "file_set", ""),
                   files=MappingProxyType(files), checks=tuple(checks), path=path)


def _parse_check(item: Any, where: str, checker: _Checker,  # noqa: ANN401 -- raw TOML
                 files: Mapping[str, Layout], broken: set[str]) -> SetCheck | None:
    if not isinstance(item, dict):
        checker.add(where, None, "must be a table")
        return None
    checker.unknown_keys(item, _CHECK_KEYS, where)
    kind = checker.choice(item, "type", ("reference", "one-per-group", "sequence"), where,
                          None, what="check type")

    def ref(key: str, *, required: bool) -> tuple[str, str] | None:
        text = checker.get(item, key, str, where, None, required=required)
        if text is None:
            return None
        member, _, name = text.partition(".")
        layout = files.get(member)
        if member in broken:
            return None  # its layout's own problems are reported already
        if layout is None:
            checker.add(where, key, f"no file named {member!r} in the set",
                        _closest(member, tuple(files)))
            return None
        names = tuple(f.name for _, f in iter_fields(layout))
        if name not in names:
            checker.add(where, key, f"no field {name!r} in {layout.name}",
                        _closest(name, names))
            return None
        return member, name

    target = ref("target", required=kind == "reference")
    group = ref("group", required=kind in ("one-per-group", "sequence"))
    groups = ref("groups", required=False)
    value = checker.get(item, "value", str, where, None, required=kind == "one-per-group")
    source = ref("field", required=True)
    if kind is None or source is None:
        return None
    if group is not None and group[0] != source[0]:
        checker.add(where, "group", f"must be a field of {source[0]!r}, like field")
    return SetCheck(type=cast("CheckType", kind), label=checker.get(item, "label", str, where,
                                                                    kind),
                    field=source, target=target, group=group, value=value, groups=groups)


# --------------------------------------------------------------------------------------
# Mappings: one layout to another (convert)

#: Steps a rule may name, each with the step that undoes it (None: cannot run backwards).
STEPS: Mapping[str, str | None] = MappingProxyType({
    "kana_to_fullwidth": "kana_to_halfwidth",
    "kana_to_halfwidth": "kana_to_fullwidth",
    "ascii_to_fullwidth": "ascii_to_halfwidth",
    "ascii_to_halfwidth": "ascii_to_fullwidth",
    "digits_to_fullwidth": "digits_to_halfwidth",
    "digits_to_halfwidth": "digits_to_fullwidth",
    "trim": None,
    # zero fill to the target's length; undone by cutting leading zeros back to the
    # original's length (exact for codes written at their full width, as codes are)
    "zero_fill": "zero_trim",
    "zero_trim": "zero_fill",
    # 氏名 ↔ 氏 / 名 on the first full-width space: undone together (see docs/mappings.md)
    "first_part": "join_space",
    "rest_part": "join_space",
    "join_space": "first_part",  # … and rest_part: one join gives back two rules
    "fumei_flag": None,
})
_MAPPING_KEYS = ("name", "title", "description", "source", "target", "gaiji_map")
_GAIJI_KEYS = ("name", "source", "description", "chars")
_RULE_KEYS = ("target", "source", "sources", "steps", "code_map", "unmapped", "constant",
              "separator", "when")
_SPLIT_STEPS = ("first_part", "rest_part", "join_space")
_MAP_KEYS = ("name", "source", "target", "description", "codes")


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeMap:
    """Source code → target code (vendor 続柄 → standard 続柄, say)."""

    name: str
    source: str = ""
    target: str = ""
    codes: Mapping[str, str] = field(default_factory=dict)
    #: the tables ``source`` and ``target`` name, resolved when the map is loaded
    source_table: CodeTable | None = None
    target_table: CodeTable | None = None

    def __post_init__(self) -> None:
        """Freeze the mapping."""
        object.__setattr__(self, "codes", MappingProxyType(dict(self.codes)))

    def inverted(self) -> CodeMap | None:
        """The map backwards, or None when two codes map to one (not invertible)."""
        back = {v: k for k, v in self.codes.items()}
        if len(back) != len(self.codes):
            return None
        return CodeMap(name=f"{self.name} (reversed)", source=self.target, target=self.source,
                       codes=back, source_table=self.target_table,
                       target_table=self.source_table)


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """A rule's ``when``: the rule applies to the records whose ``field`` (a source field,
    compared as text) is one of ``values`` (or, ``negate``-d, none of them)."""

    field: str
    values: tuple[str, ...]
    negate: bool = False

    def describe(self) -> str:
        """The condition as written in a mapping.

        >>> Condition(field="jumin_shubetsu", values=("2", "4")).describe()
        'jumin_shubetsu in [2, 4]'
        """
        return f"{self.field} {'not_in' if self.negate else 'in'} [{', '.join(self.values)}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """How one target column is made: from ``source`` through ``steps``, a ``code_map``
    (unmapped codes ``reject`` the record or are ``keep``-t and reported), or a
    ``constant``."""

    target: str
    source: str | None = None
    steps: tuple[str, ...] = ()
    code_map: CodeMap | None = None
    unmapped: Literal["reject", "keep"] = "reject"
    constant: str | None = None
    sources: tuple[str, ...] = ()  # a join: several source fields, step join_space
    #: a join made when running backwards: each part (a source, its own steps and code
    #: map) is computed before the join; ``steps`` then run on the joined text
    parts: tuple[Rule, ...] = ()
    #: the code map runs before the steps (a rule undone: the map was applied last)
    map_first: bool = False
    #: what first_part / rest_part split on and join_space joins with
    separator: str = "\u3000"
    #: the records the rule applies to (None: all); several rules may then make one
    #: target, the first whose condition holds winning, a rule without one the fallback
    when: Condition | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GaijiMap:
    """外字 → Unicode: each character of the user-defined area (U+E000–U+F8FF, which
    CP932's F040–F9FC decode to) the 文字同定 work identified, with its Unicode sequence
    (an IVS included: ``"葛\U000E0100"``).

    >>> m = GaijiMap(name="g", chars={"\ue000": "𠮷"})
    >>> m.chars["\ue000"]
    '𠮷'
    """

    name: str
    source: str = ""
    chars: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Freeze the mapping."""
        object.__setattr__(self, "chars", MappingProxyType(dict(self.chars)))


#: A regex class for the Private Use Area, where CP932's user-defined area (外字,
#: F040–F9FC) lands in Unicode: validation reports it, convert maps or rejects it.
PUA = "[\ue000-\uf8ff]"


def _gaiji_key(key: str) -> str | None:
    """``U+E000`` or a CP932 user-defined code ``F040`` → the PUA character; None if
    neither.

    >>> _gaiji_key("U+E001"), _gaiji_key("F041"), _gaiji_key("F07F"), _gaiji_key("U+3042")
    ('\ue001', '\ue001', None, None)
    """
    text = key.strip().upper()
    if re.fullmatch(r"U\+[0-9A-F]{4}", text):
        char = chr(int(text[2:], 16))
        return char if re.fullmatch(PUA, char) else None
    if re.fullmatch(r"F[0-9][0-9A-F]{2}", text):
        lead, trail = int(text[:2], 16), int(text[2:], 16)
        if lead <= 0xF9 and 0x40 <= trail <= 0xFC and trail != 0x7F:
            return bytes((lead, trail)).decode("cp932")
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingSpec:
    """A mapping from one layout to another; every target field has exactly one rule."""

    name: str
    source: Layout
    target: Layout
    rules: tuple[Rule, ...]
    title: str = ""
    path: Path | None = None
    gaiji_map: GaijiMap | None = None
    #: running backwards: what the source fields no rule gives back get
    back: tuple[Rule, ...] = ()


def load_mapping(name_or_path: str | Path) -> MappingSpec:
    """Load a mapping; every problem (missing fields, unknown steps, target fields left
    without a rule) is reported at once.

    >>> m = load_mapping("examples/vendor-a/kojin-to-kihon")
    >>> m.source.name, m.target.name, len(m.rules)
    ('examples/vendor-a/juki-kojin', 'kihon/juki/kojin', 20)
    """
    path = find_file(str(name_or_path))
    checker = _Checker(str(path))
    doc = _read_toml(path, checker)
    checker.unknown_keys(doc, ("mapping", "rule", "back"), "(top)")
    meta = checker.get(doc, "mapping", dict, "(top)", {}, required=True)
    checker.unknown_keys(meta, _MAPPING_KEYS, "mapping")
    layouts: dict[str, Layout] = {}
    for key in ("source", "target"):
        ref = checker.get(meta, key, str, "mapping", None, required=True)
        if ref is None:
            continue
        try:
            layouts[key] = load_layout(find_file(ref, beside=path.parent))
        except LayoutNotFoundError as exc:
            checker.add("mapping", key, str(exc))
        except LayoutError as exc:
            for p in exc.problems:
                checker.add("mapping", key, f"in layout {ref!r}: {p}")
    rules: list[Rule] = []
    src, tgt = layouts.get("source"), layouts.get("target")
    src_fields = tuple(f.name for _, f in iter_fields(src)) if src else ()
    tgt_fields = tuple(f.name for _, f in iter_fields(tgt) if f.type != "filler") if tgt \
        else ()
    for _, where, item in checker.tables(
            checker.get(doc, "rule", list, "(top)", [], required=True), "rule"):
        checker.unknown_keys(item, _RULE_KEYS, where)
        target = checker.get(item, "target", str, where, None, required=True)
        source = checker.get(item, "source", str, where, None)
        sources = tuple(checker.get(item, "sources", list, where, []))
        constant = checker.get(item, "constant", str, where, None)
        for other in sources:
            _field_named(checker, where, "sources", str(other), src, src_fields)
        if sources and source is None:
            source = sources[0]  # the first of a join; all of them are named in sources
        _field_named(checker, where, "target", target, tgt, tgt_fields)
        _field_named(checker, where, "source", source, src, src_fields)
        if (source is None) == (constant is None):
            checker.add(where, "source", "a rule has either a source or a constant")
        steps = checker.get(item, "steps", list, where, [])
        for step in steps:
            if step not in STEPS:
                checker.add(where, "steps", f"unknown step {step!r}",
                            _closest(str(step), tuple(STEPS)))
        code_map = _load_beside(item, "code_map", where, path, checker, _load_code_map)
        unmapped = checker.choice(item, "unmapped", ("reject", "keep"), where, "reject",
                                  what="policy")
        if sources and "join_space" not in steps:
            checker.add(where, "sources", 'several sources are joined: steps = ["join_space"]')
        separator = checker.get(item, "separator", str, where, "\u3000")
        if "separator" in item and not separator:
            checker.add(where, "separator", "must not be empty")
        if "separator" in item and not set(steps) & set(_SPLIT_STEPS):
            checker.add(where, "separator", "only for the steps first_part, rest_part and "
                                            "join_space")
        when = _parse_when(item, where, checker, src, src_fields)
        if target is not None:
            rules.append(Rule(target=target, source=source, constant=constant, sources=sources,
                              steps=tuple(s for s in steps if s in STEPS), code_map=code_map,
                              unmapped=cast("Literal['reject', 'keep']", unmapped),
                              separator=separator or "\u3000", when=when))
    gaiji_map = _load_beside(meta, "gaiji_map", "mapping", path, checker, _load_gaiji_map)
    named = [r.target for r in rules]
    for name in tgt_fields:
        if name not in named:
            checker.add("(top)", "rule", f"target field {name!r} has no rule "
                                         '(an optional one may be constant = "")')
    for name in sorted({n for n in named if named.count(n) > 1}):
        plain = [r for r in rules if r.target == name and r.when is None]
        if len(plain) > 1:  # several rules need conditions, all but one fallback
            checker.add("(top)", "rule", f"two rules for target field {name!r} without a "
                                         "when condition (the first with a condition that "
                                         "holds wins; one rule without is the fallback)")
    if src is not None and tgt is not None:  # a date comes only from a date
        types = {f.name: f.type for k in src.kinds for f in k.fields}
        dates = {f.name for k in tgt.kinds for f in k.fields if f.type == "date"}
        for i, rule in enumerate(rules):
            if rule.target in dates and rule.source is not None and \
                    types.get(rule.source) not in (None, "date"):
                checker.add(f"rule[{i}]", "source", f"{rule.source!r} is a "
                            f"{types[rule.source]} field: the date {rule.target!r} takes a "
                            "date field")
    back = _parse_back(doc, checker, src, tgt)
    if checker.problems or src is None or tgt is None:
        raise LayoutError(checker.problems)
    return MappingSpec(name=checker.get(meta, "name", str, "mapping", path.stem),
                       title=checker.get(meta, "title", str, "mapping", ""), source=src,
                       target=tgt, rules=tuple(rules), path=path, gaiji_map=gaiji_map,
                       back=back)


def _field_named(checker: _Checker, where: str, key: str, name: str | None,
                 layout: Layout | None, fields: tuple[str, ...]) -> None:
    """A mapping's ``key`` names a field of ``layout`` (one of ``fields``), or it is a
    problem with a "did you mean"; nothing to check when either is missing."""
    if name is not None and layout is not None and name not in fields:
        checker.add(where, key, f"no field {name!r} in {layout.name}",
                    _closest(name, fields))


def _parse_when(item: Mapping[str, Any], where: str, checker: _Checker, src: Layout | None,
                src_fields: tuple[str, ...]) -> Condition | None:
    """``when = { field = "jumin_shubetsu", in = ["2", "4"] }`` (or ``equals = "2"``, or
    ``not_in = […]``): the records a rule applies to."""
    raw = checker.get(item, "when", dict, where, None)
    if raw is None:
        return None
    at = f"{where}.when"
    checker.unknown_keys(raw, ("field", "equals", "in", "not_in"), at)
    name = checker.get(raw, "field", str, at, None, required=True)
    _field_named(checker, at, "field", name, src, src_fields)
    given = [k for k in ("equals", "in", "not_in") if k in raw]
    if len(given) != 1:
        checker.add(at, None, "give exactly one of equals, in and not_in")
        return None
    value = raw[given[0]]
    values = [value] if given[0] == "equals" else value
    if not isinstance(values, list) or not values or \
            not all(isinstance(v, str) for v in values):
        checker.add(at, given[0], "codes as strings (\"02\", leading zeros kept)"
                    + ("" if given[0] == "equals" else ", at least one"))
        return None
    if name is None:
        return None
    return Condition(field=name, values=tuple(values), negate=given[0] == "not_in")


def _parse_back(doc: Mapping[str, Any], checker: _Checker, src: Layout | None,
                tgt: Layout | None) -> tuple[Rule, ...]:
    """``[[back]]``: what a source field no rule gives back gets when running backwards
    — a ``constant`` (``""``: blank) or the value of a target column (``source``)."""
    out: list[Rule] = []
    raw = checker.get(doc, "back", list, "(top)", [])
    src_fields = tuple(f.name for _, f in iter_fields(src) if f.type != "filler") \
        if src else ()
    tgt_fields = tuple(f.name for _, f in iter_fields(tgt) if f.type != "filler") \
        if tgt else ()
    for _, where, item in checker.tables(raw, "back"):
        checker.unknown_keys(item, ("field", "constant", "source"), where)
        name = checker.get(item, "field", str, where, None, required=True)
        constant = checker.get(item, "constant", str, where, None)
        source = checker.get(item, "source", str, where, None)
        _field_named(checker, where, "field", name, src, src_fields)
        _field_named(checker, where, "source", source, tgt, tgt_fields)
        if (source is None) == (constant is None):
            checker.add(where, "constant", 'give either constant (e.g. "") or source')
        if name is not None:
            out.append(Rule(target=name, source=source, constant=constant))
    names = [r.target for r in out]
    for name in sorted({n for n in names if names.count(n) > 1}):
        checker.add("(top)", "back", f"two [[back]] entries for {name!r}")
    return tuple(out)


def load_code_map(name_or_path: str | Path) -> CodeMap:
    """Load a code map by name or path; its tables resolve and hold its codes.

    >>> m = load_code_map("examples/vendor-a/zokugara-to-standard")
    >>> m.codes["01"], m.target_table.name if m.target_table else None
    ('02', 'codes/juki/zokugara')
    """
    return _load_alone(name_or_path, _load_code_map)


def load_gaiji_map(name_or_path: str | Path) -> GaijiMap:
    """Load a 外字 map by name or path.

    >>> load_gaiji_map("examples/vendor-a/gaiji").chars["\ue000"]
    '𠮷'
    """
    return _load_alone(name_or_path, _load_gaiji_map)


def _load_alone(name_or_path: str | Path, loader: Callable[[Path, _Checker], _T | None]
                ) -> _T:
    """A file a mapping names, loaded on its own: every problem in it raised at once."""
    path = find_file(str(name_or_path))
    checker = _Checker(str(path))
    found = loader(path, checker)
    if checker.problems or found is None:
        raise LayoutError(checker.problems)
    return found


def _load_gaiji_map(path: Path, checker: _Checker) -> GaijiMap | None:
    doc = _read_toml(path, checker)
    where = f"{path.name}:gaiji_map"
    meta = checker.get(doc, "gaiji_map", dict, f"{path.name}:(top)", None, required=True)
    if meta is None:
        return None
    checker.unknown_keys(meta, _GAIJI_KEYS, where)
    chars: dict[str, str] = {}
    for key, value in checker.get(meta, "chars", dict, where, {}, required=True).items():
        char = _gaiji_key(str(key))
        if char is None:
            checker.add(f"{where}.chars", str(key), "not a 外字: write U+E000–U+F8FF or a "
                        "CP932 user-defined code F040–F9FC")
        elif not isinstance(value, str) or not value:
            checker.add(f"{where}.chars", str(key), "must be a non-empty string")
        elif char in chars:
            checker.add(f"{where}.chars", str(key), f"{char!r} is mapped twice")
        else:
            chars[char] = value
    return GaijiMap(name=checker.get(meta, "name", str, "gaiji_map", path.stem),
                    source=checker.get(meta, "source", str, "gaiji_map", ""), chars=chars)


_T = TypeVar("_T")


def _load_beside(table: dict[str, Any], key: str, where: str, path: Path,
                 checker: _Checker, loader: Callable[[Path, _Checker], _T | None]
                 ) -> _T | None:
    """The table a mapping names under ``key`` (found beside the mapping, then as layouts
    are), or None — with a problem recorded when it cannot be found."""
    ref = checker.get(table, key, str, where, None)
    if ref is None:
        return None
    try:
        return loader(find_file(ref, beside=path.parent), checker)
    except LayoutNotFoundError as exc:
        checker.add(where, key, exc.reason or f"no code table named {ref!r} (searched "
                                              f"{', '.join(exc.searched)})")
        return None


def _load_code_map(path: Path, checker: _Checker) -> CodeMap | None:
    doc = _read_toml(path, checker)
    meta = checker.get(doc, "code_map", dict, f"{path.name}:(top)", None, required=True)
    if meta is None:
        return None
    where = f"{path.name}:code_map"
    checker.unknown_keys(meta, _MAP_KEYS, where)
    codes = {str(k): str(v) for k, v in
             checker.get(meta, "codes", dict, where, {}, required=True).items()}
    # the tables it maps between must exist, and hold every code it names: a typo in a
    # code map would otherwise write codes the target's own readers reject
    tables: dict[str, CodeTable | None] = {}
    for key in ("source", "target"):
        tables[key] = _load_ref(meta, key, where, checker, path.parent, required=False)
        table = tables[key]
        if table is None:
            continue
        for code, value in codes.items():
            named = code if key == "source" else value
            if named not in table.codes:
                checker.add(f"{where}.codes", code, f"{named!r} is not in the {key} table "
                            f"{table.name!r}", _closest(named, tuple(table.codes)))
    return CodeMap(name=checker.get(meta, "name", str, "code_map", path.stem),
                   source=checker.get(meta, "source", str, "code_map", ""),
                   target=checker.get(meta, "target", str, "code_map", ""),
                   codes=codes, source_table=tables["source"], target_table=tables["target"])
