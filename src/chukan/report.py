"""Problems found in data, and the :class:`Report` that collects them.

A :class:`Problem` pins one defect to the byte: file, record number (1-based), byte
offset in the file (0-based), field name and Japanese label, raw bytes in hex, and a
stable code such as ``width-overflow``.

>>> report = Report()
>>> report.add(Problem(code="not-digits", message="数字以外の文字があります", record=3,
...                    offset=64, field="atena_no", label="宛名番号", raw="31 32 41"))
>>> report.ok, report.counts_by_code()
(False, {'not-digits': 1})
>>> print(report.problems[0])
record 3, byte 64, 宛名番号 (atena_no): [not-digits] 数字以外の文字があります; raw 31 32 41
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Literal

import polars as pl

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

Severity = Literal["error", "warning"]

#: Stable codes for problems in data, with what each means. Codes never change meaning.
CODES: dict[str, str] = {
    "empty-file": "the file holds no records",
    "bom-unexpected": "a UTF-8 byte-order mark where the layout expects none",
    "record-length": "a record is longer or shorter than the layout's record_length",
    "truncated-record": "the last record is cut short (file size not a multiple of the record)",
    "terminator-missing": "the last record does not end with the terminator",
    "terminator-mixed": "records end with different terminators (CRLF and LF mixed)",
    "nul-byte": "a NUL byte (0x00) inside a record",
    "control-char": "a control character inside a field",
    "invalid-bytes": "bytes that are not valid in the layout's encoding",
    "dbcs-split": "a double-byte character cut by a field boundary",
    "halfwidth-in-fullwidth": "a half-width character in a full-width (全角) field",
    "fullwidth-in-halfwidth": "a full-width character in a half-width (半角) field",
    "not-digits": "a character other than 0-9 in a digits field",
    "not-integer": "a value that is not an integer",
    "not-decimal": "a value that is not a decimal number of the declared form",
    "bad-sign-nibble": "a packed-decimal sign nibble other than C, D or F",
    "bad-digit-nibble": "a packed-decimal digit nibble above 9",
    "bad-date": "a value that is not a date in the declared format",
    "impossible-date": "a date that does not exist (2023-02-30, month 13)",
    "era-range": "a date outside its era (平成31年5月1日)",
    "unknown-era": "an era code that is not in the era code table",
    "unknown-code": "a code that is not in the field's code table",
    "required-missing": "a required field is empty",
    "filler-mismatch": "a filler area does not hold its expected bytes",
    "unknown-record-type": "a record whose record-type value no record kind matches",
    "trailer-count": "a trailer's record count does not match the records before it",
    "width-overflow": "a value does not fit its field's width (never truncated)",
    "not-representable": "a character that the target encoding cannot represent",
    "csv-columns": "a CSV row with the wrong number of columns",
    "csv-header": "a CSV header row that holds neither the field names nor the labels",
}


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
        raw = f"; raw {self.raw}" if self.raw else ""
        return f"{head}: [{self.code}] {self.message}{raw}"

    def sort_key(self) -> tuple[int, int]:
        """Order problems by record, then by byte offset."""
        return (self.record or 0, self.offset or 0)


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
class Report:
    """Problems collected while reading, writing or validating, plus record counts.

    Pass one to :func:`chukan.read` (``report=``) to read leniently: problems are
    collected and reading goes on. Without one, the first problem raises.
    """

    problems: list[Problem] = field(default_factory=list)
    records_read: int = 0
    records_written: int = 0

    def add(self, problem: Problem) -> None:
        """Record one problem."""
        self.problems.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        """Record several problems."""
        self.problems.extend(problems)

    def __iter__(self) -> Iterator[Problem]:
        """Iterate over the problems in the order they were found."""
        return iter(self.problems)

    def __len__(self) -> int:
        """Count the problems."""
        return len(self.problems)

    @property
    def ok(self) -> bool:
        """True when no problem of severity ``error`` was found."""
        return not any(p.severity == "error" for p in self.problems)

    @property
    def records_with_errors(self) -> int:
        """How many distinct records have at least one error."""
        return len({p.record for p in self.problems if p.severity == "error"})

    def counts_by_code(self) -> dict[str, int]:
        """Problems counted by code, most frequent first."""
        return dict(Counter(p.code for p in self.problems).most_common())

    def counts_by_field(self) -> dict[str, int]:
        """Problems counted by field name (record-level problems under ``""``)."""
        return dict(Counter(p.field or "" for p in self.problems).most_common())

    def to_frame(self) -> pl.DataFrame:
        """The problems as a Polars DataFrame, one row each, sorted by record and offset."""
        rows = [asdict(p) for p in sorted(self.problems, key=Problem.sort_key)]
        return pl.DataFrame(rows, schema=_FRAME_SCHEMA)

    def summary(self) -> str:
        """A few lines for a console: counts, then problems by code."""
        lines = [
            f"records read: {self.records_read}",
            f"records with errors: {self.records_with_errors}",
            f"problems: {len(self.problems)}",
        ]
        lines += [f"  {code}: {n}" for code, n in self.counts_by_code().items()]
        return "\n".join(lines)
