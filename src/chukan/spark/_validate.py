"""The driver's half of a distributed validation: the ranges' findings put together in
file order into one :class:`~chukan.Report`, with what only the whole file shows (an
empty file, a trailer missing at the end, which encoding most records look like) and
the duplicate keys that a Spark aggregation found. The same steps as
:func:`chukan.validate`, so the report is the same.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from chukan._context import Tally, _Context, _problem, add_tallies, said
from chukan.read import _check_final_counts, _Cursor, misread, say_encoding
from chukan.report import Problem, Report, made
from chukan.spark._task import merge_inventory

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl

    from chukan.spark._plan import FilePlan
    from chukan.spark._task import Checked
    from chukan.spec import Layout


def combine(plans: Sequence[FilePlan], checks: Sequence[Sequence[Checked]], layout: Layout,
            duplicates: Sequence[pl.DataFrame | None], *, mask: bool,
            max_errors: int | None) -> Report:
    """One report from each file's ranges (``checks``, in file order) and the rows of
    its repeated keys (``duplicates``)."""
    from chukan.validate import MASK, _duplicates  # noqa: PLC0415 -- validation's own

    report = Report(max_problems=max_errors)
    for plan, parts, dups in zip(plans, checks, duplicates, strict=True):
        name = plan.file
        report.labels.update({f.name: f.label for k in layout.kinds for f in k.fields
                              if f.label})
        report.files.append(name)
        found = Report(max_problems=max_errors, in_file_order=True)
        records = 0
        tallies: dict[str, Tally] = {}
        for part in parts:
            found.absorb(part.report, part.report.problems, file=name)
            merge_inventory(report.gaiji, part.report.gaiji)
            merge_inventory(report.outside, part.report.outside)
            records += part.records
            add_tallies(tallies, part.tallies)
        found.records_read = records
        ctx = _Context(layout=layout, file=name, head=plan.head)
        ctx.problems.extend(said(tallies))  # counted over the file's ranges
        end = plan.eof if plan.eof is not None else plan.size
        counters = parts[-1].counters if parts else None
        if layout.is_multi and counters is not None:
            _check_final_counts(layout, ctx, _Cursor(end, records + 1, counters))
        if not records and not found.total and not ctx.problems:
            ctx.add(_problem(ctx, "empty-file", record=None, offset=0))
        found.extend(made(ctx.problems))
        ctx.problems.clear()
        say_encoding(ctx, misread(found), records)
        found.extend(made(ctx.problems))
        if dups is not None and dups.height:
            _duplicates(dups, layout, name, found)
        report.records_read += found.records_read
        problems = sorted((p if p.file else replace(p, file=name) for p in found.problems),
                          key=Problem.sort_key)
        report.absorb(found, [MASK(p) for p in problems] if mask else problems,
                      file=name)
    return report
