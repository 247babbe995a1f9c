"""Conversion: one layout to another through a mapping, both ways, nothing lost silently.

Each rule is a Polars expression (steps are vectorised string operations), so a mapping is
one plan per batch. Every input record ends in the output or in the reject file with its
reasons; a manifest (JSON) records hashes and counts, and ``records in = records out +
records rejected`` always holds.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "kojin.csv"
>>> result = convert("fixtures/vendor-a/juki-kojin.dat", "examples/vendor-a/kojin-to-kihon", out)
>>> (result.records_in, result.records_out, result.records_rejected)
(5, 5, 0)
>>> back = out.with_suffix(".dat")
>>> _ = convert(out, "examples/vendor-a/kojin-to-kihon", back, reverse=True)
>>> back.read_bytes() == pathlib.Path("fixtures/vendor-a/juki-kojin.dat").read_bytes()
True
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import unicodedata
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import numpy as np
import polars as pl

from chukan import _core
from chukan._arrow import as_text, hex_rows, private_use_columns, text_column, view_series
from chukan._codes import REGISTRY
from chukan._context import Dropped
from chukan._files import OutputSet, check_distinct, open_input, rereading, sync_so_far
from chukan._threads import submit, thread_count, using_threads
from chukan.codec import column_names, schema_of
from chukan.errors import ChukanError, DataError
from chukan.read import DEFAULT_BATCH, located_batches
from chukan.report import Problem, ProblemTable, Report, first_error
from chukan.spec import (
    PUA,
    STEPS,
    UTF8_BOM,
    CodeMap,
    Condition,
    Layout,
    MappingSpec,
    Rule,
    codec_name,
    load_mapping,
)
from chukan.validate import shapes
from chukan.write import LEADING_BOM_MESSAGE, format_batch, leading_bom_rows

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    import numpy.typing as npt

    from chukan._files import Reread
    from chukan.read import Source
    from chukan.report import Findings
    from chukan.spec import Field
    #: a batch's target columns, reject checks, and the source field each check judges
    _Made = tuple[list[pl.Expr], list[pl.Expr], dict[str, Field]]


class NotInvertibleError(ChukanError):
    """A mapping asked to run backwards has a rule that cannot."""

    code = "not-invertible"


@dataclass(slots=True)
class ConvertResult:
    """What a conversion did: counts, rejects by reason, and the files it wrote."""

    records_in: int = 0
    records_out: int = 0
    records_rejected: int = 0
    rejects_by_reason: Counter[str] = field(default_factory=Counter)
    #: problems of the source as a whole (no records at all)
    file_problems: list[Problem] = field(default_factory=list)
    output: Path | None = None
    rejects: Path | None = None
    manifest: Path | None = None


# --------------------------------------------------------------------------------------
# Width steps: tables built once from Unicode, longest patterns first


@cache
def _kana_pairs() -> tuple[tuple[str, str], ...]:
    """(half-width, full-width) katakana, voiced and semi-voiced ones as two half-width
    characters (ｶﾞ) for one full-width (ガ); the marks alone as ゛ ゜."""
    pairs: dict[str, str] = {"\uff9e": "\u309b", "\uff9f": "\u309c"}
    for code in range(0xFF61, 0xFF9E):
        half = chr(code)
        pairs[half] = unicodedata.normalize("NFKC", half)
        for mark in ("\uff9e", "\uff9f"):
            full = unicodedata.normalize("NFKC", half + mark)
            if len(full) == 1:
                pairs[half + mark] = full
    return tuple(sorted(pairs.items(), key=lambda p: -len(p[0])))


def _ascii_pairs() -> tuple[tuple[str, str], ...]:
    pairs = [(chr(c), chr(c + 0xFEE0)) for c in range(0x21, 0x7F) if not chr(c).isdigit()]
    return (*pairs, (" ", "\u3000"))


def _digit_pairs() -> tuple[tuple[str, str], ...]:
    return tuple((chr(c), chr(c + 0xFEE0)) for c in range(0x30, 0x3A))


_WIDTH_TABLES: dict[str, Callable[[], tuple[tuple[str, str], ...]]] = {
    "kana": _kana_pairs, "ascii": _ascii_pairs, "digits": _digit_pairs}


def _width_pairs(step: str) -> list[tuple[str, str]]:
    """A width step's (key, replacement) pairs, longest keys first.

    >>> _width_pairs("kana_to_fullwidth")[0], _width_pairs("digits_to_halfwidth")[0]
    (('ｦﾞ', 'ヺ'), ('０', '0'))
    """
    kind, _, direction = step.partition("_to_")
    pairs = [p if direction == "fullwidth" else (p[1], p[0]) for p in _WIDTH_TABLES[kind]()]
    # a character with no counterpart (ヰ, ヮ) is left as it is: never lossy
    return sorted(pairs, key=lambda p: -len(p[0]))


def _merged(tables: list[list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    """Consecutive replacement tables as few passes as give the same text: a table joins
    the one before it when none of its keys' characters is a key or replacement
    character of that one (so the passes cannot see each other's work). Kana, then
    ASCII, then digits to full width is one pass.

    >>> len(_merged([_width_pairs(f"{k}_to_fullwidth") for k in ("kana", "ascii", "digits")]))
    1
    >>> len(_merged([_width_pairs("kana_to_halfwidth"), _width_pairs("kana_to_fullwidth")]))
    2
    """
    runs: list[list[tuple[str, str]]] = []
    for pairs in tables:
        seen = {c for key, value in runs[-1] for c in key + value} if runs else set()
        if runs and not seen & {c for key, _ in pairs for c in key}:
            runs[-1] = sorted(runs[-1] + pairs, key=lambda p: -len(p[0]))
        else:
            runs.append(list(pairs))
    return runs


def _replace(expr: pl.Expr, pairs: list[tuple[str, str]]) -> pl.Expr:
    """Text with each key replaced (longest first at each place, left to right): by the
    core, one call per batch; ``CHUKAN_KERNEL=python`` has Polars' ``replace_many`` do it
    (the oracle of the tests)."""
    keys, values = [p[0] for p in pairs], [p[1] for p in pairs]
    text = expr.cast(pl.String)
    if os.environ.get("CHUKAN_KERNEL") == "python" or any(
            len(k) not in (1, 2) or max(k) > "\uffff" for k in keys):
        return text.str.replace_many(keys, values, leftmost=True)
    threads = thread_count()  # this context's: Polars calls back on a thread of its own

    def work(values_in: pl.Series) -> pl.Series:
        n = len(values_in)
        views, buffers = _core.replace_chars(text_column(values_in), n, keys, values,
                                             threads)
        return view_series(n, views, buffers, values_in.is_not_null().to_numpy()
                           ).alias(values_in.name)

    return text.map_batches(work, return_dtype=pl.String, is_elementwise=True)


def _apply_step(step: str, expr: pl.Expr, partial: pl.Expr | None, width: int = 0,
                separator: str = "\u3000") -> pl.Expr:
    """One step as a Polars expression; ``width`` is the target field's length (zero fill).

    >>> frame = pl.DataFrame({"v": ["12", "012", "AB", None]})
    >>> frame.select(_apply_step("zero_fill", pl.col("v"), None, 4))["v"].to_list()
    ['0012', '0012', 'AB', None]
    >>> frame = pl.DataFrame({"v": ["000012", "100012", "12", "00"]})
    >>> frame.select(_apply_step("zero_trim", pl.col("v"), None, 3))["v"].to_list()
    ['012', '100012', '12', '00']
    """
    if step == "zero_fill":  # digits only: a code like "A1" is not a number to pad
        text = expr.cast(pl.String)
        return pl.when(text.str.contains(r"^[0-9]+$")).then(text.str.pad_start(width, "0")
                                                           ).otherwise(text)
    if step == "zero_trim":  # leading zeros beyond the width go; never a significant digit
        text = expr.cast(pl.String)
        # signed: a shorter value must not wrap around to a huge unsigned length
        extra = (text.str.len_chars().cast(pl.Int64) - width).clip(0)
        return pl.when((extra > 0) & text.str.head(extra).str.contains(r"^0*$")).then(
            text.str.slice(extra)).otherwise(text)
    if step == "trim":
        return expr.str.strip_chars(" \u3000")
    if step == "first_part":
        return expr.str.splitn(separator, 2).struct.field("field_0")
    if step == "rest_part":
        return expr.str.splitn(separator, 2).struct.field("field_1")
    if step == "fumei_flag":
        has_date = expr.is_not_null()
        unknown = partial.fill_null("") != "" if partial is not None else pl.lit(value=False)
        return pl.when(has_date).then(pl.lit("0")).when(unknown).then(pl.lit("1"))
    return _replace(expr, _width_pairs(step))


# --------------------------------------------------------------------------------------
# Plans


@dataclass(frozen=True, slots=True)
class _Plan:
    source: Layout
    target: Layout
    rules: tuple[Rule, ...]
    # applied to every text source; keys longest first (see _longest_first)
    gaiji: Mapping[str, str] = field(default_factory=dict)




def _gaiji_map(spec: MappingSpec, *, reverse: bool) -> dict[str, str]:
    """The 外字 map to apply; backwards, each Unicode sequence back to its 外字 — refused
    when the sequence is an ordinary character of the legacy encoding (髙 is FBFC in
    CP932), since every such character would then turn into the 外字."""
    chars = dict(spec.gaiji_map.chars) if spec.gaiji_map else {}
    if not reverse:
        return _longest_first(chars)
    back = {v: k for k, v in chars.items()}
    if len(back) != len(chars):
        msg = f"外字 map {spec.gaiji_map.name!r} maps two 外字 to one sequence"  # type: ignore[union-attr]
        raise NotInvertibleError(msg)
    codec = codec_name(spec.source.encoding)
    for sequence in back:
        try:
            sequence.encode(codec)
        except UnicodeEncodeError:
            continue
        msg = f"外字 map: {sequence!r} is an ordinary {spec.source.encoding} character, " \
              "so running backwards cannot tell it from the 外字"
        raise NotInvertibleError(msg)
    return _longest_first(back)


def _longest_first(chars: dict[str, str]) -> dict[str, str]:
    """Keys longest first, so that replacing leftmost-first takes an IVS sequence before
    its base character."""
    return {k: chars[k] for k in sorted(chars, key=len, reverse=True)}


def _plan(spec: MappingSpec, *, reverse: bool) -> _Plan:
    """The rules to run: the mapping's, or each one undone when running backwards
    (derived and constant targets dropped; a rule that cannot be undone refused)."""
    gaiji = _gaiji_map(spec, reverse=reverse)
    if not reverse:
        return _Plan(spec.source, spec.target, spec.rules, gaiji)
    rules = _undone(spec)
    given = {r.target for r in rules}
    twice = sorted(r.target for r in spec.back if r.target in given)
    if twice:
        msg = (f"[[back]] names {', '.join(twice)}, which a rule gives back already: "
               "remove the [[back]] entry")
        raise NotInvertibleError(msg)
    rules += spec.back
    given |= {r.target for r in spec.back}
    # every field a migration drops is listed at once, not one per run
    lacking = [f for k in spec.source.kinds for f in k.fields
               if f.type != "filler" and f.name not in given]
    if lacking:
        names = ", ".join(f"{f.name} ({f.label})" if f.label else f.name for f in lacking)
        msg = (f"running backwards, no rule gives {spec.source.name} these fields: {names}; "
               'declare what each gets in a [[back]] entry (constant = "" for blank, '
               "constant = \"…\", or source = a field of the target)")
        raise NotInvertibleError(msg)
    return _Plan(spec.target, spec.source, tuple(rules), gaiji)


def _undone(spec: MappingSpec) -> list[Rule]:
    """Each rule of ``spec`` undone, steps in reverse order and code maps inverted (a
    constant or derived target gives nothing back); a split joined back and a join split;
    a rule's ``when`` checked on the target's copy of its field.
    Raises `NotInvertibleError` naming the rule and the step that cannot be undone."""
    rules: list[Rule] = []
    # a split source (under a condition): the steps before the split, and each half's rule
    parts: dict[tuple[str, Condition | None], tuple[tuple[str, ...], dict[str, Rule]]] = {}
    conditional = {r.target for r in spec.rules if r.when is not None}
    for rule in spec.rules:
        if rule.source is None or "fumei_flag" in rule.steps:
            continue  # a constant or a derived column: nothing to give back
        if rule.when is None and rule.target in conditional:
            msg = (f"rule for {rule.target!r}: a fallback beside rules with a when condition "
                   "cannot run backwards (which records it gave a value is not in the "
                   "target): give it a when condition too")
            raise NotInvertibleError(msg)
        when = _condition_back(spec, rule)
        split = next((i for i, s in enumerate(rule.steps) if s in ("first_part",
                                                                     "rest_part")), None)
        if split is not None:  # 氏名 → 氏 and 名: joined back below
            before, half = rule.steps[:split], rule.steps[split]
            _check_undoable(rule, before + rule.steps[split + 1:])
            known = parts.setdefault((rule.source, when), (before, {}))
            if known[0] != before:
                other = next(iter(known[1].values())).source
                msg = (f"rule for {rule.target!r}: the steps before {half!r} "
                       f"({', '.join(before) or 'none'}) differ from those of the rule for "
                       f"{other!r} ({', '.join(known[0]) or 'none'}): {rule.source!r} "
                       "cannot be joined back")
                raise NotInvertibleError(msg)
            if half in known[1]:
                msg = f"rule for {rule.target!r}: {rule.source!r} has two {half} rules"
                raise NotInvertibleError(msg)
            if known[1] and next(iter(known[1].values())).separator != rule.separator:
                msg = (f"rule for {rule.target!r}: {rule.source!r} is split on two different "
                       "separators: it cannot be joined back")
                raise NotInvertibleError(msg)
            known[1][half] = Rule(target="", source=rule.target,
                                  steps=_inverse(rule.steps[split + 1:]),
                                  code_map=_inverted_map(rule), unmapped=rule.unmapped,
                                  map_first=True, separator=rule.separator)
            continue
        _check_undoable(rule, tuple(s for s in rule.steps if s != "join_space"))
        undo = _inverse(tuple(s for s in rule.steps if s != "join_space"))
        if "join_space" in rule.steps:  # 氏 + 名 → 氏名: each half split back
            if rule.code_map is not None:
                msg = f"rule for {rule.target!r}: a join with a code map cannot be split back"
                raise NotInvertibleError(msg)
            first, rest = rule.sources[0], rule.sources[1]
            rules += [Rule(target=first, source=rule.target, steps=(*undo, "first_part"),
                           separator=rule.separator, when=when),
                      Rule(target=rest, source=rule.target, steps=(*undo, "rest_part"),
                           separator=rule.separator, when=when)]
            continue
        rules.append(Rule(target=rule.source, source=rule.target, steps=undo,
                          code_map=_inverted_map(rule), unmapped=rule.unmapped,
                          map_first=True, when=when))
    for (source, when), (before, halves) in parts.items():
        if set(halves) != {"first_part", "rest_part"}:
            if any(r.target == source and r.when is None for r in rules):
                continue  # given back whole by another rule
            msg = f"{source!r} is split, but only its {', '.join(halves)} is kept: " \
                  "it cannot be joined back"
            raise NotInvertibleError(msg)
        head, tail = halves["first_part"], halves["rest_part"]
        rules.append(Rule(target=source, source=head.source,
                          sources=(str(head.source), str(tail.source)),
                          parts=(head, tail), steps=("join_space", *_inverse(before)),
                          separator=head.separator, when=when))
    # several rules may give one field back (氏名 copied, and split): the first without
    # a condition wins; without one, every conditional rule gives back its own records
    plain = {r.target for r in rules if r.when is None}
    kept: dict[str, list[Rule]] = {}
    for r in rules:
        if r.target not in plain:
            kept.setdefault(r.target, []).append(r)
        elif r.when is None and r.target not in kept:
            kept[r.target] = [r]
    return [r for group in kept.values() for r in group]


def _condition_back(spec: MappingSpec, rule: Rule) -> Condition | None:
    """A rule's ``when`` running backwards: on the target field a rule copies the
    condition's field into (its code map, if any, applied to the values)."""
    when = rule.when
    if when is None:
        return None
    copy = next((r for r in spec.rules if r.source == when.field and not r.steps
                 and not r.sources and r.when is None), None)
    if copy is None:
        msg = (f"rule for {rule.target!r}: its condition ({when.describe()}) cannot be "
               f"checked backwards: no rule copies {when.field!r} into the target as it is")
        raise NotInvertibleError(msg)
    values = when.values
    if copy.code_map is not None:
        missing = [v for v in values if v not in copy.code_map.codes]
        if missing:
            msg = (f"rule for {rule.target!r}: its condition names {', '.join(missing)}, "
                   f"which code map {copy.code_map.name!r} does not map")
            raise NotInvertibleError(msg)
        values = tuple(copy.code_map.codes[v] for v in values)
    return Condition(field=copy.target, values=values, negate=when.negate)


def _check_undoable(rule: Rule, steps: tuple[str, ...]) -> None:
    bad = next((s for s in steps if STEPS[s] is None), None)
    if bad is not None:
        msg = f"rule for {rule.target!r}: step {bad!r} cannot run backwards"
        raise NotInvertibleError(msg)


def _inverse(steps: tuple[str, ...]) -> tuple[str, ...]:
    """The steps that undo ``steps``: each one's inverse, last first."""
    return tuple(str(STEPS[s]) for s in reversed(steps))


def _inverted_map(rule: Rule) -> CodeMap | None:
    if rule.code_map is None:
        return None
    back = rule.code_map.inverted()
    if back is None:
        msg = f"rule for {rule.target!r}: code map {rule.code_map.name!r} maps two " \
              "codes to one"
        raise NotInvertibleError(msg)
    return back


def _field(layout: Layout, name: str) -> Field:
    return next(f for k in layout.kinds for f in k.fields if f.name == name)


def _expressions(plan: _Plan, frame: pl.DataFrame, made: dict[object, _Made]) -> _Made:
    """Target columns, one Boolean column per rejecting rule (True: reject), and the
    source field whose value each of those judges. ``made`` keeps them for the next
    batch: they depend on a batch only through its columns and the text columns that
    hold a 外字 (building them again took 77 ms of Python per million records of the
    benchmark, on the thread that hands batches to the writer)."""
    holding = _gaiji_columns(plan, frame)
    key = (tuple(frame.schema.items()), frozenset(holding))
    if key not in made:
        made[key] = _build_expressions(plan, frame, holding)
    return made[key]


def _gaiji_columns(plan: _Plan, frame: pl.DataFrame) -> set[str]:
    """The source's text columns that hold a 外字 in this batch, where it matters."""
    # a 外字 has no meaning outside its vendor's 外字 area (another encoding's, a host
    # page's plane-15 codes included), and only text can hold one (the reader lets nothing
    # but ASCII into digits, numbers and dates): the rules reading a text column that
    # holds one in this batch get a check, the others need none
    if codec_name(plan.target.encoding).startswith("utf") or \
            plan.target.encoding != plan.source.encoding:
        text = [f.name for f in plan.source.kind().fields if f.type in ("text", "code")]
        return private_use_columns(frame, text)
    return set()


def _build_expressions(plan: _Plan, frame: pl.DataFrame, holding: set[str]) -> _Made:
    out: list[pl.Expr] = []
    rejects: list[pl.Expr] = []
    culprits: dict[str, Field] = {}
    schema = schema_of(plan.target.kind().fields)
    groups: dict[str, list[Rule]] = {}
    for rule in plan.rules:
        groups.setdefault(rule.target, []).append(rule)
    for group in groups.values():
        made = [_rule_columns(rule, plan, frame, schema, holding) for rule in group]
        if len(group) == 1 and group[0].when is None:
            out += made[0][0]
            rejects += made[0][1]
            culprits.update(made[0][2])
            continue
        cols, checks, who = _chosen(group, made)
        out += cols
        rejects += checks
        culprits.update(who)
    rejects += _unrouted(plan, frame, culprits)
    return out, rejects, culprits


def _rule_columns(rule: Rule, plan: _Plan, frame: pl.DataFrame,
                  schema: dict[str, pl.DataType], holding: set[str]) -> _Made:
    """One rule's target columns (a date's 不詳 part too), its reject checks, and the
    source field each check judges."""
    out: list[pl.Expr] = []
    rejects: list[pl.Expr] = []
    culprits: dict[str, Field] = {}
    tf = _field(plan.target, rule.target)
    names = column_names(tf)
    if rule.source is None:
        value = pl.lit(rule.constant or None, dtype=pl.String)
        out.append(value.cast(schema[tf.name]).alias(tf.name))
        out += [pl.lit(None, dtype=pl.String).alias(n) for n in names[1:]]
        return out, rejects, culprits
    before = len(rejects)
    partial_name = f"{rule.source}_partial"
    partial = pl.col(partial_name) if partial_name in frame.columns else None
    # zero fill and trim count whole digits: a packed field's length is bytes
    digits = tf.precision - tf.scale if tf.type == "decimal" else tf.length
    if rule.parts:  # a split undone: each half undone on its own, then joined
        halves = []
        for part in rule.parts:
            half, more = _transform(part, _gaiji(pl.col(str(part.source)), plan),
                                    None, 0, tf.name)
            halves.append(half.cast(pl.String))
            rejects += more
        expr = pl.concat_str(halves, separator=rule.separator, ignore_nulls=True)
    elif "join_space" in rule.steps:  # 氏 + 名: the separator between, if 名 exists
        expr = pl.concat_str([_gaiji(pl.col(s), plan) for s in rule.sources],
                             separator=rule.separator, ignore_nulls=True)
    else:
        expr = pl.col(rule.source)
        if frame.schema[rule.source] == pl.String:
            expr = _gaiji(expr, plan)
    expr, more = _transform(rule, expr, partial, digits, tf.name)
    rejects += more
    target_type = schema[tf.name]
    if isinstance(target_type, pl.String):
        expr = expr.cast(pl.String)
        held = [s for s in (rule.sources or (rule.source,)) if s in holding]
        if held:
            # a 外字 of the source that the 外字 map leaves as it is, still in the value:
            # one the map makes (a standard character back into its 外字) is meant, so
            # each record is judged by its own source value, whatever else its batch holds
            left = pl.any_horizontal([_unmapped_gaiji(pl.col(s), plan) for s in held])
            rejects.append((left & expr.str.contains(PUA).fill_null(value=False))
                           .alias(f"unmapped-gaiji:{tf.name}"))
    elif target_type.is_numeric():
        plain = not (rule.parts or rule.steps or rule.code_map is not None)
        expr, failed = _to_number(expr, tf, frame.schema[rule.source] if plain else None)
        rejects.append(failed.alias(f"not-{tf.type}:{tf.name}"))
    out.append(expr.cast(target_type).alias(tf.name))
    culprit = _field(plan.source, rule.source)
    culprits.update((check.meta.output_name(), culprit) for check in rejects[before:])
    if len(names) == 2:  # a date: its 不詳 part goes along
        out.append((partial if partial is not None and "fumei_flag" not in rule.steps
                    else pl.lit(None, dtype=pl.String)).alias(names[1]))
    return out, rejects, culprits


def _condition(when: Condition) -> pl.Expr:
    """True where a record meets a rule's ``when`` (its field compared as text)."""
    value = pl.col(when.field).cast(pl.String)
    hit = value.is_in(list(when.values)).fill_null(value=False)
    return ~hit if when.negate else hit


def _chosen(group: list[Rule], made: list[_Made]) -> _Made:
    """The rules of one target combined: the first whose condition holds gives the
    value, the rule without a condition (if any) the rest; each rule's checks count only
    on the records it gave a value."""
    order = sorted(range(len(group)), key=lambda i: group[i].when is None)
    conds = [_condition(w) if (w := group[i].when) else None for i in order]
    out: list[pl.Expr] = []
    for k, name in enumerate(c.meta.output_name() for c in made[0][0]):
        chain: Any = None
        fallback: pl.Expr = pl.lit(None)
        for i, cond in zip(order, conds, strict=True):
            value = made[i][0][k]
            if cond is None:
                fallback = value
            else:
                chain = pl.when(cond).then(value) if chain is None else \
                    chain.when(cond).then(value)
        out.append((chain.otherwise(fallback) if chain is not None else fallback).alias(name))
    rejects: list[pl.Expr] = []
    culprits: dict[str, Field] = {}
    taken: pl.Expr = pl.lit(value=False)  # records an earlier rule of the group took
    for n, (i, cond) in enumerate(zip(order, conds, strict=True)):
        mine = ~taken if cond is None else cond & ~taken
        for check in made[i][1]:
            name = f"{check.meta.output_name()}#{n}"
            rejects.append((check & mine).alias(name))
            culprit = made[i][2].get(check.meta.output_name())
            if culprit is not None:
                culprits[name] = culprit
        if cond is not None:
            taken = taken | cond
    return out, rejects, culprits


def _unrouted(plan: _Plan, frame: pl.DataFrame, culprits: dict[str, Field]) -> list[pl.Expr]:
    """A source field that only conditional rules read: a value in a record that meets
    none of their conditions would go nowhere, so the record is rejected (``unrouted``)."""
    readers: dict[str, list[Rule]] = {}
    for rule in plan.rules:
        for name in {*(rule.sources or ()), *((rule.source,) if rule.source else ())}:
            readers.setdefault(name, []).append(rule)
    checks: list[pl.Expr] = []
    for name, rules in readers.items():
        if any(r.when is None for r in rules) or name not in frame.columns:
            continue
        met: pl.Expr = pl.lit(value=False)
        for r in rules:
            met = met | _condition(cast("Condition", r.when))
        alias = f"unrouted:{rules[0].target}@{name}"
        checks.append((pl.col(name).is_not_null() & ~met).alias(alias))
        culprits[alias] = _field(plan.source, name)
    return checks


def _unmapped_gaiji(expr: pl.Expr, plan: _Plan) -> pl.Expr:
    """Whether the text holds a 外字 (a private-use character) that the mapping's 外字 map
    does not replace."""
    if plan.gaiji:
        expr = expr.str.replace_many(list(plan.gaiji), [""] * len(plan.gaiji), leftmost=True)
    return expr.str.contains(PUA).fill_null(value=False)


def _gaiji(expr: pl.Expr, plan: _Plan) -> pl.Expr:
    """Text with the mapping's 外字 map applied (longest keys first)."""
    if not plan.gaiji:
        return expr
    return expr.str.replace_many(list(plan.gaiji), list(plan.gaiji.values()), leftmost=True)


def _transform(rule: Rule, expr: pl.Expr, partial: pl.Expr | None, digits: int,
               target: str) -> tuple[pl.Expr, list[pl.Expr]]:
    """A rule's steps and code map on ``expr`` (the map first when the rule says so), and
    the checks that reject a record (a code the map does not know)."""
    rejects: list[pl.Expr] = []

    def mapped(value: pl.Expr) -> pl.Expr:
        assert rule.code_map is not None  # noqa: S101 -- called only with a map
        found = value.cast(pl.String).replace_strict(dict(rule.code_map.codes), default=None)
        if rule.unmapped == "reject":
            missing = value.is_not_null() & found.is_null()
            known = rule.code_map.source_table
            if known is None:
                rejects.append(missing.alias(f"unknown-code:{target}"))
                return found
            # a code of the source's own table that the map has no row for is the
            # mapping's gap, not bad data: it gets its own reason
            in_table = value.cast(pl.String).is_in(list(known.codes))
            rejects.append((missing & ~in_table).alias(f"unknown-code:{target}"))
            rejects.append((missing & in_table).alias(f"unmapped-code:{target}"))
            return found
        return pl.coalesce(found, value.cast(pl.String))

    if rule.code_map is not None and rule.map_first:
        expr = mapped(expr)
    widths: list[list[tuple[str, str]]] = []  # width steps in a row: passes to merge
    for step in (*rule.steps, ""):
        if "_to_" in step:
            widths.append(_width_pairs(step))
            continue
        for pairs in _merged(widths):
            expr = _replace(expr, pairs)
        widths = []
        if step not in ("join_space", ""):
            expr = _apply_step(step, expr, partial, digits, rule.separator)
    if rule.code_map is not None and not rule.map_first:
        expr = mapped(expr)
    return expr, rejects


def _to_number(expr: pl.Expr, tf: Field, given_type: pl.DataType | None = None
               ) -> tuple[pl.Expr, pl.Expr]:
    """A value bound for a number field, and where it is not one (True: reject). A value
    must fit exactly: leading zeros and trailing fractional zeros are no digits (``0012``
    and ``12.00`` are 12), but ``1.5`` never becomes 2 and 15 significant digits never
    fit 11. A value already a number (``given_type``) whose fraction the field holds
    whole is judged by its size alone, with no text made of it.

    >>> from chukan.spec import load_layout
    >>> f = load_layout("examples/mainframe/juki-kojin").fields[1]  # packed, 11 digits
    >>> frame = pl.DataFrame({"v": ["000000000000123", "120.00", "100000000000001", "1.5",
    ...                             "A1", ".", None]})
    >>> value, bad = _to_number(pl.col("v"), f)
    >>> frame.select(value.cast(pl.Int64))["v"].to_list()
    [123, 120, None, None, None, None, None]
    >>> frame.select(bad.alias("bad"))["bad"].to_list()
    [False, False, True, True, True, True, False]
    """
    scale = tf.scale if tf.type == "decimal" else 0
    whole = (tf.precision if tf.type == "decimal" else min(tf.length, 18)) - scale
    if given_type is not None and (given_type.is_integer() or (
            isinstance(given_type, pl.Decimal) and (given_type.scale or 0) <= scale)):
        # |value| < 10**whole, and not below zero in an unsigned field (10**18 < 2**63)
        bound = 10 ** whole
        bad = (expr >= bound) | ((expr <= -bound) if tf.signed else (expr < 0))
        return pl.when(~bad).then(expr), bad.fill_null(value=False)
    given = expr.cast(pl.String)
    # a Decimal(p, 2) source spells 5 as "5.00": its zero fraction digits are no digits
    text = pl.when(given.str.contains(".", literal=True)).then(
        given.str.strip_chars_end("0").str.strip_chars_end(".")).otherwise(given)
    sign = "-?" if tf.signed else ""
    point = rf"\.[0-9]{{1,{scale}}}"  # a fraction the field can hold
    if not scale:
        pattern = rf"^{sign}0*[0-9]{{1,{whole}}}$"
    elif whole:
        pattern = rf"^{sign}0*([0-9]{{1,{whole}}}({point})?|{point})$"
    else:  # all fraction: Decimal(2, 2)
        pattern = rf"^{sign}(0+|0*{point})$"
    ok = text.str.contains(pattern)
    return pl.when(ok).then(text), (given.is_not_null() & (given != "") & ~ok).fill_null(
        value=False)


# --------------------------------------------------------------------------------------
# Running


#: a frame of reasons a record is rejected, a row each: the record, a problem code, the
#: field whose value is at fault (the source's), its label, the value, the words, and the
#: target field the mapping could not fill, if any
_REASONS: dict[str, pl.DataType] = {
    "record": pl.Int64(), "code": pl.String(), "field": pl.String(), "label": pl.String(),
    "value": pl.String(), "message": pl.String(), "target": pl.String()}


def _reasons(table: ProblemTable, records: pl.Series | None = None) -> pl.DataFrame:
    """A table of problems as reasons (``records``: the records its rows' numbers stand
    for, where they count a batch's rows)."""
    found = table.details()
    if records is not None:
        found = found.with_columns(record=records.gather(found["record"] - 1))
    return found.select(*(pl.col(c) if c in found.columns else pl.lit(None).alias(c)
                          for c in _REASONS)).cast(_REASONS)  # type: ignore[arg-type]


@dataclass(slots=True)
class _Rejects:
    """The rejected records: their reasons (frames of them, in the order found), and
    where each record's bytes are and its key values."""

    reasons: list[pl.DataFrame] = field(default_factory=list)
    places: list[pl.DataFrame] = field(default_factory=list)  # record, offset, length, key
    #: the records the reader left out whole (their bytes held where the source cannot
    #: be read again)
    dropped: Dropped = field(default_factory=lambda: Dropped(held={}))

    def add(self, reasons: pl.DataFrame) -> None:
        if reasons.height:
            self.reasons.append(reasons)

    def why(self) -> pl.DataFrame:
        """Every reason so far, in the order found (``_seq``)."""
        return pl.concat([pl.DataFrame(schema=_REASONS), *self.reasons]).with_row_index(
            "_seq")

    def note(self, rows: pl.DataFrame, keys: list[str], stride: int) -> None:
        """Key values and byte spans of rejected rows (``_record``, ``_offset``, and each
        key as ``_key:<name>``)."""
        if not rows.height:
            return
        self.places.append(rows.select(
            record=pl.col("_record").cast(pl.Int64), offset=pl.col("_offset").cast(pl.Int64),
            length=pl.col("_length").cast(pl.Int64) if "_length" in rows.columns else
            pl.lit(stride, pl.Int64),
            key=pl.concat_str([pl.lit(f"{k}=") + pl.col(f"_key:{k}").cast(pl.String)
                               for k in keys], separator=" ", ignore_nulls=True)
            if keys else pl.lit("")))


class _Hashing:
    """A file being written, and the SHA-256 of what went into it (no second read), put
    on disk every ``_SYNC_EVERY`` bytes (the sync before the rename waits for the rest
    alone).

    ``behind``: on a thread of its own, hashed, written and synced while the next batch
    is formatted (0.7 s a million records of the benchmark's CSV, on the thread that
    formats, which the rest of the conversion waited for: 11% of it). Writes come from
    one thread at a time, and the next waits while one is pending (memory stays flat);
    an error writing is raised by the next write, or by :meth:`close`, which a caller
    calls before it reads the digest (the ``with`` block, on the way out)."""

    def __init__(self, fh: BinaryIO, *, behind: bool = False) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()
        self.unsynced = 0
        #: bytes given to :meth:`write` so far (written or on their way)
        self.written = 0
        self._disk = ThreadPoolExecutor(1, thread_name_prefix="chukan-disk") if behind \
            else None
        self._pending: deque[Future[None]] = deque()

    def __enter__(self) -> _Hashing:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        elif self._disk is not None:  # already failing: the file goes; stop writing it
            self._disk.shutdown(wait=True, cancel_futures=True)

    def write(self, data: bytes | memoryview) -> int:
        """Hash and write ``data``, or hand it to the disk thread (then it must not
        change after: a batch's bytes are never touched again); returns its length."""
        self.written += len(data)
        if self._disk is None:
            self._put(data)
            return len(data)
        while len(self._pending) >= _IN_FLIGHT:
            self._pending.popleft().result()
        self._pending.append(self._disk.submit(self._put, data))
        return len(data)

    def close(self) -> None:
        """Wait for every write, raising the first error."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            if self._disk is not None:
                self._disk.shutdown(wait=True, cancel_futures=True)

    def _put(self, data: bytes | memoryview) -> None:
        self.digest.update(data)
        self.unsynced += self.fh.write(data)
        if self.unsynced >= _SYNC_EVERY:
            sync_so_far(self.fh)
            self.unsynced = 0


#: Batches a conversion's disk thread may have waiting, each a batch's bytes in memory
#: (two: 10-40 MB more at the peak, for no time that showed through the noise).
_IN_FLIGHT = 1


def _behind(target: Layout) -> bool:
    """Whether a conversion into ``target`` hashes and writes on a thread of its own: a
    CSV, not a fixed-width file, whose formatting peaks high (whole-batch matrices). Its
    peak and the mapping's coincided more often: a reverse conversion of the benchmark
    peaked at 520-550 MB instead of 420 MB (the target is 500 MB), for a few per cent."""
    return target.format == "csv"


#: Bytes a conversion writes between two syncs of its output.
_SYNC_EVERY = 64 << 20


#: Records per batch of a conversion: each batch is held in three forms at once (read,
#: mapped, formatted), so they are half the reader's (peak memory under 500 MB on a
#: 1 GB file, and no slower).
CONVERT_BATCH = DEFAULT_BATCH // 2


def convert(source: Source, mapping: MappingSpec | str | Path, output: str | Path, *,
            reverse: bool = False, rejects: str | Path | None = None,
            manifest: str | Path | None = None, batch_size: int = CONVERT_BATCH,
            progress: Callable[[int], None] | None = None, mask: bool = False,
            threads: int | None = None) -> ConvertResult:
    """Convert ``source`` through ``mapping`` into ``output``, with a reject file
    (``<output>.rejects.csv``) and a manifest (``<output>.manifest.json``).

    The three are written together: each to a temporary file, renamed into place only
    when every record is accounted for, the manifest last (it names the others' hashes).
    An output that is the source or another output of the run is refused before
    anything is opened (`SameFileError`). ``progress`` is called with the number of
    records of each batch read. Each reject line holds the record's key, every reason
    with its field, value and message (Japanese and English), and the record's bytes
    in hex; ``mask`` replaces values and bytes by their shape, as in reports. A source
    whose CSV header names other columns than the layout's is refused (`DataError`
    ``csv-header``): its values would land in the wrong fields. ``threads`` bounds the
    compiled core's threads (default: ``CHUKAN_THREADS``, else one per core)."""
    with using_threads(threads):
        return _convert(source, mapping, output, reverse=reverse, rejects=rejects,
                        manifest=manifest, batch_size=batch_size, progress=progress,
                        mask=mask)


def _convert(source: Source, mapping: MappingSpec | str | Path, output: str | Path, *,
             reverse: bool, rejects: str | Path | None, manifest: str | Path | None,
             batch_size: int, progress: Callable[[int], None] | None, mask: bool
             ) -> ConvertResult:
    spec = load_mapping(mapping) if not isinstance(mapping, MappingSpec) else mapping
    plan = _plan(spec, reverse=reverse)
    output = Path(output)
    rejects_path = Path(rejects) if rejects else output.with_name(output.name + ".rejects.csv")
    manifest_path = Path(manifest) if manifest else \
        output.with_name(output.name + ".manifest.json")
    check_distinct([source], [output, rejects_path, manifest_path])
    result = ConvertResult(output=output, rejects=rejects_path, manifest=manifest_path)
    # the source's hash for the manifest, read on a thread of its own while the work
    # goes on (a second pass over the input afterwards took a tenth of a conversion)
    stop = threading.Event()
    with ThreadPoolExecutor(1, thread_name_prefix="chukan-hash") as hasher:
        source_sha = submit(hasher, _sha256_of, source, stop)
        try:
            with OutputSet([output, rejects_path, manifest_path]) as (out_fh, rej_fh, man_fh):
                report = Report()
                rejected = _Rejects(dropped=Dropped(
                    held=None if isinstance(source, bytes | str | Path) else {}))
                batches = located_batches(source, plan.source, report=report,
                                          batch_size=batch_size, dropped=rejected.dropped)
                with _Hashing(out_fh, behind=_behind(plan.target)) as hashed:
                    _run(plan, batches, report, rejected, hashed, result, progress)
                if result.records_in != result.records_out + result.records_rejected:
                    # never committed: the old output, rejects and manifest stay as they were
                    msg = (f"records in {result.records_in} ≠ out {result.records_out} + "
                           f"rejected {result.records_rejected}")
                    raise ChukanError(msg)
                rejects_sha = hashlib.sha256()
                with rereading(source) as reread:
                    for part in _rejects_parts(rejected, reread, mask=mask):
                        rej_fh.write(part)
                        rejects_sha.update(part)
                man_fh.write(_manifest(result, spec, source, source_sha.result(),
                                       reverse=reverse, output_sha=hashed.digest.hexdigest(),
                                       rejects_sha=rejects_sha.hexdigest()))
        finally:  # a conversion that stops does not wait for the whole input to be hashed
            stop.set()
    return result


def _run(plan: _Plan, batches: Iterable[tuple[str, pl.DataFrame]], report: Report,
         rejected: _Rejects, fh: _Hashing, result: ConvertResult,
         progress: Callable[[int], None] | None, *, first: bool = True, last: bool = True,
         first_record: int = 1) -> None:
    """Map and write every batch, counting into ``result`` and ``rejected``. ``batches``
    are located (``_record``, ``_offset``) and put their reader's problems in ``report``
    before they come. ``first`` and ``last`` say whether they start and end the file:
    a BOM and a CSV header go before the first, an EOF byte after the last (a Spark
    task converting a range of the file writes its slice of the one output, its records
    numbered from ``first_record``)."""
    # records the reader rejected that no batch has passed yet: a CSV chunk's problems
    # arrive with its first batch, and may name records of the batches after it
    ahead = np.zeros(0, np.int64)
    seen = 0  # problems of the report already turned into reasons
    columns = [c for f in plan.target.kind().fields for c in column_names(f)]
    keys = list(plan.source.unique) or [plan.source.kind().fields[0].name]
    keys = [k for k in keys if k in {f.name for f in plan.source.kind().fields}]
    stride = plan.source.stride
    pending: deque[Future[tuple[int, pl.DataFrame, pl.DataFrame]]] = deque()
    made: dict[object, _Made] = {}  # the mapping's expressions, by what they depend on
    opens = first  # (``first`` then says whether a batch has gone)

    def settle() -> None:  # the oldest batch handed to the writer: count it in
        written, over_rows, over = pending.popleft().result()
        result.records_out += written
        rejected.add(over)
        rejected.note(over_rows, keys, stride)

    # a writer thread formats and writes batch N while this one reads and maps batch N+1
    # (the codec holds the GIL, but Polars and numpy do not)
    with ThreadPoolExecutor(1, thread_name_prefix="chukan-out") as pool:
        if first and plan.target.encoding == "utf-8-sig":
            fh.write(UTF8_BOM)
        for _, frame in batches:
            # the reader has reported this batch's problems by now: records it could not
            # read whole are rejected with its codes, before any of the mapping's
            ahead = np.concatenate([ahead, _take_problems(report.table(since=seen), rejected,
                                                          result.file_problems)])
            seen = len(report)
            if progress is not None:
                progress(frame.height)
            exprs, checks, culprits = _expressions(plan, frame, made)
            where = [pl.col("_record"), pl.col("_offset"),
                     *([pl.col("_length")] if "_length" in frame.columns else []),
                     *(pl.col(k).alias(f"_key:{k}") for k in keys)]
            converted = frame.select(*exprs, *checks, *where)
            numbers = converted["_record"].cast(pl.Int64).to_numpy()
            inside = (ahead >= numbers.min()) & (ahead <= numbers.max()) if len(numbers) \
                else np.zeros(len(ahead), bool)
            bad = [ahead[inside]]
            ahead = ahead[~inside]
            for check in (c.meta.output_name() for c in checks):
                code, _, target = check.partition(":")
                target = target.partition("#")[0].partition("@")[0]
                culprit = culprits.get(check)
                f = culprit or _field(plan.target, target)
                found = frame.filter(converted[check])
                hits = found.select(
                    record=pl.col("_record").cast(pl.Int64), code=pl.lit(code),
                    field=pl.lit(f.name), label=pl.lit(f.label, pl.String),
                    # (as str() spells it: a decimal of 8 places is 1E-8)
                    value=pl.lit(as_text(found[culprit.name])) if culprit else
                    pl.lit(None, pl.String),
                    message=pl.lit(REGISTRY[code].ja), target=pl.lit(target))
                rejected.add(hits)
                bad.append(hits["record"].to_numpy())
            out = pl.Series(np.concatenate(bad))
            rejected.note(converted.filter(pl.col("_record").is_in(out.implode())), keys, stride)
            # this batch's rejects only: filtering on all so far grows with the file
            table = converted.filter(~pl.col("_record").is_in(out.implode()))
            pending.append(submit(pool, _format, table, columns, plan.target, fh,
                                  header=first, opens=opens))
            first = False
            if len(pending) > 1:
                settle()
        if first:  # no records at all: a CSV still gets its header
            empty = pl.DataFrame(schema={**schema_of(plan.target.kind().fields),
                                         "_record": pl.Int64})
            pending.append(submit(pool, _format, empty, columns, plan.target, fh,
                                  header=True, opens=opens))
        while pending:
            settle()
        if last and plan.target.eof_marker:
            fh.write(b"\x1a")
        # records lost before any of the above (a record cut short) count by the reader's
        # total; a header found wrong with no batch read still stops before the rename
        _take_problems(report.table(since=seen), rejected, result.file_problems)
    # a problem placed at a record the file does not have (a BOM with nothing after it)
    # is the file's, not a reject: every reject is a record read
    why = rejected.why()
    past = pl.col("record") >= first_record + report.records_read
    result.file_problems += [
        Problem(code=code, message=message or REGISTRY[code].ja,
                severity=REGISTRY[code].severity, record=None)
        for code, message in why.filter(past).sort(pl.col("_seq").min().over("record"),
                                                   "_seq").select(
            "code", "message").iter_rows()]
    why = why.filter(~past)
    rejected.reasons = [why.drop("_seq")]
    # in file order, whichever read found them (the reader says some at the file's end)
    result.file_problems.sort(key=Problem.sort_key)
    result.records_in = report.records_read
    result.records_rejected = why["record"].n_unique()
    # records with each code, the codes in the order first found, record by record (in
    # the order the records were first rejected)
    pairs = why.group_by("record", "code").agg(pl.col("_seq").min()).with_columns(
        first=pl.col("_seq").min().over("record")).sort("first", "_seq")
    result.rejects_by_reason.update(dict(
        pairs.group_by("code", maintain_order=True).len().iter_rows()))


def _take_problems(table: ProblemTable, rejected: _Rejects, file_problems: list[Problem]
                   ) -> npt.NDArray[np.int64]:
    """The reader's problems: a record it could not read whole is rejected with its codes
    (the records are returned); a problem of the whole file is kept to be said — or stops
    the conversion when the columns themselves are in doubt."""
    whole = np.flatnonzero(table.record == -1)
    for i in whole:  # (a file's problems: a few at most)
        p = table.problem(int(i))
        if p.code in ("csv-header", "wrong-encoding"):
            raise DataError(p)
        file_problems.append(p)
    errors = table.take(np.flatnonzero(table.is_error() & (table.record != -1)))
    rejected.add(_reasons(errors))
    return errors.record


def _format(table: pl.DataFrame, columns: list[str], target: Layout, fh: _Hashing, *,
            header: bool, opens: bool) -> tuple[int, pl.DataFrame, pl.DataFrame]:
    """Write a converted batch; returns how many records it held, and the rows and
    reasons of the records the target cannot hold (too long, not representable, …):
    those are left out, never cut. ``opens``: the batches written begin the file."""
    problems: Findings = []
    # batches are formatted in file order, on one thread: this one begins the file when
    # nothing has been written before it (the batches before held no record)
    at_start = opens and fh.written == 0
    data = format_batch(table.select(columns), target, problems, header=header,
                        at_start=at_start)
    found = ProblemTable.of(problems).in_file_order()
    errors = found.take(np.flatnonzero(found.is_error() & (found.record != -1)))
    if not len(errors):
        fh.write(data)
        return table.height, table.clear(), pl.DataFrame(schema=_REASONS)
    over = _reasons(errors, table["_record"].cast(pl.Int64))
    out = over["record"].unique()
    kept = table.filter(~pl.col("_record").is_in(out.implode()))
    if at_start:
        # the record that now begins the output is refused there too where it begins with
        # U+FEFF, and so is the run of such records after it (found by a review: the
        # second pass raised)
        run, f = leading_bom_rows(kept.select(columns), target)
        if run and f is not None:
            lead = kept.head(run)
            over = pl.concat([over, pl.DataFrame({
                "record": lead["_record"].cast(pl.Int64), "code": "not-representable",
                "field": f.name, "label": f.label, "value": lead[f.name].cast(pl.String),
                "message": LEADING_BOM_MESSAGE, "target": None}, schema=_REASONS)])
            out = over["record"].unique()
            kept = kept.slice(run)
    problems.clear()
    data = format_batch(kept.select(columns), target, problems, header=header,
                        at_start=at_start)
    first = first_error(problems)
    if first is not None:  # what was left must now fit
        raise DataError(first)
    fh.write(data)
    return kept.height, table.filter(pl.col("_record").is_in(out.implode())), over


#: rejected records whose lines are made at once: their bytes in hex (three times
#: their size) are held for these only, however many records are rejected
_REJECTS_SLICE = 20_000


def _rejects_csv(rejected: _Rejects, reread: Reread | None, *, mask: bool) -> bytes:
    """The reject file of :func:`_rejects_parts` whole (a Spark task's few records)."""
    return b"".join(_rejects_parts(rejected, reread, mask=mask))


def _rejects_parts(rejected: _Rejects, reread: Reread | None, *, mask: bool
                   ) -> Iterator[bytes]:
    """One line per rejected record: its number, key, reasons (``code:field``), fields,
    values, messages in Japanese and English, and the record's bytes in hex (read again
    through ``reread``; with ``mask`` only their count). Made by column, whatever the
    number of rejects; given in parts, the header with the first, of at most
    :data:`_REJECTS_SLICE` records each (a file read with the wrong layout rejects every
    record: its reject file was made whole in memory, three times the file's size)."""
    why = rejected.why()
    where = pl.coalesce(pl.col("target").replace("", None), pl.col("field").replace("", None))
    why = why.with_columns(key=pl.when(where.is_not_null())
                           .then(pl.concat_str(pl.col("code"), pl.lit(":"), where))
                           .otherwise(pl.col("code")))
    # the reader and the mapping may both name one code of one field: said once (the
    # first found, in the place of the last), and each value at fault once
    reasons = _once(why, "key")
    at_fault = _once(reasons, "field", "value")
    registry = pl.DataFrame({"code": list(REGISTRY), "ja": [e.ja for e in REGISTRY.values()],
                             "en": [e.en for e in REGISTRY.values()]})
    said = reasons.join(registry, on="code", how="left").sort("record", "_seq").group_by(
        "record", maintain_order=True).agg(
        reasons=pl.col("key").str.join(" "),
        message_ja=pl.when(pl.col("message").fill_null("") != "").then(pl.col("message"))
        .otherwise(pl.col("ja")).str.join(" / "),
        message_en=pl.col("en").str.join(" / "))
    if mask:
        at_fault = at_fault.with_columns(value=shapes(at_fault["value"]))
    value = pl.col("value").fill_null("")
    faults = at_fault.sort("record", "_seq").group_by("record", maintain_order=True).agg(
        fields=pl.when(pl.col("label").fill_null("") != "")
        .then(pl.concat_str(pl.col("label"), pl.lit("("), pl.col("field").fill_null(""),
                            pl.lit(")")))
        .otherwise(pl.col("field").fill_null("")).str.join(" / "),
        values=value.str.join(" / "))
    places = pl.concat([rejected.dropped.frame().with_columns(key=pl.lit(None, pl.String)),
                        *rejected.places]).unique("record", keep="last")
    rows = said.join(places, on="record", how="left").join(faults, on="record", how="left") \
        .sort("record")
    for start in range(0, max(rows.height, 1), _REJECTS_SLICE):
        part = rows.slice(start, _REJECTS_SLICE)
        raw, length = _record_bytes(part, rejected.dropped.held or {}, reread)
        frame = part.select(
            "record", key=pl.col("key").fill_null(""), reasons="reasons",
            fields="fields", values="values", message_ja="message_ja",
            message_en="message_en",
            raw=pl.when(length.is_null()).then(pl.lit(""))
            .otherwise(pl.format("<{} bytes>", length) if mask else raw))
        out = io.BytesIO()
        frame.write_csv(out, include_header=start == 0)
        yield out.getvalue()


def _once(frame: pl.DataFrame, *by: str) -> pl.DataFrame:
    """The rows of ``frame`` one per record and ``by``: the first found (``_seq``), in
    the place of the last."""
    return frame.group_by("record", *by).agg(
        pl.all().exclude("_seq").first(), pl.col("_seq").max())


def _record_bytes(rows: pl.DataFrame, dropped: dict[int, bytes], reread: Reread | None
                  ) -> tuple[pl.Series, pl.Series]:
    """The bytes in hex and their count of each of ``rows``' records: ``dropped``'s
    (the records the reader left out of a source it cannot read again), else read again
    at their ``offset`` and ``length`` (where the source can be); null where neither."""
    record = rows["record"].to_numpy()
    hex_ = pl.Series([None] * rows.height, dtype=pl.String)
    length = pl.Series([None] * rows.height, dtype=pl.Int64)
    left = np.isin(record, np.fromiter(dropped, np.int64, len(dropped))) if dropped else \
        np.zeros(rows.height, bool)
    if left.any():  # (bytes the reader holds one by one already)
        at = np.flatnonzero(left)
        hex_ = hex_.scatter(at, [dropped[int(r)].hex(" ") for r in record[at]])
        length = length.scatter(at, [len(dropped[int(r)]) for r in record[at]])
    wanted = np.flatnonzero(~left & rows["offset"].is_not_null().to_numpy())
    if len(wanted) and reread is not None:
        spans = rows[wanted]
        offsets = spans["offset"].cast(pl.Int64).to_numpy()
        lengths = spans["length"].cast(pl.Int64).to_numpy()
        order = np.argsort(offsets, kind="stable")  # read in file order
        data, at = reread(offsets[order], lengths[order])
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        texts = hex_rows(data, at)
        hex_ = hex_.scatter(wanted, texts.gather(pl.Series(back)))
        length = length.scatter(wanted, np.diff(at)[back])
    return hex_, length


def _sha256_of(source: Source, stop: threading.Event | None = None) -> str | None:
    """The SHA-256 of a source given as bytes or a path (None for a stream, or when
    ``stop`` is set before the end)."""
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    if not isinstance(source, str | Path):
        return None
    digest = hashlib.sha256()
    with open_input(source) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            if stop is not None and stop.is_set():
                return None
            digest.update(block)
    return digest.hexdigest()


def _style(layout: Layout) -> dict[str, object]:
    """The output layout, with the settings that change a CSV's bytes (for Excel)."""
    style: dict[str, object] = {"name": layout.name, "encoding": layout.encoding}
    if layout.format == "csv":
        style |= {"header_text": layout.header_text, "formula_guard": layout.formula_guard}
    return style


def _manifest(result: ConvertResult, spec: MappingSpec, source: Source, sha: str | None, *,
              reverse: bool, output_sha: str, rejects_sha: str) -> bytes:
    from chukan import __version__  # noqa: PLC0415 -- the package imports this module

    source_entry: dict[str, object] = {"records": result.records_in}
    if sha is not None:
        name = "<bytes>" if isinstance(source, bytes) else str(source)
        source_entry |= {"path": name, "sha256": sha}
    data = {
        "chukan": __version__,
        "mapping": spec.name,
        "reverse": reverse,
        "inputs": [source_entry],
        "outputs": [
            {"path": str(result.output), "sha256": output_sha,
             "records": result.records_out},
            {"path": str(result.rejects), "sha256": rejects_sha,
             "records": result.records_rejected, "role": "rejects"},
        ],
        "output_layout": _style(spec.source if reverse else spec.target),
        "rejects_by_reason": dict(result.rejects_by_reason),
        "file_problems": [{"code": p.code, "message": p.message}
                          for p in result.file_problems],
    }
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
