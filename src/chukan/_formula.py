"""The formula guard: CSV values that Excel would run as a formula, made inert and back.

Excel (and LibreOffice) treat a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
after a tab or carriage return, the same) as a formula: a file from an untrusted source
can then run commands or leak data when a clerk opens it. The common defence (OWASP's
"CSV injection") puts an apostrophe before such a value; Excel hides the apostrophe and
shows the text.

The guard here is exactly reversible, so that nothing is lost: an apostrophe goes before
every value that starts with apostrophes followed by a trigger character, and reading
takes one off again. A value that already started with ``'=`` is written ``''=`` and read
back as ``'=``.

>>> import polars as pl
>>> s = pl.Series(["=1+1", "'=x", "-5", "山田", None])
>>> guarded = pl.select(guard(pl.lit(s))).to_series()
>>> guarded.to_list()
["'=1+1", "''=x", "'-5", '山田', None]
>>> pl.select(unguard(pl.lit(guarded))).to_series().to_list() == s.to_list()
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from collections.abc import Callable

#: a value Excel would run: apostrophes, then a trigger character (kept as group 1)
_NEEDS_GUARD = r"^('*[=+\-@\t\r])"
#: a guarded value: one more apostrophe before the same
_GUARDED = r"^'('*[=+\-@\t\r])"
#: the field types whose CSV text can start with a trigger (numbers are written by
#: chukan's own formatter: ``-12`` is a number to Excel, never a formula)
GUARDED_TYPES = frozenset({"text", "code", "digits"})


def guard(expr: pl.Expr) -> pl.Expr:
    """``expr`` (String) with an apostrophe before each value Excel would run."""
    return expr.str.replace(_NEEDS_GUARD, "'$1")


def unguard(expr: pl.Expr) -> pl.Expr:
    """The inverse of :func:`guard`: one apostrophe off each guarded value."""
    return expr.str.replace(_GUARDED, "$1")


def unguarded(expr: pl.Expr) -> pl.Expr:
    """True where a value in a guarded file would run as a formula (it lacks the guard)."""
    return expr.str.contains(r"^[=+\-@\t\r]")


def guard_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every String column of ``frame`` guarded (for ``chukan read -o x.csv``)."""
    return _on_strings(frame, guard)


def unguard_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every String column of ``frame`` unguarded (``chukan write --excel-safe``)."""
    return _on_strings(frame, unguard)


def _on_strings(frame: pl.DataFrame, step: Callable[[pl.Expr], pl.Expr]) -> pl.DataFrame:
    strings = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(step(pl.col(c)).alias(c) for c in strings)
