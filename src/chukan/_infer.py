r"""What a CSV file looks like, column by column, and a layout written from it.

``chukan inspect`` shows the shape (delimiter, quoting, header, column count) and a guess
per column; ``chukan layout infer`` turns the same guesses into a layout. The guesses are
checked, not trusted: the layout is read back over the sample with chukan's own reader,
and a column it cannot read as guessed becomes plain text. Names need no hand renaming:
a header that is a label of a shipped layout gets that field's name (宛名番号 →
``atena_no``), an ASCII header is made an identifier, any other header gets ``c07``;
labels keep the header as it is.

>>> shape = sniff(b"a;b\n1;x\n2;y\n")
>>> shape.delimiter, shape.header, shape.columns
(';', True, 2)
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import polars as pl

from chukan._csv import split_cells
from chukan._inspect import guess_encoding, pad_columns
from chukan.codec import HALF_CHARS
from chukan.errors import ChukanError, UsageError
from chukan.spec import UTF8_BOM, catalogue, codec_name, load_layout, loads_layout

if TYPE_CHECKING:
    from pathlib import Path

#: how much of a file the guesses look at: enough rows to see each column's forms, and
#: quick on a PC whatever the file's size
SAMPLE_BYTES = 8 << 20
_DELIMITERS = (",", "\t", ";", "|")
_FLAG_SUFFIX = "_不詳フラグ"


@dataclass(frozen=True, slots=True)
class CsvShape:
    """A CSV file's shape, as its first rows show it."""

    encoding: str
    delimiter: str
    quote: str
    header: bool
    columns: int
    terminator: str
    quoted: bool  # some value is quoted
    first_row: tuple[str, ...] = ()  # the header, when there is one, as written


@dataclass(frozen=True, slots=True)
class ColumnGuess:
    """What one column's values have in common."""

    index: int  # 0-based
    header: str
    type: str  # text, digits, integer, date
    chars: str  # text: halfwidth, fullwidth or any
    max_chars: int
    max_bytes: int  # in the file's encoding
    empty: int
    values: int
    date_format: str | None = None
    note: str = ""

    def describe(self) -> str:
        """One line for ``chukan inspect``."""
        what = self.type + (f" {self.date_format}" if self.date_format else "") + \
            (f" {self.chars}" if self.type == "text" else "")
        return (f"{self.index + 1:>3} {pad_columns(self.header, 26)} {pad_columns(what, 22)} "
                f"最大{self.max_chars}文字/{self.max_bytes}バイト 空{self.empty}/"
                f"{self.values}{' ' + self.note if self.note else ''}")


def _text(head: bytes) -> tuple[str, str]:
    """The sample as text (a byte-order mark dropped, a cut last line too), and the
    layout encoding that reads it."""
    encoding, _ = guess_encoding(head)
    if encoding in ("utf-16", "unknown"):
        msg = f"cannot read this file as CSV: its encoding is {encoding}"
        raise UsageError(msg)
    if encoding == "ascii":
        encoding = "utf-8"
    body = head[len(UTF8_BOM):] if head.startswith(UTF8_BOM) else head
    cut = body.rfind(b"\n")
    body = body[:cut + 1] if cut >= 0 else body
    return body.decode(codec_name(encoding), "replace"), encoding


def sniff(head: bytes) -> CsvShape:
    """The delimiter that splits the first rows into the same number of cells (quotes
    respected), whether the first row is a header, and the line ends."""
    text, encoding = _text(head)
    sample = text[:1 << 16].encode("utf-8")
    best: tuple[float, int, str] | None = None
    for delim in _DELIMITERS:
        rows = [r for r in split_cells(sample, ord(delim), ord('"')) if r != [(b"", False)]]
        if not rows:
            continue
        counts = Counter(len(r) for r in rows[:200])
        width, seen = counts.most_common(1)[0]
        score = (seen / sum(counts.values()), width, delim)
        if width > 1 and (best is None or score[:2] > best[:2]):
            best = score
    delimiter, width = (best[2], best[1]) if best else (",", 1)
    rows = split_cells(sample, ord(delimiter), ord('"'))
    first = [c.decode("utf-8", "replace") for c, _ in rows[0]] if rows else []
    rest = [[c.decode("utf-8", "replace") for c, _ in r] for r in rows[1:50]]
    crlf, lf = head.count(b"\r\n"), head.count(b"\n")
    return CsvShape(encoding=encoding, delimiter=delimiter, quote='"',
                    header=_looks_like_header(first, rest), columns=width,
                    terminator="crlf" if lf and crlf == lf else "lf",
                    quoted=any(q for r in rows for _, q in r), first_row=tuple(first))


def _looks_like_header(first: list[str], rest: list[list[str]]) -> bool:
    """A header names its columns: distinct, non-empty, no number among them, where the
    rows below hold numbers in some column."""
    if not first or not all(first):
        return False
    number = re.compile(r"^[-+]?[0-9][0-9.,/-]*$")
    if any(number.match(c) for c in first):
        return False
    return not rest or any(number.match(r[i]) for r in rest for i in range(min(len(r),
                                                                           len(first))))


def guess_columns(head: bytes, shape: CsvShape) -> list[ColumnGuess]:
    """A guess for every column, from the sample's values (Polars, one pass a column)."""
    text, _ = _text(head)
    frame = pl.read_csv(text.encode("utf-8"), has_header=shape.header, infer_schema=False,
                        separator=shape.delimiter, quote_char=shape.quote,
                        truncate_ragged_lines=True, encoding="utf8-lossy")
    # the header as written (Polars renames a repeated one)
    headers = [shape.first_row[i] if shape.header and i < len(shape.first_row) else
               f"c{i + 1:02d}" for i in range(frame.width)]
    enc = codec_name(shape.encoding)
    guesses = []
    for i, column in enumerate(frame.columns):
        values = frame[column]
        filled = values.filter(values.is_not_null() & (values != ""))
        guesses.append(_guess(i, headers[i], filled, values.len() - filled.len(),
                              values.len(), enc))
    return guesses


def _guess(index: int, header: str, filled: pl.Series, empty: int, total: int,
           enc: str) -> ColumnGuess:
    def every(pattern: str) -> bool:
        return bool(filled.len()) and bool(filled.str.contains(pattern).all())

    max_chars = int(filled.str.len_chars().max() or 0)  # type: ignore[arg-type]
    # bytes in the file's own encoding (a CP932 full-width character is 2, UTF-8 3)
    max_bytes = max((len(v.encode(enc, "replace")) for v in _longest(filled)), default=0)
    base = ColumnGuess(index=index, header=header, type="text", chars="any",
                       max_chars=max_chars, max_bytes=max_bytes, empty=empty, values=total)
    if every(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"):
        return replace(base, type="date", date_format="YYYY-MM-DD")
    if every(r"^[0-9]+$"):
        note = "前ゼロあり" if bool(filled.str.contains(r"^0[0-9]").any()) else ""
        if every(r"^[0-9]{8}$") and _all_dates(filled, "%Y%m%d"):
            note = (note + " " if note else "") + "すべて日付(YYYYMMDD)に読めます"
        return replace(base, type="digits", note=note)
    if every(r"^-?(0|[1-9][0-9]{0,17})$"):
        return replace(base, type="integer", note="符号あり" if bool(
            filled.str.starts_with("-").any()) else "")
    # the reader's own character classes: half-width is ASCII and half-width kana,
    # full-width is everything else
    chars = "halfwidth" if every(f"^[{HALF_CHARS}]+$") else \
        "fullwidth" if every(f"^[^{HALF_CHARS}]+$") else "any"
    return replace(base, chars=chars)


def _longest(values: pl.Series) -> list[str]:
    """The values that may be longest in bytes: the longest few in characters."""
    if not values.len():
        return []
    lengths = values.str.len_chars()
    return values.filter(lengths >= lengths.max() // 2 + 1).head(1000).to_list()  # type: ignore[operator]


def _all_dates(values: pl.Series, fmt: str) -> bool:
    return bool(values.str.to_date(fmt, strict=False).is_not_null().all())


def _known_names() -> dict[str, str]:
    """Labels of the shipped layouts' fields → their names (the first layout wins)."""
    names: dict[str, str] = {}
    for entry in catalogue("layout"):
        try:
            layout = load_layout(entry.path)
        except ChukanError:
            continue
        for kind in layout.kinds:
            for f in kind.fields:
                if f.label:
                    names.setdefault(f.label, f.name)
    return names


def _names(headers: list[str]) -> list[str]:
    """A valid, unique field name for each header."""
    known = _known_names()
    out: list[str] = []
    for i, header in enumerate(headers):
        name = known.get(header)
        if name is None:
            ascii_name = re.sub(r"[^0-9a-z]+", "_", header.lower()).strip("_")
            name = ascii_name if header.isascii() and ascii_name else f"c{i + 1:02d}"
            if name[0].isdigit():
                name = f"c_{name}"
        base, n = name, 2
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


def infer_layout(path: Path, name: str) -> tuple[str, CsvShape, list[ColumnGuess]]:
    """A layout (TOML text) for the CSV file at ``path``, checked against its sample:
    the layout reads the sample without an error."""
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    shape = sniff(head)
    guesses = guess_columns(head, shape)
    headers = [g.header for g in guesses]
    twice = sorted({h for h in headers if headers.count(h) > 1})
    if shape.header and twice:  # a layout reads columns by their header
        msg = (f"{path}: the header names {'、'.join(twice)} more than once; a layout "
               "finds columns by their header, so it could not tell them apart: rename "
               "them in the header row")
        raise UsageError(msg)
    text = _toml(path, name, shape, guesses, _names([g.header for g in guesses]))
    # a column the layout cannot read as guessed becomes text of any width: the layout
    # must read the sample it came from
    for _ in range(len(guesses)):
        failing = _failing_columns(text, head, guesses)
        if not failing:
            break
        guesses = [replace(g, type="text", chars="any", date_format=None,
                           note=(g.note + " " if g.note else "") + "(読めない値があり文字列に)")
                   if g.index in failing else g for g in guesses]
        text = _toml(path, name, shape, guesses, _names([g.header for g in guesses]))
    return text, shape, guesses


def _failing_columns(text: str, head: bytes, guesses: list[ColumnGuess]) -> set[int]:
    from chukan.read import read  # noqa: PLC0415 -- the reader imports this package's modules
    from chukan.report import Report  # noqa: PLC0415

    layout = loads_layout(text)
    cut = head.rfind(b"\n")
    report = Report()
    read(head[:cut + 1] if cut >= 0 else head, layout, report=report)
    by_name = {f.name: i for i, f in enumerate(layout.fields)}
    return {guesses[by_name[p.field]].index for p in report.problems
            if p.severity == "error" and p.field in by_name}


def _toml(path: Path, name: str, shape: CsvShape, guesses: list[ColumnGuess],
          names: list[str]) -> str:
    q = _quote
    rows = guesses[0].values if guesses else 0
    lines = [
        f"# Inferred by `chukan layout infer` from {path.name}: {rows} rows sampled.",
        "# Types, lengths and `required` are what the sample shows, not a standard's",
        "# definitions: check each field (a length is the longest value seen).",
        "[layout]",
        f"name = {q(name)}",
        f"title = {q(path.stem)}",
        'format = "csv"',
        f"encoding = {q(shape.encoding)}",
        f"terminator = {q(shape.terminator)}",
        f"header = {'true' if shape.header else 'false'}",
    ]
    if shape.header:
        lines.append('header_text = "label"')
    if shape.delimiter != ",":
        lines.append(f"delimiter = {q(shape.delimiter)}")
    # a `X_不詳フラグ` column of one digit governs the date X (the 基本データリスト form)
    flags = {g.header: names[i] for i, g in enumerate(guesses)
             if g.header.endswith(_FLAG_SUFFIX) and g.type == "digits" and g.max_chars == 1}
    for g, field_name in zip(guesses, names, strict=True):
        lines += ["", "[[field]]", f"name = {q(field_name)}"]
        if shape.header:
            lines.append(f"label = {q(g.header)}")
        lines.append(f"type = {q(g.type)}")
        if g.type == "date":
            lines.append(f"format = {q(g.date_format or 'YYYY-MM-DD')}")
            flag = flags.get(g.header + _FLAG_SUFFIX)
            if flag is not None:
                lines.append(f"fumei_flag = {q(flag)}   # 1: 不詳, whatever digits the date holds")
        else:
            lines.append(f"length = {max(1, g.max_chars)}   # the longest value seen "
                         f"({g.max_bytes} bytes in {shape.encoding})")
        if g.type == "text" and g.chars != "any":
            lines.append(f"chars = {q(g.chars)}")
        if g.type == "integer" and "符号" in g.note:
            lines.append("signed = true")
        if g.values and not g.empty:
            lines.append(f"required = true   # never empty in the {g.values} rows sampled")
        if g.note and g.type != "integer":
            lines.append(f"# {g.note}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    """A TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04X}" for c in escaped)
    return f'"{escaped}"'
