"""File sets: several files checked against each other when validating (references,
one record per group, sequences)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, cast

from chukan.errors import LayoutError, LayoutNotFoundError
from chukan.spec._base import Frozen, _Checker, _closest, _read_toml, find_file
from chukan.spec.layout import Layout, iter_fields, load_layout

if TYPE_CHECKING:
    from collections.abc import Mapping


# --------------------------------------------------------------------------------------
# File sets: several files checked against each other (validation)

CheckType = Literal["reference", "one-per-group", "sequence"]
_SET_KEYS = ("name", "title", "description")
_MEMBER_KEYS = ("name", "layout", "label")
_CHECK_KEYS = ("type", "label", "field", "target", "group", "value", "groups")


@dataclass(frozen=True, slots=True, kw_only=True)
class SetCheck:
    """One check across the files of a set. Field references are ``file.field``.

    - ``reference``: every value of ``field`` exists in ``target``;
    - ``one-per-group``: within each ``group``, exactly one record has ``field`` equal
      to ``value`` (and, with ``groups``, every group listed there has one);
    - ``sequence``: within each ``group``, ``field`` runs 1, 2, …, n.
    """

    type: CheckType
    label: str
    field: tuple[str, str]
    target: tuple[str, str] | None = None
    group: tuple[str, str] | None = None
    value: str | None = None
    groups: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FileSet(Frozen):
    """Named files, each with its layout, and the checks that join them."""

    name: str
    title: str = ""
    files: Mapping[str, Layout] = field(default_factory=dict)
    checks: tuple[SetCheck, ...] = ()
    path: Path | None = None


def load_file_set(name_or_path: str | Path) -> FileSet:
    """Load a file set by path or name; every problem is reported at once.

    >>> fs = load_file_set("examples/vendor-a/juki-set")
    >>> sorted(fs.files), [c.type for c in fs.checks]
    (['kojin', 'setai'], ['reference', 'one-per-group', 'sequence'])
    """
    path = find_file(str(name_or_path))
    checker = _Checker(str(path))
    doc = _read_toml(path, checker)
    checker.unknown_keys(doc, ("file_set", "file", "check"), "(top)")
    meta = checker.get(doc, "file_set", dict, "(top)", {}, required=True)
    checker.unknown_keys(meta, _SET_KEYS, "file_set")
    files: dict[str, Layout] = {}
    broken: set[str] = set()
    for _, where, item in checker.tables(
            checker.get(doc, "file", list, "(top)", [], required=True), "file"):
        checker.unknown_keys(item, _MEMBER_KEYS, where)
        member = checker.get(item, "name", str, where, None, required=True)
        ref = checker.get(item, "layout", str, where, None, required=True)
        if member is None or ref is None:
            continue
        if member in files or member in broken:
            checker.add(where, "name", f"a second file named {member!r}")
            continue
        try:
            files[member] = load_layout(find_file(ref, beside=path.parent))
        except LayoutNotFoundError as exc:
            checker.add(where, "layout", str(exc))
            broken.add(member)
        except LayoutError as exc:
            for p in exc.problems:
                checker.add(where, "layout", f"in layout {ref!r}: {p}")
            broken.add(member)
    checks = [c for i, item in enumerate(checker.get(doc, "check", list, "(top)", []))
              if (c := _parse_check(item, f"check[{i}]", checker, files, broken)) is not None]
    if checker.problems:
        raise LayoutError(checker.problems)
    return FileSet(name=checker.get(meta, "name", str, "file_set", path.stem),
                   title=checker.get(meta, "title", str, "file_set", ""),
                   files=MappingProxyType(files), checks=tuple(checks), path=path)


def _parse_check(item: Any, where: str, checker: _Checker,  # noqa: ANN401 -- raw TOML
                 files: Mapping[str, Layout], broken: set[str]) -> SetCheck | None:
    if not isinstance(item, dict):
        checker.add(where, None, "must be a table")
        return None
    checker.unknown_keys(item, _CHECK_KEYS, where)
    kind = checker.choice(item, "type", ("reference", "one-per-group", "sequence"), where,
                          None, what="check type")

    def ref(key: str, *, required: bool) -> tuple[str, str] | None:
        text = checker.get(item, key, str, where, None, required=required)
        if text is None:
            return None
        member, _, name = text.partition(".")
        layout = files.get(member)
        if member in broken:
            return None  # its layout's own problems are reported already
        if layout is None:
            checker.add(where, key, f"no file named {member!r} in the set",
                        _closest(member, tuple(files)))
            return None
        names = tuple(f.name for _, f in iter_fields(layout))
        if name not in names:
            checker.add(where, key, f"no field {name!r} in {layout.name}",
                        _closest(name, names))
            return None
        return member, name

    target = ref("target", required=kind == "reference")
    group = ref("group", required=kind in ("one-per-group", "sequence"))
    groups = ref("groups", required=False)
    value = checker.get(item, "value", str, where, None, required=kind == "one-per-group")
    source = ref("field", required=True)
    if kind is None or source is None:
        return None
    if group is not None and group[0] != source[0]:
        checker.add(where, "group", f"must be a field of {source[0]!r}, like field")
    return SetCheck(type=cast("CheckType", kind), label=checker.get(item, "label", str, where,
                                                                    kind),
                    field=source, target=target, group=group, value=value, groups=groups)
