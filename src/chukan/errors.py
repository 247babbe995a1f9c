"""The exceptions chukan raises when work cannot continue.

Every exception derives from :class:`ChukanError` and carries a stable ``code`` that
scripts may test. Problems *in the data* are not exceptions unless the caller asked for
strict reading: they are :class:`chukan.Problem` entries of a :class:`chukan.Report`.

>>> try:
...     raise LayoutNotFoundError("vendor-x/kojin", searched=["layouts"])
... except ChukanError as exc:
...     print(exc.code)
layout-not-found
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chukan.report import Problem


class ChukanError(Exception):
    """Root of every exception chukan raises; ``code`` is stable across releases."""

    code = "chukan-error"


@dataclass(frozen=True, slots=True, kw_only=True)
class LayoutProblem:
    """One thing wrong in a layout, code table or mapping file.

    ``where`` is the table path inside the file, such as ``field[3]`` (0-based as in the
    TOML array) or ``layout``; ``key`` is the offending key, if any.
    """

    file: str
    where: str
    key: str | None
    message: str
    hint: str | None = None
    #: how a person names the table (``2番目「氏名」(shimei)``: its 1-based position,
    #: label and name), when it is one of an array's
    subject: str | None = None

    def __str__(self) -> str:
        """Render as ``file: subject where.key: message (did you mean ...?)``."""
        place = f"{self.where}.{self.key}" if self.key else self.where
        if self.subject:
            place = f"{self.subject} {place}"
        hint = f" (did you mean {self.hint!r}?)" if self.hint else ""
        return f"{self.file}: {place}: {self.message}{hint}"


class LayoutError(ChukanError):
    """A layout (or code table) file is invalid; ``problems`` lists every problem found."""

    code = "layout-invalid"

    #: problems listed in the message; ``problems`` keeps them all
    SHOWN = 50

    def __init__(self, problems: Sequence[LayoutProblem]) -> None:
        """Keep every problem; the message lists the first :attr:`SHOWN`, one per line,
        and counts the rest."""
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems[:self.SHOWN])
        more = len(self.problems) - self.SHOWN
        if more > 0:
            lines += f"\n  … and {more} more"
        super().__init__(f"{len(self.problems)} layout problem(s):\n{lines}")


class LayoutNotFoundError(ChukanError):
    """No layout or code table of that name or path exists where chukan looks."""

    code = "layout-not-found"

    def __init__(self, name: str, *, searched: Sequence[str], reason: str | None = None
                 ) -> None:
        """Name what was looked for and every folder searched (or why it is refused)."""
        self.name = name
        self.searched = tuple(searched)
        self.reason = reason
        where = ", ".join(self.searched) or "(nowhere)"
        super().__init__(reason or f"no layout or table named {name!r}; searched: {where}")


class SheetError(ChukanError):
    """A layout sheet cannot be read, or its header names no 項目名 and 桁数."""

    code = "sheet-unreadable"


class DataError(ChukanError):
    """Strict reading or writing met a problem in the data; ``problem`` says where."""

    def __init__(self, problem: Problem) -> None:
        """Wrap the problem; the exception's code is the problem's code."""
        self.problem = problem
        self.code = problem.code
        super().__init__(str(problem))


class UsageError(ChukanError):
    """The call itself is wrong (a missing column, a layout used for the wrong purpose)."""

    code = "usage"


class SameFileError(UsageError):
    """An output of a run is one of its inputs, or another of its outputs: writing it
    would destroy what is being read, so nothing is opened."""

    code = "same-file"


class FileError(ChukanError):
    """A file cannot be read or written (no such folder, no permission, disk full, a
    read-only file system); the message names the path and what the system said."""

    code = "file-error"

    def __init__(self, path: object, error: OSError) -> None:
        """Name the path and the operating system's reason, on one line."""
        self.path = str(path)
        self.error = error
        reason = error.strerror or type(error).__name__
        super().__init__(f"{self.path}: {reason}")
