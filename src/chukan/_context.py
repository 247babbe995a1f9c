"""What reading carries from chunk to chunk, shared by the fixed-width reader
(:mod:`chukan.read`) and the CSV reader (:mod:`chukan._csv`): the context that collects
problems, how a problem is made, and the checks both readers run on raw bytes. It
imports neither reader, so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from chukan._arrow import constant
from chukan._codes import REGISTRY
from chukan.report import Problem, ProblemTable

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

    from chukan._codes import Severity
    from chukan.report import Findings
    from chukan.spec import Field, Layout


def _hex(raw: bytes, limit: int | None = None) -> str:
    if limit is not None and len(raw) > limit:
        return raw[:limit].hex(" ") + " …"
    return raw.hex(" ")


def _problem(ctx: _Context, code: str, *, record: int | None = None, offset: int | None = None,
             f: Field | None = None, raw: bytes = b"", value: str | None = None,
             message: str | None = None, raw_limit: int | None = None,
             severity: Severity | None = None) -> Problem:
    """A problem at a place: its words and severity, unless given, are the registry's."""
    entry = REGISTRY[code]
    return Problem(code=code, message=message or entry.ja, file=ctx.file,
                   record=record, offset=offset, field=f.name if f else None,
                   label=f.label if f else None, raw=_hex(raw, raw_limit), value=value,
                   severity=severity or entry.severity)


@dataclass(frozen=True, slots=True)
class LineBytes:
    """The first bytes of some lines of a chunk (a row each), and each one's words: what
    a problem about a whole record shows (its length, its number of columns). Kept apart
    from the chunk, so that a report holding a few of its problems does not hold the
    chunk's megabytes."""

    data: npt.NDArray[np.uint8]
    at: npt.NDArray[np.int64]  # row i's bytes are data[at[i]:at[i + 1]]
    which: npt.NDArray[np.intp]  # per row: its words, in ``words``
    number: npt.NDArray[np.int64]  # per row: the number its words say ({})
    words: tuple[str, ...]

    def __call__(self, i: int) -> tuple[bytes, None, str]:
        raw = self.data[self.at[i]:self.at[i + 1]].tobytes()
        return raw, None, self.words[self.which[i]].format(int(self.number[i]))

    def texts(self, rows: npt.NDArray[np.intp]) -> tuple[pl.Series, pl.Series]:
        # each template's words before and after its number ({}), put around the numbers
        parts = [w.split("{}", 1) for w in self.words]
        which = pl.Series(self.which[rows])
        before = pl.Series([p[0] for p in parts], dtype=pl.String).gather(which)
        after = pl.Series([p[1] if len(p) > 1 else "" for p in parts],
                          dtype=pl.String).gather(which)
        shown = pl.Series([len(p) > 1 for p in parts], dtype=pl.Boolean).gather(which)
        number = pl.Series(self.number[rows]).cast(pl.String)
        words = pl.select(pl.concat_str(
            pl.lit(before), pl.when(pl.lit(shown)).then(pl.lit(number)).otherwise(pl.lit("")),
            pl.lit(after))).to_series()
        return constant(None, len(rows)), words


def line_problems(ctx: _Context, data: bytes, *, codes: tuple[str, ...],
                  code: npt.NDArray[np.intp], record: npt.NDArray[np.int64],
                  offset: npt.NDArray[np.int64], start: npt.NDArray[np.int64],
                  stop: npt.NDArray[np.int64], words: tuple[str, ...],
                  number: npt.NDArray[np.int64], limit: int) -> ProblemTable:
    r"""Problems about whole lines of ``data``, one per row, by column: each row's code
    (in ``codes``) and words (``words[code]``, its ``number`` put in), record and
    offset, and bytes (``data[start:stop]``, of which ``limit`` are shown). Only the
    bytes shown, and one more to say there are others, are copied out of the chunk.

    >>> ctx = _Context(layout=None, file="a.dat")  # type: ignore[arg-type]
    >>> t = line_problems(ctx, b"AB\nCDEFG\n", codes=("record-length",),
    ...                   code=np.zeros(2, np.intp), record=np.array([1, 2]),
    ...                   offset=np.array([0, 3]), start=np.array([0, 3]),
    ...                   stop=np.array([3, 9]), words=("{}バイトです",),
    ...                   number=np.array([2, 5]), limit=4)
    >>> [(p.record, p.raw, p.message) for p in t.problems()]
    [(1, '41 42 0a', '2バイトです'), (2, '43 44 45 46 …', '5バイトです')]
    """
    stop = np.minimum(stop, start + limit + 1)
    lengths = np.maximum(stop - start, 0)
    at = np.zeros(len(start) + 1, np.int64)
    np.cumsum(lengths, out=at[1:])
    # each row's bytes, gathered at once: the k-th byte of row i is data[start[i] + k]
    index = np.repeat(start - at[:-1], lengths) + np.arange(int(at[-1]), dtype=np.int64)
    snippets = np.frombuffer(data, np.uint8)[index]
    return ProblemTable.found(codes=codes, code=code, record=record, offset=offset,
                              detail=LineBytes(snippets, at, code, number, words),
                              file=ctx.file, field=None, label=None, raw_limit=limit)


@dataclass(frozen=True, slots=True)
class Tally:
    """A problem said once per file: its first occurrence, how many there are, and the
    words for that many (a picklable callable: ranges of a file count on other machines,
    and their tallies are added up where the file's report is made)."""

    first: Problem
    n: int
    words: Callable[[int], str]


def add_tallies(into: dict[str, Tally], more: dict[str, Tally]) -> None:
    """Add the tallies of a later part of the file: the first occurrence stays."""
    for key, t in more.items():
        known = into.get(key)
        into[key] = replace(known, n=known.n + t.n) if known else t


def said(tallies: dict[str, Tally]) -> list[Problem]:
    """The tallied problems, each at its first place, with its count in its words."""
    return [replace(t.first, message=t.words(t.n)) for t in tallies.values()]


@dataclass(slots=True)
class Dropped:
    """The records a reader left out whole (wrong length, wrong number of CSV columns),
    for a converter's reject file: where each lies in the file, to be read again at the
    end, and, where the source cannot be read again (an open stream; a caller of
    :func:`~chukan.read.decode_block`), their bytes by record number in ``held``. A file
    read with the wrong layout leaves out every record: their bytes, held one object
    each, took 1.5 GB for 300,000 records of 300 bytes.

    >>> d = Dropped(held={})
    >>> d.add(np.array([3, 5]), b"abcdef", np.array([0, 2]), np.array([2, 5]), base=40)
    >>> d.frame().rows(), d.held
    ([(3, 40, 2), (5, 42, 3)], {3: b'ab', 5: b'cde'})
    """

    held: dict[int, bytes] | None = None
    records: list[npt.NDArray[np.int64]] = field(default_factory=list)
    offsets: list[npt.NDArray[np.int64]] = field(default_factory=list)
    lengths: list[npt.NDArray[np.int64]] = field(default_factory=list)

    def add(self, records: npt.NDArray[np.int64], data: bytes,
            start: npt.NDArray[np.int64], stop: npt.NDArray[np.int64], *, base: int) -> None:
        """Records ``records`` left out, ``data[start:stop]`` each, ``data`` lying at
        ``base`` in the file."""
        if not len(records):
            return
        start, stop = np.asarray(start, np.int64), np.asarray(stop, np.int64)
        self.records.append(np.asarray(records, np.int64))
        self.offsets.append(base + start)
        self.lengths.append(stop - start)
        if self.held is not None:
            self.held.update((int(r), data[a:b]) for r, a, b in zip(
                records.tolist(), start.tolist(), stop.tolist(), strict=True))

    def frame(self) -> pl.DataFrame:
        """Every record left out: ``record``, ``offset``, ``length``."""
        def joined(parts: list[npt.NDArray[np.int64]]) -> npt.NDArray[np.int64]:
            return np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return pl.DataFrame({"record": joined(self.records), "offset": joined(self.offsets),
                             "length": joined(self.lengths)})


@dataclass(slots=True)
class _Context:
    layout: Layout
    file: str | None
    #: what was found, in the order found: problems, and tables of them (one check on
    #: one field of a block, by column)
    problems: Findings = field(default_factory=list)
    locate: bool = False  # add _record and _offset columns (validation)
    uncounted: int = 0  # records read but not decoded (wrong length, bad CSV rows)
    #: where given (convert): the records left out whole (wrong length, wrong number of
    #: CSV columns), for their reject lines
    dropped: Dropped | None = None
    head: bytes = b""  # the file's first bytes, to say which encoding it looks like
    #: problems said once per file: the first occurrence, how many, and the words for it
    tallies: dict[str, Tally] = field(default_factory=dict)

    def tally(self, key: str, first: Problem, n: int, words: Callable[[int], str]) -> None:
        """Count ``n`` more of a problem said once per file (at :meth:`say_tallies`)."""
        add_tallies(self.tallies, {key: Tally(first, n, words)})

    def say_tallies(self) -> None:
        """The problems counted over the whole file, each at its first place."""
        self.problems.extend(said(self.tallies))
        self.tallies.clear()

    def drop(self, record: int, raw: bytes, offset: int) -> None:
        """Keep where a record left out is (its bytes, ``raw``, at ``offset`` in the
        file), when it is wanted."""
        self.drop_lines(np.array([record]), raw, np.zeros(1, np.int64),
                        np.array([len(raw)]), offset)

    def drop_lines(self, records: npt.NDArray[np.int64], data: bytes,
                   start: npt.NDArray[np.int64], stop: npt.NDArray[np.int64],
                   base: int) -> None:
        """Keep where records left out whole are (``data[start:stop]`` each, ``data``
        at ``base`` in the file), or their bytes, when they are wanted (a converter's
        rejects)."""
        if self.dropped is not None:
            self.dropped.add(records, data, start, stop, base=base)

    def add(self, problem: Problem | ProblemTable) -> None:
        self.problems.append(problem)


#: per policy, the bytes that may lead a suspect pair (see :func:`duplicate_suspects`)
_SUSPECT_LEADS = {policy: np.isin(np.arange(256), leads)
                  for policy, leads in (("ibm", (0x87, 0xED, 0xEE, 0xFA)),
                                        ("nec", (0x87, 0xEE, 0xFA, 0xFB, 0xFC)))}


def duplicate_suspects(raw: npt.NDArray[np.uint8], duplicates: str) -> npt.NDArray[np.bool_]:
    r"""Where (along the last axis) a byte pair may be a CP932 duplicate that the policy
    does not write: NEC row 13's twins of JIS row 2 (87 90–9C) and the IBM rows' twins of
    NEC row 13 (FA 40–5B) under both; the NEC-selected rows (ED, EE) under ``ibm``, the
    IBM rows (FA–FC) and EE F9 under ``nec``. A suspect is only that: the value is then
    encoded again and compared. ``tests/test_lossless.py`` checks every CP932 code.

    >>> duplicate_suspects(np.frombuffer(b"\xee\xe0\xfb\xfc", np.uint8), "ibm").tolist()
    [True, False, False]
    """
    lead, trail = raw[..., :-1], raw[..., 1:]
    both = ((lead == 0x87) & (trail >= 0x90) & (trail <= 0x9C)) | (
        (lead == 0xFA) & (trail >= 0x40) & (trail <= 0x5B))
    if duplicates == "ibm":
        return np.asarray(both | (lead == 0xED) | (lead == 0xEE), dtype=bool)
    # (¬ is EE F9 among the NEC-selected rows, but CPython writes it 81 CA)
    return np.asarray(both | ((lead >= 0xFA) & (lead <= 0xFC)) |
                      ((lead == 0xEE) & (trail == 0xF9)), dtype=bool)



#: The DOS end-of-file byte, which old systems put after the last record.
EOF_MARKER = b"\x1a"


def eof_marker(ctx: _Context, offset: int) -> None:
    """A 0x1A after the last record: what the layout says (``eof_marker``), or said."""
    if not ctx.layout.eof_marker:
        ctx.add(_problem(ctx, "eof-marker", record=None, offset=offset, raw=EOF_MARKER,
                         message="ファイルの最後にEOF(0x1A)があります。読み飛ばしました"
                                 "(書き戻すときは付きません。レイアウトの eof_marker で"
                                 "指定します)"))
