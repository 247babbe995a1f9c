"""Problems found in data, and the :class:`Report` that collects them.

A :class:`Problem` pins one defect to the byte: file, record number (1-based), byte
offset in the file (0-based), field name and Japanese label, raw bytes in hex, and a
stable code such as ``width-overflow``.

>>> report = Report()
>>> report.add(Problem(code="not-digits", message="数字以外の文字があります", record=3,
...                    offset=64, field="atena_no", label="宛名番号", raw="31 32 41",
...                    value="12A"))
>>> report.ok, report.counts_by_code()
(False, {'not-digits': 1})
>>> print(report.problems[0])
record 3, byte 64, 宛名番号 (atena_no) の値 "12A": [not-digits] 数字以外の文字があります (31 32 41)
"""

from __future__ import annotations

import bisect
import html
import json
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np
import polars as pl

from chukan._arrow import constant
from chukan._codes import REGISTRY, Severity

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

    import numpy.typing as npt

__all__ = ["CODES", "GAIJI_LOCATIONS", "REGISTRY", "REPORT_SCHEMA", "GaijiEntry", "Problem",
           "Report", "Severity", "to_dict", "to_html", "to_json", "to_text"]

#: Stable codes for problems in data, with what each means in English. ``REGISTRY``
#: holds each code's English and Japanese words and its severity; codes never change
#: meaning.
CODES: dict[str, str] = {code: entry.en for code, entry in REGISTRY.items()}


_SHOWN_CHARS = 40  # a value longer than this is cut (its bytes are in the hex)


def _shown(value: str) -> str:
    r"""``value`` for one console line: control characters escaped, long values cut.

    >>> _shown("山田\t太郎\u3000\ue000"), _shown("x" * 50)[-3:]
    ('山田\\t太郎\u3000\\ue000', 'xx…')
    """
    # keep the Japanese readable (U+3000 too): escape only what a console cannot show on
    # one line, and 外字, which no console font has
    text = value if value.isprintable() else "".join(
        c if c.isprintable() or unicodedata.category(c) == "Zs"
        else c.encode("unicode_escape").decode("ascii") for c in value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One problem in the data, located to the byte.

    ``record`` is 1-based; ``offset`` is the 0-based byte offset of the field (or of the
    offending character, where known) from the start of the file. ``raw`` is hex.
    """

    code: str
    message: str
    severity: Severity = "error"
    file: str | None = None
    record: int | None = None
    offset: int | None = None
    field: str | None = None
    label: str | None = None
    raw: str = ""
    value: str | None = None

    def __str__(self) -> str:
        """A one-line rendering that survives a cp932 console (labels are JIS X 0208)."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        if self.field:
            parts.append(f"{self.label} ({self.field})" if self.label else self.field)
        head = ", ".join(parts)
        if self.value is not None:  # the value as a person reads it; its bytes after
            head += f" の値 \"{_shown(self.value)}\""
        raw = f" ({self.raw})" if self.raw else ""
        return f"{head}: [{self.code}] {self.message}{raw}"

    def sort_key(self) -> tuple[int, int]:
        """Order problems by record, then by byte offset."""
        return (self.record or 0, self.offset or 0)


class Detail(Protocol):
    """What a table's rows from one check on one field show: row ``i``'s bytes, its value
    as text (None: no text, as for a packed decimal) and its own words where it has
    them, one row at a time for the few a report makes :class:`Problem` objects of, or
    the values and words of many rows at once (``texts``) for a frame of them all."""

    def __call__(self, i: int) -> tuple[bytes, str | None, str | None]: ...

    def texts(self, rows: npt.NDArray[np.intp]) -> tuple[pl.Series, pl.Series | None]:
        """The values and words (None: none of its own) of ``rows``, as String series."""
        ...


class Mask(Protocol):
    """What a masked table (``validate(mask=True)``) shows of its rows instead of
    personal data: a problem made of a row, and many rows' values at once."""

    def __call__(self, problem: Problem, /) -> Problem: ...

    def values(self, values: pl.Series) -> pl.Series:
        """The values (a String series) as a masked problem shows them."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class _Source:
    """What the rows of a :class:`ProblemTable` from one check on one field share: their
    field and words, and where each row's bytes and value come from; or one problem
    already made."""

    made: Problem | None = None
    file: str | None = None
    field: str | None = None
    label: str | None = None
    message: str | None = None
    severity: Severity | None = None
    #: a row's bytes, value and own words (else ``message``'s, else the registry's)
    detail: Detail | None = None
    raw_limit: int | None = None  # bytes shown in hex, at most
    mask: Mask | None = None  # what the rows show instead of personal data

    def says_error(self) -> int:
        """1 or 0 where this source says whether its rows are errors, else -1 (their
        codes say)."""
        severity = self.made.severity if self.made is not None else self.severity
        return -1 if severity is None else int(severity == "error")


_NONE = -1  # a record or offset a problem does not have, in a table's columns


@dataclass(frozen=True, slots=True, eq=False)
class ProblemTable:
    """Problems as columns: what the readers find in a block, one row per problem, made
    into :class:`Problem` objects only for those a report shows. A :class:`Report` counts
    them by column, so that a file with a bad value in every record costs no Python
    object per problem.

    >>> t = ProblemTable.of([Problem(code="gaiji", message="", record=2, offset=9),
    ...                      Problem(code="not-digits", message="", record=1)])
    >>> len(t), [p.code for p in t.in_file_order().problems()]
    (2, ['not-digits', 'gaiji'])
    """

    sources: tuple[_Source, ...]
    codes: tuple[str, ...]  # the codes the rows name
    source: npt.NDArray[np.intp]  # per row: its source
    row: npt.NDArray[np.intp]  # per row: its row of its source's bytes
    code: npt.NDArray[np.intp]  # per row: its code, in ``codes``
    record: npt.NDArray[np.int64]  # per row: 1-based record number, or -1
    offset: npt.NDArray[np.int64]  # per row: byte offset in the file, or -1

    @classmethod
    def found(cls, *, codes: Sequence[str], code: npt.NDArray[np.intp],
              record: npt.NDArray[np.int64], offset: npt.NDArray[np.int64],
              detail: Detail, file: str | None,
              field: str | None, label: str | None, message: str | None = None,
              severity: Severity | None = None, raw_limit: int | None = None
              ) -> ProblemTable:
        """The rows of one check on one field: each row's code (in ``codes``), record and
        offset; ``detail(i)`` gives row ``i``'s bytes, value and words, when it is
        shown."""
        source = _Source(file=file, field=field, label=label, message=message,
                         severity=severity, detail=detail, raw_limit=raw_limit)
        n = len(record)
        return cls((source,), tuple(codes), np.zeros(n, np.intp), np.arange(n), code,
                   record, offset)

    @classmethod
    def of(cls, parts: Sequence[Problem | ProblemTable]) -> ProblemTable:
        """Problems and tables, one table of them all, in the order given."""
        tables: list[ProblemTable] = []
        made: list[Problem] = []
        for p in parts:
            if isinstance(p, Problem):
                made.append(p)
                continue
            if made:
                tables.append(cls._made(made))
                made = []
            tables.append(p)
        if made or not tables:
            tables.append(cls._made(made))
        if len(tables) == 1:
            return tables[0]
        codes = tuple(dict.fromkeys(c for t in tables for c in t.codes))
        where = {c: i for i, c in enumerate(codes)}
        starts = np.cumsum([0] + [len(t.sources) for t in tables])
        return cls(
            tuple(s for t in tables for s in t.sources), codes,
            np.concatenate([t.source + k for t, k in zip(tables, starts, strict=False)]),
            np.concatenate([t.row for t in tables]),
            np.concatenate([np.array([where[c] for c in t.codes], np.intp)[t.code]
                            for t in tables]),
            np.concatenate([t.record for t in tables]),
            np.concatenate([t.offset for t in tables]))

    @classmethod
    def _made(cls, problems: Sequence[Problem]) -> ProblemTable:
        codes = tuple(dict.fromkeys(p.code for p in problems))
        where = {c: i for i, c in enumerate(codes)}
        n = len(problems)
        return cls(tuple(_Source(made=p, file=p.file, field=p.field) for p in problems),
                   codes, np.arange(n),
                   np.zeros(n, np.intp), np.array([where[p.code] for p in problems], np.intp),
                   np.array([_NONE if p.record is None else p.record for p in problems],
                            np.int64),
                   np.array([_NONE if p.offset is None else p.offset for p in problems],
                            np.int64))

    def __len__(self) -> int:
        """How many problems."""
        return len(self.record)

    def take(self, rows: npt.NDArray[np.intp] | slice) -> ProblemTable:
        """These rows, in this order."""
        return ProblemTable(self.sources, self.codes, self.source[rows], self.row[rows],
                            self.code[rows], self.record[rows], self.offset[rows])

    def places(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Each row's record and offset as :meth:`Problem.sort_key` has them."""
        return np.maximum(self.record, 0), np.maximum(self.offset, 0)

    def in_file_order(self, *, by_file: bool = False) -> ProblemTable:
        """The rows by record, then byte offset (``by_file``: by their file's name first);
        rows at the same place keep their order."""
        record, offset = self.places()
        keys = [np.arange(len(self)), offset, record]
        if by_file:
            keys.append(np.array([s.file or "" for s in self.sources] or [""])[self.source])
        return self.take(np.lexsort(keys))

    def is_error(self) -> npt.NDArray[np.bool_]:
        """Whether each row is an error (its source's severity, else its code's)."""
        said = np.array([s.says_error() for s in self.sources], np.int8)[self.source] \
            if len(self) else np.zeros(0, np.int8)
        by_code = np.array([c not in REGISTRY or REGISTRY[c].severity == "error"
                            for c in self.codes], bool)
        return np.where(said >= 0, said == 1, by_code[self.code]) if len(self) else \
            np.zeros(0, bool)

    def counts(self) -> tuple[Counter[str], Counter[str], int,
                              list[tuple[str | None, npt.NDArray[np.int64]]]]:
        """The rows counted by code and by field (``""``: none), the errors among them,
        and the records of the errors, by file."""
        # counted in the order first found, as problems added one by one are (a count's
        # ties are listed in that order)
        codes, first, n = np.unique(self.code, return_index=True, return_counts=True)
        by_code = Counter({self.codes[codes[j]]: int(n[j]) for j in np.argsort(first)})
        by_field: Counter[str] = Counter()
        sources, first, n = np.unique(self.source, return_index=True, return_counts=True)
        for j in np.argsort(first):
            by_field[self.sources[sources[j]].field or ""] += int(n[j])
        error = self.is_error()
        errors = int(error.sum())
        error &= self.record != _NONE
        files = [s.file for s in self.sources]
        if not error.any():
            rows = []
        elif len(set(files)) == 1:
            rows = [(files[0], self.record[error])]
        else:  # (problems made elsewhere, with their own files)
            by_file = np.array(files, dtype=object)[self.source[error]]
            rows = [(name, self.record[error][by_file == name]) for name in set(by_file)]
        return by_code, by_field, errors, rows

    def moved(self, record: npt.NDArray[np.int64], offset: npt.NDArray[np.int64]
              ) -> ProblemTable:
        """The rows at other places: ``record`` and ``offset`` per row."""
        return replace(self, record=record, offset=offset)

    def with_file(self, file: str) -> ProblemTable:
        """The rows with ``file`` where they name none (or an empty one)."""
        sources = tuple(
            s if s.file else
            _Source(made=replace(s.made, file=file), file=file, field=s.field)
            if s.made is not None else replace(s, file=file) for s in self.sources)
        return replace(self, sources=sources)

    def masked(self, mask: Mask) -> ProblemTable:
        """The rows as ``mask`` shows them, each when it is shown: a table of many
        problems is masked with no object made per problem.

        >>> class Hidden:
        ...     def __call__(self, p): return replace(p, value="*")
        ...     def values(self, values): return values.str.replace_all(".", "*")
        >>> t = ProblemTable.of([Problem(code="gaiji", message="", record=1, value="x")])
        >>> t.masked(Hidden()).problem(0).value
        '*'
        """
        sources = tuple(replace(s, made=mask(s.made)) if s.made is not None else
                        replace(s, mask=mask) for s in self.sources)
        return replace(self, sources=sources)

    def problem(self, i: int) -> Problem:
        """Row ``i`` as a :class:`Problem`."""
        s = self.sources[int(self.source[i])]
        if s.made is not None:
            return s.made
        assert s.detail is not None  # noqa: S101 -- a source is a problem or has its rows
        raw, value, words = s.detail(int(self.row[i]))
        code = self.codes[int(self.code[i])]
        entry = REGISTRY[code]
        record, offset = int(self.record[i]), int(self.offset[i])
        shown = raw if s.raw_limit is None else raw[:s.raw_limit]
        made = Problem(code=code, message=words or s.message or entry.ja,
                       severity=s.severity or entry.severity, file=s.file,
                       record=None if record == _NONE else record,
                       offset=None if offset == _NONE else offset, field=s.field,
                       label=s.label, raw=shown.hex(" ") + (" …" if len(shown) < len(raw)
                                                             else ""), value=value)
        return s.mask(made) if s.mask is not None else made

    def problems(self) -> list[Problem]:
        """Every row as a :class:`Problem`, in order."""
        return [self.problem(i) for i in range(len(self))]

    def details(self) -> pl.DataFrame:
        """Every row's code, severity, words (``message``), file, record, offset, field,
        label and value as columns, in order (``record`` and ``offset`` null where a row
        has none): what :meth:`problem` makes of each row, bytes aside, with no object
        made per row (a conversion's reasons for 150,000 rejected records).

        >>> t = ProblemTable.of([Problem(code="gaiji", message="外字", record=2, value="x")])
        >>> t.details().select("code", "record", "value").rows()
        [('gaiji', 2, 'x')]
        """
        schema = {k: v for k, v in _FRAME_SCHEMA.items() if k != "raw"}
        parts = []
        # the problems made already: their fields as they are (one frame of them all)
        made = np.flatnonzero(np.array([s.made is not None for s in self.sources],
                                       bool)[self.source]) if len(self) else \
            np.zeros(0, np.intp)
        if len(made):
            rows = [asdict(self.sources[int(self.source[i])].made) for i in made]  # type: ignore[arg-type]
            parts.append(pl.DataFrame(rows, schema=_FRAME_SCHEMA).drop("raw")
                         .with_columns(_at=pl.Series(made, dtype=pl.Int64)))
        # the rest by source: only what a source's bytes give (values, a row's own
        # words) is made per source; what it shares is one small column of every
        # source's, gathered by row (a frame per source cost 2 ms: a batch of 100
        # records with a bad value in each of its 20 fields spent its time there)
        order = np.argsort(self.source, kind="stable")
        sources, starts = np.unique(self.source[order], return_index=True)
        ends = np.append(starts[1:], len(order))[:len(starts)]
        values, words, ats = [], [], []
        for j, start, end in zip(sources, starts, ends, strict=True):
            s = self.sources[int(j)]
            if s.detail is None:
                continue
            at = order[start:end]
            value, own = s.detail.texts(self.row[at])
            text = value.cast(pl.String)
            values.append(text if s.mask is None else s.mask.values(text))
            # (a row's "" words say nothing, as in problem())
            words.append(own.cast(pl.String).replace("", None) if own is not None
                         else constant(None, len(at)))
            ats.append(at)
        if ats:
            at = np.concatenate(ats)
            source, code = self.source[at], self.code[at]

            def shared(name: str, *, empty_is_none: bool = False) -> pl.Series:
                said = [getattr(s, name) for s in self.sources]
                if empty_is_none:  # (a source's "" words or severity say nothing)
                    said = [x or None for x in said]
                return pl.Series(said, dtype=pl.String).gather(source)

            def by_code(said: list[str]) -> pl.Series:
                return pl.Series(said, dtype=pl.String).gather(code)

            ja = by_code([REGISTRY[c].ja if c in REGISTRY else c for c in self.codes])
            severity = by_code([REGISTRY[c].severity if c in REGISTRY else "error"
                                for c in self.codes])
            parts.append(pl.DataFrame({
                "code": by_code(list(self.codes)),
                "severity": shared("severity", empty_is_none=True).fill_null(severity),
                # words: the row's own, else the check's, else the registry's for its code
                "message": pl.concat(words)
                .fill_null(shared("message", empty_is_none=True)).fill_null(ja),
                "file": shared("file"),
                "record": pl.Series(self.record[at]),
                "offset": pl.Series(self.offset[at]),
                "field": shared("field"),
                "label": shared("label"),
                "value": pl.concat(values),
                "_at": pl.Series(at, dtype=pl.Int64),
            }, schema={**schema, "_at": pl.Int64}))
        if not parts:
            return pl.DataFrame(schema=schema)
        none = pl.lit(_NONE)
        return pl.concat(parts).sort("_at").drop("_at").with_columns(
            pl.when(pl.col(c) != none).then(pl.col(c)) for c in ("record", "offset"))


#: what a reader or writer has found in a block, in the order found: problems, and
#: tables of them (one check on one field)
Findings = list[Problem | ProblemTable]


def made(found: Iterable[Problem | ProblemTable]) -> list[Problem]:
    """Problems and tables of them, every row made a :class:`Problem`, in order."""
    return [q for p in found for q in (p.problems() if isinstance(p, ProblemTable) else (p,))]


def by_place(found: Findings) -> list[Problem] | ProblemTable:
    """Problems and tables of them in file order (by record, then byte offset; found
    order at one place): a table where there is one, else the problems as they are."""
    if any(isinstance(p, ProblemTable) for p in found):
        return ProblemTable.of(found).in_file_order()
    # (problems made one by one, as a splitter's are: no table to build)
    return sorted(found, key=Problem.sort_key)  # type: ignore[arg-type]


def first_error(found: Findings) -> Problem | None:
    """The first error in the file of these problems and tables of them, if any: what
    a strict reader or writer stops at."""
    if not any(isinstance(p, ProblemTable) for p in found):
        return min((p for p in found if isinstance(p, Problem) and p.severity == "error"),
                   key=Problem.sort_key, default=None)
    table = ProblemTable.of(found).in_file_order()
    errors = np.flatnonzero(table.is_error())
    return table.problem(int(errors[0])) if len(errors) else None


def _by_count(counts: Counter[str]) -> dict[str, int]:
    """Counts, the largest first, then by key.

    >>> _by_count(Counter({"b": 1, "c": 2, "a": 1}))
    {'c': 2, 'a': 1, 'b': 1}
    """
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String(),
    "severity": pl.String(),
    "message": pl.String(),
    "file": pl.String(),
    "record": pl.Int64(),
    "offset": pl.Int64(),
    "field": pl.String(),
    "label": pl.String(),
    "raw": pl.String(),
    "value": pl.String(),
}


@dataclass(slots=True)
class GaijiEntry:
    """One character of the 外字 inventory: where 文字同定 work starts.

    ``raw`` is its bytes in the file (hex) where first seen, ``forms`` counts each byte
    form met (CP932 spells some characters two ways); ``fields`` counts occurrences by
    field; ``first`` holds the first locations as (file, record, byte offset, field).
    """

    char: str
    raw: str
    reason: str
    count: int = 0
    forms: Counter[str] = field(default_factory=Counter)
    fields: Counter[str] = field(default_factory=Counter)
    first: list[tuple[str | None, int, int, str]] = field(default_factory=list)

    @property
    def code_point(self) -> str:
        """``U+E000``-style code point(s)."""
        return " ".join(f"U+{ord(c):04X}" for c in self.char)


#: How many locations the inventory keeps per character.
GAIJI_LOCATIONS = 5


@dataclass(slots=True)
class Report:
    """Problems collected while reading, writing or validating, plus record counts.

    Pass one to :func:`chukan.read` (``report=``) to read leniently: problems are
    collected and reading goes on. Without one, the first problem raises.

    With ``max_problems`` only that many problems keep their details; every count (by
    code, by field, records with errors) still covers them all. The details kept are
    the first found, or with ``in_file_order`` the first in the file (by record, then
    byte offset): the same however the file was read, in batches or in ranges.

    >>> r = Report(max_problems=1, in_file_order=True)
    >>> r.extend([Problem(code="not-digits", message="", record=7),
    ...           Problem(code="gaiji", message="", record=2)])
    >>> [(p.code, p.record) for p in r.problems], r.total
    ([('gaiji', 2)], 2)
    """

    records_read: int = 0
    records_written: int = 0
    max_problems: int | None = None
    files: list[str] = field(default_factory=list)
    #: the 外字 inventory: characters of the Private Use Area, to be identified
    gaiji: dict[str, GaijiEntry] = field(default_factory=dict)
    #: characters outside the chosen repertoire (髙 against JIS X 0208): known
    #: characters, to be replaced or accepted — never counted as 外字
    outside: dict[str, GaijiEntry] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # field name → Japanese label
    in_file_order: bool = False
    #: the problems kept in detail, in order: tables stay tables until asked for
    _kept: list[Problem | ProblemTable] = field(default_factory=list)
    _n_kept: int = 0
    _tables: int = 0  # tables among ``_kept``
    _places: list[tuple[int, int, int]] = field(default_factory=list)  # kept, in order
    _found: int = 0  # problems added: the tie-break of equal places
    _by_code: Counter[str] = field(default_factory=Counter)
    _by_field: Counter[str] = field(default_factory=Counter)
    _error_records: set[tuple[str | None, int | None]] = field(default_factory=set)
    #: the records with errors of tables, by file (counted distinct when asked)
    _error_rows: list[tuple[str | None, npt.NDArray[np.int64]]] = field(default_factory=list)
    _errors: int = 0
    _total: int = 0

    @property
    def problems(self) -> list[Problem]:
        """The problems kept in detail (see ``max_problems``), in the order they were
        found."""
        if self._tables:
            self._kept = made(self._kept)  # type: ignore[assignment]
            self._tables = 0
        return self._kept  # type: ignore[return-value] # (no table is left in it)

    def add(self, problem: Problem) -> None:
        """Record one problem."""
        self._total += 1
        self._by_code[problem.code] += 1
        self._by_field[problem.field or ""] += 1
        if problem.severity == "error":
            self._errors += 1
            if problem.record is not None:  # file-level problems are not about a record
                self._error_records.add((problem.file, problem.record))
        self._found += 1
        self._keep(problem, self._found)

    def _keep(self, problem: Problem, found: int) -> None:
        """Keep a counted problem in detail, if the cap lets it in."""
        if not self.in_file_order or self.max_problems is None:
            if self.max_problems is None or self._n_kept < self.max_problems:
                self._kept.append(problem)
                self._n_kept += 1
            return
        # kept sorted by place: a problem earlier in the file than the last one kept
        # takes its place (only the cap's few are ever moved)
        place = (*problem.sort_key(), found)
        if self._n_kept >= self.max_problems and (
                not self.max_problems or place > self._places[-1]):
            return
        k = bisect.bisect_right(self._places, place)
        self._places.insert(k, place)
        self._kept.insert(k, problem)
        self._n_kept += 1
        if self._n_kept > self.max_problems:
            self._places.pop()
            self._kept.pop()
            self._n_kept -= 1

    def extend(self, problems: Iterable[Problem] | ProblemTable) -> None:
        """Record several problems."""
        if not isinstance(problems, ProblemTable):
            for p in problems:
                self.add(p)
            return
        table = problems
        if not len(table):
            return
        by_code, by_field, errors, rows = table.counts()
        self._total += len(table)
        self._by_code.update(by_code)
        self._by_field.update(by_field)
        self._errors += errors
        self._error_rows += rows
        self._keep_table(table)

    def _keep_table(self, table: ProblemTable) -> None:
        first = self._found + 1
        self._found += len(table)
        if self.max_problems is None:
            self._kept.append(table)
            self._n_kept += len(table)
            self._tables += 1
            return
        if not self.in_file_order:
            # the cap's first few, made now: a table kept would hold its block's bytes
            for i in range(min(len(table), self.max_problems - self._n_kept)):
                self._keep(table.problem(i), first + i)
            return
        # only a table's first rows in the file can be among the report's first, and
        # only those before the last kept when the cap is reached: they alone are made
        record, offset = table.places()
        rows = np.lexsort((np.arange(len(table)), offset, record))[:self.max_problems]
        if self._n_kept >= self.max_problems and self.max_problems:
            last_record, last_offset, _ = self._places[-1]
            before = (record[rows] < last_record) | (
                (record[rows] == last_record) & (offset[rows] < last_offset))
            rows = rows[before]
        for i in rows:
            self._keep(table.problem(int(i)), first + int(i))

    def absorb(self, other: Report, problems: Iterable[Problem] | ProblemTable, *,
               file: str) -> None:
        """Take over ``other``'s problems: ``problems`` are its detailed ones (sorted or
        masked as the caller wants, ``file`` filled in), and the counts of those it did
        not keep in detail are added as they are."""
        kept: ProblemTable | list[Problem]
        if isinstance(problems, ProblemTable):
            kept = problems
            by_code, by_field, errors, _ = kept.counts()
        else:
            kept = list(problems)
            by_code = Counter(p.code for p in kept)
            by_field = Counter(p.field or "" for p in kept)
            errors = sum(p.severity == "error" for p in kept)
        self.extend(kept)
        self._by_code.update(other._by_code - by_code)
        self._by_field.update(other._by_field - by_field)
        self._total += other._total - len(kept)
        self._errors += other._errors - errors
        self._error_records |= {(f or file, r) for f, r in other._error_records}
        self._error_rows += [(f or file, r) for f, r in other._error_rows]

    def table(self, *, since: int = 0) -> ProblemTable:
        """The problems kept in detail (from the ``since``-th on) as one
        :class:`ProblemTable`, none made."""
        parts: list[Problem | ProblemTable] = []
        at = 0
        for p in self._kept:
            n = len(p) if isinstance(p, ProblemTable) else 1
            skip, at = max(0, since - at), at + n
            if skip < n:
                parts.append(p.take(slice(skip, None)) if skip else p)  # type: ignore[union-attr]
        return ProblemTable.of(parts)

    def records_with(self, codes: Collection[str], *, since: int = 0) -> int:
        """How many distinct records the problems kept in detail from the ``since``-th
        on place with one of ``codes`` (without making a table's rows into problems)."""
        seen: list[npt.NDArray[np.int64]] = []
        at = 0
        for p in self._kept:
            n = len(p) if isinstance(p, ProblemTable) else 1
            skip, at = max(0, since - at), at + n
            if skip >= n:
                continue
            if isinstance(p, ProblemTable):
                wanted = np.isin(np.arange(len(p.codes)), [
                    i for i, c in enumerate(p.codes) if c in codes])[p.code[skip:]]
                seen.append(p.record[skip:][wanted])
            elif p.code in codes:
                seen.append(np.array([_NONE if p.record is None else p.record], np.int64))
        return len(np.unique(np.concatenate(seen))) if seen else 0

    def __iter__(self) -> Iterator[Problem]:
        """Iterate over the problems kept in detail, in the order they were found."""
        return iter(self.problems)

    def __len__(self) -> int:
        """Count the problems kept in detail."""
        return self._n_kept

    @property
    def total(self) -> int:
        """Every problem found, details kept or not."""
        return self._total

    @property
    def ok(self) -> bool:
        """True when no problem of severity ``error`` was found."""
        return self._errors == 0

    @property
    def records_with_errors(self) -> int:
        """How many distinct records have at least one error."""
        if not self._error_rows:
            return len(self._error_records)
        by_file: dict[str | None, list[npt.NDArray[np.int64]]] = {}
        for name, records in self._error_rows:
            by_file.setdefault(name, []).append(records)
        for name, record in self._error_records:
            by_file.setdefault(name, []).append(np.array([record], np.int64))
        return sum(len(np.unique(np.concatenate(rs))) for rs in by_file.values())

    def counts_by_code(self) -> dict[str, int]:
        """Problems counted by code, most frequent first (equal counts by code: the
        order never depends on the order the counts came in, which differs between one
        process and Spark's tasks)."""
        return _by_count(self._by_code)

    def counts_by_field(self) -> dict[str, int]:
        """Problems counted by field name (record-level problems under ``""``), most
        frequent first (equal counts by name)."""
        return _by_count(self._by_field)

    def to_frame(self) -> pl.DataFrame:
        """The problems as a Polars DataFrame, one row each, sorted by record and offset."""
        rows = [asdict(p) for p in sorted(self.problems,
                                          key=lambda p: (p.file or "", *p.sort_key()))]
        return pl.DataFrame(rows, schema=_FRAME_SCHEMA)

    def summary(self) -> str:
        """A few lines for a console: counts, then problems by code."""
        lines = [
            f"records read: {self.records_read}",
            f"records with errors: {self.records_with_errors}",
            f"problems: {self.total}",
        ]
        lines += [f"  {code}: {n}" for code, n in self.counts_by_code().items()]
        if self.gaiji:
            lines.append(f"外字 (characters to identify): {len(self.gaiji)}")
        if self.outside:
            lines.append(f"文字集合外の文字 (outside the repertoire, not 外字): "
                         f"{len(self.outside)}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Renderings: text for a console, JSON for programs, HTML for people

#: Version of the JSON report schema (docs/validation.md); bumped on any change.
REPORT_SCHEMA = "chukan-report/2"


def to_dict(report: Report, *, layout: str = "") -> dict[str, object]:
    """The report as plain data, in the documented, versioned JSON schema."""
    from chukan import __version__  # noqa: PLC0415 -- the package imports this module

    return {
        "schema": REPORT_SCHEMA,
        "chukan": __version__,
        "layout": layout,
        "files": list(report.files),
        "summary": {
            "ok": report.ok,
            "records_read": report.records_read,
            "records_with_errors": report.records_with_errors,
            "problems": report.total,
            "problems_listed": len(report.problems),
            "by_code": report.counts_by_code(),
            "by_field": report.counts_by_field(),
        },
        "problems": [asdict(p) for p in report.problems],
        "gaiji": _inventory(report.gaiji),
        "outside_repertoire": _inventory(report.outside),
    }


def _inventory(entries: dict[str, GaijiEntry]) -> list[dict[str, object]]:
    return [{"char": g.char, "code_point": g.code_point, "raw": g.raw, "reason": g.reason,
             "count": g.count, "forms": dict(g.forms), "fields": dict(g.fields),
             "first": [{"file": f, "record": r, "offset": o, "field": n}
                       for f, r, o, n in g.first]}
            for g in sorted(entries.values(), key=lambda g: g.char)]


def to_json(report: Report, *, layout: str = "") -> str:
    """The report as JSON (UTF-8 text, Japanese left readable)."""
    return json.dumps(to_dict(report, layout=layout), ensure_ascii=False, indent=2)


def to_text(report: Report) -> str:
    """The report for a console: summary, problems, 外字 inventory."""
    lines = [report.summary()]
    if report.problems:
        lines.append("")
        lines += [str(p) for p in report.problems]
        if report.total > len(report.problems):
            lines.append(f"… {report.total - len(report.problems)} more (counted above)")
    for entries, heading in (
            (report.gaiji, "外字 inventory (code point, bytes, count, fields, first location):"),
            (report.outside, "文字集合外の文字 / outside the repertoire (not 外字):")):
        if not entries:
            continue
        lines += ["", heading]
        for g in sorted(entries.values(), key=lambda g: g.char):
            where = ", ".join(f"{n}×{c}" for n, c in g.fields.items())
            first = g.first[0] if g.first else None
            at = f"record {first[1]} byte {first[2]}" if first else ""
            lines.append(f"  {g.code_point}  {g.raw:<8} ×{g.count:<6} {where}  {at}  "
                         f"({g.reason})")
    return "\n".join(lines)


def _bars(counts: dict[str, int], title: str, axis: str) -> str:
    """A horizontal bar chart as inline SVG (no script, no network), its axes titled in
    Japanese: ``axis`` down the side (項目, 問題の種類), 件数 along the bars."""
    if not counts:
        return ""
    items = list(counts.items())[:30]
    top = max(n for _, n in items)
    row, label_w, bar_w, head = 22, 320, 360, 22
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" '
             f'aria-label="{html.escape(title)}" '
             f'width="{label_w + bar_w + 80}" height="{row * len(items) + 8 + 2 * head}">',
             f'<text x="{label_w - 6}" y="15" text-anchor="end" font-weight="bold">'
             f"{html.escape(axis)}</text>",
             f'<text x="{label_w}" y="15" font-weight="bold">件数</text>',
             f'<text x="{label_w + bar_w // 2}" y="{row * len(items) + 8 + 2 * head - 4}" '
             f'text-anchor="middle">件数(最大 {top})</text>']
    for i, (name, n) in enumerate(items):
        y = i * row + 4 + head
        width = max(1, round(bar_w * n / top))
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">'
                     f"{html.escape(name or '(record)')}</text>"
                     f'<rect x="{label_w}" y="{y + 2}" width="{width}" height="{row - 6}" '
                     f'fill="#3b6ea5"/>'
                     f'<text x="{label_w + width + 6}" y="{y + 15}">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font-family:"Yu Gothic","Meiryo",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:2px 6px;
vertical-align:top}th{background:#eef}td.num{text-align:right}code{font-size:.95em}
.ok{color:#176617;font-weight:bold}.ng{color:#a11;font-weight:bold}.warn{color:#8a5a00}
svg text{font-size:12px}td.glyph{background:#fff;text-align:center}td.glyph svg{fill:#000}
"""


_SEVERITY_JA = {"error": "エラー", "warning": "警告"}


def _severity_of(code: str, report: Report) -> Severity:
    """A code's severity as the report's problems have it (most codes have one)."""
    return next((p.severity for p in report.problems if p.code == code), "error")


def _short(code: str) -> str:
    """A code's Japanese meaning, cut short for a chart's axis.

    >>> _short("not-digits")
    '数字項目に数字以外の文字があります'
    """
    text = (REGISTRY[code].ja if code in REGISTRY else code).split("(")[0].split("。")[0]
    return text if len(text) <= 18 else text[:17] + "…"


def to_html(report: Report, *, layout: str = "", title: str = "chukan 検証レポート",
            glyphs: Mapping[str, str | None] | None = None) -> str:
    """One self-contained HTML page (no script, no network): summary first, error counts
    by field and by code as bar charts, the 外字 inventory, then every problem.
    ``glyphs`` gives each 外字's glyph as inline SVG, from the municipality's 外字 font
    (None where the font lacks it: said so, never drawn blank); see
    :func:`chukan.gaiji.glyphs_of`."""
    e = html.escape
    labels = {**{p.field: p.label for p in report.problems if p.field and p.label},
              **report.labels}
    by_field = {(f"{labels[k]} ({k})" if k in labels else k): n
                for k, n in report.counts_by_field().items()}
    verdict = '<span class="ok">問題なし</span>' if report.ok else \
        '<span class="ng">エラーあり</span>'
    rows = [f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in (
        ("レイアウト", e(layout)), ("ファイル", "<br>".join(e(f) for f in report.files)),
        ("読んだレコード", report.records_read),
        ("エラーのあるレコード", report.records_with_errors),
        ("問題の件数", report.total), ("判定", verdict))]
    out = ["<!DOCTYPE html>", '<html lang="ja"><head><meta charset="utf-8">',
           f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{e(title)}</h1>", "<h2>概要</h2>", "<table>", *rows, "</table>"]
    if report.total:
        by_code = {f"{_short(c)} ({c})": n for c, n in report.counts_by_code().items()}
        out += ["<h2>項目別の件数</h2>", _bars(by_field, "項目別の件数", "項目"),
                "<h2>種類別の件数</h2>", _bars(by_code, "種類別の件数", "問題の種類"),
                "<table><tr><th>コード</th><th>重大度</th><th>件数</th><th>意味</th></tr>",
                *[f"<tr><td><code>{e(c)}</code></td><td>{_SEVERITY_JA[_severity_of(c, report)]}"
                  f"</td><td class='num'>{n}</td>"
                  f"<td>{e(REGISTRY[c].ja if c in REGISTRY else '')}</td></tr>"
                  for c, n in report.counts_by_code().items()], "</table>"]
    for entries, heading, note in (
            (report.gaiji, "外字一覧", "私用領域の文字です。外字フォントで字形を確かめ、"
                                      "文字同定(MJ文字への対応付け)が必要です。"),
            (report.outside, "文字集合外の文字", "外字ではありません。Unicodeにある文字ですが、"
                                                 "指定された文字集合にないため、置き換えるか"
                                                 "受け入れるかを決めてください。")):
        if not entries:
            continue
        drawn = glyphs if glyphs is not None and entries is report.gaiji else None
        said = note
        if drawn is not None:
            lacking = sum(drawn.get(ch) is None for ch in entries)
            said += "字形は外字フォントから描いています" + \
                (f"(フォントにない外字: {lacking}字)。" if lacking else "。")
        out += [f"<h2>{heading}({len(entries)}字)</h2>", f"<p>{said}</p>",
                "<table><tr>" + ("<th>字形</th>" if drawn is not None else "") +
                "<th>文字</th><th>コードポイント</th><th>バイト</th><th>件数</th>"
                "<th>項目</th><th>最初の位置</th><th>理由</th></tr>"]
        for g in sorted(entries.values(), key=lambda g: g.char):
            where = ", ".join(f"{e(n)}×{c}" for n, c in g.fields.items())
            first = "<br>".join(f"{e(str(f))} レコード{r} バイト{o} {e(n)}"
                                for f, r, o, n in g.first)
            shape = "" if drawn is None else \
                f"<td class='glyph'>{drawn[g.char]}</td>" if drawn.get(g.char) else \
                "<td class='ng'>外字フォントにありません</td>"
            out.append(f"<tr>{shape}<td>{e(g.char)}</td><td><code>{g.code_point}</code></td>"
                       f"<td><code>{e(g.raw)}</code></td><td class='num'>{g.count}</td>"
                       f"<td>{where}</td><td>{first}</td><td>{e(g.reason)}</td></tr>")
        out.append("</table>")
    if report.problems:
        out += ["<h2>問題の一覧</h2>",
                "<table><tr><th>ファイル</th><th>レコード</th><th>バイト位置</th><th>項目</th>"
                "<th>重大度</th><th>コード</th><th>内容</th><th>バイト(16進)</th><th>値</th></tr>"]
        out += [f"<tr><td>{e(p.file or '')}</td><td class='num'>{p.record or ''}</td>"
                f"<td class='num'>{'' if p.offset is None else p.offset}</td>"
                f"<td>{e((p.label + ' ') if p.label else '')}{e(p.field or '')}</td>"
                f"<td class='{'ng' if p.severity == 'error' else 'warn'}'>"
                f"{_SEVERITY_JA[p.severity]}</td>"
                f"<td><code>{e(p.code)}</code></td><td>{e(p.message)}</td>"
                f"<td><code>{e(p.raw)}</code></td><td>{e(p.value or '')}</td></tr>"
                for p in report.problems]
        out.append("</table>")
        if report.total > len(report.problems):
            out.append(f"<p>ほか {report.total - len(report.problems)} 件(件数には含みます)</p>")
    out.append("</body></html>")
    return "\n".join(out)
