"""Mappings: how one layout's records become another's (rules, steps, code maps, 外字
maps), parsed into frozen specs with every problem reported."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from chukan.errors import LayoutError, LayoutNotFoundError
from chukan.spec._base import CodeTable, Frozen, _Checker, _closest, _read_toml, find_file
from chukan.spec.layout import Layout, _load_ref, iter_fields, load_layout

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


# --------------------------------------------------------------------------------------
# Mappings: one layout to another (convert)

#: Steps a rule may name, each with the step that undoes it (None: cannot run backwards).
STEPS: Mapping[str, str | None] = MappingProxyType({
    "kana_to_fullwidth": "kana_to_halfwidth",
    "kana_to_halfwidth": "kana_to_fullwidth",
    "ascii_to_fullwidth": "ascii_to_halfwidth",
    "ascii_to_halfwidth": "ascii_to_fullwidth",
    "digits_to_fullwidth": "digits_to_halfwidth",
    "digits_to_halfwidth": "digits_to_fullwidth",
    "trim": None,
    # zero fill to the target's length; undone by cutting leading zeros back to the
    # original's length (exact for codes written at their full width, as codes are)
    "zero_fill": "zero_trim",
    "zero_trim": "zero_fill",
    # 氏名 ↔ 氏 / 名 on the first full-width space: undone together (see docs/mappings.md)
    "first_part": "join_space",
    "rest_part": "join_space",
    "join_space": "first_part",  # … and rest_part: one join gives back two rules
    "fumei_flag": None,
})
_MAPPING_KEYS = ("name", "title", "description", "source", "target", "gaiji_map")
_GAIJI_KEYS = ("name", "source", "description", "chars")
_RULE_KEYS = ("target", "source", "sources", "steps", "code_map", "unmapped", "constant",
              "separator", "when")
_SPLIT_STEPS = ("first_part", "rest_part", "join_space")
_MAP_KEYS = ("name", "source", "target", "description", "codes")


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeMap(Frozen):
    """Source code → target code (vendor 続柄 → standard 続柄, say)."""

    name: str
    source: str = ""
    target: str = ""
    codes: Mapping[str, str] = field(default_factory=dict)
    #: the tables ``source`` and ``target`` name, resolved when the map is loaded
    source_table: CodeTable | None = None
    target_table: CodeTable | None = None

    def __post_init__(self) -> None:
        """Freeze the mapping."""
        object.__setattr__(self, "codes", MappingProxyType(dict(self.codes)))

    def inverted(self) -> CodeMap | None:
        """The map backwards, or None when two codes map to one (not invertible)."""
        back = {v: k for k, v in self.codes.items()}
        if len(back) != len(self.codes):
            return None
        return CodeMap(name=f"{self.name} (reversed)", source=self.target, target=self.source,
                       codes=back, source_table=self.target_table,
                       target_table=self.source_table)


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """A rule's ``when``: the rule applies to the records whose ``field`` (a source field,
    compared as text) is one of ``values`` (or, ``negate``-d, none of them)."""

    field: str
    values: tuple[str, ...]
    negate: bool = False

    def describe(self) -> str:
        """The condition as written in a mapping.

        >>> Condition(field="jumin_shubetsu", values=("2", "4")).describe()
        'jumin_shubetsu in [2, 4]'
        """
        return f"{self.field} {'not_in' if self.negate else 'in'} [{', '.join(self.values)}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """How one target column is made: from ``source`` through ``steps``, a ``code_map``
    (unmapped codes ``reject`` the record or are ``keep``-t and reported), or a
    ``constant``."""

    target: str
    source: str | None = None
    steps: tuple[str, ...] = ()
    code_map: CodeMap | None = None
    unmapped: Literal["reject", "keep"] = "reject"
    constant: str | None = None
    sources: tuple[str, ...] = ()  # a join: several source fields, step join_space
    #: a join made when running backwards: each part (a source, its own steps and code
    #: map) is computed before the join; ``steps`` then run on the joined text
    parts: tuple[Rule, ...] = ()
    #: the code map runs before the steps (a rule undone: the map was applied last)
    map_first: bool = False
    #: what first_part / rest_part split on and join_space joins with
    separator: str = "\u3000"
    #: the records the rule applies to (None: all); several rules may then make one
    #: target, the first whose condition holds winning, a rule without one the fallback
    when: Condition | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GaijiMap(Frozen):
    """外字 → Unicode: each character of the user-defined area (U+E000–U+F8FF, which
    CP932's F040–F9FC decode to) the 文字同定 work identified, with its Unicode sequence
    (an IVS included: ``"葛\U000E0100"``).

    >>> m = GaijiMap(name="g", chars={"\ue000": "𠮷"})
    >>> m.chars["\ue000"]
    '𠮷'
    """

    name: str
    source: str = ""
    chars: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Freeze the mapping."""
        object.__setattr__(self, "chars", MappingProxyType(dict(self.chars)))


#: A regex class for the private use areas where 外字 land in Unicode: the BMP's
#: (CP932's user-defined area F040–F9FC, IBM's 0x6941–0x7FFE) and plane 15's, where a
#: host page's unmapped double-byte codes read (U+F0000 + the code): validation reports
#: them, convert maps or rejects them.
PUA = "[\ue000-\uf8ff\U000f0000-\U000ffffd]"


def is_private_use(ch: str) -> bool:
    """Whether a character is a 外字 in one of the private use areas :data:`PUA` names.

    >>> is_private_use("\ue000"), is_private_use("\U000f80a1"), is_private_use("山")
    (True, True, False)
    """
    return "\ue000" <= ch <= "\uf8ff" or "\U000f0000" <= ch <= "\U000ffffd"


def _gaiji_key(key: str) -> str | None:
    """``U+E000`` (or a host page's ``U+F80A1``) or a CP932 user-defined code ``F040``
    → the private-use character; None if neither.

    >>> _gaiji_key("U+E001"), _gaiji_key("F041"), _gaiji_key("F07F"), _gaiji_key("U+3042")
    ('\ue001', '\ue001', None, None)
    """
    text = key.strip().upper()
    if re.fullmatch(r"U\+[0-9A-F]{4,5}", text):
        char = chr(int(text[2:], 16))
        return char if is_private_use(char) else None
    if re.fullmatch(r"F[0-9][0-9A-F]{2}", text):
        lead, trail = int(text[:2], 16), int(text[2:], 16)
        if lead <= 0xF9 and 0x40 <= trail <= 0xFC and trail != 0x7F:
            return bytes((lead, trail)).decode("cp932")
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingSpec:
    """A mapping from one layout to another; every target field has exactly one rule."""

    name: str
    source: Layout
    target: Layout
    rules: tuple[Rule, ...]
    title: str = ""
    path: Path | None = None
    gaiji_map: GaijiMap | None = None
    #: running backwards: what the source fields no rule gives back get
    back: tuple[Rule, ...] = ()


def load_mapping(name_or_path: str | Path) -> MappingSpec:
    """Load a mapping; every problem (missing fields, unknown steps, target fields left
    without a rule) is reported at once.

    >>> m = load_mapping("examples/vendor-a/kojin-to-kihon")
    >>> m.source.name, m.target.name, len(m.rules)
    ('examples/vendor-a/juki-kojin', 'kihon/juki/kojin', 20)
    """
    path = find_file(str(name_or_path))
    checker = _Checker(str(path))
    doc = _read_toml(path, checker)
    checker.unknown_keys(doc, ("mapping", "rule", "back"), "(top)")
    meta = checker.get(doc, "mapping", dict, "(top)", {}, required=True)
    checker.unknown_keys(meta, _MAPPING_KEYS, "mapping")
    layouts: dict[str, Layout] = {}
    for key in ("source", "target"):
        ref = checker.get(meta, key, str, "mapping", None, required=True)
        if ref is None:
            continue
        try:
            layouts[key] = load_layout(find_file(ref, beside=path.parent))
        except LayoutNotFoundError as exc:
            checker.add("mapping", key, str(exc))
        except LayoutError as exc:
            for p in exc.problems:
                checker.add("mapping", key, f"in layout {ref!r}: {p}")
    rules: list[Rule] = []
    src, tgt = layouts.get("source"), layouts.get("target")
    src_fields = tuple(f.name for _, f in iter_fields(src)) if src else ()
    tgt_fields = tuple(f.name for _, f in iter_fields(tgt) if f.type != "filler") if tgt \
        else ()
    for _, where, item in checker.tables(
            checker.get(doc, "rule", list, "(top)", [], required=True), "rule"):
        checker.unknown_keys(item, _RULE_KEYS, where)
        target = checker.get(item, "target", str, where, None, required=True)
        source = checker.get(item, "source", str, where, None)
        sources = tuple(checker.get(item, "sources", list, where, []))
        constant = checker.get(item, "constant", str, where, None)
        for other in sources:
            _field_named(checker, where, "sources", str(other), src, src_fields)
        if sources and source is None:
            source = sources[0]  # the first of a join; all of them are named in sources
        _field_named(checker, where, "target", target, tgt, tgt_fields)
        _field_named(checker, where, "source", source, src, src_fields)
        if (source is None) == (constant is None):
            checker.add(where, "source", "a rule has either a source or a constant")
        steps = checker.get(item, "steps", list, where, [])
        for step in steps:
            if step not in STEPS:
                checker.add(where, "steps", f"unknown step {step!r}",
                            _closest(str(step), tuple(STEPS)))
        code_map = _load_beside(item, "code_map", where, path, checker, _load_code_map)
        unmapped = checker.choice(item, "unmapped", ("reject", "keep"), where, "reject",
                                  what="policy")
        if sources and "join_space" not in steps:
            checker.add(where, "sources", 'several sources are joined: steps = ["join_space"]')
        separator = checker.get(item, "separator", str, where, "\u3000")
        if "separator" in item and not separator:
            checker.add(where, "separator", "must not be empty")
        if "separator" in item and not set(steps) & set(_SPLIT_STEPS):
            checker.add(where, "separator", "only for the steps first_part, rest_part and "
                                            "join_space")
        when = _parse_when(item, where, checker, src, src_fields)
        if target is not None:
            rules.append(Rule(target=target, source=source, constant=constant, sources=sources,
                              steps=tuple(s for s in steps if s in STEPS), code_map=code_map,
                              unmapped=cast("Literal['reject', 'keep']", unmapped),
                              separator=separator or "\u3000", when=when))
    gaiji_map = _load_beside(meta, "gaiji_map", "mapping", path, checker, _load_gaiji_map)
    named = [r.target for r in rules]
    for name in tgt_fields:
        if name not in named:
            checker.add("(top)", "rule", f"target field {name!r} has no rule "
                                         '(an optional one may be constant = "")')
    for name in sorted({n for n in named if named.count(n) > 1}):
        plain = [r for r in rules if r.target == name and r.when is None]
        if len(plain) > 1:  # several rules need conditions, all but one fallback
            checker.add("(top)", "rule", f"two rules for target field {name!r} without a "
                                         "when condition (the first with a condition that "
                                         "holds wins; one rule without is the fallback)")
    if src is not None and tgt is not None:  # a date comes only from a date
        types = {f.name: f.type for k in src.kinds for f in k.fields}
        dates = {f.name for k in tgt.kinds for f in k.fields if f.type == "date"}
        for i, rule in enumerate(rules):
            if rule.target in dates and rule.source is not None and \
                    types.get(rule.source) not in (None, "date"):
                checker.add(f"rule[{i}]", "source", f"{rule.source!r} is a "
                            f"{types[rule.source]} field: the date {rule.target!r} takes a "
                            "date field")
    back = _parse_back(doc, checker, src, tgt)
    if checker.problems or src is None or tgt is None:
        raise LayoutError(checker.problems)
    return MappingSpec(name=checker.get(meta, "name", str, "mapping", path.stem),
                       title=checker.get(meta, "title", str, "mapping", ""), source=src,
                       target=tgt, rules=tuple(rules), path=path, gaiji_map=gaiji_map,
                       back=back)


def _field_named(checker: _Checker, where: str, key: str, name: str | None,
                 layout: Layout | None, fields: tuple[str, ...]) -> None:
    """A mapping's ``key`` names a field of ``layout`` (one of ``fields``), or it is a
    problem with a "did you mean"; nothing to check when either is missing."""
    if name is not None and layout is not None and name not in fields:
        checker.add(where, key, f"no field {name!r} in {layout.name}",
                    _closest(name, fields))


def _parse_when(item: Mapping[str, Any], where: str, checker: _Checker, src: Layout | None,
                src_fields: tuple[str, ...]) -> Condition | None:
    """``when = { field = "jumin_shubetsu", in = ["2", "4"] }`` (or ``equals = "2"``, or
    ``not_in = […]``): the records a rule applies to."""
    raw = checker.get(item, "when", dict, where, None)
    if raw is None:
        return None
    at = f"{where}.when"
    checker.unknown_keys(raw, ("field", "equals", "in", "not_in"), at)
    name = checker.get(raw, "field", str, at, None, required=True)
    _field_named(checker, at, "field", name, src, src_fields)
    given = [k for k in ("equals", "in", "not_in") if k in raw]
    if len(given) != 1:
        checker.add(at, None, "give exactly one of equals, in and not_in")
        return None
    value = raw[given[0]]
    values = [value] if given[0] == "equals" else value
    if not isinstance(values, list) or not values or \
            not all(isinstance(v, str) for v in values):
        checker.add(at, given[0], "codes as strings (\"02\", leading zeros kept)"
                    + ("" if given[0] == "equals" else ", at least one"))
        return None
    if name is None:
        return None
    return Condition(field=name, values=tuple(values), negate=given[0] == "not_in")


def _parse_back(doc: Mapping[str, Any], checker: _Checker, src: Layout | None,
                tgt: Layout | None) -> tuple[Rule, ...]:
    """``[[back]]``: what a source field no rule gives back gets when running backwards
    — a ``constant`` (``""``: blank) or the value of a target column (``source``)."""
    out: list[Rule] = []
    raw = checker.get(doc, "back", list, "(top)", [])
    src_fields = tuple(f.name for _, f in iter_fields(src) if f.type != "filler") \
        if src else ()
    tgt_fields = tuple(f.name for _, f in iter_fields(tgt) if f.type != "filler") \
        if tgt else ()
    for _, where, item in checker.tables(raw, "back"):
        checker.unknown_keys(item, ("field", "constant", "source"), where)
        name = checker.get(item, "field", str, where, None, required=True)
        constant = checker.get(item, "constant", str, where, None)
        source = checker.get(item, "source", str, where, None)
        _field_named(checker, where, "field", name, src, src_fields)
        _field_named(checker, where, "source", source, tgt, tgt_fields)
        if (source is None) == (constant is None):
            checker.add(where, "constant", 'give either constant (e.g. "") or source')
        if name is not None:
            out.append(Rule(target=name, source=source, constant=constant))
    names = [r.target for r in out]
    for name in sorted({n for n in names if names.count(n) > 1}):
        checker.add("(top)", "back", f"two [[back]] entries for {name!r}")
    return tuple(out)


def load_code_map(name_or_path: str | Path) -> CodeMap:
    """Load a code map by name or path; its tables resolve and hold its codes.

    >>> m = load_code_map("examples/vendor-a/zokugara-to-standard")
    >>> m.codes["01"], m.target_table.name if m.target_table else None
    ('02', 'codes/juki/zokugara')
    """
    return _load_alone(name_or_path, _load_code_map)


def load_gaiji_map(name_or_path: str | Path) -> GaijiMap:
    """Load a 外字 map by name or path.

    >>> load_gaiji_map("examples/vendor-a/gaiji").chars["\ue000"]
    '𠮷'
    """
    return _load_alone(name_or_path, _load_gaiji_map)


def _load_alone(name_or_path: str | Path, loader: Callable[[Path, _Checker], _T | None]
                ) -> _T:
    """A file a mapping names, loaded on its own: every problem in it raised at once."""
    path = find_file(str(name_or_path))
    checker = _Checker(str(path))
    found = loader(path, checker)
    if checker.problems or found is None:
        raise LayoutError(checker.problems)
    return found


def _load_gaiji_map(path: Path, checker: _Checker) -> GaijiMap | None:
    doc = _read_toml(path, checker)
    where = f"{path.name}:gaiji_map"
    meta = checker.get(doc, "gaiji_map", dict, f"{path.name}:(top)", None, required=True)
    if meta is None:
        return None
    checker.unknown_keys(meta, _GAIJI_KEYS, where)
    chars: dict[str, str] = {}
    for key, value in checker.get(meta, "chars", dict, where, {}, required=True).items():
        char = _gaiji_key(str(key))
        if char is None:
            checker.add(f"{where}.chars", str(key), "not a 外字: write U+E000–U+F8FF or a "
                        "CP932 user-defined code F040–F9FC")
        elif not isinstance(value, str) or not value:
            checker.add(f"{where}.chars", str(key), "must be a non-empty string")
        elif char in chars:
            checker.add(f"{where}.chars", str(key), f"{char!r} is mapped twice")
        else:
            chars[char] = value
    return GaijiMap(name=checker.get(meta, "name", str, "gaiji_map", path.stem),
                    source=checker.get(meta, "source", str, "gaiji_map", ""), chars=chars)


_T = TypeVar("_T")


def _load_beside(table: dict[str, Any], key: str, where: str, path: Path,
                 checker: _Checker, loader: Callable[[Path, _Checker], _T | None]
                 ) -> _T | None:
    """The table a mapping names under ``key`` (found beside the mapping, then as layouts
    are), or None — with a problem recorded when it cannot be found."""
    ref = checker.get(table, key, str, where, None)
    if ref is None:
        return None
    try:
        return loader(find_file(ref, beside=path.parent), checker)
    except LayoutNotFoundError as exc:
        checker.add(where, key, exc.reason or f"no code table named {ref!r} (searched "
                                              f"{', '.join(exc.searched)})")
        return None


def _load_code_map(path: Path, checker: _Checker) -> CodeMap | None:
    doc = _read_toml(path, checker)
    meta = checker.get(doc, "code_map", dict, f"{path.name}:(top)", None, required=True)
    if meta is None:
        return None
    where = f"{path.name}:code_map"
    checker.unknown_keys(meta, _MAP_KEYS, where)
    codes = {str(k): str(v) for k, v in
             checker.get(meta, "codes", dict, where, {}, required=True).items()}
    # the tables it maps between must exist, and hold every code it names: a typo in a
    # code map would otherwise write codes the target's own readers reject
    tables: dict[str, CodeTable | None] = {}
    for key in ("source", "target"):
        tables[key] = _load_ref(meta, key, where, checker, path.parent, required=False)
        table = tables[key]
        if table is None:
            continue
        for code, value in codes.items():
            named = code if key == "source" else value
            if named not in table.codes:
                checker.add(f"{where}.codes", code, f"{named!r} is not in the {key} table "
                            f"{table.name!r}", _closest(named, tuple(table.codes)))
    return CodeMap(name=checker.get(meta, "name", str, "code_map", path.stem),
                   source=checker.get(meta, "source", str, "code_map", ""),
                   target=checker.get(meta, "target", str, "code_map", ""),
                   codes=codes, source_table=tables["source"], target_table=tables["target"])
