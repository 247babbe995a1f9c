"""What ``chukan layouts`` prints: the catalogue of the search path by kind, and any
one file of it (a layout, mapping, code table, code map, file set or 外字 map) shown as
a person reads it. Lines only: the CLI echoes them."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from chukan._inspect import pad_columns
from chukan.spec import (
    KINDS,
    catalogue,
    find_file,
    kind_of,
    load_code_map,
    load_code_page,
    load_code_table,
    load_file_set,
    load_gaiji_map,
    load_layout,
    load_mapping,
)

if TYPE_CHECKING:
    from chukan.spec import Field, Layout, Rule

#: each kind's heading, in Japanese for the clerk and as the TOML table for the vendor
HEADINGS = {
    "layout": "レイアウト [layout]",
    "mapping": "変換定義 [mapping]",
    "code_table": "コード表 [code_table]",
    "code_map": "コード対応表 [code_map]",
    "file_set": "ファイル一式 [file_set]",
    "gaiji_map": "外字対応表 [gaiji_map]",
    "code_page": "文字コード表 [code_page]",
}
assert set(HEADINGS) == set(KINDS)  # noqa: S101 -- a new kind needs a heading


def listing(kind: str | None = None) -> list[str]:
    r"""The catalogue, one heading per kind, one line per file.

    >>> print("\n".join(listing("file_set")))
    ファイル一式 [file_set]
      examples/vendor-a/juki-set                 A社 住民記録 一式 (例)
    """
    lines: list[str] = []
    entries = catalogue(kind)
    for k in KINDS:
        of_kind = [e for e in entries if e.kind == k]
        if not of_kind:
            continue
        if lines:
            lines.append("")
        lines.append(HEADINGS[k])
        lines += [f"  {e.name:<42} {e.title}".rstrip() for e in of_kind]
    return lines


def describe(name: str) -> list[str]:
    r"""One file of the search path (or a path), shown by its kind.

    >>> print("\n".join(describe("examples/vendor-a/zokugara-to-standard")[1:3]))
      01     世帯主       → 02     世帯主
      02     妻           → 12     妻
    """
    kind = kind_of(find_file(name))
    if kind == "mapping":
        return _mapping(name)
    if kind == "code_table":
        table = load_code_table(name)
        return [f"コード表 {table.name}: {table.label}",
                *([f"  出典: {table.source}"] if table.source else []),
                *(f"  {code:<6} {meaning}" for code, meaning in table.codes.items())]
    if kind == "code_map":
        cmap = load_code_map(name)
        src, dst = cmap.source_table, cmap.target_table
        return [f"コード対応表 {cmap.name}: {cmap.source or '?'} → {cmap.target or '?'}",
                *(f"  {a:<6} {pad_columns(_meaning(src, a), 12)} → {b:<6} {_meaning(dst, b)}"
                  .rstrip() for a, b in cmap.codes.items())]
    if kind == "file_set":
        fs = load_file_set(name)
        return [f"ファイル一式 {fs.name}: {fs.title}",
                *(f"  file {n:<12} {lay.name}" for n, lay in fs.files.items()),
                *(f"  check {c.type:<14} {c.label}" for c in fs.checks)]
    if kind == "gaiji_map":
        gmap = load_gaiji_map(name)
        return [f"外字対応表 {gmap.name}: {len(gmap.chars)}字",
                *([f"  出典: {gmap.source}"] if gmap.source else []),
                *(f"  U+{ord(k):04X} → {v} ({_points(v)})" for k, v in gmap.chars.items())]
    if kind == "code_page":
        page = load_code_page(name)
        return [f"文字コード表 {page.name}: {page.title} (base {page.base}, "
                f"encoding {page.encoding})",
                *(f"  {code:02X}   → {text} ({_points(text)})"
                  for code, text in page.singles.items()),
                *(f"  {code:04X} → {text} ({_points(text)})"
                  for code, text in page.doubles.items())]
    return _layout(load_layout(name))


def _points(text: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in text)


def _meaning(table: object, code: str) -> str:
    codes = getattr(table, "codes", {})
    return str(codes.get(code, ""))


def _layout(layout: Layout) -> list[str]:
    lines = [f"レイアウト {layout.name}: {layout.title}",
             f"  format={layout.format} encoding={layout.encoding} "
             f"record_length={layout.record_length} terminator={layout.terminator}"]
    if layout.code_page is not None:
        page = layout.code_page
        lines.append(f"  文字コード表 {page.name} (base {page.base}): "
                     f"{len(page.singles)} single, {len(page.doubles)} double")
    for kind in layout.kinds:
        if layout.is_multi:
            lines.append(f"  [{kind.name}] record type {kind.match!r} {kind.label}")
        lines += ["    " + field_line(f, layout) for f in kind.fields]
    types = Counter(f.type for k in layout.kinds for f in k.fields)
    lines.append("  " + ", ".join(f"{t}: {c}" for t, c in sorted(types.items())))
    return lines


def field_line(f: Field, layout: Layout) -> str:
    """A field on one line: bytes (fixed), length, type, name, label and details."""
    where = f"{f.start:>4}-{f.end:<4}" if layout.format == "fixed" else "     "
    extra = {"text": f.chars, "decimal": f"{f.storage} scale={f.scale}",
             "date": f.format or "", "code": f.table.name if f.table else ""}.get(f.type, "")
    req = " required" if f.required else ""
    return f"{where} {f.length:>4} {f.type:<8} {f.name:<24} {f.label} {extra}{req}".rstrip()


def _mapping(name: str) -> list[str]:
    spec = load_mapping(name)
    lines = [f"変換定義 {spec.name}: {spec.title}",
             f"  {spec.source.name} → {spec.target.name}"]
    labels = {f.name: f.label for f in spec.target.fields}
    lines += [f"  {r.target:<24} {pad_columns(labels.get(r.target, ''), 22)} ← {_rule(r)}"
              for r in spec.rules]
    if spec.back:
        lines.append("  [back] 逆変換で元のレイアウトだけにある項目:")
        lines += [f"  {r.target:<24} ← {_rule(r)}" for r in spec.back]
    if spec.gaiji_map is not None:
        lines.append(f"  外字対応表 {spec.gaiji_map.name} ({len(spec.gaiji_map.chars)}字)")
    return lines


def _rule(rule: Rule) -> str:
    if rule.constant is not None:
        return f"定数 {rule.constant!r}"
    what = " + ".join(rule.sources) if rule.sources else (rule.source or "(空)")
    if rule.steps:
        what += " | " + " | ".join(rule.steps)
    if rule.code_map is not None:
        what += f" | code_map {rule.code_map.name}"
    if rule.separator != "\u3000" and set(rule.steps) & {"first_part", "rest_part",
                                                          "join_space"}:
        what += f" (separator {rule.separator!r})"
    if rule.when is not None:
        what += f" when {rule.when.describe()}"
    return what
