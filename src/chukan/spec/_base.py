"""What the spec files share: names of types and keys, finding files on the search
path, the checker that collects every problem with its place, and code tables."""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, get_args

from chukan.errors import LayoutError, LayoutNotFoundError, LayoutProblem

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

_T = TypeVar("_T")

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
ENCODINGS: tuple[str, ...] = ("cp932", "shift_jis", "euc_jp", "utf-8", "utf-8-sig",
                              "ibm930", "ibm939", "ibm1390", "ibm1399", "jef", "keis",
                              "jips")
#: IBM's Japanese EBCDIC host code pages (fixed-width files only).
EBCDIC_ENCODINGS: tuple[str, ...] = ("ibm930", "ibm939", "ibm1390", "ibm1399")
#: The vendors' host code pages (Fujitsu JEF, Hitachi KEIS, NEC JIPS(J)): their structure
#: and JIS X 0208 are shipped, the rest comes from a user's code-page table.
VENDOR_ENCODINGS: tuple[str, ...] = ("jef", "keis", "jips")
#: Pages defined from users' code-page tables in this process (``jef_3fa2…``).
_DEFINED_PAGES: set[str] = set()


def register_host_page(name: str) -> None:
    """Note a page defined from a user's code-page table (:mod:`chukan.spec.codepage`)."""
    _DEFINED_PAGES.add(name)


def is_host(encoding: str) -> bool:
    """A host code page: stateful, with shift codes around double bytes, fixed-width
    files only; numbers and dates are translated to ASCII at the edge.

    >>> is_host("ibm930"), is_host("jef"), is_host("cp932")
    (True, True, False)
    """
    return encoding in EBCDIC_ENCODINGS or encoding in VENDOR_ENCODINGS or \
        encoding in _DEFINED_PAGES
#: How an EBCDIC text field holds double-byte text: not at all, between SO and SI, or
#: only (a graphic field, ``type = "graphic"``).
Shift = Literal["none", "so-si", "graphic"]
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
        **{f"{prefix}{n}": f"ibm{n}" for n in ("930", "939", "1390", "1399")
           for prefix in ("ibm", "ibm-", "ibm_", "cp", "ccsid")},
        "jef": "jef",
        "keis": "keis",
        "jips": "jips",
        "jips-j": "jips",
        "jips(j)": "jips",
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
    if is_host(encoding):  # chukan's own codecs (chukan.codec.ebcdic)
        return f"chukan_{encoding}"
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
    "repertoire", "shift",
)  # fmt: skip
_RECORD_KEYS = ("name", "label", "match", "field")
_TABLE_KEYS = ("name", "label", "source", "description", "codes", "missing")


class Frozen:
    """A spec model that freezes its mappings (``MappingProxyType``, which does not
    pickle): it is pickled as its fields, mappings as dicts, and rebuilt through its
    ``__init__``. A Spark task gets its layout so, and a code-page table defines its page
    again in the task's process."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        """``cls(**fields)``, the mappings as plain dicts (frozen again on the way in)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]
        frozen = sorted(k for k, v in values.items() if isinstance(v, MappingProxyType))
        return (_rebuild, (type(self), {k: dict(v) if k in frozen else v
                                        for k, v in values.items()}, frozen))


def _rebuild(cls: type[_T], kwargs: dict[str, Any], frozen: list[str]) -> _T:
    made = cls(**kwargs)
    for key in frozen:  # (a class whose __post_init__ does not freeze them itself)
        if not isinstance(getattr(made, key), MappingProxyType):
            object.__setattr__(made, key, MappingProxyType(getattr(made, key)))
    return made


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeTable(Frozen):
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

    @property
    def utf8_codes(self) -> list[bytes]:
        """The codes as the core looks values up in them (UTF-8).

        >>> CodeTable(name="t", codes={"01": "男", "02": "女"}).utf8_codes
        [b'01', b'02']
        """
        return [code.encode() for code in self.codes]


# --------------------------------------------------------------------------------------
# Finding files


def _shipped_dirs() -> list[Path]:
    """Where the package's own layouts live: inside the wheel, or the repository's
    top-level ``layouts/`` when running from a source checkout (editable install)."""
    here = Path(__file__).resolve().parent.parent  # the package: src/chukan
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
    if beside is not None:
        msg = outside_reason(found, beside, name)
        if msg is not None:
            raise LayoutNotFoundError(name, searched=[str(d) for d in dirs], reason=msg)
    return found


def outside_reason(path: Path, beside: Path, name: str | None = None) -> str | None:
    """Why a file a spec file names may not be read, or None: it lies outside that
    file's folder (``beside``) and the search path, and ``CHUKAN_TRUST_PATHS=1`` is not
    set (a vendor's layout cannot make chukan read ``/etc/…`` or ``../../``)."""
    if os.environ.get("CHUKAN_TRUST_PATHS") == "1":
        return None
    where = path.resolve()
    if any(where.is_relative_to(d.resolve()) for d in search_path((beside,))):
        return None
    return (f"{name or str(path)!r} resolves to {where}, outside the folder of the file "
            "naming it and the layout search path (set CHUKAN_TRUST_PATHS=1 to allow it)")


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; a name the OS refuses (too long) is none."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


#: what a TOML file on the search path can be: its top table names its kind
KINDS: tuple[str, ...] = ("layout", "mapping", "code_table", "code_map", "file_set",
                          "gaiji_map", "code_page")


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


def load_spec(path: Path,
              parse: Callable[[Mapping[str, Any], _Checker, Path | None], _T | None]) -> _T:
    """A spec file parsed by ``parse`` (its TOML, the checker that collects its problems,
    its path), or :class:`LayoutError` with every problem in it."""
    checker = _Checker(str(path))
    doc = _read_toml(path, checker)
    found = parse(doc, checker, path) if doc else None
    if checker.problems or found is None:
        raise LayoutError(checker.problems)
    return found


def loads_spec(text: str, base: Path | None,
               parse: Callable[[Mapping[str, Any], _Checker, Path | None], _T | None]) -> _T:
    """A spec parsed from a TOML string (the files it names resolve beside ``base``)."""
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
    found = parse(doc, checker, base / "<string>" if base else None)
    if checker.problems or found is None:
        raise LayoutError(checker.problems)
    return found


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
