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

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from chukan._eras import ERA_STARTS
from chukan.errors import LayoutError, LayoutNotFoundError, UsageError
from chukan.spec._base import (
    _ENCODING_ALIASES,
    _FIELD_KEYS,
    _LAYOUT_KEYS,
    _RECORD_KEYS,
    DATE_FORMATS,
    DATE_WIDTHS,
    FIELD_TYPES,
    MAX_PRECISION,
    MAX_RECORD_LENGTH,
    REPERTOIRES,
    TERMINATOR_BYTES,
    Chars,
    CodeTable,
    DateFormat,
    Duplicates,
    FieldType,
    Format,
    Repertoire,
    Shift,
    Storage,
    Terminator,
    _Checker,
    _closest,
    codec_name,
    find_file,
    is_host,
    kind_of,
    load_code_table,
    load_spec,
    loads_spec,
)
from chukan.spec.codepage import CodePage, load_code_page
from chukan.spec.encoding import Encoding, encodable, encoding_of

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping


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
    #: EBCDIC text: single bytes only, double-byte runs between SO and SI, or double
    #: bytes only (``type = "graphic"``, read as full-width text)
    shift: Shift = "none"

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
    #: the user's code-page table a vendor-page layout names (``encoding`` is then the
    #: page it defines, ``jef_3fa2…``)
    code_page: CodePage | None = None
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
    def charset(self) -> Encoding:
        """The encoding as an object: its pads, digits and structure."""
        return encoding_of(self.encoding)

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


def load_layout(name_or_path: str | Path) -> Layout:
    """Load a layout by file path or by name (``CHUKAN_LAYOUT_PATH``, then shipped ones).

    Raises :class:`~chukan.errors.LayoutError` listing *every* problem in the file, and
    :class:`~chukan.errors.LayoutNotFoundError` when nothing of that name exists.

    >>> load_layout("examples/vendor-a/juki-kojin").record_length
    200
    """
    if isinstance(name_or_path, Layout):  # already loaded: be forgiving in the API
        return name_or_path
    return load_spec(find_file(str(name_or_path)), _parse_layout)


def loads_layout(text: str, *, base: Path | None = None) -> Layout:
    """Parse a layout from a TOML string; names of tables resolve beside ``base``."""
    return loads_spec(text, base, _parse_layout)


def _parse_layout(doc: Mapping[str, Any], checker: _Checker, path: Path | None) -> Layout | None:
    checker.unknown_keys(doc, ("layout", "field", "record"), "(top)")
    meta = checker.get(doc, "layout", dict, "(top)", required=True)
    if meta is None:
        return None
    w = "layout"
    checker.unknown_keys(meta, _LAYOUT_KEYS, w)
    name = checker.get(meta, "name", str, w, "", required=True)
    fmt = checker.choice(meta, "format", ("fixed", "csv"), w, None, what="format") or "fixed"
    encoding, code_page = _parse_encoding(meta, checker, path.parent if path else None)
    ebcdic = is_host(encoding)
    terminator = checker.choice(meta, "terminator", ("crlf", "lf", "none"), w,
                                "none" if ebcdic else "crlf", what="terminator")
    if ebcdic and fmt != "fixed":
        checker.add(w, "encoding", f"{encoding} (a host code page) is for fixed-width "
                                   "files only")
    elif ebcdic and terminator != "none":
        checker.add(w, "terminator", "host records follow each other with no terminator: "
                                     "terminator = \"none\"")
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
        elif value in "\r\n\0":
            # a row ends at a line feed; NUL bytes are what tells a UTF-16 file (other
            # control characters may: Hive's files are delimited with 0x01)
            checker.add(w, key, f"{value!r} is a line end or NUL")
    if delimiter == quote:
        checker.add(w, "quote", f"the same character as the delimiter ({quote!r})")
    elif encoding in ("cp932", "shift_jis") and len(quote) == 1 and "@" <= quote <= "~":
        # a delimiter there is read character by character; a quote is looked for on
        # bytes (the row finders), where it would be found inside a character
        checker.add(w, "quote", f"{quote!r} (0x{ord(quote):02X}) is the second byte of "
                                f"some {encoding} characters (` ends ～): use \" or '")
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
        records = _parse_records(doc, checker, fmt, record_length, record_type, base,
                                 encoding)
    else:
        if "record_type" in meta:
            checker.add(w, "record_type", "only for layouts with [[record]] kinds")
        raw_fields = checker.get(doc, "field", list, "(top)", [], required=True)
        fields = _parse_fields(raw_fields, "field", checker, fmt, record_length, base,
                               encoding)

    header_text = checker.choice(meta, "header_text", ("name", "label"), w, "name",
                                 what="header text")
    if fmt == "csv" and header_text == "label":  # the header names the columns
        labels = [f.label for f in fields if f.type != "filler"]
        for label in sorted({x for x in labels if labels.count(x) > 1}):
            checker.add(w, "header_text", f"two fields have the label {label!r}: a header "
                                          "of labels could not tell them apart")
    if fmt == "csv" and meta.get("header") is True:  # the header is written too
        for i, f in enumerate(fields):
            if f.type == "filler":
                continue
            key = "label" if header_text == "label" and f.label else "name"
            try:
                writable = encodable(getattr(f, key), codec_name(encoding))
            except LookupError:  # (an unknown encoding is reported on its own)
                break
            if not writable:  # (what the encoding lacks, or would not read back)
                checker.add(f"field[{i}]", key, f"{getattr(f, key)!r} has a character "
                            f"{encoding} lacks: the CSV header could not be written")
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
        code_page=code_page,
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


def _parse_encoding(meta: Mapping[str, Any], checker: _Checker, base: Path | None
                    ) -> tuple[str, CodePage | None]:
    """The encoding's name, and the user's code-page table where the layout names one
    (a ``.toml`` path, or a name on the search path) instead of an encoding."""
    raw = checker.get(meta, "encoding", str, "layout", "cp932", required=True)
    enc = _ENCODING_ALIASES.get(raw.lower())
    if enc is not None:
        return enc, None
    unsupported = f"unsupported encoding {raw!r} (an encoding's name, or a code-page table's)"
    if not raw.endswith(".toml"):  # a name: a code-page table's on the search path, or none
        try:
            found = find_file(raw, beside=base)
        except LayoutNotFoundError:
            found = None
        if found is None or kind_of(found) != "code_page":
            checker.add("layout", "encoding", unsupported,
                        _closest(raw.lower(), tuple(_ENCODING_ALIASES)))
            return "cp932", None
        raw = str(found)
    try:
        page = load_code_page(raw, beside=base)
    except LayoutNotFoundError as exc:
        checker.add("layout", "encoding", exc.reason or f"no code-page table {raw!r} "
                    f"(searched beside the layout and in {', '.join(exc.searched)})")
    except LayoutError as exc:
        for p in exc.problems:
            checker.add("layout", "encoding", f"in code-page table {raw!r}: {p}")
    else:
        return page.encoding, page
    return "cp932", None


def _parse_records(doc: Mapping[str, Any], checker: _Checker, fmt: str, record_length: int,
                   record_type: tuple[int, int] | None, base: Path | None, encoding: str
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
        fields = _parse_fields(raw_fields, f"{where}.field", checker, fmt, record_length, base,
                               encoding)
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
                  record_length: int, base: Path | None, encoding: str) -> tuple[Field, ...]:
    fields: list[Field] = []
    names: set[str] = set()
    next_start = 1
    # positions are only checked when every field could be read
    complete = all(isinstance(item, dict) for item in raw)
    for _, where, item in checker.tables(raw, prefix):
        f = _parse_field(item, where, checker, fmt, next_start, base, encoding)
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
                 next_start: int, base: Path | None, encoding: str) -> Field | None:
    checker.unknown_keys(item, _FIELD_KEYS, where)
    ftype = checker.choice(item, "type", (*FIELD_TYPES, "graphic"), where, None,
                           what="field type")
    # a graphic field (COBOL PIC G / PIC N) is full-width text in double bytes only
    graphic = ftype == "graphic"
    encoding_said = any(p.key == "encoding" for p in checker.problems)
    if (graphic or "shift" in item) and not is_host(encoding) and not encoding_said:
        checker.add(where, "type" if graphic else "shift",
                    f"double-byte shift modes are the host pages', not {encoding}'s")
    if graphic:
        ftype = "text"
        if "chars" in item or "shift" in item:
            checker.add(where, "chars" if "chars" in item else "shift",
                        "a graphic field is full-width, in double bytes only")
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
    chars = "fullwidth" if graphic else checker.choice(
        item, "chars", ("fullwidth", "halfwidth", "any"), where, "any", what="character class")
    only("shift", "text", "code")
    shift = "graphic" if graphic else checker.choice(item, "shift", ("none", "so-si"), where,
                                                     "none", what="shift mode")
    storage = checker.choice(item, "storage", ("display", "zoned", "packed"), where, "display",
                             what="storage")
    if storage == "packed" and fmt == "csv":
        checker.add(where, "storage", "packed decimals exist only in fixed layouts")
    scale = checker.get(item, "scale", int, where, 0)
    signed = checker.get(item, "signed", bool, where, ftype == "integer")
    fullwidth = ftype == "text" and chars == "fullwidth"
    # a mixed field pads with single-byte spaces: U+3000 would need its own shifts
    pad = checker.get(item, "pad", str, where,
                      "\u3000" if fullwidth and shift != "so-si" else "0")
    if graphic and length is not None and length % 2:
        checker.add(where, "length", "a graphic field holds two bytes per character: "
                                     "an even length")
    if graphic and pad != "\u3000":
        checker.add(where, "pad", "a graphic field pads with U+3000 (全角空白) only")
    elif shift == "so-si" and fullwidth and pad != " ":
        checker.add(where, "pad", "a shift = \"so-si\" field pads with ' ' only")
    elif ftype == "text" and "pad" in item and not fullwidth:
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
        shift=cast("Shift", shift),
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
